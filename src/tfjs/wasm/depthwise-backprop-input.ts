import type {
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { expectShape, forwardGeometry, inputGradientAxis, spatialAxes } from './conv-geometry.js';
import { composeKernels } from './kernel-scope.js';
import { spreadForInputGradient } from './spread-gradient.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropInput';

/**
 * The input gradient of a depthwise convolution (channel multiplier M) as one depthwise
 * convolution in XNNPACK: dx[n,h,w,c] = Σ_m Σ_{kh,kw} z[n, h+pt−kh·d, w+pl−kw·d, c·M+m] ·
 * f[kh,kw,c,m], z being dy with s−1 zeros after each row and column. With the filter reversed
 * in kh and kw this is a stride-1 convolution, dilation d, of z padded (see `inputGradientAxis`)
 * with the C·M channels each its own depthwise channel; the sum over m follows.
 */
export function depthwiseConv2dNativeBackpropInput(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, inputShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const info = forwardGeometry(
      inputShape,
      filter.shape,
      { strides, dilations, pad, dimRoundingMode },
      { depthwise: true },
    );
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    const [h, w] = spatialAxes(info).map(inputGradientAxis);
    const { batchSize: n, inChannels: c, outChannels: cm } = info;
    const { filterHeight, filterWidth } = info;

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const z = spreadForInputGradient(k, dy, [info.strideHeight, info.strideWidth], [h, w]);
      const reversed = k.reshape(k.reverse(filter, [0, 1]), [filterHeight, filterWidth, cm, 1]);
      const conv = k.depthwiseConv2d(
        z,
        reversed,
        [1, 1],
        [info.dilationHeight, info.dilationWidth],
        [
          [0, 0],
          [Math.max(0, h.before), Math.max(0, h.after)],
          [Math.max(0, w.before), Math.max(0, w.after)],
          [0, 0],
        ],
      );
      if (cm === c) return conv;
      return k.sum(k.reshape(conv, [n, info.inHeight, info.inWidth, c, cm / c]), 4);
    });
  };
}

export function depthwiseConv2dNativeBackpropInputConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: depthwiseConv2dNativeBackpropInput(backendName) };
}
