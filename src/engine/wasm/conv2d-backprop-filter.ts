import * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropFilterAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { expectShape, filterGradientAxis, forwardGeometry, spatialAxes } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

const KERNEL = 'Conv2DBackpropFilter';

/** tfjs never passes dilations to this kernel (its Conv2D gradient refuses them); we accept them. */
type Attrs = Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };

/**
 * The filter gradient of an NHWC convolution as one convolution, so that it runs in XNNPACK
 * (or, for few input taps, as one matrix product: see `byPatches`):
 * dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s+kh·d, ow·s+kw·d, ci] · dy[n,oh,ow,co]
 * is conv2d(x as [Cin,H,W,N], dy as the filter [OH,OW,N,Cout]) with stride d and dilation s:
 * the batch becomes the summed channel axis and Cin the batch. Its output [Cin,KH,KW,Cout] is
 * transposed to [KH,KW,Cin,Cout].
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
    const { inChannels, outChannels, filterHeight, filterWidth } = info;
    if (filterHeight * filterWidth * inChannels <= outChannels && patchesFit(info)) {
      return composeKernels(backend as KernelBackend, backendName, inputs, (k) => byPatches(k, x, dy, info));
    }
    const [h, w] = spatialAxes(info).map(filterGradientAxis);

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const xT = k.transpose(x, [3, 1, 2, 0]);
      const dyT = k.transpose(dy, [1, 2, 0, 3]);
      const conv = k.conv2d(
        xT,
        dyT,
        [info.dilationHeight, info.dilationWidth],
        [info.strideHeight, info.strideWidth],
        [[0, 0], [h.before, h.after], [w.before, w.after], [0, 0]],
      );
      const cropped = k.slice(conv, [0, 0, 0, 0], [inChannels, filterHeight, filterWidth, outChannels]);
      return k.transpose(cropped, [1, 2, 0, 3]);
    });
  };
}

/** Whether a convolution with the forward pass's explicit padding gives its output size (not so for some `dimRoundingMode`s). */
function patchesFit(info: Conv2DInfo): boolean {
  const padAfter = [info.padInfo.bottom, info.padInfo.right];
  return spatialAxes(info).every((a, i) => Math.floor((a.inSize + a.padBefore + padAfter[i]! - ((a.filterSize - 1) * a.dilation + 1)) / a.stride) + 1 === a.outSize);
}

/**
 * For few input taps (KH·KW·Cin ≤ Cout, as a first layer on one channel): the patches of x,
 * P [N·OH·OW, KH·KW·Cin], by one convolution with the forward pass's geometry and an identity
 * filter (each output channel copies one tap: exact), then dW = Pᵀ·dy, one matrix product.
 * The one convolution above would use dy, large, as its filter: XNNPACK repacks it every call
 * and runs a KH'×KW' = OH×OW window for 3×3 outputs, 2–3× slower here.
 */
function byPatches(k: KernelScope, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const rows = info.batchSize * info.outHeight * info.outWidth;
  const identity = new Float32Array(taps * taps);
  for (let t = 0; t < taps; t++) identity[t * taps + t] = 1;
  const p = info.padInfo;
  const patches = k.conv2d(
    x,
    k.float32(identity, [info.filterHeight, info.filterWidth, info.inChannels, taps]),
    [info.strideHeight, info.strideWidth],
    [info.dilationHeight, info.dilationWidth],
    [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]],
  );
  const patchesT = k.reshape(k.transpose(k.reshape(patches, [rows, taps]), [1, 0]), [1, taps, rows]);
  const dw = k.run('BatchMatMul', { a: patchesT, b: k.reshape(dy, [1, rows, info.outChannels]) }, { transposeA: false, transposeB: false });
  return k.reshape(dw, info.filterShape);
}

export function conv2DBackpropFilterConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: conv2DBackpropFilter(backendName) };
}
