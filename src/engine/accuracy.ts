import type * as tf from '@tensorflow/tfjs';
import { tfjs } from './tfjs.js';
import type { AccuracyOption } from '../config/types.js';
import type { LossCategory } from './targets.js';

/**
 * How accuracy is measured, chosen once per run from the loss and the targets:
 * - `argmax`: a classification loss (CrossEntropyLoss, NLLLoss, …) or one-hot targets (0/1, one 1
 *   per row): the predicted class is the argmax of the prediction, the true class the argmax of
 *   the one-hot target or the class index itself;
 * - `binary`: every target is 0 or 1: a prediction counts as 1 above the threshold (0.5 for
 *   probabilities, 0 for losses on logits such as BCEWithLogitsLoss), accuracy per element;
 * - `none`: anything else is regression; accuracy is not defined and stored as NULL.
 */
export type AccuracyRule = { kind: 'argmax' } | { kind: 'binary'; threshold: number } | { kind: 'none' };

/** Counts correct decisions of one batch: [correct, total]. `correct` is a scalar tensor. */
export type AccuracyFn = (prediction: tf.Tensor, target: tf.Tensor) => { correct: tf.Scalar; total: number };

/**
 * The rule of a run: `[PROCESS] accuracy` when it names one (`threshold` at 0 for losses on
 * logits, 0.5 otherwise); with `auto`, from what the loss compares (a loss class may declare its
 * kind), else from the targets.
 */
export function accuracyRule(option: AccuracyOption, category: LossCategory, targets: tf.Tensor[]): AccuracyRule {
  const logits = category === 'binary_logits';
  switch (option) {
    case 'none':
      return { kind: 'none' };
    case 'argmax':
      return { kind: 'argmax' };
    case 'threshold':
      return { kind: 'binary', threshold: logits ? 0 : 0.5 };
    case 'auto':
      if (category === 'regression') return { kind: 'none' };
      return chooseAccuracyRule(targets, category === 'classification', logits);
  }
}

export function chooseAccuracyRule(targets: tf.Tensor[], classificationLoss: boolean, logits: boolean): AccuracyRule {
  if (classificationLoss) return { kind: 'argmax' };
  let binary = true;
  let oneHot = true;
  for (const t of targets) {
    const values = t.dataSync();
    const width = t.shape.length >= 2 ? t.shape[t.shape.length - 1]! : 1;
    if (width < 2) oneHot = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v !== 0 && v !== 1) {
        binary = false;
        break;
      }
    }
    if (!binary) break;
    if (oneHot) {
      for (let row = 0; row < values.length / width; row++) {
        let sum = 0;
        for (let c = 0; c < width; c++) sum += values[row * width + c]!;
        if (sum !== 1) oneHot = false;
      }
    }
  }
  if (!binary || targets.length === 0) return { kind: 'none' };
  if (oneHot) return { kind: 'argmax' };
  return { kind: 'binary', threshold: logits ? 0 : 0.5 };
}

/**
 * The right decisions of a batch, 1 or 0: element by element (binary), or sample by sample
 * (argmax: the predicted class against the class index or the one-hot row's argmax).
 */
function rightDecisions(rule: AccuracyRule & { kind: 'binary' | 'argmax' }, p: tf.Tensor, t: tf.Tensor): tf.Tensor {
  if (rule.kind === 'binary') return p.greater(rule.threshold).equal(t.greater(0.5)).toFloat();
  const classes = p.shape[p.shape.length - 1]!;
  const isIndex = t.shape[t.shape.length - 1] !== classes || classes === 1;
  const predicted = p.argMax(-1);
  const actual = isIndex ? t.reshape(predicted.shape).toInt() : t.argMax(-1);
  return predicted.equal(actual).toFloat();
}

export function accuracyFn(rule: AccuracyRule): AccuracyFn | undefined {
  if (rule.kind === 'none') return undefined;
  return (p, t) => {
    const right = tfjs.tidy(() => rightDecisions(rule, p, t));
    const total = right.size;
    const correct = tfjs.tidy(() => right.sum() as tf.Scalar);
    right.dispose();
    return { correct, total };
  };
}

/** Correct decisions of each replica of a pack: predictions and targets `[replicas, …]`. */
export type ReplicaAccuracyFn = (prediction: tf.Tensor, target: tf.Tensor) => { correct: tf.Tensor1D; total: number };

export function replicaAccuracyFn(rule: AccuracyRule): ReplicaAccuracyFn | undefined {
  if (rule.kind === 'none') return undefined;
  return (p, t) => {
    const right = tfjs.tidy(() => rightDecisions(rule, p, t));
    const total = right.size / right.shape[0]!;
    const correct = tfjs.tidy(() => right.sum(Array.from({ length: right.rank - 1 }, (_, i) => i + 1)) as tf.Tensor1D);
    right.dispose();
    return { correct, total };
  };
}
