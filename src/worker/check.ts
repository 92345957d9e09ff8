/**
 * The checks of `mosaic run` (`engine/preflight`), run in a worker started ahead: it has TF.js
 * loaded already, so `mosaic run` itself never loads it, and the check's builds do not compete
 * for the CPU with the workers' start.
 */
import { readConfigFile } from '../config/load.js';
import { MosaicError } from '../core/errors.js';
import { preflight } from '../engine/preflight/preflight.js';
import type { CheckFailure } from './messages.js';

/** The experiment of `configFile` checked as `mosaic run` checks it: nothing, or why it fails. */
export async function checkExperiment(configFile: string, build: boolean): Promise<{ failure?: CheckFailure }> {
  try {
    await preflight(readConfigFile(configFile), { build });
    return {};
  } catch (e) {
    if (e instanceof MosaicError) return { failure: { message: e.message, user: true } };
    const error = e instanceof Error ? e : new Error(String(e));
    return { failure: { message: error.message, user: false, ...(error.stack ? { stack: error.stack } : {}) } };
  }
}
