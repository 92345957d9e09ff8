/**
 * A worker process: claims pending runs from the store one after the other and executes them,
 * staying warm (tfjs and user modules loaded once) until no pending run is left.
 */
import { executeRun } from '../engine/run.js';
import { openSqliteStore } from '../store/sqlite.js';
import { WORKER_ENV, type WorkerMessage } from './messages.js';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  const dbPath = process.env[WORKER_ENV.db];
  const id = process.env[WORKER_ENV.id];
  if (!dbPath || !id) throw new Error(`worker started without ${WORKER_ENV.db} / ${WORKER_ENV.id}`);
  const device = process.env[WORKER_ENV.device] || undefined;
  // If the scheduler goes away, stop: the run in progress stays claimed and is reclaimed later.
  process.on('disconnect', () => process.exit(0));
  const store = openSqliteStore(dbPath, { create: false });
  try {
    for (;;) {
      const run = store.claimNext({ id, pid: process.pid, ...(device ? { device } : {}) });
      if (!run) break;
      await send({ type: 'claimed', runId: run.runId, pipeline: run.shortForm, epochsDone: run.epochsDone, epochs: run.epochsTarget });
      const outcome = await executeRun(run, {
        store,
        ...(device ? { device } : {}),
        onEpoch: (p) => void send({ type: 'epoch', runId: p.runId, epoch: p.epoch, epochs: p.epochs, trainLoss: p.record.train_loss, testLoss: p.record.test_loss }),
      });
      await send({ type: 'finished', runId: run.runId, ...outcome });
    }
  } finally {
    store.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
