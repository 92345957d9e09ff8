import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { ReplicaAccuracyFn } from '../run/accuracy.js';
import { DenseStackStep } from './dense-stack.js';
import type { FlatOptimizer } from '../optimizers/flat-optimizer.js';
import { packForward, type PackModel } from './pack-model.js';

/**
 * How a pack takes its steps, batch by batch, and what it reads back: each replica's loss and
 * predictions, summed and counted over an epoch as a run alone sums and counts them.
 */

/** A batch of the pack: each member's batch stacked, `[R, batch, …]`. */
export interface PackBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** One batch through the pack: each replica's loss, and the predictions `[R, batch, …]`, read back. */
interface BatchResult {
  losses: Float32Array;
  prediction: Float32Array;
  shape: number[];
}

/** How a pack steps: a training step (the optimizer's step included) and a test step, batch by batch. */
export interface PackStepper {
  train(b: PackBatch): BatchResult;
  test(b: PackBatch): BatchResult;
}

/**
 * The plain JavaScript step (dense-stack.ts) when the backend, the layers and the loss allow it
 * and every batch's targets can be read as the predictions' shape, its optimizer step plain too
 * when the optimizer has a plain form (plain-optimizer.ts); TF.js's ops and tape otherwise.
 */
export async function packStepper(
  model: PackModel,
  replicas: number,
  weights: tf.Variable[],
  optimizer: FlatOptimizer,
  batches: PackBatch[],
): Promise<PackStepper> {
  const plain = DenseStackStep.of(model, replicas);
  const outputs = model.shapes.filter((s) => s.length === 2).at(-1)![1]!;
  const targets = batches.map((b) =>
    b.x.dtype === 'float32' ? plainTargets(b, outputs, model.lossKind === 'cross_entropy_logits') : undefined,
  );
  if (typeof plain !== 'string' && targets.every((t) => t !== undefined)) {
    const arrays = new Map(
      batches.map((b, i) => [b, { x: b.x.dataSync() as Float32Array, y: targets[i]!, size: b.x.shape[1]! }]),
    );
    const plainParams = await optimizer.plainParameters();
    const run = (b: PackBatch, learn: boolean): BatchResult => {
      const { x, y, size } = arrays.get(b)!;
      const params = plainParams ?? (optimizer.parameters.dataSync() as Float32Array);
      const trace = plain.forward(params, x, size);
      const prediction = trace[trace.length - 1]!;
      const { losses, dPrediction } = plain.loss(prediction, y);
      if (learn) {
        const gradient = plain.gradient(params, trace, dPrediction, size);
        if (plainParams) optimizer.stepPlain(gradient);
        else tfjs.tidy(() => optimizer.stepFlat(tfjs.tensor1d(gradient)));
      }
      return { losses, prediction, shape: [replicas, size, outputs] };
    };
    return { train: (b) => run(b, true), test: (b) => run(b, false) };
  }
  const read = (losses: tf.Tensor, prediction: tf.Tensor): BatchResult => {
    const result = {
      losses: losses.dataSync() as Float32Array,
      prediction: prediction.dataSync() as Float32Array,
      shape: prediction.shape,
    };
    tfjs.dispose([losses, prediction]);
    return result;
  };
  return {
    train: (b) => {
      let prediction: tf.Tensor | undefined;
      let losses: tf.Tensor | undefined;
      optimizer
        .minimize(() => {
          prediction = tfjs.keep(packForward(model, weights, b.x));
          losses = tfjs.keep(model.loss(prediction, b.y));
          return losses.sum() as tf.Scalar;
        })
        .dispose();
      return read(losses!, prediction!);
    },
    test: (b) => {
      const [prediction, losses] = tfjs.tidy(() => {
        const p = packForward(model, weights, b.x);
        return [p, model.loss(p, b.y)];
      });
      return read(losses, prediction);
    },
  };
}

/**
 * A batch's targets as the plain step reads them, `[R, batch, outputs]`: float32 values of that
 * shape, or, for a cross-entropy, class indices (one per sample) made one-hot rows as `asOneHot`
 * (loss.ts) makes them — truncated to integers, an index out of range a row of zeros. Undefined
 * when neither: the pack then steps through TF.js.
 */
function plainTargets(b: PackBatch, outputs: number, classes: boolean): Float32Array | undefined {
  const samples = b.x.shape[0]! * b.x.shape[1]!;
  if (b.y.dtype === 'float32' && b.y.shape.join() === [...b.x.shape.slice(0, 2), outputs].join())
    return b.y.dataSync() as Float32Array;
  const indices =
    classes && outputs > 1 && b.y.size === samples && (b.y.rank === 2 || (b.y.rank === 3 && b.y.shape[2] === 1));
  if (!indices) return undefined;
  const oneHot = new Float32Array(samples * outputs);
  b.y.dataSync().forEach((v, i) => {
    const k = v | 0; // as a cast to int32
    if (k >= 0 && k < outputs) oneHot[i * outputs + k] = 1;
  });
  return oneHot;
}

/**
 * Runs `step` over the stacked batches: each replica's mean loss (float32 running sums, as a run
 * alone sums them), and its accuracy over the epoch, from the predictions read back.
 */
export async function overPackBatches(
  batches: PackBatch[],
  replicas: number,
  step: (b: PackBatch) => BatchResult,
  accuracy: EpochAccuracy | undefined,
): Promise<{ loss: number[]; accuracy: number[] | undefined }> {
  const sums = new Float32Array(replicas);
  const results: BatchResult[] = [];
  let lastYield = performance.now();
  for (const b of batches) {
    if (performance.now() - lastYield > 1000) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }
    const r = step(b);
    for (let i = 0; i < replicas; i++) sums[i] += r.losses[i]!;
    if (accuracy) results.push(r);
  }
  return { loss: [...sums].map((l) => l / batches.length), accuracy: accuracy?.of(results) };
}

/**
 * Each replica's accuracy over an epoch of `batches`, in one go: the batches of one shape stacked
 * along a new axis after the replicas' (`[R, batches, batch, …]`), so the rule sees each batch as
 * it would alone. The targets are grouped and stacked once, for every epoch.
 */
export class EpochAccuracy {
  private readonly groups: { batches: number[]; targets: tf.Tensor }[] = [];

  constructor(
    private readonly rule: ReplicaAccuracyFn,
    batches: PackBatch[],
    private readonly replicas: number,
  ) {
    const byShape = new Map<string, number[]>();
    batches.forEach((b, i) => {
      const key = `${b.x.shape}|${b.y.shape}`;
      byShape.set(key, [...(byShape.get(key) ?? []), i]);
    });
    for (const group of byShape.values())
      this.groups.push({
        batches: group,
        targets: tfjs.stack(
          group.map((i) => batches[i]!.y),
          1,
        ),
      });
  }

  /** From the epoch's results, batch by batch. */
  of(results: BatchResult[]): number[] {
    const replicas = this.replicas;
    const correct = new Array<number>(replicas).fill(0);
    let total = 0;
    for (const { batches: group, targets } of this.groups) {
      const shape = results[group[0]!]!.shape;
      const per = results[group[0]!]!.prediction.length / replicas;
      const values = new Float32Array(replicas * group.length * per);
      group.forEach((i, s) => {
        for (let r = 0; r < replicas; r++)
          values.set(results[i]!.prediction.subarray(r * per, (r + 1) * per), (r * group.length + s) * per);
      });
      const counts = tfjs.tidy(() => {
        const a = this.rule(tfjs.tensor(values, [replicas, group.length, ...shape.slice(1)]), targets);
        total += a.total;
        return a.correct;
      });
      counts.dataSync().forEach((n, r) => {
        correct[r] += n;
      });
      counts.dispose();
    }
    return correct.map((n) => n / total);
  }

  dispose(): void {
    tfjs.dispose(this.groups.map((g) => g.targets));
  }
}
