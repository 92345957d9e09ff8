// Prints the cost of one training step of the tutorial's MLP (2-4-4-4-4-1, sigmoid, batch 1, Adam,
// MSE) on cpu: TF.js ops per step and ms per step, for one run alone with TF.js's optimizer, alone
// with Mosaic's one-pass optimizer (FlatOptimizer), and R runs as a pack.
// Run: npm run build && node bench/step-bench.mjs
import * as tf from '@tensorflow/tfjs';
import { FlatOptimizer } from '../dist/engine/optimizers/flat-optimizer.js';

tf.env().set('PROD', true);
await tf.setBackend('cpu');
const sizes = [2, 4, 4, 4, 4, 1];

function weights(replicas) {
  const vars = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const lead = replicas ? [replicas] : [];
    vars.push(tf.variable(tf.randomUniform([...lead, sizes[i], sizes[i + 1]], -0.5, 0.5)));
    vars.push(tf.variable(tf.randomUniform(replicas ? [replicas, 1, sizes[i + 1]] : [sizes[i + 1]], -0.5, 0.5)));
  }
  return vars;
}

function forward(vars, x) {
  let h = x;
  for (let i = 0; i < vars.length; i += 2) h = tf.sigmoid(tf.matMul(h, vars[i]).add(vars[i + 1]));
  return h;
}

async function measure(label, replicas, fused) {
  const vars = weights(replicas);
  const x = tf.randomUniform(replicas ? [replicas, 1, 2] : [1, 2]);
  const y = tf.randomUniform(replicas ? [replicas, 1, 1] : [1, 1]);
  const loss = () =>
    replicas
      ? tf.losses.meanSquaredError(y, forward(vars, x), undefined, tf.Reduction.NONE).mean([1, 2]).sum()
      : tf.losses.meanSquaredError(y, forward(vars, x));
  const optimizer = fused ? new FlatOptimizer(tf.train.adam(0.01), vars) : tf.train.adam(0.01);
  const step = () => (fused ? optimizer.minimize(loss) : optimizer.minimize(loss, true, vars)).dispose();
  for (let i = 0; i < 50; i++) step();
  const profile = await tf.profile(step);
  const n = 2000;
  const started = performance.now();
  for (let i = 0; i < n; i++) step();
  const ms = (performance.now() - started) / n;
  console.log(
    `${label.padEnd(44)} ${String(profile.kernels.length).padStart(4)} ops/step  ${ms.toFixed(3)} ms/step  ${(ms / (replicas || 1)).toFixed(3)} ms per run-step`,
  );
  optimizer.dispose();
  tf.dispose([...vars, x, y]);
}

await measure('one run, TF.js Adam', 0, false);
await measure('one run, one-pass Adam (FlatOptimizer)', 0, true);
for (const r of [4, 12, 24]) {
  await measure(`pack of ${r}, TF.js Adam`, r, false);
  await measure(`pack of ${r}, one-pass Adam`, r, true);
}

// The pack step a tutorial pack takes on cpu: forward, loss and backward in JavaScript
// (dense-stack.ts), Adam in JavaScript (plain-optimizer.ts), no TF.js op.
const { DenseStackStep } = await import('../dist/engine/pack/dense-stack.js');
const { replicaLoss } = await import('../dist/engine/chain/loss.js');
for (const r of [12, 24]) {
  const vars = weights(r);
  const model = {
    layers: vars
      .filter((_, i) => i % 2 === 0)
      .map(() => ({ dense: true, useBias: true, activationName: 'sigmoid', activation: undefined })),
    loss: replicaLoss('mse'),
    lossKind: 'mse',
    shapes: vars.map((v) => (v.shape.slice(1).length === 2 && v.shape[1] === 1 ? [v.shape[2]] : v.shape.slice(1))),
  };
  const step = DenseStackStep.of(model, r);
  const optimizer = new FlatOptimizer(tf.train.adam(0.01), vars);
  const params = await optimizer.plainParameters();
  const x = tf.randomUniform([r, 1, 2]).dataSync();
  const y = tf.randomUniform([r, 1, 1]).dataSync();
  const once = () => {
    const trace = step.forward(params, x, 1);
    const { dPrediction } = step.loss(trace[trace.length - 1], y);
    optimizer.stepPlain(step.gradient(params, trace, dPrediction, 1));
  };
  for (let i = 0; i < 500; i++) once();
  const n = 20000;
  const started = performance.now();
  for (let i = 0; i < n; i++) once();
  const ms = (performance.now() - started) / n;
  console.log(
    `${`pack of ${r}, plain JavaScript step`.padEnd(44)} ${'0'.padStart(4)} ops/step  ${ms.toFixed(3)} ms/step  ${(ms / r).toFixed(4)} ms per run-step`,
  );
  optimizer.dispose();
  tf.dispose(vars);
}
