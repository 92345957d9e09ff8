// Classes of the race workload (bench/race-bench.mjs): a linear regression y = A·x + noise (8
// inputs, 8 outputs, x and the noise standard normal), learned by a linear model without biases
// that adds a known constant `shift` to every prediction, in training as in the test. With zero-mean
// inputs and no bias, training cannot take the shift back, so a run's test loss is about
// noise² + (its estimation error) + shift²: the shift sets the configuration's true mean loss
// (shift² above the others'), and +s and −s are exactly as good (the errors are symmetric), while
// the train and test sets, their noise and the initial weights (all drawn from the run's seed)
// make every run's loss vary. A itself is fixed by `task_seed`, not by the run's seed: every run
// learns the same task. The model has a forward() of its own, so its runs train alone, not in packs
// (~0.15 s a run of 20 epochs here).
import * as tf from '@tensorflow/tfjs';
import {
  LayersModule,
  pytorchInitializers,
  seededRandom,
  type ModuleInfo,
  type ModuleParams,
  type RunInfo,
} from 'mosaic-ml';

const D = 8;

/** Standard normal draws (Box–Muller) from a uniform generator. */
const normals = (random: () => number) => () =>
  Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

export class linear_task {
  batchSize: number;
  nTrain: number;
  nTest: number;
  noise: number;
  taskSeed: number;

  constructor(p: ModuleParams) {
    this.batchSize = p.batch_size;
    this.nTrain = p.n_train;
    this.nTest = p.n_test;
    this.noise = p.noise;
    this.taskSeed = p.task_seed;
  }

  prepare(_data: unknown, runInfo: RunInfo) {
    const taskGauss = normals(seededRandom(`race-task:${this.taskSeed}`));
    const a = Array.from({ length: D }, () => Array.from({ length: D }, () => taskGauss() / Math.sqrt(D)));
    const gauss = normals(seededRandom(`race-data:${runInfo.seed}`));
    const batches = (n: number, size: number) => {
      const x = new Float32Array(n * D);
      const y = new Float32Array(n * D);
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < D; j++) x[r * D + j] = gauss();
        for (let i = 0; i < D; i++) {
          let acc = this.noise * gauss();
          for (let j = 0; j < D; j++) acc += a[i]![j]! * x[r * D + j]!;
          y[r * D + i] = acc;
        }
      }
      const out = [];
      for (let start = 0; start + size <= n; start += size)
        out.push({
          x: tf.tensor2d(x.subarray(start * D, (start + size) * D), [size, D]),
          y: tf.tensor2d(y.subarray(start * D, (start + size) * D), [size, D]),
        });
      return out;
    };
    // The train set in batches (a new draw per seed, in a fixed order); the test set as one batch.
    return [batches(this.nTrain, this.batchSize), batches(this.nTest, this.nTest)];
  }

  info() {
    return { batch_size: this.batchSize, input_size: D, output_size: D };
  }
}

/** x ↦ W·x + shift: a linear model without bias whose predictions are all off by `shift`. */
export class shifted_linear extends LayersModule {
  model: tf.LayersModel;
  shift: number;
  constructor(p: ModuleParams) {
    super();
    this.shift = p.shift;
    const { biasInitializer: _unused, ...init } = pytorchInitializers(p.seed)(p.input_size);
    this.model = tf.sequential({
      layers: [tf.layers.dense({ units: p.output_size, useBias: false, inputShape: [p.input_size], ...init })],
    });
  }

  override forward(data: tf.Tensor, runInfo: RunInfo, moduleInfo: ModuleInfo): tf.Tensor {
    return tf.add(super.forward(data, runInfo, moduleInfo), this.shift);
  }
}
