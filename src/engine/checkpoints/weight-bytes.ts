import type * as tf from '@tensorflow/tfjs';
import { tensorBytes } from '../../tfjs/tensor-bytes.js';
import { tfjs } from '../../tfjs/tfjs.js';
import type { NamedTensor } from '../optimizers/optimizer-state.js';

/** Groups of tensors as `tf.io.encodeWeights` writes each: a spec per tensor, then their bytes in one body. */
export interface EncodedGroups {
  specs: tf.io.WeightsManifestEntry[][];
  /** Each group's bytes, one after the other in `body`. */
  bytes: number[];
  body: Buffer[];
  /** Gives the body's buffer back for the next checkpoint, once it is written. */
  release(): void;
}

/**
 * Buffers kept from one checkpoint to the next. A checkpoint of megabytes read into new buffers
 * every epoch (each tensor's values, then all of them joined) had V8 collect its old space every
 * 2-3 epochs of the bench MLP, ~10 ms each, most of it at the epoch's end. A pack writes its
 * members' checkpoints at once: one buffer each.
 */
const kept: Buffer[] = [];
const KEEP = 8;

function take(bytes: number): Buffer {
  const i = kept.findIndex((b) => b.length >= bytes);
  return i >= 0 ? kept.splice(i, 1)[0]! : Buffer.allocUnsafeSlow(bytes);
}

function giveBack(buffer: Buffer): void {
  if (kept.length < KEEP) kept.push(buffer);
}

/**
 * `groups` encoded as `tf.io.encodeWeights` encodes each, the same specs and bytes. Float32 and
 * int32 tensors (a run's weights and optimizer state) are copied from where their backend keeps
 * them into a kept buffer, at once; other dtypes go through `tf.io.encodeWeights`.
 */
export async function encodeGroups(groups: NamedTensor[][]): Promise<EncodedGroups> {
  const plain = groups.every((g) => g.every((t) => t.tensor.dtype === 'float32' || t.tensor.dtype === 'int32'));
  if (!plain) {
    const encoded = await Promise.all(groups.map((g) => tfjs.io.encodeWeights(g)));
    return {
      specs: encoded.map((e) => e.specs),
      bytes: encoded.map((e) => e.data.byteLength),
      body: encoded.map((e) => Buffer.from(e.data)),
      release: () => undefined,
    };
  }
  const bytes = groups.map((g) => g.reduce((n, t) => n + t.tensor.size * 4, 0));
  const total = bytes.reduce((a, b) => a + b, 0);
  const buffer = take(total);
  let offset = 0;
  // No TF.js operation between a view of the heap and its copy.
  for (const g of groups) {
    for (const t of g) {
      buffer.set(tensorBytes(t.tensor), offset);
      offset += t.tensor.size * 4;
    }
  }
  return {
    specs: groups.map((g) => g.map((t) => ({ name: t.name, shape: t.tensor.shape, dtype: t.tensor.dtype }))),
    bytes,
    body: [buffer.subarray(0, total)],
    release: () => giveBack(buffer),
  };
}
