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
for (let i=0;i<50;i++) step();
const agg = new Map();
const N=30;
for (let i=0;i<N;i++){
  const info = await tf.profile(step);
  for (const k of info.kernels) { const key = k.name+' '+JSON.stringify(k.inputShapes); const e = agg.get(key)??{n:0,t:0}; e.n++; e.t += (await k.kernelTimeMs); agg.set(key,e);} }
let tot=0; const rows=[...agg].sort((a,b)=>b[1].t-a[1].t);
for (const [k,e] of rows){ tot+=e.t/N; console.log((e.t/N).toFixed(3).padStart(8), (e.n/N).toFixed(1).padStart(4), k);}
console.log('total', tot.toFixed(3));
const t0=performance.now(); for(let i=0;i<300;i++) step(); console.log('step ms', ((performance.now()-t0)/100).toFixed(3));
