import { MosaicError } from '../core/errors.js';

/**
 * The database could not be used (locked too long, connection lost, disk full, server gone): a
 * system failure, never the user's `error`. The message names the database and the cause, and
 * never a password.
 */
export class StoreUnavailableError extends MosaicError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * A worker wrote to a run it no longer holds (it was reclaimed after the worker went silent, or
 * given back): nothing was written; the worker must drop the run.
 */
export class ClaimLostError extends MosaicError {
  constructor(
    readonly runId: number,
    workerId: string,
  ) {
    super(
      `run ${runId} is no longer held by worker ${workerId} (it was reclaimed or given back); nothing was recorded`,
    );
    this.name = 'ClaimLostError';
  }
}
