interface ExitCode {
  code: number;
  /** What it means, worded to follow the number in the commands' `--help`. */
  meaning: string;
  /** Between a worker process and its scheduler only: no command exits with it. */
  internal?: true;
}

/** Every exit code of Mosaic's processes. The commands' `--help` lists the others in this order. */
export const EXIT = {
  ok: { code: 0, meaning: 'when every run is done' },
  runsFailed: { code: 3, meaning: 'when some ended in error or diverged (see mosaic status)' },
  paused: { code: 4, meaning: 'when paused' },
  storeUnavailable: {
    code: 5,
    meaning: 'when the database could not be used (locked, unreachable, disk full; resume later)',
  },
  interrupted: { code: 130, meaning: 'when interrupted' },
  badInput: { code: 2, meaning: 'on bad input' },
  workerStoreUnavailable: {
    code: 75,
    meaning: 'when a worker process could not use the database: its runs are put back to pending, not failed',
    internal: true,
  },
  workerCrashed: {
    code: 1,
    meaning: 'when a worker process met an unexpected error: its runs are retried or fail as a system failure',
    internal: true,
  },
} as const satisfies Record<string, ExitCode>;

/** The sentence of the commands' `--help` that says their exit codes. */
export const EXIT_CODES_HELP = `Exit code: ${(Object.values(EXIT) as ExitCode[])
  .filter((e) => !e.internal)
  .map((e) => `${e.code} ${e.meaning}`)
  .join(', ')}.`;
