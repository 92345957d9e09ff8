import type * as tf from '@tensorflow/tfjs';
import { tensorBytes } from '../../tfjs/tensor-bytes.js';
import { tfjs } from '../../tfjs/tfjs.js';
import type { NamedTensor } from '../optimizers/optimizer-state.js';

/** Groups of tensors as `tf.io.encodeWeights` writes each: a spec per tensor, then their bytes. */
export interface EncodedGroups {
  specs: tf.io.WeightsManifestEntry[][];
  /** Each group's bytes, one after the other in `body`. */
  bytes: number[];
  /** The groups' bytes in pieces, in order. */
  body: Uint8Array[];
}

/**
 * `groups` as `tf.io.encodeWeights` encodes each, the same specs and bytes, when every tensor is
 * float32 or int32 (a run's weights and optimizer state); undefined otherwise. The pieces are the
 * tensors' bytes where their backend keeps them (on wasm views of its heap, no copy): write them
 * before the next TF.js operation. A checkpoint of megabytes copied out every epoch cost the bench
 * MLP ~0.4 ms an epoch, and read into new buffers had V8 collect its old space every 2-3 epochs.
 */
export function viewGroups(groups: NamedTensor[][]): EncodedGroups | undefined {
  if (!groups.every((g) => g.every((t) => t.tensor.dtype === 'float32' || t.tensor.dtype === 'int32')))
    return undefined;
  return {
    specs: groups.map((g) => g.map((t) => ({ name: t.name, shape: t.tensor.shape, dtype: t.tensor.dtype }))),
    bytes: groups.map((g) => g.reduce((n, t) => n + t.tensor.size * 4, 0)),
    body: groups.flatMap((g) => g.map((t) => tensorBytes(t.tensor))),
  };
}

/** `groups` encoded by `tf.io.encodeWeights` itself (copies), for tensors of any dtype. */
export async function encodeGroups(groups: NamedTensor[][]): Promise<EncodedGroups> {
  const encoded = await Promise.all(groups.map((g) => tfjs.io.encodeWeights(g)));
  return {
    specs: encoded.map((e) => e.specs),
    bytes: encoded.map((e) => e.data.byteLength),
    body: encoded.map((e) => new Uint8Array(e.data)),
  };
}
