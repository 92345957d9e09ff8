import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import type { KernelBackend, KernelConfig, KernelFunc, MaxPoolGradAttrs, TensorInfo } from '@tensorflow/tfjs';
import { expectShape } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';
import { SimdKernels, windowGeometry } from './simd-kernels.js';

const KERNEL = 'MaxPoolGrad';
const FLT_MAX = 3.4028234663852886e38;

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
 * to [N, OH·s, OW·s, C] is, by two 3-D transposes, a table [s·s, N·OH·OW·C] whose rows are the
 * offsets r of the group and whose columns are the (window, channel) pairs; the groups' tables
 * stacked hold every window as one column. All the work is then on long contiguous rows, where
 * wasm's kernels are fast (XNNPACK): the column maxima y by MaxPool over the rows; Step(y − x)
 * marks the maxima 2, the rest 1 (y − x > 0 exactly when x < y, y ≥ x); times each row's rank, the
 * column maximum (MaxPool again) is the rank of the chosen maximum, first or last by `tie`, and
 * Relu(rank − best + 1) is 1 there, 0 elsewhere (ranks are integers). Times dy, the shares go
 * back the same way, each group's block grid shifted by q·s and added (overlapping windows add
 * up), cut to the input. Padding and offsets outside the window (s > K) hold −∞, never the
 * maximum of a finite window. No GatherV2, StridedSlice, transposes of rank > 4 (they loop
 * element by element), ArgMax or compares (slow on short rows).
 */
export function maxPoolGradient(
  k: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  axes: [PoolAxis, PoolAxis],
  tie: Tie,
): TensorInfo {
  const [h, w] = axes;
  const [n, , , c] = x.shape as [number, number, number, number];
  const [sh, sw, oh, ow] = [h.stride, w.stride, h.outSize, w.outSize];
  const [gh, gw] = [Math.ceil(h.filterSize / sh), Math.ceil(w.filterSize / sw)];
  const [canvasH, canvasW] = [(oh + gh - 1) * sh, (ow + gw - 1) * sw];
  const columns = n * oh * ow * c;
  const block = sh * sw;
  const groups = gh * gw;
  const width = groups * block;

  // The input in padded coordinates, exactly [N, canvasH, canvasW, C].
  const [afterH, afterW] = [canvasH - h.padBefore - h.inSize, canvasW - w.padBefore - w.inSize];
  const cut = k.slice(x, [0, 0, 0, 0], [n, h.inSize + Math.min(0, afterH), w.inSize + Math.min(0, afterW), c]);
  const padded = k.pad(
    cut,
    [
      [0, 0],
      [h.padBefore, Math.max(0, afterH)],
      [w.padBefore, Math.max(0, afterW)],
      [0, 0],
    ],
    -Infinity,
  );

  // Row g·block + r_w·s_h + r_h of the table is offset (q_h·s_h + r_h, q_w·s_w + r_w) of group g.
  const offsets = Array.from({ length: width }, (_, row) => {
    const [g, r] = [Math.floor(row / block), row % block];
    return [Math.floor(g / gw) * sh + (r % sh), (g % gw) * sw + Math.floor(r / sh)] as const;
  });
  let shares: TensorInfo;
  if (width === 1) {
    shares = k.reshape(dy, [1, columns]);
  } else {
    const tables: TensorInfo[] = [];
    for (let g = 0; g < groups; g++) {
      const [qh, qw] = [Math.floor(g / gw), g % gw];
      tables.push(toTable(k, k.slice(padded, [0, qh * sh, qw * sw, 0], [n, oh * sh, ow * sw, c]), sh, sw));
    }
    let table = k.concat(tables, 0);
    if (groups > 1) k.free(...tables);
    if (offsets.some(([i, j]) => i >= h.filterSize || j >= w.filterSize)) {
      // A minimum, not a sum: +∞ − ∞ would be NaN.
      const outside = Float32Array.from(offsets, ([i, j]) =>
        i < h.filterSize && j < w.filterSize ? Infinity : -Infinity,
      );
      table = k.binary('Minimum', table, k.float32(outside, [width, 1]));
    }
    // Ranks width + 1 … 2·width, highest for the position the tie rule prefers (window row-major
    // order, first or last): a maximum (2·rank ≥ 2·width + 2) outranks every other (rank ≤ 2·width).
    const ranks = Float32Array.from(offsets, ([i, j]) => {
      const order = i * gw * sw + j;
      return width + 1 + (tie === 'first' ? width - 1 - order : order);
    });
    const columnMax = (t: TensorInfo) =>
      k.reshape(
        k.maxPool(
          k.reshape(t, [1, width, 1, columns]),
          [width, 1],
          [width, 1],
          [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
          ],
        ),
        [1, columns],
      );
    // y clipped to finite values: y − x is then never ∞ − ∞ (NaN); a maximum of +∞ is marked by
    // FLT_MAX − ∞ < 0. A window of −∞ only marks none and gives its dy to its highest rank.
    const maxima = k.run('ClipByValue', { x: columnMax(table) }, { clipValueMin: -FLT_MAX, clipValueMax: FLT_MAX });
    const marks = k.run('Step', { x: k.binary('Sub', maxima, table) }, { alpha: 2 });
    const ranked = k.binary('Multiply', marks, k.float32(ranks, [width, 1]));
    const threshold = k.binary('Sub', columnMax(ranked), k.float32(Float32Array.of(1), []));
    const chosen = k.run('Relu', { x: k.binary('Sub', ranked, threshold) });
    shares = k.binary('Multiply', chosen, k.reshape(dy, [1, columns]));
  }

  let canvas: TensorInfo | undefined;
  for (let g = 0; g < groups; g++) {
    const [qh, qw] = [Math.floor(g / gw), g % gw];
    const slab = groups > 1 ? k.slice(shares, [g * block, 0], [block, columns]) : shares;
    const grid = fromTable(k, slab, [n, oh, ow, c], sh, sw);
    const placed = k.pad(grid, [
      [0, 0],
      [qh * sh, (gh - 1 - qh) * sh],
      [qw * sw, (gw - 1 - qw) * sw],
      [0, 0],
    ]);
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
  return k.pad(inside, [
    [0, 0],
    [0, h.inSize - takeH],
    [0, w.inSize - takeW],
    [0, 0],
  ]);
}

/**
 * x [N, OH·s_h, OW·s_w, C] as s_h·s_w blocks, one per window: [s_h·s_w, N·OH·OW·C], row
 * r_w·s_h + r_h holding offset (r_h, r_w) of every (window, channel). Two 3-D transposes:
 * (n, o, r_h, p, r_w, c) → (r_h, n, o, p, r_w, c) → (r_w, r_h, n, o, p, c).
 */
function toTable(k: KernelScope, x: TensorInfo, sh: number, sw: number): TensorInfo {
  const [n, height, width, c] = x.shape as [number, number, number, number];
  const [oh, ow] = [height / sh, width / sw];
  let t = k.reshape(x, [n * oh, sh, ow * sw * c]);
  if (sh > 1) t = k.transpose(t, [1, 0, 2]);
  t = k.reshape(t, [sh * n * oh * ow, sw, c]);
  if (sw > 1) t = k.transpose(t, [1, 0, 2]);
  return k.reshape(t, [sh * sw, n * oh * ow * c]);
}

/** The inverse of `toTable`: a table [s_h·s_w, N·OH·OW·C] back to [N, OH·s_h, OW·s_w, C]. */
function fromTable(
  k: KernelScope,
  table: TensorInfo,
  [n, oh, ow, c]: [number, number, number, number],
  sh: number,
  sw: number,
): TensorInfo {
  let t = k.reshape(table, [sw, sh * n * oh * ow, c]);
  if (sw > 1) t = k.transpose(t, [1, 0, 2]);
  t = k.reshape(t, [sh, n * oh, ow * sw * c]);
  if (sh > 1) t = k.transpose(t, [1, 0, 2]);
  return k.reshape(t, [n, oh * sh, ow * sw, c]);
}

/** The pooled axes of a 2-D pooling, as tfjs resolved them. */
export function poolAxes(info: tf.backend_util.Conv2DInfo): [PoolAxis, PoolAxis] {
  return [
    {
      inSize: info.inHeight,
      outSize: info.outHeight,
      filterSize: info.effectiveFilterHeight,
      stride: info.strideHeight,
      padBefore: info.padInfo.top,
    },
    {
      inSize: info.inWidth,
      outSize: info.outWidth,
      filterSize: info.effectiveFilterWidth,
      stride: info.strideWidth,
      padBefore: info.padInfo.left,
    },
  ];
}

/**
 * tfjs-backend-wasm 4.22's own MaxPoolGrad starts each window's search at FLT_MIN, the smallest
 * positive float, so a window whose values are all ≤ 0 sends its gradient to element 0 of the
 * tensor; this one replaces it: one pass of a SIMD kernel on the heap (7× faster than the
 * composition), or, where the heap cannot be reached, `maxPoolGradient` composed from kernels
 * that are right.
 */
export function maxPoolGrad(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input, output } = inputs as { dy: TensorInfo; input: TensorInfo; output: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const info = tfjs.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    expectShape(KERNEL, 'output', output.shape, info.outShape);
    const simd =
      input.dtype === 'float32' && dy.dtype === 'float32' ? SimdKernels.of(backend as KernelBackend) : undefined;
    if (simd) {
      return simd.maxPoolGrad(input, dy, windowGeometry(info));
    }
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) =>
      maxPoolGradient(k, input, dy, poolAxes(info), 'first'),
    );
  };
}

export function maxPoolGradConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: maxPoolGrad(backendName) };
}
