import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, fixtureConfig, tmpDir } from './helpers.js';

/**
 * Every command on one experiment, through the CLI, as a user would: written against a location
 * so that the same scenario runs on every backend.
 */
export function commandScenarios(backend: string, newLocation: (dir: string) => Promise<string>): void {
  describe(`every command (${backend})`, () => {
    it('run, status, compare, plots, rerun with selectors, rekey, pause, resume, savedb, delete', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const config = fixtureConfig(dir, {
        models: faultyModel('2, 5', 'net_{width}'),
        epochs: 4,
        monitor: 'nb_processus = 2\nmultiplicity = 3',
      });
      const ok = (args: string[]) => {
        const r = cli(args, dir);
        expect(r.code, `mosaic ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout;
      };

      ok(['run', config, db, '--progress', 'lines']);
      expect(ok(['status', db])).toMatch(/6 runs: 6 done/);

      const report = JSON.parse(ok(['compare', db, '--format', 'json']));
      expect(report.groups.map((g: { group: string; n: number }) => `${g.group}:${g.n}`).sort()).toEqual([
        'net_2:3',
        'net_5:3',
      ]);

      for (const [args, file] of [
        [['plotloss', db], 'loss.pdf'],
        [['metaplot', db], 'meta.pdf'],
        [['perfanalysis', db], 'perf.pdf'],
      ] as const) {
        const out = path.join(dir, file);
        ok(args[0] === 'metaplot' ? [...args, out, 'or', 'test_loss'] : [...args, out]);
        expect(fs.statSync(out).size).toBeGreaterThan(1000);
      }

      ok(['rerun', config, db, '-epochs', '2', '-param_name_value', 'width', '2', '--progress', 'lines']);
      ok([
        'rerun',
        config,
        db,
        '-epochs',
        '1',
        '-request',
        `SELECT run_id FROM runs WHERE pipeline LIKE '%faulty(5)%'`,
        '--progress',
        'lines',
      ]);
      const refused = cli(['rerun', config, db, '-epochs', '1', '-request', 'DELETE FROM runs'], dir);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/the request must only read/);
      const copy = path.join(dir, 'copy.db');
      ok(['savedb', db, copy]);
      const history = JSON.parse(ok(['compare', copy, '--criterion', 'epochs', '--format', 'json']));
      expect(history.groups.map((g: { group: string; mean: number }) => `${g.group}:${g.mean}`).sort()).toEqual([
        'net_2:6',
        'net_5:5',
      ]);

      const pipelines = path.join(dir, 'pipelines.json');
      ok(['generate', config, pipelines]);
      expect(ok(['rekey', pipelines, db])).toMatch(/6 runs match .* 0 keys changed/);

      expect(ok(['pause', db])).toMatch(/paused\. No run is running; no run is pending\./);
      expect(ok(['status', db])).toMatch(/\npaused: no worker starts a new run\n/);
      ok(['resume', db, '--progress', 'lines']);

      expect(ok(['delete', db, '-id', '1', '--yes'])).toMatch(/deleted 1 run/);
      expect(ok(['status', db])).toMatch(/5 runs: 5 done/);
    });
  });
}
