/**
 * Why runs claimed together do not train as one pack, said of the runs it is about: runs of one
 * pack key may have models of different classes, and the reason one model cannot be packed is
 * not the reason of the others (which still pack).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, rows, tmpDir } from '../support/helpers.js';

/** Two model sections of one slot: `relu_mlp_alone` (a forward of its own) first, then the packable `relu_mlp`. */
function mixedConfig(dir: string): string {
  const file = path.join(dir, 'mixed.ini');
  fs.writeFileSync(
    file,
    `[PROCESS]\nlr = 1e-2\nepochs = 3\nseed = 4\ndata_scheme = data\npipeline_scheme = model\nloss_function = MSELoss\nrun_files_path = runs\n\n` +
      `[MONITOR]\nnb_processus = 1\nmultiplicity = 3\n\n` +
      `[grid]\ntype = data\nclass = grid_data\npath_to_class = ${FIXTURES}/bad-data.ts\nkey = grid\n\n` +
      `[alone]\ntype = model\nclass = relu_mlp_alone\npath_to_class = ${FIXTURES}/bad-data.ts\nkey = alone\nwidth = 4\n\n` +
      `[mlp]\ntype = model\nclass = relu_mlp\npath_to_class = ${FIXTURES}/bad-data.ts\nkey = mlp\nwidth = 4\n`,
  );
  return file;
}

describe('why runs are not packed', () => {
  it('names the runs whose model is the reason, and the others of the same pack key still train as a pack', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'mixed.db');
    const r = cli(['run', mixedConfig(dir), db, '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const byClass = (name: string) =>
      rows(
        db,
        `SELECT run_id FROM params WHERE param_name = 'model_key' AND param_value = ? ORDER BY run_id`,
        name,
      ).map((x) => Number(x.run_id));
    const [alone, packable] = [byClass('alone'), byClass('mlp')];
    expect([alone.length, packable.length]).toEqual([3, 3]);
    const said = r.stdout.split('\n').filter((l) => l.includes('not as a pack'));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(
      `runs of one structure (${alone.join(', ')}) train one by one, not as a pack: model class relu_mlp_alone [alone] has a forward() of its own`,
    );
    const backend = (id: number) =>
      String(
        rows(db, `SELECT param_value FROM params WHERE run_id = ? AND param_name = 'backend_used'`, id)[0]?.param_value,
      );
    for (const id of packable) expect(backend(id)).toMatch(/trained in a pack of 3/);
    for (const id of alone) expect(backend(id)).not.toMatch(/pack/);
    expect(rows(db, `SELECT DISTINCT status FROM runs`)).toEqual([{ status: 'done' }]);
  });
});
