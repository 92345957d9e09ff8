import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { KernelScope } from '../../tfjs/wasm/kernel-scope.js';
import { builtinLoss, type LossFn } from '../chain/loss.js';

/** A loss's value for a prediction, and its gradient for the prediction, on a scope's kernels. */
export interface KernelLoss {
  value(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): TensorInfo;
  gradient(scope: KernelScope, prediction: TensorInfo, target: TensorInfo): TensorInfo;
}

/**
 * The built-in losses computed by the kernels that tfjs-core runs for them and for their gradient
 * under the tape, with the same inputs and attributes, so the same bits (dense-step.ts): the tape
 * around a loss of a few kernels cost ~0.4 ms a step of the bench MLP. Undefined for the others,
 * which dense-step.ts tapes. Each takes a float32 target of the prediction's shape.
 */
export function kernelLoss(loss: LossFn): KernelLoss | undefined {
  return loss === builtinLoss('mse') ? meanSquaredError : undefined;
}

/**
 * `tf.losses.meanSquaredError(target, prediction)` (no weights; SUM_BY_NONZERO_WEIGHTS): the
 * squared differences summed, divided by their number. Its gradient as the tape computes it from
 * dy = 1: RealDiv's for the numerator (dy / float32(count)), Sum's (that reshaped to [1, …] times
 * ones of the prediction's shape), SquaredDifference's for the prediction (dy · (2 · (p − t))).
 */
const meanSquaredError: KernelLoss = {
  value(scope, p, t) {
    const squares = scope.run('SquaredDifference', { a: t, b: p });
    const total = scope.run('Sum', { x: squares }, { axis: null, keepDims: false } as unknown as NamedAttrMap);
    return scope.run('RealDiv', { a: total, b: scope.float32(Float32Array.of(tfjs.util.sizeFromShape(p.shape)), []) });
  },
  gradient(scope, p, t) {
    const size = tfjs.util.sizeFromShape(p.shape);
    const count = scope.float32(Float32Array.of(size), []);
    const one = scope.float32(Float32Array.of(1), []);
    const dTotal = scope.run('RealDiv', { a: one, b: scope.run('Cast', { x: count }, { dtype: 'float32' }) });
    const expanded = { dataId: dTotal.dataId, shape: p.shape.map(() => 1), dtype: dTotal.dtype };
    const dSquares = scope.run('Multiply', {
      a: expanded,
      b: scope.float32(new Float32Array(size).fill(1), p.shape),
    });
    const twice = scope.run('Multiply', {
      a: scope.float32(Float32Array.of(2), []),
      b: scope.run('Sub', { a: p, b: t }),
    });
    return scope.run('Multiply', { a: dSquares, b: twice });
  },
};
