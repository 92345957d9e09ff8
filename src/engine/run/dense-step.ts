import type * as tf from '@tensorflow/tfjs';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { KernelScope } from '../../tfjs/wasm/kernel-scope.js';
import { RELU_GRAD } from '../../tfjs/wasm/relu-grad.js';
import { LayersModule } from '../../user/layers-module.js';
import type { ModelModule } from '../../user/contracts.js';
import type { RunOptimizer } from '../optimizers/optimizer.js';
import { fusedDenseActivation } from './fused-layers.js';
import type { LossFn } from '../chain/loss.js';
import { kernelLoss } from './kernel-loss.js';

/** One dense layer of the stack: its variables and activation (fused in its kernel). */
interface StackLayer {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: 'relu' | 'linear';
  inputs: number;
  units: number;
  /** Positions of the kernel's and the bias's variables in the optimizer's list. */
  kernelAt: number;
  biasAt: number;
}

/** What one layer's forward pass keeps for the backward pass: its input rows, weights and output. */
interface Saved {
  a: TensorInfo;
  b: TensorInfo;
  y: TensorInfo;
}

/**
 * A run's steps for a model that is a stack of fused Dense layers (linear or ReLU; fused-layers.ts),
 * on a backend with a one-pass ReluGrad (wasm): the same kernels, with the same inputs and
 * attributes, as tfjs-core runs for the layers' calls and their gradients, called directly on
 * `TensorInfo`s. tfjs-core's bookkeeping around each kernel — tensors tracked, scopes, the tape
 * recorded then filtered, each gradient in its own tidy — cost ~20% of a worker's time on the bench
 * MLP 784-256-256-10 (the kernels ~60%); here only the loss is taped, for the gradient of the
 * prediction. Since every kernel gets what it gets under the tape, the numbers are the same to the
 * bit: a curve does not depend on which path trained it (a continuation's first step takes the
 * taped path).
 *
 * The forward pass per layer is tfjs-layers' dot as fused-layers.ts calls it: rows [1, N, in] by
 * the kernel [1, in, out], `_FusedMatMul` with bias and activation. Its gradient is tfjs-core's
 * for the fused op: dz = ReluGrad(dy, y) (linear: dy), then BatchMatMul's, dz·bᵀ for the input
 * (not for the first layer: the data need none) and aᵀ·dz for the kernel, and the bias's, dz
 * summed over the rows. Reshapes are views here (wasm's Reshape shares the buffer).
 */
export class DenseStep {
  private constructor(
    private readonly layers: StackLayer[],
    private readonly backend: KernelBackend,
    private readonly backendName: string,
  ) {}

  /**
   * The direct step of a run's model chain (its classes, its variables in the optimizer's order),
   * or undefined where it does not apply: another backend, a model chain of several classes, a
   * class with its own forward or penalties, a model that is not a Sequential of fused Dense
   * layers, regularizers, or variables other than the layers' own.
   */
  static of(models: ModelModule[], variables: tf.Variable[]): DenseStep | undefined {
    const backendName = tfjs.getBackend();
    if (!tfjs.getKernel(RELU_GRAD, backendName) || models.length !== 1) return undefined;
    const module = models[0]!;
    if (
      !(module instanceof LayersModule) ||
      module.forward !== LayersModule.prototype.forward ||
      module.regularizationLosses !== LayersModule.prototype.regularizationLosses ||
      module.model.getClassName() !== 'Sequential'
    )
      return undefined;
    const layers: StackLayer[] = [];
    for (const layer of module.model.layers) {
      const activation = fusedDenseActivation(layer);
      const dense = layer as unknown as {
        kernel: tf.LayerVariable;
        bias: tf.LayerVariable | null;
        kernelRegularizer?: unknown;
        biasRegularizer?: unknown;
        activityRegularizer?: unknown;
      };
      if (
        !activation ||
        !layer.trainable ||
        dense.kernelRegularizer ||
        dense.biasRegularizer ||
        dense.activityRegularizer
      )
        return undefined;
      const [inputs, units] = dense.kernel.shape as [number, number];
      const kernelAt = variables.indexOf(dense.kernel.read() as tf.Variable);
      const biasAt = dense.bias ? variables.indexOf(dense.bias.read() as tf.Variable) : -1;
      if (kernelAt < 0 || (dense.bias && biasAt < 0)) return undefined;
      layers.push({ kernel: dense.kernel, bias: dense.bias, activation, inputs, units, kernelAt, biasAt });
    }
    const weights = layers.flatMap((l) => [l.kernel, ...(l.bias ? [l.bias] : [])]);
    if (layers.length === 0 || weights.length !== variables.length || weights.some((w) => w.dtype !== 'float32'))
      return undefined;
    return new DenseStep(layers, tfjs.backend(), backendName);
  }

  /** Whether a batch's inputs are what the stack takes: float32 rows of the first layer's width. */
  takes(x: tf.Tensor): boolean {
    return x.dtype === 'float32' && x.rank === 2 && x.shape[1] === this.layers[0]!.inputs;
  }

  /**
   * A test batch: the prediction for `x` (given to `seen`, then disposed) and `loss` of it against
   * `y`, by kernels where kernel-loss.ts computes it (the same bits), else by `loss` itself. The
   * caller disposes the loss.
   */
  evaluate(x: tf.Tensor, y: tf.Tensor, loss: LossFn, seen: (prediction: tf.Tensor) => void): tf.Scalar {
    const scope = new KernelScope(this.backend, this.backendName);
    let prediction: tf.Tensor | undefined;
    try {
      prediction = this.adopt(this.forwardIn(scope, x).y, [x.shape[0]!, this.layers.at(-1)!.units]);
      seen(prediction);
      const byKernels = kernelLoss(loss, prediction, y);
      const p = prediction;
      return byKernels
        ? (this.adopt(byKernels.value(scope, p, y), []) as tf.Scalar)
        : tfjs.tidy(() => loss(p, y) as tf.Scalar);
    } finally {
      prediction?.dispose();
      scope.release();
    }
  }

  /**
   * One training step on the batch (`x`, `y`): the prediction (given to `seen` before the loss, as
   * the loop's accuracy reads it), `loss` of it and its gradient for every variable, and the
   * optimizer's step from them. A built-in loss that kernel-loss.ts computes is not taped either.
   * Returns the loss (the caller disposes it).
   */
  trainStep(
    x: tf.Tensor,
    y: tf.Tensor,
    loss: LossFn,
    optimizer: RunOptimizer,
    seen: (prediction: tf.Tensor) => void,
  ): tf.Scalar {
    const scope = new KernelScope(this.backend, this.backendName);
    const made: tf.Tensor[] = [];
    try {
      const rows = x.shape[0]!;
      const units = this.layers.at(-1)!.units;
      const { y: out, saved } = this.forwardIn(scope, x, true);
      const prediction = this.adopt(out, [rows, units]);
      made.push(prediction);
      seen(prediction);
      const byKernels = kernelLoss(loss, prediction, y);
      let value: tf.Scalar;
      let dy: TensorInfo;
      if (byKernels) {
        let cost: TensorInfo;
        [cost, dy] = byKernels.valueAndGradient(scope, prediction, y);
        value = this.adopt(cost, []) as tf.Scalar;
      } else {
        const taped = tfjs.valueAndGrad((p: tf.Tensor) => loss(p, y))(prediction);
        made.push(taped.grad);
        value = taped.value as tf.Scalar;
        dy = taped.grad;
      }
      const gradients: (tf.Tensor | undefined)[] = [];
      dy = view(dy, [1, rows, units]);
      for (let i = this.layers.length - 1; i >= 0; i--) {
        const layer = this.layers[i]!;
        const { a, b, y: layerOut } = saved[i]!;
        const dz = layer.activation === 'relu' ? scope.run(RELU_GRAD, { dy, y: layerOut }) : dy;
        const da = i > 0 ? scope.run('BatchMatMul', { a: dz, b }, { transposeA: false, transposeB: true }) : undefined;
        const dw = scope.run('BatchMatMul', { a, b: dz }, { transposeA: true, transposeB: false });
        gradients[layer.kernelAt] = this.adopt(dw, [layer.inputs, layer.units]);
        if (layer.bias)
          gradients[layer.biasAt] = this.adopt(scope.run('Sum', { x: dz }, { axis: [0, 1], keepDims: false }), [
            layer.units,
          ]);
        if (da) dy = da;
      }
      made.push(...(gradients as tf.Tensor[]));
      // Every product of the stack is Mosaic's gemm, which keeps nothing of the weights between calls.
      optimizer.step(gradients, true);
      return value;
    } finally {
      tfjs.dispose(made);
      scope.release();
    }
  }

  /** The forward pass on the scope's kernels; each layer's input rows, weights and output when `keep`. */
  private forwardIn(scope: KernelScope, x: tf.Tensor, keep = false): { y: TensorInfo; saved: Saved[] } {
    const saved: Saved[] = [];
    let a = view(x, [1, x.shape[0]!, this.layers[0]!.inputs]);
    for (const layer of this.layers) {
      const b = view(layer.kernel.read(), [1, layer.inputs, layer.units]);
      const inputs = { a, b, ...(layer.bias ? { bias: layer.bias.read() as TensorInfo } : {}) };
      const y = scope.run('_FusedMatMul', inputs, {
        transposeA: false,
        transposeB: false,
        activation: layer.activation,
      } as unknown as tf.NamedAttrMap);
      if (keep) saved.push({ a, b, y });
      else if (a.dataId !== x.dataId) scope.free(a);
      a = y;
    }
    return { y: a, saved };
  }

  /** An engine tensor of `t`'s data (its own reference, as the engine takes a kernel's output), in `shape`. */
  private adopt(t: TensorInfo, shape: number[]): tf.Tensor {
    this.backend.incRef(t.dataId);
    return tfjs.engine().makeTensorFromTensorInfo({ dataId: t.dataId, shape, dtype: t.dtype }, this.backend);
  }
}

/** `t`'s data in another shape of the same size (what wasm's Reshape gives, without a reference of its own). */
function view(t: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: t.dataId, shape, dtype: t.dtype };
}
