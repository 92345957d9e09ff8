import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';

/** An optimizer's state as a checkpoint keeps it: its variables by name. */
export type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Frees what `RunOptimizer.state` made for its caller: its tensors of rank > 0 that are not
 * variables (an optimizer's own moments are; a copy, a split or a replica's share is not).
 */
export function disposeStateCopies(state: NamedTensor[]): void {
  tfjs.dispose(state.filter((t) => t.tensor.rank > 0 && !(t.tensor instanceof tfjs.Variable)).map((t) => t.tensor));
}

/** What a checkpoint keeps of an optimizer: its weights (moments, iterations) and bias corrections. */
export async function optimizerState(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const weights = isAdamax(optimizer) ? adamaxWeights(optimizer) : await optimizer.getWeights();
  return [...weights, ...biasCorrections(optimizer)];
}

/** TF.js's Adamax has no getWeights/setWeights: its state is read and written here, in the same layout. */
type Adamax = tf.Optimizer & {
  iteration: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedWeightedInfNorm: { originalName: string; variable: tf.Variable }[];
};

const isAdamax = (o: tf.Optimizer): o is Adamax => o.getClassName() === 'Adamax';

function adamaxWeights(o: Adamax): NamedTensor[] {
  return [
    { name: 'mosaic/adamax_iteration', tensor: o.iteration },
    ...o.accumulatedFirstMoment.map((m) => ({ name: m.originalName, tensor: m.variable })),
    ...o.accumulatedWeightedInfNorm.map((v) => ({ name: v.originalName, tensor: v.variable })),
  ];
}

function setAdamaxWeights(o: Adamax, state: NamedTensor[]): void {
  const [iteration, ...moments] = state;
  o.iteration.assign(iteration!.tensor);
  const half = moments.length / 2;
  tfjs.dispose([...o.accumulatedFirstMoment, ...o.accumulatedWeightedInfNorm].map((x) => x.variable));
  o.accumulatedFirstMoment = moments
    .slice(0, half)
    .map((t) => ({ originalName: t.name, variable: t.tensor.clone().variable(false) }));
  o.accumulatedWeightedInfNorm = moments
    .slice(half)
    .map((t) => ({ originalName: t.name, variable: t.tensor.clone().variable(false) }));
}

/** Gives an optimizer the state `optimizerState` read from one (moments in variable order, iterations, bias corrections). */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: NamedTensor[]): Promise<void> {
  const corrections = new Map(biasCorrections(optimizer).map((c) => [c.name, c.tensor as tf.Variable]));
  const weights = state.filter((t) => !corrections.has(t.name));
  if (isAdamax(optimizer)) setAdamaxWeights(optimizer, weights);
  else await optimizer.setWeights(weights);
  for (const t of state) corrections.get(t.name)?.assign(t.tensor);
}

/**
 * Adam and Adamax keep running products beta^t that `setWeights` recomputes with pow(), which
 * rounds differently in float32: saving and restoring them makes a continued run bit-identical.
 */
function biasCorrections(optimizer: tf.Optimizer): NamedTensor[] {
  const o = optimizer as unknown as Record<string, unknown>;
  return ['accBeta1', 'accBeta2']
    .filter((k) => o[k] instanceof tfjs.Variable)
    .map((k) => ({ name: `mosaic/${k}`, tensor: o[k] as tf.Variable }));
}
