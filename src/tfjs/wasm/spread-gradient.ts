import type { TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

/**
 * The output gradient dy `[N, …spatial, C]` made ready for an input gradient computed as a
 * stride-1 convolution: along each spatial axis, s−1 zeros after each element (nothing to do at
 * stride 1), then the positions that negative padding cuts removed (`amounts`, one per spatial
 * axis, from `inputGradientAxis`). Negative padding happens only when the forward pass had more
 * padding than its window reaches, or a stride larger than the dilated filter. The positive
 * amounts are the caller's padding.
 */
export function spreadForInputGradient(
  k: KernelScope,
  dy: TensorInfo,
  strides: number[],
  amounts: { before: number; after: number }[],
): TensorInfo {
  let z = dy;
  strides.forEach((stride, i) => {
    z = spreadAxis(k, z, i + 1, stride);
  });
  const begin = z.shape.map((_, axis) =>
    axis === 0 || axis > strides.length ? 0 : Math.max(0, -amounts[axis - 1]!.before),
  );
  const size = z.shape.map((d, axis) =>
    axis === 0 || axis > strides.length ? d : d - begin[axis]! - Math.max(0, -amounts[axis - 1]!.after),
  );
  return size.some((d, axis) => d !== z.shape[axis]) ? k.slice(z, begin, size) : z;
}

/** `x` with s−1 zeros after each element along `axis`. */
function spreadAxis(k: KernelScope, x: TensorInfo, axis: number, stride: number): TensorInfo {
  if (stride === 1) return x;
  const before = x.shape.slice(0, axis + 1);
  const after = x.shape.slice(axis + 1).reduce((p, d) => p * d, 1);
  const spread = k.pad(k.reshape(x, [...before, 1, after]), [
    ...before.map((): [number, number] => [0, 0]),
    [0, stride - 1],
    [0, 0],
  ]);
  return k.reshape(spread, [...x.shape.slice(0, axis), x.shape[axis]! * stride, ...x.shape.slice(axis + 1)]);
}
