// A checkpoint's tensors as views of where the backend keeps them, or encoded by TF.js
// (src/engine/checkpoints/weight-bytes.ts): the specs and bytes of tf.io.encodeWeights, on wasm
// (views of its heap) and on cpu.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGroups, viewGroups } from '../../dist/engine/checkpoints/weight-bytes.js';
import { useBackend } from '../../dist/tfjs/backends.js';
import { tensorBytes } from '../../dist/tfjs/tensor-bytes.js';

type Named = { name: string; tensor: tf.Tensor };

/** Groups as a checkpoint has them: weights of several shapes, a scalar, int32, a clone and a reshape sharing a buffer. */
function groups(): Named[][] {
  const w = tf.randomNormal([97, 13], 0, 1, 'float32', 3);
  return [
    [
      { name: 'p0', tensor: w },
      { name: 'p1', tensor: tf.randomUniform([5], -1, 1, 'float32', 4) },
      { name: 'p2', tensor: w.reshape([13, 97]) },
    ],
    [
      { name: 'iter', tensor: tf.scalar(7, 'int32') },
      { name: 'm', tensor: w.clone() },
      { name: 'counts', tensor: tf.tensor([3, -1, 2 ** 30], [3], 'int32') },
      { name: 'special', tensor: tf.tensor([Number.NaN, -0, Number.POSITIVE_INFINITY, 1e-40]) },
    ],
  ];
}

const bytesOf = (b: ArrayBuffer | Buffer) => [...new Uint8Array(b instanceof ArrayBuffer ? b : b)];

describe.each(['wasm', 'cpu'] as const)('checkpoint weights on %s', (backend) => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each([
    ['float32 and int32 tensors: views of where the backend keeps them', false],
    ['with a bool tensor among them: tf.io.encodeWeights itself', true],
  ])('%s, the specs and bytes tf.io.encodeWeights gives for every group', async (_, withBool) => {
    await useBackend(backend);
    const gs = withBool
      ? [[{ name: 'mask', tensor: tf.tensor([true, false, true], [3], 'bool') }], ...groups()]
      : groups();
    const viewed = viewGroups(gs);
    expect(viewed === undefined).toBe(withBool);
    const encoded = viewed ?? (await encodeGroups(gs));
    const reference = await Promise.all(gs.map((g) => tf.io.encodeWeights(g)));
    expect(encoded.specs).toEqual(reference.map((r) => r.specs));
    expect(encoded.bytes).toEqual(reference.map((r) => r.data.byteLength));
    expect(bytesOf(Buffer.concat(encoded.body))).toEqual(
      bytesOf(Buffer.concat(reference.map((r) => Buffer.from(r.data)))),
    );
    if (viewed && backend === 'wasm') {
      // Views of the heap (no copy): the reshape and the clone of w are views of w's bytes.
      expect(viewed.body.every((b) => b.buffer.byteLength > 1 << 20)).toBe(true);
      expect([viewed.body[2]!.byteOffset, viewed.body[4]!.byteOffset]).toEqual([
        viewed.body[0]!.byteOffset,
        viewed.body[0]!.byteOffset,
      ]);
      expect(viewed.body[1]!.byteOffset).not.toBe(viewed.body[0]!.byteOffset);
    }
    tf.dispose(gs.flat().map((t) => t.tensor));
  });

  it(`tensorBytes reads ${backend === 'wasm' ? 'the heap, without a copy' : 'the values'}`, async () => {
    await useBackend(backend);
    const t = tf.tensor([1.5, -2, 3]);
    const view = tensorBytes(t);
    expect([...new Float32Array(view.buffer, view.byteOffset, 3)]).toEqual([1.5, -2, 3]);
    if (backend === 'wasm') expect(view.buffer.byteLength).toBeGreaterThan(1 << 20);
    expect(() => tensorBytes(tf.tensor([true], [1], 'bool'))).toThrow(/bool/);
    t.dispose();
  });
});
