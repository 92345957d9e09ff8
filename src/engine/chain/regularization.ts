import type * as tf from '@tensorflow/tfjs';
import type { ModelModule } from '../../user/contracts.js';

type Penalized = ModelModule & { model?: { calculateLosses?: () => tf.Scalar[] } };

/**
 * The penalties of a model class: its `regularizationLosses()` (a `LayersModule`: its layers'
 * regularizers), or, for a class that holds a `tf.LayersModel` in `model` without extending
 * LayersModule, that model's regularization losses.
 */
function penalties(module: ModelModule): tf.Scalar[] {
  const m = module as Penalized;
  if (typeof m.regularizationLosses === 'function') return m.regularizationLosses();
  if (typeof m.model?.calculateLosses === 'function') return m.model.calculateLosses();
  return [];
}

/**
 * The training loss as `model.fit` minimises it: the loss of the batch plus every regularization
 * loss of every model class of the chain, added one by one in order (tfjs-layers' training.js adds
 * `calculateLosses()` to the mean loss the same way), inside the function whose gradient is taken.
 */
export function withRegularization(loss: tf.Scalar, modules: ModelModule[]): tf.Scalar {
  let total = loss;
  for (const module of modules) for (const penalty of penalties(module)) total = total.add(penalty);
  return total;
}
