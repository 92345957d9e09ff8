import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { AccuracyOption } from '../../core/run-spec.js';
import { significant } from '../../core/format.js';
import type { LossCategory } from '../chain/targets.js';

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

/** `[PROCESS] accuracy` names a rule the targets cannot be measured by. */
export class AccuracyRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccuracyRuleError';
  }
}

/**
 * Checked on the first batch, when `[PROCESS] accuracy` forces a rule: `threshold` needs targets
 * of 0 or 1 (or −1 and 1), `argmax` class indices (integers from 0) or rows of one-hot or class
 * probabilities. On continuous targets either would store a figure that measures nothing (a
 * regression's "accuracy" of 0.61): refused, naming a few of the targets' values. `targets`: the
 * first batch's and the sample's; `prediction`: the model's output shape.
 */
export function checkForcedAccuracy(
  option: AccuracyOption,
  prediction: number[],
  targets: tf.Tensor[],
  data: string,
): void {
  if (option !== 'argmax' && option !== 'threshold') return;
  const odd: string[] = [];
  const note = (v: string) => {
    if (odd.length < 4 && !odd.includes(v)) odd.push(v);
  };
  const classes = prediction[prediction.length - 1] ?? 1;
  let shape = '';
  for (const t of targets) {
    if (odd.length >= 4) break;
    const values = t.dataSync();
    if (option === 'threshold') {
      for (let i = 0; i < values.length && odd.length < 4; i++)
        if (values[i] !== 0 && values[i] !== 1 && values[i] !== -1) note(significant(values[i]!));
    } else if (t.shape.length === 0 || t.shape[t.shape.length - 1] !== classes || classes === 1) {
      // class indices, as rightDecisions reads them
      for (let i = 0; i < values.length && odd.length < 4; i++)
        if (!Number.isInteger(values[i]) || values[i]! < 0) note(significant(values[i]!));
    } else {
      for (let row = 0; row < values.length / classes && odd.length < 4; row++) {
        const cells = Array.from(values.subarray(row * classes, (row + 1) * classes));
        const sum = cells.reduce((a, b) => a + b, 0);
        if (cells.some((v) => !(v >= 0 && v <= 1)) || Math.abs(sum - 1) > 1e-3)
          note(`[${cells.map((v) => significant(v)).join(', ')}]`);
      }
    }
    if (odd.length > 0 && !shape) shape = ` (shape [${t.shape.join(', ')}])`;
  }
  if (odd.length === 0) return;
  const such = `values such as ${odd.join(', ')}`;
  const fix = 'set accuracy = none, or auto (which measures none for a regression)';
  if (option === 'threshold') {
    throw new AccuracyRuleError(
      `accuracy = threshold compares each prediction with a target of 0 or 1, but the targets of ${data} are continuous (${such}): ${fix}`,
    );
  }
  throw new AccuracyRuleError(
    `accuracy = argmax compares the predicted class (of ${classes} output${classes === 1 ? '' : 's'}) with class indices (integers from 0) or one-hot rows, but the targets of ${data}${shape} are neither (${such}): ${fix}`,
  );
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

/** A tensor's values read back, with its shape. */
export interface ReadTensor {
  values: ArrayLike<number>;
  shape: number[];
}

/**
 * The right decisions of a batch counted from its values read back: exactly what `rightDecisions`
 * and a sum give (the first of equal maxima is the argmax, NaN is never greater, class indices
 * cast to int32 as `toInt` does), or undefined where those would broadcast one shape against
 * another: the tensors then decide. `known` gives the targets' answers (each row's class, or each
 * value's 0/1) from a cache, or computes them with the function it is given; `key` says what they
 * depend on besides the targets' values (the rule and the number of classes).
 */
export function countRightDecisions(
  rule: AccuracyRule & { kind: 'binary' | 'argmax' },
  p: ReadTensor,
  t: ReadTensor,
  known: (key: string, compute: () => Int32Array) => Int32Array = (_, compute) => compute(),
): { correct: number; total: number } | undefined {
  const pv = p.values;
  const tv = t.values;
  if (rule.kind === 'binary') {
    if (!sameShape(p.shape, t.shape)) return undefined;
    const answers = known('binary', () => Int32Array.from(tv, (v) => (v > 0.5 ? 1 : 0)));
    let correct = 0;
    for (let i = 0; i < pv.length; i++) if (pv[i]! > rule.threshold === (answers[i] === 1)) correct++;
    return { correct, total: pv.length };
  }
  const classes = p.shape[p.shape.length - 1]!;
  if (p.shape.length === 0 || classes === 0) return undefined;
  const rows = pv.length / classes;
  const isIndex = t.shape[t.shape.length - 1] !== classes || classes === 1;
  if (isIndex ? tv.length !== rows : !sameShape(p.shape, t.shape)) return undefined;
  const answers = known(`argmax ${classes}`, () =>
    Int32Array.from({ length: rows }, (_, r) => (isIndex ? tv[r]! | 0 : argMaxAt(tv, r * classes, classes))),
  );
  let correct = 0;
  for (let r = 0; r < rows; r++) if (argMaxAt(pv, r * classes, classes) === answers[r]) correct++;
  return { correct, total: rows };
}

function argMaxAt(values: ArrayLike<number>, offset: number, length: number): number {
  let max = values[offset]!;
  let index = 0;
  for (let j = 1; j < length; j++) {
    const v = values[offset + j]!;
    if (v > max) {
      max = v;
      index = j;
    }
  }
  return index;
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
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
