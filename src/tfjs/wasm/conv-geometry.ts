import { tfjs } from '../tfjs.js';
import type { backend_util } from '@tensorflow/tfjs';

type Conv2DInfo = backend_util.Conv2DInfo;

/**
 * Padding arithmetic of the convolutions that compute convolution gradients, one spatial axis
 * at a time. Forward convolution along an axis: y[o] = Σ_k xpad[o·s + k·d] · f[k], with
 * xpad[i] = x[i − padBefore], o < outSize, k < filterSize.
 */
export interface AxisGeometry {
  inSize: number;
  outSize: number;
  filterSize: number;
  stride: number;
  dilation: number;
  padBefore: number;
}

/**
 * The filter gradient dW[k] = Σ_o xpad[o·s + k·d] · dy[o] is a convolution of xpad with dy as
 * the filter, stride d and dilation s. It needs (K−1)·d + (O−1)·s + 1 input positions: pad
 * `before`/`after` to get exactly that. When the forward pass left trailing input unused,
 * `after` would be negative: it is 0 instead and the convolution yields `outSize` > K positions,
 * of which the first K are the gradient.
 */
export function filterGradientAxis(g: AxisGeometry): { before: number; after: number; outSize: number } {
  const needed = (g.filterSize - 1) * g.dilation + (g.outSize - 1) * g.stride + 1;
  const after = needed - g.padBefore - g.inSize;
  if (after >= 0) return { before: g.padBefore, after, outSize: g.filterSize };
  const span = (g.outSize - 1) * g.stride + 1;
  return { before: g.padBefore, after: 0, outSize: Math.floor((g.padBefore + g.inSize - span) / g.dilation) + 1 };
}

/**
 * The input gradient dx[h] = Σ_k z[h + padBefore − k·d] · f[k], where z is dy with s − 1 zeros
 * after each element (length O·s). With k' = K−1−k this is a stride-1 convolution, dilation d,
 * of z padded by `before` = (K−1)·d − padBefore and `after` = inSize + padBefore − O·s, with
 * the reversed filter. A negative amount means cutting that many positions of z instead.
 */
export function inputGradientAxis(g: AxisGeometry): { before: number; after: number } {
  return {
    before: (g.filterSize - 1) * g.dilation - g.padBefore,
    after: g.inSize + g.padBefore - g.outSize * g.stride,
  };
}

/** The attributes every convolution gradient kernel gets. */
export interface ConvAttrs {
  strides: [number, number] | number;
  dilations?: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** tfjs' geometry of the forward convolution (depthwise or not, NHWC unless `channelsFirst`) whose gradient a kernel computes. */
export function forwardGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  a: ConvAttrs,
  options: { depthwise?: boolean; channelsFirst?: boolean } = {},
): Conv2DInfo {
  return tfjs.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    options.depthwise ?? false,
    options.channelsFirst ? 'channelsFirst' : 'channelsLast',
  );
}

/** The height and width axes of a 2-D convolution, as tfjs' `computeConv2DInfo` resolved them. */
export function spatialAxes(c: Conv2DInfo): [AxisGeometry, AxisGeometry] {
  return [
    {
      inSize: c.inHeight,
      outSize: c.outHeight,
      filterSize: c.filterHeight,
      stride: c.strideHeight,
      dilation: c.dilationHeight,
      padBefore: c.padInfo.top,
    },
    {
      inSize: c.inWidth,
      outSize: c.outWidth,
      filterSize: c.filterWidth,
      stride: c.strideWidth,
      dilation: c.dilationWidth,
      padBefore: c.padInfo.left,
    },
  ];
}

/** Throws, naming the kernel, when a tensor's shape is not the one the convolution implies. */
export function expectShape(
  kernel: string,
  name: string,
  actual: readonly number[],
  expected: readonly number[],
): void {
  if (actual.length !== expected.length || actual.some((v, i) => v !== expected[i])) {
    throw new Error(`${kernel} (wasm): ${name} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}
