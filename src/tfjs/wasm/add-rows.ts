import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { SimdKernels } from './simd-kernels.js';

/**
 * wasm 4.22's Add with broadcasting loops element by element with index arithmetic: adding a bias
 * [C] to [64,26,26,16] takes 0.5 ms, a SIMD loop 0.1 ms. Where one float32 operand holds one value
 * per element of the other's last axis (shape [C] or [1,…,1,C], rank not above the other's), this
 * adds it row by row; float addition is exact to the rounding, so results are the same bits.
 * Every other Add is wasm's own, `original`.
 */
export function addRows(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const [big, row] = a.shape.length >= b.shape.length && isRowOf(b, a) ? [a, b] : isRowOf(a, b) ? [b, a] : [];
    const simd =
      big && a.dtype === 'float32' && b.dtype === 'float32' ? SimdKernels.of(args.backend as KernelBackend) : undefined;
    return simd ? simd.addRows(big!, row!) : original(args);
  };
}

/** Whether `row` ([C] or [1,…,1,C]) broadcasts along every axis of `x` but the last (C), x having more elements. */
function isRowOf(row: TensorInfo, x: TensorInfo): boolean {
  const c = x.shape[x.shape.length - 1];
  return (
    x.shape.length >= 2 &&
    row.shape.length <= x.shape.length &&
    row.shape.length >= 1 &&
    row.shape[row.shape.length - 1] === c &&
    row.shape.slice(0, -1).every((d) => d === 1) &&
    x.shape.slice(0, -1).some((d) => d > 1)
  );
}
