import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, fixtureConfig, openDb, startCli, tmpDir } from '../support/helpers.js';

/** The fixture model; with `epochMs`, runs last long enough for a command to land while they train. */
const model = (widths: string, epochMs = 0) => faultyModel(widths, 'net_{width}', epochMs);

/** Every run done, each with exactly `epochs` history rows numbered 1..epochs. */
function expectComplete(db: string, runs: number, epochs: number) {
  const d = openDb(db);
  expect(d.prepare(`SELECT status, COUNT(*) n FROM runs GROUP BY status`).all()).toEqual([{ status: 'done', n: runs }]);
  const h = d
    .prepare(
      `SELECT run_id, COUNT(*) n, COUNT(DISTINCT epoch) u, MIN(epoch) lo, MAX(epoch) hi FROM history GROUP BY run_id`,
    )
    .all() as Record<string, number>[];
  expect(h).toHaveLength(runs);
  for (const r of h) expect([r.n, r.u, r.lo, r.hi]).toEqual([epochs, epochs, 1, epochs]);
  expect(d.prepare(`SELECT COUNT(*) n FROM run_results WHERE epochs = ?`).get(epochs)).toEqual({ n: runs });
  d.close();
}

describe('pause and resume', () => {
  it('two experiments on two databases pause and resume independently', async () => {
    const [a, b] = [tmpDir(), tmpDir()];
    const monitor = 'nb_processus = 1\nmultiplicity = 4';
    const configA = fixtureConfig(a, { models: model('2, 5', 8), epochs: 25, monitor });
    const configB = fixtureConfig(b, { models: model('2, 5'), epochs: 25, monitor });
    const dbA = path.join(a, 'a.db');
    const dbB = path.join(b, 'b.db');
    const runA = startCli(['run', configA, dbA], a);
    const runB = startCli(['run', configB, dbB], b);
    await runA.waitFor(/\[run finished\] 1\n/);
    const pause = cli(['pause', dbA], a);
    expect(pause.code).toBe(0);
    // One run is running, or none when the pause falls between two runs (they last 0.2-0.3 s).
    expect(pause.stdout).toMatch(
      /a\.db: paused\. (1 running run finishes \(id \d\)|No run is running); (\d pending runs wait \(ids \d-\d\)|1 pending run waits \(id \d\))/,
    );
    const [endA, endB] = await Promise.all([runA.done, runB.done]);
    expect(endA.code).toBe(4);
    expect(endA.stdout).toMatch(/paused after .* Continue with: mosaic resume .*a\.db/);
    expect(endB.code).toBe(0);
    expectComplete(dbB, 8, 25);

    const d = openDb(dbA);
    const counts = Object.fromEntries(
      (d.prepare(`SELECT status, COUNT(*) n FROM runs GROUP BY status`).all() as { status: string; n: number }[]).map(
        (r) => [r.status, r.n],
      ),
    );
    d.close();
    expect(counts.running).toBeUndefined();
    expect(counts.pending).toBeGreaterThan(0);
    expect(cli(['status', dbA], a).stdout).toMatch(
      /8 runs: \d done, 0 error, 0 failed, 0 diverged, 0 running, \d pending/,
    );
    // a new `run` on it is refused with the way out
    const again = cli(['run', configA, dbA], a);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /holds an unfinished experiment \(\d pending, 0 interrupted runs, paused\)\. Finish it with: mosaic resume/,
    );

    const resume = cli(['resume', dbA], a);
    expect(resume.code).toBe(0);
    expectComplete(dbA, 8, 25);
  });

  it('the original form: pause FILE.json writes what is left, resume FILE.json continues', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'p.db');
    const config = fixtureConfig(dir, {
      models: model('2, 5', 8),
      epochs: 25,
      monitor: 'nb_processus = 1\nmultiplicity = 3',
    });
    const run = startCli(['run', config, db], dir);
    await run.waitFor(/\[run finished\] 1\n/);
    const pause = cli(['pause', 'left.json', '--db', db], dir);
    expect(pause.code).toBe(0);
    expect((await run.done).code).toBe(4);
    const left = JSON.parse(fs.readFileSync(path.join(dir, 'left.json'), 'utf8'));
    expect(left.database).toBe(db);
    expect(left.pending.length).toBeGreaterThan(0);
    expect(left.pending[0].pipeline).toMatch(/^or_data\(4,16\) \| faulty\([25],8\)$/);
    expect(cli(['resume', 'left.json'], dir).code).toBe(0);
    expectComplete(db, 6, 25);
  });
});

describe('crash recovery', () => {
  it('kill -9 of the scheduler at 10 moments, resumed each time: every run done once, every epoch once', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'k.db');
    // Long enough that ten kills never see it finish: 12 runs x 160 epochs (80 were once enough,
    // until runs started and ended faster).
    const config = fixtureConfig(dir, {
      models: model('2, 5'),
      epochs: 160,
      monitor: 'nb_processus = 2\nmultiplicity = 6',
    });
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const outputs: string[] = [];
    let kills = 0;
    while (kills < 10) {
      let hasRuns = false;
      if (fs.existsSync(db)) {
        const d = openDb(db);
        hasRuns = (d.prepare(`SELECT COUNT(*) n FROM runs`).get() as { n: number }).n > 0;
        d.close();
      }
      const proc = startCli(hasRuns ? ['resume', db, '--progress', 'lines'] : ['run', config, db], dir);
      // Kill at a random moment once training is under way (startup time varies with the load).
      await proc.waitFor(/ ---> launch|\[run finished\]/, 60_000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, random() * 1200));
      if (proc.child.exitCode !== null) {
        outputs.push(proc.output());
        if ((await proc.done).code === 0) break;
        continue;
      }
      proc.child.kill('SIGKILL');
      await proc.done;
      outputs.push(proc.output());
      kills++;
    }
    expect(kills, outputs.join('\n----\n')).toBe(10);
    const left = openDb(db);
    const open = (
      left.prepare(`SELECT COUNT(*) n FROM runs WHERE status IN ('pending', 'running')`).get() as { n: number }
    ).n;
    left.close();
    if (open > 0) {
      const refused = cli(['run', config, db], dir);
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      // right after the kill, its workers may still be finishing their step
      expect(refused.stderr).toMatch(
        /unfinished experiment .* mosaic resume|is in use: \d+ runs are being trained right now/,
      );
    }
    const final = cli(['resume', db, '--progress', 'lines'], dir);
    outputs.push(final.stdout);
    expect(final.code, final.stdout + final.stderr).toBe(0);
    expectComplete(db, 12, 160);
    // in-progress runs continued from their checkpoint rather than from zero
    expect(outputs.join('\n')).toMatch(/\(continuing after epoch \d+\)/);
    const d = openDb(db);
    const attempts = d.prepare(`SELECT MAX(attempts) m FROM mosaic_queue`).get() as { m: number };
    d.close();
    expect(attempts.m).toBeGreaterThan(1);
  });

  it('a worker whose scheduler was killed stops at its epoch end, rather than train its run on', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'o.db');
    // Epochs of a few milliseconds, whose ends write synchronously: the worker must still hear
    // that its scheduler is gone.
    const config = fixtureConfig(dir, { models: model('2'), epochs: 100_000, monitor: 'nb_processus = 1' });
    const proc = startCli(['run', config, db, '--progress', 'lines'], dir);
    await proc.waitFor(/ ---> launch/);
    const d = openDb(db);
    const epochs = () => (d.prepare(`SELECT COUNT(*) n FROM history`).get() as { n: number }).n;
    while (epochs() < 5) await new Promise((r) => setTimeout(r, 25));
    const { pid } = d.prepare(`SELECT pid FROM mosaic_queue WHERE run_id = 1`).get() as { pid: number };
    proc.child.kill('SIGKILL');
    await proc.done;
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = Date.now() + 10_000;
    while (alive() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
    const left = epochs();
    await new Promise((r) => setTimeout(r, 300));
    expect(epochs()).toBe(left);
    expect(left).toBeLessThan(100_000);
    d.close();
  });

  it('a killed worker is retried from its checkpoint when [MONITOR] retries allows', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'r.db');
    const config = fixtureConfig(dir, { models: model('2, 6'), epochs: 4, monitor: 'nb_processus = 1\nretries = 1' });
    const r = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\[run retried\] 2: system failure: worker process \d+ was killed by SIGKILL; it continues from its last checkpoint/,
    );
    expect(r.stdout).toMatch(/launch 2 \d\/2 or_data\(4,16\) \| faulty\(6\) \(continuing after epoch 1\)/);
    expectComplete(db, 2, 4);
    const d = openDb(db);
    expect(d.prepare(`SELECT attempts FROM mosaic_queue WHERE run_id = 2`).get()).toEqual({ attempts: 2 });
    d.close();
  });
});

describe('rerun', () => {
  const dir = tmpDir();
  const db = path.join(dir, 'x.db');
  const config = fixtureConfig(dir, {
    models: model('2, 5'),
    epochs: 5,
    monitor: 'nb_processus = 2\nmultiplicity = 2',
  });

  it('continues the selected runs from their saved model for N more epochs', () => {
    expect(cli(['run', config, db], dir).code).toBe(0);
    const r = cli(['rerun', config, db, '-id', '1-2', '-epochs', '3'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = openDb(db);
    const epochs = d.prepare(`SELECT run_id, epochs FROM run_results ORDER BY run_id`).all();
    expect(epochs).toEqual([
      { run_id: 1, epochs: 8 },
      { run_id: 2, epochs: 8 },
      { run_id: 3, epochs: 5 },
      { run_id: 4, epochs: 5 },
    ]);
    expect(d.prepare(`SELECT COUNT(*) n FROM runs WHERE status = 'done'`).get()).toEqual({ n: 4 });
    for (const id of [1, 2]) {
      const loss = (
        d.prepare(`SELECT train_loss FROM history WHERE run_id = ? ORDER BY epoch`).all(id) as { train_loss: number }[]
      ).map((x) => x.train_loss);
      expect(loss).toHaveLength(8);
      // The same seed restarted from scratch would repeat epoch 1's loss: the curve goes on instead.
      expect(Math.abs(loss[5]! - loss[4]!)).toBeLessThan(Math.abs(loss[5]! - loss[0]!));
    }
    d.close();
  });

  it('selects with -request, -param_name_value and thresholds', () => {
    const d0 = openDb(db);
    const before = (id: number) =>
      (d0.prepare(`SELECT epochs FROM run_results WHERE run_id = ?`).get(id) as { epochs: number }).epochs;
    const start = [1, 2, 3, 4].map(before);
    d0.close();
    expect(
      cli(
        [
          'rerun',
          config,
          db,
          '-request',
          "SELECT run_id FROM params WHERE param_name = 'faulty_width' AND param_value = '5'",
          '-epochs',
          '1',
        ],
        dir,
      ).code,
    ).toBe(0);
    expect(cli(['rerun', config, db, '-param_name_value', 'faulty_width', '2', '-epochs', '1'], dir).code).toBe(0);
    expect(
      cli(['rerun', config, db, '-param_name_value_low_threshold', 'faulty_width', '3', '-epochs', '1'], dir).code,
    ).toBe(0);
    expect(
      cli(['rerun', config, db, '-param_name_value_high_threshold', 'faulty_width', '5', '-epochs', '1'], dir).code,
    ).toBe(0);
    const d = openDb(db);
    const after = [1, 2, 3, 4].map(
      (id) => (d.prepare(`SELECT epochs FROM run_results WHERE run_id = ?`).get(id) as { epochs: number }).epochs,
    );
    d.close();
    // width 2 → runs 1, 2 (selected by =, and ≤ 3); width 5 → runs 3, 4 (request, and ≥ 5)
    expect(after.map((e, i) => e - start[i]!)).toEqual([2, 2, 2, 2]);
  });

  it.each([
    [['-id', '1', '-request', 'SELECT 1'], /give only one selector, not -id and -request/],
    [['-request', 'SELEC run_id FROM runs'], /the request is not valid SQL/],
    [['-request', 'DELETE FROM runs'], /the request must only read/],
    [['-request', "SELECT run_id FROM runs WHERE status = 'nope'"], /no run matches -request/],
    [['-id', '99'], /-id: no run 99 in the database/],
    [['-id', '3-1'], /-id: range "3-1" is empty/],
    [['-param_name_value', 'faulty_width'], /-param_name_value takes two values: NAME VALUE/],
    [['-param_name_value_low_threshold', 'faulty_width', 'big'], /the threshold "big" is not a number/],
    [[], /choose the runs with one of: -id, -request/],
  ])('refuses %j with a clear message', (selector, message) => {
    const r = cli(['rerun', config, db, ...selector, '-epochs', '1'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('savedb and rekey', () => {
  it('copies a consistent database while workers write to it', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 's.db');
    const config = fixtureConfig(dir, {
      models: model('2, 5', 15),
      epochs: 30,
      monitor: 'nb_processus = 2\nmultiplicity = 3',
    });
    const run = startCli(['run', config, db], dir);
    await run.waitFor(/run \d+ epoch/);
    const copies: number[] = [];
    for (let i = 0; i < 5 && run.child.exitCode === null; i++) {
      const copy = path.join(dir, `copy-${i}.db`);
      const r = cli(['savedb', copy, '--db', db], dir);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/copied to .*\(integrity ok\)/);
      const c = openDb(copy);
      expect(c.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(c.prepare(`SELECT COUNT(*) n FROM runs`).get()).toEqual({ n: 6 });
      copies.push((c.prepare(`SELECT COUNT(*) n FROM history`).get() as { n: number }).n);
      c.close();
    }
    expect((await run.done).code).toBe(0);
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(cli(['savedb', path.join(dir, 'copy-0.db'), '--db', db], dir).stderr).toMatch(/already exists/);
  });

  it("a copy is a database of its own: it never deletes, prunes or writes the original's run folders; --with-checkpoints lets it continue", () => {
    const dir = tmpDir();
    const db = path.join(dir, 'a.db');
    // A fixed seed: each run's last epoch is its best, so a run folder holds one checkpoint (with
    // seeds drawn per experiment, now and then an earlier epoch is the best and is kept too).
    const config = fixtureConfig(dir, { models: model('2, 5, 7'), epochs: 3, process: 'seed = 3' });
    expect(cli(['run', config, db], dir).code).toBe(0);
    const a = openDb(db);
    const storeId = a.prepare(`SELECT param_value FROM system WHERE param_name = 'store_id'`).pluck().get() as string;
    const runDir = (id: number) =>
      a.prepare(`SELECT run_dir FROM mosaic_queue WHERE run_id = ?`).pluck().get(id) as string;
    const dirs = [1, 2, 3].map(runDir);
    a.close();
    const history = (file: string, id: number) => {
      const d = openDb(file);
      const rows = d
        .prepare(`SELECT epoch, train_loss, test_loss FROM history WHERE run_id = ? ORDER BY epoch`)
        .all(id);
      d.close();
      return rows;
    };
    const filesOf = (d: string) => fs.readdirSync(d).sort();
    expect(filesOf(dirs[0]!)).toEqual(['epoch-3.ckpt', 'owner.json']);

    const copy = path.join(dir, 'copy.db');
    const saved = cli(['savedb', db, copy], dir);
    expect(saved.stdout).toMatch(/without checkpoints \(they stay with .*a\.db/);
    expect(cli(['status', copy], dir).stdout).toMatch(
      new RegExp(`a copy of .*a\\.db \\(database ${storeId}\\) at \\d{4}-\\d\\d-\\d\\dT`),
    );
    const c = openDb(copy);
    expect(c.prepare(`SELECT param_value FROM system WHERE param_name = 'store_id'`).pluck().get()).not.toBe(storeId);
    expect(c.prepare(`SELECT run_dir FROM mosaic_queue WHERE run_id = 1`).pluck().get()).not.toBe(dirs[0]);
    c.close();

    // delete on the copy: its rows go, the original's folder stays
    const deleted = cli(['delete', copy, '-id', '1', '--yes'], dir);
    expect(deleted.stdout).toMatch(
      /deleted 1 run \(ids 1\) and 0 checkpoint folders; the checkpoints of 1 run stayed with the database this is a copy of, .*a\.db/,
    );
    expect(filesOf(dirs[0]!)).toEqual(['epoch-3.ckpt', 'owner.json']);
    // a rerun on the copy says where its checkpoints are
    const onCopy = cli(['rerun', config, copy, '-epochs', '1', '-id', '2', '--progress', 'lines'], dir);
    expect(onCopy.stdout).toMatch(
      /copy\.db is a copy of .*a\.db .*made without its checkpoints, which stayed with the original.*--with-checkpoints/,
    );
    // the original continues from its own checkpoints
    expect(cli(['rerun', config, db, '-epochs', '1', '-id', '1', '--progress', 'lines'], dir).code).toBe(0);

    // --with-checkpoints: the copy continues exactly as the original, in folders of its own
    const full = path.join(dir, 'full.db');
    expect(cli(['savedb', db, full, '--with-checkpoints'], dir).stdout).toMatch(/with the checkpoints of 3 runs/);
    expect(cli(['rerun', config, full, '-epochs', '2', '-id', '2', '--progress', 'lines'], dir).code).toBe(0);
    expect(filesOf(dirs[1]!)).toEqual(['epoch-3.ckpt', 'owner.json']);
    expect(cli(['rerun', config, db, '-epochs', '2', '-id', '2', '--progress', 'lines'], dir).code).toBe(0);
    expect(history(full, 2)).toHaveLength(5);
    expect(history(full, 2)).toEqual(history(db, 2));

    // a copy made by an older Mosaic (the same identity) neither deletes nor writes the original's folders
    const old = path.join(dir, 'old.db');
    fs.copyFileSync(db, old);
    const oldDelete = cli(['delete', old, '-id', '3', '--yes'], dir);
    expect(oldDelete.stdout).toMatch(
      /and 0 checkpoint folders; left 1 folder that .*old\.db does not own:\n {2}.*run_3 belongs to run 3 of .*a\.db/,
    );
    expect(filesOf(dirs[2]!)).toEqual(['epoch-3.ckpt', 'owner.json']);
    const oldRerun = cli(['rerun', config, old, '-epochs', '1', '-id', '2', '--progress', 'lines'], dir);
    expect(oldRerun.stdout).toMatch(/belongs to run 2 of .*a\.db .*a copy made by an older Mosaic/);
    expect(filesOf(dirs[1]!)).toEqual(['epoch-5.ckpt', 'owner.json']);
    expect(cli(['rerun', config, db, '-epochs', '1', '-id', '3', '--progress', 'lines'], dir).code).toBe(0);
  });

  it('rekey updates the keys of the runs matching the regenerated pipelines and reports the others', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'k.db');
    const config = fixtureConfig(dir, { models: model('2, 5'), epochs: 1 });
    expect(cli(['run', config, db], dir).code).toBe(0);
    fs.writeFileSync(
      config,
      fs
        .readFileSync(config, 'utf8')
        .replace('key = net_{width}', 'key = width_{width}_v2')
        .replace('width = 2, 5', 'width = 2, 5, 7'),
    );
    expect(cli(['generate', config, path.join(dir, 'p.json')], dir).code).toBe(0);
    const r = cli(['rekey', path.join(dir, 'p.json'), db], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 runs match');
    expect(r.stdout).toContain('2 keys changed');
    expect(r.stdout).toMatch(/1 pipelines of the file match no run:\n\tor_data\(or\) \| faulty\(width_7_v2\)/);
    const d = openDb(db);
    expect(
      d.prepare(`SELECT run_id, param_value FROM params WHERE param_name = 'model_key' ORDER BY run_id`).all(),
    ).toEqual([
      { run_id: 1, param_value: 'width_2_v2' },
      { run_id: 2, param_value: 'width_5_v2' },
    ]);
    expect(
      JSON.parse(
        (
          d.prepare(`SELECT param_value FROM params WHERE run_id = 1 AND param_name = 'pipeline'`).get() as {
            param_value: string;
          }
        ).param_value,
      )[1].key,
    ).toBe('width_2_v2');
    d.close();
  });
});
