// Prints training speed per backend (not a test): ms per step of a small CNN (conv 16 3×3 ReLU →
// max-pool 2 → conv 32 3×3 ReLU → max-pool 2 → dense 10, batch 64 of 28×28×1, Adam, categorical
// cross-entropy) and of a 784-256-256-10 ReLU MLP (batch 64, Adam, MSE), on cpu and on wasm, with
// the layers' own calls and TF.js's optimizer, and as Mosaic trains them (its layers fused,
// src/engine/run/fused-layers.ts, and its optimizer, src/engine/optimizers/run-optimizer.ts); then
// each wasm kernel Mosaic registers (src/engine/wasm/) against what it replaces — wasm 4.22's own
// kernel and/or the composition of wasm kernels used where the SIMD kernels cannot run — on the
// CNN's and the MLP's shapes, each call on inputs it has not seen (XNNPACK caches packed weights).
// Run with: npm run build && node bench/wasm-layers.mjs [--quick]
//   [--only mlp|cnn] [--backend wasm|cpu] [--steps N]: those steps only (no kernel table), N steps each.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../dist/tfjs/backends.js';
import { forwardGeometry } from '../dist/tfjs/wasm/conv-geometry.js';
import { filterGradientByConvolution } from '../dist/tfjs/wasm/conv2d-backprop-filter.js';
import { inputGradientByConvolution } from '../dist/tfjs/wasm/conv2d-backprop-input.js';
import { composeKernels } from '../dist/tfjs/wasm/kernel-scope.js';
import { maxPoolGradient, poolAxes } from '../dist/tfjs/wasm/max-pool-grad.js';
import { fuseLayerActivations } from '../dist/engine/run/fused-layers.js';
import { runOptimizer } from '../dist/engine/optimizers/run-optimizer.js';
import { DenseStep } from '../dist/engine/run/dense-step.js';
import { builtinLoss } from '../dist/engine/chain/loss.js';
import { LayersModule } from '../dist/user/layers-module.js';
import { simdAdamStep } from '../dist/engine/optimizers/simd-adam.js';
import { nativeKernelsInWords } from '../dist/tfjs/wasm/native-kernels.js';

// wasm's own kernels, kept before Mosaic wraps or replaces them (their setup runs below).
await import('@tensorflow/tfjs-backend-wasm');
const OWN = Object.fromEntries(
  ['Conv2DBackpropInput', 'MaxPoolGrad', 'MaxPool', 'Add', 'Sum', 'BatchMatMul', 'Identity'].map((k) => [
    k,
    tf.getKernel(k, 'wasm'),
  ]),
);

const quick = process.argv.includes('--quick');
const argValue = (name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const onlyModels = argValue('--only')?.split(',') ?? ['cnn', 'mlp'];
const onlyBackends = argValue('--backend')?.split(',') ?? ['cpu', 'wasm'];
const stepsOnly = argValue('--only') !== undefined || argValue('--backend') !== undefined;
const stepsOption = argValue('--steps') === undefined ? undefined : Number(argValue('--steps'));
const BATCH = 64;
const BLOCK = 25;

function cnn() {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

function mlp() {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
      tf.layers.dense({ units: 256, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** The bench's model as a run's model class holds it. */
class BenchModule extends LayersModule {
  constructor(model) {
    super();
    this.model = model;
  }
}

const MODELS = {
  cnn: { build: cnn, x: [BATCH, 28, 28, 1], loss: (y, p) => tf.metrics.categoricalCrossentropy(y, p).mean() },
  mlp: { build: mlp, x: [BATCH, 784], loss: (y, p) => tf.losses.meanSquaredError(y, p) },
};

/**
 * Median ms of one Adam step (forward, backward, update, loss read back) with the layers' own calls
 * and with them fused, the two models stepped alternately (BLOCK steps each) after warm-up steps (half as many as
 * measured, at least 10: the first steps of a process are slower, JIT).
 */
async function msPerStep(name, steps) {
  const { build, x: xShape, loss } = MODELS[name];
  const x = tf.randomNormal(xShape);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10).toFloat();
  const variants = [false, true].map((fused) => {
    const model = build();
    if (fused) fuseLayerActivations(model);
    // Fused, the optimizer too is Mosaic's (runOptimizer: one pass over all variables for a small
    // model, TF.js's Adam variable by variable — on wasm one SIMD pass per variable — above).
    const adam = tf.train.adam(1e-3);
    const variables = model.trainableWeights.map((w) => w.val);
    const optimizer = fused ? runOptimizer(adam, variables) : adam;
    // And a stack of dense layers steps by its kernels directly, after a first taped step (dense-step.ts).
    // (Only the MLP is such a stack; its loss, MSE, is Mosaic's built-in one.)
    const direct = fused ? DenseStep.of([new BenchModule(model)], variables) : undefined;
    let taped = 0;
    const step = () => {
      const f = () => loss(y, model.apply(x));
      const cost =
        direct && taped > 0
          ? direct.trainStep(x, y, builtinLoss('mse'), optimizer, () => {})
          : fused
            ? optimizer.minimize(f)
            : optimizer.minimize(f, true);
      taped++;
      cost.dataSync();
      cost.dispose();
    };
    return { model, optimizer, step, times: [] };
  });
  for (let i = 0; i < Math.min(steps, Math.max(10, steps / 2)); i++) for (const v of variants) v.step();
  // In blocks of BLOCK steps, alternately: the layers' own step moves three times the memory, and
  // stepped in turns with it the fused step read its weights from further away (~20% slower).
  for (let done = 0; done < steps; done += BLOCK) {
    for (const v of variants) {
      for (let i = done; i < Math.min(steps, done + BLOCK); i++) {
        const t0 = performance.now();
        v.step();
        v.times.push(performance.now() - t0);
      }
    }
  }
  tf.dispose([x, y, ...variants.map((v) => v.model)]);
  for (const v of variants) v.optimizer.dispose();
  return variants.map((v) => median(v.times));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(ms < 10 ? 2 : 1).padStart(8)} ms`;
// On wasm, 200 steps after 100 of warm-up: V8 and the wasm engine take a few hundred steps to reach
// the speed of a run's later epochs (with 20 after 10 the MLP's step read 3.3 ms, warm 1.7 ms).
const steps = (backend, name) => stepsOption ?? (quick ? 3 : backend === 'cpu' ? (name === 'cnn' ? 5 : 20) : 200);

console.log(
  `wasm-layers bench — ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, tfjs ${tf.version.tfjs}; wasm: ${nativeKernelsInWords()}\n`,
);
console.log('ms per training step, batch 64, Adam (median):');
for (const backend of onlyBackends) {
  await useBackend(backend);
  for (const name of onlyModels) {
    const [own, fused] = await msPerStep(name, steps(backend, name));
    console.log(
      `  ${name} on ${backend.padEnd(4)} ${fmt(own)} (the layers' own calls, TF.js's optimizer) ${fmt(fused)} (as Mosaic trains them)`,
    );
  }
}
if (stepsOnly) process.exit(0);

await useBackend('wasm');
const backend = tf.backend();
for (const own of Object.values(OWN)) own.setupFunc?.(backend);
const repeats = quick ? 3 : 20;

/** Median ms of `run` on `repeats` fresh copies of `inputs` (after one warm-up call); run returns a TensorInfo. */
function msOf(inputs, run) {
  const copies = Array.from({ length: repeats + 1 }, () =>
    Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.clone(t)])),
  );
  const times = [];
  copies.forEach((c, i) => {
    const t0 = performance.now();
    const out = run(c);
    backend.readSync(out.dataId, 0, 1);
    if (i > 0) times.push(performance.now() - t0);
    backend.disposeData(out.dataId);
    tf.dispose(Object.values(c));
  });
  return median(times);
}
const registered = (name, attrs) => (inputs) => tf.getKernel(name, 'wasm').kernelFunc({ inputs, backend, attrs });
const own = (name, attrs) => (inputs) => OWN[name].kernelFunc({ inputs, backend, attrs });
const composition = (body) => (inputs) => composeKernels(backend, 'wasm', inputs, (k) => body(k, inputs));

const conv = (h, cin, cout, pad = 'valid') => {
  const x = tf.randomNormal([BATCH, h, h, cin]);
  const filter = tf.randomNormal([3, 3, cin, cout]);
  const info = forwardGeometry(x.shape, filter.shape, { strides: 1, dilations: 1, pad });
  return { x, filter, dy: tf.randomNormal(info.outShape), info, pad };
};
const conv1 = conv(28, 1, 16);
const conv2 = conv(13, 16, 32);
const pool1 = tf.randomNormal([BATCH, 26, 26, 16]);
const poolAttrs = { filterSize: 2, strides: 2, pad: 'valid' };
const poolInfo = tf.backend_util.computePool2DInfo(pool1.shape, 2, 2, 1, 'valid');
const pooled = tf.maxPool(pool1, 2, 2, 'valid');
const [x784, dy256, w784] = [tf.randomNormal([BATCH, 784]), tf.randomNormal([BATCH, 256]), tf.randomNormal([784, 256])];

const rows = [
  [
    "BatchMatMul [64,784]ᵀ·[64,256] (a dense layer's weight gradient)",
    { a: x784, b: dy256 },
    'BatchMatMul',
    { transposeA: true, transposeB: false },
  ],
  [
    'BatchMatMul [64,256]·[784,256]ᵀ (its input gradient)',
    { a: dy256, b: w784 },
    'BatchMatMul',
    { transposeA: false, transposeB: true },
  ],
  ['Sum of [64,26,26,16] over 0,1,2 (a bias gradient)', { x: pool1 }, 'Sum', { axis: [0, 1, 2], keepDims: false }],
  ['Add [64,26,26,16] + [16] (a bias)', { a: pool1, b: tf.randomNormal([16]) }, 'Add', {}],
  ['Identity of [64,26,26,16] (a tensor the tape saves)', { x: pool1 }, 'Identity', {}],
  ['MaxPool 2×2 of [64,26,26,16]', { x: pool1 }, 'MaxPool', poolAttrs],
  [
    'MaxPoolGrad 2×2 of [64,26,26,16]',
    { dy: tf.randomNormal(pooled.shape), input: pool1, output: pooled },
    'MaxPoolGrad',
    poolAttrs,
    composition((k, i) => maxPoolGradient(k, i.input, i.dy, poolAxes(poolInfo), 'first')),
  ],
  ...[
    ['conv 1, x 28×28×1 → 16', conv1],
    ['conv 2, x 13×13×16 → 32', conv2],
  ].flatMap(([label, c]) => [
    [
      `Conv2DBackpropFilter, ${label}`,
      { x: c.x, dy: c.dy },
      'Conv2DBackpropFilter',
      { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter.shape },
      composition((k, i) => filterGradientByConvolution(k, i.x, i.dy, c.info)),
    ],
    [
      `Conv2DBackpropInput, ${label}`,
      { dy: c.dy, filter: c.filter },
      'Conv2DBackpropInput',
      { strides: 1, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x.shape },
      composition((k, i) => inputGradientByConvolution(k, i.dy, i.filter, c.info)),
    ],
  ]),
];
console.log(
  `\nwasm kernels, batch 64, ms (median of ${repeats}): Mosaic's | wasm 4.22's own | the composition (where the SIMD kernels cannot run)`,
);
for (const [label, inputs, name, attrs, composed] of rows) {
  const ownMs = name === 'Conv2DBackpropFilter' ? undefined : msOf(inputs, own(name, attrs));
  const cells = [msOf(inputs, registered(name, attrs)), ownMs, composed ? msOf(inputs, composed) : undefined];
  console.log(`  ${label.padEnd(60)} ${cells.map((c) => (c === undefined ? '       —   ' : fmt(c))).join(' ')}`);
}

// Adam's update of the MLP's variables (269,322 parameters): TF.js's ops, variable by variable, or
// Mosaic's SIMD pass per variable (src/engine/optimizers/simd-adam.ts), the same gradients each time.
const mlpModel = mlp();
const mlpVariables = mlpModel.trainableWeights.map((w) => w.val);
const mlpGradients = mlpVariables.map((v) => tf.randomNormal(v.shape));
const adamOf = (simd) => {
  const adam = tf.train.adam(1e-3);
  const tfjsStep = () => adam.applyGradients(mlpVariables.map((v, i) => ({ name: v.name, tensor: mlpGradients[i] })));
  tfjsStep(); // creates the moments
  return () => (simd ? simdAdamStep(adam, mlpVariables, mlpGradients) || tfjsStep() : tfjsStep());
};
const adamSteps = [adamOf(true), adamOf(false)];
const adamTimes = [[], []];
for (let i = 0; i < repeats + 1; i++) {
  adamSteps.forEach((step, k) => {
    const t0 = performance.now();
    step();
    if (i > 0) adamTimes[k].push(performance.now() - t0);
  });
}
console.log(
  `  ${"Adam's update of the MLP's 6 variables".padEnd(60)} ${fmt(median(adamTimes[0]))} ${fmt(median(adamTimes[1]))} (TF.js's ops)`,
);
