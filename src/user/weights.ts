import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs/tfjs.js';

/** Tensors of a weights file read into `bin`, in the order of `specs`. */
export function decodeWeightFile(bin: Buffer, specs: tf.io.WeightsManifestEntry[]): tf.Tensor[] {
  const map = tfjs.io.decodeWeights(
    bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer,
    specs,
  );
  return specs.map((s) => map[s.name]!);
}
