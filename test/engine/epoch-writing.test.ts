import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// The built engine: user classes resolve `mosaic-ml` to dist/index.js, as in a worker.
import { parseConfig } from '../../dist/config/load.js';
import { executeRun } from '../../dist/engine/run/run.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { slowSteps } from '../fixtures/classes.js';
import { classesConfig, tmpDir } from '../support/helpers.js';

// Every finished epoch survives a kill: its checkpoint, then its row, are written before the next
// epoch's first step (writing them while the next epoch trains would leave a finished epoch to
// a kill in its first steps).

describe("an epoch's end", () => {
  it('stores the epoch (checkpoint, then row) before the next epoch takes a step', async () => {
    const dir = tmpDir();
    const file = classesConfig(dir, { modelClass: 'slow_classifier', model: 'step_ms = 1' });
    const config = parseConfig(fs.readFileSync(file, 'utf8'), file);
    const store = openSqliteStore(path.join(dir, 'w.db'), { create: true });
    await store.enqueue(newRuns(config, generatePipelines(config)));
    const [run] = await store.claimPack({ id: 'w', pid: process.pid, host: 'h' }, 1);
    const stored: { epoch: number; at: number }[] = [];
    const outcome = await executeRun(run!, {
      store,
      // Called once the epoch's row is stored.
      onEpoch: (p) => stored.push({ epoch: p.epoch, at: performance.now() }),
    });
    expect(outcome).toEqual({ status: 'done' });
    expect((await store.history(run!.runId)).map((e) => e.epoch)).toEqual([1, 2, 3]);
    const steps = slowSteps();
    const firstStepOf = (epoch: number) => Math.min(...steps.filter((s) => s.epoch === epoch).map((s) => s.at));
    const lastStepOf = (epoch: number) => Math.max(...steps.filter((s) => s.epoch === epoch).map((s) => s.at));
    for (const epoch of [1, 2]) {
      const at = stored.find((s) => s.epoch === epoch)!.at;
      expect(at).toBeGreaterThan(lastStepOf(epoch));
      expect(at).toBeLessThan(firstStepOf(epoch + 1));
    }
    await store.close();
  });
});
