import type {
  Conv2DAttrs,
  FusedConv2DAttrs,
  KernelBackend,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import { SimdKernels, windowGeometry } from './simd-kernels.js';
import { finishFused, type FusedInputs, fusedEpilogue } from './fused-epilogue.js';

/**
 * Conv2D and FusedConv2D of float32 NHWC data on wasm by the SIMD convolution (simd/kernels.ts
 * `conv2d`), which reads the filter as it is: XNNPACK's convolution repacks it on every call, and
 * a layer's filter changes every step (the bench CNN's second layer: 2.8 ms a call in XNNPACK).
 * The bias and a ReLU are added as each tile is finished; another activation or a bias of another
 * shape by wasm's kernels after. Other data formats and dtypes, or where the SIMD kernels cannot
 * run: wasm's own kernel, `original`.
 */
export function conv2d(backendName: string, original: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const backend = args.backend as KernelBackend;
    const { x, filter, bias } = args.inputs as unknown as {
      x: TensorInfo;
      filter: TensorInfo;
    } & FusedInputs;
    const attrs = args.attrs as unknown as FusedConv2DAttrs & Conv2DAttrs;
    const kernels = SimdKernels.of(backend);
    const operands = bias ? [x, filter, bias] : [x, filter];
    if (
      !kernels ||
      (attrs.dataFormat ?? 'NHWC') !== 'NHWC' ||
      x.shape.length !== 4 ||
      operands.some((t) => t.dtype !== 'float32' || !kernels.inHeap(t))
    )
      return original(args);
    const info = tfjs.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const epilogue = fusedEpilogue(bias, info.outChannels, fused ? attrs.activation : 'linear');
    const y = kernels.conv2d(x, filter, info.outShape, windowGeometry(info), epilogue.bias, epilogue.relu);
    if (epilogue.inKernel) return y;
    return finishFused(
      backend,
      backendName,
      args.inputs,
      y,
      epilogue.bias,
      args.attrs as NamedAttrMap & FusedConv2DAttrs,
    );
  };
}
