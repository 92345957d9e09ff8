// A checkpoint's tensors encoded into a buffer kept from one checkpoint to the next
// (src/engine/checkpoints/weight-bytes.ts): the specs and bytes of tf.io.encodeWeights, on wasm
// (read straight from its heap) and on cpu.
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGroups } from '../../dist/engine/checkpoints/weight-bytes.js';
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
    ['float32 and int32 tensors: read from where the backend keeps them', false],
    ['with a bool tensor among them: tf.io.encodeWeights itself', true],
  ])('%s, the specs and bytes tf.io.encodeWeights gives for every group', async (_, withBool) => {
    await useBackend(backend);
    const gs = withBool
      ? [[{ name: 'mask', tensor: tf.tensor([true, false, true], [3], 'bool') }], ...groups()]
      : groups();
    const encoded = await encodeGroups(gs);
    const reference = await Promise.all(gs.map((g) => tf.io.encodeWeights(g)));
    expect(encoded.specs).toEqual(reference.map((r) => r.specs));
    expect(encoded.bytes).toEqual(reference.map((r) => r.data.byteLength));
    expect(bytesOf(Buffer.concat(encoded.body))).toEqual(
      bytesOf(Buffer.concat(reference.map((r) => Buffer.from(r.data)))),
    );
    encoded.release();
    tf.dispose(gs.flat().map((t) => t.tensor));
  });

  it('reuse one buffer from a checkpoint to the next, and give checkpoints written at once a buffer each', async () => {
    await useBackend(backend);
    const gs = groups();
    const first = await encodeGroups(gs);
    const second = await encodeGroups(gs);
    expect(second.body[0]!.buffer).not.toBe(first.body[0]!.buffer);
    const written = bytesOf(Buffer.concat(first.body));
    first.release();
    const third = await encodeGroups(gs);
    expect(third.body[0]!.buffer).toBe(first.body[0]!.buffer);
    expect(bytesOf(Buffer.concat(third.body))).toEqual(written);
    // The second, not yet given back, was not written over.
    expect(bytesOf(Buffer.concat(second.body))).toEqual(written);
    second.release();
    third.release();
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
