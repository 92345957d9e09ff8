import fs from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs/tfjs.js';
import type { ModelModule, ModuleInfo, RunInfo } from './contracts.js';
import { derivedSeed } from './random.js';
import { decodeWeightFile } from './weights.js';

/**
 * Base class for a model module that wraps a `tf.LayersModel`: set `this.model` in the
 * constructor and get `forward`, `parameters`, `saveModel`, `loadModel` and `dispose` for free.
 * Saved as `<path>.json` (topology and weight specs) and `<path>.weights.bin`.
 */
export abstract class LayersModule implements ModelModule {
  abstract model: tf.LayersModel;

  forward(data: tf.Tensor, runInfo: RunInfo, _moduleInfo: ModuleInfo): tf.Tensor {
    return this.model.apply(data, { training: runInfo.training }) as tf.Tensor;
  }

  parameters(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  info(): Record<string, unknown> {
    return {};
  }

  /** The regularization losses of the model's layers (`kernelRegularizer`, …), which Mosaic adds to the training loss as `model.fit` does. */
  regularizationLosses(): tf.Scalar[] {
    return this.model.calculateLosses();
  }

  async saveModel(path: string): Promise<void> {
    await this.model.save(
      tfjs.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData
          ? Buffer.from(tfjs.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]))
          : Buffer.alloc(0);
        await fs.writeFile(`${path}.weights.bin`, weights);
        await fs.writeFile(
          `${path}.json`,
          JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }),
        );
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  }

  async loadModel(path: string): Promise<void> {
    const meta = JSON.parse(await fs.readFile(`${path}.json`, 'utf8')) as { weightSpecs: tf.io.WeightsManifestEntry[] };
    const bin = await fs.readFile(`${path}.weights.bin`);
    const values = decodeWeightFile(bin, meta.weightSpecs);
    if (values.length !== this.model.weights.length) {
      throw new Error(
        `loadModel(${path}): the file has ${values.length} weights, the model ${this.model.weights.length}`,
      );
    }
    this.model.setWeights(values);
    tfjs.dispose(values);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * Seeded Glorot-uniform initialisers, one per call: `const init = seededInitializers(seed);
 * tf.layers.dense({ units, kernelInitializer: init() })` makes a run's starting weights depend
 * only on its seed.
 */
export function seededInitializers(seed: number): () => ReturnType<typeof tf.initializers.glorotUniform> {
  let counter = 0;
  return () => tfjs.initializers.glorotUniform({ seed: derivedSeed(seed, counter++) });
}

/**
 * Seeded initialisers as PyTorch's `nn.Linear` (and `nn.Conv*`) make them: weights and biases
 * uniform in ±1/√fan_in. `const init = pytorchInitializers(seed); tf.layers.dense({ units,
 * ...init(fanIn) })`, so a port of a PyTorch model starts where the original does (in law).
 */
export function pytorchInitializers(seed: number): (fanIn: number) => {
  kernelInitializer: ReturnType<typeof tf.initializers.randomUniform>;
  biasInitializer: ReturnType<typeof tf.initializers.randomUniform>;
} {
  let counter = 0;
  return (fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return {
      kernelInitializer: tfjs.initializers.randomUniform({
        minval: -bound,
        maxval: bound,
        seed: derivedSeed(seed, counter++),
      }),
      biasInitializer: tfjs.initializers.randomUniform({
        minval: -bound,
        maxval: bound,
        seed: derivedSeed(seed, counter++),
      }),
    };
  };
}
