import type { MonitorSettings } from '../config/types.js';
import { MosaicError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { executePending, type ProgressMode } from '../experiment/execute.js';
import { hostName, isWorkerAlive } from '../core/host.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { takenBack } from '../worker/messages.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import { chooseDatabase } from './recent.js';

export interface WorkerCommandOptions {
  db?: string;
  workers?: number;
  /** Devices of this host (need_gpu experiments): replaces the experiment's gpu_available here. */
  gpus?: string;
  /**
   * `true` (`--wait`): stay when nothing is pending, and take runs queued later (Ctrl-C to leave);
   * `false` (`--no-wait`): leave when nothing is pending, even with runs of a silent host left;
   * unset: leave then, but first wait for a silent host's runs to be taken back, and train them.
   */
  wait?: boolean;
  progress?: ProgressMode;
}

/** How often a waiting worker looks for new pending runs. */
const WAIT_POLL_MS = 5000;

/**
 * `mosaic worker LOCATION`: joins an experiment already queued (by `mosaic run` on any host) with
 * this host's worker processes, under the experiment's [MONITOR] settings. Returns the exit code.
 */
export async function workerCommand(location: string | undefined, options: WorkerCommandOptions): Promise<number> {
  const db = chooseDatabase(options.db ?? location);
  const store = await openStore(db, 'write');
  // Ctrl-C at any moment, between pools too, leaves (the pool puts back the runs it holds).
  const leaving = { now: false };
  const leave = () => (leaving.now = true);
  process.on('SIGINT', leave);
  process.on('SIGTERM', leave);
  try {
    const saved = await store.getSetting<MonitorSettings>('monitor');
    if (!saved)
      throw new MosaicError(
        `${store.location} holds no experiment to join: queue one first with mosaic run CONFIG ${store.location}`,
      );
    const monitor = withLocalSettings(saved, options);
    for (;;) {
      const code = await executePending({
        dbPath: db,
        store,
        monitor,
        progress: options.progress ?? 'auto',
        headline: `worker on ${hostName()} joining ${store.location}`,
        waitForOthers: options.wait === false ? 'none' : 'silent',
      });
      if (leaving.now) return EXIT.interrupted.code;
      if (options.wait !== true || code === EXIT.interrupted.code) return code;
      if (!(await morePending(store, monitor.heartbeat_timeout ?? MONITOR_DEFAULTS.heartbeat_timeout, leaving)))
        return EXIT.interrupted.code;
    }
  } finally {
    process.off('SIGINT', leave);
    process.off('SIGTERM', leave);
    await store.close();
  }
}

function withLocalSettings(saved: MonitorSettings, options: WorkerCommandOptions): MonitorSettings {
  const gpus = options.gpus
    ?.split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  if (saved.need_gpu && gpus?.length === 0) throw new MosaicError('--gpus lists no device (e.g. --gpus cuda:0,cuda:1)');
  return {
    ...saved,
    ...(options.workers ? { nb_processus: options.workers } : {}),
    ...(gpus ? { gpu_available: gpus } : {}),
  };
}

/** Waits until runs are pending (and the experiment not paused): true, or false on Ctrl-C / SIGTERM. */
async function morePending(store: Store, heartbeatTimeout: number, leaving: { now: boolean }): Promise<boolean> {
  console.log(`nothing pending in ${store.location}: waiting for more runs (Ctrl-C to leave)`);
  while (!leaving.now) {
    // Runs of a host that went silent meanwhile are pending again once taken back.
    const reclaimed = await store.reclaimStale(isWorkerAlive, heartbeatTimeout);
    if (reclaimed.length) console.log(takenBack(reclaimed, heartbeatTimeout));
    if ((await store.counts()).pending > 0 && !(await store.isPaused())) return true;
    for (let waited = 0; waited < WAIT_POLL_MS && !leaving.now; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
