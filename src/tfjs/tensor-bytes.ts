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

/** Where a float32 or int32 tensor's data lie in the wasm backend's heap, or undefined (another backend, no data yet). */
function inHeap(t: tf.Tensor): { memory: WebAssembly.Memory; offset: number } | undefined {
  const engine = tfjs.engine() as unknown as { state: { tensorInfo: WeakMap<object, { backend: unknown }> } };
  const backend = t.isDisposed ? undefined : engine.state.tensorInfo.get(t.dataId)?.backend;
  const offset = isWasm(backend) ? backend.dataIdMap.get(t.dataId)?.memoryOffset : undefined;
  return isWasm(backend) && typeof offset === 'number' ? { memory: backend.wasm.asm.memory, offset } : undefined;
}

/**
 * The bytes of a float32 or int32 tensor, as `dataSync` gives its values (and `tf.io.encodeWeights`
 * writes them). On wasm a view of the backend's heap, no copy: read it before the next TF.js
 * operation, which may free the buffer or grow the heap. Elsewhere, the values read.
 */
export function tensorBytes(t: tf.Tensor): Uint8Array {
  if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`tensorBytes: a ${t.dtype} tensor`);
  const heap = inHeap(t);
  if (heap) return new Uint8Array(heap.memory.buffer, heap.offset, t.size * 4);
  const values = t.dataSync();
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * A tensor's values as `dataSync` gives them. On wasm, for float32 and int32, a view of the
 * backend's heap (no copy, no buffer to collect): read it before the next TF.js operation.
 */
export function tensorValues(t: tf.Tensor): ArrayLike<number> {
  const heap = t.dtype === 'float32' || t.dtype === 'int32' ? inHeap(t) : undefined;
  if (!heap) return t.dataSync() as ArrayLike<number>;
  return t.dtype === 'float32'
    ? new Float32Array(heap.memory.buffer, heap.offset, t.size)
    : new Int32Array(heap.memory.buffer, heap.offset, t.size);
}
