import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../../dist/config/load.js';
import { EpochMetrics, executeRun, initialRunInfo } from '../../dist/engine/run/run.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import type { ClaimedRun } from '../../dist/store/types.js';
import { cli, FIXTURES, rows, tmpDir } from '../support/helpers.js';

const RANDOM = `${FIXTURES}/random-models.ts`;
const worker = { id: 'w', pid: process.pid, host: 'h' };

/** A run's curve without its durations: what must be the same, bit for bit. */
type Curve = {
  epoch: number;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
}[];

function configText(o: {
  model: string;
  data?: string;
  backend?: string;
  epochs: number;
  multiplicity: number;
}): string {
  return `[PROCESS]
lr = 5e-2
epochs = ${o.epochs}
seed = 11
backend = ${o.backend ?? 'cpu'}
data_scheme = data
pipeline_scheme = model
loss_function = CrossEntropyLoss
run_files_path = runs
[MONITOR]
nb_processus = 1
multiplicity = ${o.multiplicity}
[points]
type = data
path_to_class = ${o.data ?? RANDOM}
key = points
batch_size = 8
${o.data ? 'class = three_classes\nonehot = False' : 'class = jittered_points'}
[net]
type = model
path_to_class = ${RANDOM}
key = net
${o.model}
`;
}

/** Runs of the config with the given seeds, queued in a new database (`db` in `dir`). */
async function queued(dir: string, db: string, text: string, seeds: number[]) {
  const config = parseConfig(text, path.join(dir, 'config.ini'));
  const runs = newRuns(config, generatePipelines(config));
  expect(runs).toHaveLength(seeds.length);
  runs.forEach((r, i) => {
    r.seed = seeds[i]!;
  });
  const store = openSqliteStore(path.join(dir, db), { create: true });
  await store.enqueue(runs);
  return store;
}

type Store = Awaited<ReturnType<typeof queued>>;

const curve = async (store: Store, runId: number): Promise<Curve> =>
  (await store.history(runId)).map(({ epoch, train_loss, test_loss, train_acc, test_acc }) => ({
    epoch,
    train_loss,
    test_loss,
    train_acc,
    test_acc,
  }));

/** Trains every queued run alone, in order; their curves. */
async function trainAlone(store: Store, count: number): Promise<Curve[]> {
  for (let i = 0; i < count; i++) {
    const [run] = await store.claimPack(worker, 1);
    expect(await executeRun(run!, { store })).toEqual({ status: 'done' });
  }
  return Promise.all(Array.from({ length: count }, (_, i) => curve(store, i + 1)));
}

describe('a run is a function of its config and seed', () => {
  it.each([
    ['cpu', 'dropout_net', 'class = dropout_net'],
    ['wasm', 'dropout_net', 'class = dropout_net'],
    ['wasm', 'noisy_net (tf.randomNormal in its forward)', 'class = noisy_net'],
  ])(
    '%s, %s: the same seed gives the same curve bit for bit, another seed another curve',
    async (backend, _name, model) => {
      const dir = tmpDir();
      const processRandom = Math.random;
      const store = await queued(dir, 'r.db', configText({ model, backend, epochs: 4, multiplicity: 3 }), [3, 3, 4]);
      const [a, b, c] = await trainAlone(store, 3);
      expect(a).toHaveLength(4);
      expect(b).toEqual(a);
      expect(c![3]!.train_loss).not.toBe(a![3]!.train_loss);
      // The process's own Math.random is back once the runs are over.
      expect(Math.random).toBe(processRandom);
      await store.close();
    },
  );

  it('draws something different with dropout on (the draws are not left out)', async () => {
    const dir = tmpDir();
    const store = await queued(
      dir,
      'r.db',
      configText({ model: 'class = dropout_net\nrate = 0, 0.3', epochs: 2, multiplicity: 1 }),
      [3, 3],
    );
    const [off, on] = await trainAlone(store, 2);
    expect(on![0]!.train_loss).not.toBe(off![0]!.train_loss);
    await store.close();
  });

  it('in separate worker processes (mosaic run into two databases): the same curves', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'config.ini');
    fs.writeFileSync(file, configText({ model: 'class = dropout_net', epochs: 3, multiplicity: 2 }));
    const dbs = ['one.db', 'two.db'].map((name) => path.join(dir, name));
    for (const db of dbs) {
      const r = cli(['run', file, db, '--progress', 'lines'], dir);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const [one, two] = dbs.map((db) =>
      rows(db, 'SELECT run_id, epoch, train_loss, test_loss, train_acc, test_acc FROM history ORDER BY run_id, epoch'),
    );
    expect(one).toHaveLength(6);
    expect(two).toEqual(one);
    // Two runs of one experiment have two seeds, so two curves.
    expect(one![2]!.train_loss).not.toBe(one![5]!.train_loss);
  });
});

describe('runInfo.random', () => {
  const runInfo = (seed: number) =>
    initialRunInfo(
      {
        spec: { process: { raw: {}, lr: 0.1 } },
        runId: 1,
        seed,
        epochsTarget: 1,
        runDir: '/none',
      } as unknown as ClaimedRun,
      undefined,
      new EpochMetrics(),
    );

  it("is seedrandom's alea seeded with the run's seed: the same sequence for the same seed, another for another", () => {
    const draws = (random: () => number) => Array.from({ length: 5 }, () => random());
    const five = draws(runInfo(5).random);
    expect(draws(runInfo(5).random)).toEqual(five);
    expect(draws(seedrandom.alea('5'))).toEqual(five);
    expect(draws(runInfo(6).random)).not.toEqual(five);
    for (const x of five) expect(x >= 0 && x < 1).toBe(true);
  });

  it('is documented in the README', () => {
    const readme = fs.readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toContain('runInfo.random()');
  });
});

describe("the generator's state goes with the checkpoint", () => {
  /** The checkpoint's JSON header, changed by `edit`, written back. */
  function editHeader(file: string, edit: (header: Record<string, unknown>) => void): void {
    const content = fs.readFileSync(file);
    const first = content.indexOf(10);
    const second = content.indexOf(10, first + 1);
    const header = JSON.parse(content.subarray(first + 1, second).toString()) as Record<string, unknown>;
    edit(header);
    fs.writeFileSync(
      file,
      Buffer.concat([
        content.subarray(0, first + 1),
        Buffer.from(`${JSON.stringify(header)}\n`),
        content.subarray(second + 1),
      ]),
    );
  }

  it('a run with dropout and augmented data continued from its checkpoint has the curve of one that never stopped', async () => {
    const dir = tmpDir();
    const text = (epochs: number) => configText({ model: 'class = dropout_net', epochs, multiplicity: 1 });
    const full = parseConfig(text(6), path.join(dir, 'config.ini'));
    const half = parseConfig(text(3), path.join(dir, 'config.ini'));
    const [straight] = newRuns(full, generatePipelines(full));
    const [stopped] = newRuns(half, generatePipelines(half));
    stopped!.seed = straight!.seed;
    const store = openSqliteStore(path.join(dir, 'c.db'), { create: true });
    await store.enqueue([straight!, stopped!]);
    const claim = async () => (await store.claimPack(worker, 1))[0]!;
    expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });
    expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });

    await store.extendRuns([2], 3);
    const again = await claim();
    const header = headerOf(path.join(again.runDir, 'epoch-3.ckpt'));
    expect(Object.keys(header.random as object).sort()).toEqual(['c', 's0', 's1', 's2']);
    expect(await executeRun(again, { store })).toEqual({ status: 'done' });
    const [a, b] = [await curve(store, 1), await curve(store, 2)];
    expect(b).toHaveLength(6);
    expect(b).toEqual(a);
    await store.close();
  });

  it("continues from a checkpoint written before the generator's state was kept in it; refuses a state that is not one", async () => {
    for (const [edit, outcome] of [
      [(h: Record<string, unknown>) => delete h.random, 'done'],
      [(h: Record<string, unknown>) => (h.random = { c: 'x' }), 'error'],
    ] as const) {
      const dir = tmpDir();
      const store = await queued(
        dir,
        'o.db',
        configText({ model: 'class = dropout_net', epochs: 2, multiplicity: 1 }),
        [5],
      );
      expect(await executeRun((await store.claimPack(worker, 1))[0]!, { store })).toEqual({ status: 'done' });
      await store.extendRuns([1], 2);
      const run = (await store.claimPack(worker, 1))[0]!;
      editHeader(path.join(run.runDir, 'epoch-2.ckpt'), edit);
      const result = await executeRun(run, { store });
      expect(result.status).toBe(outcome);
      if (outcome === 'done') expect(await store.history(1)).toHaveLength(4);
      else expect((result as { message: string }).message).toMatch(/epoch-2\.ckpt is not a whole Mosaic checkpoint/);
      await store.close();
    }
  });

  function headerOf(file: string): Record<string, unknown> {
    const content = fs.readFileSync(file);
    const first = content.indexOf(10);
    return JSON.parse(content.subarray(first + 1, content.indexOf(10, first + 1)).toString()) as Record<
      string,
      unknown
    >;
  }
});

describe('packs', () => {
  /** `mosaic run` of the config into `db` (in `dir`); its output. */
  function run(dir: string, db: string, text: string): string {
    const file = path.join(dir, `${db}.ini`);
    fs.writeFileSync(file, text);
    const r = cli(['run', file, path.join(dir, db), '--progress', 'lines'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.stdout;
  }
  const history = (db: string) =>
    rows(db, 'SELECT run_id, epoch, train_loss, test_loss, train_acc, test_acc FROM history ORDER BY run_id, epoch');

  it('a member draws what it draws alone (unseeded initialisers): the same curves packed and alone', () => {
    const dir = tmpDir();
    const text = (packSize: number) =>
      configText({
        model: 'class = unseeded_mlp\nwidth = 4',
        data: `${FIXTURES}/classes.ts`,
        epochs: 3,
        multiplicity: 3,
      }).replace('[MONITOR]', `[MONITOR]\npack_size = ${packSize}`);
    run(dir, 'packed.db', text(3));
    run(dir, 'alone.db', text(1));
    const used = (db: string) =>
      rows(path.join(dir, db), `SELECT param_value FROM params WHERE param_name = 'backend_used' ORDER BY run_id`).map(
        (r) => /trained in a pack of \d+/.exec(String(r.param_value))?.[0] ?? 'alone',
      );
    expect(used('packed.db')).toEqual(Array(3).fill('trained in a pack of 3'));
    expect(used('alone.db')).not.toContain('trained in a pack of 3');
    const packed = history(path.join(dir, 'packed.db'));
    expect(packed).toHaveLength(9);
    expect(packed).toEqual(history(path.join(dir, 'alone.db')));
    // Different seeds, different starting weights.
    expect(packed[0]!.train_loss).not.toBe(packed[3]!.train_loss);
  });

  it('a model with dropout is not packed: it trains alone, and says why', () => {
    const dir = tmpDir();
    const out = run(dir, 'd.db', configText({ model: 'class = dropout_net', epochs: 1, multiplicity: 2 }));
    expect(out).toMatch(/Dropout layer/);
    expect(history(path.join(dir, 'd.db'))).toHaveLength(2);
  });
});
