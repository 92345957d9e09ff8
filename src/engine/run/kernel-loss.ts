import type { TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { KernelScope } from '../../tfjs/wasm/kernel-scope.js';
import { builtinLoss, type LossFn } from '../chain/loss.js';

const f = Math.fround;

/** A loss's value for a prediction (a scalar), and with it its gradient for the prediction, on a scope's kernels. */
export interface KernelLoss {
  value(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): TensorInfo;
  valueAndGradient(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): [TensorInfo, TensorInfo];
}

/**
 * The built-in losses computed as the kernels that tfjs-core runs for them and for their gradient
 * under the tape compute them, so the same bits (dense-step.ts): the tape around a loss of a few
 * kernels cost ~0.4 ms a step of the bench MLP. Undefined for the others, which dense-step.ts
 * tapes, and where the targets are not float32 values of the prediction's shape (class indices,
 * which the losses turn into one-hot rows first), on wasm (their values in its heap).
 */
export function kernelLoss(loss: LossFn, prediction: TensorInfo, target: TensorInfo): KernelLoss | undefined {
  const fits =
    target.dtype === 'float32' &&
    prediction.dtype === 'float32' &&
    tfjs.util.arraysEqual(target.shape, prediction.shape);
  if (!fits) return undefined;
  if (loss === builtinLoss('mse')) return meanSquaredError;
  // One class: the loss takes the targets as class indices (loss.ts asOneHot).
  if (loss === builtinLoss('cross_entropy_logits') && prediction.shape.at(-1)! > 1) return softmaxCrossEntropy;
  return undefined;
}

/**
 * `tf.losses.meanSquaredError(target, prediction)` (no weights; SUM_BY_NONZERO_WEIGHTS) and its
 * gradient for the prediction from dy = 1, as the kernels the tape runs compute them, in one pass
 * over the values in wasm's heap instead of a dozen kernel calls (~60 µs a step of the bench MLP):
 * - the value: SquaredDifference (t − p)², Sum in order in float32, RealDiv by their number;
 * - the gradient: RealDiv's for the numerator, g = 1 / count; Sum's, g for each value;
 *   SquaredDifference's for the prediction, g · (2 · (p − t)).
 * Each operation is rounded to float32 as the kernel rounds it: `Math.fround` of the double
 * result, which is the float32 result for +, −, × and ÷ of float32 values (53 ≥ 2·24 + 2 bits:
 * rounding to double first changes nothing).
 */
const meanSquaredError: KernelLoss = {
  value(scope, p, t) {
    return scope.float32(Float32Array.of(meanSquares(scope.float32View(p), scope.float32View(t))), []);
  },
  valueAndGradient(scope, p, t) {
    const out = scope.output(p.shape);
    const value = meanSquares(scope.float32View(p), scope.float32View(t), scope.float32View(out));
    return [scope.float32(Float32Array.of(value), []), out];
  },
};

/** MSE's value, and its gradient written to `dy` when given (p − t is −(t − p) exactly), in one pass. */
function meanSquares(pv: Float32Array, tv: Float32Array, dy?: Float32Array): number {
  const g = f(1 / f(pv.length));
  let sum = 0;
  for (let i = 0; i < pv.length; i++) {
    const d = f(tv[i]! - pv[i]!);
    sum = f(sum + f(d * d));
    if (dy) dy[i] = g * f(-2 * d);
  }
  return f(sum / f(pv.length));
}

/**
 * `tf.losses.softmaxCrossEntropy(labels, logits)` (no weights, no smoothing; SUM_BY_NONZERO_WEIGHTS)
 * over the last axis, and its gradient for the logits from dy = 1, as tfjs-core computes them:
 * - logSumExp: m = Max over the row, Exp(x − m), Sum over the row, Log, then m + that;
 * - logResult = x − logSumExp; the row's loss, Sum over the row of −(logResult · label); their
 *   Sum, divided by the number of rows;
 * - the gradient (its custom gradient, through the mean): (1 / rows) · (Exp(logResult) − label).
 * Exp and Log are wasm's own kernels (their bits are theirs); every other operation is done here,
 * in one pass over the heap's values, rounded to float32 as the kernels round it (as for MSE). The
 * tape around this loss cost ~0.4 ms a step of the bench MLP.
 */
const softmaxCrossEntropy: KernelLoss = {
  value(scope, p, t) {
    const { value, logResult } = crossEntropy(scope, p, t);
    scope.free(logResult);
    return value;
  },
  valueAndGradient(scope, p, t) {
    const { value, logResult } = crossEntropy(scope, p, t);
    const exps = scope.run('Exp', { x: logResult });
    const out = scope.output(p.shape);
    const [e, tv, dy] = [scope.float32View(exps), scope.float32View(t), scope.float32View(out)];
    const g = f(1 / f(rowsOf(p)));
    for (let i = 0; i < e.length; i++) dy[i] = g * f(e[i]! - tv[i]!);
    scope.free(exps, logResult);
    return [value, out];
  },
};

const rowsOf = (t: TensorInfo) => t.shape.slice(0, -1).reduce((n, d) => n * d, 1);

/** The loss's value, and each row's logResult (x − logSumExp of its row) for the gradient. */
function crossEntropy(scope: KernelScope, p: TensorInfo, t: TensorInfo): { value: TensorInfo; logResult: TensorInfo } {
  const rows = rowsOf(p);
  const classes = p.shape.at(-1)!;
  const max = new Float32Array(rows);
  const shifted = scope.output([rows, classes]);
  {
    const [pv, a] = [scope.float32View(p), scope.float32View(shifted)];
    for (let r = 0, o = 0; r < rows; r++, o += classes) {
      // wasm's Max: the first value, replaced by each later one greater than it.
      let m = pv[o]!;
      for (let j = 1; j < classes; j++) if (pv[o + j]! > m) m = pv[o + j]!;
      max[r] = m;
      for (let j = 0; j < classes; j++) a[o + j] = pv[o + j]! - m;
    }
  }
  const exps = scope.run('Exp', { x: shifted });
  const sums = scope.output([rows]);
  {
    const [e, s] = [scope.float32View(exps), scope.float32View(sums)];
    for (let r = 0, o = 0; r < rows; r++, o += classes) {
      let sum = 0;
      for (let j = 0; j < classes; j++) sum = f(sum + e[o + j]!);
      s[r] = sum;
    }
  }
  const logs = scope.run('Log', { x: sums });
  const logResult = scope.output([rows, classes]);
  let total = 0;
  {
    const [pv, tv, d, lr] = [
      scope.float32View(p),
      scope.float32View(t),
      scope.float32View(logs),
      scope.float32View(logResult),
    ];
    for (let r = 0, o = 0; r < rows; r++, o += classes) {
      const logSumExp = f(max[r]! + d[r]!);
      let loss = 0;
      for (let j = 0; j < classes; j++) {
        const x = f(pv[o + j]! - logSumExp);
        lr[o + j] = x;
        loss = f(loss + -f(x * tv[o + j]!));
      }
      total = f(total + loss);
    }
  }
  scope.free(shifted, exps, sums, logs);
  return { value: scope.float32(Float32Array.of(total / f(rows)), []), logResult };
}
