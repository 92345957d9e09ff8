import { plural } from '../core/wording.js';
import type { MonitorSettings } from '../config/types.js';
import type { OpenRun, Store } from '../store/types.js';
import { heartbeatText, isSilent } from '../core/heartbeat.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import { runPool, type WarmWorkers, workerSlots } from '../worker/pool.js';
import { takenBack } from '../worker/messages.js';
import { BarReporter, LineReporter, type Reporter } from '../worker/reporter.js';
import { hostName, isWorkerAlive } from '../core/host.js';
import { EXIT } from '../core/exit-codes.js';

export type ProgressMode = 'auto' | 'bar' | 'lines';

export interface ExecuteOptions {
  dbPath: string;
  store: Store;
  monitor: MonitorSettings;
  progress?: ProgressMode;
  /** First line shown, e.g. what was queued. */
  headline: string;
  /**
   * What to wait for once nothing is pending: `held` every run other workers hold, taking over
   * those whose worker dies or goes silent (`run`, `resume`, `rerun`); `silent` only the runs of
   * silent hosts (no heartbeat for a third of the timeout), to take them back at the timeout and
   * train them (`mosaic worker`: it leaves runs that live workers hold to them); `none`, nothing
   * (`--no-wait`). Default `held`.
   */
  waitForOthers?: WaitFor;
  /** Workers started ahead (`mosaic run` starts them before its checks), taken by the first pool. */
  warm?: WarmWorkers;
}

export type WaitFor = 'held' | 'silent' | 'none';

/**
 * `waiting for runs 3, 4 @ host-a: silent for 85 s; taken back at 600 s, then trained here (…)`:
 * the silent runs by host, each host with its most recent heartbeat.
 */
function waitingForSilent(silent: OpenRun[], timeout: number): string {
  const byHost = new Map<string, OpenRun[]>();
  for (const r of silent) byHost.set(r.host ?? '?', [...(byHost.get(r.host ?? '?') ?? []), r]);
  const parts = [...byHost].map(
    ([host, runs]) =>
      `${runs.length === 1 ? 'run' : 'runs'} ${runs.map((r) => r.runId).join(', ')} @ ${host}: ${heartbeatText(Math.min(...runs.map((r) => r.silentSeconds ?? 0)), timeout)}`,
  );
  return `waiting for ${parts.join('; ')}, then training them here (--no-wait leaves them to other workers)`;
}

/**
 * Runs the pending runs of a database to the end with a worker pool: reclaims runs left by dead
 * workers first, shows progress, and says how it ended. Shared by run, resume and rerun.
 * Returns the exit code: ok, runsFailed (some runs in error, failed or diverged), paused, storeUnavailable or interrupted.
 */
export async function executePending(options: ExecuteOptions): Promise<number> {
  const { store, dbPath, monitor } = options;
  const timeout = monitor.heartbeat_timeout ?? MONITOR_DEFAULTS.heartbeat_timeout;
  const reclaimed = await store.reclaimStale(isWorkerAlive, timeout);
  const total = (await store.counts()).pending;
  const workers = Math.min(workerSlots(monitor).length, Math.max(total, 1));
  const useBars = options.progress === 'bar' || (options.progress !== 'lines' && process.stdout.isTTY === true);
  const reporter: Reporter = useBars ? new BarReporter(total, workers) : new LineReporter();
  reporter.log(`${options.headline}; ${plural(workers, 'worker')}`);
  if (reclaimed.length)
    reporter.log(
      `${reclaimed.length} runs left by stopped workers continue from their last checkpoint (ids ${reclaimed.join(',')})`,
    );
  const started = Date.now();
  let summary: Awaited<ReturnType<typeof runPool>>;
  try {
    const launchedRuns = new Set<number>();
    summary = await runPool({ dbPath, store, monitor, total, launchedRuns, reporter, warm: options.warm });
    options.warm?.dispose();
    // Runs may still be held by other live processes (workers of a killed scheduler finishing their
    // step, or another scheduler on this database): wait for them; take over those that die. Runs
    // given back to pending after every worker had left (a pack that could not be made) get
    // another round of workers, as long as a round trains something.
    const waitFor = options.waitForOthers ?? 'held';
    let waitingSaid = false;
    let silentSaid = '';
    // Runs of other hosts (silent, or said to be waited for): taken back, they are said as a worker says it.
    const silentIds = new Set<number>();
    let lastRoundTrained = true;
    const here = hostName();
    while (waitFor !== 'none' && !summary.interrupted && !summary.storeUnavailable && !(await store.isPaused())) {
      // Runs another host holds are taken back by their heartbeat only: said so, whether or not
      // this process had said it waits for them (it may find them past the timeout at first look).
      const open = await store.openRuns();
      for (const r of open) if (r.status === 'running' && r.host !== null && r.host !== here) silentIds.add(r.runId);
      const late = await store.reclaimStale(isWorkerAlive, timeout);
      const counts = await store.counts();
      if (late.length > 0 || (counts.pending > 0 && lastRoundTrained)) {
        if (late.length > 0)
          reporter.log(
            late.every((id) => silentIds.has(id))
              ? takenBack(late, timeout)
              : `${late.length} more runs left by stopped workers continue (ids ${late.join(',')})`,
          );
        const more = await runPool({ dbPath, store, monitor, total, launchedRuns, reporter });
        lastRoundTrained = more.launched > 0;
        summary = {
          ...more,
          launched: summary.launched + more.launched,
          done: summary.done + more.done,
          error: summary.error + more.error,
          failed: summary.failed + more.failed,
          diverged: summary.diverged + more.diverged,
        };
        continue;
      }
      if (counts.running === 0) break;
      // Nothing was taken back since `open` was read: it still says who holds what.
      const silent = open.filter((r) => r.status === 'running' && isSilent(r.silentSeconds ?? 0, timeout));
      if (silent.length > 0) {
        const ids = silent.map((r) => r.runId).join(',');
        if (ids !== silentSaid) reporter.log(waitingForSilent(silent, timeout));
        for (const r of silent) silentIds.add(r.runId);
        silentSaid = ids;
      } else if (waitFor === 'silent') {
        break;
      } else if (!waitingSaid) {
        reporter.log(`waiting for ${counts.running} runs held by other live worker processes`);
        waitingSaid = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    reporter.close();
  }
  const counts = await store.counts();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const all = Object.values(counts).reduce((a, b) => a + b, 0);
  const state = `${counts.done} done, ${counts.error} error, ${counts.failed} failed, ${counts.diverged} diverged, ${counts.running} running elsewhere, ${counts.pending} pending of ${all} runs`;
  if (summary.storeUnavailable) {
    console.log(
      `stopped after ${seconds} s: the database could not be used (see the worker's message above); ${summary.requeued} runs put back to pending, nothing recorded is lost. Database: ${state}. Continue with: mosaic resume ${store.location}`,
    );
    return EXIT.storeUnavailable.code;
  }
  if (summary.interrupted) {
    console.log(
      `interrupted after ${seconds} s (${summary.requeued} runs put back to pending). Database: ${state}. Continue with: mosaic resume ${store.location}`,
    );
    return EXIT.interrupted.code;
  }
  if (await store.isPaused()) {
    console.log(`paused after ${seconds} s. Database: ${state}. Continue with: mosaic resume ${store.location}`);
    return EXIT.paused.code;
  }
  console.log(
    `finished in ${seconds} s: ${summary.done} done, ${summary.error} error, ${summary.failed} failed, ${summary.diverged} diverged. Database: ${state}. See: mosaic status ${store.location}`,
  );
  return summary.error + summary.failed + summary.diverged > 0 || counts.error + counts.failed + counts.diverged > 0
    ? EXIT.runsFailed.code
    : EXIT.ok.code;
}
