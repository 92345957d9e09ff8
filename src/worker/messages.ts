/** Messages a worker process sends its scheduler over IPC. */
export type WorkerMessage =
  | { type: 'claimed'; runId: number; pipeline: string; epochsDone: number; epochs: number }
  | { type: 'epoch'; runId: number; epoch: number; epochs: number; trainLoss: number; testLoss: number }
  | { type: 'finished'; runId: number; status: 'done' | 'error' | 'diverged'; message?: string }
  /** A claimed run given back: it will be claimed again (by this or another worker). */
  | { type: 'released'; runId: number }
  /** A race's round decided by this worker (`race/advance.ts`): what to say, and how many runs it queued. */
  | { type: 'race'; text: string; queued: number }
  /** The answer to `check`: nothing when the experiment passed, else why not. */
  | { type: 'checked'; failure?: CheckFailure };

/** Why a check failed: the user's mistake (a `MosaicError`, said in one line) or a bug, with its trace. */
export interface CheckFailure {
  message: string;
  user: boolean;
  stack?: string;
}

/**
 * Messages the scheduler sends its workers: `look`, a sibling finished or gave back runs — a
 * worker waiting for runs while its siblings hold some looks at the queue again at once; `go`, to
 * a worker started ahead (`WORKER_ENV.hold`): the database is ready, begin; `check`, to such a
 * worker before `go`: check the experiment of this config file (`engine/preflight`), which has
 * TF.js loaded already, and answer `checked`.
 */
export type SchedulerMessage =
  | { type: 'look' }
  | { type: 'go' }
  | { type: 'check'; configFile: string; build: boolean };

/** Environment a worker process is started with. */
export const WORKER_ENV = {
  db: 'MOSAIC_WORKER_DB',
  id: 'MOSAIC_WORKER_ID',
  device: 'MOSAIC_WORKER_DEVICE',
  /** The most runs a pack may take ([MONITOR] pack_size; 1: no packs). */
  packSize: 'MOSAIC_PACK_SIZE',
  /** [MONITOR] heartbeat_timeout, seconds. */
  heartbeatTimeout: 'MOSAIC_HEARTBEAT_TIMEOUT',
  /** Set: started ahead, while the scheduler checks the experiment; it waits for `go` before opening the database. */
  hold: 'MOSAIC_WORKER_HOLD',
} as const;

/** What is said when runs of a silent host are taken back. */
export const takenBack = (runIds: number[], timeout: number) =>
  `runs ${runIds.join(', ')} had no heartbeat for ${timeout} s: taken back, they continue from their last checkpoint`;
