import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { SimdKernels, type AdamScalars } from '../../tfjs/wasm/simd-kernels.js';

/** What this step reads and writes of tfjs-core's AdamOptimizer (its moments by the variables' positions). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

/**
 * TF.js's Adam step (`applyGradients` of these gradients for these variables, in this order) on the
 * wasm backend as one SIMD pass per variable (simd/kernels.ts `adam`) instead of a dozen kernels
 * (88 for the bench MLP 784-256-256-10, ~1.5 ms of its step; this pass ~0.35 ms). Bit-identical:
 * the same float32 operations in the same order and the same float32 scalars, but for a moment
 * that comes out subnormal, stored as +0 (simd/kernels.ts `adam` says why: a unit that stops
 * learning made every later step 10-15× slower on Intel CPUs; TensorFlow flushes them too). The
 * moments stay TF.js's own variables, given new buffers as its ops would give them (so the
 * optimizer's state, checkpoints included, is TF.js's), its bias corrections computed as its ops compute them. `decay`: the
 * factor of decoupled weight decay (optimizer.ts `decayFactor`), applied in the same pass as
 * VariableOptimizer's product by the float32 scalar. `inPlace`: a variable and its moments whose
 * buffers no other tensor shares are written over (simd-kernels.ts `adam`: the caller guarantees
 * that no kernel keeps what it made from them), with no new buffers, nor tensors to assign.
 *
 * Returns false, having done nothing, where it cannot: not Adam, not the wasm backend or its memory
 * out of reach, a variable without a gradient or moments (the first step creates them), or data
 * not in the heap; the caller then steps with TF.js.
 */
export function simdAdamStep(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  gradients: (tf.Tensor | undefined)[],
  decay?: number,
  inPlace = false,
): boolean {
  if (optimizer.getClassName() !== 'Adam') return false;
  const simd = SimdKernels.of(tfjs.backend());
  if (!simd) return false;
  const adam = optimizer as unknown as AdamInternals;
  const steps: [tf.Variable, tf.Tensor, tf.Variable, tf.Variable][] = [];
  for (const [i, value] of variables.entries()) {
    const gradient = gradients[i];
    const m = adam.accumulatedFirstMoment[i]?.variable;
    const v = adam.accumulatedSecondMoment[i]?.variable;
    if (!gradient || !m || !v) return false;
    const all = [value, gradient, m, v];
    if (all.some((t) => t.dtype !== 'float32' || t.size !== value.size || !simd.inHeap(t))) return false;
    steps.push([value, gradient, m, v]);
  }
  const f = Math.fround;
  const [accBeta1, accBeta2] = [adam.accBeta1.dataSync()[0]!, adam.accBeta2.dataSync()[0]!];
  const scalars: AdamScalars = {
    beta1: f(adam.beta1),
    oneMinusBeta1: f(1 - adam.beta1),
    beta2: f(adam.beta2),
    oneMinusBeta2: f(1 - adam.beta2),
    // sub(1, accBeta): a float32 subtraction, exact in float64 and rounded once.
    oneMinusAccBeta1: f(1 - accBeta1),
    oneMinusAccBeta2: f(1 - accBeta2),
    epsilon: f(adam.epsilon),
    rate: f(-adam.learningRate),
    decay: decay === undefined ? 1 : f(decay),
  };
  const engine = tfjs.engine();
  tfjs.tidy(() => {
    for (const [value, gradient, m, v] of steps) {
      if (inPlace && simd.owns(value) && simd.owns(m) && simd.owns(v)) {
        simd.adam(value, gradient, m, v, scalars, true);
        continue;
      }
      const [p1, m1, v1] = simd.adam(value, gradient, m, v, scalars).map((t) => engine.makeTensorFromTensorInfo(t));
      m.assign(m1!);
      v.assign(v1!);
      value.assign(p1!);
    }
  });
  // accBeta ← accBeta · β as tfjs-core's Multiply of float32 scalars rounds it (the product of two
  // float32 values is exact in float64).
  simd.assignScalar(adam.accBeta1, f(accBeta1 * scalars.beta1));
  simd.assignScalar(adam.accBeta2, f(accBeta2 * scalars.beta2));
  adam.incrementIterations();
  return true;
}
