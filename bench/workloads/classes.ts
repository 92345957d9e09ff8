// Classes of the speed workloads (bench/vs-pytorch.mjs): random inputs with 10 one-hot classes,
// an MLP 784-256-256-10 (ReLU) and a small CNN (conv 16 3x3 ReLU, max-pool 2, conv 32 3x3 ReLU,
// max-pool 2, dense 10), as bench/pytorch_baseline.py builds them for PyTorch.
import * as tf from '@tensorflow/tfjs';
import { LayersModule, pytorchInitializers, seededRandom, type ModuleParams, type RunInfo } from 'mosaic-ml';

export class random_images {
  batchSize: number;
  train: number;
  test: number;
  image: boolean;
  constructor(p: ModuleParams) {
    this.batchSize = p.batch_size;
    this.train = p.train_size;
    this.test = p.test_size;
    this.image = p.image;
  }
  prepare(_data: unknown, runInfo: RunInfo) {
    const random = seededRandom(runInfo.seed);
    const batches = (n: number) => {
      const out = [];
      for (let start = 0; start + this.batchSize <= n; start += this.batchSize) {
        // TF.js's own generator, as the PyTorch loop uses torch.rand (a JavaScript loop over
        // seededRandom took ~0.3 s a run here, more than an epoch of the MLP).
        const x = tf.randomUniform(
          this.image ? [this.batchSize, 28, 28, 1] : [this.batchSize, 784],
          0,
          1,
          'float32',
          Math.floor(random() * 2 ** 31),
        );
        const y = new Float32Array(this.batchSize * 10);
        for (let i = 0; i < this.batchSize; i++) y[i * 10 + Math.floor(random() * 10)] = 1;
        out.push({ x, y: tf.tensor(y, [this.batchSize, 10]) });
      }
      return out;
    };
    return [batches(this.train), batches(this.test)];
  }
  info() {
    return { batch_size: this.batchSize };
  }
}

export class mlp_784 extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    const init = pytorchInitializers(p.seed);
    this.model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 256, activation: 'relu', inputShape: [784], ...init(784) }),
        tf.layers.dense({ units: 256, activation: 'relu', ...init(256) }),
        tf.layers.dense({ units: 10, ...init(256) }),
      ],
    });
  }
}

export class small_cnn extends LayersModule {
  model: tf.LayersModel;
  constructor(p: ModuleParams) {
    super();
    const init = pytorchInitializers(p.seed);
    this.model = tf.sequential({
      layers: [
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1], ...init(9) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', ...init(144) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, ...init(800) }),
      ],
    });
  }
}
