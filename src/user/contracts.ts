import type * as tf from '@tensorflow/tfjs';
import type { ParamValue } from '../config/values.js';

/**
 * What every module receives about the run. Data modules' `info()` entries are merged in as the
 * chain is built (`batch_size`, `input_size`, …), so later modules can take them by name.
 */
export interface RunInfo {
  run_id: number;
  /** Per-run seed; our helpers (shuffle, split, initialisers) draw from it. */
  seed: number;
  epochs: number;
  lr: number;
  /** The epoch being trained or evaluated (1-based); 0 while the chain is built. */
  epoch: number;
  /** True while training, false while evaluating: pass it to layers with dropout or batch norm. */
  training: boolean;
  /** The GPU device of this run (`cuda:0`) when `need_gpu` is set. */
  device?: string;
  /** Folder of this run's files (checkpoints). */
  run_dir: string;
  /**
   * Records a metric of your own for the current epoch (F1, AUC, …): stored in the database
   * (`history_metrics`), shown by `mosaic status`, usable as a criterion by compare and the plots.
   * Several calls in one epoch are averaged; `better` says which way is better (default higher).
   */
  log: (name: string, value: number | tf.Tensor, better?: 'higher' | 'lower') => void;
  /**
   * The run's seeded generator of floats in [0, 1) (seedrandom's alea seeded with `seed`): draw
   * from it for sampling, shuffling or augmentation. While the run's code runs, `Math.random` is
   * this generator too, and so are TF.js's unseeded draws (dropout masks, `tf.randomNormal` and
   * initialisers without a seed): a run is a function of its config and seed, and its state is in
   * every checkpoint, so a continued run draws what it would have drawn without stopping.
   */
  random: () => number;
  [key: string]: unknown;
}

/** The module's own config section, sweeps resolved, numbers as numbers. */
export type ModuleInfo = Record<string, ParamValue>;

/** One batch: inputs and targets. A `[x, y]` pair is accepted too. */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** A source of batches, iterated once per epoch (an array of batches is one). */
export type BatchSource = Iterable<Batch | [tf.Tensor, tf.Tensor]> | AsyncIterable<Batch | [tf.Tensor, tf.Tensor]>;

/** Constructor parameters, by name: from the module's section, else from run_info, else the class's static `defaults`. */
// biome-ignore lint/suspicious/noExplicitAny: the user's code reads its parameters as the types it expects
export type ModuleParams = Record<string, any>;

/** A class of the data chain (types in `data_scheme`). */
export interface DataModule {
  /**
   * `data` is the previous data module's output (undefined for the first). The last data module
   * returns the pair `[train, test]` (or `{ train, test }`) of batch sources.
   */
  prepare(data: unknown, runInfo: RunInfo, moduleInfo: ModuleInfo): unknown;
  /** Merged into run_info; the last data module's must contain `batch_size`. */
  info(): Record<string, unknown>;
  /** Called after each epoch's test pass, like a model class's. */
  epochEnd?(runInfo: RunInfo): void | Promise<void>;
  dispose?(): void;
}

/** A class of the model chain (types in `pipeline_scheme`). */
export interface ModelModule {
  forward(data: tf.Tensor, runInfo: RunInfo, moduleInfo: ModuleInfo): tf.Tensor;
  /** Trainable variables, handed to the optimizer; their values are also checkpointed by Mosaic. */
  parameters(): tf.Variable[];
  /** Merged into run_info for the modules after this one. */
  info?(): Record<string, unknown>;
  /** `path` has no extension: choose your format. Called after every epoch. */
  saveModel?(path: string): void | Promise<void>;
  /** Called before a continued run (rerun, resume) trains again. */
  loadModel?(path: string): void | Promise<void>;
  /** Called after each epoch's test pass, before it is saved: the place for `runInfo.log(…)`. */
  epochEnd?(runInfo: RunInfo): void | Promise<void>;
  /**
   * Penalties added to the training loss at every step, inside the gradient (as `model.fit` adds
   * a Keras model's regularizers). A `LayersModule` gives its layers' regularization losses.
   */
  regularizationLosses?(): tf.Scalar[];
  dispose?(): void;
}

/** What a loss compares: it decides the accuracy rule and the shape checks of the targets. */
export type LossKind = 'classification' | 'binary' | 'binary_logits' | 'regression';

/**
 * A user loss: `forward(prediction, target)` returns a scalar. Its class may declare
 * `static kind: LossKind`: `classification` (targets are class indices or one-hot rows; accuracy
 * by argmax), `binary` (0/1 targets, probabilities: threshold 0.5), `binary_logits` (threshold 0)
 * or `regression` (no accuracy).
 */
export interface LossModule {
  forward(prediction: tf.Tensor, target: tf.Tensor): tf.Scalar | tf.Tensor;
}

export interface ModuleClass<T> {
  new (params: ModuleParams): T;
  /** Values for parameters that are neither in the section nor in run_info. */
  defaults?: Record<string, unknown>;
}
