// The wasm backend's tensors start on 16 bytes (aligned-heap.ts), keep their values, and go back
// to the heap whole: by Mosaic's free or, for memory its C++ kernels allocated, by emscripten's.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../src/tfjs/backends.js';

interface WasmBackend {
  dataIdMap: { get(id: object): { memoryOffset: number } };
}

const offsetOf = (t: tf.Tensor) => (tf.backend() as unknown as WasmBackend).dataIdMap.get(t.dataId).memoryOffset;

describe('wasm tensors aligned on 16 bytes', () => {
  it('every size starts on 16 bytes and reads back what was written', async () => {
    await useBackend('wasm');
    const before = tf.memory().numBytes;
    const tensors = Array.from({ length: 40 }, (_, i) => tf.range(0, i * 3 + 1, 1, 'float32'));
    const results = tensors.map((t) => tf.mul(t, 2));
    expect([...tensors, ...results].map((t) => offsetOf(t) % 16)).toEqual(Array(80).fill(0));
    expect(Array.from(results[13]!.dataSync())).toEqual(Array.from({ length: 40 }, (_, k) => 2 * k));
    tf.dispose([...tensors, ...results]);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('allocations freed in any order are reused without corrupting live tensors', async () => {
    await useBackend('wasm');
    const keep = tf.fill([257], 7);
    for (let round = 0; round < 50; round++) {
      const made = Array.from({ length: 20 }, (_, i) => tf.ones([1 + ((round * 7 + i * 13) % 97)]));
      tf.dispose(made.filter((_, i) => i % 2 === round % 2));
      tf.dispose(made.filter((_, i) => i % 2 !== round % 2));
    }
    expect(offsetOf(keep) % 16).toBe(0);
    expect(new Set(keep.dataSync())).toEqual(new Set([7]));
    keep.dispose();
  });

  it('outputs the C++ kernels allocated themselves are freed as theirs', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      const boxes = tf.tensor2d([0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, 2, 1, 3], [3, 4]);
      const scores = tf.tensor1d([0.9, 0.8, 0.7]);
      const kept = tf.image.nonMaxSuppression(boxes, scores, 3, 0.5);
      expect(Array.from(kept.dataSync())).toEqual([0, 2]);
      tf.dispose([boxes, scores, kept]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
