import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../src/core/errors.js';
import { npyRows, openNpy, readNpy } from '../../src/user/npy.js';
import { FIXTURES } from '../support/helpers.js';

const DIR = path.join(FIXTURES, 'data-formats');
const file = (name: string) => path.join(DIR, name);
/** What numpy wrote (scripts/make-data-files.py): dtype, shape, values in C order. */
const expected = JSON.parse(fs.readFileSync(file('expected.json'), 'utf8')) as Record<
  string,
  { dtype: string; shape: number[]; values: number[] }
>;

describe('readNpy on files written by numpy', () => {
  for (const name of ['float32-2d', 'float64-1d', 'int64-1d', 'int32-2d', 'uint8-3d', 'bool-1d', 'version2']) {
    it(`reads ${name}.npy: its dtype, shape and values`, () => {
      const a = readNpy(file(`${name}.npy`));
      const want = expected[name]!;
      expect(a.dtype).toBe(want.dtype);
      expect(a.shape).toEqual(want.shape);
      // float32 values come back as float32: compare with numpy's float32 values widened to float64
      expect(Array.from(a.data)).toEqual(want.values);
    });
  }

  it('keeps 64-bit integers exact below 2^53 (2^40 here)', () => {
    expect(Array.from(readNpy(file('int64-1d.npy')).data)).toEqual([0, 2, 1, -3, 2 ** 40]);
  });

  it('gives rows along the first axis: numbers for 1-D, flattened samples beyond', () => {
    const oneD = npyRows(readNpy(file('float64-1d.npy')));
    expect(oneD.length).toBe(7);
    expect(typeof oneD[0]).toBe('number');
    const threeD = npyRows(readNpy(file('uint8-3d.npy')));
    expect(threeD.length).toBe(4);
    expect(Array.from(threeD[1] as ArrayLike<number>)).toEqual(expected['uint8-3d']!.values.slice(6, 12));
  });

  it('refuses Fortran order, unsupported dtypes, big-endian, truncated and missing files, in one line naming the file', () => {
    const cases: [string, RegExp][] = [
      ['fortran.npy', /fortran\.npy: the array is stored in Fortran order; save it in C order/],
      ['complex64.npy', /complex64\.npy: dtype '<c8' is not supported \(float32, float64/],
      ['float16.npy', /float16\.npy: dtype '<f2' is not supported/],
      ['big-endian.npy', /big-endian\.npy: big-endian float32 is not supported/],
      ['truncated.npy', /truncated\.npy: truncated: shape \(5, 3\) needs \d+ bytes, the file has \d+/],
      ['missing.npy', /missing\.npy: no such file/],
      ['flowers.csv', /flowers\.csv: not a \.npy file/],
    ];
    for (const [name, message] of cases) {
      for (const read of [readNpy, openNpy]) {
        let error: unknown;
        try {
          read(file(name));
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(MosaicError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain('\n');
      }
    }
  });
});

describe('openNpy: rows read from the file on demand', () => {
  it('reads the rows asked for, in that order, as float32', () => {
    const source = openNpy(file('int32-2d.npy'));
    expect([source.length, source.width, source.dtype]).toEqual([4, 2, 'int32']);
    const values = expected['int32-2d']!.values;
    expect(Array.from(source.read([3, 0, 3]))).toEqual([
      ...values.slice(6, 8),
      ...values.slice(0, 2),
      ...values.slice(6, 8),
    ]);
    const floats = openNpy(file('float32-2d.npy'));
    expect(Array.from(floats.read([1]))).toEqual(expected['float32-2d']!.values.slice(3, 6));
  });
});
