import { tfjs } from '../tfjs.js';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input.js';
import { conv3DBackpropConfigs } from './conv3d-backprop.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input.js';
import { maxPool3DConfigs } from './max-pool-3d.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';
import { sumLeading } from './sum-leading.js';
import { addRows } from './add-rows.js';
import { maxPool } from './max-pool.js';
import { matMul } from './mat-mul.js';
import { conv2d } from './conv2d.js';
import { reluGradConfig } from './relu-grad.js';
import { sharedCast, sharedIdentity } from './shared-buffer.js';

const BACKEND = 'wasm';

/** Gradient kernels tfjs-backend-wasm 4.22 lacks that Layers models need, composed from its own kernels, and ReluGrad (relu-grad.ts). */
export function missingKernelConfigs(): KernelConfig[] {
  return [
    conv2DBackpropFilterConfig(BACKEND),
    depthwiseConv2dNativeBackpropFilterConfig(BACKEND),
    depthwiseConv2dNativeBackpropInputConfig(BACKEND),
    unsortedSegmentSumConfig(BACKEND),
    reluGradConfig(BACKEND),
  ];
}

/**
 * Kernels of tfjs-backend-wasm 4.22 rebuilt from its other kernels or SIMD ones: MaxPoolGrad, MaxPool3D and
 * MaxPool3DGrad are wrong for windows of values ≤ 0, Conv3DBackpropInputV2 always and
 * Conv3DBackpropFilterV2 at strides above 1; Conv2DBackpropInput is a plain C loop, ~10×
 * slower than the XNNPACK convolution that computes it; the matrix products with a transposed
 * operand (both gradients of a dense layer) are plain C loops too and become a transpose and
 * wasm's own untransposed product; Sum over leading axes (bias gradients) transposes first, Add of
 * a bias and MaxPool are slow: SIMD kernels; Identity and a Cast to the same dtype copy where they
 * can share the buffer. These wrap wasm's own kernels, which must be
 * registered already, and fall back to them.
 */
export function replacementKernelConfigs(): KernelConfig[] {
  // wasm's own config with its kernel wrapped: its setup, which binds the C function, is kept.
  const wrap = (kernelName: string, wrapper: (own: KernelFunc) => KernelFunc): KernelConfig[] => {
    const own = tfjs.getKernel(kernelName, BACKEND);
    if (own && !ownKernels.has(kernelName)) ownKernels.set(kernelName, own.kernelFunc);
    return own ? [{ ...own, kernelFunc: wrapper(own.kernelFunc) }] : [];
  };
  const wrapped = [
    ...wrap('BatchMatMul', (own) => matMul(BACKEND, own, false)),
    ...wrap('_FusedMatMul', (own) => matMul(BACKEND, own, true)),
    ...wrap('Conv2D', (own) => conv2d(BACKEND, own, false)),
    ...wrap('FusedConv2D', (own) => conv2d(BACKEND, own, true)),
    ...wrap('Sum', sumLeading),
    ...wrap('Add', addRows),
    ...wrap('MaxPool', maxPool),
    ...wrap('Identity', sharedIdentity),
    ...wrap('Cast', sharedCast),
  ];
  return [
    maxPoolGradConfig(BACKEND),
    ...maxPool3DConfigs(BACKEND),
    conv2DBackpropInputConfig(BACKEND),
    ...conv3DBackpropConfigs(BACKEND),
    ...wrapped,
  ];
}

const ownKernels = new Map<string, KernelFunc>();

/** wasm's own kernel that Mosaic wrapped (tests run the fallback paths with it), once registered. */
export const ownWasmKernel = (kernelName: string): KernelFunc | undefined => ownKernels.get(kernelName);

let registered = false;

/**
 * Registers those kernels for the wasm backend: each missing one that wasm still lacks (a later
 * tfjs-backend-wasm with its own keeps it), and the replacements in place of wasm's. Once.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  registered = true;
  for (const config of missingKernelConfigs()) {
    if (!tfjs.getKernel(config.kernelName, BACKEND)) tfjs.registerKernel(config);
  }
  for (const config of replacementKernelConfigs()) {
    if (tfjs.getKernel(config.kernelName, BACKEND)) tfjs.unregisterKernel(config.kernelName, BACKEND);
    tfjs.registerKernel(config);
  }
}
