import os from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MonitorSettings } from '../config/types.js';
import type { Store } from '../store/types.js';
import { CACHE_ENV } from '../cache/download.js';
import { WORKER_ENV, type SchedulerMessage, type WorkerMessage } from './messages.js';
import { EXIT } from '../core/exit-codes.js';
import { MosaicError } from '../core/errors.js';
import { hostName } from '../core/host.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import type { Reporter } from './reporter.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export interface PoolOptions {
  dbPath: string;
  /** Workers started ahead (`WarmWorkers`): taken for their slots before any new one is forked. */
  warm?: WarmWorkers;
  store: Store;
  monitor: Pick<
    MonitorSettings,
    | 'nb_processus'
    | 'need_gpu'
    | 'gpu_available'
    | 'retries'
    | 'cache_database_path'
    | 'cache_size'
    | 'pack_size'
    | 'heartbeat_timeout'
  >;
  /** Runs this invocation is about (for i/N); workers take any pending run of the database. */
  total: number;
  /** The runs this invocation has launched (shared by its rounds): the launch counter counts runs, not launches (a retry is not a new run). */
  launchedRuns?: Set<number>;
  reporter: Reporter;
}

export interface PoolSummary {
  launched: number;
  done: number;
  error: number;
  failed: number;
  diverged: number;
  /** Runs put back to pending because the scheduler was interrupted (Ctrl-C, SIGTERM) or the database failed. */
  requeued: number;
  interrupted: boolean;
  /** A worker stopped because the database could not be used (its message says why). */
  storeUnavailable: boolean;
}

/** One worker slot: its number (for display) and, with need_gpu, its device. */
export interface Slot {
  index: number;
  device?: string;
}

/**
 * Worker slots: with need_gpu, one per listed device (at most nb_processus), so a device never
 * runs two runs at once; otherwise nb_processus slots without device.
 */
export function workerSlots(monitor: PoolOptions['monitor']): Slot[] {
  if (monitor.need_gpu) {
    return monitor.gpu_available.slice(0, monitor.nb_processus).map((device, i) => ({ index: i + 1, device }));
  }
  return Array.from({ length: monitor.nb_processus }, (_, i) => ({ index: i + 1 }));
}

/** `cuda:1` → `1`; a bare `1` stays; anything else is passed as is. */
export function cudaVisibleDevices(device: string): string {
  const m = /^(?:cuda|gpu)?:?(\d+)$/i.exec(device.trim());
  return m ? m[1]! : device;
}

/** How a worker process ended, as said after "worker process …". */
const howItEnded = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `was killed by ${signal}` : `exited with code ${code}`;

function forkWorker(
  options: Pick<PoolOptions, 'dbPath' | 'monitor'>,
  slot: Slot,
  workerId: string,
  extra: NodeJS.ProcessEnv = {},
): ChildProcess {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [WORKER_ENV.db]: options.dbPath,
    [WORKER_ENV.id]: workerId,
    [WORKER_ENV.packSize]: String(options.monitor.pack_size ?? MONITOR_DEFAULTS.pack_size),
    [WORKER_ENV.heartbeatTimeout]: String(options.monitor.heartbeat_timeout ?? MONITOR_DEFAULTS.heartbeat_timeout),
    ...extra,
  };
  if (options.monitor.cache_database_path) env[CACHE_ENV.db] = options.monitor.cache_database_path;
  if (options.monitor.cache_size) env[CACHE_ENV.size] = String(options.monitor.cache_size);
  if (slot.device) {
    env[WORKER_ENV.device] = slot.device;
    env.CUDA_VISIBLE_DEVICES = cudaVisibleDevices(slot.device);
  }
  const execArgv = workerExecArgv(workerSlots(options.monitor).length);
  return fork(CHILD, [], { env, execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

/**
 * The Node flags of a worker process: this process's own, and with as many workers as cores or
 * more, `--single-threaded-gc`: V8 otherwise marks and sweeps on threads of their own, which then
 * run on the cores of the other workers (the bench MLP ×4 on 2 workers and 2 cores: wall 3.07 s
 * against 3.19, median of 10 alternating pairs, every pair faster). With a core to spare they keep
 * their concurrent collector.
 */
export function workerExecArgv(workers: number, cores = os.availableParallelism()): string[] {
  const own = process.execArgv;
  return workers >= cores && !own.includes('--single-threaded-gc') ? [...own, '--single-threaded-gc'] : own;
}

/**
 * Workers forked before the database is ready, so that their imports (TF.js, the engine: ~0.4 s
 * a process) load while `mosaic run` checks the experiment: each waits for `go` before it opens
 * the database, and a check that fails kills them untouched (`dispose`). The pool takes them for
 * their slots; those it does not need are disposed.
 */
export class WarmWorkers {
  private readonly waiting = new Map<number, { child: ChildProcess; id: string }>();

  constructor(options: Pick<PoolOptions, 'dbPath' | 'monitor'>, runs: number) {
    for (const slot of workerSlots(options.monitor).slice(0, Math.max(1, runs))) {
      const id = `${process.pid}-${slot.index}-0`;
      const child = forkWorker(options, slot, id, { [WORKER_ENV.hold]: '1' });
      // Said by the pool once it takes the worker; meanwhile its output waits in the pipe.
      child.on('error', () => undefined);
      this.waiting.set(slot.index, { child, id });
    }
  }

  /**
   * Has the first worker check the experiment (`check` → `checked`), which `mosaic run` would
   * otherwise do itself after loading TF.js; what the user's classes print meanwhile is printed
   * here as it comes. Throws what the check threw: a `MosaicError` for the user's mistake.
   */
  async check(configFile: string, build: boolean): Promise<void> {
    const { child } = [...this.waiting.values()][0]!;
    const relays = [
      [child.stdout!, process.stdout],
      [child.stderr!, process.stderr],
    ] as const;
    const writers = relays.map(([from, to]) => {
      const write = (chunk: Buffer) => to.write(chunk);
      from.on('data', write);
      return () => {
        from.off('data', write);
        // Until the pool takes the worker, its output waits in the pipe.
        from.pause();
      };
    });
    try {
      const answer = await new Promise<Extract<WorkerMessage, { type: 'checked' }>>((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => {
          if (m.type !== 'checked') return;
          child.off('exit', onExit);
          child.off('message', onMessage);
          resolve(m);
        };
        const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
          child.off('message', onMessage);
          reject(new Error(`the worker process checking the experiment ${howItEnded(code, signal)}`));
        };
        if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode, child.signalCode);
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ type: 'check', configFile, build } satisfies SchedulerMessage);
      });
      // Its output went into the pipes before its answer: let the last of it be read.
      await new Promise((resolve) => setImmediate(resolve));
      const failure = answer.failure;
      if (failure?.user) throw new MosaicError(failure.message);
      if (failure) throw Object.assign(new Error(failure.message), failure.stack ? { stack: failure.stack } : {});
    } finally {
      for (const stop of writers) stop();
    }
  }

  /** The workers waiting, as `markWorkerAlive` takes them. */
  identities(): { id: string; pid: number; host: string }[] {
    return [...this.waiting.values()]
      .filter(({ child }) => child.pid !== undefined)
      .map(({ child, id }) => ({ id, pid: child.pid!, host: hostName() }));
  }

  /** Whether a worker was started (none without a slot: `need_gpu` with no device). */
  get started(): boolean {
    return this.waiting.size > 0;
  }

  /** The worker started for this slot, if it is still alive (it is the taker's from then on). */
  take(slot: Slot): { child: ChildProcess; id: string } | undefined {
    const w = this.waiting.get(slot.index);
    this.waiting.delete(slot.index);
    if (!w) return undefined;
    if (w.child.connected && w.child.exitCode === null && w.child.signalCode === null) return w;
    w.child.kill();
    return undefined;
  }

  /** Stops the workers not taken. */
  dispose(): void {
    for (const { child } of this.waiting.values()) child.kill();
    this.waiting.clear();
  }
}

/**
 * Runs every pending run of the store with a pool of warm worker processes. A worker that dies
 * has its run marked failed and is replaced while pending runs remain.
 */
export async function runPool(options: PoolOptions): Promise<PoolSummary> {
  const { store, reporter } = options;
  const launchedRuns = options.launchedRuns ?? new Set<number>();
  const summary: PoolSummary = {
    launched: 0,
    done: 0,
    error: 0,
    failed: 0,
    diverged: 0,
    requeued: 0,
    interrupted: false,
    storeUnavailable: false,
  };
  const children = new Set<ChildProcess>();
  const interrupt = (signal: NodeJS.Signals) => {
    if (!summary.interrupted)
      reporter.log(`${signal}: stopping the workers; their runs go back to pending and keep their finished epochs`);
    summary.interrupted = true;
    for (const c of children) c.kill('SIGTERM');
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const look: SchedulerMessage = { type: 'look' };
  const tellOthers = (from: ChildProcess) => {
    for (const c of children) if (c !== from && c.connected) c.send(look, (e) => void e); // a child exiting meanwhile: nothing to tell
  };
  const pending = async () => (await store.counts()).pending;
  // A race queues more runs as its rounds end: i/N counts them from then on.
  let total = options.total;
  const slots = workerSlots(options.monitor).slice(0, Math.max(1, await pending()));
  let generation = 0;
  let consecutiveStartupDeaths = 0;
  // Every worker started ahead is counted among the live ones before any is told to begin: the
  // first to claim takes its fair share of the pending runs, not all of them.
  for (const worker of options.warm?.identities() ?? [])
    await store
      .markWorkerAlive(worker)
      .catch((e: Error) => reporter.log(`worker ${worker.id} not recorded as live: ${e.message}`));

  await new Promise<void>((resolve, reject) => {
    let alive = 0;
    const start = (slot: Slot) => {
      const warm = options.warm?.take(slot);
      const workerId = warm?.id ?? `${process.pid}-${slot.index}-${++generation}`;
      const child: ChildProcess = warm?.child ?? forkWorker(options, slot, workerId);
      if (warm) child.send({ type: 'go' } satisfies SchedulerMessage);
      children.add(child);
      alive++;
      // Counted among the live workers at once (its own beats follow once it has loaded): a host
      // starting at the same moment shares the pending runs with it rather than claim them all.
      // (A worker started ahead was counted before the loop.)
      if (!warm && child.pid !== undefined)
        store
          .markWorkerAlive({ id: workerId, pid: child.pid, host: hostName() })
          .catch((e: Error) => reporter.log(`worker ${slot.index} not recorded as live: ${e.message}`));
      let claimedAny = false;
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on('line', (line) => reporter.log(`[worker ${slot.index}] ${line}`));
      }
      child.on('message', (m: WorkerMessage) => {
        if (m.type === 'claimed') {
          claimedAny = true;
          consecutiveStartupDeaths = 0;
          summary.launched++;
          launchedRuns.add(m.runId);
          reporter.launched(slot.index, m.runId, launchedRuns.size, total, m.pipeline, m.epochsDone, m.epochs);
        } else if (m.type === 'released') {
          summary.launched--;
          launchedRuns.delete(m.runId);
          tellOthers(child);
        } else if (m.type === 'epoch') {
          reporter.epoch(slot.index, m.runId, m.epoch, m.epochs, m.trainLoss, m.testLoss);
        } else if (m.type === 'race') {
          total += m.queued;
          reporter.raced(m.text, m.queued);
          tellOthers(child);
        } else if (m.type === 'finished') {
          summary[m.status]++;
          reporter.finished(slot.index, m.runId, m.status, m.message);
          tellOthers(child);
        }
      });
      child.on('exit', (code, signal) => void settle(code, signal).catch(reject));
      const settle = async (code: number | null, signal: NodeJS.Signals | null) => {
        alive--;
        children.delete(child);
        // Not said if it fails: the row stops counting as live by itself within a few beats.
        await store.forgetWorker(workerId).catch(() => undefined);
        if (summary.interrupted) {
          summary.requeued += (await store.requeueRunsOfWorker(workerId)).length;
        } else if (code === EXIT.workerStoreUnavailable.code) {
          // Not the runs' failure: they go back to pending, and no worker is started in its place.
          summary.storeUnavailable = true;
          summary.requeued += (await store.requeueRunsOfWorker(workerId)).length;
        } else if (code !== EXIT.ok.code) {
          const reason = `system failure: worker process ${child.pid} ${howItEnded(code, signal)}`;
          const { failed, retried } = await store.releaseRunsOfDeadWorker(workerId, reason, options.monitor.retries);
          for (const id of failed) {
            summary.failed++;
            reporter.finished(slot.index, id, 'failed', reason);
          }
          for (const id of retried)
            reporter.log(` [run retried] ${id}: ${reason}; it continues from its last checkpoint`);
          if (!claimedAny && ++consecutiveStartupDeaths >= 3) {
            if (alive === 0) reject(new Error(`worker processes die at start (${reason}); see the lines above`));
            return;
          }
          if ((await pending()) > 0) {
            start(slot);
            return;
          }
        }
        if (alive === 0) resolve();
      };
    };
    for (const slot of slots) start(slot);
  }).finally(() => {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  });
  return summary;
}
