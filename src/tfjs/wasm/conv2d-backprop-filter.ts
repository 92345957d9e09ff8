import type * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { expectShape, filterGradientAxis, forwardGeometry, spatialAxes } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';
import { SimdKernels, windowGeometry } from './simd-kernels.js';

const KERNEL = 'Conv2DBackpropFilter';

/** tfjs never passes dilations to this kernel (its Conv2D gradient refuses them); we accept them. */
type Attrs = Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };

/**
 * The filter gradient of an NHWC convolution: a SIMD kernel on wasm's heap (bench/wasm-layers.mjs:
 * 2.4× faster than the convolution below for the bench CNN's second layer, ~10× for its first,
 * on one channel), or, where the heap cannot be reached, `filterGradientByConvolution`.
 */
export function conv2DBackpropFilter(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape, dilations = 1 } = attrs as unknown as Attrs;
    if (dataFormat !== undefined && dataFormat !== 'NHWC') {
      throw new Error(`${KERNEL} (wasm): dataFormat '${dataFormat}' is not supported, only 'NHWC' (as wasm's Conv2D)`);
    }
    const info = forwardGeometry(x.shape, filterShape, { strides, dilations, pad, dimRoundingMode });
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    const simd = x.dtype === 'float32' && dy.dtype === 'float32' ? SimdKernels.of(backend as KernelBackend) : undefined;
    if (simd) {
      return simd.convFilterGrad(x, dy, windowGeometry(info));
    }
    return composeKernels(backend as KernelBackend, backendName, inputs, (k) =>
      filterGradientByConvolution(k, x, dy, info),
    );
  };
}

/**
 * The filter gradient as one XNNPACK convolution:
 * dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s+kh·d, ow·s+kw·d, ci] · dy[n,oh,ow,co]
 * is conv2d(x as [Cin,H,W,N], dy as the filter [OH,OW,N,Cout]) with stride d and dilation s:
 * the batch becomes the summed channel axis and Cin the batch. Its output [Cin,KH,KW,Cout] is
 * transposed to [KH,KW,Cin,Cout]. (XNNPACK repacks dy, large, as a filter on every call.)
 */
export function filterGradientByConvolution(
  k: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const [h, w] = spatialAxes(info).map(filterGradientAxis);
  const xT = k.transpose(x, [3, 1, 2, 0]);
  const dyT = k.transpose(dy, [1, 2, 0, 3]);
  const conv = k.conv2d(
    xT,
    dyT,
    [info.dilationHeight, info.dilationWidth],
    [info.strideHeight, info.strideWidth],
    [
      [0, 0],
      [h.before, h.after],
      [w.before, w.after],
      [0, 0],
    ],
  );
  const cropped = k.slice(conv, [0, 0, 0, 0], [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels]);
  return k.transpose(cropped, [1, 2, 0, 3]);
}

export function conv2DBackpropFilterConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: conv2DBackpropFilter(backendName) };
}
