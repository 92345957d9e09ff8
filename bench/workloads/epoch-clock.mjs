// Preloaded by bench/loop-overhead.mjs into `mosaic run` and its workers (node --import). Appends
// a line to the file named by MOSAIC_BENCH_CLOCK each time an epoch's checkpoint is renamed into
// place (engine/checkpoints/checkpoint.ts):
//   <pid> <time, ms> <ms in train steps> <train steps> <ms in test batches> <test batches>
// The time between two lines is a whole epoch: its train and test passes and its end (weights
// checked, checkpoint written, row recorded, older checkpoints removed). The step times are those
// of a stack of dense layers stepped by its kernels (engine/run/dense-step.ts: the bench MLP after
// its first step), without what the loop does with each prediction (the accuracy's count): the
// model's own work inside the run, timed in the same epochs as the loop around it.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const clock = process.env.MOSAIC_BENCH_CLOCK;
const script = process.argv[1] ?? '';
const sums = { train: 0, trainSteps: 0, test: 0, testBatches: 0 };

/** `method` of `proto` timed into sums[key], less the time in its last argument (the loop's `seen`). */
function timed(proto, method, key, count) {
  const original = proto[method];
  proto[method] = function (...args) {
    const seen = args.at(-1);
    let inSeen = 0;
    args[args.length - 1] = (prediction) => {
      const t = performance.now();
      seen(prediction);
      inSeen += performance.now() - t;
    };
    const t0 = performance.now();
    const out = original.apply(this, args);
    sums[key] += performance.now() - t0 - inSeen;
    sums[count]++;
    return out;
  };
}

if (clock) {
  if (path.basename(script) === 'child.js') {
    // A worker: dist/worker/child.js, beside dist/engine.
    const dist = path.dirname(path.dirname(script));
    const { DenseStep } = await import(pathToFileURL(path.join(dist, 'engine/run/dense-step.js')).href);
    timed(DenseStep.prototype, 'trainStep', 'train', 'trainSteps');
    timed(DenseStep.prototype, 'evaluate', 'test', 'testBatches');
  }
  const rename = fs.renameSync;
  fs.renameSync = (from, to) => {
    rename(from, to);
    if (!String(to).endsWith('.ckpt')) return;
    const now = performance.timeOrigin + performance.now();
    const { train, trainSteps, test, testBatches } = sums;
    fs.appendFileSync(
      clock,
      `${process.pid} ${now.toFixed(3)} ${train.toFixed(3)} ${trainSteps} ${test.toFixed(3)} ${testBatches}\n`,
    );
    Object.assign(sums, { train: 0, trainSteps: 0, test: 0, testBatches: 0 });
  };
  syncBuiltinESMExports();
}
