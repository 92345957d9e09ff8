import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classesConfig, cli, rows, tmpDir } from '../support/helpers.js';

describe("metrics of the user's own", () => {
  it('run_info.log values are stored per epoch (averaged within one), shown by status', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'm.db');
    expect(cli(['run', classesConfig(dir, { model: 'log_metrics = True' }), db], dir).code).toBe(0);
    const logged = rows(db, `SELECT epoch, name, value FROM history_metrics ORDER BY name, epoch`);
    expect(
      logged.filter((r) => r.name === 'score').map((r) => [r.epoch, Number((r.value as number).toFixed(6))]),
    ).toEqual([
      [1, 0.61],
      [2, 0.62],
      [3, 0.63],
    ]);
    // 24 test samples in batches of 8
    expect(logged.filter((r) => r.name === 'test_batches').map((r) => r.value)).toEqual([3, 3, 3]);
    expect(rows(db, `SELECT name, better FROM metric_info ORDER BY name`)).toEqual([
      { name: 'score', better: 'higher' },
      { name: 'test_batches', better: 'lower' },
    ]);
    expect(cli(['status', db], dir).stdout).toMatch(
      /\[1\] three \| linear\ttrain_loss=\S+\ttest_loss=\S+\ttrain_acc=\S+\ttest_acc=\S+\tscore=6\.300E-01\ttest_batches=3\.000E\+00/,
    );
    // a criterion like the built-in ones, with its own direction
    const report = JSON.parse(cli(['compare', db, '--criterion', 'score', '--format', 'json'], dir).stdout);
    expect([report.criterion, report.direction, report.groups[0].mean]).toEqual([
      'score',
      'higher',
      expect.closeTo(0.63, 6),
    ]);
    expect(
      JSON.parse(cli(['compare', db, '--criterion', 'test_batches', '--format', 'json'], dir).stdout).direction,
    ).toBe('lower');
    const unknown = cli(['compare', db, '--criterion', 'f2'], dir);
    expect(unknown.stderr).toMatch(
      /unknown criterion "f2"; valid: .*best_epoch, and the metrics the runs logged: score, test_batches/,
    );
  });
});
