import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, expectCleanFailure, rows, tmpDir, tutorialConfig } from '../support/helpers.js';

/** A race's bad settings are refused by the commands in one line, before any database is made. */
describe('a race refused before anything is queued', () => {
  const raceConfig = (dir: string, keys: string) => tutorialConfig(dir, { multiplicity: `auto\n${keys}`, epochs: '5' });

  it.each([
    [
      'min_repeats below 2',
      'min_repeats = 1',
      /config\.ini:\d+ \[MONITOR\] min_repeats: min_repeats must be an integer of at least 2/,
    ],
    [
      'max_repeats below min_repeats',
      'min_repeats = 4\nmax_repeats = 3',
      /\[MONITOR\] max_repeats: max_repeats \(3\) must be at least min_repeats \(4\)/,
    ],
    [
      'a criterion that does not exist',
      'race_criterion = test_los',
      /\[MONITOR\] race_criterion: race_criterion "test_los" does not exist; valid: train_loss, test_loss, .*no class file of this experiment names a metric "test_los"/,
    ],
    [
      'a budget under the first round',
      'max_runs = 10',
      /\[MONITOR\] max_runs: max_runs \(10\) is less than the first round needs: 6 configurations × min_repeats 3 = 18 runs/,
    ],
    [
      'a race key without auto',
      'max_repeats = 5',
      /max_repeats is a setting of a race, read only with multiplicity = auto/,
    ],
  ])('%s: run and generate exit 2 with one line, and no database is made', (name, keys, message) => {
    const dir = tmpDir();
    const config =
      name === 'a race key without auto' ? tutorialConfig(dir, { multiplicity: `4\n${keys}` }) : raceConfig(dir, keys);
    const db = path.join(dir, 'race.db');
    expectCleanFailure(cli(['run', config, db], dir), message);
    expect(fs.existsSync(db)).toBe(false);
    expectCleanFailure(cli(['generate', config, path.join(dir, 'p.json')], dir), message);
    expect(fs.existsSync(path.join(dir, 'p.json'))).toBe(false);
  });

  it('a race runs in a database of its own', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'race.db');
    const fixed = cli(['run', tutorialConfig(dir, { multiplicity: '1', epochs: '2' }), db], dir);
    expect(fixed.code, fixed.stderr).toBe(0);
    expectCleanFailure(
      cli(['run', raceConfig(dir, 'max_repeats = 4'), db], dir),
      /\[MONITOR\] multiplicity: auto \(a race\), but .*race\.db already holds 6 runs: a race decides on every run of its data keys, so it runs in a database of its own/,
    );
    // Nothing written: the runs and the experiment's settings are the fixed experiment's.
    expect(rows(db, 'SELECT COUNT(*) AS n FROM runs')).toEqual([{ n: 6 }]);
    expect(
      JSON.parse(
        String(rows(db, `SELECT param_value FROM system WHERE param_name = 'setting.monitor'`)[0]!.param_value),
      ).race,
    ).toBeUndefined();
  });

  it('generate says it writes the first round of a race', () => {
    const dir = tmpDir();
    const r = cli(['generate', raceConfig(dir, 'max_repeats = 4'), path.join(dir, 'p.json')], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^18 pipelines \(6 distinct x min_repeats 3: the first round of a race \(multiplicity = auto\)/,
    );
  });
});
