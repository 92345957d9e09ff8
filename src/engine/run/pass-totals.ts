import type * as tf from '@tensorflow/tfjs';
import { tensorValues } from '../../tfjs/tensor-bytes.js';
import { tfjs } from '../../tfjs/tfjs.js';
import { type AccuracyRule, accuracyFn, countRightDecisions } from './accuracy.js';

/** What one pass over the batches measured: the mean of the batches' losses, the share of right decisions. */
export interface PassResult {
  loss: number;
  accuracy: number | null;
}

/**
 * The running sums of one pass over the batches (an epoch's train or test pass): each batch's
 * loss and right decisions added as it is stepped, read once at the end. Given tensors stay the
 * caller's; `addDecisions` may be called inside a gradient tape or a tidy.
 */
export interface PassTotals {
  /** A batch's loss: a scalar, or values whose mean is the batch's loss. */
  addLoss(cost: tf.Tensor): void;
  /** A batch's right decisions under the run's accuracy rule (nothing without one). */
  addDecisions(prediction: tf.Tensor, target: tf.Tensor): void;
  /** The pass's result, over the batches whose loss was added; frees what the sums held. */
  read(): Promise<PassResult>;
  /** Frees what the sums held (a pass that failed). */
  dispose(): void;
}

/**
 * The sums for `rule` on the active backend. Where a tensor's values are in the process's own
 * memory (cpu, wasm), each batch's loss and prediction are read back and summed here: reading is a
 * copy, and the ~10 operations of the sums on the device (argmax, compare, cast, sum, add), each
 * a kernel call, cost more than the copy. Elsewhere (a GPU) they stay on the device and are read
 * once. Both give the same numbers: the loss summed in float32 as the device adds it, the
 * decisions counted by the same rule (`countRightDecisions`).
 */
export function passTotals(rule: AccuracyRule, backend = tfjs.getBackend()): PassTotals {
  return backend === 'cpu' || backend === 'wasm' ? new HostTotals(rule) : new DeviceTotals(rule);
}

/** What both kinds of sums keep: the run's accuracy function, the batches and decisions counted. */
abstract class Totals {
  protected total = 0;
  protected batches = 0;
  protected readonly accuracy;

  constructor(protected readonly rule: AccuracyRule) {
    this.accuracy = accuracyFn(rule);
  }

  /** The pass's result from the summed loss and right decisions (no decision counted: no accuracy). */
  protected result(loss: number, correct: number): PassResult {
    return { loss: loss / this.batches, accuracy: this.total > 0 ? correct / this.total : null };
  }
}

/** Summed on the device, read back once. */
class DeviceTotals extends Totals implements PassTotals {
  private loss: tf.Scalar | undefined;
  private correct: tf.Scalar | undefined;

  addLoss(cost: tf.Tensor): void {
    this.loss = this.accumulate(this.loss, () => (cost.rank === 0 ? cost : cost.mean()));
    this.batches++;
  }

  addDecisions(prediction: tf.Tensor, target: tf.Tensor): void {
    if (!this.accuracy) return;
    const a = this.accuracy(prediction, target);
    this.correct = this.accumulate(this.correct, () => a.correct);
    a.correct.dispose();
    this.total += a.total;
  }

  async read(): Promise<PassResult> {
    const [loss, correct] = await Promise.all([this.loss?.data(), this.correct?.data()]);
    this.dispose();
    return this.result(loss?.[0] ?? 0, correct?.[0] ?? 0);
  }

  dispose(): void {
    tfjs.dispose([this.loss, this.correct].filter((t): t is tf.Scalar => t !== undefined));
    this.loss = undefined;
    this.correct = undefined;
  }

  /** sum + what `value` gives, kept: it outlives the tape or tidy it is made in. */
  private accumulate(sum: tf.Scalar | undefined, value: () => tf.Tensor): tf.Scalar {
    const next = tfjs.tidy(() => (sum ?? tfjs.scalar(0)).add(value())) as tf.Scalar;
    sum?.dispose();
    return tfjs.keep(next);
  }
}

/**
 * The answers of targets already counted, by their data (a tensor's values never change): the
 * batches of an array source come back every epoch, and reading their targets again cost the
 * bench MLP ~0.4 ms an epoch (cold in the cache by then).
 */
const targetAnswers = new WeakMap<object, { key: string; answers: Int32Array }>();

/** Read back at each batch and summed here. */
class HostTotals extends Totals implements PassTotals {
  private loss = 0;
  private correct = 0;

  addLoss(cost: tf.Tensor): void {
    let value: number;
    if (cost.rank === 0) value = tensorValues(cost)[0]!;
    else {
      const mean = tfjs.tidy(() => cost.mean());
      value = tensorValues(mean)[0]!;
      mean.dispose();
    }
    // float32 addition, as the device's sum (exact: a double holds the float32 sum before rounding)
    this.loss = Math.fround(this.loss + value);
    this.batches++;
  }

  addDecisions(prediction: tf.Tensor, target: tf.Tensor): void {
    if (this.rule.kind === 'none') return;
    // On wasm views of the heap, read at once (no copy of a batch's predictions and targets per step).
    const read = (t: tf.Tensor) => ({ values: tensorValues(t), shape: t.shape });
    const known = (key: string, compute: () => Int32Array) => {
      const kept = targetAnswers.get(target.dataId);
      if (kept?.key === key) return kept.answers;
      const answers = compute();
      targetAnswers.set(target.dataId, { key, answers });
      return answers;
    };
    const counted =
      countRightDecisions(this.rule, read(prediction), read(target), known) ?? this.onDevice(prediction, target);
    this.correct += counted.correct;
    this.total += counted.total;
  }

  async read(): Promise<PassResult> {
    return this.result(this.loss, this.correct);
  }

  dispose(): void {}

  /** Shapes that broadcast one against the other: counted as the tensors count them. */
  private onDevice(prediction: tf.Tensor, target: tf.Tensor): { correct: number; total: number } {
    const a = this.accuracy!(prediction, target);
    const correct = a.correct.dataSync()[0]!;
    a.correct.dispose();
    return { correct, total: a.total };
  }
}
