// Prints the ms of one optimizer step per optimizer (not a test): the bench MLP's variables
// (784-256-256-10, 269,322 parameters), stepped as a run alone steps them (runOptimizer: Adam,
// RMSprop, Adagrad, Momentum, Adadelta and Adamax as one SIMD pass per variable on wasm, SGD
// TF.js's kernels), after 20 steps of warm-up; median of the repeats.
// Run: npm run build && node bench/optimizer-bench.mjs [--backend wasm|cpu] [--steps 200] [--repeat 3]
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../dist/tfjs/backends.js';
import { makeOptimizer } from '../dist/engine/optimizers/optimizer.js';
import { runOptimizer } from '../dist/engine/optimizers/run-optimizer.js';
import { benchOptions } from './options.mjs';

const USAGE = `Usage: node bench/optimizer-bench.mjs [options]   (after npm run build)
  --backend NAME   wasm or cpu (default wasm)
  --steps N        steps timed per measurement (default 200)
  --repeat N       measurements of each optimizer, alternately (default 3)
  -h, --help       this help`;
const options = benchOptions(
  {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '200' },
    repeat: { type: 'string', default: '3' },
  },
  USAGE,
);
const NAMES = ['adam', 'rmsprop', 'momentum', 'sgd', 'adagrad', 'adadelta', 'adamax'];
const SHAPES = [[784, 256], [256], [256, 256], [256], [256, 10], [10]];
await useBackend(options.backend);
console.log(
  `optimizer bench — ${os.cpus()[0]?.model}, node ${process.version}, tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}; ms per step of 269,322 parameters`,
);
const steps = Number(options.steps);
const times = new Map(NAMES.map((n) => [n, []]));
for (let r = 0; r < Number(options.repeat); r++) {
  for (const name of NAMES) {
    const vars = SHAPES.map((s) => tf.variable(tf.randomNormal(s)));
    const grads = SHAPES.map((s) => tf.randomNormal(s, 0, 0.01));
    const optimizer = runOptimizer(makeOptimizer(name, 1e-3), vars);
    for (let i = 0; i < 20; i++) optimizer.step(grads);
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) optimizer.step(grads);
    times.get(name).push((performance.now() - t0) / steps);
    optimizer.dispose();
    tf.dispose([...vars, ...grads]);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, ts] of times) console.log(`  ${name.padEnd(9)} ${median(ts).toFixed(3)} ms`);
