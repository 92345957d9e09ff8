import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { typedValue } from '../../config/values.js';
import type { ClaimedRun, RunRecorder } from '../../store/types.js';
import type { EpochRecord, LoggedMetric } from '../../core/run-records.js';
import { PROCESS_DEFAULTS } from '../../core/defaults.js';
import type { Batch, BatchSource, RunInfo } from '../../user/contracts.js';
import { RunRandom } from '../../user/random.js';
import { withRunRandom } from './run-random.js';
import { accuracyRule, checkForcedAccuracy } from './accuracy.js';
import { type PassResult, type PassTotals, passTotals } from './pass-totals.js';
import { asBatch, buildChain, type Chain } from '../chain/chain.js';
import { LossFailedError } from '../chain/loss.js';
import { settleBackend, useBuildBackend } from '../backend/backend-choice.js';
import { loadCheckpoint } from '../checkpoints/checkpoint.js';
import { fuseModuleLayers } from './fused-layers.js';
import { DenseStep } from './dense-step.js';
import { assertFinite, commitEpoch, failRun, finishRun, type RunOutcome } from './epoch-end.js';
import { runOptimizer, type RunOptimizer } from '../optimizers/run-optimizer.js';
import { decayFactor, makeOptimizer } from '../optimizers/optimizer.js';
import { checkTargets } from '../chain/targets.js';
import { checkBatchFinite, checkBatchesFinite, nonFiniteWeights } from './finite.js';
import { chainWarnings } from '../chain/warnings.js';
import { withRegularization } from '../chain/regularization.js';

export interface RunProgress {
  runId: number;
  epoch: number;
  epochs: number;
  record: EpochRecord;
}

export interface RunContext {
  store: RunRecorder;
  device?: string;
  onEpoch?: (p: RunProgress) => void;
  /** Says a warning about a run (e.g. a dropout layer with a fixed seed) where the user sees it; it is also stored as the run's `warning` fact. */
  warn?: (runId: number, message: string) => void;
}

export type { RunOutcome } from './epoch-end.js';

/** A run's chain with what its run_info draws from and logs to. */
export interface BuiltRun {
  chain: Chain;
  metrics: EpochMetrics;
  random: RunRandom;
}

/**
 * Executes one claimed run to its end: trains the remaining epochs and stores everything. A
 * user-code exception ends this run only. `built`: its chain, when built already (by a pack that
 * could not be made); it is disposed here.
 */
export async function executeRun(run: ClaimedRun, ctx: RunContext, built?: BuiltRun): Promise<RunOutcome> {
  let chain: Chain | undefined = built?.chain;
  let optimizer: RunOptimizer | undefined;
  try {
    const setting = run.spec.process.backend ?? 'cpu';
    await useBuildBackend(setting);
    const metrics = built?.metrics ?? new EpochMetrics();
    const random = built?.random ?? new RunRandom(run.seed);
    chain ??= await withRunRandom(random, () => buildChain(run.spec, initialRunInfo(run, ctx.device, metrics, random)));
    await settleBackend(ctx.store, [run], setting, chain);
    await warnAbout(run, chain, ctx);
    fuseModuleLayers(chain.models.map((m) => m.module));
    optimizer = runOptimizer(
      makeOptimizer(run.spec.process.optimizer, run.spec.process.lr),
      chain.variables,
      decayFactor(run.spec.process),
    );
    const { history, note } = await train(run, chain, optimizer, metrics, random, ctx);
    return await finishRun(ctx.store, run, history, chain.variables, note);
  } catch (e) {
    return await failRun(ctx.store, run, e);
  } finally {
    dispose(chain, optimizer);
  }
}

/** The warnings about a run's chain (warnings.ts), said and stored as its `warning` fact. */
async function warnAbout(run: ClaimedRun, chain: Chain, ctx: RunContext): Promise<void> {
  const warnings = chainWarnings(chain);
  if (warnings.length === 0) return;
  for (const w of warnings) ctx.warn?.(run.runId, w);
  await ctx.store.recordFacts(run, { warning: warnings.join('; ') });
}

/** Values given to `run_info.log` during one epoch, averaged per name. */
export class EpochMetrics {
  private values = new Map<string, { sum: number; n: number; better: 'higher' | 'lower' }>();

  log = (name: string, value: number | tf.Tensor, better: 'higher' | 'lower' = 'higher'): void => {
    if (typeof name !== 'string' || name.trim() === '')
      throw new Error(`run_info.log: the metric needs a name, got ${JSON.stringify(name)}`);
    if (better !== 'higher' && better !== 'lower')
      throw new Error(`run_info.log("${name}"): better must be 'higher' or 'lower', got ${JSON.stringify(better)}`);
    const v = value instanceof tfjs.Tensor ? value.dataSync()[0]! : value;
    if (typeof v !== 'number')
      throw new Error(`run_info.log("${name}"): the value must be a number or a scalar tensor, got ${typeof v}`);
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

/** `random`: the run's generator, `run_info.random` (one seeded with the run's seed when not given). */
export function initialRunInfo(
  run: ClaimedRun,
  device: string | undefined,
  metrics: EpochMetrics,
  random = new RunRandom(run.seed),
): RunInfo {
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
    run_dir: run.runDir,
    log: metrics.log,
    random: random.next,
    ...(device ? { device } : {}),
  };
}

async function train(
  run: ClaimedRun,
  chain: Chain,
  optimizer: RunOptimizer,
  metrics: EpochMetrics,
  random: RunRandom,
  ctx: RunContext,
): Promise<{ history: EpochRecord[]; note?: string }> {
  const { runInfo, variables } = chain;
  const settings = run.spec.process;
  const history = await ctx.store.history(run.runId);
  if (history.length > 0) {
    const state = await loadCheckpoint(
      runInfo.run_dir,
      run.owner,
      history[history.length - 1]!,
      chain.models.map((m) => m.module),
      variables,
      optimizer,
    );
    optimizer.sync();
    // From an older checkpoint, without it, the draws go on from the chain's build.
    if (state) random.restore(state);
  }
  // The data must be finite: arrays (reused every epoch) are checked whole before any step, other
  // sources batch by batch on their first pass (finite.ts).
  const data = chain.names.data;
  if (Array.isArray(chain.train)) checkBatchesFinite(chain.train, 'train', data);
  if (Array.isArray(chain.test)) checkBatchesFinite(chain.test, 'test', data);
  const firstEpoch = history.length + 1;
  const checkFirstPass = (source: 'train' | 'test', epoch: number) =>
    epoch === firstEpoch && !Array.isArray(chain[source])
      ? (b: Batch, i: number) => checkBatchFinite(b, source, i, data)
      : undefined;
  const sample = await sampleTargets(chain.train);
  const rule = accuracyRule(settings.accuracy ?? PROCESS_DEFAULTS.accuracy, chain.lossCategory, sample);
  const forward = (x: tf.Tensor) => chain.models.reduce((d, m) => m.module.forward(d, runInfo, m.info), x);
  const models = chain.models.map((m) => m.module);
  const modules = [...chain.dataModules, ...models];
  const check = {
    category: chain.lossCategory,
    lossName: chain.names.loss,
    model: chain.names.model,
    data: chain.names.data,
  };
  let firstStep = true;
  // A stack of dense layers steps by its kernels directly, the same numbers (dense-step.ts); the
  // first step, which checks the prediction against the targets, is taped.
  const direct = DenseStep.of(models, variables);

  for (let epoch = history.length + 1; epoch <= run.epochsTarget; epoch++) {
    const started = performance.now();
    runInfo.epoch = epoch;
    // The epoch's own work draws from the run's generator; its bookkeeping below does not.
    const { trainStats, testStats } = await withRunRandom(random, async () => {
      runInfo.training = true;
      const trainStats = await overBatches(
        chain.train,
        (b, totals) => {
          if (direct && !firstStep && direct.takes(b.x)) {
            return direct.trainStep(b.x, b.y, chain.loss, optimizer, (prediction) =>
              totals.addDecisions(prediction, b.y),
            );
          }
          const cost = optimizer.minimize(() => {
            const prediction = forward(b.x);
            if (firstStep) {
              checkTargets(prediction, b.y, sample, check);
              checkForcedAccuracy(
                settings.accuracy ?? PROCESS_DEFAULTS.accuracy,
                prediction.shape,
                [b.y, ...sample],
                data,
              );
            }
            totals.addDecisions(prediction, b.y);
            // The models' regularization losses are part of what is minimised, and of the train loss recorded (as model.fit reports it).
            return withRegularization(
              firstStep ? firstLoss(chain, prediction, b.y) : chain.loss(prediction, b.y),
              models,
            );
          });
          firstStep = false;
          return cost;
        },
        passTotals(rule),
        checkFirstPass('train', epoch),
      );
      runInfo.training = false;
      const testStats = await overBatches(
        chain.test,
        (b, totals) =>
          direct?.takes(b.x)
            ? direct.evaluate(b.x, b.y, chain.loss, (prediction) => totals.addDecisions(prediction, b.y))
            : tfjs.tidy(() => {
                const prediction = forward(b.x);
                totals.addDecisions(prediction, b.y);
                return chain.loss(prediction, b.y);
              }),
        passTotals(rule),
        checkFirstPass('test', epoch),
      );
      for (const m of modules) await m.epochEnd?.(runInfo);
      return { trainStats, testStats };
    });
    const record: EpochRecord = {
      epoch,
      train_loss: trainStats.loss,
      test_loss: testStats.loss,
      train_acc: trainStats.accuracy,
      test_acc: testStats.accuracy,
      duration_s: (performance.now() - started) / 1000,
    };
    const fresh = !Array.isArray(chain.train) || !Array.isArray(chain.test);
    assertFinite(record, await nonFiniteWeights(chain), fresh && epoch > firstEpoch ? 'first epoch' : 'all');
    const note = await commitEpoch({
      run,
      store: ctx.store,
      runDir: runInfo.run_dir,
      models: chain.models.map((m) => m.module),
      variables,
      optimizerState: await optimizer.state(),
      random: random.state(),
      record,
      metrics: metrics.take(),
      history,
      ...(ctx.onEpoch ? { onEpoch: ctx.onEpoch } : {}),
    });
    if (note) return { history, note };
  }
  return { history };
}

/** The loss of the very first batch, with the shapes in the message if the loss itself fails. */
function firstLoss(chain: Chain, prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  try {
    return chain.loss(prediction, target);
  } catch (e) {
    throw new LossFailedError(
      `the loss ${chain.names.loss} failed on the first batch: ${chain.names.model} outputs [${prediction.shape.join(', ')}], the targets of ${chain.names.data} are [${target.shape.join(', ')}]: ${(e as Error).message}`,
      e,
    );
  }
}

/**
 * Runs `step` over every batch (`check` first, when given), which returns the batch's loss and
 * adds its decisions to `totals`; the loss is added there too. Reads the totals once, at the end.
 */
async function overBatches(
  source: BatchSource,
  step: (b: Batch, totals: PassTotals) => tf.Tensor,
  totals: PassTotals,
  check?: (b: Batch, index: number) => void,
): Promise<PassResult> {
  let batches = 0;
  const reusable = Array.isArray(source);
  let lastYield = performance.now();
  // Let timers (heartbeats) and IPC run during long epochs.
  const pause = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    lastYield = performance.now();
  };
  const visit = (item: Batch | [tf.Tensor, tf.Tensor]) => {
    const b = asBatch(item);
    check?.(b, batches);
    const cost = step(b, totals);
    totals.addLoss(cost);
    cost.dispose();
    batches++;
    if (!reusable) tfjs.dispose([b.x, b.y]);
  };
  try {
    if (Symbol.iterator in source) {
      // Not `for await`: its promise and trip through the microtasks per batch (with run-random.ts's
      // async hooks on each) cost the bench MLP ~0.4 ms an epoch.
      for (const item of source) {
        if (performance.now() - lastYield > 1000) await pause();
        visit(isThenable(item) ? await item : item);
      }
    } else {
      for await (const item of source) {
        if (performance.now() - lastYield > 1000) await pause();
        visit(item);
      }
    }
    if (batches === 0)
      throw new Error('a batch source gave no batch (too few samples for the batch size, with drop_last?)');
    return await totals.read();
  } finally {
    totals.dispose();
  }
}

/** An item of a synchronous source that is a promise after all (plain JavaScript): awaited, as `for await` does. */
const isThenable = (item: unknown): item is PromiseLike<Batch | [tf.Tensor, tf.Tensor]> =>
  typeof (item as { then?: unknown } | null)?.then === 'function';

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
    if (Array.isArray(source)) for (const item of source) tfjs.dispose(Object.values(asBatch(item)));
  }
  tfjs.dispose(chain.variables.filter((v) => !v.isDisposed));
}
