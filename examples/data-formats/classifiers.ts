import * as tf from '@tensorflow/tfjs';
import { LayersModule, type ModuleParams, pytorchInitializers } from 'mosaic-ml';

/** Dense layers: `hidden` ReLU layers, then one linear layer of logits (for CrossEntropyLoss). */
function classifier(hidden: number[], p: ModuleParams): tf.Sequential {
  const init = pytorchInitializers(p.seed);
  const model = tf.sequential();
  let fanIn: number = p.input_size;
  for (const [i, units] of [...hidden, p.output_size as number].entries()) {
    model.add(
      tf.layers.dense({
        units,
        activation: i < hidden.length ? 'relu' : 'linear',
        ...init(fanIn),
        ...(i === 0 ? { inputShape: [p.input_size] } : {}),
      }),
    );
    fanIn = units;
  }
  return model;
}

/** Multinomial logistic regression: one linear layer. */
export class linear extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    this.model = classifier([], p);
  }
}

/** One hidden ReLU layer of `width` units. */
export class mlp extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    this.model = classifier([p.width], p);
  }
}
