/**
 * The commands on a database written by the original Python Mosaic (a copy of
 * `../shared/fixtures/original-tutorial.db`): status, compare and the plots read it as it is,
 * saying once what it lacks, and never write it; plotloss says there are no curves; writers point
 * at `mosaic import`, which copies it into a Mosaic database (SQLite or PostgreSQL) whose compare
 * is the original's.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../dist/dashboard/server.js';
import { cli, tmpDir } from '../support/helpers.js';
import { copyOriginal, originalRows, sha256, sqliteSideFiles } from '../support/original-db.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';

const NOTE = /note: .* was written by the original Mosaic \(Python\).*no per-epoch histories/;
const notes = (text: string) => text.split('\n').filter((l) => NOTE.test(l)).length;

/** A user's mistake: one line on stderr, exit 2, no trace. */
function expectRefusal(r: ReturnType<typeof cli>, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const groupsOf = (stdout: string) =>
  (JSON.parse(stdout) as { groups: { dataset: string; group: string; n: number }[] }).groups
    .map((g) => `${g.dataset} / ${g.group} / ${g.n}`)
    .sort();

describe("commands on the original Mosaic's database", () => {
  let dir: string;
  let original: string;
  let before: string;
  beforeAll(() => {
    dir = tmpDir('mosaic-original-cli-');
    original = copyOriginal(dir);
    before = sha256(original);
  });
  let server: PgServer | undefined;
  afterAll(async () => {
    await server?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const unchanged = () => {
    expect(sha256(original)).toBe(before);
    expect(sqliteSideFiles(original)).toEqual([]);
  };

  it('status lists its 18 runs by their keys, with the one note of what it lacks', () => {
    const r = cli(['status', original]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 18 runs: 18 done, 0 error/);
    expect(notes(r.stdout)).toBe(1);
    expect(r.stdout).toMatch(/\[1\] data_dataset_OR \| mlp_mlp_funnel\b.*train_loss=3\.522E-03\ttest_loss=3\.214E-03/);
    expect(r.stdout).toMatch(/\[18\] data_dataset_OR \| mlp_mlp_brick\b/);
    unchanged();
  });

  it('compare groups the runs by model key, split by the width the keys leave out', () => {
    const r = cli(['compare', original, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(notes(r.stderr)).toBe(1);
    expect(groupsOf(r.stdout)).toEqual(
      ['mlp_mlp_brick', 'mlp_mlp_funnel'].flatMap((m) =>
        [2, 3, 4].map((w) => `data_dataset_OR / ${m} · width=${w} / 3`),
      ),
    );
    const pooled = cli(['compare', original, '--format', 'json', '--pool', 'width']);
    expect(groupsOf(pooled.stdout)).toEqual([
      'data_dataset_OR / mlp_mlp_brick / 9',
      'data_dataset_OR / mlp_mlp_funnel / 9',
    ]);
    unchanged();
  });

  it('metaplot and perfanalysis draw from its results, saying once that it has no curves', () => {
    const meta = cli(['metaplot', original, path.join(dir, 'meta.svg'), 'data_dataset_OR', 'test_loss']);
    expect(meta.code, meta.stderr).toBe(0);
    expect(notes(meta.stdout)).toBe(1);
    expect(meta.stdout).toMatch(/test_loss of 18 runs on data_dataset_OR written to/);
    expect(fs.readFileSync(path.join(dir, 'meta.svg'), 'utf8')).toContain('mlp_mlp_brick');
    const perf = cli(['perfanalysis', original, path.join(dir, 'perf.svg'), '--criteria', 'test_loss,overfit']);
    expect(perf.code, perf.stderr).toBe(0);
    expect(notes(perf.stdout)).toBe(1);
    expect(perf.stdout).toMatch(/2 pages .* written to/);
    unchanged();
  });

  it('the dashboard serves its runs and analyses, with the note, and never writes it', async () => {
    const dash = await startDashboard({ db: original, host: '127.0.0.1', port: 0 });
    try {
      expect(dash.notice).toMatch(/original Mosaic .*no per-epoch histories/);
      const get = async (route: string) => {
        const res = await fetch(`http://127.0.0.1:${dash.port}${route}`);
        expect(res.status, route).toBe(200);
        return (await res.json()) as Record<string, unknown>;
      };
      const summary = await get('/api/summary');
      expect(summary.counts).toMatchObject({ done: 18, running: 0, pending: 0 });
      expect(summary.progress).toBe(1);
      expect((await get('/api/runs')).total).toBe(18);
      expect(await get('/api/runs/1')).toMatchObject({ runId: 1, status: 'done', history: [] });
      expect((await get('/api/compare?criterion=test_loss')).groups).toHaveLength(6);
    } finally {
      await dash.close();
    }
    unchanged();
  });

  it('plotloss says there are no curves, and writes nothing', () => {
    const out = path.join(dir, 'losses.pdf');
    expectRefusal(cli(['plotloss', original, out]), /no loss curves in .*original Mosaic kept them in \.pt files/);
    expect(fs.existsSync(out)).toBe(false);
    unchanged();
  });

  it('commands that write refuse it and point at mosaic import', () => {
    for (const args of [
      ['pause', original],
      ['resume', original],
      ['delete', original, '--id', '1', '--yes'],
    ])
      expectRefusal(cli(args), /written by the original Mosaic \(Python\).*never writes to it; `mosaic import /);
    expectRefusal(cli(['savedb', original, path.join(dir, 'copy.db')]), /`mosaic import .* copies it/);
    expect(fs.existsSync(path.join(dir, 'copy.db'))).toBe(false);
    unchanged();
  });

  it('import copies it into a new SQLite database: ids, statuses, facts, results; compare gives the same', () => {
    const target = path.join(dir, 'imported.db');
    const r = cli(['import', original, target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/18 runs \(ids 1-18; 18 done\) imported from .* into .*imported\.db/);
    unchanged();
    const was = originalRows(original);
    const now = originalRows(target);
    expect(now.runs).toEqual(was.runs);
    for (const [id, facts] of was.facts) expect(now.facts.get(id)).toEqual({ ...facts, experiment: '1' });
    // The imported run_results has the original's columns, with the same values, and Mosaic's others.
    expect(now.results).toEqual(was.results.map((row) => expect.objectContaining(row)));
    const db = new Database(target, { readonly: true });
    try {
      const experiment = db
        .prepare(`SELECT config_file, config_hash, first_run_id, last_run_id FROM mosaic_experiments`)
        .all();
      expect(experiment).toEqual([{ config_file: original, config_hash: before, first_run_id: 1, last_run_id: 18 }]);
    } finally {
      db.close();
    }
    const status = cli(['status', target]);
    expect(notes(status.stdout)).toBe(0);
    for (const format of ['table', 'json', 'csv']) {
      const a = cli(['compare', original, '--format', format]);
      const b = cli(['compare', target, '--format', format]);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout).toBe(a.stdout);
    }
    // Into a database with runs: refused, nothing written.
    const again = cli(['import', original, target]);
    expectRefusal(again, /imported\.db already holds 18 runs: import into a new database/);
    expect(originalRows(target).runs).toHaveLength(18);
  });

  it('imports a run the original left running as an error, and says so', () => {
    const unfinished = copyOriginal(dir, 'unfinished.db');
    const raw = new Database(unfinished);
    raw.prepare(`UPDATE runs SET status = 'running', return_status = NULL WHERE run_id = 18`).run();
    raw.prepare(`DELETE FROM run_results WHERE run_id = 18`).run();
    raw.close();
    expect(cli(['status', unfinished]).stdout).toMatch(/17 done, 0 error, 0 failed, 0 diverged, 1 running/);
    const target = path.join(dir, 'unfinished-import.db');
    const r = cli(['import', unfinished, target]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/run 18 had not finished in the original: imported as error/);
    expect(cli(['status', target]).stdout).toMatch(
      /17 done, 1 error[\s\S]*\[18\].*running in the original Mosaic when imported: it never finished there/,
    );
  });

  it.skipIf(pgSkipReason !== undefined)(
    `import copies it into PostgreSQL, whose compare is the original's${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`,
    async () => {
      server = await startPgServer();
      const url = await server.freshDatabase();
      const r = cli(['import', original, url]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/18 runs \(ids 1-18; 18 done\) imported/);
      const status = cli(['status', url]);
      expect(status.stdout).toMatch(/18 runs: 18 done/);
      const a = cli(['compare', original, '--format', 'json']);
      const b = cli(['compare', url, '--format', 'json']);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout).toBe(a.stdout);
      unchanged();
    },
  );
});
