import type * as tf from '@tensorflow/tfjs';
import type { LossKind as UserLossKind } from '../../user/contracts.js';
import type { LossKind } from '../../core/names.js';

/**
 * What a loss compares, which decides the shape checks and the accuracy rule:
 * - `classification`: one output per class; targets are class indices or one-hot rows;
 * - `binary` / `binary_logits`: element by element against 0/1 targets (probabilities / logits);
 * - `elementwise`: a built-in regression loss, element by element (accuracy from the targets);
 * - `regression`: a loss class that says so (no accuracy);
 * - `unknown`: a loss class that does not say (no shape rule; accuracy from the targets).
 */
export type LossCategory = 'classification' | 'binary' | 'binary_logits' | 'elementwise' | 'regression' | 'unknown';

const BUILTIN_CATEGORY: Record<LossKind, LossCategory> = {
  mse: 'elementwise',
  mae: 'elementwise',
  huber: 'elementwise',
  kl_div_log: 'elementwise',
  kl_div_probs: 'elementwise',
  bce: 'binary',
  bce_logits: 'binary_logits',
  hinge: 'binary_logits',
  cross_entropy_logits: 'classification',
  cross_entropy_probs: 'classification',
  sparse_cross_entropy_probs: 'classification',
  nll: 'classification',
};

export const USER_LOSS_KINDS: readonly UserLossKind[] = ['classification', 'binary', 'binary_logits', 'regression'];

export function builtinCategory(kind: LossKind): LossCategory {
  return BUILTIN_CATEGORY[kind];
}

/** A loss class's `static kind`, checked. */
export function userLossCategory(Cls: unknown, className: string): LossCategory {
  const kind = (Cls as { kind?: unknown }).kind;
  if (kind === undefined) return 'unknown';
  if (!(USER_LOSS_KINDS as readonly unknown[]).includes(kind)) {
    throw new Error(
      `loss class ${className}: static kind = ${JSON.stringify(kind)} is not one of ${USER_LOSS_KINDS.join(', ')}`,
    );
  }
  return kind as LossCategory;
}

/** The model's output does not fit the targets: said in the user's terms. */
export class TargetMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetMismatchError';
  }
}

export interface TargetCheck {
  category: LossCategory;
  /** The loss as the config names it. */
  lossName: string;
  /** e.g. `model class mlp_linear [linear]` (the last of the model chain). */
  model: string;
  /** e.g. `data class iris [iris]` (the last of the data chain). */
  data: string;
}

const shape = (s: number[]) => `[${s.join(', ')}]`;

/**
 * Checks the first batch's prediction against the targets before any training: a prediction that
 * does not fit the loss's targets would otherwise train silently on nonsense (PyTorch refuses it).
 * `sample` are targets of the first batches, to find class indices beyond the outputs.
 */
export function checkTargets(prediction: tf.Tensor, target: tf.Tensor, sample: tf.Tensor[], c: TargetCheck): void {
  const p = prediction.shape;
  const t = target.shape;
  const outputs = `${c.model} outputs ${shape(p)} for a batch`;
  const targets = `the targets of ${c.data} are ${shape(t)}`;
  if (c.category === 'unknown' || c.category === 'regression') {
    if (p[0] !== t[0]) throw new TargetMismatchError(`${outputs} but ${targets}: not the same number of samples`);
    return;
  }
  if (p[0] !== t[0])
    throw new TargetMismatchError(
      `${outputs} but ${targets}: not the same number of samples (${p[0]} predictions, ${t[0]} targets)`,
    );
  if (c.category === 'classification') {
    const classes = p.length >= 2 ? p[p.length - 1]! : 1;
    if (p.length < 2 || classes < 2) {
      throw new TargetMismatchError(
        `${outputs}, one value per sample, but ${c.lossName} expects one output per class (a [batch, classes] prediction)`,
      );
    }
    if (shape(t) === shape(p)) return; // one-hot (or probability) rows, one per class
    const indexShaped =
      target.size === p.slice(0, -1).reduce((a, b) => a * b, 1) &&
      (t.length === p.length - 1 || (t.length === p.length && t[t.length - 1] === 1));
    if (!indexShaped) {
      throw new TargetMismatchError(
        `${outputs} (${classes} classes) but ${targets}: ${c.lossName} expects class indices (${shape(p.slice(0, -1))}) or one-hot rows of ${classes} (${shape(p)})`,
      );
    }
    let max = -Infinity;
    let fractional = false;
    for (const s of [target, ...sample]) {
      if (s.shape.length === 0) continue;
      const values = s.dataSync();
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v > max) max = v;
        if (!Number.isInteger(v) || v < 0) fractional = true;
      }
    }
    if (fractional)
      throw new TargetMismatchError(
        `${targets} with values that are not class indices (integers from 0): ${c.lossName} expects class indices or one-hot rows`,
      );
    if (max >= classes) {
      throw new TargetMismatchError(
        `${outputs}: ${classes} classes (0 to ${classes - 1}), but ${targets} with class index ${max}: ${c.lossName} expects one output per class, so the model needs at least ${max + 1} outputs`,
      );
    }
    return;
  }
  if (shape(t) !== shape(p)) {
    const hint = target.size === prediction.size ? `; reshape one to the other's shape (${shape(p)})` : '';
    throw new TargetMismatchError(
      `${outputs} but ${targets}: ${c.lossName} compares them element by element, so they must have the same shape${hint}`,
    );
  }
}
