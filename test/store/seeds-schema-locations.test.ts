import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, fixtureConfig, rows, tmpDir } from '../support/helpers.js';

describe('seeds are unique within a database', () => {
  it('the same config appended twice: new seeds, said once; --reuse-seeds repeats them on purpose', () => {
    const dir = tmpDir();
    const db = path.join(dir, 's.db');
    const config = fixtureConfig(dir, {
      models: faultyModel('2'),
      epochs: 1,
      monitor: 'nb_processus = 1\nmultiplicity = 3',
      process: 'seed = 7',
    });
    expect(cli(['run', config, db], dir).code).toBe(0);
    const second = cli(['run', config, db], dir);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(
      'note: [PROCESS] seed = 7 gives seeds 7-9, 3 of them already used in this database; the new runs take seeds 10-12 so that repeats stay independent',
    );
    const seeds = rows(db, `SELECT seed FROM mosaic_queue ORDER BY run_id`).map((r) => r.seed);
    expect(seeds).toEqual([7, 8, 9, 10, 11, 12]);
    const reused = cli(['run', config, db, '--reuse-seeds'], dir);
    expect(reused.stderr).toMatch(/seeds 7-9 are used again on purpose \(--reuse-seeds\)/);
    expect(rows(db, `SELECT seed FROM mosaic_queue WHERE run_id > 6 ORDER BY run_id`).map((r) => r.seed)).toEqual([
      7, 8, 9,
    ]);
  });
});

describe('database schema versions', () => {
  it('a database of an older Mosaic is migrated when opened; one of a newer Mosaic is refused', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 2, monitor: 'nb_processus = 1' });
    const db = path.join(dir, 'v.db');
    expect(cli(['run', config, db], dir).code).toBe(0);
    // Make it what version 1 wrote.
    const sql = (text: string) => {
      const d = new Database(db);
      d.exec(text);
      d.close();
    };
    sql(`ALTER TABLE run_results DROP COLUMN best_test_loss; ALTER TABLE run_results DROP COLUMN best_epoch;
      ALTER TABLE mosaic_queue DROP COLUMN run_dir; ALTER TABLE mosaic_queue DROP COLUMN pack_key; DROP TABLE history_metrics; DROP TABLE metric_info; DROP TABLE mosaic_failures;
      DROP TABLE mosaic_experiments; DROP TABLE mosaic_race; UPDATE system SET param_value = '1' WHERE param_name = 'schema_version'`);
    const status = cli(['status', db], dir);
    expect(status.code, status.stderr).toBe(0);
    expect(rows(db, `SELECT param_value FROM system WHERE param_name = 'schema_version'`)).toEqual([
      { param_value: '3' },
    ]);
    expect(rows(db, `SELECT COUNT(*) AS n FROM mosaic_race`)).toEqual([{ n: 0 }]);
    // Version 2 had no race table.
    sql(`DROP TABLE mosaic_race; UPDATE system SET param_value = '2' WHERE param_name = 'schema_version'`);
    expect(cli(['status', db], dir).code).toBe(0);
    expect(rows(db, `SELECT param_value FROM system WHERE param_name = 'schema_version'`)).toEqual([
      { param_value: '3' },
    ]);
    expect(rows(db, `SELECT COUNT(*) AS n FROM mosaic_race`)).toEqual([{ n: 0 }]);
    expect(rows(db, `SELECT run_dir FROM mosaic_queue`)).toEqual([{ run_dir: path.join(dir, 'runs', 'run_1') }]);
    sql(`UPDATE system SET param_value = '9' WHERE param_name = 'schema_version'`);
    const newer = cli(['status', db], dir);
    expect(newer.code).toBe(2);
    expect(newer.stderr.trim()).toMatch(
      /^mosaic: error: .*v\.db was written by a newer Mosaic \(database schema 9; this Mosaic reads up to 3\): upgrade Mosaic to use it$/,
    );
  });
});

describe('database locations', () => {
  it('a URL of a database Mosaic does not know, or a PostgreSQL server that does not answer: one line, nothing created', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 1 });
    const unknown = cli(['compare', 'mysql://x/y'], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim()).toMatch(
      /^mosaic: error: "mysql:\/\/" is not a kind of database Mosaic knows: give the path of a SQLite file \(e\.g\. results\.db\) or a postgres:\/\/ URL$/,
    );
    // port 9 (discard) on loopback: nothing listens there
    for (const args of [
      ['run', config, 'postgresql://mosaic:s3cret-pw@127.0.0.1:9/exp'],
      ['status', 'postgres://mosaic:s3cret-pw@127.0.0.1:9/exp'],
    ]) {
      const r = cli(args, dir);
      expect(r.code, args.join(' ') + r.stderr).toBe(5);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /cannot connect to PostgreSQL database postgres(ql)?:\/\/mosaic@127\.0\.0\.1:9\/exp: connect ECONNREFUSED/,
      );
      expect(r.stdout + r.stderr).not.toMatch(/s3cret/);
    }
    expect(fs.readdirSync(dir).sort()).toEqual(['config.ini']);
  });
});
