import * as tf from '@tensorflow/tfjs';
import { LayersModule, pytorchInitializers, type ModuleParams } from 'mosaic-ml';

/**
 * The original tutorial's MLPs: a sigmoid after every layer, the last one included, and
 * PyTorch's default initialisation (weights and biases uniform in ±1/√fan_in).
 */
function mlp(sizes: number[], inputSize: number, outputSize: number, seed: number): tf.Sequential {
  const init = pytorchInitializers(seed);
  const model = tf.sequential();
  let fanIn = inputSize;
  for (const [i, units] of [...sizes, outputSize].entries()) {
    model.add(
      tf.layers.dense({
        units,
        activation: 'sigmoid',
        ...init(fanIn),
        ...(i === 0 ? { inputShape: [inputSize] } : {}),
      }),
    );
    fanIn = units;
  }
  return model;
}

/**
 * Hidden sizes of the funnel: `length` layers narrowing, with `length × width` neurons in all, as
 * the original's `_calc_sizes` gives them. Length 4: width 2 → 4, 2, 1, 1; width 3 → 6, 3, 2, 1;
 * width 4 → 8, 3, 3, 2. Other shapes: half of the neurons in the first layer, the rest shared as
 * evenly as possible over the next layers, wider first (this reproduces widths 2 and 4 above).
 */
function funnelSizes(length: number, width: number): number[] {
  const original: Record<string, number[]> = { '4x2': [4, 2, 1, 1], '4x3': [6, 3, 2, 1], '4x4': [8, 3, 3, 2] };
  const known = original[`${length}x${width}`];
  if (known) return known;
  const total = length * width;
  if (length === 1) return [total];
  const first = Math.ceil(total / 2);
  const rest = total - first;
  const others = length - 1;
  return [
    first,
    ...Array.from({ length: others }, (_, i) => Math.max(1, Math.floor(rest / others) + (i < rest % others ? 1 : 0))),
  ];
}

/** `length` hidden layers narrowing from wide to narrow, `length × width` neurons in all. */
export class mlp_funnel extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    this.model = mlp(funnelSizes(p.length, p.width), p.input_size, p.output_size, p.seed);
  }
}

/** `length` hidden layers of `width` neurons each. */
export class mlp_brick extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    this.model = mlp(
      Array.from({ length: p.length }, () => p.width),
      p.input_size,
      p.output_size,
      p.seed,
    );
  }
}
