import type * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { RELU_GRAD } from '../../tfjs/wasm/relu-grad.js';

/**
 * A Conv2D or Dense layer asks tfjs-core for one fused kernel (product, bias and activation), but
 * tfjs-core fuses only when no gradient is recorded: in training a layer with a ReLU runs three
 * kernels (product, Add, Relu) and the tape keeps a copy of each intermediate; with a linear
 * activation it fuses through a custom gradient that also computes the gradient of the layer's
 * input, the data's too. On the CNNs of bench/: 0.4–0.8 ms of an 11–12 ms step on wasm.
 *
 * `fuseLayerActivations` makes the eligible layers of a model call the fused kernel in training
 * too, recorded on the tape as that kernel with the gradients registered below, which are
 * tfjs-core's own for its fused ops (dy·step(y) for a ReLU, then the product's gradient, the bias
 * gradient summed over the other axes) computed only for the inputs that need one. The values are those of the layer's
 * own call; on cpu the same bits (its fused kernels are the unfused ones in sequence).
 */
export function fuseLayerActivations(model: tf.LayersModel): number {
  registerFusedGradients();
  let fused = 0;
  for (const layer of model.layers) {
    if (isContainer(layer)) fused += fuseLayerActivations(layer);
    else if (fuseLayer(layer)) fused++;
  }
  return fused;
}

/** Fuses the layers of every model module holding a `tf.LayersModel` as `model` (a LayersModule's, or the same shape of class). */
export function fuseModuleLayers(modules: object[]): void {
  for (const m of modules) {
    const model = (m as { model?: unknown }).model;
    if (model instanceof tfjs.LayersModel) fuseLayerActivations(model);
  }
}

const FUSABLE = new Set<string>(['relu', 'linear']);

interface ConvLayer {
  rank: number;
  dataFormat: string;
  padding: string;
  strides: number[];
  dilationRate: number[];
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
}

interface DenseLayer {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
}

type Call = (inputs: Tensor | Tensor[], kwargs: Record<string, unknown>) => Tensor | Tensor[];

/** The layer's class exactly as tfjs-layers registers it (a subclass may call otherwise). */
function isExactly(layer: tf.layers.Layer, className: string): boolean {
  const entry = tfjs.serialization.SerializationMap.getMap().classNameMap[className];
  return entry !== undefined && Object.getPrototypeOf(layer) === entry[0].prototype && !Object.hasOwn(layer, 'call');
}

function isContainer(layer: tf.layers.Layer): layer is tf.LayersModel {
  return layer instanceof tfjs.LayersModel;
}

function fuseLayer(layer: tf.layers.Layer): boolean {
  const fused = isExactly(layer, 'Conv2D')
    ? fusedConv(layer as unknown as ConvLayer)
    : isExactly(layer, 'Dense')
      ? fusedDense(layer as unknown as DenseLayer)
      : undefined;
  if (!fused) return false;
  const own = (layer as unknown as { call: Call }).call.bind(layer);
  const call: Call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0]! : inputs;
    if (Array.isArray(x) || x.dtype !== 'float32' || x.rank < fused.minRank) return own(inputs, kwargs);
    return tfjs.tidy(() => fused.apply(x));
  };
  Object.defineProperty(layer, 'call', { value: call, configurable: true, writable: true });
  return true;
}

interface Fused {
  minRank: number;
  apply(x: Tensor): Tensor;
}

function fusedConv(conv: ConvLayer): Fused | undefined {
  const activation = conv.activation.getClassName();
  if (conv.rank !== 2 || conv.dataFormat !== 'channelsLast' || conv.padding === 'causal' || !FUSABLE.has(activation))
    return undefined;
  if (conv.dilationRate.some((d) => d !== 1)) return undefined; // tfjs-core has no gradient for dilated convolutions
  return {
    minRank: 4,
    apply: (x) => {
      const attrs = { strides: conv.strides, pad: conv.padding, dataFormat: 'NHWC', dilations: [1, 1], activation };
      const inputs = { x, filter: conv.kernel.read(), ...(conv.bias ? { bias: conv.bias.read() } : {}) };
      return tfjs.engine().runKernel('FusedConv2D', inputs, attrs as unknown as NamedAttrMap) as Tensor;
    },
  };
}

const fusedDenseLayers = new WeakMap<object, 'relu' | 'linear'>();

/**
 * The activation of a Dense layer that calls the fused kernel (`fuseLayerActivations`), or
 * undefined for any other layer: what engine/run/dense-step.ts runs without the layer's call.
 */
export function fusedDenseActivation(layer: tf.layers.Layer): 'relu' | 'linear' | undefined {
  return fusedDenseLayers.get(layer);
}

/** As tfjs-layers' dot: the input as rows [1, N, in], one product by the kernel [1, in, out]. */
function fusedDense(dense: DenseLayer): Fused | undefined {
  const activation = dense.activation.getClassName();
  if (!FUSABLE.has(activation)) return undefined;
  fusedDenseLayers.set(dense, activation as 'relu' | 'linear');
  return {
    minRank: 2,
    apply: (x) => {
      const kernel = dense.kernel.read();
      const rows = tfjs.reshape(x, [1, -1, x.shape[x.shape.length - 1]!]);
      const inputs = {
        a: rows,
        b: tfjs.reshape(kernel, [1, ...kernel.shape]),
        ...(dense.bias ? { bias: dense.bias.read() } : {}),
      };
      const attrs = { transposeA: false, transposeB: false, activation };
      const y = tfjs.engine().runKernel('_FusedMatMul', inputs, attrs as unknown as NamedAttrMap) as Tensor;
      return tfjs.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1]!]);
    },
  };
}

let registered = false;

/** Gradients of the fused kernels as tfjs-core computes them for its fused ops, when tfjs has none. */
export function registerFusedGradients(): void {
  if (registered) return;
  registered = true;
  for (const config of [fusedConv2DGradient, fusedMatMulGradient]) {
    if (!tfjs.getGradient(config.kernelName)) tfjs.registerGradient(config);
  }
}

/**
 * The bias's share of dz: summed over every axis but the last. The bias is not saved for its shape
 * (as tfjs-core's getFusedBiasGradient needs): an input that is absent (a layer without bias)
 * cannot be named in `inputsToSave`, and the layers above give a bias of shape [channels].
 */
function biasGradient(dz: Tensor): Tensor {
  return tfjs.sum(
    dz,
    dz.shape.slice(0, -1).map((_, axis) => axis),
  );
}

/**
 * The gradient of a fused kernel as tfjs-core computes it for its fused ops: dy through the
 * activation from the kernel's output (dy·step(y) for a ReLU), then the gradient tfjs registers
 * for the product alone (`Conv2D`, `BatchMatMul`: the same inputs and attributes), and the bias's share.
 */
function fusedGradient(kernelName: string, product: string, inputs: [string, string]): GradConfig {
  return {
    kernelName,
    inputsToSave: inputs,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [p, q, y] = saved as Tensor[];
      const { activation } = attrs as { activation: Parameters<typeof tfjs.backend_util.getFusedDyActivation>[2] }; // undefined: linear
      const dz = activationGradient(dy as Tensor, y!, activation);
      return { ...tfjs.getGradient(product)!.gradFunc(dz, [p!, q!], attrs), bias: () => biasGradient(dz) };
    },
  };
}

/**
 * dy through the activation: for a ReLU, the backend's one-pass ReluGrad kernel where it has one
 * (wasm: tfjs/wasm/relu-grad.ts), the same bits as tfjs-core's Step then Multiply, which the
 * other backends run.
 */
function activationGradient(
  dy: Tensor,
  y: Tensor,
  activation: Parameters<typeof tfjs.backend_util.getFusedDyActivation>[2],
): Tensor {
  if (activation === 'relu' && tfjs.getKernel(RELU_GRAD, tfjs.getBackend()))
    return tfjs.engine().runKernel(RELU_GRAD, { dy, y }) as Tensor;
  return tfjs.backend_util.getFusedDyActivation(dy, y, activation);
}

const fusedConv2DGradient = fusedGradient('FusedConv2D', 'Conv2D', ['x', 'filter']);
const fusedMatMulGradient = fusedGradient('_FusedMatMul', 'BatchMatMul', ['a', 'b']);
