import { tfjs } from '../tfjs.js';
import type { KernelBackend, KernelFunc, SumAttrs, TensorInfo } from '@tensorflow/tfjs';
import { SimdKernels } from './simd-kernels.js';

/**
 * wasm 4.22's Sum over leading axes (a bias gradient: [N,H,W,C] summed to [C]) first transposes
 * the summed axes to the end, a full copy (0.9 ms for 64×26×26×16). Over leading axes of float32
 * data this sums the rows in place instead (0.3 ms), in float64 in order as the cpu backend does;
 * every other Sum is wasm's own, `original`.
 */
export function sumLeading(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = tfjs.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    const simd = leading && x.dtype === 'float32' ? SimdKernels.of(args.backend as KernelBackend) : undefined;
    if (!simd) return original(args);
    const sum = simd.sumLeading(x, axes.length);
    if (keepDims) sum.shape = [...axes.map(() => 1), ...sum.shape];
    return sum;
  };
}
