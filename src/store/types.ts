import type { NewRun, RunSpec } from '../core/run-spec.js';
import type { EpochRecord, LoggedMetric, RunStatus } from '../core/run-records.js';
import type { RunResults } from '../core/result-fields.js';

/**
 * The store is the queue: `run` enqueues pending runs; workers claim them, record every epoch
 * and finish them. Every backend keeps the original's tables (`system`, `params`, `runs`,
 * `run_results`) so users' SQL keeps working, plus `history` (one row per epoch) and
 * `mosaic_queue` (claims, heartbeats, specs).
 */

export interface WorkerIdentity {
  /** Unique per worker process. */
  id: string;
  pid: number;
  /** Host name, so liveness is only judged by pid on the same machine. */
  host: string;
  /** GPU device the worker is pinned to, if any. */
  device?: string;
}

/** A run a worker holds: its run id and worker id are its claim (what the recorder checks). */
export interface ClaimedRun extends Claim {
  /** This run's own folder of checkpoints: under run_files_path, in a folder of this database's own. */
  runDir: string;
  /** Who the checkpoints belong to: written into each checkpoint and checked before one is loaded. */
  owner: CheckpointOwner;
  spec: RunSpec;
  seed: number;
  shortForm: string;
  /** Epochs already recorded (and checkpointed): training continues after them. */
  epochsDone: number;
  /** Total epochs the run must reach. */
  epochsTarget: number;
  /** The run's pack key as stored with it (what `claimPack` matches). */
  packKey: string;
}

export interface CheckpointOwner {
  /** Random identity of the database, made when it was created. */
  storeId: string;
  /** The database as a user names it (its file), for messages. */
  store: string;
  runId: number;
  /** When the database is a copy (`mosaic savedb`): of which database, when, for messages. */
  copyOf?: string;
}

/** What a run records about where it came from (`mosaic_experiments`). */
export interface ExperimentRecord {
  configFile: string;
  configText: string;
  configHash: string;
  /** sha256 of every user file the experiment loads, by path. */
  userFiles: Record<string, string>;
  mosaicVersion: string;
  gitCommit: string | null;
}

/** A failed attempt of a run (error, system failure, divergence), kept apart from its results. */
export interface FailedAttempt {
  attempt: number;
  epoch: number;
  status: 'error' | 'failed' | 'diverged';
  message: string;
  at: number;
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
  /** The last epoch's value of each metric the run logged. */
  metrics: Record<string, number | null>;
  /** The latest failed attempt, if any (a continuation that failed leaves a done run done). */
  lastFailure: FailedAttempt | null;
}

/** A pending or running run as live views see it (`StoreReader.openRuns`). */
export interface OpenRun {
  runId: number;
  status: 'pending' | 'running';
  pipeline: string;
  epochsDone: number;
  epochsTarget: number;
  device: string | null;
  /** The last recorded epoch (running runs only; null before the first). */
  last: EpochRecord | null;
  /** The claim's last sign of life, by the database's clock (seconds since 1970), for running runs. */
  heartbeatAt: number | null;
  /** Seconds since that heartbeat, by the database's clock (running runs only). */
  silentSeconds: number | null;
  /** The host holding the claim (running runs only). */
  host: string | null;
}

/** What a worker holds while it trains a run: the run and its own identity (the claim's owner). */
export interface Claim {
  runId: number;
  workerId: string;
}

/**
 * The queue role: workers and schedulers take, keep alive and give back runs.
 *
 * Who may write to a `running` run: only the worker holding its claim (`mosaic_queue.worker`)
 * records its epochs, results and failure (the recorder's calls take the claim and refuse with
 * `ClaimLostError` once it is no longer held, changing nothing). Anyone else may only take the run
 * back — the scheduler when the claim's process is dead on its own host, any worker when the run
 * has not heart-beaten for the timeout — and it is then pending again, to continue from its last
 * checkpoint. Times (claims, heartbeats, staleness) come from the database's clock.
 */
export interface RunQueue {
  /**
   * Atomically takes the lowest pending run and up to `max` − 1 more pending runs of the same
   * `packKey` (same data chain, training settings and model slots) at the same epoch and with
   * the same target, to be trained together as a pack. Empty when no run is pending (or paused).
   * Concurrent claims never take the same run. A lowest run for which `alone` is true (of a
   * model the worker found it cannot pack) is taken by itself.
   */
  claimPack(
    worker: WorkerIdentity,
    max: number,
    alone?: (run: Pick<ClaimedRun, 'packKey' | 'spec'>) => boolean,
  ): Promise<ClaimedRun[]>;
  /** Gives claimed runs back (pending, their claim not counted): the worker will not train them now. */
  releaseRuns(claims: Claim[]): Promise<void>;
  /** Marks claimed runs alive (those still held by the worker). */
  heartbeat(claims: Claim[]): Promise<void>;
  /**
   * A worker died holding runs: each is put back to pending (to continue from its checkpoint)
   * while it has been claimed at most `retries` + 1 times, otherwise marked failed with `message`.
   */
  releaseRunsOfDeadWorker(
    workerId: string,
    message: string,
    retries: number,
  ): Promise<{ failed: number[]; retried: number[] }>;
  /** Puts back to pending every run a worker still holds (interrupted, not failed); returns their ids. */
  requeueRunsOfWorker(workerId: string): Promise<number[]>;
  /**
   * Runs left `running` by workers that are gone (pid dead on this host, or no heartbeat for
   * `staleSeconds` by the database's clock) go back to pending; returns their ids.
   */
  reclaimStale(isAlive: (host: string, pid: number) => boolean, staleSeconds: number): Promise<number[]>;
  isPaused(): Promise<boolean>;
  /** Number of runs in each status. */
  counts(): Promise<Record<RunStatus, number>>;
  /** How many workers hold running runs now. */
  busyWorkers(): Promise<number>;
  /**
   * Records a worker process as live now (by the database's clock), or again: the workers of
   * every host, idle ones included, are what a claim shares the pending runs among.
   */
  markWorkerAlive(worker: WorkerIdentity): Promise<void>;
  /** A worker process left: it no longer counts among the live workers. */
  forgetWorker(workerId: string): Promise<void>;
  /** Live workers (marked alive within `liveSeconds`, any host) that hold no running run. */
  idleWorkers(liveSeconds: number): Promise<number>;
}

/** The recorder role: what a worker writes about the runs it holds (see RunQueue for the rule). */
export interface RunRecorder {
  /** The identity of this database, kept in it: checkpoints are filed and checked by it. */
  identity(): Promise<StoreIdentity>;
  /** The recorded epochs of a run (to continue after them). */
  history(runId: number): Promise<EpochRecord[]>;
  /** Records a finished epoch (its checkpoint already written) and the metrics logged in it, at once. */
  recordEpoch(claim: Claim, epoch: EpochRecord, metrics?: LoggedMetric[]): Promise<void>;
  /** `note` replaces the return status `ok` (e.g. early stopping). */
  finishRun(claim: Claim, results: RunResults, note?: string): Promise<void>;
  /**
   * An attempt ended badly: `error` the user's code threw, `failed` the system failed, `diverged`
   * the loss became NaN or infinite. The attempt is recorded in `mosaic_failures`. A run that
   * already had results (a continuation by rerun) keeps them and goes back to `done`; otherwise it
   * takes `status`. Returns the status it has now.
   */
  failRun(
    claim: Claim,
    status: 'error' | 'failed' | 'diverged',
    message: string,
    traceback: string,
  ): Promise<RunStatus>;
  /** Adds or replaces facts (`params` rows) of a run the worker holds (e.g. the backend it chose). */
  recordFacts(claim: Claim, facts: Record<string, string>): Promise<void>;
}

/** The reader role: status, analysis and the dashboard. Never writes. */
export interface StoreReader {
  /** The database as a user names it, without any password. */
  readonly location: string;
  /**
   * Set for a database written by the original Mosaic (Python), read as it is (`original-reader.ts`):
   * one sentence saying what it lacks (per-epoch histories: the original kept them in `.pt` files),
   * which the commands that read it say once. Such a database is never opened for writing.
   */
  readonly notice?: string;
  identity(): Promise<StoreIdentity>;
  counts(): Promise<Record<RunStatus, number>>;
  isPaused(): Promise<boolean>;
  busyWorkers(): Promise<number>;
  /** Where the running runs are held: the host and process of each claim. */
  runningClaims(): Promise<{ host: string; pid: number }[]>;
  getSetting<T>(name: string): Promise<T | undefined>;
  /** Run ids returned by the user's SQL, run read-only (with a time limit where the backend has one). */
  queryRunIds(sql: string): Promise<number[]>;
  allRunIds(): Promise<number[]>;
  /** Whether higher or lower is better, for each metric runs have logged. */
  metricDirections(): Promise<Record<string, 'higher' | 'lower'>>;
  /** The `params` facts of a run. */
  facts(runId: number): Promise<Record<string, string>>;
  /** Every run's facts (params) by run id, for analysis. */
  allFacts(): Promise<Map<number, Record<string, string>>>;
  history(runId: number): Promise<EpochRecord[]>;
  /** Histories of many runs at once, by run id. */
  histories(runIds: number[]): Promise<Map<number, EpochRecord[]>>;
  overview(runIds?: number[]): Promise<RunOverview[]>;
  /**
   * The pending and running runs, cheaply (live views poll it about once a second): epochs done
   * and target, and for running runs their device, last epoch and last heartbeat.
   */
  openRuns(): Promise<OpenRun[]>;
  /** The folder of a run's checkpoints, or null for an unknown run. */
  runDir(runId: number): Promise<string | null>;
  /** A consistent copy of the whole database into a new SQLite file, even while workers write. */
  copyTo(file: string): Promise<void>;
  /** 'ok', or what a check of the database's consistency found wrong. */
  integrityCheck(): Promise<string>;
  /** Every recorded round of every race (`recordRaceRound`), by data key, round and order of decision. */
  raceRounds(): Promise<RaceRoundRow[]>;
  close(): Promise<void>;
}

/** The admin role: commands that change an experiment (run, rerun, rekey, delete, pause). */
export interface StoreAdmin {
  /**
   * Adds pending runs with new ids, in order, and the experiment they come from (the `experiment`
   * fact of each run names it); returns the ids. All or nothing.
   */
  enqueue(runs: NewRun[], experiment?: ExperimentRecord): Promise<number[]>;
  /** Seeds of every run already in the database. */
  usedSeeds(): Promise<Set<number>>;
  /** Pause: workers stop claiming (running runs finish). */
  setPaused(paused: boolean): Promise<void>;
  /** Settings kept for later commands (resume needs the experiment's [MONITOR]). */
  setSetting(name: string, value: unknown): Promise<void>;
  /**
   * Continue finished runs for `moreEpochs`: target = epochs done + moreEpochs, status pending;
   * the `epochs` fact says the new total. `earlyStopping: false` trains them without early
   * stopping from now on (the spec they run with loses `early_stopping`).
   */
  extendRuns(runIds: number[], moreEpochs: number, options?: { earlyStopping?: boolean }): Promise<void>;
  /**
   * Puts runs that failed for the system's reasons (status `failed`: worker killed, retries
   * exhausted) back to pending, to continue from their last checkpoint; returns their ids.
   */
  retryFailedRuns(): Promise<number[]>;
  /** Removes runs from every table; returns their checkpoint folders (for the caller to delete, if it owns them). */
  deleteRuns(runIds: number[]): Promise<{ runId: number; runDir: string }[]>;
  /**
   * Makes this database (a fresh `copyTo` of `original`) a database of its own: a new identity,
   * `system.copy_of` saying of which database and when, and every run's folder moved (in the
   * queue only) to a folder of its own beside the original's, named after `copyLocation` (where
   * the copy will be). Returns the new identity and the moves; the caller copies the folders or
   * not. Never called on a database workers use.
   */
  becomeCopyOf(original: StoreIdentity, copyLocation: string): Promise<{ storeId: string; moves: RunFolderMove[] }>;
  /** Replaces facts of runs (rekey). */
  updateFacts(changes: { runId: number; name: string; value: string }[]): Promise<void>;
  /**
   * Copies finished runs read from another database (`mosaic import`: the original Mosaic's) into
   * this one, which must hold no run yet (a MosaicError otherwise, nothing written): their ids,
   * statuses, pipelines, facts and results as given, and the experiment they come from (each run's
   * `experiment` fact names it). They get no queue entry: Mosaic has neither their spec nor their
   * checkpoints, so they are never claimed nor continued. All or nothing.
   */
  importRuns(runs: ImportedRun[], experiment: ExperimentRecord): Promise<void>;
  /**
   * Records one round of a race in a data key and queues its next repeats, in one transaction:
   * `rows`, the round's decisions (all of one data key and round, the best's first), and for each
   * of `repeats` a new pending run of the configuration of `templateRunId` (its spec, pipeline and
   * facts but those of its outcome, `OUTCOME_FACTS`) as repeat `repeat`, with `seed`, or when it
   * is not given a seed no run of the database has. A round is recorded once, and only after the
   * one before it: when it is recorded already (another worker decided it first) or the previous
   * one is not, nothing is written and null is returned; otherwise the new runs' ids.
   */
  recordRaceRound(rows: RaceRoundRecord[], repeats: RaceRepeat[]): Promise<number[] | null>;
}

/** A group's decision at one round of a race in a data key (`mosaic_race`; issue 22). */
export type RaceDecision = 'best' | 'eliminated' | 'equivalent' | 'undecided';

export interface RaceRoundRecord {
  dataKey: string;
  /** 1 for the look after min_repeats repeats, then one per round. */
  round: number;
  /** The configuration: its runs' pipeline (short form). */
  group: string;
  decision: RaceDecision;
  /** Values of the criterion the group had at this look. */
  n: number;
  mean: number | null;
  /** Against the best (null on the best's row): the difference of means (paired: mean difference), the test's two-sided p, TOST's p with a rope. */
  diff: number | null;
  p: number | null;
  equivalenceP: number | null;
  /** The level every test of this round was held to: α / (looks · pairs). */
  threshold: number;
  /**
   * On the best's row: why the race in this data key ended at this round — `decided` (every
   * configuration), `max-repeats`, `budget` (max_runs), `no-criterion` (no run had a value) —;
   * null while it goes on.
   */
  over: string | null;
}

/** A recorded decision, with when it was taken (the database's clock, seconds since 1970). */
export interface RaceRoundRow extends RaceRoundRecord {
  decidedAt: number;
}

/** A race's next repeat of a configuration, made like one of its runs. */
export interface RaceRepeat {
  templateRunId: number;
  /** Its repeat index (from 0), the `repeat` fact. */
  repeat: number;
  /** Its seed; omitted, a seed no run of the database has. */
  seed?: number;
}

/** A finished run of another database, as `StoreAdmin.importRuns` copies it. */
export interface ImportedRun {
  runId: number;
  status: Exclude<RunStatus, 'pending' | 'running'>;
  pipeline: string;
  returnStatus: string | null;
  facts: Record<string, string>;
  results: RunResults | null;
}

export interface StoreIdentity {
  /** Random identity of the database, made when it was created. */
  storeId: string;
  /** The database as a user names it (its file, or its URL without password), for messages. */
  store: string;
  /** Set in a copy made by `mosaic savedb`: "<store> (database <id>) at <time>". */
  copyOf?: string;
}

/** Where a copy's run folder is, and where the original's was. */
export interface RunFolderMove {
  runId: number;
  from: string;
  to: string;
}

/** Every role at once: what a command that writes opens. */
export interface Store extends RunQueue, RunRecorder, StoreReader, StoreAdmin {}
