import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MosaicError } from '../../src/core/errors.js';
import { readCsv } from '../../src/user/csv.js';
import { FIXTURES, tmpDir } from '../support/helpers.js';

const file = (name: string) => path.join(FIXTURES, 'data-formats', name);
const rows = (x: ArrayLike<ArrayLike<number>>) => Array.from(x, (r) => Array.from(r));

describe('readCsv', () => {
  it('reads features by default as every other column, text targets as sorted class indices', async () => {
    const t = await readCsv(file('flowers.csv'), { target: 'species' });
    expect(t.features).toEqual(['petal length', 'petal width', 'height']);
    expect(t.targets).toEqual(['species']);
    expect(t.classes).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(t.y).toEqual([0, 1, 2, 0]);
    expect(rows(t.x)).toEqual([
      [Math.fround(1.4), Math.fround(0.2), 10],
      [Math.fround(4.7), Math.fround(1.4), 12.5],
      [Math.fround(5.5), Math.fround(2.1), -1],
      [Math.fround(1.3), Math.fround(0.3), 1000],
    ]);
  });

  it('takes columns by name or index, numeric targets as numbers, several targets as rows', async () => {
    const one = await readCsv(file('flowers.csv'), { target: 3, features: ['petal width', 0] });
    expect(one.features).toEqual(['petal width', 'petal length']);
    expect(one.y).toEqual([10, 12.5, -1, 1000]);
    expect(one.classes).toBeUndefined();
    const two = await readCsv(file('flowers.csv'), { target: ['petal width', 'height'], features: [0] });
    expect(rows(two.y as Float32Array[])).toEqual([
      [Math.fround(0.2), 10],
      [Math.fround(1.4), 12.5],
      [Math.fround(2.1), -1],
      [Math.fround(0.3), 1000],
    ]);
  });

  it('reads a file without header, with another delimiter, quoted fields and blank lines', async () => {
    const dir = tmpDir();
    const f = path.join(dir, 'plain.tsv');
    fs.writeFileSync(f, '1\t"2"\t0\n\n3\t4\t1\n');
    const t = await readCsv(f, { target: 2, header: false, delimiter: '\t' });
    expect(t.features).toEqual(['0', '1']);
    expect(rows(t.x)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(t.y).toEqual([0, 1]);
  });

  it('stores many rows in float32 chunks without losing any', async () => {
    const dir = tmpDir();
    const f = path.join(dir, 'big.csv');
    const n = 100_000;
    fs.writeFileSync(f, `a,b\n${Array.from({ length: n }, (_, i) => `${i},${i % 7}`).join('\n')}\n`);
    const t = await readCsv(f, { target: 'b' });
    expect(t.x.length).toBe(n);
    expect(t.x[n - 1]![0]).toBe(n - 1);
    expect((t.y as number[])[n - 1]).toBe((n - 1) % 7);
    // views on shared chunks, not an array per row
    expect(t.x[0]!.buffer.byteLength).toBeGreaterThan(1000 * t.x[0]!.byteLength);
  });

  it('refuses bad input in one line naming the file, and the line and column where they apply', async () => {
    const cases: [string, Parameters<typeof readCsv>[1], RegExp][] = [
      ['bad-value.csv', { target: 'y' }, /bad-value\.csv:4: column "b" holds "n\/a", not a number$/],
      ['ragged.csv', { target: 'y' }, /ragged\.csv: Invalid Record Length: expect 3, got 2 on line 3$/],
      [
        'flowers.csv',
        { target: 'colour' },
        /flowers\.csv: no column "colour" \(columns: petal length, petal width, species, height\)$/,
      ],
      ['flowers.csv', { target: 'height', features: [7] }, /flowers\.csv: no column 7/],
      ['missing.csv', { target: 0 }, /missing\.csv: no such file$/],
      [
        'flowers.csv',
        { target: 'height', features: ['species'] },
        /flowers\.csv:2: column "species" holds "setosa", not a number$/,
      ],
    ];
    for (const [name, options, message] of cases) {
      const error = await readCsv(file(name), options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, name).toBeInstanceOf(MosaicError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
