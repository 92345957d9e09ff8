import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { expectShape } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';

const KERNEL = 'MaxPoolGrad';

/** One pooled axis: window o covers padded positions o·stride … o·stride + filterSize − 1. */
export interface PoolAxis {
  inSize: number;
  outSize: number;
  filterSize: number;
  stride: number;
  padBefore: number;
}

/**
 * Which of several equal maxima of a window gets its gradient: the cpu backend gives it to the
 * first (in window order) for 2-D pooling and to the last for 3-D pooling.
 */
export type Tie = 'first' | 'last';

/**
 * The gradient of max pooling over axes 1 and 2 of x [N,H,W,C], y = the pooled maxima [N,OH,OW,C]:
 * each window's dy goes to one position of the window holding its maximum. For each offset
 * (i, j) of the window, the strided view x[:, o·s+i, p·s+j] is compared with y; a running
 * "not yet found" mask keeps only the first match (or last, offsets taken backwards). The
 * per-offset contributions are then laid back on the input grid: offsets i = q·s + r with the
 * same q do not overlap, so they interleave into [N, OH·s, OW·s, C] by a stack, a transpose and
 * a reshape; groups of different q are shifted by q·s and added. Padding holds NaN, which
 * equals nothing.
 */
export function maxPoolGradient(k: KernelScope, x: TensorInfo, y: TensorInfo, dy: TensorInfo, axes: [PoolAxis, PoolAxis], tie: Tie): TensorInfo {
  const [h, w] = axes;
  const [n, , , c] = x.shape as [number, number, number, number];
  const padAfter = (a: PoolAxis) => Math.max(0, (a.outSize - 1) * a.stride + a.filterSize - a.padBefore - a.inSize);
  const xPadded = k.pad(x, [[0, 0], [h.padBefore, padAfter(h)], [w.padBefore, padAfter(w)], [0, 0]], -Infinity);

  const offsets: [number, number][] = [];
  for (let i = 0; i < h.filterSize; i++) for (let j = 0; j < w.filterSize; j++) offsets.push([i, j]);
  if (tie === 'last') offsets.reverse();
  const contribution = new Map<string, TensorInfo>();
  let remaining = k.run('OnesLike', { x: dy });
  offsets.forEach(([i, j], index) => {
    const view = k.stridedSlice(xPadded, [0, i, j, 0], [n, h.outSize, w.outSize, c], [1, h.stride, w.stride, 1]);
    const equal = k.binary('Equal', view, y);
    const isMax = k.cast(equal, 'float32');
    const taken = k.binary('Multiply', isMax, remaining);
    k.free(view, equal, isMax);
    if (index < offsets.length - 1) {
      const left = k.binary('Sub', remaining, taken);
      k.free(remaining);
      remaining = left;
    }
    contribution.set(`${i},${j}`, k.binary('Multiply', dy, taken));
    k.free(taken);
  });
  k.free(remaining);

  const groupsH = Math.ceil(h.filterSize / h.stride);
  const groupsW = Math.ceil(w.filterSize / w.stride);
  let canvas: TensorInfo | undefined;
  for (let qh = 0; qh < groupsH; qh++) {
    for (let qw = 0; qw < groupsW; qw++) {
      const rows = Math.min(h.stride, h.filterSize - qh * h.stride);
      const cols = Math.min(w.stride, w.filterSize - qw * w.stride);
      const parts: TensorInfo[] = [];
      for (let r = 0; r < rows; r++) for (let t = 0; t < cols; t++) parts.push(contribution.get(`${qh * h.stride + r},${qw * w.stride + t}`)!);
      const stacked = k.reshape(k.concat(parts.map((p) => k.reshape(p, [1, ...p.shape])), 0), [rows, cols, n, h.outSize, w.outSize, c]);
      const blocks = k.pad(stacked, [[0, h.stride - rows], [0, w.stride - cols], [0, 0], [0, 0], [0, 0], [0, 0]]);
      const interleaved = k.reshape(k.transpose(blocks, [2, 3, 0, 4, 1, 5]), [n, h.outSize * h.stride, w.outSize * w.stride, c]);
      const shifted = k.pad(interleaved, [[0, 0], [qh * h.stride, (groupsH - 1 - qh) * h.stride], [qw * w.stride, (groupsW - 1 - qw) * w.stride], [0, 0]]);
      if (canvas) {
        const sum = k.binary('Add', canvas, shifted);
        k.free(canvas, shifted);
        canvas = sum;
      } else {
        canvas = shifted;
      }
    }
  }
  // The canvas starts at padded position 0; the input starts at padBefore. Cut the padding and
  // any positions past the input, add zero rows for input the windows never reached.
  const [canvasH, canvasW] = [canvas!.shape[1]!, canvas!.shape[2]!];
  const takeH = Math.min(h.inSize, canvasH - h.padBefore);
  const takeW = Math.min(w.inSize, canvasW - w.padBefore);
  const cut = k.slice(canvas!, [0, h.padBefore, w.padBefore, 0], [n, takeH, takeW, c]);
  return k.pad(cut, [[0, 0], [0, h.inSize - takeH], [0, w.inSize - takeW], [0, 0]]);
}

/** The pooled axes of a 2-D pooling, as tfjs resolved them. */
export function poolAxes(info: tf.backend_util.Conv2DInfo): [PoolAxis, PoolAxis] {
  return [
    { inSize: info.inHeight, outSize: info.outHeight, filterSize: info.effectiveFilterHeight, stride: info.strideHeight, padBefore: info.padInfo.top },
    { inSize: info.inWidth, outSize: info.outWidth, filterSize: info.effectiveFilterWidth, stride: info.strideWidth, padBefore: info.padInfo.left },
  ];
}

/**
 * tfjs-backend-wasm 4.22's own MaxPoolGrad starts each window's search at FLT_MIN, the smallest
 * positive float, so a window whose values are all ≤ 0 sends its gradient to element 0 of the
 * tensor; this one replaces it, built from kernels that are right.
 */
export function maxPoolGrad(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input, output } = inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    expectShape(KERNEL, 'output', output.shape, info.outShape);
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => maxPoolGradient(k, input, output, dy, poolAxes(info), 'first'));
  };
}

export function maxPoolGradConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: maxPoolGrad(backendName) };
}
