import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, fixtureConfig, rows, tmpDir } from '../support/helpers.js';

describe('checkpoints belong to one database', () => {
  it('two databases in one folder keep their own checkpoints, and a rerun continues its own run', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, {
      models: faultyModel('2'),
      epochs: 5,
      monitor: 'nb_processus = 1\nmultiplicity = 2',
    });
    const [a, b] = [path.join(dir, 'A.db'), path.join(dir, 'B.db')];
    expect(cli(['run', config, a], dir).code).toBe(0);
    expect(cli(['run', config, b], dir).code).toBe(0);
    const folders = fs.readdirSync(path.join(dir, 'runs')).sort();
    expect(folders).toHaveLength(2);
    expect(folders[0]).toMatch(/^A-[0-9a-f]{8}$/);
    expect(folders[1]).toMatch(/^B-[0-9a-f]{8}$/);

    const before = rows(a, `SELECT train_loss FROM history WHERE run_id = 1 ORDER BY epoch`).map(
      (r) => r.train_loss as number,
    );
    const r = cli(['rerun', config, a, '-id', '1', '-epochs', '2'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = rows(a, `SELECT train_loss FROM history WHERE run_id = 1 ORDER BY epoch`).map(
      (x) => x.train_loss as number,
    );
    expect(after.slice(0, 5)).toEqual(before);
    // run 1 of B has another seed: had its weights been loaded, epoch 6 would not follow epoch 5
    expect(Math.abs(after[5]! - after[4]!)).toBeLessThan(Math.abs(after[4]! - after[0]!));
    // the `epochs` fact says the new total, as run_results and history do
    expect(rows(a, `SELECT param_value FROM params WHERE run_id = 1 AND param_name = 'epochs'`)).toEqual([
      { param_value: '7' },
    ]);
    expect(rows(a, `SELECT epochs FROM run_results WHERE run_id = 1`)).toEqual([{ epochs: 7 }]);
  });

  it("refuses another database's checkpoint, naming both, and a failed rerun leaves the run done with its results", () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 4, monitor: 'nb_processus = 1' });
    const [a, b] = [path.join(dir, 'A.db'), path.join(dir, 'B.db')];
    expect(cli(['run', config, a], dir).code).toBe(0);
    expect(cli(['run', config, b], dir).code).toBe(0);
    const runDir = (db: string) => rows(db, `SELECT run_dir FROM mosaic_queue WHERE run_id = 1`)[0]!.run_dir as string;
    // Someone copies B's checkpoint over A's (as a shared .runs folder used to do silently).
    fs.cpSync(path.join(runDir(b), 'epoch-4.ckpt'), path.join(runDir(a), 'epoch-4.ckpt'));
    const results = rows(a, `SELECT * FROM run_results WHERE run_id = 1`);

    const r = cli(['rerun', config, a, '-id', '1', '-epochs', '3', '--progress', 'lines'], dir);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /belongs to run 1 of .*B\.db \(database [0-9a-f]{8}\), epoch 4, not to run 1 of .*A\.db \(database [0-9a-f]{8}\), epoch 4: refusing to continue from it/,
    );
    expect(r.stdout).toMatch(/the run keeps its results of epoch 4/);
    expect(rows(a, `SELECT status, return_status FROM runs WHERE run_id = 1`)).toEqual([
      { status: 'done', return_status: 'ok' },
    ]);
    expect(rows(a, `SELECT * FROM run_results WHERE run_id = 1`)).toEqual(results);
    expect(rows(a, `SELECT COUNT(*) n FROM history WHERE run_id = 1`)).toEqual([{ n: 4 }]);
    expect(rows(a, `SELECT param_value FROM params WHERE run_id = 1 AND param_name = 'epochs'`)).toEqual([
      { param_value: '4' },
    ]);
    const failures = rows(a, `SELECT run_id, epoch, status, message, traceback FROM mosaic_failures`);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ run_id: 1, epoch: 4, status: 'error' });
    expect(failures[0]!.traceback).toMatch(/CheckpointError/);
    // analysis still counts it, and status says what happened
    expect(JSON.parse(cli(['compare', a, '--format', 'json'], dir).stdout).groups[0].n).toBe(1);
    expect(cli(['status', a], dir).stdout).toMatch(
      /its last continuation failed at epoch 4 \(error\): CheckpointError: the checkpoint .* belongs to run 1 of/,
    );
  });
});
