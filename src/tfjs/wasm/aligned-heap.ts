import type { KernelBackend } from '@tensorflow/tfjs';

/** What this touches of tfjs-backend-wasm's emscripten module: malloc and free, as called and as exported. */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  asm?: { malloc?: (bytes: number) => number; free?: (pointer: number) => void };
}

const ALIGNMENT = 16;
const SLACK = 8; // malloc aligns to 8 bytes: at most 8 more reach the next 16-byte boundary
const aligned = new WeakSet<object>();

/**
 * tfjs-backend-wasm 4.22 allocates every tensor with emscripten's malloc, which aligns to 8 bytes:
 * half the tensors start 8 bytes off a 16-byte boundary, and one 16-byte SIMD load in four then
 * crosses a cache line (the bench MLP's products 5-25% slower alone, its whole step ~2%). From
 * this call on, the backend's allocations (`_malloc`, which its tensors and Mosaic's SIMD kernels'
 * scratch use) start on 16 bytes: 8 bytes more are asked for, and a pointer moved up is
 * remembered with malloc's own, which `_free` gives back. Pointers the C++ kernels allocated
 * themselves and the backend frees pass through unchanged. The functions are taken from the
 * module's exports: emscripten's `_malloc` and `_free` replace themselves with them on first call.
 * Another backend, or a module without these exports, is left as it is.
 */
export function alignTensorAllocations(backend: KernelBackend): void {
  const heap = (backend as unknown as { wasm?: EmscriptenHeap }).wasm;
  const malloc = heap?.asm?.malloc;
  const free = heap?.asm?.free;
  if (!heap || !malloc || !free || aligned.has(heap)) return;
  aligned.add(heap);
  const moved = new Map<number, number>();
  heap._malloc = (bytes: number) => {
    const pointer = malloc(bytes + SLACK) >>> 0;
    if (pointer === 0 || pointer % ALIGNMENT === 0) return pointer;
    const start = pointer + (ALIGNMENT - (pointer % ALIGNMENT));
    moved.set(start, pointer);
    return start;
  };
  heap._free = (pointer: number) => {
    const own = moved.get(pointer);
    if (own === undefined) return free(pointer);
    moved.delete(pointer);
    free(own);
  };
}
