import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { LossKind } from '../../core/names.js';

export type LossFn = (prediction: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** Class-index targets (shape [N] or [N,1]) become one-hot rows of the prediction's width. */
function asOneHot(target: tf.Tensor, prediction: tf.Tensor): tf.Tensor {
  const classes = prediction.shape[prediction.shape.length - 1]!;
  if (
    target.shape.length === prediction.shape.length &&
    target.shape[target.shape.length - 1] === classes &&
    classes > 1
  )
    return target;
  return tfjs.oneHot(target.reshape([-1]).toInt(), classes).reshape(prediction.shape);
}

const LOSSES: Record<LossKind, LossFn> = {
  mse: (p, t) => tfjs.losses.meanSquaredError(t, p) as tf.Scalar,
  mae: (p, t) => tfjs.losses.absoluteDifference(t, p) as tf.Scalar,
  bce: (p, t) => tfjs.losses.logLoss(t, p, undefined, 1e-7) as tf.Scalar,
  bce_logits: (p, t) => tfjs.losses.sigmoidCrossEntropy(t, p) as tf.Scalar,
  cross_entropy_logits: (p, t) => tfjs.losses.softmaxCrossEntropy(asOneHot(t, p), p) as tf.Scalar,
  cross_entropy_probs: (p, t) => tfjs.metrics.categoricalCrossentropy(asOneHot(t, p), p).mean() as tf.Scalar,
  sparse_cross_entropy_probs: (p, t) => tfjs.metrics.categoricalCrossentropy(asOneHot(t, p), p).mean() as tf.Scalar,
  nll: (p, t) => asOneHot(t, p).mul(p).sum(-1).mean().neg() as tf.Scalar,
  huber: (p, t) => tfjs.losses.huberLoss(t, p) as tf.Scalar,
  hinge: (p, t) => tfjs.losses.hingeLoss(t, p) as tf.Scalar,
  kl_div_log: (p, t) => tfjs.tidy(() => t.mul(t.clipByValue(1e-12, Infinity).log().sub(p)).mean() as tf.Scalar),
  kl_div_probs: (p, t) =>
    tfjs.tidy(
      () =>
        t
          .mul(t.clipByValue(1e-7, 1).div(p.clipByValue(1e-7, 1)).log())
          .sum(-1)
          .mean() as tf.Scalar,
    ),
};

export function builtinLoss(kind: LossKind): LossFn {
  return LOSSES[kind];
}

/** The loss threw on the first batch: said with the shapes it was given, its own error as the cause. */
export class LossFailedError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'LossFailedError';
  }
}

/** A loss over a pack: predictions and targets `[replicas, …]`, one loss per replica `[replicas]`. */
export type ReplicaLossFn = (prediction: tf.Tensor, target: tf.Tensor) => tf.Tensor1D;

const NONE = tfjs.Reduction.NONE;
const innerAxes = (t: tf.Tensor) => Array.from({ length: t.rank - 1 }, (_, i) => i + 1);
/**
 * Each replica's losses reduced as tf.losses reduce them for a run alone (their default,
 * SUM_BY_NONZERO_WEIGHTS without weights): summed, then divided by their number. (A mean would
 * divide first, then sum: the same gradient, another rounding of the value.)
 */
const perReplica = (t: tf.Tensor) => t.sum(innerAxes(t)).div(t.size / t.shape[0]!) as tf.Tensor1D;
/** Each replica's mean, for the losses a run alone averages with `mean()`. */
const perReplicaMean = (t: tf.Tensor) => t.mean(innerAxes(t)) as tf.Tensor1D;

const REPLICA_LOSSES: Partial<Record<LossKind, ReplicaLossFn>> = {
  mse: (p, t) => perReplica(tfjs.losses.meanSquaredError(t, p, undefined, NONE)),
  mae: (p, t) => perReplica(tfjs.losses.absoluteDifference(t, p, undefined, NONE)),
  bce: (p, t) => perReplica(tfjs.losses.logLoss(t, p, undefined, 1e-7, NONE)),
  bce_logits: (p, t) => perReplica(tfjs.losses.sigmoidCrossEntropy(t, p, undefined, 0, NONE)),
  huber: (p, t) => perReplica(tfjs.losses.huberLoss(t, p, undefined, 1, NONE)),
  hinge: (p, t) => perReplica(tfjs.losses.hingeLoss(t, p, undefined, NONE)),
  cross_entropy_logits: (p, t) => perReplica(tfjs.losses.softmaxCrossEntropy(asOneHot(t, p), p, undefined, 0, NONE)),
  cross_entropy_probs: (p, t) => perReplicaMean(tfjs.metrics.categoricalCrossentropy(asOneHot(t, p), p)),
  sparse_cross_entropy_probs: (p, t) => perReplicaMean(tfjs.metrics.categoricalCrossentropy(asOneHot(t, p), p)),
  nll: (p, t) => perReplicaMean(asOneHot(t, p).mul(p).sum(-1)).neg() as tf.Tensor1D,
};

/** The per-replica form of a built-in loss, when it has one (the KL divergences do not). */
export function replicaLoss(kind: LossKind): ReplicaLossFn | undefined {
  return REPLICA_LOSSES[kind];
}
