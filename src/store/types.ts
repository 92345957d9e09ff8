import type { ProcessSettings } from '../config/types.js';
import type { PipelineModule } from '../pipelines/generate.js';

/**
 * The store is the queue: `run` enqueues pending runs; workers claim them, record every epoch
 * and finish them. Every backend keeps the original's tables (`system`, `params`, `runs`,
 * `run_results`) so users' SQL keeps working, plus `history` (one row per epoch) and
 * `mosaic_queue` (claims, heartbeats, specs).
 */
export type RunStatus = 'pending' | 'running' | 'done' | 'error' | 'failed' | 'diverged';
export const RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'done', 'error', 'failed', 'diverged'];

/** Everything a worker needs to execute a run, whatever process it is in. */
export interface RunSpec {
  /** Folder of the config file: `path_to_class` values are relative to it. */
  configDir: string;
  process: ProcessSettings;
  modules: PipelineModule[];
  dataCount: number;
}

export interface NewRun {
  spec: RunSpec;
  shortForm: string;
  seed: number;
  /** `params` rows besides status: PROCESS values, pipeline, keys, class parameters. */
  facts: [name: string, value: string][];
}

export interface WorkerIdentity {
  /** Unique per worker process. */
  id: string;
  pid: number;
  /** Host name, so liveness is only judged by pid on the same machine. */
  host: string;
  /** GPU device the worker is pinned to, if any. */
  device?: string;
}

export interface ClaimedRun {
  runId: number;
  spec: RunSpec;
  seed: number;
  shortForm: string;
  /** Epochs already recorded (and checkpointed): training continues after them. */
  epochsDone: number;
  /** Total epochs the run must reach. */
  epochsTarget: number;
}

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
  duration_s: number;
}

export interface RunResults {
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
  nb_params: number;
  duration_s: number;
  epochs: number;
  overfit: number;
  trainability: number;
  slope: number;
  slope_std_plus: number;
  slope_std_minus: number;
}

export interface RunOverview {
  runId: number;
  status: RunStatus;
  pipeline: string;
  returnStatus: string | null;
  traceback: string | null;
  results: RunResults | null;
  epochsDone: number;
  epochsTarget: number;
  device: string | null;
}

export interface Store {
  /** Adds pending runs with new ids, in order; returns the ids. All or nothing. */
  enqueue(runs: NewRun[]): number[];
  /** Atomically takes the lowest pending run, or undefined when none is left. */
  claimNext(worker: WorkerIdentity): ClaimedRun | undefined;
  /** Records a finished epoch (its checkpoint already written). */
  recordEpoch(runId: number, epoch: EpochRecord): void;
  finishRun(runId: number, results: RunResults): void;
  /** `error`: the user's code threw; `failed`: the system failed (worker died). */
  failRun(runId: number, status: 'error' | 'failed', message: string, traceback: string): void;
  /**
   * A worker died holding runs: each is put back to pending (to continue from its checkpoint)
   * while it has been claimed at most `retries` + 1 times, otherwise marked failed with `message`.
   */
  releaseRunsOfDeadWorker(workerId: string, message: string, retries: number): { failed: number[]; retried: number[] };
  /** Puts back to pending every run a worker still holds (interrupted, not failed); returns their ids. */
  requeueRunsOfWorker(workerId: string): number[];
  /** Marks a claimed run as alive. */
  heartbeat(runId: number): void;
  /**
   * Runs left `running` by workers that are gone (pid dead on this host, or no heartbeat for
   * `staleSeconds`) go back to pending; returns their ids.
   */
  reclaimStale(isAlive: (host: string, pid: number) => boolean, staleSeconds: number): number[];
  /** Pause: workers stop claiming (running runs finish). */
  setPaused(paused: boolean): void;
  isPaused(): boolean;
  /** Settings kept for later commands (resume needs the experiment's [MONITOR]). */
  setSetting(name: string, value: unknown): void;
  getSetting<T>(name: string): T | undefined;
  /** Continue finished runs for `moreEpochs`: target = epochs done + moreEpochs, status pending. */
  extendRuns(runIds: number[], moreEpochs: number): void;
  /** Run ids returned by the user's read-only SQL. */
  queryRunIds(sql: string): number[];
  /** Run ids whose params fact `name` compares to `value` (numerically for < and >). */
  runIdsByParam(name: string, op: '=' | '<=' | '>=', value: string): number[];
  allRunIds(): number[];
  /** The `params` facts of a run. */
  facts(runId: number): Record<string, string>;
  /** Replaces facts of runs (rekey). */
  updateFacts(changes: { runId: number; name: string; value: string }[]): void;
  /** A consistent copy of the whole database, even while workers write. */
  copyTo(file: string): void;
  history(runId: number): EpochRecord[];
  /** Histories of many runs at once, by run id. */
  histories(runIds: number[]): Map<number, EpochRecord[]>;
  /** Every run's facts (params) by run id, for analysis. */
  allFacts(): Map<number, Record<string, string>>;
  overview(runIds?: number[]): RunOverview[];
  /** Number of runs in each status. */
  counts(): Record<RunStatus, number>;
  close(): void;
}
