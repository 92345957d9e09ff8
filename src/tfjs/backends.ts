import { tfjs } from './tfjs.js';
import { createRequire } from 'node:module';
import { MosaicError } from '../core/errors.js';
import type { BackendName } from '../core/names.js';
import { registerWasmTrainingKernels } from './wasm/register.js';
import { alignTensorAllocations } from './wasm/aligned-heap.js';

const require = createRequire(import.meta.url);
let wasmRegistered = false;

/** Makes `name` the active backend, loading it on first use. */
export async function useBackend(name: BackendName): Promise<void> {
  if (tfjs.getBackend() === name) return;
  if (name === 'wasm' && !wasmRegistered) {
    require('@tensorflow/tfjs-backend-wasm');
    // wasm lacks some gradient kernels (Conv2DBackpropFilter, …) that training Layers models needs.
    registerWasmTrainingKernels();
    wasmRegistered = true;
  }
  if (name === 'tensorflow' && !tfjs.findBackend('tensorflow')) {
    try {
      require.resolve('@tensorflow/tfjs-node');
    } catch {
      throw new MosaicError(
        'backend = tensorflow needs @tensorflow/tfjs-node (or -gpu), which is not installed: `npm install @tensorflow/tfjs-node` where it can download libtensorflow, or use backend = cpu or wasm',
      );
    }
    await import('@tensorflow/tfjs-node' as string);
  }
  if (!(await tfjs.setBackend(name))) throw new MosaicError(`TensorFlow.js backend "${name}" failed to initialise`);
  await tfjs.ready();
  if (name === 'wasm') alignTensorAllocations(tfjs.backend());
}
