import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tfjs } from '../../src/tfjs/tfjs.js';
import { trainTestBatches } from '../../src/user/batches.js';
import { openNpy, npyRows, readNpy } from '../../src/user/npy.js';
import { streamedTrainTestBatches } from '../../src/user/streamed-batches.js';
import { FIXTURES } from '../support/helpers.js';

const file = (name: string) => path.join(FIXTURES, 'data-formats', name);
const values = (batches: Iterable<{ x: { arraySync(): unknown }; y: { arraySync(): unknown } }>) =>
  Array.from(batches, (b) => [b.x.arraySync(), b.y.arraySync()]);

describe('streamedTrainTestBatches', () => {
  const x = Array.from({ length: 23 }, (_, i) => [i, i * 0.5, -i]);
  const y = Array.from({ length: 23 }, (_, i) => i % 3);
  const options = { batchSize: 4, trainProportion: 0.7, seed: 11, dropLast: true };

  it('gives the batches of trainTestBatches, same split and order, made when iterated', () => {
    const eager = trainTestBatches(x, y, options);
    const streamed = streamedTrainTestBatches(x, y, options);
    expect(Array.isArray(streamed.train)).toBe(false);
    expect(values(streamed.train)).toEqual(values(eager.train));
    expect(values(streamed.test)).toEqual(values(eager.test));
    // every epoch iterates anew, and makes new tensors only then
    const before = tfjs.memory().numTensors;
    const again = Array.from(streamed.train);
    expect(tfjs.memory().numTensors - before).toBe(2 * again.length);
    tfjs.dispose(again.flatMap((b) => [b.x, b.y]));
  });

  it('reads the rows of a .npy file from disk, as readNpy would give them', () => {
    const from = (
      xs: Parameters<typeof streamedTrainTestBatches>[0],
      ys: Parameters<typeof streamedTrainTestBatches>[1],
    ) => streamedTrainTestBatches(xs, ys, { batchSize: 2, seed: 3, trainProportion: 0.5 });
    const onDisk = from(openNpy(file('uint8-3d.npy')), [0, 1, 2, 3]);
    const inMemory = from(npyRows(readNpy(file('uint8-3d.npy'))), [0, 1, 2, 3]);
    expect(values(onDisk.train)).toEqual(values(inMemory.train));
    expect(values(onDisk.test)).toEqual(values(inMemory.test));
  });

  it('refuses x and y of different lengths', () => {
    expect(() => streamedTrainTestBatches(x, y.slice(1), options)).toThrow(/x has 23 samples but y has 22/);
  });
});
