import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope } from '../../tfjs/wasm/kernel-scope.js';
import { builtinLoss, type LossFn } from '../chain/loss.js';

/** A loss's value for a prediction, and its gradient for the prediction, on a scope's kernels. */
export interface KernelLoss {
  value(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): TensorInfo;
  gradient(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): TensorInfo;
}

/**
 * The built-in losses computed as the kernels that tfjs-core runs for them and for their gradient
 * under the tape compute them, so the same bits (dense-step.ts): the tape around a loss of a few
 * kernels cost ~0.4 ms a step of the bench MLP. Undefined for the others, which dense-step.ts
 * tapes. Each takes a float32 target of the prediction's shape, on wasm (its values in the heap).
 */
export function kernelLoss(loss: LossFn): KernelLoss | undefined {
  return loss === builtinLoss('mse') ? meanSquaredError : undefined;
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
    const [pv, tv] = [scope.float32View(p), scope.float32View(t)];
    let sum = 0;
    for (let i = 0; i < pv.length; i++) {
      const d = Math.fround(tv[i]! - pv[i]!);
      sum = Math.fround(sum + Math.fround(d * d));
    }
    return scope.float32(Float32Array.of(sum / Math.fround(pv.length)), []);
  },
  gradient(scope, p, t) {
    const out = scope.output(p.shape);
    const [pv, tv, dy] = [scope.float32View(p), scope.float32View(t), scope.float32View(out)];
    const g = Math.fround(1 / Math.fround(pv.length));
    for (let i = 0; i < pv.length; i++) dy[i] = g * Math.fround(2 * Math.fround(pv[i]! - tv[i]!));
    return out;
  },
};
