import * as tf from '@tensorflow/tfjs';
import { LayersModule } from '../user/layers-module.js';
import { asBatch, type Chain } from './chain.js';
import { replicaLoss, type ReplicaLossFn } from './loss.js';
import { lossKind } from './names.js';
import { WASM_FROM_WORK } from './backend-choice.js';

/** One layer of a packable model: a dense layer (its activation after) or an activation alone. */
interface PackLayer {
  dense: boolean;
  useBias: boolean;
  activation: { apply(x: tf.Tensor): tf.Tensor } | undefined;
}

/** What a pack needs to know of its members' common model. */
export interface PackModel {
  layers: PackLayer[];
  loss: ReplicaLossFn;
}

type Layer = tf.layers.Layer & Record<string, unknown>;

const layersOf = (chain: Chain): Layer[] | undefined => {
  const module = chain.models[0]?.module;
  return module instanceof LayersModule ? (module.model.layers as Layer[]) : undefined;
};

/** A dense stack's shape, to tell members of one structure apart from others. */
const signature = (layers: Layer[]) =>
  JSON.stringify(layers.map((l) => [l.getClassName(), l.getConfig().units ?? null, l.getConfig().activation ?? null, l.getConfig().useBias ?? null]));

/**
 * Whether runs can be trained as one batched model: each member's model chain is one
 * `LayersModule` whose `forward` is Mosaic's, a stack of dense and activation layers without
 * regularizers, of one shape for all; a built-in loss with a per-replica form; batches that are
 * arrays of matrices of one shape across members; a model small enough that its steps are bound
 * by per-operation overhead (batching larger ones saves nothing). Returns why not, otherwise.
 */
export function packModel(chains: Chain[], lossFunction: string | undefined): PackModel | string {
  const first = chains[0]!;
  if (first.models.length !== 1) return 'the model chain has several model classes';
  const module = first.models[0]!.module;
  if (!(module instanceof LayersModule)) return `${first.names.model} does not extend LayersModule`;
  if (module.forward !== LayersModule.prototype.forward) return `${first.names.model} has a forward() of its own`;
  const layers = layersOf(first)!;
  for (const l of layers) {
    const name = l.getClassName();
    if (name !== 'Dense' && name !== 'Activation') return `${first.names.model} has a ${name} layer (packs take dense and activation layers)`;
    const c = l.getConfig();
    if (c.kernelRegularizer || c.biasRegularizer || c.activityRegularizer) return `${first.names.model} has a regularizer`;
  }
  const kind = lossFunction === undefined ? undefined : lossKind(lossFunction);
  const loss = kind ? replicaLoss(kind) : undefined;
  if (!loss) return `the loss ${first.names.loss} has no per-run form for packs`;
  const params = first.variables.reduce((a, v) => a + v.size, 0);
  const batch = Number(first.runInfo.batch_size) || 1;
  if (params * batch >= WASM_FROM_WORK) return `the model is large enough (${params} parameters x batch ${batch}) that training runs together saves nothing`;
  const sig = signature(layers);
  for (const c of chains) {
    const mine = layersOf(c);
    if (!mine || signature(mine) !== sig || c.variables.length !== first.variables.length) return 'the runs do not build the same model';
    if (!Array.isArray(c.train) || !Array.isArray(c.test)) return 'the data are not arrays of batches';
  }
  for (const source of ['train', 'test'] as const) {
    const shapes = (c: Chain) => (c[source] as unknown[]).map((b) => { const { x, y } = asBatch(b as never); return `${x.shape}|${y.shape}`; }).join(';');
    const ref = shapes(first);
    if (ref.includes(',,') || chains.some((c) => shapes(c) !== ref)) return `the ${source} batches differ in number or shape between the runs`;
    if ((first[source] as unknown[]).some((b) => asBatch(b as never).x.rank !== 2)) return 'the inputs are not matrices (samples x features)';
  }
  return {
    layers: layers.map((l) => ({
      dense: l.getClassName() === 'Dense',
      useBias: l.getConfig().useBias !== false && l.getClassName() === 'Dense',
      activation: l.activation as PackLayer['activation'],
    })),
    loss,
  };
}

/**
 * The forward pass of R replicas at once: inputs `[R, batch, features]`, and per dense layer a
 * kernel `[R, in, out]` (one batched matMul) and a bias `[R, 1, out]`; activations apply
 * element-wise (softmax on the last axis), so each replica computes what its model alone would.
 */
export function packForward(model: PackModel, weights: tf.Variable[], x: tf.Tensor): tf.Tensor {
  let h = x;
  let w = 0;
  for (const layer of model.layers) {
    if (layer.dense) {
      h = tf.matMul(h, weights[w++]!);
      if (layer.useBias) h = h.add(weights[w++]!);
    }
    if (layer.activation) h = layer.activation.apply(h);
  }
  return h;
}

/** A member's variable `[…]` stacked along a leading replica axis: kernels `[R, in, out]`, biases `[R, 1, out]`. */
export function stackVariables(chains: Chain[]): tf.Variable[] {
  return chains[0]!.variables.map((v, j) =>
    tf.tidy(() => {
      const stacked = tf.stack(chains.map((c) => c.variables[j]!));
      return tf.variable(v.rank === 1 ? stacked.expandDims(1) : stacked, true);
    }),
  );
}

/** Replica r's slice of a stacked tensor, in its run's own shape. */
export function replicaOf(stacked: tf.Tensor, r: number, shape: number[]): tf.Tensor {
  return tf.tidy(() => stacked.slice([r], [1]).reshape(shape));
}
