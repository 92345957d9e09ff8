import * as tf from '@tensorflow/tfjs';
import { optimizerState, restoreOptimizer, type NamedTensor } from './checkpoint.js';

/**
 * One optimizer step over all the variables at once. A TF.js optimizer updates each variable with
 * its own dozen ops (Adam: ~12 per variable, 120 for a 5-layer MLP), which is most of a small
 * model's step. Here the gradients are concatenated into one flat vector, the very same TF.js
 * optimizer (its formulas, bias corrections included) updates one flat copy of the parameters,
 * and the result is split back into the variables. Every TF.js optimizer is element-wise, so each
 * parameter gets bit for bit the update it would get alone.
 *
 * Its state is read and written in the per-variable layout of the wrapped optimizer (moments of
 * each variable in order), so checkpoints do not depend on whether the step was fused.
 */
export class FlatOptimizer {
  private flat: tf.Variable;
  private readonly sizes: number[];

  constructor(
    private readonly inner: tf.Optimizer,
    private readonly variables: tf.Variable[],
  ) {
    this.sizes = variables.map((v) => v.size);
    this.flat = tf.variable(this.concatenated(variables), true);
  }

  /** Computes `f`'s gradients for the variables and steps; returns `f`'s value (kept). */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, this.variables);
    tf.tidy(() => {
      this.inner.applyGradients({ [this.flat.name]: this.concatenated(this.variables.map((v) => grads[v.name]!)) });
      tf.split(this.flat, this.sizes).forEach((part, i) => this.variables[i]!.assign(part.reshape(this.variables[i]!.shape)));
    });
    tf.dispose(Object.values(grads));
    return value;
  }

  /** After the variables were set from elsewhere (a checkpoint): the flat copy follows them. */
  sync(): void {
    tf.tidy(() => this.flat.assign(this.concatenated(this.variables)));
  }

  /** The state as the wrapped optimizer would have it for the variables one by one. */
  async state(): Promise<NamedTensor[]> {
    const flat = await optimizerState(this.inner);
    return flat.flatMap((t) =>
      t.tensor.rank === 0 ? [t] : tf.split(t.tensor, this.sizes).map((part, i) => ({ name: `${this.variables[i]!.name}/${t.name}`, tensor: part.reshape(this.variables[i]!.shape) })),
    );
  }

  /** Takes a state in the per-variable layout (from `state()` or a checkpoint of a run without fusion). */
  async restore(state: NamedTensor[]): Promise<void> {
    const k = this.variables.length;
    const flat: NamedTensor[] = [];
    const blocks: tf.Tensor[] = [];
    for (const t of state) {
      if (t.tensor.rank === 0) {
        flat.push(t);
        continue;
      }
      blocks.push(t.tensor);
      if (blocks.length === k) flat.push({ name: `block${flat.length}`, tensor: this.concatenated(blocks.splice(0)) });
    }
    await restoreOptimizer(this.inner, flat);
    tf.dispose(flat.filter((t) => t.tensor.rank > 0).map((t) => t.tensor));
  }

  dispose(): void {
    this.inner.dispose();
    this.flat.dispose();
  }

  private concatenated(tensors: tf.Tensor[]): tf.Tensor1D {
    return tf.tidy(() => tf.concat(tensors.map((t) => t.reshape([-1]))) as tf.Tensor1D);
  }
}
