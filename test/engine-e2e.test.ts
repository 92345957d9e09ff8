import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, faultyModel, FIXTURES, fixtureConfig, openDb, tmpDir } from './helpers.js';

const model = faultyModel('8');

describe('engine choices from the config', () => {
  it('sweeps backend and optimizer in [PROCESS]: cpu and wasm, adam and sgd all train', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'e.db');
    const config = fixtureConfig(dir, { models: model, epochs: 3, process: 'backend = cpu, wasm\noptimizer = adam, sgd' });
    const r = cli(['run', config, db], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = openDb(db);
    const rows = d.prepare(`SELECT r.pipeline, b.param_value backend, o.param_value optimizer, rr.train_loss, rr.nb_params FROM runs r
      JOIN params b ON b.run_id = r.run_id AND b.param_name = 'backend'
      JOIN params o ON o.run_id = r.run_id AND o.param_name = 'optimizer'
      JOIN run_results rr ON rr.run_id = r.run_id ORDER BY r.run_id`).all() as Record<string, string & number>[];
    d.close();
    expect(rows.map((x) => [x.backend, x.optimizer])).toEqual([['cpu', 'adam'], ['cpu', 'sgd'], ['wasm', 'adam'], ['wasm', 'sgd']]);
    expect(rows[2]!.pipeline).toBe('[backend=wasm,optimizer=adam] or_data(4,16) | faulty(8)');
    for (const x of rows) {
      expect(x.nb_params).toBe(2 * 8 + 8 + 8 + 1);
      expect(Number.isFinite(x.train_loss)).toBe(true);
    }
  });

  it('a loss class of the user, with parameters from [PROCESS]', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'l.db');
    const process = `class_loss_function = ScaledMSE\npath_to_class_loss_function = ${FIXTURES}/custom-loss.ts\nloss_scale = 1000\nseed = 5`;
    const config = fixtureConfig(dir, { models: model, epochs: 1, process });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('loss_function = BCELoss\n', ''));
    expect(cli(['run', config, db], dir).code).toBe(0);
    const d = openDb(db);
    const { test_loss, train_acc } = d.prepare(`SELECT test_loss, train_acc FROM run_results`).get() as { test_loss: number; train_acc: number };
    d.close();
    // a sigmoid output against 0/1 targets has an MSE above 0.01 after one epoch: ×1000 shows it is ours
    expect(test_loss).toBeGreaterThan(10);
    expect(train_acc).toBeGreaterThanOrEqual(0);
  });
});

describe('backend = auto', () => {
  it('is the default: a small model trains on cpu, a large one on wasm; the choice is recorded and shown', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2, 3000'), epochs: 1, monitor: 'nb_processus = 1' });
    const db = path.join(dir, 'auto.db');
    expect(cli(['run', config, db], dir).code).toBe(0);
    const d = openDb(db);
    const used = d.prepare(`SELECT param_value FROM params WHERE param_name = 'backend_used' ORDER BY run_id`).all();
    d.close();
    expect(used).toEqual([
      { param_value: 'cpu (auto: small model, 9 parameters x batch 4)' },
      { param_value: 'wasm (auto: 12001 parameters x batch 4)' },
    ]);
    expect(cli(['status', db], dir).stdout).toContain('backends: 1 run on cpu, 1 on wasm (2 chosen by backend = auto)');
  });
});
