import { tfjs } from '../tfjs.js';
import type {
  backend_util,
  Conv3DBackpropFilterV2Attrs,
  Conv3DBackpropInputV2Attrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs';
import { expectShape, filterGradientAxis, inputGradientAxis, type AxisGeometry } from './conv-geometry.js';
import { composeKernels } from './kernel-scope.js';
import { spreadForInputGradient } from './spread-gradient.js';

// wasm 4.22's Conv3DBackpropInputV2 is wrong on every shape tried, its Conv3DBackpropFilterV2
// at every stride above 1 (off by whole units: a conv3d behind another layer, or strided, trained
// on wrong gradients). Both are one Conv3D of wasm here, as the 2-D ones (conv2d-backprop-*.ts).
// tfjs-core computes no gradient for dilated 3-D convolutions, so there are none here.

type Shape5 = [number, number, number, number, number];

/** tfjs' geometry of the forward 3-D convolution, and its depth, height and width axes. */
function geometry(
  kernel: string,
  inputShape: number[],
  filterShape: number[],
  dy: TensorInfo,
  attrs: { strides: Conv3DBackpropInputV2Attrs['strides']; pad: 'valid' | 'same' },
): { info: backend_util.Conv3DInfo; axes: AxisGeometry[] } {
  const info = tfjs.backend_util.computeConv3DInfo(
    inputShape as Shape5,
    filterShape as Shape5,
    attrs.strides,
    1,
    attrs.pad,
  );
  expectShape(kernel, 'dy', dy.shape, info.outShape);
  const axes: AxisGeometry[] = [
    {
      inSize: info.inDepth,
      outSize: info.outDepth,
      filterSize: info.filterDepth,
      stride: info.strideDepth,
      dilation: 1,
      padBefore: info.padInfo.front,
    },
    {
      inSize: info.inHeight,
      outSize: info.outHeight,
      filterSize: info.filterHeight,
      stride: info.strideHeight,
      dilation: 1,
      padBefore: info.padInfo.top,
    },
    {
      inSize: info.inWidth,
      outSize: info.outWidth,
      filterSize: info.filterWidth,
      stride: info.strideWidth,
      dilation: 1,
      padBefore: info.padInfo.left,
    },
  ];
  return { info, axes };
}

/**
 * The input gradient: a stride-1 Conv3D of dy — s−1 zeros after each element along each axis,
 * padded or cut as `inputGradientAxis` says — with the filter reversed in space and its channel
 * axes swapped.
 */
export function conv3DBackpropInput(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, inputShape } = attrs as unknown as Conv3DBackpropInputV2Attrs;
    const { axes } = geometry('Conv3DBackpropInputV2', inputShape, filter.shape, dy, { strides, pad });

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const amounts = axes.map(inputGradientAxis);
      const spread = spreadForInputGradient(
        k,
        dy,
        axes.map((g) => g.stride),
        amounts,
      );
      const z = amounts.some((a) => a.before > 0 || a.after > 0)
        ? k.pad(spread, [
            [0, 0],
            ...amounts.map((a): [number, number] => [Math.max(0, a.before), Math.max(0, a.after)]),
            [0, 0],
          ])
        : spread;
      const reversed = k.transpose(k.reverse(filter, [0, 1, 2]), [0, 1, 2, 4, 3]);
      return k.run(
        'Conv3D',
        { x: z, filter: reversed },
        { strides: [1, 1, 1], pad: 'valid', dilations: [1, 1, 1], dataFormat: 'NDHWC' },
      );
    });
  };
}

/**
 * The filter gradient dW[kd,kh,kw,ci,co] = Σ_{n,o} xpad[n, o·s+k, ci] · dy[n, o, co]: a Conv3D of
 * x as [Cin,D,H,W,N] with dy as the filter [OD,OH,OW,N,Cout], dilation s (padding from
 * `filterGradientAxis`), whose output [Cin,KD,KH,KW,Cout] is cropped and transposed.
 */
export function conv3DBackpropFilter(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, filterShape } = attrs as unknown as Conv3DBackpropFilterV2Attrs;
    const { info, axes } = geometry('Conv3DBackpropFilterV2', x.shape, filterShape, dy, { strides, pad });
    const amounts = axes.map(filterGradientAxis);

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const xT = k.pad(k.transpose(x, [4, 1, 2, 3, 0]), [
        [0, 0],
        ...amounts.map((a): [number, number] => [a.before, a.after]),
        [0, 0],
      ]);
      const dyT = k.transpose(dy, [1, 2, 3, 0, 4]);
      const conv = k.run(
        'Conv3D',
        { x: xT, filter: dyT },
        { strides: [1, 1, 1], pad: 'valid', dilations: axes.map((g) => g.stride), dataFormat: 'NDHWC' },
      );
      const cropped = k.slice(
        conv,
        [0, 0, 0, 0, 0],
        [info.inChannels, info.filterDepth, info.filterHeight, info.filterWidth, info.outChannels],
      );
      return k.transpose(cropped, [1, 2, 3, 0, 4]);
    });
  };
}

export function conv3DBackpropConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: 'Conv3DBackpropInputV2', backendName, kernelFunc: conv3DBackpropInput(backendName) },
    { kernelName: 'Conv3DBackpropFilterV2', backendName, kernelFunc: conv3DBackpropFilter(backendName) },
  ];
}
