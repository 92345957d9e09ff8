// Prints training speed per backend (not a test): ms per step of a small CNN (conv 16 3×3 ReLU →
// max-pool 2 → conv 32 3×3 ReLU → max-pool 2 → dense 10, batch 64 of 28×28×1, Adam, categorical
// cross-entropy) and of a 784-256-256-10 ReLU MLP (batch 64, Adam, MSE), on cpu and on wasm;
// the CNN on wasm again with the filter gradient computed by plain-JS loops instead of XNNPACK,
// and with wasm 4.22's own Conv2DBackpropInput (a plain C loop) instead of Mosaic's; the
// filter-gradient kernel alone for the CNN's two convolutions; the input-gradient kernel (both)
// and MaxPoolGrad alone for the CNN's shapes.
// Run with: npm run build && node bench/wasm-layers.mjs [--quick]
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../dist/engine/tf.js';
import { conv2DBackpropFilterConfig } from '../dist/engine/wasm/conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from '../dist/engine/wasm/conv2d-backprop-input.js';

// wasm's own Conv2DBackpropInput, kept before Mosaic replaces it (its setup runs once wasm is up).
await import('@tensorflow/tfjs-backend-wasm');
const wasmOwnBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm');

const quick = process.argv.includes('--quick');
const BATCH = 64;

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

const MODELS = {
  cnn: { build: cnn, x: [BATCH, 28, 28, 1], loss: (y, p) => tf.metrics.categoricalCrossentropy(y, p).mean() },
  mlp: { build: mlp, x: [BATCH, 784], loss: (y, p) => tf.losses.meanSquaredError(y, p) },
};

/** Median ms of one Adam step (forward, backward, update, loss read back), after warm-up steps. */
async function msPerStep(name, steps) {
  const { build, x: xShape, loss } = MODELS[name];
  const model = build();
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal(xShape);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32'), 10).toFloat();
  const step = () => {
    const cost = optimizer.minimize(() => loss(y, model.apply(x)), true);
    cost.dataSync();
    cost.dispose();
  };
  for (let i = 0; i < 2; i++) step();
  const times = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  tf.dispose([x, y, model, optimizer]);
  return median(times);
}

/** The filter gradient by direct loops over wasm memory (the cpu backend's algorithm): the data goes to JS and back. */
function plainJsFilterGradient({ inputs, backend, attrs }) {
  const { x, dy } = inputs;
  const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const xv = backend.readSync(x.dataId);
  const dyv = backend.readSync(dy.dataId);
  const dw = new Float32Array(filterHeight * filterWidth * inChannels * outChannels);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let kh = 0; kh < filterHeight; kh++) {
    const ohMin = Math.max(0, Math.ceil((top - kh) / strideHeight));
    const ohMax = Math.min(outHeight, (inHeight + top - kh) / strideHeight);
    for (let kw = 0; kw < filterWidth; kw++) {
      const owMin = Math.max(0, Math.ceil((left - kw) / strideWidth));
      const owMax = Math.min(outWidth, (inWidth + left - kw) / strideWidth);
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) {
          let acc = 0;
          for (let n = 0; n < batchSize; n++) {
            for (let oh = ohMin; oh < ohMax; oh++) {
              const ih = oh * strideHeight + kh - top;
              for (let ow = owMin; ow < owMax; ow++) {
                const iw = ow * strideWidth + kw - left;
                acc += xv[((n * inHeight + ih) * inWidth + iw) * inChannels + ci] * dyv[((n * outHeight + oh) * outWidth + ow) * outChannels + co];
              }
            }
          }
          dw[((kh * filterWidth + kw) * inChannels + ci) * outChannels + co] = acc;
        }
      }
    }
  }
  return backend.makeOutput(info.filterShape, 'float32', undefined, dw);
}

function useKernel(kernelName, kernelFunc) {
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}
const useFilterGradient = (kernelFunc) => useKernel('Conv2DBackpropFilter', kernelFunc);

/** Median ms of one kernel call (output read back), after one warm-up call. */
function msKernel(kernelName, inputs, attrs, repeats) {
  const times = [];
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const out = tf.engine().runKernel(kernelName, inputs, attrs);
    out.dataSync();
    out.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median ms of the filter-gradient kernel alone for x [64,H,W,cin] → filter 3×3×cin×cout. */
function msFilterGradient(h, cin, cout, repeats) {
  const x = tf.randomNormal([BATCH, h, h, cin]);
  const dy = tf.randomNormal([BATCH, h - 2, h - 2, cout]);
  const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, cin, cout] };
  const times = [];
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs);
    dw.dataSync();
    dw.dispose();
    if (i > 0) times.push(performance.now() - t0);
  }
  tf.dispose([x, dy]);
  return median(times);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(1).padStart(8)} ms`;
const steps = (backend, name) => (quick ? 3 : backend === 'cpu' && name === 'cnn' ? 5 : 20);

console.log(`wasm-layers bench — ${os.cpus().length} cores (${os.cpus()[0]?.model}), node ${process.version}, tfjs ${tf.version.tfjs}\n`);
console.log('ms per training step, batch 64, Adam (median):');
for (const backend of ['cpu', 'wasm']) {
  await useBackend(backend);
  for (const name of ['cnn', 'mlp']) console.log(`  ${name} on ${backend.padEnd(4)} ${fmt(await msPerStep(name, steps(backend, name)))}`);
}

await useBackend('wasm');
const composed = conv2DBackpropFilterConfig('wasm').kernelFunc;
const shapes = [
  ['conv 1 (x 28×28×1 → 3×3×1×16) ', 28, 1, 16],
  ['conv 2 (x 13×13×16 → 3×3×16×32)', 13, 16, 32],
];
console.log('\nConv2DBackpropFilter alone on wasm, batch 64 (median):');
for (const [label, kernelFunc] of [['XNNPACK (registered)', composed], ['plain JS loops     ', plainJsFilterGradient]]) {
  useFilterGradient(kernelFunc);
  for (const [shape, h, cin, cout] of shapes) console.log(`  ${label} ${shape} ${fmt(msFilterGradient(h, cin, cout, quick ? 3 : 20))}`);
}
useFilterGradient(plainJsFilterGradient);
console.log(`\n  cnn on wasm, filter gradient in plain JS ${fmt(await msPerStep('cnn', quick ? 3 : 10))}`);
useFilterGradient(composed);

const repeats = quick ? 3 : 20;
const inputGradient = { dy: tf.randomNormal([BATCH, 11, 11, 32]), filter: tf.randomNormal([3, 3, 16, 32]) };
const inputAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [BATCH, 13, 13, 16] };
wasmOwnBackpropInput.setupFunc?.(tf.backend());
const composedInput = conv2DBackpropInputConfig('wasm').kernelFunc;
console.log('\nConv2DBackpropInput alone on wasm, batch 64, conv 2 (dy 11×11×32 → dx 13×13×16) (median):');
for (const [label, kernelFunc] of [['XNNPACK (registered)', composedInput], ['wasm 4.22 own      ', wasmOwnBackpropInput.kernelFunc]]) {
  useKernel('Conv2DBackpropInput', kernelFunc);
  console.log(`  ${label} ${fmt(msKernel('Conv2DBackpropInput', inputGradient, inputAttrs, repeats))}`);
}
useKernel('Conv2DBackpropInput', wasmOwnBackpropInput.kernelFunc);
console.log(`\n  cnn on wasm, wasm 4.22's own Conv2DBackpropInput ${fmt(await msPerStep('cnn', quick ? 3 : 10))}`);
useKernel('Conv2DBackpropInput', composedInput);
tf.dispose(Object.values(inputGradient));

console.log('\nMaxPoolGrad alone on wasm (registered), batch 64, pool 2×2 (median):');
for (const [shape, h, c] of [['pool 1 (x 26×26×16)', 26, 16], ['pool 2 (x 11×11×32)', 11, 32]]) {
  const input = tf.randomNormal([BATCH, h, h, c]);
  const output = tf.maxPool(input, 2, 2, 'valid');
  const dy = tf.randomNormal(output.shape);
  console.log(`  ${shape} ${fmt(msKernel('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid' }, repeats))}`);
  tf.dispose([input, output, dy]);
}
