import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classesConfig, cli, FIXTURES, rows, tmpDir } from '../support/helpers.js';

describe('a run whose loss is no longer a number', () => {
  it('ends as diverged, at the epoch it happened, with no results, and the command exits 3', () => {
    const dir = tmpDir();
    const config = classesConfig(dir, { onehot: true, process: 'loss_function = MSELoss\noptimizer = sgd' });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('lr = 5e-2', 'lr = 1e30'));
    const db = path.join(dir, 'nan.db');
    const r = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/\[run diverged\] 1: diverged at epoch \d: train loss (NaN|Infinity)/);
    expect(r.stdout).toMatch(/1 diverged/);
    const [run] = rows(db, `SELECT status, return_status FROM runs`);
    expect(run!.status).toBe('diverged');
    const epoch = Number(/at epoch (\d)/.exec(run!.return_status as string)![1]);
    expect(rows(db, `SELECT param_value FROM params WHERE param_name = 'diverged_epoch'`)).toEqual([
      { param_value: String(epoch) },
    ]);
    // no scores for it: not 0 (the best possible overfit and slope), not an accuracy of "always class 0"
    expect(rows(db, `SELECT COUNT(*) n FROM run_results`)).toEqual([{ n: 0 }]);
    expect(rows(db, `SELECT COUNT(*) n FROM history`)).toEqual([{ n: epoch - 1 }]);
    expect(cli(['status', db], dir).stdout).toMatch(
      /1 diverged[\s\S]*Diverged\n\t\[1\] three \| linear .*\(diverged at epoch/,
    );
  });
});

describe('predictions that do not fit the targets', () => {
  it("2 outputs for 3 classes with class indices: refused on the first batch, in the user's terms", () => {
    const dir = tmpDir();
    const db = path.join(dir, 'c.db');
    const r = cli(['run', classesConfig(dir, { outputs: 2 }), db, '--progress', 'lines'], dir);
    expect(r.code).toBe(3);
    const [run] = rows(db, `SELECT status, return_status FROM runs`);
    expect(run!.status).toBe('error');
    expect(run!.return_status).toBe(
      'TargetMismatchError: model class classifier [classifier] outputs [8, 2] for a batch: 2 classes (0 to 1), but the targets of data class three_classes [three] are [8, 1] with class index 2: CrossEntropyLoss expects one output per class, so the model needs at least 3 outputs',
    );
    expect(rows(db, `SELECT COUNT(*) n FROM history`)).toEqual([{ n: 0 }]);
  });

  it('one-hot targets of 3 classes against 2 outputs, and an element-wise loss on other shapes', () => {
    const dir = tmpDir();
    const onehot = path.join(dir, 'o.db');
    expect(cli(['run', classesConfig(dir, { outputs: 2, onehot: true }), onehot], dir).code).toBe(3);
    expect(rows(onehot, `SELECT return_status FROM runs`)[0]!.return_status).toMatch(
      /outputs \[8, 2\] for a batch \(2 classes\) but the targets of data class three_classes \[three\] are \[8, 3\]: CrossEntropyLoss expects class indices \(\[8\]\) or one-hot rows of 2 \(\[8, 2\]\)/,
    );
    const mse = path.join(dir, 'm.db');
    expect(
      cli(['run', classesConfig(dir, { outputs: 2, onehot: true, process: 'loss_function = MSELoss' }), mse], dir).code,
    ).toBe(3);
    expect(rows(mse, `SELECT return_status FROM runs`)[0]!.return_status).toMatch(
      /outputs \[8, 2\] for a batch but the targets .* are \[8, 3\]: MSELoss compares them element by element, so they must have the same shape/,
    );
    // the right number of outputs trains, with an accuracy by argmax
    const good = path.join(dir, 'g.db');
    expect(cli(['run', classesConfig(dir), good], dir).code).toBe(0);
    expect(rows(good, `SELECT test_acc FROM run_results`)[0]!.test_acc).toBeGreaterThan(1 / 3);
  });
});

describe('accuracy for a loss class, and the accuracy option', () => {
  it('a loss class that declares kind = classification gets an argmax accuracy; one that does not, none; accuracy = none, none', () => {
    const dir = tmpDir();
    const loss = (cls: string, extra = '') =>
      `class_loss_function = ${cls}\npath_to_class_loss_function = ${FIXTURES}/classes.ts\n${extra}`;
    const acc = (db: string) => rows(db, `SELECT train_acc, test_acc FROM run_results`)[0]!;
    const declared = path.join(dir, 'declared.db');
    expect(cli(['run', classesConfig(dir, { process: loss('my_cross_entropy') }), declared], dir).code).toBe(0);
    expect(acc(declared).test_acc).toBeGreaterThan(1 / 3); // measured (by argmax), and above chance
    const silent = path.join(dir, 'silent.db');
    expect(cli(['run', classesConfig(dir, { process: loss('silent_cross_entropy') }), silent], dir).code).toBe(0);
    expect(acc(silent)).toEqual({ train_acc: null, test_acc: null });
    const forced = path.join(dir, 'forced.db');
    expect(
      cli(['run', classesConfig(dir, { process: loss('silent_cross_entropy', 'accuracy = argmax') }), forced], dir)
        .code,
    ).toBe(0);
    expect(acc(forced).test_acc).toBeGreaterThan(1 / 3);
    const none = path.join(dir, 'none.db');
    expect(
      cli(['run', classesConfig(dir, { process: 'loss_function = CrossEntropyLoss\naccuracy = none' }), none], dir)
        .code,
    ).toBe(0);
    expect(acc(none)).toEqual({ train_acc: null, test_acc: null });
    const bad = cli(
      [
        'run',
        classesConfig(dir, { process: 'loss_function = CrossEntropyLoss\naccuracy = top5' }),
        path.join(dir, 'bad.db'),
      ],
      dir,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /classes\.ini:\d+ \[PROCESS\] accuracy: must be one of auto, argmax, threshold, none, found "top5"/,
    );
  });
});

describe('early stopping and the best epoch', () => {
  it('stops after `early_stopping` epochs without a better test loss, records the best epoch and keeps its checkpoint', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'e.db');
    // min_delta far above what an epoch can gain: epoch 1 stays the best, the run stops at epoch 3
    const config = classesConfig(dir, {
      process: 'loss_function = CrossEntropyLoss\nearly_stopping = 2\nmin_delta = 100',
    });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('epochs = 3', 'epochs = 20'));
    expect(cli(['run', config, db], dir).code).toBe(0);
    const [res] = rows(db, `SELECT epochs, best_epoch, best_test_loss, test_loss FROM run_results`);
    expect(res).toMatchObject({ epochs: 3, best_epoch: 1 });
    expect(res!.best_test_loss).toBe(rows(db, `SELECT test_loss FROM history WHERE epoch = 1`)[0]!.test_loss);
    expect(rows(db, `SELECT status, return_status FROM runs`)).toEqual([
      {
        status: 'done',
        return_status:
          'early stop at epoch 3: the test loss did not improve by more than 100 for 2 epochs (best: epoch 1)',
      },
    ]);
    const runDir = rows(db, `SELECT run_dir FROM mosaic_queue`)[0]!.run_dir as string;
    expect(fs.readdirSync(runDir).sort()).toEqual(['epoch-1.ckpt', 'epoch-3.ckpt', 'owner.json']);
  });

  it('keeps the configured epochs as the parameter (trained and stopping epochs are results), and a rerun says it stopped again or trains past the stop', () => {
    const dir = tmpDir();
    const db = path.join(dir, 's.db');
    const config = classesConfig(dir, {
      process: 'loss_function = CrossEntropyLoss\nearly_stopping = 2\nmin_delta = 100',
    });
    fs.writeFileSync(
      config,
      fs
        .readFileSync(config, 'utf8')
        .replace('epochs = 3', 'epochs = 20')
        .replace('nb_processus = 1', 'nb_processus = 1\nmultiplicity = 3'),
    );
    expect(cli(['run', config, db], dir).code).toBe(0);
    const facts = (id: number) =>
      Object.fromEntries(
        rows(
          db,
          `SELECT param_name, param_value FROM params WHERE run_id = ${id} AND param_name IN ('epochs', 'epochs_done', 'stopped_epoch')`,
        ).map((r) => [r.param_name, r.param_value]),
      );
    for (const id of [1, 2, 3]) expect(facts(id)).toEqual({ epochs: '20', epochs_done: '3', stopped_epoch: '3' });
    const report = JSON.parse(cli(['compare', db, '--format', 'json'], dir).stdout);
    expect(report.groups).toHaveLength(1);
    expect(report.groups[0].n).toBe(3);

    const again = cli(['rerun', config, db, '-epochs', '5', '-id', '1', '--progress', 'lines'], dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /\[run finished\] 1: early stop at epoch 4: .*it had stopped early already \(rerun with --no-early-stopping to train past the stop\)/,
    );
    expect(facts(1)).toEqual({ epochs: '8', epochs_done: '4', stopped_epoch: '4' });
    const past = cli(
      ['rerun', config, db, '-epochs', '5', '-id', '2', '--no-early-stopping', '--progress', 'lines'],
      dir,
    );
    expect(past.code).toBe(0);
    expect(past.stdout).toMatch(/\[run finished\] 2\n/);
    expect(rows(db, `SELECT COUNT(*) AS n FROM history WHERE run_id = 2`)).toEqual([{ n: 8 }]);
    expect(facts(2)).toEqual({ epochs: '8', epochs_done: '8' });
  });

  it('without min_delta the best epoch is the lowest test loss', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'b.db');
    expect(cli(['run', classesConfig(dir), db], dir).code).toBe(0);
    const history = rows(db, `SELECT epoch, test_loss FROM history ORDER BY test_loss, epoch`);
    expect(rows(db, `SELECT best_epoch, best_test_loss FROM run_results`)).toEqual([
      { best_epoch: history[0]!.epoch, best_test_loss: history[0]!.test_loss },
    ]);
  });

  it('min_delta without early_stopping is a config error', () => {
    const dir = tmpDir();
    const r = cli(
      [
        'run',
        classesConfig(dir, { process: 'loss_function = CrossEntropyLoss\nmin_delta = 0.1' }),
        path.join(dir, 'x.db'),
      ],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[PROCESS\] min_delta: min_delta only has a meaning with early_stopping = N/);
  });
});

/**
 * An experiment on grid_data (the OR gate in a fixed order, test/fixtures/bad-data.ts) and one of
 * its models, seeds 4 and 5 with `multiplicity = 2`: runs of the packable `relu_mlp` train in a pack,
 * those of `relu_mlp_alone` (the same model with a forward of its own) one by one.
 */
function gridConfig(
  dir: string,
  file: string,
  o: { data?: string; model: string; process?: string; multiplicity?: number; lr?: string },
): string {
  fs.writeFileSync(
    path.join(dir, file),
    `[PROCESS]\nlr = ${o.lr ?? '1e-2'}\nepochs = 3\nseed = 4\ndata_scheme = data\npipeline_scheme = model\nloss_function = MSELoss\nrun_files_path = runs\n${o.process ?? ''}\n\n` +
      `[MONITOR]\nnb_processus = 1\nmultiplicity = ${o.multiplicity ?? 1}\n\n` +
      `[grid]\ntype = data\nclass = grid_data\npath_to_class = ${FIXTURES}/bad-data.ts\nkey = grid\n${o.data ?? ''}\n\n` +
      `[mlp]\ntype = model\npath_to_class = ${FIXTURES}/bad-data.ts\nkey = mlp\n${o.model}\n`,
  );
  return path.join(dir, file);
}

/** The statuses and messages of a database's runs, in order; layer names as TF.js numbers them (dense_Dense7) made one. */
const outcomes = (db: string) =>
  rows(db, `SELECT run_id, status, return_status FROM runs ORDER BY run_id`).map((r) => ({
    run_id: r.run_id as number,
    status: r.status as string,
    return_status: String(r.return_status).replace(/dense_Dense\d+/g, 'dense_DenseN'),
  }));
const packedIn = (db: string) =>
  rows(db, `SELECT param_value FROM params WHERE param_name = 'backend_used' ORDER BY run_id`).map(
    (r) => /trained in a pack of (\d+)/.exec(String(r.param_value))?.[1] ?? 'alone',
  );
describe('values that are not numbers', () => {
  it('NaN in the inputs or the targets: the run ends in error naming the data class, the batch, the row and the feature, alone and in a pack alike', () => {
    const dir = tmpDir();
    const inputs = path.join(dir, 'inputs.db');
    const r = cli(
      [
        'run',
        gridConfig(dir, 'i.ini', { data: 'nan_at = train:2:1:0', model: 'class = relu_mlp_alone\nwidth = 4' }),
        inputs,
        '--progress',
        'lines',
      ],
      dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const message =
      'NonFiniteDataError: data class grid_data [grid]: NaN in the inputs of train batch 2, row 1, feature 0 (indices from 0): Mosaic trains on finite numbers only';
    expect(r.stdout).toContain(`[run error] 1: ${message}`);
    expect(rows(inputs, `SELECT status, return_status FROM runs`)).toEqual([
      { status: 'error', return_status: message },
    ]);
    expect(rows(inputs, `SELECT COUNT(*) n FROM history`)).toEqual([{ n: 0 }]);

    // In the targets of a test batch, from a source that makes its batches afresh at every pass.
    const targets = path.join(dir, 'targets.db');
    const t = cli(
      [
        'run',
        gridConfig(dir, 't.ini', {
          data: 'nan_at = test:1:3:0\nnan_in = y\nsource = generator',
          model: 'class = relu_mlp_alone\nwidth = 4',
        }),
        targets,
      ],
      dir,
    );
    expect(t.code).toBe(3);
    expect(rows(targets, `SELECT status, return_status FROM runs`)).toEqual([
      {
        status: 'error',
        return_status:
          'NonFiniteDataError: data class grid_data [grid]: NaN in the targets of test batch 1, row 3, column 0 (indices from 0): Mosaic trains on finite numbers only',
      },
    ]);

    // Only the run of seed 5 has the NaN: in a pack of 2, it ends as it does alone, and its mate trains as it does alone.
    const data = 'nan_at = train:5:2:1\nnan_seeds = odd';
    const [packed, alone] = [path.join(dir, 'packed.db'), path.join(dir, 'alone.db')];
    expect(
      cli(
        ['run', gridConfig(dir, 'p.ini', { data, model: 'class = relu_mlp\nwidth = 4', multiplicity: 2 }), packed],
        dir,
      ).code,
    ).toBe(3);
    expect(
      cli(
        ['run', gridConfig(dir, 'a.ini', { data, model: 'class = relu_mlp_alone\nwidth = 4', multiplicity: 2 }), alone],
        dir,
      ).code,
    ).toBe(3);
    expect(packedIn(packed)).toEqual(['2', '2']);
    expect(packedIn(alone)).toEqual(['alone', 'alone']);
    expect(outcomes(packed)).toEqual([
      { run_id: 1, status: 'done', return_status: 'ok' },
      {
        run_id: 2,
        status: 'error',
        return_status:
          'NonFiniteDataError: data class grid_data [grid]: NaN in the inputs of train batch 5, row 2, feature 1 (indices from 0): Mosaic trains on finite numbers only',
      },
    ]);
    expect(outcomes(alone)).toEqual(outcomes(packed));
    const curve = (db: string) =>
      rows(db, `SELECT run_id, epoch, train_loss, test_loss FROM history ORDER BY run_id, epoch`);
    expect(curve(packed)).toHaveLength(3);
    expect(curve(packed)).toEqual(curve(alone));
  });

  it('weights that stop being numbers under finite losses: the run diverges at that epoch naming the layer, without the learning-rate hint, alone and in a pack', () => {
    const dir = tmpDir();
    // A NaN written into the first layer's kernel at the end of epoch 2, on cpu and on wasm.
    const hooked = path.join(dir, 'hooked.db');
    const r = cli(
      [
        'run',
        gridConfig(dir, 'h.ini', {
          model: 'class = nan_after\nwidth = 4\nnan_epoch = 2',
          process: 'backend = cpu, wasm',
        }),
        hooked,
        '--progress',
        'lines',
      ],
      dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(3);
    for (const run of outcomes(hooked)) {
      expect(run.status).toBe('diverged');
      expect(run.return_status).toMatch(
        /^diverged at epoch 2: weights of layer dense_DenseN \(layer 1 of model class nan_after \[mlp\], Dense\) are not finite \(kernel: 1 of 8 values NaN\), though the losses are finite \(train loss 0\.\d+, test loss 0\.\d+\): the results would mean nothing/,
      );
      expect(run.return_status).not.toMatch(/learning rate/);
    }
    expect(rows(hooked, `SELECT run_id, COUNT(*) n FROM history GROUP BY run_id`)).toEqual([
      { run_id: 1, n: 1 },
      { run_id: 2, n: 1 },
    ]);
    expect(rows(hooked, `SELECT param_value FROM params WHERE param_name = 'diverged_epoch'`)).toEqual([
      { param_value: '2' },
      { param_value: '2' },
    ]);
    expect(rows(hooked, `SELECT COUNT(*) n FROM run_results`)).toEqual([{ n: 0 }]);

    // The run of seed 5 starts with a kernel of −Infinity behind a ReLU (positive inputs: its outputs are 0,
    // the losses finite): in a pack of 2 it diverges at epoch 1 as it does alone; its mate trains on.
    const o = { data: 'inputs = positive', multiplicity: 2 };
    const [packed, alone] = [path.join(dir, 'packed.db'), path.join(dir, 'alone.db')];
    expect(
      cli(
        [
          'run',
          gridConfig(dir, 'p.ini', { ...o, model: 'class = relu_mlp\nwidth = 4\ninfinite_kernel = odd' }),
          packed,
        ],
        dir,
      ).code,
    ).toBe(3);
    expect(
      cli(
        [
          'run',
          gridConfig(dir, 'a.ini', { ...o, model: 'class = relu_mlp_alone\nwidth = 4\ninfinite_kernel = odd' }),
          alone,
        ],
        dir,
      ).code,
    ).toBe(3);
    expect(packedIn(packed)).toEqual(['2', '2']);
    const [mate, diverged] = outcomes(packed);
    expect(mate).toEqual({ run_id: 1, status: 'done', return_status: 'ok' });
    expect(diverged!.status).toBe('diverged');
    expect(diverged!.return_status).toMatch(
      /^diverged at epoch 1: weights of layer dense_DenseN \(layer 1 of model class relu_mlp \[mlp\], Dense\) are not finite \(kernel: 8 of 8 values infinite\), though the losses are finite/,
    );
    expect(diverged!.return_status).not.toMatch(/learning rate/);
    expect(
      outcomes(alone).map((x) => ({ ...x, return_status: x.return_status.replace('relu_mlp_alone', 'relu_mlp') })),
    ).toEqual(outcomes(packed));

    // A loss that goes NaN on finite data keeps the hint, and says which weights went with it.
    const lr = path.join(dir, 'lr.db');
    expect(
      cli(['run', gridConfig(dir, 'lr.ini', { model: 'class = relu_mlp\nwidth = 4', lr: '1e38' }), lr], dir).code,
    ).toBe(3);
    const [high] = outcomes(lr);
    expect(high!.status).toBe('diverged');
    expect(high!.return_status).toMatch(
      /^diverged at epoch 1: train loss NaN, test loss NaN, on finite data; weights of layer dense_DenseN \(layer 1 of model class relu_mlp \[mlp\], Dense\) are not finite \(kernel: \d of 8 values NaN\) \(lower the learning rate\?\)$/,
    );
  });

  it("accuracy = threshold or argmax on continuous targets: refused on the first batch, naming the targets' values, alone and in a pack", () => {
    const dir = tmpDir();
    for (const accuracy of ['threshold', 'argmax']) {
      const o = { data: 'target = continuous', process: `accuracy = ${accuracy}`, multiplicity: 2 };
      const [packed, alone] = [path.join(dir, `p-${accuracy}.db`), path.join(dir, `a-${accuracy}.db`)];
      expect(
        cli(['run', gridConfig(dir, 'p.ini', { ...o, model: 'class = relu_mlp\nwidth = 4' }), packed], dir).code,
      ).toBe(3);
      expect(
        cli(['run', gridConfig(dir, 'a.ini', { ...o, model: 'class = relu_mlp_alone\nwidth = 4' }), alone], dir).code,
      ).toBe(3);
      const runs = outcomes(packed);
      expect(runs.map((x) => x.status)).toEqual(['error', 'error']);
      const start =
        accuracy === 'threshold'
          ? 'AccuracyRuleError: accuracy = threshold compares each prediction with a target of 0 or 1, but the targets of data class grid_data [grid] are continuous'
          : 'AccuracyRuleError: accuracy = argmax compares the predicted class (of 1 output) with class indices (integers from 0) or one-hot rows, but the targets of data class grid_data [grid] (shape [4, 1]) are neither';
      for (const run of runs) {
        expect(run.return_status.startsWith(`${start} (values such as `), run.return_status).toBe(true);
        const values = /values such as ([^)]*)\)/.exec(run.return_status)![1]!.split(', ').map(Number);
        expect(values).toHaveLength(4);
        for (const v of values) expect(Number.isInteger(v)).toBe(false);
        expect(run.return_status).toMatch(/: set accuracy = none, or auto \(which measures none for a regression\)$/);
      }
      expect(outcomes(alone)).toEqual(runs);
      expect(rows(packed, `SELECT COUNT(*) n FROM history`)).toEqual([{ n: 0 }]);
    }
    // On 0/1 targets the forced threshold measures, as before.
    const binary = path.join(dir, 'binary.db');
    expect(
      cli(
        [
          'run',
          gridConfig(dir, 'b.ini', { model: 'class = relu_mlp\nwidth = 4', process: 'accuracy = threshold' }),
          binary,
        ],
        dir,
      ).code,
    ).toBe(0);
    expect(rows(binary, `SELECT test_acc FROM run_results`)[0]!.test_acc).toBeGreaterThan(0);
  });
});

describe('randomness', () => {
  it('a dropout layer with a fixed seed (the same mask at every step): a warning, shown once and kept with each of its runs; without a seed, none', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'd.db');
    const r = cli(
      [
        'run',
        gridConfig(dir, 'd.ini', { model: 'class = dropout_mlp\ndropout_seed = 7, None', multiplicity: 2 }),
        db,
        '--progress',
        'lines',
      ],
      dir,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const warning =
      "model class dropout_mlp [mlp]: layer 2 (Dropout) has a fixed seed (7): TF.js then draws the same dropout mask at every step, so the same units are dropped all through training; leave the seed out for a new mask at every step, drawn from the run's seed (reproducible all the same)";
    const said = r.stdout.split('\n').filter((l) => l.includes('warning'));
    expect(said).toEqual([`[worker 1] warning (run 1): ${warning}`]);
    expect(rows(db, `SELECT run_id, param_value FROM params WHERE param_name = 'warning' ORDER BY run_id`)).toEqual([
      { run_id: 1, param_value: warning },
      { run_id: 2, param_value: warning },
    ]);
    // bookkeeping, not a parameter: compare does not split the runs of a model by it
    expect(JSON.stringify(JSON.parse(cli(['compare', db, '--format', 'json'], dir).stdout).notes ?? [])).not.toContain(
      'warning',
    );
  });
});
