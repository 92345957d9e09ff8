import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { ClaimedRun, RunQueue } from '../../store/types.js';
import type { EpochRecord } from '../../core/run-records.js';
import { PROCESS_DEFAULTS } from '../../core/defaults.js';
import { accuracyRule, checkForcedAccuracy, replicaAccuracyFn } from '../run/accuracy.js';
import { settleBackend, useBuildBackend } from '../backend/backend-choice.js';
import { asBatch, buildChain, type Chain } from '../chain/chain.js';
import { loadCheckpoint } from '../checkpoints/checkpoint.js';
import { disposeStateCopies, type NamedTensor } from '../optimizers/optimizer-state.js';
import { assertFinite, commitEpoch, failRun, finishRun, firstLine, type RunOutcome } from '../run/epoch-end.js';
import { FlatOptimizer } from '../optimizers/flat-optimizer.js';
import { decayFactor, makeOptimizer } from '../optimizers/optimizer.js';
import {
  packForward,
  packModel,
  replicaOf,
  stackPadded,
  stackVariables,
  unpackable,
  type PackModel,
} from './pack-model.js';
import { EpochAccuracy, overPackBatches, packStepper, type PackBatch } from './pack-step.js';
import { dispose, EpochMetrics, executeRun, initialRunInfo, sampleTargets, type RunContext } from '../run/run.js';
import { withRunRandom } from '../run/run-random.js';
import { RunRandom } from '../../user/random.js';
import { checkTargets } from '../chain/targets.js';
import { checkBatchesFinite, nonFiniteReplicaWeights } from '../run/finite.js';

/**
 * A run of a pack: its own chain (seed, initial weights, data order), history, metrics and
 * generator. A packed model draws nothing while it trains (dense and activation layers, Mosaic's
 * forward, array batches, no hooks: pack-model.ts), so a member's generator is used by its chain's
 * build only, as alone, and its state goes to each checkpoint unchanged.
 */
interface Member {
  run: ClaimedRun;
  chain: Chain;
  metrics: EpochMetrics;
  random: RunRandom;
  history: EpochRecord[];
  /** Undefined while it trains; its outcome once it has ended (diverged, stopped early, error). */
  outcome?: RunOutcome;
}

export interface PackContext extends RunContext {
  store: RunContext['store'] & Pick<RunQueue, 'releaseRuns'>;
  /**
   * Says why runs claimed together are trained one by one: `runs` are those the reason is about
   * (the first's model alike, or all of them when the reason is their data or loss).
   */
  notPacked?: (runs: ClaimedRun[], reason: string) => void;
  /** The runs that train, once that is known (the runs given back are not among them). */
  started?: (runs: ClaimedRun[]) => Promise<void>;
}

/**
 * What runs alike in everything a pack depends on share (their pack key and their model sections
 * with every parameter): what one of them cannot be packed for, none of them can.
 */
export const modelKey = (run: Pick<ClaimedRun, 'packKey' | 'spec'>): string =>
  JSON.stringify([run.packKey, run.spec.modules.slice(run.spec.dataCount)]);

/**
 * Trains runs of one structure (claimed together: only their seeds differ) as one batched model
 * when their model allows it: weights stacked along a replica axis, one batched matMul per layer,
 * one loss per replica summed (so each replica's gradient is its own), one optimizer step for all
 * (every tf optimizer is element-wise, so each replica's update is its own too). Each run keeps its
 * seed, initial weights, data order, history, checkpoint (the same files as alone, so it may
 * continue alone), results and status. A pack that cannot be built gives back all but its first
 * run and trains that one alone. A run claimed alone whose model could be packed trains as a pack
 * of one (on cpu, a dense stack then takes plain JavaScript steps, pack-step.ts).
 */
export async function executePack(runs: ClaimedRun[], ctx: PackContext): Promise<Map<number, RunOutcome>> {
  const outcomes = new Map<number, RunOutcome>();
  const setting = runs[0]!.spec.process.backend ?? 'cpu';
  await useBuildBackend(setting);
  let built: Member[] = [];
  let plan: ReturnType<typeof packModel>;
  // The runs the reason of a plan that is no pack is about: all of them, unless the first's own model is the reason.
  let whose = runs;
  try {
    let why: string | undefined;
    for (const run of runs) {
      const metrics = new EpochMetrics();
      const random = new RunRandom(run.seed);
      built.push({
        run,
        metrics,
        random,
        chain: await withRunRandom(random, () =>
          buildChain(run.spec, initialRunInfo(run, ctx.device, metrics, random)),
        ),
        history: await ctx.store.history(run.runId),
      });
      // The first run's model decides whether a pack is possible at all: no need to build the others if not.
      if (built.length === 1) why = unpackable(built[0]!.chain);
      if (why) {
        whose = runs.filter((r) => modelKey(r) === modelKey(run));
        break;
      }
    }
    plan =
      why ??
      packModel(
        built.map((m) => m.chain),
        runs[0]!.spec.process.loss_function,
      );
  } catch (e) {
    if (runs.length === 1) {
      // A run claimed alone whose chain cannot be built: its failure, as training it alone would record it.
      for (const m of built) dispose(m.chain, undefined);
      await ctx.started?.(runs);
      outcomes.set(runs[0]!.runId, await failRun(ctx.store, runs[0]!, e));
      return outcomes;
    }
    plan = `building the runs failed (${firstLine(e)})`;
  }
  if (typeof plan === 'string') {
    // The first trains alone, on the chain built for it (when it was).
    const [first, ...rest] = built;
    for (const m of rest) dispose(m.chain, undefined);
    await ctx.store.releaseRuns(runs.slice(1));
    if (runs.length > 1) ctx.notPacked?.(whose, plan);
    await ctx.started?.([runs[0]!]);
    outcomes.set(
      runs[0]!.runId,
      await executeRun(runs[0]!, ctx, first && { chain: first.chain, metrics: first.metrics, random: first.random }),
    );
    return outcomes;
  }
  // Runs claimed with the first whose models are of another kind go back to the queue.
  const others = built.filter((_, i) => !plan.members.includes(i));
  for (const m of others) dispose(m.chain, undefined);
  await ctx.store.releaseRuns(others.map((m) => m.run));
  const members = plan.members.map((i) => built[i]!);
  built = [];
  await ctx.started?.(members.map((m) => m.run));
  const model = plan.model;
  await settleBackend(
    ctx.store,
    members.map((m) => m.run),
    setting,
    members[0]!.chain,
    members.length,
  );
  let optimizer: FlatOptimizer | undefined;
  let stacked: ReturnType<typeof stackVariables> = { weights: [], gradientMask: undefined };
  try {
    ({ optimizer, stacked } = await startPack(members, model));
    await trainPack(members, model, stacked.weights, optimizer, ctx);
  } catch (e) {
    // A failure of the pack itself (not of one member) ends every member still training.
    for (const m of members.filter((x) => !x.outcome)) m.outcome = await failRun(ctx.store, m.run, e);
  } finally {
    optimizer?.dispose();
    tfjs.dispose([...stacked.weights, ...(stacked.gradientMask ? [stacked.gradientMask] : [])]);
    for (const m of members) dispose(m.chain, undefined);
  }
  for (const m of members) outcomes.set(m.run.runId, m.outcome ?? { status: 'done' });
  return outcomes;
}

/** Stacked weights and one optimizer for all; a continued pack restores each member's checkpoint first. */
async function startPack(
  members: Member[],
  model: PackModel,
): Promise<{ optimizer: FlatOptimizer; stacked: ReturnType<typeof stackVariables> }> {
  const spec = members[0]!.run.spec.process;
  const states: NamedTensor[][] = [];
  for (const m of members) {
    if (m.history.length === 0) continue;
    // Copies: the checkpoint's tensors are disposed once restored.
    const keep = {
      restore: async (s: NamedTensor[]) => void states.push(s.map((t) => ({ name: t.name, tensor: t.tensor.clone() }))),
    };
    const random = await loadCheckpoint(
      m.chain.runInfo.run_dir,
      m.run.owner,
      m.history[m.history.length - 1]!,
      m.chain.models.map((x) => x.module),
      m.chain.variables,
      keep,
    );
    if (random) m.random.restore(random);
  }
  const stacked = stackVariables(
    members.map((m) => m.chain),
    model,
  );
  const optimizer = new FlatOptimizer(
    makeOptimizer(spec.optimizer, spec.lr),
    stacked.weights,
    stacked.gradientMask,
    decayFactor(spec),
  );
  if (states.length > 0) {
    // Moments stack (padded) like the weights they follow; iterations and bias corrections are the same for all.
    const follows = variableOfState(states[0]!, stacked.weights.length);
    const state = states[0]!.map((t, k) => ({
      name: t.name,
      tensor:
        t.tensor.rank === 0
          ? t.tensor
          : stackPadded(
              states.map((st) => st[k]!.tensor),
              model.shapes[follows[k]!]!,
            ),
    }));
    await optimizer.restore(state);
    tfjs.dispose(state.map((s) => s.tensor).filter((t) => t.rank > 0));
    tfjs.dispose(states.flat().map((s) => s.tensor));
  }
  return { optimizer, stacked };
}

/**
 * Which variable each tensor of an optimizer's state follows: every tf optimizer keeps, after its
 * scalar iteration count, blocks of one tensor per variable in the variables' order (Adam: the
 * first moments, then the second), then the scalar bias corrections.
 */
function variableOfState(state: NamedTensor[], variables: number): (number | undefined)[] {
  let c = 0;
  return state.map((t) => (t.tensor.rank === 0 ? undefined : c++ % variables));
}

async function trainPack(
  members: Member[],
  model: PackModel,
  weights: tf.Variable[],
  optimizer: FlatOptimizer,
  ctx: PackContext,
): Promise<void> {
  const first = members[0]!;
  const settings = first.run.spec.process;
  const stack = (source: 'train' | 'test'): PackBatch[] =>
    (first.chain[source] as unknown[]).map((_, i) => {
      const batches = members.map((m) => asBatch((m.chain[source] as never[])[i]!));
      return { x: tfjs.stack(batches.map((b) => b.x)), y: tfjs.stack(batches.map((b) => b.y)) };
    });
  const train = stack('train');
  const test = stack('test');
  const accuracy: { train?: EpochAccuracy; test?: EpochAccuracy } = {};
  try {
    // Each member's data are checked as a run alone checks them, before any step (finite.ts): a
    // member whose data are not finite ends in error, as it would alone; the others train.
    for (const m of members) {
      try {
        checkBatchesFinite(m.chain.train as unknown[], 'train', m.chain.names.data);
        checkBatchesFinite(m.chain.test as unknown[], 'test', m.chain.names.data);
      } catch (e) {
        m.outcome = await failRun(ctx.store, m.run, e);
      }
    }
    const lead = members.findIndex((m) => !m.outcome);
    if (lead < 0) return;
    const sample = await sampleTargets(members[lead]!.chain.train);
    const rule = replicaAccuracyFn(
      accuracyRule(settings.accuracy ?? PROCESS_DEFAULTS.accuracy, members[lead]!.chain.lossCategory, sample),
    );
    if (rule)
      Object.assign(accuracy, {
        train: new EpochAccuracy(rule, train, members.length),
        test: new EpochAccuracy(rule, test, members.length),
      });
    const c = members[lead]!.chain;
    // The targets are checked as a run alone checks them, on the first training member's first batch.
    let outputShape: number[] = [];
    tfjs.tidy(() => {
      const prediction = packForward(model, weights, train[0]!.x).slice([lead], [1]).squeeze([0]);
      outputShape = prediction.shape;
      checkTargets(prediction, asBatch((c.train as never[])[0]!).y, sample, {
        category: c.lossCategory,
        lossName: c.names.loss,
        model: c.names.model,
        data: c.names.data,
      });
    });
    // A rule forced by [PROCESS] accuracy must fit each member's targets, as alone.
    for (const m of members.filter((x) => !x.outcome)) {
      try {
        checkForcedAccuracy(
          settings.accuracy ?? PROCESS_DEFAULTS.accuracy,
          outputShape,
          await sampleTargets(m.chain.train),
          m.chain.names.data,
        );
      } catch (e) {
        m.outcome = await failRun(ctx.store, m.run, e);
      }
    }
    const stepper = await packStepper(model, members.length, weights, optimizer, [...train, ...test]);
    for (
      let epoch = first.history.length + 1;
      epoch <= first.run.epochsTarget && members.some((m) => !m.outcome);
      epoch++
    ) {
      const started = performance.now();
      for (const m of members) Object.assign(m.chain.runInfo, { epoch, training: true });
      const trainStats = await overPackBatches(train, members.length, stepper.train, accuracy.train);
      optimizer.writeBack();
      for (const m of members) m.chain.runInfo.training = false;
      const testStats = await overPackBatches(test, members.length, stepper.test, accuracy.test);
      const badWeights = nonFiniteReplicaWeights(
        weights,
        members.map((m) => (m.outcome ? undefined : m.chain)),
      );
      const duration = (performance.now() - started) / 1000;
      // The optimizer's state once for all; each member's share of it goes to its own checkpoint,
      // the members' files written side by side (their file operations overlap).
      const whole = await optimizer.state();
      const training = members.filter((x) => !x.outcome).length;
      try {
        await Promise.all(
          members.map(async (m, r) => {
            if (m.outcome) return;
            const record: EpochRecord = {
              epoch,
              train_loss: trainStats.loss[r]!,
              test_loss: testStats.loss[r]!,
              train_acc: trainStats.accuracy?.[r] ?? null,
              test_acc: testStats.accuracy?.[r] ?? null,
              duration_s: duration / training,
            };
            try {
              await finishEpoch(m, r, record, weights, whole, ctx, badWeights[r]);
            } catch (e) {
              m.outcome = await failRun(ctx.store, m.run, e);
            }
          }),
        );
      } finally {
        disposeStateCopies(whole);
      }
    }
  } finally {
    accuracy.train?.dispose();
    accuracy.test?.dispose();
    tfjs.dispose([...train, ...test].flatMap((b) => [b.x, b.y]));
  }
  for (const m of members.filter((x) => !x.outcome))
    m.outcome = await finishRun(ctx.store, m.run, m.history, m.chain.variables);
}

/** One member's end of epoch, as a run alone has it: divergence (`badWeights`: its weights that are not finite), hooks, checkpoint, record, early stopping. */
async function finishEpoch(
  m: Member,
  r: number,
  record: EpochRecord,
  weights: tf.Variable[],
  whole: NamedTensor[],
  ctx: PackContext,
  badWeights?: string,
): Promise<void> {
  assertFinite(record, badWeights);
  m.chain.variables.forEach((v, j) => {
    v.assign(replicaOf(weights[j]!, r, v.shape));
  });
  for (const module of [...m.chain.dataModules, ...m.chain.models.map((x) => x.module)])
    await module.epochEnd?.(m.chain.runInfo);
  const follows = variableOfState(whole, weights.length);
  const note = await commitEpoch({
    run: m.run,
    store: ctx.store,
    runDir: m.chain.runInfo.run_dir,
    models: m.chain.models.map((x) => x.module),
    variables: m.chain.variables,
    optimizerState: whole.map((t, k) => ({
      name: t.name,
      tensor: t.tensor.rank === 0 ? t.tensor : replicaOf(t.tensor, r, m.chain.variables[follows[k]!]!.shape),
    })),
    random: m.random.state(),
    record,
    metrics: m.metrics.take(),
    history: m.history,
    ...(ctx.onEpoch ? { onEpoch: ctx.onEpoch } : {}),
  });
  if (note) m.outcome = await finishRun(ctx.store, m.run, m.history, m.chain.variables, note);
}
