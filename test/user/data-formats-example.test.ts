import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, openDb, ROOT, tmpDir } from '../support/helpers.js';

const EXAMPLE = path.join(ROOT, 'examples/data-formats');
const DATASETS = ['bars_png', 'blobs_npy', 'circles_csv', 'moons_csv'];

/** The example's config with its class paths made absolute, 5 epochs and one repeat: 12 runs. */
function smallConfig(dir: string): string {
  const text = fs
    .readFileSync(path.join(EXAMPLE, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${EXAMPLE}/`)
    .replace(/^epochs = .*$/m, 'epochs = 5')
    .replace(/^multiplicity = .*$/m, 'multiplicity = 1');
  const file = path.join(dir, 'config.ini');
  fs.writeFileSync(file, text);
  return file;
}

describe('the data-formats example (CSV, .npy and PNG data) end to end', () => {
  let dir: string;
  let db: string;
  let run: ReturnType<typeof cli>;

  beforeAll(() => {
    dir = tmpDir();
    db = path.join(dir, 'formats.db');
    run = cli(['run', smallConfig(dir), db], dir);
  });

  it('trains every model on the four datasets read from their files', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const d = openDb(db);
    const rows = d
      .prepare(
        `SELECT p.param_value AS data, COUNT(*) AS n, MIN(r.test_acc) AS acc
         FROM run_results r JOIN params p ON p.run_id = r.run_id AND p.param_name = 'data_key'
         GROUP BY data ORDER BY data`,
      )
      .all() as { data: string; n: number; acc: number | null }[];
    d.close();
    expect(rows.map((r) => [r.data, r.n])).toEqual(DATASETS.map((k) => [k, 3]));
    // class indices from CSV labels, .npy integers and folder names: accuracy by argmax, a number for every run
    for (const r of rows) expect(r.acc).toBeGreaterThanOrEqual(0);
  });

  it('gives compare --across-datasets a table of the three models on the four datasets', () => {
    const compare = cli(['compare', db, '--across-datasets'], dir);
    expect(compare.stderr).toBe('');
    expect(compare.code).toBe(0);
    for (const key of DATASETS) expect(compare.stdout).toMatch(new RegExp(`^${key} `, 'm'));
    expect(compare.stdout).toMatch(/^average rank /m);
    expect(compare.stdout).toMatch(/Friedman χ² = /);
    for (const model of ['linear', 'mlp_8', 'mlp_32']) expect(compare.stdout).toContain(model);
  });
});
