import type { LayersModel } from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../../dist/config/load.js';
import {
  dropSpareCheckpoint,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
} from '../../dist/engine/checkpoints/checkpoint.js';
import { executeRun } from '../../dist/engine/run/run.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { tfjs as tf } from '../../dist/tfjs/tfjs.js';
import { LayersModule } from '../../dist/user/layers-module.js';
import { cli, FIXTURES, rows, tmpDir, TUTORIAL, tutorialConfig } from '../support/helpers.js';

function config(dir: string, epochs: number) {
  const text = fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`)
    .replace('epochs = 400', `epochs = ${epochs}\nseed = 11`)
    .replace('data_size = 200', 'data_size = 40');
  return parseConfig(text, path.join(dir, 'config.ini'));
}

/** An experiment of one data and one model section of the fixture classes on wasm (seed 11, cross-entropy). */
function wasmConfig(dir: string, epochs: number, sections: string, process = '') {
  const text = `[PROCESS]
lr = 1e-2
${process}
epochs = ${epochs}
seed = 11
backend = wasm
data_scheme = data
pipeline_scheme = model
loss_function = CrossEntropyLoss
[MONITOR]
nb_processus = 1
${sections.replaceAll('CLASSES', `${FIXTURES}/classes.ts`)}`;
  return parseConfig(text, path.join(dir, 'config.ini'));
}

/** A small CNN on wasm, its Conv2D and Dense layers fused with their ReLU as the engine trains them. */
const cnnConfig = (dir: string, epochs: number) =>
  wasmConfig(
    dir,
    epochs,
    `[images]
type = data
class = tiny_images
path_to_class = CLASSES
key = images
batch_size = 6
[convnet]
type = model
class = convnet
path_to_class = CLASSES
key = cnn
`,
  );

/**
 * An MLP on wasm above FUSE_BELOW parameters (24,003), with decoupled weight decay: Adam steps each
 * variable in one SIMD pass (engine/optimizers/simd-adam.ts), its moments in the checkpoints.
 */
const wideMlpConfig = (dir: string, epochs: number) =>
  wasmConfig(
    dir,
    epochs,
    `[points]
type = data
class = three_classes
path_to_class = CLASSES
key = points
batch_size = 8
onehot = False
[mlp]
type = model
class = mlp_classifier
path_to_class = CLASSES
key = mlp
width = 4000
`,
    'weight_decay = 0.1',
  );

describe('continuing a run from its checkpoint', () => {
  it.each([
    ["the tutorial's MLP", config],
    ['a CNN on wasm, its layers fused', cnnConfig],
    ['an MLP on wasm above FUSE_BELOW, with weight decay (Adam in one SIMD pass)', wideMlpConfig],
  ])('gives exactly the curve of a run that never stopped: %s', async (_name, configOf) => {
    const dir = tmpDir();
    const store = openSqliteStore(path.join(dir, 'c.db'), { create: true });
    const worker = { id: 'w', pid: process.pid, host: 'h' };
    const full = configOf(dir, 6);
    const half = configOf(dir, 3);
    const [straight] = newRuns(full, generatePipelines(full));
    const [stopped] = newRuns(half, generatePipelines(half));
    stopped!.seed = straight!.seed;
    await store.enqueue([straight!, stopped!]);
    const claim = async () => (await store.claimPack(worker, 1))[0]!;

    expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });
    expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });
    expect(await store.history(2)).toHaveLength(3);

    // Continue run 2 for 3 more epochs, as a rerun or a resume does.
    await store.extendRuns([2], 3);
    const again = await claim();
    expect([again.runId, again.epochsDone, again.epochsTarget]).toEqual([2, 3, 6]);
    expect(await executeRun(again, { store })).toEqual({ status: 'done' });

    const a = await store.history(1);
    const b = await store.history(2);
    expect(b.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 6; i++) {
      expect(b[i]!.train_loss).toBe(a[i]!.train_loss);
      expect(b[i]!.test_loss).toBe(a[i]!.test_loss);
    }
    expect((await store.overview([2]))[0]!.results!.epochs).toBe(6);
    await store.close();
  });

  interface Group {
    name: string;
    specs: { name: string; shape: number[]; dtype: string }[];
    bytes: number;
    parameters?: (number | null)[];
  }

  /**
   * A checkpoint file's header and each group's specs and bytes, a LayersModule's weights that are
   * parameters (written once, in `parameters`) given back to its group, as older Mosaics wrote it.
   */
  function readWhole(file: string) {
    const content = fs.readFileSync(file);
    const first = content.indexOf(10);
    const second = content.indexOf(10, first + 1);
    const header = JSON.parse(content.subarray(first + 1, second).toString()) as { owner: unknown; groups: Group[] };
    // Each tensor's bytes by group (4-byte values only here).
    let offset = second + 1;
    const tensors = new Map<string, Buffer[]>();
    for (const g of header.groups) {
      tensors.set(
        g.name,
        g.specs.map((s) => {
          const n = 4 * s.shape.reduce((a, b) => a * b, 1);
          offset += n;
          return content.subarray(offset - n, offset);
        }),
      );
    }
    const parameters = header.groups.find((g) => g.name === 'parameters')!;
    const groups = header.groups.map((g) => {
      if (!g.parameters) return { name: g.name, specs: g.specs, bytes: Buffer.concat(tensors.get(g.name)!) };
      const [own, ownSpecs] = [[...tensors.get(g.name)!], [...g.specs]];
      return {
        name: g.name,
        specs: g.parameters.map((p, k) => ({
          ...(p === null ? ownSpecs.shift()! : parameters.specs[p]!),
          name: `w${k}`,
        })),
        bytes: Buffer.concat(g.parameters.map((p) => (p === null ? own.shift()! : tensors.get('parameters')![p]!))),
      };
    });
    return { header, groups };
  }

  /** A checkpoint file rewritten as the folder of files Mosaic wrote before the one-file format. */
  function asOlderFolder(file: string, modelClass: string): void {
    const { header, groups } = readWhole(file);
    const dir = file.replace(/\.ckpt$/, '');
    fs.mkdirSync(dir);
    for (const g of groups) {
      const base = g.name === 'model-0' ? `model-0-${modelClass}` : g.name;
      fs.writeFileSync(path.join(dir, g.name === 'model-0' ? `${base}.weights.bin` : `${base}.bin`), g.bytes);
      fs.writeFileSync(
        path.join(dir, `${base}.json`),
        JSON.stringify(g.name === 'model-0' ? { weightSpecs: g.specs } : g.specs),
      );
    }
    fs.writeFileSync(path.join(dir, 'owner.json'), JSON.stringify(header.owner));
    // The model's own files, when its class was saved by its saveModel (here, as vitest loads the
    // engine apart from the user's classes) rather than in the file.
    const files = file.replace(/\.ckpt$/, '.files');
    if (fs.existsSync(files))
      for (const f of fs.readdirSync(files)) fs.renameSync(path.join(files, f), path.join(dir, f));
    fs.rmSync(files, { recursive: true, force: true });
    fs.rmSync(file);
  }

  /** A checkpoint file rewritten as Mosaic wrote it when a LayersModule's group held every weight again. */
  function withWeightsTwice(file: string): void {
    const { header, groups } = readWhole(file);
    const head = { ...header, groups: groups.map((g) => ({ name: g.name, specs: g.specs, bytes: g.bytes.length })) };
    fs.writeFileSync(
      file,
      Buffer.concat([Buffer.from(`MOSAIC-CHECKPOINT 1\n${JSON.stringify(head)}\n`), ...groups.map((g) => g.bytes)]),
    );
  }

  it('continues from the checkpoint folder of an older Mosaic, and refuses a checkpoint file cut short', async () => {
    const dir = tmpDir();
    const store = openSqliteStore(path.join(dir, 'c.db'), { create: true });
    const worker = { id: 'w', pid: process.pid, host: 'h' };
    const [full, half] = [config(dir, 5), config(dir, 3)];
    const [straight] = newRuns(full, generatePipelines(full));
    const [older, cut] = [newRuns(half, generatePipelines(half))[0]!, newRuns(half, generatePipelines(half))[0]!];
    older.seed = cut.seed = straight!.seed;
    await store.enqueue([straight!, older, cut]);
    const claim = async () => (await store.claimPack(worker, 1))[0]!;
    for (let i = 0; i < 3; i++) expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });

    const runDir = async (id: number) => (await store.runDir(id))!;
    const modelClass = straight!.spec.modules[straight!.spec.dataCount]!.class;
    asOlderFolder(path.join(await runDir(2), 'epoch-3.ckpt'), modelClass);
    const file = path.join(await runDir(3), 'epoch-3.ckpt');
    fs.truncateSync(file, fs.statSync(file).size - 10);

    await store.extendRuns([2, 3], 2);
    expect(await executeRun(await claim(), { store })).toEqual({ status: 'done' });
    const [a, b] = [await store.history(1), await store.history(2)];
    expect(b.map((e) => [e.train_loss, e.test_loss])).toEqual(a.map((e) => [e.train_loss, e.test_loss]));

    const refused = await executeRun(await claim(), { store });
    expect(refused.status).toBe('error');
    expect(JSON.stringify(refused)).toMatch(
      /epoch-3\.ckpt is not a whole Mosaic checkpoint \(cut short, or written by something else\): refusing to continue from it/,
    );
    expect(await store.history(3)).toHaveLength(3);
    await store.close();
  });

  // In a worker the user's LayersModule is the engine's (in vitest it is not, and saves by saveModel):
  // its weights go in the checkpoint file itself.
  it("writes a LayersModule's trained weights once, and continues exactly from that file or one with them twice", () => {
    const dir = tmpDir();
    const curves = (db: string) =>
      rows(path.join(dir, db), 'SELECT run_id, epoch, train_loss, test_loss FROM history ORDER BY run_id, epoch');
    const configOf = (epochs: number) =>
      tutorialConfig(dir, { epochs: `${epochs}\nseed = 11`, multiplicity: '1', width: '2', data_size: '40' });
    expect(cli(['run', configOf(5), 'straight.db'], dir).code).toBe(0);
    const config = configOf(3);
    expect(cli(['run', config, 'stopped.db'], dir).code).toBe(0);

    const folder = fs.readdirSync(path.join(dir, '.runs')).find((f) => f.startsWith('stopped-'))!;
    const file = (run: number) => path.join(dir, '.runs', folder, `run_${run}`, 'epoch-3.ckpt');
    const written = readWhole(file(1)).header.groups;
    expect(written.map((g) => [g.name, g.name === 'model-0' ? g.bytes : 'bytes'])).toEqual([
      ['parameters', 'bytes'],
      ['optimizer', 'bytes'],
      ['model-0', 0],
    ]);
    expect(written[2]!.parameters).toEqual(written[0]!.specs.map((_, i) => i));
    withWeightsTwice(file(1));
    expect(readWhole(file(1)).header.groups[2]!.parameters).toBeUndefined();

    const r = cli(['rerun', config, 'stopped.db', '--id', 'all', '--epochs', '2'], dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const straight = curves('straight.db');
    expect(straight.length).toBeGreaterThan(5);
    expect(curves('stopped.db')).toEqual(straight);
  });

  it("keeps a LayersModule's weights that are not parameters (batch norm's moving statistics) in its group", async () => {
    class Net extends LayersModule {
      model: LayersModel;
      constructor(seed: number) {
        super();
        const init = { kernelInitializer: tf.initializers.glorotUniform({ seed }) };
        this.model = tf.sequential({
          layers: [
            tf.layers.dense({ units: 5, inputShape: [3], ...init }),
            tf.layers.batchNormalization({ movingMeanInitializer: tf.initializers.randomUniform({ seed }) }),
            tf.layers.dense({ units: 2, ...init }),
          ],
        });
      }
    }
    const dir = tmpDir();
    const owner = { storeId: 's', store: 'c.db', runId: 1 };
    const record = { epoch: 1, train_loss: 0.5, test_loss: 0.25, train_acc: null, test_acc: null, duration_s: 0 };
    const random = { c: 1, s0: 0.1, s1: 0.2, s2: 0.3 };
    const [saved, loaded] = [new Net(1), new Net(2)];
    const values = (m: Net) => m.model.weights.map((w) => Array.from(w.read().dataSync()));
    expect(values(loaded)).not.toEqual(values(saved));
    await saveCheckpoint(dir, owner, record, [saved], saved.parameters(), [], random);

    const groups = readWhole(path.join(dir, 'epoch-1.ckpt')).header.groups;
    // dense kernel and bias, gamma, beta (parameters) and the moving mean and variance (not)
    expect(groups[2]!.parameters).toEqual([0, 1, 2, 3, 4, 5, null, null]);
    expect(groups[2]!.specs.map((g) => g.shape)).toEqual([[5], [5]]);
    const state = await loadCheckpoint(dir, owner, record, [loaded], loaded.parameters(), { restore: async () => {} });
    expect(state).toEqual(random);
    expect(values(loaded)).toEqual(values(saved));

    // and so from a file whose group holds every weight, as Mosaic wrote it before
    const other = new Net(3);
    withWeightsTwice(path.join(dir, 'epoch-1.ckpt'));
    await loadCheckpoint(dir, owner, record, [other], other.parameters(), { restore: async () => {} });
    expect(values(other)).toEqual(values(saved));
    for (const m of [saved, loaded, other]) m.dispose();
  });

  it('writes a checkpoint over the one pruned before it (its spare file), whole whatever their sizes, and drops the spare at the end', async () => {
    const dir = tmpDir();
    const owner = { storeId: 's', store: 'c.db', runId: 1 };
    const random = { c: 1, s0: 0.1, s1: 0.2, s2: 0.3 };
    const record = (epoch: number) => ({
      epoch,
      train_loss: 1 / epoch,
      test_loss: 2 / epoch,
      train_acc: null,
      test_acc: null,
      duration_s: 0,
    });
    const listing = () => fs.readdirSync(dir).sort();
    const values = (size: number, epoch: number) => Float32Array.from({ length: size }, (_, i) => i * 0.5 + epoch);
    // Epoch 1 the larger: epoch 2 is written over its bytes, and must be no longer than its own.
    const sizes = [5000, 300, 300];
    for (const [k, size] of sizes.entries()) {
      const epoch = k + 1;
      const weights = [tf.tensor(values(size, epoch))];
      await saveCheckpoint(dir, owner, record(epoch), [], weights, [], random);
      tf.dispose(weights);
      await pruneCheckpoints(dir, owner, [epoch]);
      expect(listing()).toEqual([`epoch-${epoch}.ckpt`, 'owner.json', ...(epoch > 1 ? ['spare.ckpt.tmp'] : [])]);
    }
    // Epoch 3 written over epoch 2's bytes, epoch 2 (now the spare) over epoch 1's: each as a fresh file.
    const fresh = tmpDir();
    for (const epoch of [2, 3]) {
      const weights = [tf.tensor(values(300, epoch))];
      await saveCheckpoint(fresh, owner, record(epoch), [], weights, [], random);
      tf.dispose(weights);
    }
    expect(fs.readFileSync(path.join(dir, 'epoch-3.ckpt'))).toEqual(fs.readFileSync(path.join(fresh, 'epoch-3.ckpt')));
    expect(fs.readFileSync(path.join(dir, 'spare.ckpt.tmp'))).toEqual(
      fs.readFileSync(path.join(fresh, 'epoch-2.ckpt')),
    );
    const variable = tf.variable(tf.zeros([300]));
    await loadCheckpoint(dir, owner, record(3), [], [variable], { restore: async () => {} });
    expect(Array.from(variable.dataSync())).toEqual(Array.from(values(300, 3)));
    variable.dispose();

    // A folder this process did not write to keeps its spare; the run's own, at its end, not.
    const other = { ...owner, runId: 2 };
    dropSpareCheckpoint(dir, other);
    expect(listing()).toContain('spare.ckpt.tmp');
    dropSpareCheckpoint(dir, owner);
    expect(listing()).toEqual(['epoch-3.ckpt', 'owner.json']);
  });
});
