import { tfjs } from '../../tfjs/tfjs.js';
import type { PackModel } from './pack-model.js';

/**
 * The step of a pack of small dense stacks in plain JavaScript, on the `cpu` backend. A pack of
 * the tutorial's MLPs does a few thousand multiply-adds a step; through TF.js it costs ~160
 * operations (forward, the tape's saved copies, backward, loss), each a fixed few microseconds.
 * Here the forward pass, the loss (mean squared error, or softmax cross-entropy on logits) and the
 * backward pass run as loops over Float32Arrays, computed
 * float32 operation for float32 operation as the cpu backend computes the tape's kernels
 * (`BatchMatMul`'s blocked sums in doubles, every intermediate rounded to float32 where a kernel
 * stores it, the gradient formulas of tfjs-core), so a run trained here has the curve it has alone,
 * bit for bit (test/engine/dense-stack.test.ts, test/engine/packs.test.ts). The optimizer steps apart: Adam and
 * SGD in JavaScript too (plain-optimizer.ts), the others through TF.js.
 *
 * Parameters are the pack's flat vector: each variable stacked along the replica axis (kernels
 * `[R, in, out]`, biases `[R, 1, out]`), in the variables' order.
 */

const ACTIVATIONS = new Set(['linear', 'sigmoid', 'relu', 'tanh']);
type Activation = 'linear' | 'sigmoid' | 'relu' | 'tanh';

type Op =
  | { kind: 'dense'; inSize: number; outSize: number; kernel: number; bias: number | undefined }
  | { kind: Activation };

/** One batch through the pack: the inputs of every operation, the last one the predictions `[R, B, out]`. */
type Trace = Float32Array[];

export class DenseStackStep {
  private constructor(
    private readonly ops: Op[],
    private readonly replicas: number,
    /** Number of parameters in the flat vector. */
    readonly size: number,
    /** The cpu backend's block along the summed dimension of a matMul. */
    private readonly block: number,
    private readonly lossKind: 'mse' | 'cross_entropy_logits',
    /** Width of the predictions (the classes of a cross-entropy). */
    private readonly outputs: number,
  ) {}

  /**
   * Each replica's loss as a run alone computes it, and the gradient of their sum with respect to
   * the predictions `[R, B, out]`; targets of the predictions' shape (one-hot rows for the cross-entropy).
   */
  loss(prediction: Float32Array, target: Float32Array): { losses: Float32Array; dPrediction: Float32Array } {
    return this.lossKind === 'mse'
      ? this.meanSquaredError(prediction, target)
      : this.softmaxCrossEntropy(prediction, target);
  }

  /**
   * The plain step for a pack's model, or why it cannot have one: the backend is not `cpu`, an
   * activation or the loss has no plain form here (the pack then steps through TF.js).
   */
  static of(model: PackModel, replicas: number): DenseStackStep | string {
    if (tfjs.getBackend() !== 'cpu') return `the backend is ${tfjs.getBackend()}`;
    const block = (tfjs.backend() as unknown as { blockSize?: unknown }).blockSize;
    if (typeof block !== 'number') return 'the cpu backend has no block size';
    if (model.lossKind !== 'mse' && model.lossKind !== 'cross_entropy_logits') return `the loss is ${model.lossKind}`;
    const ops: Op[] = [];
    let offset = 0;
    let w = 0;
    for (const layer of model.layers) {
      if (layer.dense) {
        const [inSize, outSize] = model.shapes[w++]!.slice(-2) as [number, number];
        const kernel = offset;
        offset += replicas * inSize * outSize;
        let bias: number | undefined;
        if (layer.useBias) {
          w++;
          bias = offset;
          offset += replicas * outSize;
        }
        ops.push({ kind: 'dense', inSize, outSize, kernel, bias });
      }
      const name = layer.activationName ?? 'linear';
      if (!ACTIVATIONS.has(name)) return `the activation ${name}`;
      if (name !== 'linear') ops.push({ kind: name as Activation });
    }
    const last = ops.filter((op) => op.kind === 'dense').at(-1) as { outSize: number } | undefined;
    if (!last) return 'the model has no dense layer';
    return new DenseStackStep(ops, replicas, offset, block, model.lossKind, last.outSize);
  }

  /** The forward pass of a batch of `batch` samples per replica: inputs `[R, batch, in]`. */
  forward(params: Float32Array, x: Float32Array, batch: number): Trace {
    const R = this.replicas;
    const trace: Trace = [x];
    for (const op of this.ops) {
      const h = trace[trace.length - 1]!;
      if (op.kind !== 'dense') {
        trace.push(activate(op.kind, h));
        continue;
      }
      const { inSize, outSize } = op;
      const z = new Float32Array(R * batch * outSize);
      for (let r = 0; r < R; r++) {
        const rows = r * batch;
        this.matMul(
          z,
          rows * outSize,
          h,
          rows * inSize,
          inSize,
          1,
          params,
          op.kernel + r * inSize * outSize,
          outSize,
          1,
          batch,
          outSize,
          inSize,
        );
        if (op.bias === undefined) continue;
        for (let b = 0; b < batch; b++)
          for (let j = 0; j < outSize; j++) z[(rows + b) * outSize + j] += params[op.bias + r * outSize + j]!;
      }
      trace.push(z);
    }
    return trace;
  }

  /**
   * Each replica's mean squared error, as `tf.losses.meanSquaredError` computes it for a run alone
   * (squares summed in doubles, rounded, divided by their number), and the gradient of their sum
   * with respect to the predictions.
   */
  private meanSquaredError(
    prediction: Float32Array,
    target: Float32Array,
  ): { losses: Float32Array; dPrediction: Float32Array } {
    const R = this.replicas;
    const n = prediction.length / R;
    const losses = new Float32Array(R);
    const dPrediction = new Float32Array(prediction.length);
    const f = Math.fround;
    const share = f(1 / n);
    for (let r = 0; r < R; r++) {
      let sum = 0;
      for (let e = r * n; e < (r + 1) * n; e++) {
        const p = prediction[e]!;
        const t = target[e]!;
        sum += f((t - p) * (t - p));
        dPrediction[e] = share * f(2 * f(p - t));
      }
      losses[r] = f(sum) / n;
    }
    return { losses, dPrediction };
  }

  /**
   * Each replica's softmax cross-entropy of logits against one-hot rows, as
   * `tf.losses.softmaxCrossEntropy` computes it for a run alone (log-sum-exp from the row's maximum,
   * each kernel's rounding; summed over the rows, divided by their number), and the gradient of
   * their sum with respect to the logits (tfjs-core's: (exp(log-softmax) − labels) / rows).
   */
  private softmaxCrossEntropy(
    prediction: Float32Array,
    target: Float32Array,
  ): { losses: Float32Array; dPrediction: Float32Array } {
    const f = Math.fround;
    const R = this.replicas;
    const classes = this.outputs;
    const rows = prediction.length / classes / R;
    const losses = new Float32Array(R);
    const dPrediction = new Float32Array(prediction.length);
    const share = f(1 / rows);
    for (let r = 0; r < R; r++) {
      let sum = 0;
      for (let row = r * rows; row < (r + 1) * rows; row++) {
        const at = row * classes;
        let max = prediction[at]!;
        for (let k = 0; k < classes; k++)
          if (Number.isNaN(prediction[at + k]!) || prediction[at + k]! > max) max = prediction[at + k]!;
        let exps = 0;
        for (let k = 0; k < classes; k++) exps += f(Math.exp(f(prediction[at + k]! - max)));
        const logSumExp = f(max + f(Math.log(f(exps))));
        let cost = 0;
        for (let k = 0; k < classes; k++) {
          const logSoftmax = f(prediction[at + k]! - logSumExp);
          cost += -f(logSoftmax * target[at + k]!);
          dPrediction[at + k] = share * f(f(Math.exp(logSoftmax)) - target[at + k]!);
        }
        sum += f(cost);
      }
      losses[r] = f(sum) / rows;
    }
    return { losses, dPrediction };
  }

  /** The gradient of the summed losses with respect to the flat parameters, from a forward trace. */
  gradient(params: Float32Array, trace: Trace, dPrediction: Float32Array, batch: number): Float32Array {
    const R = this.replicas;
    const grad = new Float32Array(this.size);
    const first = this.ops.findIndex((op) => op.kind === 'dense');
    let g = dPrediction;
    for (let k = this.ops.length - 1; k >= first; k--) {
      const op = this.ops[k]!;
      if (op.kind !== 'dense') {
        g = activationGradient(op.kind, g, trace[k]!, trace[k + 1]!);
        continue;
      }
      const { inSize, outSize } = op;
      const h = trace[k]!;
      for (let r = 0; r < R; r++) {
        const rows = r * batch;
        if (op.bias !== undefined) {
          for (let j = 0; j < outSize; j++) {
            let sum = 0;
            for (let b = 0; b < batch; b++) sum += g[(rows + b) * outSize + j]!;
            grad[op.bias + r * outSize + j] = sum;
          }
        }
        // kernel: hᵀ·g, summed over the batch
        this.matMul(
          grad,
          op.kernel + r * inSize * outSize,
          h,
          rows * inSize,
          1,
          inSize,
          g,
          rows * outSize,
          outSize,
          1,
          inSize,
          outSize,
          batch,
        );
      }
      if (k === first) break;
      // the layer's input: g·Wᵀ, summed over the outputs
      const next = new Float32Array(R * batch * inSize);
      for (let r = 0; r < R; r++) {
        const rows = r * batch;
        this.matMul(
          next,
          rows * inSize,
          g,
          rows * outSize,
          outSize,
          1,
          params,
          op.kernel + r * inSize * outSize,
          1,
          outSize,
          batch,
          inSize,
          outSize,
        );
      }
      g = next;
    }
    return grad;
  }

  /**
   * out[i, j] (+)= Σ_k a[i, k] · b[k, j] for i < I, j < J, k < K, with a's and b's elements found
   * by offset and strides, summed as the cpu backend's BatchMatMul sums: in doubles within each
   * block of `block` k's, each block's sum added to the float32 result.
   */
  private matMul(
    out: Float32Array,
    outAt: number,
    a: Float32Array,
    aAt: number,
    aI: number,
    aK: number,
    b: Float32Array,
    bAt: number,
    bK: number,
    bJ: number,
    I: number,
    J: number,
    K: number,
  ): void {
    for (let k0 = 0; k0 < K; k0 += this.block) {
      const kEnd = Math.min(k0 + this.block, K);
      for (let i = 0; i < I; i++) {
        for (let j = 0; j < J; j++) {
          let sum = 0;
          for (let k = k0; k < kEnd; k++) sum += a[aAt + i * aI + k * aK]! * b[bAt + k * bK + j * bJ]!;
          out[outAt + i * J + j] += sum;
        }
      }
    }
  }
}

/** The cpu backend's Sigmoid, Relu and Tanh kernels, element by element. */
function activate(kind: Activation, x: Float32Array): Float32Array {
  if (kind === 'linear') return x;
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = kind === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : kind === 'relu' ? Math.max(0, v) : Math.tanh(v);
  }
  return y;
}

/**
 * tfjs-core's gradients, each intermediate rounded as its kernel stores it: sigmoid
 * `dy·(y·(1−y))`, tanh `(1−y²)·dy`, relu `dy·step(x)`.
 */
function activationGradient(kind: Activation, dy: Float32Array, x: Float32Array, y: Float32Array): Float32Array {
  if (kind === 'linear') return dy;
  const f = Math.fround;
  const dx = new Float32Array(dy.length);
  for (let i = 0; i < dy.length; i++) {
    if (kind === 'sigmoid') dx[i] = dy[i]! * f(y[i]! * f(1 - y[i]!));
    else if (kind === 'tanh') dx[i] = f(1 - f(y[i]! * y[i]!)) * dy[i]!;
    else {
      const v = x[i]!;
      dx[i] = dy[i]! * (Number.isNaN(v) ? NaN : v > 0 ? 1 : 0);
    }
  }
  return dx;
}
