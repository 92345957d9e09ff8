import type { KernelBackend, KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import { composeKernels } from './kernel-scope.js';
import { SimdKernels } from './simd-kernels.js';

/** A kernel tfjs-core does not have: a ReLU's gradient dy · step(y) from the ReLU's output y. */
export const RELU_GRAD = 'ReluGrad';

/**
 * ReluGrad on wasm: one SIMD pass (simd/kernels.ts `reluGrad`) for float32 tensors of one shape,
 * where tfjs-core's gradient of a fused ReLU runs Step and then Multiply (two passes over a layer's
 * whole output and a tensor between them: 0.45 → 0.15 ms for the bench CNN's first layer); the
 * same two kernels where the SIMD kernels cannot run. The same bits either way.
 */
export function reluGradConfig(backendName: string): KernelConfig {
  return {
    kernelName: RELU_GRAD,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
      const kernels = SimdKernels.of(backend as KernelBackend);
      const simd =
        kernels &&
        dy.dtype === 'float32' &&
        y.dtype === 'float32' &&
        tfjs.util.arraysEqual(dy.shape, y.shape) &&
        kernels.inHeap(dy) &&
        kernels.inHeap(y);
      if (simd) return kernels.reluGrad(dy, y);
      return composeKernels(backend as KernelBackend, backendName, inputs, (k) =>
        k.binary('Multiply', dy, k.run('Step', { x: y }, { alpha: 0 })),
      );
    },
  };
}
