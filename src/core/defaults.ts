import type { ProcessSettings } from './run-spec.js';

/**
 * The value of each `[PROCESS]` and `[MONITOR]` key a config may leave out: what the config reads
 * (`config/load.ts`), and what a worker takes when its environment or a stored setting lacks one.
 */
export const PROCESS_DEFAULTS = {
  lr: 1e-3,
  optimizer: 'adam',
  backend: 'auto',
  accuracy: 'auto',
  min_delta: 0,
  /** Relative to the config file's folder. */
  run_files_path: '.runs',
} as const satisfies Partial<Record<keyof ProcessSettings, unknown>>;

export const MONITOR_DEFAULTS = {
  nb_processus: 1,
  multiplicity: 1,
  paired: false,
  need_gpu: false,
  retries: 0,
  /** The most runs of one structure trained together as a pack. */
  pack_size: 64,
  /** Seconds without a heartbeat after which any worker takes a running run back. */
  heartbeat_timeout: 600,
} as const;
