import * as tf from '@tensorflow/tfjs';
import { LayersModule, seededInitializers, type ModuleParams } from 'mosaic-ml';

function mlp(sizes: number[], inputSize: number, outputSize: number, seed: number): tf.Sequential {
  const init = seededInitializers(seed);
  const model = tf.sequential();
  sizes.forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: 'relu', kernelInitializer: init(), ...(i === 0 ? { inputShape: [inputSize] } : {}) }));
  });
  model.add(tf.layers.dense({ units: outputSize, activation: 'sigmoid', kernelInitializer: init() }));
  return model;
}

/** `length` hidden layers narrowing from length × width neurons down to width. */
export class mlp_funnel extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    const sizes = Array.from({ length: p.length }, (_, i) => p.width * (p.length - i));
    this.model = mlp(sizes, p.input_size, p.output_size, p.seed);
  }
}

/** `length` hidden layers of width neurons each. */
export class mlp_brick extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    const sizes = Array.from({ length: p.length }, () => p.width);
    this.model = mlp(sizes, p.input_size, p.output_size, p.seed);
  }
}
