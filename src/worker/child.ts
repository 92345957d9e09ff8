/**
 * A worker process: claims pending runs from the store — several of one structure at once, a
 * pack, when more are pending than workers — and executes them, staying warm (tfjs and user
 * modules loaded once) until no pending run is left.
 */
import { executePack, modelKey } from '../engine/pack/pack.js';
import { openStore } from '../store/open.js';
import type { ClaimedRun, Store } from '../store/types.js';
import { raceSettingsOf, readRaceRecord } from '../race/record.js';
import { hostName, isWorkerAlive } from '../core/host.js';
import { MosaicError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import { StoreUnavailableError } from '../store/errors.js';
import { heartbeatSeconds, workerLiveSeconds } from '../core/heartbeat.js';
import { takenBack, WORKER_ENV, type SchedulerMessage, type WorkerMessage } from './messages.js';
import { checkExperiment } from './check.js';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

/**
 * The most runs a pack takes: a fair share of what is pending among the workers without work, on
 * every host (this one among them), so that each has some.
 */
function packLimit(pending: number, idleWorkers: number, maxPack: number): number {
  return Math.max(1, Math.min(maxPack, Math.ceil(pending / Math.max(1, idleWorkers))));
}

async function main(): Promise<void> {
  const dbPath = process.env[WORKER_ENV.db];
  const id = process.env[WORKER_ENV.id];
  if (!dbPath || !id) throw new Error(`worker started without ${WORKER_ENV.db} / ${WORKER_ENV.id}`);
  const device = process.env[WORKER_ENV.device] || undefined;
  const maxPack = Number(process.env[WORKER_ENV.packSize] ?? MONITOR_DEFAULTS.pack_size);
  const heartbeatTimeout = Number(process.env[WORKER_ENV.heartbeatTimeout] ?? MONITOR_DEFAULTS.heartbeat_timeout);
  const identity = { id, pid: process.pid, host: hostName(), ...(device ? { device } : {}) };
  // If the scheduler goes away, stop: the runs in progress stay claimed and are reclaimed later.
  process.on('disconnect', () => process.exit(EXIT.ok.code));
  // Ctrl-C reaches the whole process group: the scheduler decides, and stops us with SIGTERM.
  process.on('SIGINT', () => {});
  if (process.env[WORKER_ENV.hold]) await checkUntilGo();
  const store = await openStore(dbPath, 'write');
  // Counted among the live workers of every host, whose fair shares claims take (the pool marked us at fork too).
  await store.markWorkerAlive(identity);
  const current = new Map<number, ClaimedRun>();
  const said = new Set<string>();
  // Models (modelKey) found unpackable here: their runs are claimed one at a time, rather than
  // claimed together and given back moments later (they would show as running meanwhile). Runs of
  // other models with the same pack key still pack.
  const alone = new Set<string>();
  const claimAlone = (run: Pick<ClaimedRun, 'packKey' | 'spec'>) => alone.has(modelKey(run));
  // Heartbeats mark the runs alive between epochs too (the training loops yield now and then).
  const beat = setInterval(() => {
    Promise.all([store.heartbeat([...current.values()]), store.markWorkerAlive(identity)]).catch((e: Error) =>
      console.error(`heartbeat not recorded: ${e.message}`),
    );
  }, heartbeatSeconds(heartbeatTimeout) * 1000);
  let lastReclaim = -Infinity;
  try {
    while (process.connected) {
      const limit =
        maxPack > 1
          ? packLimit(
              (await store.counts()).pending,
              await store.idleWorkers(workerLiveSeconds(heartbeatTimeout)),
              maxPack,
            )
          : 1;
      // Runs of a host that went silent (dead, cut off) are taken back by whoever is still working.
      // By heartbeat only: a sibling that died on this host is the scheduler's to count as a failure.
      // Staleness moves at the heartbeat's pace: looking once per beat is enough, not before every claim.
      if (performance.now() - lastReclaim >= heartbeatSeconds(heartbeatTimeout) * 1000) {
        lastReclaim = performance.now();
        const reclaimed = await store.reclaimStale(() => true, heartbeatTimeout);
        if (reclaimed.length) console.log(takenBack(reclaimed, heartbeatTimeout));
      }
      const runs = await store.claimPack(identity, limit, claimAlone);
      if (runs.length === 0) {
        // A race's round that ended while nobody was there to decide it (a crash, a resume): now.
        if ((await advanceRace(store)) > 0) continue;
        // A sibling whose pack cannot be built gives its other runs back moments after claiming
        // them: wait for such runs while siblings on this host hold some, rather than leave them all
        // to one worker. In a race, wait for the runs of every host too: when they end a round, its
        // next repeats are for all. Nothing pending with nothing held (or a pause): leave.
        const counts = await store.counts();
        if (counts.pending > 0) break;
        if (await siblingsBusy(store)) await siblingNews(SIBLING_POLL_MS);
        else if (counts.running > 0 && (await raceSettingsOf(store)) && (await othersBusy(store)))
          await siblingNews(RACE_POLL_MS);
        else break;
        continue;
      }
      const ctx = {
        store,
        ...(device ? { device } : {}),
        onEpoch: (p: {
          runId: number;
          epoch: number;
          epochs: number;
          record: { train_loss: number; test_loss: number };
        }) =>
          void send({
            type: 'epoch',
            runId: p.runId,
            epoch: p.epoch,
            epochs: p.epochs,
            trainLoss: p.record.train_loss,
            testLoss: p.record.test_loss,
          }),
        notPacked: (unpacked: ClaimedRun[], reason: string) => {
          for (const run of unpacked) alone.add(modelKey(run));
          if (said.has(reason)) return;
          said.add(reason);
          console.log(
            `runs of one structure (${unpacked.map((r) => r.runId).join(', ')}) train one by one, not as a pack: ${reason}`,
          );
        },
        // Once per warning in this worker (each run keeps it as its `warning` fact).
        warn: (runId: number, message: string) => {
          if (said.has(message)) return;
          said.add(message);
          console.log(`warning (run ${runId}): ${message}`);
        },
        started: async (started: ClaimedRun[]) => {
          for (const run of started) await announce(run);
        },
      };
      for (const run of runs) current.set(run.runId, run);
      const outcomes = await executePack(runs, ctx);
      for (const [runId, outcome] of outcomes) {
        current.delete(runId);
        if (outcome.status === 'lost') {
          console.log(`run ${runId}: ${outcome.message}`);
          await send({ type: 'released', runId });
        } else {
          await send({ ...outcome, type: 'finished', runId });
        }
      }
      current.clear();
      await advanceRace(store);
    }
  } finally {
    clearInterval(beat);
    await store.close();
  }
}

/** How often a worker without runs looks again while its siblings hold some (and at once when the scheduler says so). */
const SIBLING_POLL_MS = 100;
/** How often it looks while a race's round ends on other hosts (whose news the scheduler does not hear). */
const RACE_POLL_MS = 1000;

/**
 * Decides the race's rounds that have ended (`race/advance.ts`) and tells the scheduler; returns the
 * runs queued. The race's statistics load only in a race (~50 ms of a worker's start-up otherwise).
 */
async function advanceRace(store: Store): Promise<number> {
  const record = await readRaceRecord(store);
  if (!record) return 0;
  const { advanceRaces } = await import('../race/advance.js');
  let queued = 0;
  for (const step of await advanceRaces(store, record)) {
    queued += step.queued.length;
    await send({ type: 'race', text: step.text, queued: step.queued.length });
  }
  return queued;
}

const lookers = new Set<() => void>();
process.on('message', (m: SchedulerMessage) => {
  if (m.type === 'look') for (const look of lookers) look();
});

/** Resolves after `ms`, or sooner when the scheduler says a sibling finished or gave back runs. */
function siblingNews(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const look = () => {
      clearTimeout(timer);
      lookers.delete(look);
      resolve();
    };
    const timer = setTimeout(look, ms);
    lookers.add(look);
  });
}

/** Whether live workers on this host hold runs (the claims of dead ones are the scheduler's to take back). */
async function siblingsBusy(store: { runningClaims(): Promise<{ host: string; pid: number }[]> }): Promise<boolean> {
  const host = hostName();
  return (await store.runningClaims()).some(
    (c) => c.host === host && c.pid !== process.pid && isWorkerAlive(c.host, c.pid),
  );
}

/**
 * Whether live workers of any host hold runs: this host's by their process, the others' until their
 * heartbeats stop (this worker takes those back by heartbeat; runs of this host's dead processes
 * are the scheduler's to take back, once its workers have left).
 */
async function othersBusy(store: { runningClaims(): Promise<{ host: string; pid: number }[]> }): Promise<boolean> {
  return (await store.runningClaims()).some((c) => c.pid !== process.pid && isWorkerAlive(c.host, c.pid));
}

/** Resolves with the next message the scheduler sends of one of these types. */
function told<T extends SchedulerMessage['type']>(...types: T[]): Promise<Extract<SchedulerMessage, { type: T }>> {
  return new Promise((resolve) => {
    const listen = (m: SchedulerMessage) => {
      if (!types.includes(m?.type as T)) return;
      process.off('message', listen);
      resolve(m as Extract<SchedulerMessage, { type: T }>);
    };
    process.on('message', listen);
  });
}

/** Started ahead: checks the experiment when asked (`check`), until told to begin (`go`). */
async function checkUntilGo(): Promise<void> {
  for (;;) {
    const m = await told('check', 'go');
    if (m.type === 'go') return;
    await send({ type: 'checked', ...(await checkExperiment(m.configFile, m.build)) });
  }
}

/** Tells the scheduler a run starts training here. */
async function announce(run: ClaimedRun): Promise<void> {
  await send({
    type: 'claimed',
    runId: run.runId,
    pipeline: run.shortForm,
    epochsDone: run.epochsDone,
    epochs: run.epochsTarget,
  });
}

main().then(
  () => process.exit(EXIT.ok.code),
  (e) => {
    // The database failing is said in one line; the scheduler puts the runs back (not the runs' fault).
    console.error(e instanceof MosaicError ? e.message : e instanceof Error ? e.stack : e);
    process.exit(e instanceof StoreUnavailableError ? EXIT.workerStoreUnavailable.code : EXIT.workerCrashed.code);
  },
);
