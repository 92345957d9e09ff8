import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { typedValue } from '../config/values.js';
import type { ClaimedRun, EpochRecord, LoggedMetric, Store } from '../store/types.js';
import type { Batch, BatchSource, RunInfo } from '../user/contracts.js';
import { accuracyFn, accuracyRule } from './accuracy.js';
import { asBatch, buildChain, type Chain } from './chain.js';
import { loadCheckpoint, pruneCheckpoints, saveCheckpoint } from './checkpoint.js';
import { FlatOptimizer } from './flat-optimizer.js';
import { bestEpoch, runResults } from './metrics.js';
import { makeOptimizer } from './optimizer.js';
import { checkTargets } from './targets.js';
import { chooseBackend } from './backend-choice.js';
import { useBackend } from './tf.js';

export interface RunProgress {
  runId: number;
  epoch: number;
  epochs: number;
  record: EpochRecord;
}

export interface RunContext {
  store: Store;
  device?: string;
  onEpoch?: (p: RunProgress) => void;
}

/**
 * How a run ended: `done`; `error` (the user's code threw); `diverged` (the loss became NaN or
 * infinite). A continuation that fails leaves the run's earlier results standing (`kept`).
 */
export type RunOutcome = { status: 'done' } | { status: 'error' | 'diverged'; message: string };

/** The loss is no longer a number: the run stops, its results would be meaningless. */
export class DivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DivergedError';
  }
}

/** Executes one claimed run to its end: trains the remaining epochs and stores everything. A user-code exception ends this run only. */
export async function executeRun(run: ClaimedRun, ctx: RunContext): Promise<RunOutcome> {
  let chain: Chain | undefined;
  let optimizer: FlatOptimizer | undefined;
  try {
    const setting = run.spec.process.backend ?? 'cpu';
    await useBackend(setting === 'auto' ? 'cpu' : setting);
    const metrics = new EpochMetrics();
    chain = await buildChain(run.spec, initialRunInfo(run, ctx.device, metrics));
    // auto: decided from the built model; its tensors move to the chosen backend on first use.
    const choice = setting === 'auto' ? chooseBackend(chain) : { backend: setting, reason: 'set in [PROCESS]' };
    await useBackend(choice.backend);
    ctx.store.updateFacts([{ runId: run.runId, name: 'backend_used', value: `${choice.backend} (${choice.reason})` }]);
    optimizer = new FlatOptimizer(makeOptimizer(run.spec.process.optimizer, run.spec.process.lr), chain.variables);
    const { history, note } = await train(run, chain, optimizer, metrics, ctx);
    const nbParams = chain.variables.reduce((a, v) => a + v.size, 0);
    ctx.store.finishRun(run.runId, runResults(history, nbParams, run.spec.process.min_delta ?? 0), note);
    return { status: 'done' };
  } catch (e) {
    const status = e instanceof DivergedError ? 'diverged' : 'error';
    let message = firstLine(e);
    if (ctx.store.failRun(run.runId, status, message, traceOf(e)) === 'done') {
      message = `the continuation failed (${message}); the run keeps its results of epoch ${run.epochsDone}`;
    }
    return { status, message };
  } finally {
    dispose(chain, optimizer);
  }
}

/** Values given to `run_info.log` during one epoch, averaged per name. */
export class EpochMetrics {
  private values = new Map<string, { sum: number; n: number; better: 'higher' | 'lower' }>();

  log = (name: string, value: number | tf.Tensor, better: 'higher' | 'lower' = 'higher'): void => {
    if (typeof name !== 'string' || name.trim() === '') throw new Error(`run_info.log: the metric needs a name, got ${JSON.stringify(name)}`);
    if (better !== 'higher' && better !== 'lower') throw new Error(`run_info.log("${name}"): better must be 'higher' or 'lower', got ${JSON.stringify(better)}`);
    const v = value instanceof tf.Tensor ? value.dataSync()[0]! : value;
    if (typeof v !== 'number') throw new Error(`run_info.log("${name}"): the value must be a number or a scalar tensor, got ${typeof v}`);
    const m = this.values.get(name) ?? { sum: 0, n: 0, better };
    m.sum += v;
    m.n++;
    m.better = better;
    this.values.set(name, m);
  };

  /** The epoch's metrics, and a fresh start for the next epoch. */
  take(): LoggedMetric[] {
    const out = [...this.values].map(([name, m]) => ({ name, value: m.sum / m.n, better: m.better }));
    this.values.clear();
    return out;
  }
}

export function initialRunInfo(run: ClaimedRun, device: string | undefined, metrics: EpochMetrics): RunInfo {
  const p = run.spec.process;
  const fromProcess = Object.fromEntries(
    Object.entries(p.raw)
      .filter(([k]) => k !== 'data_scheme' && k !== 'pipeline_scheme')
      .map(([k, v]) => [k, typedValue(v)]),
  );
  return {
    ...fromProcess,
    run_id: run.runId,
    seed: run.seed,
    epochs: run.epochsTarget,
    lr: p.lr,
    epoch: 0,
    training: false,
    run_dir: run.runDir ?? path.join(p.run_files_path, `run_${run.runId}`),
    log: metrics.log,
    ...(device ? { device } : {}),
  };
}

async function train(
  run: ClaimedRun,
  chain: Chain,
  optimizer: FlatOptimizer,
  metrics: EpochMetrics,
  ctx: RunContext,
): Promise<{ history: EpochRecord[]; note?: string }> {
  const { runInfo, variables } = chain;
  const settings = run.spec.process;
  const history = ctx.store.history(run.runId);
  if (history.length > 0) {
    await loadCheckpoint(runInfo.run_dir, run.owner, history[history.length - 1]!, chain.models.map((m) => m.module), variables, optimizer);
    optimizer.sync();
  }
  const sample = await sampleTargets(chain.train);
  const accuracy = accuracyFn(accuracyRule(settings.accuracy ?? 'auto', chain.lossCategory, sample));
  const forward = (x: tf.Tensor) => chain.models.reduce((d, m) => m.module.forward(d, runInfo, m.info), x);
  const modules = [...chain.dataModules, ...chain.models.map((m) => m.module)];
  const check = { category: chain.lossCategory, lossName: chain.names.loss, model: chain.names.model, data: chain.names.data };
  let firstStep = true;

  for (let epoch = history.length + 1; epoch <= run.epochsTarget; epoch++) {
    const started = performance.now();
    runInfo.epoch = epoch;
    runInfo.training = true;
    const trainStats = await overBatches(chain.train, (b) => {
      let correct: tf.Scalar | undefined;
      let total = 0;
      const cost = optimizer.minimize(() => {
        const prediction = forward(b.x);
        if (firstStep) checkTargets(prediction, b.y, sample, check);
        if (accuracy) {
          const a = accuracy(prediction, b.y);
          correct = tf.keep(a.correct);
          total = a.total;
        }
        return firstStep ? firstLoss(chain, prediction, b.y) : chain.loss(prediction, b.y);
      });
      firstStep = false;
      return { cost, correct, total };
    });
    runInfo.training = false;
    const testStats = await overBatches(chain.test, (b) =>
      tf.tidy(() => {
        const prediction = forward(b.x);
        const a = accuracy?.(prediction, b.y);
        return { cost: chain.loss(prediction, b.y), correct: a?.correct, total: a?.total ?? 0 };
      }),
    );
    for (const m of modules) await m.epochEnd?.(runInfo);
    const record: EpochRecord = {
      epoch,
      train_loss: trainStats.loss,
      test_loss: testStats.loss,
      train_acc: accuracy ? trainStats.accuracy : null,
      test_acc: accuracy ? testStats.accuracy : null,
      duration_s: (performance.now() - started) / 1000,
    };
    if (!Number.isFinite(record.train_loss) || !Number.isFinite(record.test_loss)) {
      throw new DivergedError(`diverged at epoch ${epoch}: train loss ${record.train_loss}, test loss ${record.test_loss} (lower the learning rate?)`);
    }
    const state = await optimizer.state();
    try {
      await saveCheckpoint(runInfo.run_dir, run.owner, record, chain.models.map((m) => m.module), variables, state);
    } finally {
      tf.dispose(state.filter((t) => t.tensor.rank > 0).map((t) => t.tensor));
    }
    ctx.store.recordEpoch(run.runId, record, metrics.take());
    history.push(record);
    const best = bestEpoch(history, settings.min_delta ?? 0);
    await pruneCheckpoints(runInfo.run_dir, [epoch, best.epoch]);
    ctx.onEpoch?.({ runId: run.runId, epoch, epochs: run.epochsTarget, record });
    if (settings.early_stopping !== undefined && best.waited >= settings.early_stopping) {
      const by = settings.min_delta ? ` by more than ${settings.min_delta}` : '';
      return { history, note: `early stop at epoch ${epoch}: the test loss did not improve${by} for ${settings.early_stopping} epochs (best: epoch ${best.epoch})` };
    }
  }
  return { history };
}

/** The loss of the very first batch, with the shapes in the message if the loss itself fails. */
function firstLoss(chain: Chain, prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  try {
    return chain.loss(prediction, target);
  } catch (e) {
    const err = e as Error;
    const message = `the loss ${chain.names.loss} failed on the first batch: ${chain.names.model} outputs [${prediction.shape.join(', ')}], the targets of ${chain.names.data} are [${target.shape.join(', ')}]: ${err.message}`;
    throw Object.assign(new Error(message), { stack: `Error: ${message}\ncaused by ${err.stack ?? err.message}` });
  }
}

interface StepResult {
  cost: tf.Scalar;
  correct: tf.Scalar | undefined;
  total: number;
}

/** Runs `step` over every batch, summing losses and correct counts on the device; reads them back once. */
async function overBatches(source: BatchSource, step: (b: Batch) => StepResult): Promise<{ loss: number; accuracy: number | null }> {
  let lossSum = tf.scalar(0);
  let correctSum = tf.scalar(0);
  let batches = 0;
  let total = 0;
  const reusable = Array.isArray(source);
  let lastYield = performance.now();
  for await (const item of source) {
    if (performance.now() - lastYield > 1000) {
      // Let timers (heartbeats) and IPC run during long epochs.
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    const b = asBatch(item);
    const r = step(b);
    const nextLoss = tf.tidy(() => lossSum.add(r.cost.rank === 0 ? r.cost : r.cost.mean()));
    lossSum.dispose();
    r.cost.dispose();
    lossSum = nextLoss as tf.Scalar;
    if (r.correct) {
      const nextCorrect = correctSum.add(r.correct);
      correctSum.dispose();
      r.correct.dispose();
      correctSum = nextCorrect as tf.Scalar;
    }
    total += r.total;
    batches++;
    if (!reusable) tf.dispose([b.x, b.y]);
  }
  if (batches === 0) {
    tf.dispose([lossSum, correctSum]);
    throw new Error('a batch source gave no batch (too few samples for the batch size, with drop_last?)');
  }
  const [loss, correct] = [(await lossSum.data())[0]!, (await correctSum.data())[0]!];
  tf.dispose([lossSum, correctSum]);
  return { loss: loss / batches, accuracy: total > 0 ? correct / total : null };
}

/** Targets of the first batches, to choose the accuracy rule. */
export async function sampleTargets(source: BatchSource, max = 64): Promise<tf.Tensor[]> {
  if (!Array.isArray(source)) return [];
  return source.slice(0, max).map((item) => asBatch(item).y);
}

export function dispose(chain: Chain | undefined, optimizer: { dispose(): void } | undefined): void {
  optimizer?.dispose();
  if (!chain) return;
  for (const { module } of chain.models) module.dispose?.();
  for (const d of chain.dataModules) d.dispose?.();
  for (const source of [chain.train, chain.test]) {
    if (Array.isArray(source)) for (const item of source) tf.dispose(Object.values(asBatch(item)));
  }
  tf.dispose(chain.variables.filter((v) => !v.isDisposed));
}

export function firstLine(e: unknown): string {
  const msg = e instanceof Error ? `${e.name === 'Error' || e instanceof DivergedError ? '' : `${e.name}: `}${e.message}` : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}

export function traceOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}
