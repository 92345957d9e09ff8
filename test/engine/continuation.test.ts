import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../../dist/config/load.js';
import { executeRun } from '../../dist/engine/run/run.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { FIXTURES, tmpDir, TUTORIAL } from '../support/helpers.js';

function config(dir: string, epochs: number) {
  const text = fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`)
    .replace('epochs = 400', `epochs = ${epochs}\nseed = 11`)
    .replace('data_size = 200', 'data_size = 40');
  return parseConfig(text, path.join(dir, 'config.ini'));
}

/** A small CNN on wasm, its Conv2D and Dense layers fused with their ReLU as the engine trains them. */
function cnnConfig(dir: string, epochs: number) {
  const text = `[PROCESS]
lr = 1e-2
epochs = ${epochs}
seed = 11
backend = wasm
data_scheme = data
pipeline_scheme = model
loss_function = CrossEntropyLoss
[MONITOR]
nb_processus = 1
[images]
type = data
class = tiny_images
path_to_class = ${FIXTURES}/classes.ts
key = images
batch_size = 6
[convnet]
type = model
class = convnet
path_to_class = ${FIXTURES}/classes.ts
key = cnn
`;
  return parseConfig(text, path.join(dir, 'config.ini'));
}

describe('continuing a run from its checkpoint', () => {
  it.each([
    ["the tutorial's MLP", config],
    ['a CNN on wasm, its layers fused', cnnConfig],
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

  /** A checkpoint file rewritten as the folder of files Mosaic wrote before the one-file format. */
  function asOlderFolder(file: string, modelClass: string): void {
    const content = fs.readFileSync(file);
    const first = content.indexOf(10);
    const second = content.indexOf(10, first + 1);
    const header = JSON.parse(content.subarray(first + 1, second).toString()) as {
      owner: unknown;
      groups: { name: string; specs: unknown[]; bytes: number }[];
    };
    const dir = file.replace(/\.ckpt$/, '');
    fs.mkdirSync(dir);
    let offset = second + 1;
    for (const g of header.groups) {
      const bytes = content.subarray(offset, offset + g.bytes);
      offset += g.bytes;
      const base = g.name === 'model-0' ? `model-0-${modelClass}` : g.name;
      fs.writeFileSync(path.join(dir, g.name === 'model-0' ? `${base}.weights.bin` : `${base}.bin`), bytes);
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
});
