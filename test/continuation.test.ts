import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../dist/config/load.js';
import { executeRun } from '../dist/engine/run.js';
import { newRuns } from '../dist/pipelines/facts.js';
import { generatePipelines } from '../dist/pipelines/generate.js';
import { openSqliteStore } from '../dist/store/sqlite.js';
import { tmpDir, TUTORIAL } from './helpers.js';

function config(dir: string, epochs: number) {
  const text = fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`)
    .replace('epochs = 400', `epochs = ${epochs}\nseed = 11`)
    .replace('data_size = 200', 'data_size = 40');
  return parseConfig(text, path.join(dir, 'config.ini'));
}

describe('continuing a run from its checkpoint', () => {
  it('gives exactly the curve of a run that never stopped', async () => {
    const dir = tmpDir();
    const store = openSqliteStore(path.join(dir, 'c.db'), { create: true });
    const worker = { id: 'w', pid: process.pid, host: 'h' };
    const full = config(dir, 6);
    const half = config(dir, 3);
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
});
