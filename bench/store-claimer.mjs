// One process of bench/store-bench.mjs: claims runs one at a time until none is left, records an
// epoch and finishes each, and sends its claim latencies (ms) to the parent.
import os from 'node:os';
import { openStore } from '../dist/store/open.js';

const [location, id] = process.argv.slice(2);
const store = await openStore(location, 'write');
const worker = { id, pid: process.pid, host: os.hostname() };
const latencies = [];
const results = {
  train_loss: 1,
  test_loss: 1,
  train_acc: null,
  test_acc: null,
  nb_params: 1,
  duration_s: 0,
  epochs: 1,
  overfit: 0,
  trainability: 0,
  slope: 0,
  slope_std_plus: 0,
  slope_std_minus: 0,
  best_test_loss: 1,
  best_epoch: 1,
};
for (;;) {
  const started = performance.now();
  const [run] = await store.claimPack(worker, 1);
  if (!run) break;
  latencies.push(performance.now() - started);
  await store.recordEpoch(run, {
    epoch: 1,
    train_loss: 1,
    test_loss: 1,
    train_acc: null,
    test_acc: null,
    duration_s: 0,
  });
  await store.finishRun(run, results);
}
await store.close();
process.send(latencies, () => process.exit(0));
