import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, FIXTURES, fixtureConfig, openDb, tmpDir, TUTORIAL } from '../support/helpers.js';

const faulty = (widths: string) => faultyModel(widths, 'faulty_{width}');

describe('runs that fail', () => {
  it('a throwing module ends its run in error with its trace; a killed worker fails its run; the others finish', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'f.db');
    const config = fixtureConfig(dir, {
      models: `${faulty('2, 3, 4, 5')}
[needs_depth]
type = model
class = needs_depth
path_to_class = ${FIXTURES}/faulty-models.ts
key = needs_depth
`,
    });
    // --no-check: needs_depth would be refused before queueing (test/cli/pre-queue-check.test.ts); here its run fails
    const r = cli(['run', config, db, '--no-check'], dir);
    expect(r.code).toBe(3);
    const d = openDb(db);
    const runs = d.prepare(`SELECT run_id, status, pipeline, return_status FROM runs ORDER BY run_id`).all() as Record<
      string,
      string
    >[];
    expect(runs.map((x) => x.status)).toEqual(['done', 'error', 'failed', 'done', 'error']);

    const trace = (id: number) =>
      (
        d.prepare(`SELECT param_value FROM params WHERE run_id = ? AND param_name = 'traceback'`).get(id) as {
          param_value: string;
        }
      ).param_value;
    expect(runs[1]!.return_status).toBe('RangeError: width 3 is not supported by this model');
    expect(trace(2)).toMatch(/RangeError: width 3 is not supported by this model\n\s+at faulty\.forward/);
    expect(trace(2)).toContain('faulty-models.ts');

    expect(runs[2]!.return_status).toMatch(/^system failure: worker process \d+ was killed by SIGKILL$/);
    // the killed run kept its first epoch
    expect(d.prepare(`SELECT COUNT(*) n FROM history WHERE run_id = 3`).get()).toEqual({ n: 1 });

    expect(runs[4]!.return_status).toMatch(
      /needs_depth: required parameter "depth" not found: not a key of config section \[needs_depth\], not in run_info \(which has: .*batch_size.*input_size/,
    );
    expect(d.prepare(`SELECT COUNT(*) n FROM history WHERE run_id IN (1, 4)`).get()).toEqual({ n: 6 });
    d.close();

    expect(r.stdout).toMatch(/\[run error\] 2: RangeError: width 3/);
    expect(r.stdout).toMatch(/\[run failed\] 3: system failure/);
    // the summary's words and counts are status's: error and failed apart
    expect(r.stdout).toMatch(
      /finished in [\d.]+ s: 2 done, 2 error, 1 failed, 0 diverged\. Database: 2 done, 2 error, 1 failed, 0 diverged, 0 running elsewhere, 0 pending of 5 runs\./,
    );
    const s = cli(['status', db], dir);
    expect(s.stdout).toMatch(
      /Error\n\t\[2\] or \| faulty_3 {2}or_data\(4,16\) \| faulty\(3\) {2}\(error: RangeError: width 3 is not supported by this model\)\n\t\tRangeError/,
    );
    expect(s.stdout).toMatch(
      /\t\[3\] or \| faulty_4 {2}or_data\(4,16\) \| faulty\(4\) {2}\(failed: system failure: worker process \d+ was killed by SIGKILL\)/,
    );
  });

  it('resume continues a run that failed for the system (its worker killed, no retries left) from its last checkpoint', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'r.db');
    // width 6 kills its worker at epoch 2 the first time only
    const config = fixtureConfig(dir, {
      models: faulty('6'),
      epochs: 3,
      monitor: 'nb_processus = 1\nmultiplicity = 1\nretries = 0',
    });
    expect(cli(['run', config, db], dir).code).toBe(3);
    const d = openDb(db);
    expect(d.prepare(`SELECT status FROM runs`).pluck().all()).toEqual(['failed']);
    expect(d.prepare(`SELECT COUNT(*) FROM history`).pluck().get()).toBe(1);
    d.close();
    const r = cli(['resume', db, '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resuming .*r\.db; 1 failed run \(id 1\) continue from their last checkpoint; 1 worker\n/);
    expect(r.stdout).toMatch(/launch 1 .*\(continuing after epoch 1\)/);
    const after = openDb(db);
    expect(after.prepare(`SELECT status FROM runs`).pluck().all()).toEqual(['done']);
    expect(after.prepare(`SELECT epoch FROM history ORDER BY epoch`).pluck().all()).toEqual([1, 2, 3]);
    // the failed attempt is kept
    expect(after.prepare(`SELECT status FROM mosaic_failures`).pluck().all()).toEqual(['failed']);
    after.close();
  });

  it('running again on the same database appends with new run ids', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'a.db');
    const config = fixtureConfig(dir, { models: faulty('2, 5'), epochs: 1 });
    expect(cli(['run', config, db], dir).code).toBe(0);
    const second = cli(['run', config, db], dir);
    expect(second.code).toBe(0);
    // two workers launch the new runs 3 and 4 in either order, counted 1/2 and 2/2
    const launches = [...second.stdout.matchAll(/ ---> launch (\d+) (\d)\/2 /g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    expect(launches.map(([id]) => id).sort()).toEqual([3, 4]);
    expect(launches.map(([, n]) => n)).toEqual([1, 2]);
    const d = openDb(db);
    expect(d.prepare(`SELECT run_id, status FROM runs ORDER BY run_id`).all()).toEqual(
      [1, 2, 3, 4].map((run_id) => ({ run_id, status: 'done' })),
    );
    d.close();
  });
});

describe('user classes outside the project', () => {
  it('load from a folder of their own, relative to the config, and share tfjs and mosaic-ml', () => {
    const dir = tmpDir('mosaic-user-');
    for (const f of ['dataset.ts', 'mlp.ts']) fs.copyFileSync(path.join(TUTORIAL, f), path.join(dir, f));
    fs.copyFileSync(path.join(TUTORIAL, 'config.ini'), path.join(dir, 'config.ini'));
    const text = fs
      .readFileSync(path.join(dir, 'config.ini'), 'utf8')
      .replace('epochs = 400', 'epochs = 1')
      .replace('multiplicity = 4', 'multiplicity = 1');
    fs.writeFileSync(path.join(dir, 'config.ini'), text);
    const r = cli(['run', 'config.ini', 'u.db'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = openDb(path.join(dir, 'u.db'));
    expect(d.prepare(`SELECT COUNT(*) n FROM runs WHERE status = 'done'`).get()).toEqual({ n: 6 });
    d.close();
  });
});

describe('GPU assignment (tested without a GPU)', () => {
  it('pins each worker to one listed device and never runs two workers on a device at once', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'g.db');
    const config = fixtureConfig(dir, {
      epochs: 4,
      monitor: 'need_gpu = True\ngpu_available = cuda:0, cuda:1\nnb_processus = 4\nmultiplicity = 6',
      models: `
[device_check]
type = model
class = device_check
path_to_class = ${FIXTURES}/device-check.js
key = dc
`,
    });
    // --no-check: the check builds the model outside a pinned worker, where device_check refuses to build
    const r = cli(['run', config, db, '--no-check'], dir);
    expect(r.stdout + r.stderr).toContain('2 workers');
    expect(r.code).toBe(0);
    const d = openDb(db);
    const rows = d
      .prepare(`SELECT q.run_id, q.device, q.worker, q.claimed_at, q.finished_at, p.param_value AS fact FROM mosaic_queue q
      JOIN params p ON p.run_id = q.run_id AND p.param_name = 'device' ORDER BY q.claimed_at`)
      .all() as { device: string; worker: string; claimed_at: number; finished_at: number; fact: string }[];
    d.close();
    expect(rows).toHaveLength(6);
    expect(new Set(rows.map((x) => x.device))).toEqual(new Set(['cuda:0', 'cuda:1']));
    for (const x of rows) expect(x.fact).toBe(x.device);
    for (const device of ['cuda:0', 'cuda:1']) {
      const on = rows.filter((x) => x.device === device);
      // runs of one pack share their worker (one process, one batched model); other runs wait for the device
      for (let i = 1; i < on.length; i++) {
        if (on[i]!.worker !== on[i - 1]!.worker)
          expect(on[i]!.claimed_at).toBeGreaterThanOrEqual(on[i - 1]!.finished_at);
      }
    }
  });
});
