import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { SimdKernels } from '../../tfjs/wasm/simd-kernels.js';

/**
 * The state variables of a TF.js optimizer, as its fields hold them: arrays of `{ originalName,
 * variable }` (Momentum's accumulations; RMSProp's mean squares, moments and mean gradients;
 * Adagrad's, Adadelta's, Adamax's and Adam's accumulators). Made at its first step.
 */
function stateVariables(optimizer: tf.Optimizer): tf.Variable[] {
  const found: tf.Variable[] = [];
  for (const value of Object.values(optimizer))
    if (Array.isArray(value))
      for (const slot of value) {
        const variable = (slot as { variable?: unknown } | null)?.variable;
        if (variable instanceof tfjs.Variable) found.push(variable);
      }
  return found;
}

/**
 * After a step of TF.js's own optimizer on wasm, its state's subnormal values stored as +0, as
 * Mosaic's Adam stores its moments (simd/kernels.ts `adam`): momentum's velocity, RMSprop's mean
 * square (and Adadelta's, Adamax's) of a unit whose gradient stays 0 decay into the subnormals and
 * stick at the smallest, and on Intel CPUs every operation on one costs a microcode assist (the
 * bench MLP's RMSprop epochs went from ~0.23 to ~0.48 s within 25 epochs). A weight is the same
 * unless the state moves it by less than ~1e-30. One pass over the state (~0.1 ms for the bench
 * MLP's); other backends are left as they are (TensorFlow's CPU threads flush on their own).
 */
export function flushOptimizerState(optimizer: tf.Optimizer): void {
  const simd = SimdKernels.of(tfjs.backend());
  if (!simd) return;
  for (const v of stateVariables(optimizer))
    if (v.dtype === 'float32' && simd.inHeap(v) && simd.owns(v)) simd.flushSubnormals(v);
}
