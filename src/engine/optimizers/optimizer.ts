import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { OptimizerName } from '../../core/names.js';
import type { ProcessSettings } from '../../core/run-spec.js';
import type { NamedTensor } from './optimizer-state.js';

export function makeOptimizer(name: OptimizerName, lr: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tfjs.train.adam(lr);
    case 'sgd':
      return tfjs.train.sgd(lr);
    case 'rmsprop':
      return tfjs.train.rmsprop(lr);
    case 'adagrad':
      return tfjs.train.adagrad(lr);
    case 'adadelta':
      return tfjs.train.adadelta(lr);
    case 'adamax':
      return tfjs.train.adamax(lr);
    case 'momentum':
      return tfjs.train.momentum(lr, 0.9);
  }
}

/**
 * Decoupled weight decay (`[PROCESS] weight_decay`, as PyTorch's AdamW and SGDW): before each
 * optimizer step every trained parameter is multiplied by `1 − lr·weight_decay` (this factor
 * rounded to float32, the product too, as a TF.js `mul` by a scalar computes it), then the
 * optimizer's own update is added, from the gradient at the parameters before the decay. Stateless:
 * a checkpoint needs nothing more. Undefined (no decay) when weight_decay is 0 or absent.
 */
export function decayFactor(p: Pick<ProcessSettings, 'lr' | 'weight_decay'>): number | undefined {
  return p.weight_decay ? Math.fround(1 - p.lr * p.weight_decay) : undefined;
}

/** What a run's training loop needs of its optimizer. State is in the per-variable layout of TF.js's optimizers. */
export interface RunOptimizer {
  /** Computes `f`'s gradients for the variables and steps; returns `f`'s value (kept). */
  minimize(f: () => tf.Scalar): tf.Scalar;
  /**
   * One step from gradients computed elsewhere, in the variables' order, as `minimize` steps from
   * its own (the caller disposes them). `inPlace`: the variables' buffers may be written over
   * where nothing else shares them, the same numbers (simd-adam.ts), which the caller guarantees
   * safe: no kernel keeps anything made from them (XNNPACK's packed weights).
   */
  step(gradients: (tf.Tensor | undefined)[], inPlace?: boolean): void;
  /** After the variables were set from elsewhere (a checkpoint). */
  sync(): void;
  /**
   * The state, valid until the next step: the optimizer's own variables where it keeps the state
   * in the checkpoint's layout, else tensors made for the call, which the caller disposes
   * (`disposeStateCopies`).
   */
  state(): Promise<NamedTensor[]>;
  restore(state: NamedTensor[]): Promise<void>;
  dispose(): void;
}
