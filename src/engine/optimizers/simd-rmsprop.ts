import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { type RmspropScalars, SimdKernels } from '../../tfjs/wasm/simd-kernels.js';

/** What this step reads and writes of tfjs-core's RMSPropOptimizer (its state by the variables' positions). */
interface RmspropInternals {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
  accumulatedMeanSquares: ({ variable: tf.Variable } | undefined)[];
  accumulatedMoments: ({ variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

/**
 * TF.js's RMSprop step (`applyGradients` of these gradients for these variables, in this order,
 * then flush-state.ts) on the wasm backend as one SIMD pass per variable (simd/kernels.ts
 * `rmsprop`) instead of ten kernels, some of them scalar loops (the bench MLP's step: ~2.8 ms of
 * RMSprop, ~0.3 this way). Bit-identical: the same float32 operations in the same order and the
 * same float32 scalars. The mean squares and moments stay TF.js's own variables, given new buffers
 * as its ops would give them, or written over with `inPlace` where nothing else shares them (the
 * caller guarantees that no kernel keeps what it made from them, as for simd-adam.ts).
 *
 * Returns false, having done nothing, where it cannot: not RMSprop or a centered one, not the wasm
 * backend or its memory out of reach, a variable without a gradient or state (the first step
 * creates it), or data not in the heap; the caller then steps with TF.js.
 */
export function simdRmspropStep(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  gradients: (tf.Tensor | undefined)[],
  inPlace = false,
): boolean {
  if (optimizer.getClassName() !== 'RMSProp') return false;
  const rmsprop = optimizer as unknown as RmspropInternals;
  if (rmsprop.centered) return false;
  const simd = SimdKernels.of(tfjs.backend());
  if (!simd) return false;
  const steps: [tf.Variable, tf.Tensor, tf.Variable, tf.Variable][] = [];
  for (const [i, value] of variables.entries()) {
    const gradient = gradients[i];
    const ms = rmsprop.accumulatedMeanSquares[i]?.variable;
    const mom = rmsprop.accumulatedMoments[i]?.variable;
    if (!gradient || !ms || !mom) return false;
    const all = [value, gradient, ms, mom];
    if (all.some((t) => t.dtype !== 'float32' || t.size !== value.size || !simd.inHeap(t))) return false;
    steps.push([value, gradient, ms, mom]);
  }
  const f = Math.fround;
  const scalars: RmspropScalars = {
    decay: f(rmsprop.decay),
    oneMinusDecay: f(1 - rmsprop.decay),
    momentum: f(rmsprop.momentum),
    rate: f(rmsprop.learningRate),
    epsilon: f(rmsprop.epsilon),
  };
  const engine = tfjs.engine();
  tfjs.tidy(() => {
    for (const [value, gradient, ms, mom] of steps) {
      if (inPlace && simd.owns(value) && simd.owns(ms) && simd.owns(mom)) {
        simd.rmsprop(value, gradient, ms, mom, scalars, true);
        continue;
      }
      const [p1, ms1, mom1] = simd
        .rmsprop(value, gradient, ms, mom, scalars)
        .map((t) => engine.makeTensorFromTensorInfo(t));
      ms.assign(ms1!);
      mom.assign(mom1!);
      value.assign(p1!);
    }
  });
  rmsprop.incrementIterations();
  return true;
}
