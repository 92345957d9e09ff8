import { tfjs } from '../tfjs.js';
import type { KernelBackend, KernelFunc, MaxPoolAttrs, TensorInfo } from '@tensorflow/tfjs';
import { SimdKernels, windowGeometry } from './simd-kernels.js';

/**
 * 2-D max pooling of float32 data by the SIMD kernel (5× faster than wasm 4.22's own on the CNN's
 * first pool, 64×26×26×16), with the cpu backend's rule for NaN (skipped) and empty windows (−∞);
 * every other MaxPool is wasm's own, `original`.
 */
export function maxPool(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const simd =
      x.dtype === 'float32' && x.shape.length === 4 ? SimdKernels.of(args.backend as KernelBackend) : undefined;
    if (!simd) return original(args);
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPoolAttrs;
    const info = tfjs.backend_util.computePool2DInfo(
      x.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    return simd.maxPool(x, info.outShape, windowGeometry(info));
  };
}
