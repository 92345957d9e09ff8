// The bench's image workloads trained with no loop around the model's step (not a test): the
// model and batches of bench/workloads/classes.ts (loaded as a run loads them), its layers fused
// and stepped as Mosaic steps them (bench/wasm-layers.mjs's "as Mosaic trains them"), for the
// epochs of a run. Prints one JSON line: each epoch's seconds of train steps and of the
// test batches' forward passes. bench/loop-overhead.mjs runs it beside `mosaic run`, so that each
// epoch of the run is compared with the bare step at the same point of its process (the step
// speeds up over a process's first ~1,000 steps).
// Run: npm run build && node bench/workloads/bare-loop.mjs --model mlp_784 --epochs 8 [--backend wasm]
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../dist/tfjs/backends.js';
import { fuseLayerActivations } from '../../dist/engine/run/fused-layers.js';
import { runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { DenseStep } from '../../dist/engine/run/dense-step.js';
import { builtinLoss } from '../../dist/engine/chain/loss.js';
import { LayersModule } from '../../dist/user/layers-module.js';
import { importUserFile } from '../../dist/engine/chain/loader.js';
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

await useBackend(options.backend);

// The bench's own classes, loaded as a run loads them: the same model and the same batches.
const classes = await importUserFile(path.join(import.meta.dirname, 'classes.ts'));
if (!['mlp_784', 'small_cnn'].includes(options.model)) {
  console.error(`bare-loop: no model ${options.model} (mlp_784 or small_cnn)\n${USAGE}`);
  process.exit(2);
}
const image = options.model === 'small_cnn';
const data = new classes.random_images({ batch_size: BATCH, train_size: 3276, test_size: 819, image });
const [train, test] = data.prepare(undefined, { seed: 1 });

class BareModule extends LayersModule {
  constructor(model) {
    super();
    this.model = model;
  }
}

const model = new classes[options.model]({ seed: 1 }).model;
fuseLayerActivations(model);
const variables = model.trainableWeights.map((w) => w.val);
const optimizer = runOptimizer(tf.train.adam(1e-3), variables);
// The MLP steps by its kernels after a first taped step, as a run steps it (dense-step.ts).
const direct = image ? undefined : DenseStep.of([new BareModule(model)], variables);
// The runs' loss (image-config.mjs: MSELoss), Mosaic's built-in one.
const mse = builtinLoss('mse');
let taped = 0;

function step({ x, y }) {
  const cost =
    direct && taped > 0
      ? direct.trainStep(x, y, mse, optimizer, () => {})
      : optimizer.minimize(() => mse(model.apply(x), y));
  taped++;
  cost.dataSync();
  cost.dispose();
}

function evaluate({ x, y }) {
  const cost = direct ? direct.evaluate(x, y, mse, () => {}) : tf.tidy(() => mse(model.apply(x), y));
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
