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
 * The gradient of max pooling over axes 1 and 2 of x [N,H,W,C] (upstream dy [N,OH,OW,C]): each
 * window's dy goes to the one position of the window that holds its maximum.
 *
 * Window offsets i = q·s + r (r < s): for each group (q_h, q_w), the input shifted by q·s and cut
 * to [N, OH·s, OW·s, C] reshapes, with no copy, into s×s blocks, one per window; 3-D and 4-D
 * transposes make them rows [N·OH·OW·C, s·s]. The groups' rows side by side, reordered to the
 * window's row-major order, with −∞ added at offsets ≥ the window (s > K), hold every window as
 * one row: ArgMax is its first maximum (of the reversed row: its last), and its one-hot times dy
 * is each position's share. The shares go back the same way, each group's block grid shifted by
 * q·s and added (overlapping windows add up), cut to the input. Padding holds −∞, never the
 * maximum of a finite window. Only fast wasm kernels: no GatherV2, StridedSlice or transposes of
 * rank > 4, which loop element by element.
 */
export function maxPoolGradient(k: KernelScope, x: TensorInfo, dy: TensorInfo, axes: [PoolAxis, PoolAxis], tie: Tie): TensorInfo {
  const [h, w] = axes;
  const [n, , , c] = x.shape as [number, number, number, number];
  const [sh, sw, oh, ow] = [h.stride, w.stride, h.outSize, w.outSize];
  const [gh, gw] = [Math.ceil(h.filterSize / sh), Math.ceil(w.filterSize / sw)];
  const [canvasH, canvasW] = [(oh + gh - 1) * sh, (ow + gw - 1) * sw];
  const rowsOf = n * oh * ow * c;
  const block = sh * sw;
  const width = gh * gw * block;

  // The input in padded coordinates, exactly [N, canvasH, canvasW, C].
  const [afterH, afterW] = [canvasH - h.padBefore - h.inSize, canvasW - w.padBefore - w.inSize];
  const cut = k.slice(x, [0, 0, 0, 0], [n, h.inSize + Math.min(0, afterH), w.inSize + Math.min(0, afterW), c]);
  const padded = k.pad(cut, [[0, 0], [h.padBefore, Math.max(0, afterH)], [w.padBefore, Math.max(0, afterW)], [0, 0]], -Infinity);

  const groups = gh * gw;
  const groupRows: TensorInfo[] = [];
  for (let g = 0; g < groups; g++) {
    const [qh, qw] = [Math.floor(g / gw), g % gw];
    const shifted = k.slice(padded, [0, qh * sh, qw * sw, 0], [n, oh * sh, ow * sw, c]);
    // (n, o, r_h, p, r_w, c) → (n, o, p, r_h, (r_w, c)) → (n, o, p, c, (r_h, r_w)).
    const t = k.transpose(k.reshape(shifted, [n * oh, sh, ow, sw * c]), [0, 2, 1, 3]);
    groupRows.push(k.reshape(k.transpose(k.reshape(t, [n * oh * ow, block, c]), [0, 2, 1]), [1, rowsOf, block]));
    k.free(t);
  }
  // [rows, (q_h, q_w, r_h, r_w)] → [rows, (q_h, r_h, q_w, r_w)]: the window's row-major order.
  let windows = groups > 1 ? k.reshape(k.transpose(k.concat(groupRows, 0), [1, 0, 2]), [rowsOf, width]) : k.reshape(groupRows[0]!, [rowsOf, width]);
  if (gw > 1 && sh > 1) windows = k.reshape(k.transpose(k.reshape(windows, [rowsOf * gh, gw, sh, sw]), [0, 2, 1, 3]), [rowsOf, width]);
  if (gh * sh > h.filterSize || gw * sw > w.filterSize) {
    const outside = Float32Array.from({ length: width }, (_, e) => {
      const [i, j] = [Math.floor(e / (gw * sw)), e % (gw * sw)];
      return i < h.filterSize && j < w.filterSize ? 0 : -Infinity;
    });
    windows = k.binary('Add', windows, k.float32(outside, [1, width]));
  }
  const ordered = tie === 'first' ? windows : k.reverse(windows, [1]);
  const argmax = k.run('ArgMax', { x: ordered }, { axis: [1] });
  const oneHot = k.cast(k.run('OneHot', { indices: argmax }, { depth: width, onValue: 1, offValue: 0, dtype: 'int32' }), 'float32');
  const chosen = tie === 'first' ? oneHot : k.reverse(oneHot, [1]);
  let shares = k.binary('Multiply', chosen, k.reshape(dy, [rowsOf, 1]));
  if (gw > 1 && sh > 1) shares = k.reshape(k.transpose(k.reshape(shares, [rowsOf * gh, sh, gw, sw]), [0, 2, 1, 3]), [rowsOf, width]);
  const byGroup = groups > 1 ? k.transpose(k.reshape(shares, [rowsOf, groups, block]), [1, 0, 2]) : shares;

  let canvas: TensorInfo | undefined;
  for (let g = 0; g < groups; g++) {
    const [qh, qw] = [Math.floor(g / gw), g % gw];
    const slab = groups > 1 ? k.slice(byGroup, [g, 0, 0], [1, rowsOf, block]) : byGroup;
    // (n, o, p, c, (r_h, r_w)) → (n, o, p, (r_h, r_w), c) → (n, o, r_h, p, (r_w, c)).
    const t = k.reshape(k.transpose(k.reshape(slab, [n * oh * ow, c, block]), [0, 2, 1]), [n * oh, ow, sh, sw * c]);
    const grid = k.reshape(k.transpose(t, [0, 2, 1, 3]), [n, oh * sh, ow * sw, c]);
    const placed = k.pad(grid, [[0, 0], [qh * sh, (gh - 1 - qh) * sh], [qw * sw, (gw - 1 - qw) * sw], [0, 0]]);
    if (canvas) {
      const sum = k.binary('Add', canvas, placed);
      k.free(canvas, placed);
      canvas = sum;
    } else {
      canvas = placed;
    }
  }
  // Back from padded coordinates: rows padBefore … padBefore + H − 1, zeros where no window reached.
  const takeH = Math.min(h.inSize, canvasH - h.padBefore);
  const takeW = Math.min(w.inSize, canvasW - w.padBefore);
  const inside = k.slice(canvas!, [0, h.padBefore, w.padBefore, 0], [n, takeH, takeW, c]);
  return k.pad(inside, [[0, 0], [0, h.inSize - takeH], [0, w.inSize - takeW], [0, 0]]);
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
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => maxPoolGradient(k, input, dy, poolAxes(info), 'first'));
  };
}

export function maxPoolGradConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: maxPoolGrad(backendName) };
}
