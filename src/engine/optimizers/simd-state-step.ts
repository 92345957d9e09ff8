import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { SimdKernels, type StateKernel } from '../../tfjs/wasm/simd-kernels.js';

/** What a step reads of a tfjs-core optimizer: its state variables for the variable at a position, its scalars. */
interface StateStep {
  kernel: StateKernel;
  /** The optimizer's state variables for the i-th variable, in the kernel's order (undefined: not made yet). */
  states(i: number): (tf.Variable | undefined)[];
  scalars: number[];
  /** What tfjs-core's step updates once all variables are stepped (Adamax's iteration and β1ᵗ). */
  after?(simd: SimdKernels): void;
}

type Slots = ({ variable: tf.Variable } | undefined)[];
interface Internals {
  learningRate: number;
  decay: number;
  momentum: number;
  rho: number;
  epsilon: number;
  centered: boolean;
  useNesterov: boolean;
  accumulatedMeanSquares: Slots;
  accumulatedMoments: Slots;
  accumulatedGrads: Slots;
  accumulatedUpdates: Slots;
  accumulations: Slots;
  accumulatedFirstMoment: Slots;
  accumulatedWeightedInfNorm: Slots;
  beta1: number;
  beta2: number;
  iteration: tf.Variable;
  accBeta1: tf.Variable;
  incrementIterations(): void;
}

/** The step of `optimizer` as simd/kernels.ts has it, with its scalars as tfjs-core rounds them, or undefined. */
function stepOf(optimizer: tf.Optimizer): StateStep | undefined {
  const o = optimizer as unknown as Internals;
  const f = Math.fround;
  const slots =
    (...of: Slots[]) =>
    (i: number) =>
      of.map((s) => s[i]?.variable);
  switch (optimizer.getClassName()) {
    case 'RMSProp':
      // ms ← ms·decay + (g·g)·(1 − decay); mom ← mom·momentum + (g·lr) / √(ms + ε); p ← p − mom
      return o.centered
        ? undefined
        : {
            kernel: 'rmsprop',
            states: slots(o.accumulatedMeanSquares, o.accumulatedMoments),
            scalars: [f(o.decay), f(1 - o.decay), f(o.momentum), f(o.learningRate), f(o.epsilon)],
          };
    case 'Adagrad':
      // acc ← acc + g·g; p ← (g / √(acc + ε))·(−lr) + p, ε the backend's at each step
      return {
        kernel: 'adagrad',
        states: slots(o.accumulatedGrads),
        scalars: [f(-o.learningRate), f(tfjs.backend().epsilon())],
      };
    case 'Momentum':
      // acc ← m·acc + g; p ← (−lr)·acc + p (Nesterov: (−lr)·(g + acc·m) + p)
      return {
        kernel: 'momentum',
        states: slots(o.accumulations),
        scalars: [f(o.momentum), f(-o.learningRate), o.useNesterov ? 1 : 0],
      };
    case 'Adadelta':
      return {
        kernel: 'adadelta',
        states: slots(o.accumulatedGrads, o.accumulatedUpdates),
        scalars: [f(o.rho), f(1 - o.rho), f(o.epsilon), f(-o.learningRate)],
      };
    case 'Adamax': {
      // The rate as tfjs-core computes it in float32 each step: (−lr / (t·decay + 1)) / (1 − β1ᵗ).
      const [t, accBeta1] = [o.iteration, o.accBeta1].map((s) => s.dataSync()[0]!) as [number, number];
      const rate = f(f(f(-o.learningRate) / f(f(t * f(o.decay)) + 1)) / f(1 - accBeta1));
      return {
        kernel: 'adamax',
        states: slots(o.accumulatedFirstMoment, o.accumulatedWeightedInfNorm),
        scalars: [f(o.beta1), f(1 - o.beta1), f(o.beta2), f(o.epsilon), rate],
        // t + 1 and β1ᵗ·β1 as tfjs-core's Add and Multiply of float32 scalars round them.
        after: (simd) => {
          simd.assignScalar(o.iteration, f(t + 1));
          simd.assignScalar(o.accBeta1, f(accBeta1 * f(o.beta1)));
        },
      };
    }
    default:
      return undefined;
  }
}

/**
 * The step of TF.js's RMSprop (not centered), Adagrad, Momentum, Adadelta or Adamax
 * (`applyGradients` of these gradients for these variables, in this order, then flush-state.ts) on
 * the wasm backend as one SIMD pass per variable (simd/kernels.ts) instead of five to fifteen
 * kernels, several of them scalar loops: a step of the bench MLP's 269,322 parameters took 2.8 ms
 * with RMSprop or Adadelta, 2.7–3.2 with Adamax and 1.3 with Adagrad, ~0.3 this way.
 * Bit-identical: the same float32 operations in the same order and the same float32 scalars. The state stays TF.js's own variables, given new buffers as its ops
 * would give them, or written over with `inPlace` where nothing else shares them (the caller
 * guarantees that no kernel keeps what it made from them, as for simd-adam.ts).
 *
 * Returns false, having done nothing, where it cannot: another optimizer or a centered RMSprop,
 * not the wasm backend or its memory out of reach, a variable without a gradient or state (the
 * first step creates it), or data not in the heap; the caller then steps with TF.js.
 */
export function simdStateStep(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  gradients: (tf.Tensor | undefined)[],
  inPlace = false,
): boolean {
  const step = stepOf(optimizer);
  const simd = step && SimdKernels.of(tfjs.backend());
  if (!step || !simd) return false;
  const work: [tf.Variable, tf.Tensor, tf.Variable[]][] = [];
  for (const [i, value] of variables.entries()) {
    const gradient = gradients[i];
    const states = step.states(i);
    if (!gradient || states.some((s) => !s)) return false;
    const all = [value, gradient, ...(states as tf.Variable[])];
    if (all.some((t) => t.dtype !== 'float32' || t.size !== value.size || !simd.inHeap(t))) return false;
    work.push([value, gradient, states as tf.Variable[]]);
  }
  const engine = tfjs.engine();
  tfjs.tidy(() => {
    for (const [value, gradient, states] of work) {
      if (inPlace && simd.owns(value) && states.every((s) => simd.owns(s))) {
        simd.stateStep(step.kernel, value, gradient, states, step.scalars, true);
        continue;
      }
      const [p1, ...states1] = simd
        .stateStep(step.kernel, value, gradient, states, step.scalars)
        .map((t) => engine.makeTensorFromTensorInfo(t));
      for (const [k, s] of states.entries()) s.assign(states1[k]!);
      value.assign(p1!);
    }
  });
  step.after?.(simd);
  (optimizer as unknown as Internals).incrementIterations();
  return true;
}
