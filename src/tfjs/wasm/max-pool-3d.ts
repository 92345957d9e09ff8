// tfjs-backend-wasm 4.22's MaxPool3D and MaxPool3DGrad start each window's search at FLT_MIN, the
// smallest positive float: a window whose values are all ≤ 0 pools to 1.2e-38 and sends its
// gradient to element 0. These replace them. Max pooling is separable: the maximum over a
// depth × height × width box is the maximum over depth of the maxima over height × width, so
// MaxPool3D is two of wasm's 2-D MaxPool (XNNPACK): over (H, W) of x as [N·D, H, W, C], then
// over depth of the result as [N, D, OH·OW, C] with a [fd, 1] window.
import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import type {
  KernelBackend,
  KernelConfig,
  KernelFunc,
  MaxPool3DAttrs,
  MaxPool3DGradAttrs,
  TensorInfo,
} from '@tensorflow/tfjs';
import { expectShape } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';
import { maxPoolGradient, type PoolAxis } from './max-pool-grad.js';

type Conv3DInfo = tf.backend_util.Conv3DInfo;

/**
 * The pooling's geometry, in which tfjs' 'same' padding can be negative when the stride exceeds
 * the window (computePool3DInfo does not clamp it, unlike the 2-D one): the cpu backend then
 * starts the windows inside the input. Negative padding is turned into a cut of the input, so
 * that `info` describes the cut input with padding ≥ 0.
 */
function geometry(
  kernel: string,
  x: TensorInfo,
  attrs: MaxPool3DAttrs | MaxPool3DGradAttrs,
): { info: Conv3DInfo; cut: [number, number][] } {
  const dataFormat = (attrs as MaxPool3DAttrs).dataFormat;
  if (dataFormat !== undefined && dataFormat !== 'NDHWC') {
    throw new Error(`${kernel} (wasm): dataFormat '${dataFormat}' is not supported, only 'NDHWC'`);
  }
  const info = tfjs.backend_util.computePool3DInfo(
    x.shape as [number, number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const p = info.padInfo;
  const cut: [number, number][] = [
    [p.front, p.back],
    [p.top, p.bottom],
    [p.left, p.right],
  ].map(([b, a]) => [Math.max(0, -b!), Math.max(0, -a!)]);
  const [[cf, cb], [ct, cbo], [cl, cr]] = cut as [[number, number], [number, number], [number, number]];
  const inDepth = info.inDepth - cf - cb;
  const inHeight = info.inHeight - ct - cbo;
  const inWidth = info.inWidth - cl - cr;
  const padInfo = {
    ...p,
    front: Math.max(0, p.front),
    back: Math.max(0, p.back),
    top: Math.max(0, p.top),
    bottom: Math.max(0, p.bottom),
    left: Math.max(0, p.left),
    right: Math.max(0, p.right),
  };
  return {
    info: {
      ...info,
      inDepth,
      inHeight,
      inWidth,
      padInfo,
      inShape: [info.batchSize, inDepth, inHeight, inWidth, info.inChannels],
    },
    cut,
  };
}

/** x without the cut positions (see `geometry`). */
function cutInput(k: KernelScope, x: TensorInfo, info: Conv3DInfo, cut: [number, number][]): TensorInfo {
  return k.slice(x, [0, cut[0]![0], cut[1]![0], cut[2]![0], 0], info.inShape);
}

/** x [N,D,H,W,C] pooled over height and width only: [N·D, OH, OW, C]. */
function poolRows(k: KernelScope, x: TensorInfo, info: Conv3DInfo, dimRoundingMode?: string): TensorInfo {
  const { batchSize: n, inDepth, inHeight, inWidth, inChannels: c, padInfo: p } = info;
  const slices = k.reshape(x, [n * inDepth, inHeight, inWidth, c]);
  return k.maxPool(
    slices,
    [info.filterHeight, info.filterWidth],
    [info.strideHeight, info.strideWidth],
    [
      [0, 0],
      [p.top, p.bottom],
      [p.left, p.right],
      [0, 0],
    ],
    dimRoundingMode,
  );
}

const depthAxes = (info: Conv3DInfo): [PoolAxis, PoolAxis] => [
  {
    inSize: info.inDepth,
    outSize: info.outDepth,
    filterSize: info.filterDepth,
    stride: info.strideDepth,
    padBefore: info.padInfo.front,
  },
  {
    inSize: info.outHeight * info.outWidth,
    outSize: info.outHeight * info.outWidth,
    filterSize: 1,
    stride: 1,
    padBefore: 0,
  },
];

const rowAxes = (info: Conv3DInfo): [PoolAxis, PoolAxis] => [
  {
    inSize: info.inHeight,
    outSize: info.outHeight,
    filterSize: info.filterHeight,
    stride: info.strideHeight,
    padBefore: info.padInfo.top,
  },
  {
    inSize: info.inWidth,
    outSize: info.outWidth,
    filterSize: info.filterWidth,
    stride: info.strideWidth,
    padBefore: info.padInfo.left,
  },
];

export function maxPool3D(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const a = attrs as unknown as MaxPool3DAttrs;
    const { info, cut } = geometry('MaxPool3D', x, a);
    const { batchSize: n, inDepth, outDepth, outHeight, outWidth, inChannels: c, padInfo: p } = info;
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const rows = k.reshape(poolRows(k, cutInput(k, x, info, cut), info, a.dimRoundingMode), [
        n,
        inDepth,
        outHeight * outWidth,
        c,
      ]);
      const pooled = k.maxPool(
        rows,
        [info.filterDepth, 1],
        [info.strideDepth, 1],
        [
          [0, 0],
          [p.front, p.back],
          [0, 0],
          [0, 0],
        ],
        a.dimRoundingMode,
      );
      return k.reshape(pooled, [n, outDepth, outHeight, outWidth, c]);
    });
  };
}

/**
 * The gradient through the same two stages, backwards: over depth (windows of the row maxima
 * z), then over height × width of each depth slice. The cpu backend's 3-D rule gives a tie to
 * the last maximum in (depth, row, column) order: the last depth whose z holds it, then the
 * last position of that slice; so both stages take the last.
 */
export function maxPool3DGrad(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
    const a = attrs as unknown as MaxPool3DGradAttrs;
    const { info, cut } = geometry('MaxPool3DGrad', input, a);
    expectShape('MaxPool3DGrad', 'dy', dy.shape, info.outShape);
    const { batchSize: n, inDepth, outDepth, outHeight, outWidth, inChannels: c } = info;
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const x = cutInput(k, input, info, cut);
      const rowMaxima = poolRows(k, x, info, a.dimRoundingMode);
      const flat = (t: TensorInfo, depth: number) => k.reshape(t, [n, depth, outHeight * outWidth, c]);
      const dRows = maxPoolGradient(k, flat(rowMaxima, inDepth), flat(dy, outDepth), depthAxes(info), 'last');
      const slices = k.reshape(x, [n * inDepth, info.inHeight, info.inWidth, c]);
      const dx = maxPoolGradient(
        k,
        slices,
        k.reshape(dRows, [n * inDepth, outHeight, outWidth, c]),
        rowAxes(info),
        'last',
      );
      return k.pad(k.reshape(dx, info.inShape), [[0, 0], ...cut, [0, 0]]);
    });
  };
}

export function maxPool3DConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: 'MaxPool3D', backendName, kernelFunc: maxPool3D(backendName) },
    { kernelName: 'MaxPool3DGrad', backendName, kernelFunc: maxPool3DGrad(backendName) },
  ];
}
