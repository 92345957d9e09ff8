/** Messages a worker process sends its scheduler over IPC. */
export type WorkerMessage =
  | { type: 'claimed'; runId: number; pipeline: string; epochsDone: number; epochs: number }
  | { type: 'epoch'; runId: number; epoch: number; epochs: number; trainLoss: number; testLoss: number }
  | { type: 'finished'; runId: number; status: 'done' | 'error' | 'diverged'; message?: string }
  /** A claimed run given back: it will be claimed again (by this or another worker). */
  | { type: 'released'; runId: number };

/** Environment a worker process is started with. */
export const WORKER_ENV = {
  db: 'MOSAIC_WORKER_DB',
  id: 'MOSAIC_WORKER_ID',
  device: 'MOSAIC_WORKER_DEVICE',
  /** How many workers the pool has, for a fair size of packs. */
  workers: 'MOSAIC_WORKER_COUNT',
  /** The most runs a pack may take ([MONITOR] pack_size; 1: no packs). */
  packSize: 'MOSAIC_PACK_SIZE',
} as const;

/** A worker marks its run alive this often; a run silent for STALE_SECONDS is reclaimed. */
export const HEARTBEAT_SECONDS = 10;
export const STALE_SECONDS = 600;
