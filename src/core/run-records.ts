/** What a run is and records, epoch by epoch and at its end: the words every layer shares. */
export type RunStatus = 'pending' | 'running' | 'done' | 'error' | 'failed' | 'diverged';
export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'done', 'error', 'failed', 'diverged'];

/** A metric of the user's own (`run_info.log`), averaged over the calls of one epoch. */
export interface LoggedMetric {
  name: string;
  value: number;
  better: 'higher' | 'lower';
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
  duration_s: number;
}

/**
 * Facts a run gains once queued — where and how it ran, how it ended (written by the queue, the
 * recorder and the engine) — never part of its configuration: a race's next repeat of a
 * configuration copies its facts from a finished run without these.
 */
export const OUTCOME_FACTS: ReadonlySet<string> = new Set([
  'status',
  'host',
  'device',
  'backend_used',
  'warning',
  'epochs_done',
  'stopped_epoch',
  'traceback',
  'diverged_epoch',
  'last_failure',
  'epochs_before_rerun',
]);
