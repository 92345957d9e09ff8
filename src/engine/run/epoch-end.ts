import { parameterCount } from '../chain/chain.js';
import { LossFailedError } from '../chain/loss.js';
import type * as tf from '@tensorflow/tfjs';
import { ClaimLostError, StoreUnavailableError } from '../../store/errors.js';
import type { ClaimedRun, RunRecorder } from '../../store/types.js';
import type { EpochRecord, LoggedMetric } from '../../core/run-records.js';
import { PROCESS_DEFAULTS } from '../../core/defaults.js';
import type { ModelModule } from '../../user/contracts.js';
import type { RandomState } from '../../user/random.js';
import {
  CheckpointWriteError,
  dropSpareCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
} from '../checkpoints/checkpoint.js';
import { disposeStateCopies, type NamedTensor } from '../optimizers/optimizer-state.js';
import { bestEpoch, runResults } from './metrics.js';

/**
 * What every run does at the end of an epoch and at its end, trained alone (`run.ts`) or in a
 * pack (`pack.ts`): stop on a loss or weights no longer numbers, commit the epoch after its
 * checkpoint, stop early, store its results or its failure.
 */

/** The loss or the weights are no longer numbers: the run stops, its results would be meaningless. */
export class DivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DivergedError';
  }
}

/**
 * How a run ended: `done`; `error` (the user's code threw); `diverged` (the loss or a weight became NaN or
 * infinite); `lost` (another worker took the run over: nothing more was recorded). A continuation
 * that fails leaves the run's earlier results standing.
 */
export type RunOutcome =
  | { status: 'done'; message?: string }
  | { status: 'error' | 'diverged'; message: string }
  | { status: 'lost'; message: string };

/**
 * Stops a run whose loss or weights are no longer finite, saying which: the data were checked
 * finite on the first pass over them (finite.ts), so a non-finite loss is the training's own doing
 * (lower the learning rate?); non-finite weights under a finite loss (an operation such as wasm's
 * fused ReLU maps NaN to 0) are named by their layer, without that hint. `weights`: what
 * `nonFiniteWeights` said of the run's weights at this epoch's end; `dataChecked`: `first epoch`
 * when the batches come fresh every epoch (not an array) and only the first pass was checked.
 */
export function assertFinite(record: EpochRecord, weights?: string, dataChecked: 'all' | 'first epoch' = 'all'): void {
  const at = `diverged at epoch ${record.epoch}`;
  if (!Number.isFinite(record.train_loss) || !Number.isFinite(record.test_loss)) {
    const data = dataChecked === 'all' ? 'on finite data' : 'on data that were finite in the first epoch';
    const also = weights ? `; ${weights}` : '';
    throw new DivergedError(
      `${at}: train loss ${record.train_loss}, test loss ${record.test_loss}, ${data}${also} (lower the learning rate?)`,
    );
  }
  if (weights) {
    throw new DivergedError(
      `${at}: ${weights}, though the losses are finite (train loss ${record.train_loss}, test loss ${record.test_loss}): the results would mean nothing (the losses can hide such weights: a ReLU turns −Infinity into 0, and on wasm NaN too)`,
    );
  }
}

export interface EpochCommit {
  run: ClaimedRun;
  store: RunRecorder;
  runDir: string;
  models: ModelModule[];
  variables: tf.Tensor[];
  /** The optimizer's state for this run's variables (what was made for it is disposed here: `disposeStateCopies`). */
  optimizerState: NamedTensor[];
  /** The state of the run's generator at the epoch's end, kept in the checkpoint. */
  random: RandomState;
  record: EpochRecord;
  metrics: LoggedMetric[];
  /** The run's history so far; the epoch is appended. */
  history: EpochRecord[];
  onEpoch?: (p: { runId: number; epoch: number; epochs: number; record: EpochRecord }) => void;
}

/**
 * Checkpoint first, then the epoch's row (so the store's last epoch always has a checkpoint),
 * then only the last and the best checkpoints kept. Returns the early-stopping note when the run
 * must stop here.
 */
export async function commitEpoch(c: EpochCommit): Promise<string | undefined> {
  const settings = c.run.spec.process;
  try {
    await saveCheckpoint(c.runDir, c.run.owner, c.record, c.models, c.variables, c.optimizerState, c.random);
  } finally {
    disposeStateCopies(c.optimizerState);
  }
  await c.store.recordEpoch(c.run, c.record, c.metrics);
  c.history.push(c.record);
  const best = bestEpoch(c.history, settings.min_delta ?? PROCESS_DEFAULTS.min_delta);
  await pruneCheckpoints(c.runDir, c.run.owner, [c.record.epoch, best.epoch]);
  c.onEpoch?.({ runId: c.run.runId, epoch: c.record.epoch, epochs: c.run.epochsTarget, record: c.record });
  // The checkpoint's files and the store are written synchronously: let the worker's messages and
  // timers run once an epoch (a scheduler gone, a pause, the heartbeat), or a worker whose scheduler
  // was killed trains its run to the end.
  await new Promise((resolve) => setImmediate(resolve));
  if (settings.early_stopping === undefined || best.waited < settings.early_stopping) return undefined;
  const by = settings.min_delta ? ` by more than ${settings.min_delta}` : '';
  // Patience counts over the whole history: a continuation of a run that stopped early stops again at once.
  const again =
    c.run.epochsDone > 0 && c.record.epoch === c.run.epochsDone + 1
      ? '; it had stopped early already (rerun with --no-early-stopping to train past the stop)'
      : '';
  return `early stop at epoch ${c.record.epoch}: the test loss did not improve${by} for ${settings.early_stopping} epochs (best: epoch ${best.epoch})${again}`;
}

/** The run's results from its history, stored with the run done (`note`: why it stopped early). */
export async function finishRun(
  store: RunRecorder,
  run: ClaimedRun,
  history: EpochRecord[],
  variables: tf.Tensor[],
  note?: string,
): Promise<RunOutcome> {
  try {
    dropSpare(run);
    await store.finishRun(
      run,
      runResults(history, parameterCount(variables), run.spec.process.min_delta ?? PROCESS_DEFAULTS.min_delta),
      note,
    );
    return note ? { status: 'done', message: note } : { status: 'done' };
  } catch (e) {
    return failRun(store, run, e);
  }
}

/** The run's folder without its spare file, as a run that ended leaves it (a file that cannot be removed is left: it holds nothing). */
function dropSpare(run: ClaimedRun): void {
  try {
    dropSpareCheckpoint(run.runDir, run.owner);
  } catch {}
}

/**
 * A failed attempt, stored: the run in error or diverged, or back to done if it had results. The
 * database failing is not the run's failure: it is thrown on, and the worker stops (the run is
 * reclaimed later); a run another worker took over is left to it.
 */
export async function failRun(store: RunRecorder, run: ClaimedRun, e: unknown): Promise<RunOutcome> {
  if (e instanceof StoreUnavailableError) throw e;
  if (e instanceof ClaimLostError) return { status: 'lost', message: e.message };
  const status = e instanceof DivergedError ? 'diverged' : 'error';
  dropSpare(run);
  let message = firstLine(e);
  try {
    const now = await store.failRun(run, status, message, traceOf(e));
    if (now === 'done')
      message = `the continuation failed (${message}); the run keeps its results of epoch ${run.epochsDone}`;
  } catch (stored) {
    if (stored instanceof ClaimLostError) return { status: 'lost', message: stored.message };
    throw stored;
  }
  return { status, message };
}

/** Errors whose message says what failed in Mosaic's words: stored without their class's name. */
const WORDED = [DivergedError, CheckpointWriteError, LossFailedError];

export function firstLine(e: unknown): string {
  const msg =
    e instanceof Error
      ? `${e.name === 'Error' || WORDED.some((c) => e instanceof c) ? '' : `${e.name}: `}${e.message}`
      : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}

/** The trace stored with a failure: the error's stack, then its causes'. */
export function traceOf(e: unknown, seen = new Set<unknown>()): string {
  if (!(e instanceof Error)) return String(e);
  seen.add(e);
  const trace = e.stack ?? `${e.name}: ${e.message}`;
  return e.cause === undefined || seen.has(e.cause) ? trace : `${trace}\ncaused by ${traceOf(e.cause, seen)}`;
}
