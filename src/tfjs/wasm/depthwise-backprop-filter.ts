import type {
  DepthwiseConv2dNativeBackpropFilterAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { expectShape, filterGradientAxis, forwardGeometry, spatialAxes } from './conv-geometry.js';
import { composeKernels } from './kernel-scope.js';

const KERNEL = 'DepthwiseConv2dNativeBackpropFilter';

/**
 * The filter gradient of a depthwise convolution (channel multiplier M) as one depthwise
 * convolution in XNNPACK: dW[kh,kw,c,m] = Σ_n Σ_{oh,ow} xpad[n, oh·s+kh·d, ow·s+kw·d, c] ·
 * dy[n,oh,ow,c·M+m]. Each (c, n) pair becomes a channel of one image: x as [1,H,W,C·N], dy as
 * the filter [OH,OW,C·N,M], stride d and dilation s, give [1,KH,KW,C·N·M] (channels ordered
 * c, n, m); summing over n gives [KH,KW,C,M].
 */
export function depthwiseConv2dNativeBackpropFilter(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } =
      attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = forwardGeometry(
      x.shape,
      filterShape,
      { strides, dilations, pad, dimRoundingMode },
      { depthwise: true },
    );
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    const [h, w] = spatialAxes(info).map(filterGradientAxis);
    const { batchSize: n, inChannels: c, outHeight, outWidth, filterHeight, filterWidth } = info;
    const m = info.outChannels / c;

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const image = k.reshape(k.transpose(x, [1, 2, 3, 0]), [1, info.inHeight, info.inWidth, c * n]);
      const dy5 = k.reshape(dy, [n, outHeight, outWidth, c, m]);
      const filter = k.reshape(k.transpose(dy5, [1, 2, 3, 0, 4]), [outHeight, outWidth, c * n, m]);
      const conv = k.depthwiseConv2d(
        image,
        filter,
        [info.dilationHeight, info.dilationWidth],
        [info.strideHeight, info.strideWidth],
        [
          [0, 0],
          [h.before, h.after],
          [w.before, w.after],
          [0, 0],
        ],
      );
      const rows = k.reshape(conv, [h.outSize, w.outSize, c * n * m]);
      const cropped = k.slice(rows, [0, 0, 0], [filterHeight, filterWidth, c * n * m]);
      return k.sum(k.reshape(cropped, [filterHeight, filterWidth, c, n, m]), 3);
    });
  };
}

export function depthwiseConv2dNativeBackpropFilterConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: depthwiseConv2dNativeBackpropFilter(backendName) };
}
