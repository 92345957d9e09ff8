import { tfjs } from '../tfjs/tfjs.js';
import { type Rows, type SplitOptions, trainTestIndices } from './batches.js';
import type { Batch } from './contracts.js';

/** Samples read on demand: `length` rows of `width` values; `read` returns the given rows, one after the other. */
export interface RowSource {
  readonly length: number;
  readonly width: number;
  read(indices: readonly number[]): Float32Array;
}

/**
 * The batches of `trainTestBatches` (same split, same order), but each batch's tensors are made
 * when an epoch reaches it and freed after its step: the data are held once (or, from `openNpy`,
 * not at all), never a second time as tensors.
 */
export function streamedTrainTestBatches(
  x: Rows | RowSource,
  y: Rows | RowSource,
  options: SplitOptions,
): { train: Iterable<Batch>; test: Iterable<Batch> } {
  const xs = asRowSource(x);
  const ys = asRowSource(y);
  if (xs.length !== ys.length)
    throw new Error(`streamedTrainTestBatches: x has ${xs.length} samples but y has ${ys.length}`);
  if (!(options.batchSize >= 1 && Number.isInteger(options.batchSize))) {
    throw new Error(`streamedTrainTestBatches: batchSize must be a positive integer, got ${options.batchSize}`);
  }
  const { train, test } = trainTestIndices(xs.length, options);
  return { train: lazyBatches(xs, ys, train, options), test: lazyBatches(xs, ys, test, options) };
}

function lazyBatches(
  x: RowSource,
  y: RowSource,
  indices: number[],
  options: Pick<SplitOptions, 'batchSize' | 'dropLast'>,
): Iterable<Batch> {
  return {
    *[Symbol.iterator]() {
      for (let start = 0; start < indices.length; start += options.batchSize) {
        const idx = indices.slice(start, start + options.batchSize);
        if (idx.length < options.batchSize && options.dropLast) return;
        yield {
          x: tfjs.tensor2d(x.read(idx), [idx.length, x.width]),
          y: tfjs.tensor2d(y.read(idx), [idx.length, y.width]),
        };
      }
    },
  };
}

/** Rows in memory as a `RowSource`. */
export function asRowSource(rows: Rows | RowSource): RowSource {
  if ('read' in rows && typeof rows.read === 'function') return rows;
  const array = rows as Rows;
  const first = array[0];
  const width = first === undefined || typeof first === 'number' ? 1 : first.length;
  return {
    length: array.length,
    width,
    read(indices) {
      const out = new Float32Array(indices.length * width);
      indices.forEach((i, r) => {
        const row = array[i]!;
        if (typeof row === 'number') out[r] = row;
        else if (row.length === width) out.set(row, r * width);
        else throw new Error(`streamedTrainTestBatches: row ${i} has ${row.length} values, the first row ${width}`);
      });
      return out;
    },
  };
}
