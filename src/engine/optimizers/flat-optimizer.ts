import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { optimizerState, restoreOptimizer, type NamedTensor } from './optimizer-state.js';
import { flushOptimizerState } from './flush-state.js';
import { plainOptimizer, type PlainOptimizer } from './plain-optimizer.js';
import type { RunOptimizer } from './optimizer.js';

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
export class FlatOptimizer implements RunOptimizer {
  private flat: tf.Variable;
  private readonly sizes: number[];
  /** Set once steps are taken in JavaScript: the optimizer's plain form and its copy of the parameters. */
  private plain?: {
    optimizer: PlainOptimizer;
    params: Float32Array;
    mask: Float32Array | undefined;
    scalars: tf.Tensor[];
  };

  /**
   * `gradientMask` (flat, 0 or 1 per parameter): parameters whose gradient is always taken as zero.
   * `decay`: decoupled weight decay, the factor every parameter is multiplied by before each step
   * (optimizer.ts `decayFactor`; a padded zero stays zero), or undefined for none.
   */
  constructor(
    private readonly inner: tf.Optimizer,
    private readonly variables: tf.Variable[],
    private readonly gradientMask?: tf.Tensor1D,
    private readonly decay?: number,
  ) {
    this.sizes = variables.map((v) => v.size);
    this.flat = tfjs.variable(this.concatenated(variables), true);
  }

  /** Computes `f`'s gradients for the variables and steps; returns `f`'s value (kept). */
  minimize(f: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tfjs.variableGrads(f, this.variables);
    this.step(this.variables.map((v) => grads[v.name]));
    tfjs.dispose(Object.values(grads));
    return value;
  }

  step(gradients: (tf.Tensor | undefined)[]): void {
    tfjs.tidy(() => this.stepFlat(this.concatenated(gradients.map((g) => g!))));
    this.writeBack();
  }

  /** The parameters, flat, in the variables' order: read them, never dispose them. */
  get parameters(): tf.Tensor1D {
    return this.flat as tf.Tensor1D;
  }

  /** One step from the gradient of the flat parameters. The variables follow at `writeBack()`. */
  stepFlat(gradient: tf.Tensor1D): void {
    const decay = this.decay;
    if (decay !== undefined) tfjs.tidy(() => this.flat.assign(this.flat.mul(tfjs.scalar(decay))));
    tfjs.tidy(() =>
      this.inner.applyGradients({ [this.flat.name]: this.gradientMask ? gradient.mul(this.gradientMask) : gradient }),
    );
    flushOptimizerState(this.inner);
  }

  /**
   * From now on, steps in JavaScript (`stepPlain`) on a copy of the parameters, when the backend is
   * cpu and the optimizer has a plain form (plain-optimizer.ts): returns that copy, to read only,
   * or undefined (then step with `stepFlat`).
   */
  async plainParameters(): Promise<Float32Array | undefined> {
    if (tfjs.getBackend() !== 'cpu') return undefined;
    const state = await optimizerState(this.inner);
    const optimizer = plainOptimizer(this.inner, state, this.flat.name, this.flat.size);
    if (!optimizer) return undefined;
    const mask = this.gradientMask && Float32Array.from(this.gradientMask.dataSync());
    this.plain = { optimizer, params: Float32Array.from(this.flat.dataSync()), mask, scalars: [] };
    return this.plain.params;
  }

  /** One step in JavaScript from the gradient of the flat parameters (overwritten: masked). */
  stepPlain(gradient: Float32Array): void {
    const { optimizer, params, mask } = this.plain!;
    if (mask) for (let i = 0; i < gradient.length; i++) gradient[i] *= mask[i]!;
    // The decay as stepFlat's float32 product by the scalar factor computes it.
    const decay = this.decay;
    if (decay !== undefined) for (let i = 0; i < params.length; i++) params[i] = Math.fround(params[i]! * decay);
    optimizer.step(params, gradient);
  }

  /** Sets the variables from the flat parameters. */
  writeBack(): void {
    tfjs.tidy(() => {
      if (this.plain) this.flat.assign(tfjs.tensor1d(this.plain.params.slice()));
      tfjs.split(this.flat, this.sizes).forEach((part, i) => {
        this.variables[i]!.assign(part.reshape(this.variables[i]!.shape));
      });
    });
  }

  /** After the variables were set from elsewhere (a checkpoint): the flat copy follows them. */
  sync(): void {
    tfjs.tidy(() => this.flat.assign(this.concatenated(this.variables)));
  }

  /** The state as the wrapped optimizer would have it for the variables one by one. */
  async state(): Promise<NamedTensor[]> {
    const flat = this.plain ? this.plainState(this.plain) : await optimizerState(this.inner);
    const state = flat.flatMap((t) =>
      t.tensor.rank === 0
        ? [t]
        : tfjs.split(t.tensor, this.sizes).map((part, i) => ({
            name: `${this.variables[i]!.name}/${t.name}`,
            tensor: part.reshape(this.variables[i]!.shape),
          })),
    );
    if (this.plain) tfjs.dispose(flat.filter((t) => t.tensor.rank > 0).map((t) => t.tensor));
    return state;
  }

  /** The plain optimizer's state; its scalars are kept (callers dispose only the tensors of rank > 0) until the next call. */
  private plainState(plain: NonNullable<FlatOptimizer['plain']>): NamedTensor[] {
    tfjs.dispose(plain.scalars);
    const state = plain.optimizer.state();
    plain.scalars = state.filter((t) => t.tensor.rank === 0).map((t) => t.tensor);
    return state;
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
    tfjs.dispose(flat.filter((t) => t.tensor.rank > 0).map((t) => t.tensor));
  }

  dispose(): void {
    if (this.plain) tfjs.dispose(this.plain.scalars);
    this.inner.dispose();
    this.flat.dispose();
  }

  private concatenated(tensors: tf.Tensor[]): tf.Tensor1D {
    return tfjs.tidy(() => tfjs.concat(tensors.map((t) => t.reshape([-1]))) as tf.Tensor1D);
  }
}
