import type { Conv2DBackpropInputAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { expectShape, forwardGeometry, inputGradientAxis, spatialAxes } from './conv-geometry.js';
import { composeKernels } from './kernel-scope.js';
import { spreadForInputGradient } from './spread-gradient.js';

const KERNEL = 'Conv2DBackpropInput';

/** tfjs never passes dilations to this kernel (its Conv2D gradient refuses them); we accept them. */
type Attrs = Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };

/**
 * The input gradient of an NHWC convolution as one convolution, so that it runs in XNNPACK
 * instead of wasm 4.22's own kernel (a plain C loop, ~10× slower):
 * dx[n,h,w,ci] = Σ_{kh,kw,co} z[n, h+pt−kh·d, w+pl−kw·d, co] · f[kh,kw,ci,co], z being dy with
 * s−1 zeros after each row and column. With the filter reversed in kh and kw and its channels
 * swapped ([KH,KW,Cout,Cin]) this is a stride-1 convolution, dilation d, of z padded (see
 * `inputGradientAxis`). Stride 1 needs no zeros: z is dy itself. NCHW (wasm's own kernel took
 * it) goes through the same convolution between two transposes.
 */
export function conv2DBackpropInput(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, inputShape, dilations = 1 } = attrs as unknown as Attrs;
    if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
      throw new Error(`${KERNEL} (wasm): dataFormat '${dataFormat}' is not supported, only 'NHWC' and 'NCHW'`);
    }
    if (inputShape?.length !== 4) throw new Error(`${KERNEL} (wasm): inputShape [${inputShape?.join(', ')}] must have rank 4`);
    if (filter.shape.length !== 4) throw new Error(`${KERNEL} (wasm): filter of shape [${filter.shape.join(', ')}] must have rank 4`);
    const nchw = dataFormat === 'NCHW';
    const info = forwardGeometry(inputShape, filter.shape, { strides, dilations, pad, dimRoundingMode }, { channelsFirst: nchw });
    const { inChannels } = info;
    if (filter.shape[2] !== inChannels) {
      throw new Error(`${KERNEL} (wasm): filter of shape [${filter.shape.join(', ')}] has ${filter.shape[2]} input channels, inputShape [${inputShape.join(', ')}] has ${inChannels}`);
    }
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    const [h, w] = spatialAxes(info).map(inputGradientAxis);

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const z = spreadForInputGradient(k, nchw ? k.transpose(dy, [0, 2, 3, 1]) : dy, info, h, w);
      const reversed = k.transpose(k.reverse(filter, [0, 1]), [0, 1, 3, 2]);
      const dx = k.conv2d(z, reversed, [1, 1], [info.dilationHeight, info.dilationWidth], [
        [0, 0],
        [Math.max(0, h.before), Math.max(0, h.after)],
        [Math.max(0, w.before), Math.max(0, w.after)],
        [0, 0],
      ]);
      return nchw ? k.transpose(dx, [0, 3, 1, 2]) : dx;
    });
  };
}

export function conv2DBackpropInputConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: conv2DBackpropInput(backendName) };
}
