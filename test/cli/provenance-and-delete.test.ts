import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, FIXTURES, fixtureConfig, ROOT, rows, tmpDir } from '../support/helpers.js';

describe('provenance and delete', () => {
  it('records the config, its hash, the user files, the version and the git commit of the experiment', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 1, monitor: 'nb_processus = 1' });
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8' }).trim();
    git('init', '-q');
    git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'start');
    const db = path.join(dir, 'p.db');
    expect(cli(['run', config, db], dir).code).toBe(0);
    const [e] = rows(db, `SELECT * FROM mosaic_experiments`);
    const text = fs.readFileSync(config, 'utf8');
    expect(e!.config_text).toBe(text);
    expect(e!.config_hash).toBe(createHash('sha256').update(text).digest('hex'));
    expect(e!.mosaic_version).toBe(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    expect(e!.git_commit).toBe(git('rev-parse', 'HEAD'));
    const files = JSON.parse(e!.user_files as string) as Record<string, string>;
    expect(files[path.join(FIXTURES, 'or-data.mjs')]).toBe(
      createHash('sha256')
        .update(fs.readFileSync(path.join(FIXTURES, 'or-data.mjs')))
        .digest('hex'),
    );
    expect(Object.keys(files)).toHaveLength(2);
    expect(rows(db, `SELECT param_value FROM params WHERE param_name = 'experiment'`)).toEqual([
      { param_value: String(e!.experiment_id) },
    ]);
  });

  it('delete removes the selected runs and their folders after a confirmation', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2, 5'), epochs: 1, monitor: 'nb_processus = 1' });
    const db = path.join(dir, 'd.db');
    expect(cli(['run', config, db], dir).code).toBe(0);
    const runDir = rows(db, `SELECT run_dir FROM mosaic_queue WHERE run_id = 2`)[0]!.run_dir as string;
    expect(fs.existsSync(runDir)).toBe(true);
    const unconfirmed = cli(['delete', db, '-id', '2'], dir);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(
      /delete 1 run \(ids 2\) of .*d\.db and their checkpoint folders: not confirmed .* pass --yes/,
    );
    expect(rows(db, `SELECT COUNT(*) n FROM runs`)).toEqual([{ n: 2 }]);
    const r = cli(['delete', db, '-param_name_value', 'faulty_width', '5', '--yes'], dir);
    expect(r.stdout.trim()).toBe('deleted 1 run (ids 2) and 1 checkpoint folder');
    expect(fs.existsSync(runDir)).toBe(false);
    for (const table of ['runs', 'params', 'run_results', 'history', 'mosaic_queue']) {
      expect(rows(db, `SELECT COUNT(DISTINCT run_id) n FROM ${table}`), table).toEqual([{ n: 1 }]);
    }
  });
});
