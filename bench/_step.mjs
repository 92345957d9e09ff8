import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../dist/tfjs/backends.js';
import { fuseLayerActivations } from '../dist/engine/run/fused-layers.js';
import { runOptimizer } from '../dist/engine/optimizers/run-optimizer.js';
await useBackend('wasm');
const BATCH=64;
const model = tf.sequential({ layers: [
  tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
  tf.layers.dense({ units: 256, activation: 'relu' }),
  tf.layers.dense({ units: 10 })]});
fuseLayerActivations(model);
const opt = runOptimizer(tf.train.adam(1e-3), model.trainableWeights.map(w=>w.val));
const x = tf.randomNormal([BATCH,784]); const y = tf.oneHot(tf.randomUniform([BATCH],0,10,'int32'),10).toFloat();
const step = () => { const c = opt.minimize(() => tf.losses.meanSquaredError(y, model.apply(x))); c.dataSync(); c.dispose(); };
for (let i=0;i<200;i++) step();
const t0=performance.now(); for(let i=0;i<600;i++) step(); console.log('step ms', ((performance.now()-t0)/600).toFixed(3));
