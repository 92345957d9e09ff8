import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs/tfjs.js';
import type { Batch } from './contracts.js';
import { seededRandom, shuffled } from './random.js';

export interface SplitOptions {
  batchSize: number;
  /** Share of the samples in the train set; the rest is the test set. Default 0.8. */
  trainProportion?: number;
  /** Shuffle the samples before splitting. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle; pass `runInfo.seed`. */
  seed?: number;
  /** Drop a last batch smaller than batchSize (as PyTorch's drop_last). Default false. */
  dropLast?: boolean;
}

/** One row per sample: numbers (one value each) or arrays of values (typed arrays included). */
export type Rows = ArrayLike<number | ArrayLike<number>>;

/**
 * Train and test batch sources from plain arrays (one row per sample). Tensors are built once
 * and reused at every epoch.
 */
export function trainTestBatches(x: Rows, y: Rows, options: SplitOptions): { train: Batch[]; test: Batch[] } {
  if (x.length !== y.length) throw new Error(`trainTestBatches: x has ${x.length} samples but y has ${y.length}`);
  if (!(options.batchSize >= 1 && Number.isInteger(options.batchSize))) {
    throw new Error(`trainTestBatches: batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const { train, test } = trainTestIndices(x.length, options);
  return { train: batchesOf(x, y, train, options), test: batchesOf(x, y, test, options) };
}

/** The sample indices of the train and test sets, as `trainTestBatches` splits `length` samples. */
export function trainTestIndices(
  length: number,
  options: Pick<SplitOptions, 'trainProportion' | 'shuffle' | 'seed'>,
): { train: number[]; test: number[] } {
  const proportion = options.trainProportion ?? 0.8;
  if (!(proportion > 0 && proportion <= 1))
    throw new Error(`trainTestBatches: trainProportion must be in (0, 1], got ${proportion}`);
  let order = Array.from({ length }, (_, i) => i);
  if (options.shuffle ?? true) order = shuffled(order, seededRandom(options.seed ?? 0));
  const nTrain = Math.round(order.length * proportion);
  return { train: order.slice(0, nTrain), test: order.slice(nTrain) };
}

/** Batches over the given sample indices, in that order. */
export function batchesOf(
  x: Rows,
  y: Rows,
  indices: number[],
  options: Pick<SplitOptions, 'batchSize' | 'dropLast'>,
): Batch[] {
  const batches: Batch[] = [];
  for (let start = 0; start < indices.length; start += options.batchSize) {
    const idx = indices.slice(start, start + options.batchSize);
    if (idx.length < options.batchSize && options.dropLast) break;
    batches.push({ x: rowsTensor(x, idx), y: rowsTensor(y, idx) });
  }
  return batches;
}

function rowsTensor(rows: Rows, idx: number[]): tf.Tensor {
  const first = rows[idx[0]!]!;
  if (typeof first === 'number')
    return tfjs.tensor2d(
      idx.map((i) => [rows[i] as number]),
      [idx.length, 1],
    );
  const width = first.length;
  const flat = new Float32Array(idx.length * width);
  idx.forEach((i, r) => {
    flat.set(Array.from(rows[i] as ArrayLike<number>), r * width);
  });
  return tfjs.tensor2d(flat, [idx.length, width]);
}
