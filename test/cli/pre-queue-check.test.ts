import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli,
  expectCleanFailure,
  faultyModel,
  FIXTURES,
  fixtureConfig,
  rows,
  tmpDir,
  tutorialConfig,
} from '../support/helpers.js';

/** A second data section beside [or_data]: the OR gate read from a CSV file. */
const csvData = (file: string) => `
[csv]
type = data
class = csv_data
path_to_class = ${FIXTURES}/csv-data.mjs
key = csv
path = ${file}
batch_size = 4
`;

/** `run --queue-only` of a config: the result, and the statuses of the runs queued (none: no database). */
function queue(config: string, ...options: string[]) {
  const dir = path.dirname(config);
  const db = path.join(dir, 'x.db');
  const r = cli(['run', config, db, '--queue-only', ...options], dir);
  const statuses = fs.existsSync(db) ? rows(db, 'SELECT status FROM runs').map((x) => x.status) : undefined;
  return { r, statuses };
}

describe('run builds a run of each pipeline before queueing, and refuses one that fails', () => {
  it('a wrong data path: refused naming its section and the error, nothing queued; --no-check queues', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2') + csvData(path.join(dir, 'no-such.csv')), epochs: 1 });
    const { r, statuses } = queue(config);
    // the second data chain is prepared too, not only the first
    expectCleanFailure(
      r,
      /config\.ini:\d+ \[csv\]: csv_data fails preparing the data: ENOENT: no such file or directory, open '.*no-such\.csv'; nothing was queued \(--no-check skips this check\)$/,
    );
    expect(statuses).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);

    const skipped = queue(config, '--no-check');
    expect(skipped.r.code, skipped.r.stderr).toBe(0);
    expect(skipped.statuses).toEqual(['pending', 'pending']);
  });

  it('mosaic run has its first worker check (it has TF.js loaded): the refusal of --queue-only, and what the classes print meanwhile, as they print it', () => {
    const dir = tmpDir();
    const csv = path.join(dir, 'or.csv');
    const printing = (file: string) =>
      csvData(file).replace('csv_data', 'printing_csv').replace('csv-data', 'printing-data');
    const config = fixtureConfig(dir, { models: faultyModel('2') + printing(csv), epochs: 1 });
    const db = path.join(dir, 'x.db');
    const refused = cli(['run', config, db], dir);
    expect(refused.code).toBe(2);
    expect(refused.stdout.split('\n')[0]).toBe(`reading ${csv}`);
    const said = refused.stderr.trim().split('\n');
    expect(said).toEqual(['a line on stderr from the data class', queue(config).r.stderr.trim().split('\n').at(-1)]);
    expect(said[1]).toMatch(/\[csv\]: printing_csv fails preparing the data: ENOENT.*; nothing was queued/);
    expect(fs.existsSync(db)).toBe(false);

    fs.writeFileSync(
      csv,
      Array.from({ length: 16 }, (_, i) => `${i & 1},${(i >> 1) & 1},${(i & 1) | ((i >> 1) & 1)}`).join('\n'),
    );
    const ran = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(ran.code, ran.stderr).toBe(0);
    const lines = ran.stdout.split('\n');
    // The check's, before the runs are queued and unprefixed; then each worker's, prefixed.
    expect(lines.indexOf(`reading ${csv}`)).toBeLessThan(lines.findIndex((l) => l.includes('runs queued')));
    expect(lines.filter((l) => l.endsWith(`reading ${csv}`)).length).toBeGreaterThan(1);
  });

  it('the same data at the right path passes, and each model runs on each data chain', () => {
    const dir = tmpDir();
    const csv = path.join(dir, 'or.csv');
    fs.writeFileSync(
      csv,
      Array.from({ length: 16 }, (_, i) => `${i & 1},${(i >> 1) & 1},${(i & 1) | ((i >> 1) & 1)}`).join('\n'),
    );
    const { r, statuses } = queue(fixtureConfig(dir, { models: faultyModel('2') + csvData(csv), epochs: 1 }));
    expect(r.code, r.stderr).toBe(0);
    expect(statuses).toEqual(['pending', 'pending']);
  });

  it('a model class that throws in its constructor for its first swept value: refused with that value', () => {
    const dir = tmpDir();
    // TF.js refuses a dense layer of 0 units when the model is built
    const { r, statuses } = queue(fixtureConfig(dir, { models: faultyModel('0, 2'), epochs: 1 }));
    expectCleanFailure(
      r,
      /config\.ini:\d+ \[faulty\]: faulty fails building the model with width = 0 \(the first of its swept values; the others are left to their runs\): .*units.*positive integer/,
    );
    expect(statuses).toBeUndefined();
  });

  it('a model class that throws in its forward pass; with two data chains, the one it ran on is named', () => {
    const dir = tmpDir();
    const csv = path.join(dir, 'or.csv');
    fs.writeFileSync(csv, '0,0,0\n0,1,1\n1,0,1\n1,1,1\n');
    const { r, statuses } = queue(fixtureConfig(dir, { models: faultyModel('3, 2') + csvData(csv), epochs: 1 }));
    expectCleanFailure(
      r,
      /config\.ini:\d+ \[faulty\]: faulty fails in its first forward pass on the data of \[or_data\] with width = 3 \(the first of its swept values; .*\): RangeError: width 3 is not supported by this model;/,
    );
    expect(statuses).toBeUndefined();
  });

  it("a model written for its batch size passes: the check's pass on the first rows falls back to the whole batch", () => {
    const dir = tmpDir();
    const fourRows = `\n[four_rows]\ntype = model\nclass = four_rows\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = four\n`;
    const { r, statuses } = queue(fixtureConfig(dir, { models: fourRows, epochs: 1 }));
    expect(r.code, r.stderr).toBe(0);
    expect(statuses).toEqual(['pending']);
  });

  it('a value failing only beyond the first is left to its runs', () => {
    const dir = tmpDir();
    const { r, statuses } = queue(fixtureConfig(dir, { models: faultyModel('2, 3'), epochs: 1 }));
    expect(r.code, r.stderr).toBe(0);
    expect(statuses).toEqual(['pending', 'pending']);
  });

  it('a parameter no place gives (not a typo) is refused naming the section', () => {
    const dir = tmpDir();
    const needsDepth = `\n[needs_depth]\ntype = model\nclass = needs_depth\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = needs_depth\n`;
    const { r, statuses } = queue(fixtureConfig(dir, { models: faultyModel('2') + needsDepth, epochs: 1 }));
    expectCleanFailure(
      r,
      /config\.ini:\d+ \[needs_depth\]: needs_depth fails building the model: needs_depth: required parameter "depth" not found/,
    );
    expect(statuses).toBeUndefined();
  });

  it('a Python list is refused by the config check, --no-check or not; a bracketed single value gets the hint', () => {
    const dir = tmpDir();
    for (const options of [[], ['--no-check']]) {
      const { r, statuses } = queue(
        fixtureConfig(dir, { models: faultyModel('[1, 2, 3, 4, 6, 8, 12, 16]'), epochs: 1 }),
        ...options,
      );
      expectCleanFailure(
        r,
        /config\.ini:\d+ \[faulty\] width: a list is written without brackets: 1, 2, 3, 4, 6, 8, 12, 16, not \[1, 2, 3, 4, 6, 8, 12, 16\]$/,
      );
      expect(statuses).toBeUndefined();
    }
    // one value in brackets reaches the class as the string "[16]", which its dense layer refuses
    const { r } = queue(fixtureConfig(dir, { models: faultyModel('[16]'), epochs: 1 }));
    expectCleanFailure(
      r,
      /\[faulty\]: faulty fails building the model: .*"\[16\]".* \(lists are written without brackets: width = 16\); nothing was queued/,
    );
  });

  it('the tutorial passes the check; generate checks as run does', () => {
    const dir = tmpDir();
    const { r, statuses } = queue(tutorialConfig(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(statuses).toHaveLength(24);
    const out = path.join(dir, 'p.json');
    const g = cli(['generate', fixtureConfig(dir, { models: faultyModel('3'), epochs: 1 }), out], dir);
    expectCleanFailure(g, /\[faulty\]: faulty fails in its first forward pass: RangeError: width 3/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
