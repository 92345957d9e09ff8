import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cli, faultyModel, fixtureConfig, openDb, startCli, tmpDir } from '../support/helpers.js';

const model = faultyModel('2, 5');

/** The database is whole: integrity ok, no run left running, history contiguous from epoch 1. */
function expectConsistent(db: string) {
  const d = openDb(db);
  expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
  expect(d.prepare(`SELECT COUNT(*) n FROM runs WHERE status IN ('running', 'pending')`).get()).toEqual({ n: 0 });
  for (const r of d.prepare(`SELECT run_id, COUNT(*) n, MAX(epoch) hi FROM history GROUP BY run_id`).all() as Record<
    string,
    number
  >[]) {
    expect(r.hi).toBe(r.n);
  }
  d.close();
}

function canMountTmpfs(): boolean {
  const probe = tmpDir('mosaic-mount-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('disk faults', () => {
  it('a run folder that cannot be written is refused before anything starts', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'runs'), 'a file where the folder should be');
    const config = fixtureConfig(dir, { models: model, epochs: 2 });
    const r = cli(['run', config, path.join(dir, 'x.db')], dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(
      /^mosaic: error: .*config\.ini \[PROCESS\] run_files_path: cannot write run files in .*\/runs: it is not a folder$/,
    );
    expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
  });

  it('a run whose checkpoint cannot be written ends in error with the reason; the others finish', async () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: model, epochs: 3 });
    const db = path.join(dir, 'x.db');
    // The database exists first, so that its runs' folder (named after its identity) is known.
    const store = openSqliteStore(db, { create: true });
    const runs = path.join(dir, 'runs', `x-${(await store.identity()).storeId}`);
    await store.close();
    fs.mkdirSync(runs, { recursive: true });
    fs.writeFileSync(path.join(runs, 'run_2'), 'blocks the folder of run 2');
    const r = cli(['run', config, db], dir);
    expect(r.code).toBe(3);
    const d = openDb(db);
    expect(d.prepare(`SELECT run_id, status, return_status FROM runs ORDER BY run_id`).all()).toEqual([
      { run_id: 1, status: 'done', return_status: 'ok' },
      {
        run_id: 2,
        status: 'error',
        return_status: expect.stringMatching(
          /cannot write the checkpoint of epoch 1 in .*run_2: ENOTDIR: not a directory/,
        ),
      },
    ]);
    expect(d.prepare(`SELECT COUNT(*) n FROM history WHERE run_id = 2`).get()).toEqual({ n: 0 });
    d.close();
    expectConsistent(db);
  });

  it.skipIf(!canMountTmpfs())(
    'a full disk under run_files_path: runs end in error (no space left), the database stays consistent',
    () => {
      const dir = tmpDir();
      const runs = path.join(dir, 'runs');
      fs.mkdirSync(runs);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', runs]);
      try {
        const config = fixtureConfig(dir, { models: model, epochs: 30 });
        const db = path.join(dir, 'x.db');
        const r = cli(['run', config, db], dir);
        expect(r.code).toBe(3);
        const d = openDb(db);
        const errors = d.prepare(`SELECT return_status FROM runs WHERE status = 'error'`).all() as {
          return_status: string;
        }[];
        d.close();
        expect(errors.length).toBeGreaterThan(0);
        for (const e of errors)
          expect(e.return_status).toMatch(
            /cannot write the checkpoint of epoch \d+ in .*: ENOSPC: no space left on device/,
          );
        expectConsistent(db);
      } finally {
        execFileSync('umount', [runs]);
      }
    },
  );
});

describe('a database that cannot be used', () => {
  it('locked by another process for longer than the busy timeout: the run stops with exit 5, no run blamed, resume finishes every run once', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'locked.db');
    const config = fixtureConfig(dir, { models: model, epochs: 300, monitor: 'nb_processus = 1\nmultiplicity = 2' });
    const run = startCli(['run', config, db, '--progress', 'lines'], dir, {
      env: { MOSAIC_SQLITE_BUSY_TIMEOUT: '300' },
    });
    await run.waitFor(/epoch 1\/300/);
    const lock = new Database(db);
    lock.exec('BEGIN EXCLUSIVE');
    const end = await run.done;
    lock.exec('ROLLBACK');
    lock.close();
    expect(end.code, run.output()).toBe(5);
    expect(run.output()).toMatch(/database .*locked\.db cannot be used: database is locked \(SQLITE_BUSY\)/);
    const d = openDb(db);
    expect(d.prepare(`SELECT COUNT(*) n FROM runs WHERE status IN ('error', 'failed')`).get()).toEqual({ n: 0 });
    expect(d.prepare(`SELECT COUNT(*) n FROM mosaic_failures`).get()).toEqual({ n: 0 });
    d.close();
    const resumed = cli(['resume', db, '--progress', 'lines'], dir);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expectConsistent(db);
    const h = openDb(db);
    expect(h.prepare(`SELECT COUNT(*) n, COUNT(DISTINCT run_id || '-' || epoch) u FROM history`).get()).toEqual({
      n: 1200,
      u: 1200,
    });
    h.close();
  });
});
