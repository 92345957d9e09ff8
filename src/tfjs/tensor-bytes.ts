import type * as tf from '@tensorflow/tfjs';
import { tfjs } from './tfjs.js';

/** What this reads of tfjs-backend-wasm's backend: where a tensor's data is in its heap. */
interface WasmHeap {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
}

const isWasm = (backend: unknown): backend is WasmHeap =>
  typeof (backend as Partial<WasmHeap> | undefined)?.dataIdMap?.get === 'function' &&
  (backend as Partial<WasmHeap>).wasm?.asm?.memory instanceof WebAssembly.Memory;

/**
 * The bytes of a float32 or int32 tensor, as `dataSync` gives its values (and `tf.io.encodeWeights`
 * writes them). On wasm a view of the backend's heap, no copy: read it before the next TF.js
 * operation, which may free the buffer or grow the heap. Elsewhere, the values read.
 */
export function tensorBytes(t: tf.Tensor): Uint8Array {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`tensorBytes: a ${t.dtype} tensor`);
  const engine = tfjs.engine() as unknown as { state: { tensorInfo: WeakMap<object, { backend: unknown }> } };
  const backend = t.isDisposed ? undefined : engine.state.tensorInfo.get(t.dataId)?.backend;
  const offset = isWasm(backend) ? backend.dataIdMap.get(t.dataId)?.memoryOffset : undefined;
  if (isWasm(backend) && typeof offset === 'number')
    return new Uint8Array(backend.wasm.asm.memory.buffer, offset, t.size * 4);
  const values = t.dataSync();
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
