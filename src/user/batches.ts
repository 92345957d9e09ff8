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

type Rows = ArrayLike<number | ArrayLike<number>>;

/**
 * Train and test batch sources from plain arrays (one row per sample). Tensors are built once
 * and reused at every epoch.
 */
export function trainTestBatches(x: Rows, y: Rows, options: SplitOptions): { train: Batch[]; test: Batch[] } {
  if (x.length !== y.length) throw new Error(`trainTestBatches: x has ${x.length} samples but y has ${y.length}`);
  if (!(options.batchSize >= 1 && Number.isInteger(options.batchSize))) {
    throw new Error(`trainTestBatches: batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const proportion = options.trainProportion ?? 0.8;
  if (!(proportion > 0 && proportion <= 1))
    throw new Error(`trainTestBatches: trainProportion must be in (0, 1], got ${proportion}`);
  let order = Array.from({ length: x.length }, (_, i) => i);
  if (options.shuffle ?? true) order = shuffled(order, seededRandom(options.seed ?? 0));
  const nTrain = Math.round(order.length * proportion);
  return {
    train: batchesOf(x, y, order.slice(0, nTrain), options),
    test: batchesOf(x, y, order.slice(nTrain), options),
  };
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
