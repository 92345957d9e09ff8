import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { LayersModule } from '../../user/layers-module.js';
import { asBatch, type Chain, parameterCount } from '../chain/chain.js';
import { replicaLoss, type ReplicaLossFn } from '../chain/loss.js';
import { lossKind, type LossKind } from '../../core/names.js';
import { WASM_FROM_WORK } from '../backend/backend-choice.js';

/** One layer of a packable model: a dense layer (its activation after) or an activation alone. */
interface PackLayer {
  dense: boolean;
  useBias: boolean;
  activation: { apply(x: tf.Tensor): tf.Tensor } | undefined;
  /** The activation's name in the layer's config (`sigmoid`, `relu`, …). */
  activationName: string | undefined;
}

/** What a pack needs to know of its members' common model. */
export interface PackModel {
  layers: PackLayer[];
  loss: ReplicaLossFn;
  lossKind: LossKind;
  /** Each variable's shape in the pack: the widest of the members'. */
  shapes: number[][];
}

type Layer = tf.layers.Layer & Record<string, unknown>;

const layersOf = (chain: Chain): Layer[] | undefined => {
  const module = chain.models[0]?.module;
  return module instanceof LayersModule ? (module.model.layers as Layer[]) : undefined;
};

/** What members of a pack share: layer kinds, activations, biases, inputs and outputs (hidden widths may differ). */
const structure = (layers: Layer[]) => {
  const dense = layers.filter((l) => l.getClassName() === 'Dense');
  return JSON.stringify({
    layers: layers.map((l) => [l.getClassName(), l.getConfig().activation ?? null, l.getConfig().useBias ?? null]),
    output: dense[dense.length - 1]?.getConfig().units ?? null,
  });
};

/** Why one chain cannot be in a pack at all, or undefined. */
export function unpackable(c: Chain): string | undefined {
  if (c.models.length !== 1) return 'the model chain has several model classes';
  const module = c.models[0]!.module;
  if (!(module instanceof LayersModule)) return `${c.names.model} does not extend LayersModule`;
  if (module.forward !== LayersModule.prototype.forward) return `${c.names.model} has a forward() of its own`;
  if (module.parameters !== LayersModule.prototype.parameters) return `${c.names.model} has a parameters() of its own`;
  // A pack's loss is the members' losses alone: penalties of their own would be left out.
  if (module.regularizationLosses !== LayersModule.prototype.regularizationLosses)
    return `${c.names.model} has a regularizationLosses() of its own`;
  // A pack keeps its weights apart from the members' models and data between epochs: a hook that
  // changes them would be lost.
  const hooked = [...c.dataModules, module].find((m) => typeof (m as { epochEnd?: unknown }).epochEnd === 'function');
  if (hooked)
    return `${hooked.constructor.name} has an epochEnd() (it may change the model or the data between epochs)`;
  for (const l of module.model.layers as Layer[]) {
    const name = l.getClassName();
    if (name !== 'Dense' && name !== 'Activation')
      return `${c.names.model} has a ${name} layer (packs take dense and activation layers)`;
    const config = l.getConfig();
    // Regularized runs train alone, where their penalties are added to the loss as model.fit adds them.
    if (config.kernelRegularizer || config.biasRegularizer || config.activityRegularizer || l.losses.length > 0)
      return `${c.names.model} has a regularizer`;
  }
  if (module.model.weights.length !== c.variables.length) return `${c.names.model} has weights that are not trained`;
  if (!Array.isArray(c.train) || !Array.isArray(c.test)) return 'the data are not arrays of batches';
  if ((c.train as unknown[]).some((b) => asBatch(b as never).x.rank !== 2))
    return 'the inputs are not matrices (samples x features)';
  const params = parameterCount(c.variables);
  const batch = Number(c.runInfo.batch_size) || 1;
  if (params * batch >= WASM_FROM_WORK)
    return `the model is large enough (${params} parameters x batch ${batch}) that training runs together saves nothing`;
  return undefined;
}

const batchShapes = (c: Chain) =>
  (['train', 'test'] as const)
    .map((source) =>
      (c[source] as unknown[])
        .map((b) => {
          const { x, y } = asBatch(b as never);
          return `${x.shape}|${y.shape}`;
        })
        .join(';'),
    )
    .join('/');

/**
 * Which of the runs claimed together can train as one batched model with the first, and how:
 * each model chain one `LayersModule` whose `forward` is Mosaic's, a stack of dense and
 * activation layers without regularizers, small enough that its steps are bound by per-operation
 * overhead (batching larger ones saves nothing); all with the first's layer kinds, activations,
 * inputs and outputs (hidden widths may differ: the pack pads them to the widest, the padding
 * held at zero), batches of the same shapes, and a built-in loss with a per-replica form. The
 * first alone is a pack of one. Returns why not when the first cannot be packed at all.
 */
export function packModel(
  chains: Chain[],
  lossFunction: string | undefined,
): { model: PackModel; members: number[] } | string {
  const first = chains[0]!;
  const why = unpackable(first);
  if (why) return why;
  const kind = lossFunction === undefined ? undefined : lossKind(lossFunction);
  const loss = kind ? replicaLoss(kind) : undefined;
  if (!kind || !loss) return `the loss ${first.names.loss} has no per-run form for packs`;
  const [shape, data] = [structure(layersOf(first)!), batchShapes(first)];
  const members = chains
    .map((_, i) => i)
    .filter(
      (i) =>
        i === 0 ||
        (!unpackable(chains[i]!) && structure(layersOf(chains[i]!)!) === shape && batchShapes(chains[i]!) === data),
    );
  const mates = members.map((i) => chains[i]!);
  const layers = layersOf(first)!;
  return {
    model: {
      layers: layers.map((l) => ({
        dense: l.getClassName() === 'Dense',
        useBias: l.getConfig().useBias !== false && l.getClassName() === 'Dense',
        activation: l.activation as PackLayer['activation'],
        activationName: (l.getConfig().activation as string | undefined) ?? undefined,
      })),
      loss,
      lossKind: kind,
      shapes: first.variables.map((v, j) =>
        v.shape.map((_, d) => Math.max(...mates.map((c) => c.variables[j]!.shape[d]!))),
      ),
    },
    members,
  };
}

/**
 * The forward pass of R replicas at once: inputs `[R, batch, features]`, and per dense layer a
 * kernel `[R, in, out]` (one batched matMul) and a bias `[R, 1, out]`; activations apply
 * element-wise (softmax on the last axis), so each replica computes what its model alone would.
 * Models of different widths are padded with zero weights that the optimizer holds at zero (their
 * gradient is masked, see `stackVariables`): a padded unit's output meets only zero weights, so it
 * adds exact zeros to every sum of the next layer.
 */
export function packForward(model: PackModel, weights: tf.Variable[], x: tf.Tensor): tf.Tensor {
  let h = x;
  let w = 0;
  for (const layer of model.layers) {
    if (layer.dense) {
      h = tfjs.matMul(h, weights[w++]!);
      if (layer.useBias) h = h.add(weights[w++]!);
    }
    if (layer.activation) h = layer.activation.apply(h);
  }
  return h;
}

/** The stacked shape of a member's variable: kernels `[R, in, out]`, biases `[R, 1, out]`. */
const stackedShape = (shape: number[], replicas: number) => [replicas, ...(shape.length === 1 ? [1] : []), ...shape];

/** A member's tensor (a variable, or its optimizer state) padded with zeros to the pack's shape and stacked. */
export function stackPadded(tensors: tf.Tensor[], shape: number[]): tf.Tensor {
  return tfjs.tidy(() =>
    tfjs
      .stack(tensors.map((t) => tfjs.pad(t, shape.map((d, i) => [0, d - t.shape[i]!]) as [number, number][])))
      .reshape(stackedShape(shape, tensors.length)),
  );
}

/**
 * Stacked (padded) variables, and when members differ in width, the gradient mask of the flat
 * parameters: ones where a member has a weight, zeros on the padding. Every tf optimizer leaves a
 * parameter whose gradients are all zero where it is, so the padding stays at zero.
 */
export function stackVariables(
  chains: Chain[],
  model: PackModel,
): { weights: tf.Variable[]; gradientMask: tf.Tensor1D | undefined } {
  const weights = model.shapes.map((shape, j) =>
    tfjs.tidy(() =>
      tfjs.variable(
        stackPadded(
          chains.map((c) => c.variables[j]!),
          shape,
        ),
        true,
      ),
    ),
  );
  const padded = model.shapes.some((shape, j) =>
    chains.some((c) => c.variables[j]!.shape.join('x') !== shape.join('x')),
  );
  const gradientMask = padded
    ? tfjs.tidy(
        () =>
          tfjs.concat(
            model.shapes.map((shape, j) =>
              stackPadded(
                chains.map((c) => tfjs.ones(c.variables[j]!.shape)),
                shape,
              ).reshape([-1]),
            ),
          ) as tf.Tensor1D,
      )
    : undefined;
  return { weights, gradientMask };
}

/** Replica r's share of a stacked (padded) tensor, in its run's own shape. */
export function replicaOf(stacked: tf.Tensor, r: number, shape: number[]): tf.Tensor {
  return tfjs.tidy(() => {
    const inner = stacked.shape.slice(1);
    const size = inner.length === shape.length ? shape : [1, ...shape];
    return stacked.slice([r, ...inner.map(() => 0)], [1, ...size]).reshape(shape);
  });
}
