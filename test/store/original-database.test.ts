/**
 * A database written by the original Python Mosaic (`../shared/fixtures/original-tutorial.db`),
 * opened by the store: read as it is (its facts, statuses and results; no histories), never
 * written, refused to writers; and copied into a Mosaic store by `importRuns` on both backends.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MosaicError } from '../../src/core/errors.js';
import type { NewRun } from '../../src/core/run-spec.js';
import { openStore } from '../../src/store/open.js';
import type { ExperimentRecord, ImportedRun, StoreReader } from '../../src/store/types.js';
import { tmpDir } from '../support/helpers.js';
import { copyOriginal, originalRows, sha256, sqliteSideFiles } from '../support/original-db.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';

const EXPERIMENT: ExperimentRecord = {
  configFile: '/somewhere/original.db',
  configText: 'imported',
  configHash: 'h',
  userFiles: {},
  mosaicVersion: 'test',
  gitCommit: null,
};

const NEW_RUN: NewRun = {
  spec: {
    configDir: '/cfg',
    process: {
      lr: 0.01,
      epochs: 3,
      optimizer: 'adam',
      backend: 'auto',
      run_files_path: '/runs',
      data_scheme: [],
      pipeline_scheme: [],
      accuracy: 'auto',
      min_delta: 0,
      raw: {},
    },
    modules: [],
    dataCount: 0,
  },
  shortForm: 'p',
  seed: 1,
  facts: [],
};

/** What importRuns is given for an original: the reader's runs, facts and results, as `mosaic import` reads them. */
async function importedRuns(reader: StoreReader): Promise<ImportedRun[]> {
  const facts = await reader.allFacts();
  return (await reader.overview()).map((r) => {
    if (r.status === 'pending' || r.status === 'running') throw new Error(`run ${r.runId} is ${r.status}`);
    return {
      runId: r.runId,
      status: r.status,
      pipeline: r.pipeline,
      returnStatus: r.returnStatus,
      facts: facts.get(r.runId) ?? {},
      results: r.results,
    };
  });
}

describe("the original Mosaic's database", () => {
  let dir: string;
  let file: string;
  let before: string;
  beforeAll(() => {
    dir = tmpDir('mosaic-original-');
    file = copyOriginal(dir);
    before = sha256(file);
  });
  let server: PgServer | undefined;
  afterAll(async () => {
    await server?.destroy();
    expect(sha256(file)).toBe(before);
    expect(sqliteSideFiles(file)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("is read as it is: its statuses, facts and results, what it lacks said in the reader's notice", async () => {
    const reader = await openStore(file, 'read');
    try {
      expect(reader.notice).toMatch(/original Mosaic.*no per-epoch histories.*\.pt files.*mosaic import/);
      const { runs, facts, results } = originalRows(file);
      expect(runs).toHaveLength(18);
      expect(await reader.counts()).toMatchObject({ done: 18, running: 0, pending: 0, error: 0 });
      expect(await reader.allRunIds()).toEqual(runs.map((r) => r.run_id));
      const overview = await reader.overview();
      expect(overview.map((o) => [o.runId, o.status, o.pipeline])).toEqual(
        runs.map((r) => [r.run_id, r.status, r.pipeline]),
      );
      // The original's "train_loss=…\ttest_loss=…\texecution_time=…" of a run done is Mosaic's `ok`.
      expect(new Set(overview.map((o) => o.returnStatus))).toEqual(new Set(['ok']));
      for (const row of results) {
        const o = overview.find((x) => x.runId === row.run_id)!;
        expect(o.results).toMatchObject({
          train_loss: row.train_loss,
          test_loss: row.test_loss,
          train_acc: row.train_acc,
          test_acc: row.test_acc,
          nb_params: row.nb_params,
          duration_s: row['duration(s)'],
          epochs: row.epochs,
          overfit: row.overfit,
          trainability: row.trainability,
          slope: row.slope,
          // Columns the original's run_results lacks read as null.
          slope_std_plus: null,
          best_epoch: null,
        });
        expect(o.epochsDone).toBe(20);
        expect(o.epochsTarget).toBe(20);
      }
      const all = await reader.allFacts();
      expect(all).toEqual(facts);
      // The keys analysis groups by: `<type>_key` of the original's schemes.
      expect(all.get(1)).toMatchObject({
        data_scheme: 'dataset',
        pipeline_scheme: 'mlp',
        dataset_key: 'data_dataset_OR',
        mlp_key: 'mlp_mlp_funnel',
        mlp_funnel_width: '2',
      });
      expect(await reader.facts(10)).toEqual(facts.get(10));
      expect([...(await reader.histories([1, 2])).values()]).toEqual([[], []]);
      expect(await reader.openRuns()).toEqual([]);
      expect(
        await reader.queryRunIds(`SELECT run_id FROM params WHERE param_name = 'mlp_brick_width' AND param_value = 4`),
      ).toEqual([16, 17, 18]);
    } finally {
      await reader.close();
    }
  });

  it('is refused to writers, with the way to import it, and left as it was', async () => {
    for (const mode of ['write', 'create'] as const) {
      const opening = openStore(file, mode);
      await expect(opening).rejects.toThrow(MosaicError);
      await expect(opening).rejects.toThrow(/written by the original Mosaic .*never writes to it; `mosaic import/);
    }
    expect(sha256(file)).toBe(before);
  });

  const backends: { name: string; skip?: string; location: () => Promise<string> }[] = [];
  backends.push({ name: 'SQLite', location: async () => path.join(dir, `import-${Date.now()}.db`) });
  backends.push({
    name: 'PostgreSQL',
    ...(pgSkipReason ? { skip: pgSkipReason } : {}),
    location: async () => {
      server ??= await startPgServer();
      return server.freshDatabase();
    },
  });
  for (const backend of backends) {
    it.skipIf(backend.skip !== undefined)(
      `is copied into a ${backend.name} store with its ids, statuses, facts and results${backend.skip ? ` (skipped: ${backend.skip})` : ''}`,
      async () => {
        const reader = await openStore(file, 'read');
        const runs = await importedRuns(reader);
        const originalOverview = await reader.overview();
        const originalFacts = await reader.allFacts();
        await reader.close();
        const location = await backend.location();
        const store = await openStore(location, 'create');
        try {
          await store.importRuns(runs, EXPERIMENT);
          expect(store.notice).toBeUndefined();
          const overview = await store.overview();
          const strip = (o: (typeof overview)[number]) => ({
            runId: o.runId,
            status: o.status,
            pipeline: o.pipeline,
            returnStatus: o.returnStatus,
            results: o.results,
          });
          expect(overview.map(strip)).toEqual(originalOverview.map(strip));
          const facts = await store.allFacts();
          for (const [id, mine] of originalFacts) expect(facts.get(id)).toEqual({ ...mine, experiment: '1' });
          // Nothing to continue: no spec, no checkpoint.
          await expect(store.extendRuns([3, 4], 5)).rejects.toThrow(/runs 3-4 came from another database/);
          expect((await store.overview([3]))[0]!.status).toBe('done');
          // A second import into a store with runs is refused, nothing written.
          await expect(store.importRuns(runs, EXPERIMENT)).rejects.toThrow(/already holds 18 runs/);
          expect(await store.allRunIds()).toEqual(runs.map((r) => r.runId));
          // Runs queued later take ids after the imported ones.
          expect(await store.enqueue([NEW_RUN])).toEqual([19]);
        } finally {
          await store.close();
        }
      },
    );
  }
});
