import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { typedValue } from '../config/values.js';
import type { ClaimedRun, EpochRecord, Store } from '../store/types.js';
import type { Batch, BatchSource, RunInfo } from '../user/contracts.js';
import { accuracyFn, chooseAccuracyRule } from './accuracy.js';
import { asBatch, buildChain, type Chain } from './chain.js';
import { loadCheckpoint, pruneCheckpoints, saveCheckpoint } from './checkpoint.js';
import { CLASSIFICATION_LOSSES, LOGIT_LOSSES } from './loss.js';
import { runResults } from './metrics.js';
import { lossKind } from './names.js';
import { makeOptimizer } from './optimizer.js';
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

export type RunOutcome = { status: 'done' } | { status: 'error'; message: string };

/** Executes one claimed run to its end: trains the remaining epochs and stores everything. A user-code exception ends this run only. */
export async function executeRun(run: ClaimedRun, ctx: RunContext): Promise<RunOutcome> {
  let chain: Chain | undefined;
  let optimizer: tf.Optimizer | undefined;
  try {
    await useBackend(run.spec.process.backend);
    chain = await buildChain(run.spec, initialRunInfo(run, ctx.device));
    optimizer = makeOptimizer(run.spec.process.optimizer, run.spec.process.lr);
    await train(run, chain, optimizer, ctx);
    const nbParams = chain.variables.reduce((a, v) => a + v.size, 0);
    ctx.store.finishRun(run.runId, runResults(ctx.store.history(run.runId), nbParams));
    return { status: 'done' };
  } catch (e) {
    const message = firstLine(e);
    ctx.store.failRun(run.runId, 'error', message, traceOf(e));
    return { status: 'error', message };
  } finally {
    dispose(chain, optimizer);
  }
}

function initialRunInfo(run: ClaimedRun, device: string | undefined): RunInfo {
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
    run_dir: path.join(p.run_files_path, `run_${run.runId}`),
    ...(device ? { device } : {}),
  };
}

async function train(run: ClaimedRun, chain: Chain, optimizer: tf.Optimizer, ctx: RunContext): Promise<void> {
  const { runInfo, variables } = chain;
  if (run.epochsDone > 0) {
    await loadCheckpoint(runInfo.run_dir, run.epochsDone, chain.models.map((m) => m.module), variables, optimizer);
  }
  const kind = run.spec.process.loss_function ? lossKind(run.spec.process.loss_function) : undefined;
  const rule = chooseAccuracyRule(await sampleTargets(chain.train), kind !== undefined && CLASSIFICATION_LOSSES.has(kind), kind !== undefined && LOGIT_LOSSES.has(kind));
  const accuracy = accuracyFn(rule);
  const forward = (x: tf.Tensor) => chain.models.reduce((d, m) => m.module.forward(d, runInfo, m.info), x);

  for (let epoch = run.epochsDone + 1; epoch <= run.epochsTarget; epoch++) {
    const started = performance.now();
    runInfo.epoch = epoch;
    runInfo.training = true;
    const trainStats = await overBatches(chain.train, (b) => {
      let correct: tf.Scalar | undefined;
      let total = 0;
      const cost = optimizer.minimize(
        () => {
          const prediction = forward(b.x);
          if (accuracy) {
            const a = accuracy(prediction, b.y);
            correct = tf.keep(a.correct);
            total = a.total;
          }
          return chain.loss(prediction, b.y);
        },
        true,
        variables,
      )!;
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
    const record: EpochRecord = {
      epoch,
      train_loss: trainStats.loss,
      test_loss: testStats.loss,
      train_acc: accuracy ? trainStats.accuracy : null,
      test_acc: accuracy ? testStats.accuracy : null,
      duration_s: (performance.now() - started) / 1000,
    };
    await saveCheckpoint(runInfo.run_dir, epoch, chain.models.map((m) => m.module), variables, optimizer);
    ctx.store.recordEpoch(run.runId, record);
    await pruneCheckpoints(runInfo.run_dir, epoch);
    ctx.onEpoch?.({ runId: run.runId, epoch, epochs: run.epochsTarget, record });
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
async function sampleTargets(source: BatchSource, max = 64): Promise<tf.Tensor[]> {
  if (!Array.isArray(source)) return [];
  return source.slice(0, max).map((item) => asBatch(item).y);
}

function dispose(chain: Chain | undefined, optimizer: tf.Optimizer | undefined): void {
  optimizer?.dispose();
  if (!chain) return;
  for (const { module } of chain.models) module.dispose?.();
  for (const d of chain.dataModules) d.dispose?.();
  for (const source of [chain.train, chain.test]) {
    if (Array.isArray(source)) for (const item of source) tf.dispose(Object.values(asBatch(item)));
  }
  tf.dispose(chain.variables.filter((v) => !v.isDisposed));
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  return msg.split('\n')[0]!.slice(0, 500);
}

function traceOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}
