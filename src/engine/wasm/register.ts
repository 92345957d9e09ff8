import * as tf from '@tensorflow/tfjs';
import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop-input.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';

const BACKEND = 'wasm';

/** The gradient kernels tfjs-backend-wasm lacks that Layers models need, composed from its own kernels. */
export function trainingKernelConfigs(): KernelConfig[] {
  return [
    conv2DBackpropFilterConfig(BACKEND),
    depthwiseConv2dNativeBackpropFilterConfig(BACKEND),
    depthwiseConv2dNativeBackpropInputConfig(BACKEND),
    unsortedSegmentSumConfig(BACKEND),
  ];
}

/**
 * Registers, for the wasm backend, each of those kernels that it does not have yet (a later
 * tfjs-backend-wasm with its own kernel keeps it). Safe to call more than once.
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of trainingKernelConfigs()) {
    if (tf.getKernel(config.kernelName, BACKEND)) continue;
    tf.registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
