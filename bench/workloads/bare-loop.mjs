// The bench's image workloads trained with no loop around the model's step (not a test): the
// model of bench/workloads/classes.ts built the same way, its layers fused and stepped as Mosaic
// steps them (bench/wasm-layers.mjs's "as Mosaic trains them"), on batches like random_images',
// for the epochs of a run. Prints one JSON line: each epoch's seconds of train steps and of the
// test batches' forward passes. bench/loop-overhead.mjs runs it beside `mosaic run`, so that each
// epoch of the run is compared with the bare step at the same point of its process (the step
// speeds up over a process's first ~1,000 steps).
// Run: npm run build && node bench/workloads/bare-loop.mjs --model mlp_784 --epochs 8 [--backend wasm]
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../dist/tfjs/backends.js';
import { fuseLayerActivations } from '../../dist/engine/run/fused-layers.js';
import { runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { DenseStep } from '../../dist/engine/run/dense-step.js';
import { builtinLoss } from '../../dist/engine/chain/loss.js';
import { LayersModule, pytorchInitializers } from '../../dist/user/layers-module.js';
import { benchOptions } from '../options.mjs';

const USAGE = `Usage: node bench/workloads/bare-loop.mjs [options]   (after npm run build)
  --model NAME      mlp_784 or small_cnn (default mlp_784)
  --epochs N        epochs (default 8)
  --backend NAME    wasm or cpu (default wasm)
  -h, --help        this help`;
const options = benchOptions(
  {
    model: { type: 'string', default: 'mlp_784' },
    epochs: { type: 'string', default: '8' },
    backend: { type: 'string', default: 'wasm' },
  },
  USAGE,
);
const BATCH = 64;
const TRAIN = Math.floor(3276 / BATCH);
const TEST = Math.floor(819 / BATCH);

await useBackend(options.backend);

/** The model of classes.ts's class `name`. */
function build(name) {
  const init = pytorchInitializers(1);
  if (name === 'mlp_784')
    return tf.sequential({
      layers: [
        tf.layers.dense({ units: 256, activation: 'relu', inputShape: [784], ...init(784) }),
        tf.layers.dense({ units: 256, activation: 'relu', ...init(256) }),
        tf.layers.dense({ units: 10, ...init(256) }),
      ],
    });
  if (name === 'small_cnn')
    return tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], ...init(9) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', ...init(144) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, ...init(800) }),
      ],
    });
  console.error(`bare-loop: no model ${name} (mlp_784 or small_cnn)\n${USAGE}`);
  process.exit(2);
}

class BareModule extends LayersModule {
  constructor(model) {
    super();
    this.model = model;
  }
}

const image = options.model === 'small_cnn';
const batches = (n) =>
  Array.from({ length: n }, () => ({
    x: tf.randomUniform(image ? [BATCH, 28, 28, 1] : [BATCH, 784]),
    y: tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10).toFloat(),
  }));
const train = batches(TRAIN);
const test = batches(TEST);

const model = build(options.model);
fuseLayerActivations(model);
const variables = model.trainableWeights.map((w) => w.val);
const optimizer = runOptimizer(tf.train.adam(1e-3), variables);
// The MLP steps by its kernels after a first taped step, as a run steps it (dense-step.ts).
const direct = image ? undefined : DenseStep.of([new BareModule(model)], variables);
const lossFn = image
  ? (y, p) => tf.metrics.categoricalCrossentropy(y, p).mean()
  : (y, p) => tf.losses.meanSquaredError(y, p);
const mse = builtinLoss('mse');
let taped = 0;

function step({ x, y }) {
  const cost =
    direct && taped > 0
      ? direct.trainStep(x, y, mse, optimizer, () => {})
      : optimizer.minimize(() => lossFn(y, model.apply(x)));
  taped++;
  cost.dataSync();
  cost.dispose();
}

function evaluate({ x, y }) {
  const cost = direct ? direct.evaluate(x, y, mse, () => {}) : tf.tidy(() => lossFn(y, model.apply(x)));
  cost.dataSync();
  cost.dispose();
}

const epochs = [];
for (let e = 0; e < Number(options.epochs); e++) {
  const t0 = performance.now();
  for (const b of train) step(b);
  const t1 = performance.now();
  for (const b of test) evaluate(b);
  epochs.push({ train: (t1 - t0) / 1000, test: (performance.now() - t1) / 1000 });
}
console.log(JSON.stringify({ backend: tf.getBackend(), epochs }));
