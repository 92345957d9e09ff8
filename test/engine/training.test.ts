import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../../dist/config/load.js';
import { executeRun } from '../../dist/engine/run/run.js';
import { seededInitializers, trainTestBatches } from '../../dist/index.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import type { EpochRecord } from '../../dist/core/run-records.js';
import { cli, faultyModel, FIXTURES, fixtureConfig, openDb, tmpDir } from '../support/helpers.js';

const model = faultyModel('8');

describe('engine choices from the config', () => {
  it('sweeps backend and optimizer in [PROCESS]: cpu and wasm, adam and sgd all train', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'e.db');
    const config = fixtureConfig(dir, {
      models: model,
      epochs: 3,
      process: 'backend = cpu, wasm\noptimizer = adam, sgd',
    });
    const r = cli(['run', config, db], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const d = openDb(db);
    const rows = d
      .prepare(`SELECT r.pipeline, b.param_value backend, o.param_value optimizer, rr.train_loss, rr.nb_params FROM runs r
      JOIN params b ON b.run_id = r.run_id AND b.param_name = 'backend'
      JOIN params o ON o.run_id = r.run_id AND o.param_name = 'optimizer'
      JOIN run_results rr ON rr.run_id = r.run_id ORDER BY r.run_id`)
      .all() as Record<string, string & number>[];
    d.close();
    expect(rows.map((x) => [x.backend, x.optimizer])).toEqual([
      ['cpu', 'adam'],
      ['cpu', 'sgd'],
      ['wasm', 'adam'],
      ['wasm', 'sgd'],
    ]);
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
    const { test_loss, train_acc } = d.prepare(`SELECT test_loss, train_acc FROM run_results`).get() as {
      test_loss: number;
      train_acc: number;
    };
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

/** A checkpoint file's `parameters` group: the values of every trained variable, in parameters() order. */
function checkpointParameters(file: string): Float32Array[] {
  const content = fs.readFileSync(file);
  const first = content.indexOf(10);
  const second = content.indexOf(10, first + 1);
  const header = JSON.parse(content.subarray(first + 1, second).toString()) as {
    groups: { name: string; specs: { shape: number[]; dtype: string }[] }[];
  };
  expect(header.groups[0]!.name).toBe('parameters');
  let offset = second + 1;
  return header.groups[0]!.specs.map((s) => {
    expect(s.dtype).toBe('float32');
    const n = s.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(
      content.buffer.slice(content.byteOffset + offset, content.byteOffset + offset + 4 * n),
    );
    offset += 4 * n;
    return values;
  });
}

const LR = 0.05;

/** The OR gate (test/fixtures/or-data.mjs) and `regularized_mlp` (classes.ts), SGD, on cpu. */
function regularizedConfig(dir: string, o: { l2: string; epochs: number; process?: string }) {
  const text = `[PROCESS]
lr = ${LR}
epochs = ${o.epochs}
seed = 21
optimizer = sgd
backend = cpu
data_scheme = data
pipeline_scheme = model
loss_function = MSELoss
${o.process ?? ''}
[MONITOR]
nb_processus = 1
[or_data]
type = data
class = or_data
path_to_class = ${FIXTURES}/or-data.mjs
key = or
batch_size = 4
repeats = 16
[mlp]
type = model
class = regularized_mlp
path_to_class = ${FIXTURES}/classes.ts
key = mlp
width = 3
l2 = ${o.l2}
`;
  return parseConfig(text, path.join(dir, 'config.ini'));
}

/**
 * Trains every run of the config, all with the first's seed, by Mosaic's loop for a run alone
 * (executeRun, in this process, on a real SQLite file): each run's history and final parameters.
 */
async function trainAlone(
  dir: string,
  config: ReturnType<typeof parseConfig>,
): Promise<{ seed: number; history: EpochRecord[]; parameters: Float32Array[] }[]> {
  const store = openSqliteStore(path.join(dir, 'r.db'), { create: true });
  const worker = { id: 'w', pid: process.pid, host: 'h' };
  const runs = newRuns(config, generatePipelines(config));
  for (const r of runs) r.seed = runs[0]!.seed;
  await store.enqueue(runs);
  const out = [];
  try {
    for (let claims = await store.claimPack(worker, 1); claims.length > 0; claims = await store.claimPack(worker, 1)) {
      const run = claims[0]!;
      expect(await executeRun(run, { store })).toEqual({ status: 'done' });
      const history = await store.history(run.runId);
      out.push({
        seed: run.seed,
        history,
        parameters: checkpointParameters(path.join(run.runDir, `epoch-${history.length}.ckpt`)),
      });
    }
  } finally {
    await store.close();
  }
  return out;
}

/** The fixture's model and data, built here as the run builds them from its seed. */
function reference(seed: number, l2: number) {
  const init = seededInitializers(seed);
  const penalty = () => (l2 > 0 ? { kernelRegularizer: tf.regularizers.l2({ l2 }) } : {});
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 3, activation: 'tanh', inputShape: [2], kernelInitializer: init(), ...penalty() }),
      tf.layers.dense({ units: 1, kernelInitializer: init(), ...penalty() }),
    ],
  });
  const cases = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  const x = Array.from({ length: 16 }, () => cases).flat();
  const { train, test } = trainTestBatches(
    x,
    x.map(([a, b]) => [a! | b!]),
    { batchSize: 4, trainProportion: 0.75, seed },
  );
  return { model, train, test };
}

const maxDifference = (a: ArrayLike<number>[], b: ArrayLike<number>[]) =>
  Math.max(...a.flatMap((t, i) => Array.from(t, (v, k) => Math.abs(v - b[i]![k]!))));
const sumOfSquares = (ts: ArrayLike<number>[]) =>
  ts.reduce((s, t) => s + Array.from(t).reduce((u, v) => u + v * v, 0), 0);

describe('regularizers and weight decay', () => {
  it("a model's regularizers are minimised as model.fit minimises them: the same weights and train loss after the same SGD steps; the test loss has no penalty", async () => {
    const dir = tmpDir();
    const epochs = 3;
    const runs = await trainAlone(dir, regularizedConfig(dir, { l2: '0, 0.1', epochs }));
    expect(runs).toHaveLength(2);
    for (const [i, l2] of [0, 0.1].entries()) {
      const { seed, history, parameters } = runs[i]!;
      const { model, train, test } = reference(seed, l2);
      model.compile({ optimizer: tf.train.sgd(LR), loss: 'meanSquaredError' });
      const [xs, ys] = [tf.concat(train.map((b) => b.x)), tf.concat(train.map((b) => b.y))];
      const fitted = await model.fit(xs, ys, { epochs, batchSize: 4, shuffle: false, verbose: 0 });
      const weights = model.getWeights().map((w) => w.dataSync());
      expect(maxDifference(parameters, weights), `l2 = ${l2}`).toBeLessThan(1e-6);
      // train_loss is what fit reports (the penalty included); test_loss what evaluate gives (none)
      history.forEach((e, k) => {
        expect(e.train_loss).toBeCloseTo(fitted.history.loss![k] as number, 6);
      });
      const evaluated = model.evaluate(tf.concat(test.map((b) => b.x)), tf.concat(test.map((b) => b.y)), {
        batchSize: 4,
      }) as tf.Scalar;
      expect(history[epochs - 1]!.test_loss).toBeCloseTo(evaluated.dataSync()[0]!, 6);
      tf.dispose([xs, ys, evaluated, ...train.flatMap((b) => [b.x, b.y]), ...test.flatMap((b) => [b.x, b.y])]);
      model.dispose();
    }
    // The penalty changed the training: the same run without it ends elsewhere.
    expect(maxDifference(runs[0]!.parameters, runs[1]!.parameters)).toBeGreaterThan(1e-2);
  });

  it('a large l2 makes the kernels collapse', async () => {
    const dir = tmpDir();
    const [none, large] = await trainAlone(dir, regularizedConfig(dir, { l2: '0, 10', epochs: 2 }));
    // parameters: kernel, bias, kernel, bias
    const kernels = (p: Float32Array[]) => [p[0]!, p[2]!];
    expect(sumOfSquares(kernels(none!.parameters))).toBeGreaterThan(0.5);
    expect(sumOfSquares(kernels(large!.parameters))).toBeLessThan(1e-3 * sumOfSquares(kernels(none!.parameters)));
    // and the stored train loss carries the penalty: far above the unregularized run's
    expect(large!.history[0]!.train_loss).toBeGreaterThan(none!.history[0]!.train_loss + 1);
  });

  it('[PROCESS] weight_decay is validated and swept; SGD with decoupled decay gives the hand-computed weights', async () => {
    const dir = tmpDir();
    const swept = regularizedConfig(dir, { l2: '0', epochs: 2, process: 'weight_decay = 0, 0.5' });
    expect(swept.processVariants.map((p) => p.weight_decay)).toEqual([0, 0.5]);
    expect(swept.sweptProcessKeys).toEqual(['weight_decay']);
    expect(generatePipelines(swept)).toHaveLength(2);
    expect(regularizedConfig(dir, { l2: '0', epochs: 2 }).processVariants[0]!.weight_decay).toBeUndefined();
    expect(() => regularizedConfig(dir, { l2: '0', epochs: 2, process: 'weight_decay = -1' })).toThrow(
      /weight_decay.*must be a number >= 0, found "-1"/,
    );
    expect(() => regularizedConfig(dir, { l2: '0', epochs: 2, process: 'weight_decay = lots' })).toThrow(
      /weight_decay/,
    );

    const runs = await trainAlone(dir, swept);
    for (const [i, decay] of [0, 0.5].entries()) {
      const { seed, parameters } = runs[i]!;
      const { model, train, test } = reference(seed, 0);
      // By hand: w ← w·(1 − lr·weight_decay) − lr·∇loss(w), the gradient at the weights before the decay.
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let w = vars.map((v) => Float64Array.from(v.dataSync()));
      for (let epoch = 0; epoch < 2; epoch++) {
        for (const b of train) {
          vars.forEach((v, k) => {
            v.assign(tf.tensor(Float32Array.from(w[k]!), v.shape));
          });
          const { value, grads } = tf.variableGrads(
            () => tf.losses.meanSquaredError(b.y, model.apply(b.x) as tf.Tensor) as tf.Scalar,
            vars,
          );
          w = vars.map((v, k) => {
            const g = grads[v.name]!.dataSync();
            return w[k]!.map((x, j) => x * (1 - LR * decay) - LR * g[j]!);
          });
          tf.dispose([value, ...Object.values(grads)]);
        }
      }
      expect(maxDifference(parameters, w), `weight_decay = ${decay}`).toBeLessThan(1e-6);
      tf.dispose([...train.flatMap((b) => [b.x, b.y]), ...test.flatMap((b) => [b.x, b.y])]);
      model.dispose();
    }
    expect(maxDifference(runs[0]!.parameters, runs[1]!.parameters)).toBeGreaterThan(1e-2);
    expect(sumOfSquares(runs[1]!.parameters)).toBeLessThan(sumOfSquares(runs[0]!.parameters));
  });
});
