/**
 * A worker process: claims pending runs from the store one after the other and executes them,
 * staying warm (tfjs and user modules loaded once) until no pending run is left.
 */
import os from 'node:os';
import { executeRun } from '../engine/run.js';
import { openSqliteStore } from '../store/sqlite.js';
import { HEARTBEAT_SECONDS, WORKER_ENV, type WorkerMessage } from './messages.js';

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
  // Ctrl-C reaches the whole process group: the scheduler decides, and stops us with SIGTERM.
  process.on('SIGINT', () => {});
  const store = openSqliteStore(dbPath, { create: false });
  let current: number | undefined;
  // Heartbeats mark the run alive between epochs too (the training loop yields now and then).
  const beat = setInterval(() => current !== undefined && store.heartbeat(current), HEARTBEAT_SECONDS * 1000);
  try {
    while (process.connected) {
      const run = store.claimNext({ id, pid: process.pid, host: os.hostname(), ...(device ? { device } : {}) });
      if (!run) break;
      current = run.runId;
      await send({ type: 'claimed', runId: run.runId, pipeline: run.shortForm, epochsDone: run.epochsDone, epochs: run.epochsTarget });
      const outcome = await executeRun(run, {
        store,
        ...(device ? { device } : {}),
        onEpoch: (p) => void send({ type: 'epoch', runId: p.runId, epoch: p.epoch, epochs: p.epochs, trainLoss: p.record.train_loss, testLoss: p.record.test_loss }),
      });
      current = undefined;
      await send({ type: 'finished', runId: run.runId, ...outcome });
    }
  } finally {
    clearInterval(beat);
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
