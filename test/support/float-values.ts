// Float32 values for the optimizer tests (simd-adam, simd-state-step), the same on every run.
import * as tf from '@tensorflow/tfjs';

/** Deterministic values over many magnitudes (mulberry32), zeros included. */
export function spreadValues(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float32Array.from({ length: size }, () => {
    const u = next();
    return u < 0.02 ? 0 : (next() * 2 - 1) * 10 ** (u * 8 - 5);
  });
}

/** The float32 bits of each tensor, to compare exactly (−0 and NaN payloads included). */
export const bits = (ts: tf.Tensor[]) => ts.map((t) => [...new Uint32Array(Float32Array.from(t.dataSync()).buffer)]);

/** Nonzero and below the smallest normal float32, 2⁻¹²⁶. */
export const subnormal = (x: number) => x !== 0 && Math.abs(x) < 2 ** -126;

/** A TF.js optimizer's state variables, field by field (its arrays of `{ variable }` slots). */
export const optimizerStateOf = (o: tf.Optimizer) =>
  Object.values(o).flatMap((v) =>
    Array.isArray(v) ? v.flatMap((x) => (x?.variable instanceof tf.Variable ? [x.variable as tf.Variable] : [])) : [],
  );
