import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli,
  faultyModel,
  FIXTURES,
  fixtureConfig,
  historyCount,
  openDb,
  startCli,
  tmpDir,
  tutorialConfig,
} from '../support/helpers.js';

type Row = {
  run_id: number;
  epoch: number;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
};

function histories(db: string): Row[] {
  const d = openDb(db);
  try {
    return d
      .prepare(`SELECT run_id, epoch, train_loss, test_loss, train_acc, test_acc FROM history ORDER BY run_id, epoch`)
      .all() as Row[];
  } finally {
    d.close();
  }
}

function facts(db: string, name: string): string[] {
  const d = openDb(db);
  try {
    return (
      d.prepare(`SELECT param_value FROM params WHERE param_name = ? ORDER BY run_id`).all(name) as {
        param_value: string;
      }[]
    ).map((r) => r.param_value);
  } finally {
    d.close();
  }
}

/**
 * A run trained in a pack computes, replica by replica, the very float32 operations it computes
 * alone (a batched matMul is R matMuls; each replica's loss is its own mean; every optimizer is
 * element-wise), and it reads the same data in the same order: its curve is the same, bit for bit.
 */
function expectSameCurves(packed: Row[], alone: Row[]) {
  expect(packed.length).toBe(alone.length);
  packed.forEach((p, i) => {
    expect(p).toEqual(alone[i]);
  });
}

/** The tutorial, small: 2 models x 3 widths x `multiplicity`, fixed seeds so two databases get the same runs. */
function tutorial(
  dir: string,
  file: string,
  o: { epochs: number; multiplicity: number; workers?: number; packSize?: number },
): string {
  const config = tutorialConfig(dir, {
    epochs: `${o.epochs}\nseed = 5`,
    data_size: '40',
    multiplicity: `${o.multiplicity}${o.packSize ? `\npack_size = ${o.packSize}` : ''}`,
    nb_processus: String(o.workers ?? 2),
  });
  fs.renameSync(config, path.join(dir, file));
  return path.join(dir, file);
}

describe('packs: runs trained together', () => {
  it('each run of a pack has the curve it has alone, and continues from its checkpoint, as a pack or alone', () => {
    const dir = tmpDir();
    const packed = path.join(dir, 'packed.db');
    const alone = path.join(dir, 'alone.db');
    const r = cli(['run', tutorial(dir, 'p.ini', { epochs: 3, multiplicity: 3 }), packed, '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(cli(['run', tutorial(dir, 'a.ini', { epochs: 3, multiplicity: 3, packSize: 1 }), alone], dir).code).toBe(0);
    // packs take a fair share of what is pending among idle workers (18 runs, 2 workers: at most 9
    // each; fewer when one worker finished a pack before the other claimed), funnels and bricks of
    // every width together, padded to the widest
    const packSizes = facts(packed, 'backend_used').map((b) =>
      Number(/trained in a pack of (\d+)\)$/.exec(b)?.[1] ?? 1),
    );
    expect(packSizes).toHaveLength(18);
    expect(Math.max(...packSizes)).toBeLessThanOrEqual(9);
    expect(packSizes.filter((size) => size >= 5).length).toBeGreaterThanOrEqual(9);
    expect(facts(alone, 'backend_used').some((b) => /pack/.test(b))).toBe(false);
    expectSameCurves(histories(packed), histories(alone));
    // how a run was trained is bookkeeping: compare does not split groups by it
    const report = JSON.parse(cli(['compare', packed, '--at', 'width', '--format', 'json'], dir).stdout);
    expect(JSON.stringify(report.notes)).not.toContain('backend_used');
    expect(report.groups).toHaveLength(6);

    // Continued: runs 1-3 as a pack again, run 4 alone (its mates are done), from pack checkpoints.
    const config = path.join(dir, 'p.ini');
    expect(cli(['rerun', config, packed, '-id', '1-3', '-epochs', '2'], dir).code).toBe(0);
    expect(cli(['rerun', config, packed, '-id', '4', '-epochs', '2'], dir).code).toBe(0);
    expect(cli(['rerun', path.join(dir, 'a.ini'), alone, '-id', '1-4', '-epochs', '2'], dir).code).toBe(0);
    expect(facts(packed, 'backend_used')[3]).not.toMatch(/pack/);
    expectSameCurves(histories(packed), histories(alone));
  });

  it('kill -9 in the middle of a pack loses no finished epoch of any member, and resume continues each', async () => {
    const dir = tmpDir();
    const packed = path.join(dir, 'k.db');
    const alone = path.join(dir, 'a.db');
    const config = tutorial(dir, 'k.ini', { epochs: 100, multiplicity: 4, workers: 1 });
    const run = startCli(['run', config, packed, '--progress', 'lines'], dir);
    // killed once the pack's runs have finished an epoch or more, long before they end
    const until = Date.now() + 90_000;
    while (historyCount(packed) < 24) {
      if (Date.now() > until || run.child.exitCode !== null) throw new Error(`no epoch recorded:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    run.child.kill('SIGKILL');
    await run.done;
    const before = histories(packed);
    expect(before.length).toBeGreaterThanOrEqual(24);
    expect(before.length).toBeLessThan(24 * 100);
    // the killed scheduler's worker may still be finishing a step: resume waits for it
    const resume = cli(['resume', packed, '--progress', 'lines'], dir);
    expect(resume.code, resume.stdout + resume.stderr).toBe(0);
    expect(
      cli(['run', tutorial(dir, 'a.ini', { epochs: 100, multiplicity: 4, packSize: 1, workers: 2 }), alone], dir).code,
    ).toBe(0);
    const after = histories(packed);
    // every epoch once, nothing recorded before the kill changed
    expect(after.length).toBe(24 * 100);
    for (const b of before) expect(after.find((a) => a.run_id === b.run_id && a.epoch === b.epoch)).toEqual(b);
    expectSameCurves(after, histories(alone));
  });

  it('runs whose model cannot be packed train one by one, and the log says why once', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'f.db');
    // the fixture's model overrides forward(): Mosaic cannot batch what it does
    const config = fixtureConfig(dir, {
      models: faultyModel('2'),
      epochs: 2,
      monitor: 'nb_processus = 1\nmultiplicity = 3',
    });
    const r = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(r.code).toBe(0);
    const said = r.stdout.split('\n').filter((l) => l.includes('not as a pack'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /runs of one structure \(1, 2, 3\) train one by one, not as a pack: model class faulty \[faulty\] has a forward\(\) of its own/,
    );
    const d = openDb(db);
    expect(
      d
        .prepare(
          `SELECT status, COUNT(*) n, MAX(q.attempts) a FROM runs r JOIN mosaic_queue q USING (run_id) GROUP BY status`,
        )
        .all(),
    ).toEqual([{ status: 'done', n: 3, a: 1 }]);
    d.close();

    // A hook that changes the weights between epochs: packed, its changes would be lost.
    fs.writeFileSync(
      path.join(dir, 'hook.ini'),
      `[PROCESS]\nlr = 5e-2\nepochs = 3\ndata_scheme = data\npipeline_scheme = model\nloss_function = CrossEntropyLoss\nrun_files_path = runs\n\n[MONITOR]\nnb_processus = 1\nmultiplicity = 2\n\n` +
        `[three]\ntype = data\nclass = three_classes\npath_to_class = ${FIXTURES}/classes.ts\nkey = three\nbatch_size = 8\nonehot = False\n\n` +
        `[mlp]\ntype = model\nclass = clipped_mlp\npath_to_class = ${FIXTURES}/classes.ts\nkey = mlp\nwidth = 4\n`,
    );
    const hooked = cli(['run', path.join(dir, 'hook.ini'), path.join(dir, 'h.db'), '--progress', 'lines'], dir);
    expect(hooked.code, hooked.stdout).toBe(0);
    expect(hooked.stdout).toMatch(
      /train one by one, not as a pack: clipped_mlp has an epochEnd\(\) \(it may change the model or the data between epochs\)/,
    );
    expect(facts(path.join(dir, 'h.db'), 'backend_used').some((b) => /pack/.test(b))).toBe(false);
  });

  it('runs whose models have regularizers train alone, their penalties in the loss; weight_decay packs, each run decayed as alone', () => {
    const dir = tmpDir();
    const experiment = (file: string, l2: string, packSize: number) => {
      fs.writeFileSync(
        path.join(dir, file),
        `[PROCESS]\nlr = 5e-2\nepochs = 3\nseed = 7\ndata_scheme = data\npipeline_scheme = model\nloss_function = MSELoss\nrun_files_path = runs\n\n` +
          `[MONITOR]\nnb_processus = 1\nmultiplicity = 3\npack_size = ${packSize}\n\n` +
          `[or_data]\ntype = data\nclass = or_data\npath_to_class = ${FIXTURES}/or-data.mjs\nkey = or\nbatch_size = 4\nrepeats = 8\n\n` +
          `[mlp]\ntype = model\nclass = regularized_mlp\npath_to_class = ${FIXTURES}/classes.ts\nkey = mlp\nwidth = 3\nl2 = ${l2}\n`,
      );
      return path.join(dir, file);
    };
    const [regularized, alone, plain] = ['r.db', 'a.db', 'u.db'].map((f) => path.join(dir, f));
    const r = cli(['run', experiment('r.ini', '0.1', 64), regularized, '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /runs of one structure \(1, 2, 3\) train one by one, not as a pack: model class regularized_mlp \[mlp\] has a regularizer/,
    );
    expect(facts(regularized, 'backend_used').some((b) => /pack/.test(b))).toBe(false);
    expect(cli(['run', experiment('a.ini', '0.1', 1), alone], dir).code).toBe(0);
    expectSameCurves(histories(regularized), histories(alone));
    // The same runs (seeds, weights, data) without the regularizer pack, and their train loss has no penalty.
    expect(cli(['run', experiment('u.ini', '0', 64), plain], dir).code).toBe(0);
    expect(facts(plain, 'backend_used').every((b) => /trained in a pack of 3/.test(b))).toBe(true);
    const [withPenalty, without] = [histories(regularized), histories(plain)].map((h) =>
      h.filter((e) => e.epoch === 1),
    );
    withPenalty.forEach((h, i) => {
      expect(h.train_loss).toBeGreaterThan(without[i]!.train_loss + 0.05);
    });

    // Decoupled weight decay is element-wise: a pack decays each run as alone.
    const decayed = (file: string, decay: string, packSize: number) => {
      const config = tutorial(dir, file, { epochs: 3, multiplicity: 2, workers: 1, packSize });
      fs.writeFileSync(
        config,
        fs.readFileSync(config, 'utf8').replace('seed = 5', `seed = 5\nweight_decay = ${decay}`),
      );
      return config;
    };
    const [packedDecay, aloneDecay, noDecay] = ['pd.db', 'ad.db', 'nd.db'].map((f) => path.join(dir, f));
    expect(cli(['run', decayed('pd.ini', '0.5', 64), packedDecay], dir).code).toBe(0);
    expect(cli(['run', decayed('ad.ini', '0.5', 1), aloneDecay], dir).code).toBe(0);
    expect(cli(['run', decayed('nd.ini', '0', 64), noDecay], dir).code).toBe(0);
    expect(facts(packedDecay, 'backend_used').every((b) => /trained in a pack of 12/.test(b))).toBe(true);
    expect(facts(packedDecay, 'weight_decay')).toEqual(new Array(12).fill('0.5'));
    expectSameCurves(histories(packedDecay), histories(aloneDecay));
    expect(histories(packedDecay).map((h) => h.train_loss)).not.toEqual(histories(noDecay).map((h) => h.train_loss));
  });

  it('a classification pack (cross-entropy on logits, class-index or one-hot targets) has the curves of its runs trained one at a time', () => {
    const dir = tmpDir();
    const experiment = (file: string, onehot: boolean, packSize: number) => {
      fs.writeFileSync(
        path.join(dir, file),
        `[PROCESS]\nlr = 5e-2\nepochs = 4\nseed = 3\ndata_scheme = data\npipeline_scheme = model\nloss_function = CrossEntropyLoss\nrun_files_path = runs\n\n` +
          `[MONITOR]\nnb_processus = 1\nmultiplicity = 3\npack_size = ${packSize}\n\n` +
          `[three]\ntype = data\nclass = three_classes\npath_to_class = ${FIXTURES}/classes.ts\nkey = three\nbatch_size = 8\nonehot = ${onehot ? 'True' : 'False'}\n\n` +
          `[mlp]\ntype = model\nclass = mlp_classifier\npath_to_class = ${FIXTURES}/classes.ts\nkey = mlp\nwidth = {4-5}\n`,
      );
      return path.join(dir, file);
    };
    for (const onehot of [false, true]) {
      const [packed, alone] = [path.join(dir, `p${onehot}.db`), path.join(dir, `a${onehot}.db`)];
      expect(cli(['run', experiment('p.ini', onehot, 64), packed], dir).code).toBe(0);
      expect(cli(['run', experiment('a.ini', onehot, 1), alone], dir).code).toBe(0);
      expect(facts(packed, 'backend_used').every((b) => /trained in a pack of 6/.test(b))).toBe(true);
      expect(facts(alone, 'backend_used').some((b) => /pack/.test(b))).toBe(false);
      const [p, a] = [histories(packed), histories(alone)];
      expectSameCurves(p, a);
      // Three well-separated classes: the runs learn them.
      expect(
        p
          .filter((r) => r.epoch === 4)
          .every(
            (r) =>
              r.test_acc! > 0.9 && r.train_loss < p.find((q) => q.run_id === r.run_id && q.epoch === 1)!.train_loss,
          ),
      ).toBe(true);
    }
  });
});
