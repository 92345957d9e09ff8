import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { curveMetrics } from '../../src/engine/run/metrics.js';
import { cli, openDb, tmpDir, tutorialConfig } from '../support/helpers.js';

const EPOCHS = 10;

/** nb_params of the tutorial MLPs: 2 inputs, hidden sizes, 1 output, with biases. */
function denseParams(sizes: number[]): number {
  const all = [2, ...sizes, 1];
  return all.slice(1).reduce((a, units, i) => a + all[i]! * units + units, 0);
}

describe('the tutorial experiment end to end', () => {
  let dir: string;
  let db: string;
  let result: ReturnType<typeof cli>;

  beforeAll(() => {
    dir = tmpDir();
    db = path.join(dir, 'tutorial.db');
    const config = tutorialConfig(dir, { epochs: String(EPOCHS) });
    result = cli(['run', config, db], dir);
  });

  it('runs the 24 runs and prints the original progress lines', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Two workers announce their packs in whichever order they start: each run once, counted 1…24.
    for (let i = 1; i <= 24; i++) expect(result.stdout).toMatch(new RegExp(` ---> launch \\d+ ${i}/24 `));
    for (let id = 1; id <= 24; id++) {
      expect(result.stdout.match(new RegExp(` ---> launch ${id} \\d+/24 `, 'g'))).toHaveLength(1);
      expect(result.stdout).toMatch(new RegExp(`\\[run finished\\] ${id}\\n`));
    }
  });

  it('fills the original tables', () => {
    const d = openDb(db);
    expect(d.prepare(`SELECT status, COUNT(*) n FROM runs GROUP BY status`).all()).toEqual([{ status: 'done', n: 24 }]);
    expect(d.prepare(`SELECT COUNT(*) n FROM run_results`).get()).toEqual({ n: 24 });
    expect(d.prepare(`SELECT param_value FROM system WHERE param_name = 'next_run_id'`).get()).toEqual({
      param_value: '25',
    });
    const facts = d.prepare(`SELECT param_name, param_value FROM params WHERE run_id = 5`).all() as {
      param_name: string;
      param_value: string;
    }[];
    const f = Object.fromEntries(facts.map((r) => [r.param_name, r.param_value]));
    expect(f).toMatchObject({
      status: 'done',
      lr: '1e-2',
      epochs: String(EPOCHS),
      dataset_key: 'data_dataset_OR',
      mlp_key: 'mlp_funnel',
      mlp_funnel_width: '3',
      mlp_funnel_length: '4',
      dataset_OR_batch_size: '1',
    });
    expect(d.prepare(`SELECT pipeline FROM runs WHERE run_id = 5`).get()).toEqual({
      pipeline: 'dataset_OR(1,200,0.8) | mlp_funnel(4,3)',
    });
    // the original's SQL still works
    const brick = d
      .prepare(`SELECT run_id FROM params WHERE param_name = 'mlp_key' AND param_value = 'mlp_brick' ORDER BY run_id`)
      .all();
    expect(brick).toHaveLength(12);
    const seeds = d.prepare(`SELECT COUNT(DISTINCT param_value) n FROM params WHERE param_name = 'seed'`).get();
    expect(seeds).toEqual({ n: 24 });
    d.close();
  });

  it('keeps every epoch of every run in history, once', () => {
    const d = openDb(db);
    const rows = d
      .prepare(`SELECT run_id, COUNT(*) n, MIN(epoch) lo, MAX(epoch) hi FROM history GROUP BY run_id`)
      .all() as { n: number; lo: number; hi: number }[];
    expect(rows).toHaveLength(24);
    for (const r of rows) expect([r.n, r.lo, r.hi]).toEqual([EPOCHS, 1, EPOCHS]);
    d.close();
  });

  it('stores final metrics as defined, recomputable from history', () => {
    const d = openDb(db);
    const results = d
      .prepare(`SELECT r.*, p.param_value AS width, k.param_value AS model FROM run_results r
      JOIN params p ON p.run_id = r.run_id AND p.param_name LIKE 'mlp_%_width'
      JOIN params k ON k.run_id = r.run_id AND k.param_name = 'mlp_key'`)
      .all() as Record<string, number & string>[];
    expect(results).toHaveLength(24);
    for (const r of results) {
      const h = d
        .prepare(`SELECT train_loss, test_loss, train_acc, test_acc FROM history WHERE run_id = ? ORDER BY epoch`)
        .all(r.run_id) as Record<string, number>[];
      const m = curveMetrics(
        h.map((e) => e.train_loss!),
        h.map((e) => e.test_loss!),
      );
      expect(r.overfit).toBeCloseTo(m.overfit, 9);
      expect(r.overfit).toBeGreaterThanOrEqual(0);
      expect(r.overfit).toBeLessThanOrEqual(1);
      expect(r.trainability).toBeCloseTo(m.trainability, 9);
      expect(r.slope).toBeCloseTo(m.slope, 9);
      expect(r.train_loss).toBe(h[EPOCHS - 1]!.train_loss);
      expect(r.epochs).toBe(EPOCHS);
      expect(r['duration(s)']).toBeGreaterThan(0);
      const w = Number(r.width);
      // the original's funnel (its _calc_sizes): length x width neurons in all, narrowing
      const funnel: Record<number, number[]> = { 2: [4, 2, 1, 1], 3: [6, 3, 2, 1], 4: [8, 3, 3, 2] };
      const sizes = r.model === 'mlp_funnel' ? funnel[w]! : [w, w, w, w];
      expect(r.nb_params).toBe(denseParams(sizes));
      expect(r.train_acc).toBeGreaterThanOrEqual(0);
      expect(r.test_acc).toBeLessThanOrEqual(1);
      // OR targets are 0/1 and the output a sigmoid: once the loss is small, every decision is right.
      if (r.train_loss < 0.01) {
        expect(r.train_acc).toBe(1);
        expect(r.test_acc).toBe(1);
      }
    }
    expect(results.some((r) => r.train_loss < 0.01)).toBe(true);
    d.close();
  });

  it('checkpoints each run under run_files_path, in a folder of this database, keeping the last and the best epoch', () => {
    const d = openDb(db);
    const { run_dir: runDir } = d.prepare(`SELECT run_dir FROM mosaic_queue WHERE run_id = 7`).get() as {
      run_dir: string;
    };
    const { best_epoch: best } = d.prepare(`SELECT best_epoch FROM run_results WHERE run_id = 7`).get() as {
      best_epoch: number;
    };
    d.close();
    expect(path.dirname(path.dirname(runDir))).toBe(path.join(dir, '.runs'));
    expect(fs.readdirSync(runDir).sort()).toEqual(
      [...new Set([`epoch-${best}.ckpt`, `epoch-${EPOCHS}.ckpt`, 'owner.json'])].sort(),
    );
    const [magic, header] = fs
      .readFileSync(path.join(runDir, `epoch-${EPOCHS}.ckpt`))
      .toString('latin1')
      .split('\n');
    expect(magic).toBe('MOSAIC-CHECKPOINT 1');
    const { owner, groups } = JSON.parse(header!) as {
      owner: { run_id: number; epoch: number };
      groups: { name: string }[];
    };
    expect(owner).toMatchObject({ run_id: 7, epoch: EPOCHS });
    expect(groups.map((g) => g.name)).toEqual(['parameters', 'optimizer', 'model-0']);
  });

  it('status reads the database: Done lines with the swept width, losses and time', () => {
    const s = cli(['status', db], dir);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('24 runs: 24 done, 0 error, 0 failed, 0 diverged, 0 running, 0 pending');
    const sci = '\\d\\.\\d{3}E[+-]\\d\\d';
    expect(s.stdout).toMatch(
      new RegExp(
        `\\t\\[1\\] data_dataset_OR \\| mlp_funnel {2}width=2\\ttrain_loss=${sci}\\ttest_loss=${sci}\\ttrain_acc=${sci}\\ttest_acc=${sci}\\texecution_time=${sci}`,
      ),
    );
    // the original name and the remembered database
    const again = cli(['status'], dir, { MOSAIC_DB: '' });
    expect(again.stdout).toContain('24 runs: 24 done');
  });
});
