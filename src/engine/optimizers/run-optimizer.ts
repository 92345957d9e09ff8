import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { optimizerState, restoreOptimizer, type NamedTensor } from './optimizer-state.js';
import { parameterCount } from '../chain/chain.js';
import { FlatOptimizer } from './flat-optimizer.js';
import { flushOptimizerState } from './flush-state.js';
import { simdAdamStep } from './simd-adam.js';
import { simdStateStep } from './simd-state-step.js';
import type { RunOptimizer } from './optimizer.js';

export type { RunOptimizer } from './optimizer.js';

/**
 * Below this many parameters one step over all variables at once (FlatOptimizer) saves more op
 * overhead than its concatenation and split cost; above, they copy every parameter twice a step
 * (measured: ~2 ms a step of an MLP 784-256-256-10 on wasm, where a split reads back to JavaScript).
 */
export const FUSE_BELOW = 20_000;

/**
 * The optimizer of a run alone: fused for small models, TF.js's own, variable by variable, otherwise.
 * `decay`: the factor of decoupled weight decay (optimizer.ts `decayFactor`), or undefined for none.
 */
export function runOptimizer(inner: tf.Optimizer, variables: tf.Variable[], decay?: number): RunOptimizer {
  return parameterCount(variables) < FUSE_BELOW
    ? new FlatOptimizer(inner, variables, undefined, decay)
    : new VariableOptimizer(inner, variables, decay);
}

/**
 * TF.js's optimizer as it is: one update per variable; Adam, RMSprop, Adagrad, Momentum, Adadelta
 * and Adamax on wasm as one SIMD pass per variable (simd-adam.ts, simd-state-step.ts),
 * bit-identical, wherever that can run; elsewhere (SGD, a centered RMSprop, a first step) TF.js's
 * step, its state then made free of subnormals (flush-state.ts).
 */
class VariableOptimizer implements RunOptimizer {
  constructor(
    private readonly inner: tf.Optimizer,
    private readonly variables: tf.Variable[],
    private readonly decay?: number,
  ) {}

  minimize(f: () => tf.Scalar): tf.Scalar {
    // As TF.js's minimize, with the decoupled decay between the gradients and their update.
    const { value, grads } = tfjs.variableGrads(f, this.variables);
    this.step(this.variables.map((v) => grads[v.name]));
    tfjs.dispose(Object.values(grads));
    return value;
  }

  step(gradients: (tf.Tensor | undefined)[], inPlace = false): void {
    if (simdAdamStep(this.inner, this.variables, gradients, this.decay, inPlace)) return;
    const factor = this.decay;
    if (factor !== undefined) {
      tfjs.tidy(() =>
        this.variables.forEach((v) => {
          v.assign(v.mul(tfjs.scalar(factor)));
        }),
      );
    }
    if (simdStateStep(this.inner, this.variables, gradients, inPlace)) return;
    this.inner.applyGradients(this.variables.map((v, i) => ({ name: v.name, tensor: gradients[i]! })));
    flushOptimizerState(this.inner);
  }

  sync(): void {}

  /** The optimizer's own variables, no copy: the bench MLP's moments cost ~0.2 ms an epoch to copy. */
  state(): Promise<NamedTensor[]> {
    return optimizerState(this.inner);
  }

  restore(state: NamedTensor[]): Promise<void> {
    return restoreOptimizer(this.inner, state);
  }

  dispose(): void {
    this.inner.dispose();
  }
}
