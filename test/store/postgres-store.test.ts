/**
 * What only the PostgreSQL store must show, on a real server: a worker keeps recording across a
 * server restart without losing or doubling an epoch, and a password given in the URL never
 * reaches the database, the checkpoints' owner or a message.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewRun, ProcessSettings } from '../../src/core/run-spec.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';

const PROCESS = {
  lr: 0.01,
  epochs: 30,
  optimizer: 'adam',
  backend: 'auto',
  run_files_path: '/runs',
  data_scheme: [],
  pipeline_scheme: [],
  accuracy: 'auto',
  min_delta: 0,
  raw: {},
} satisfies ProcessSettings;
const RUN: NewRun = {
  spec: { configDir: '/cfg', process: PROCESS, modules: [], dataCount: 0 },
  shortForm: 'p',
  seed: 1,
  facts: [['lr', '0.01']],
};
const epoch = (n: number) => ({
  epoch: n,
  train_loss: 1 / n,
  test_loss: 1 / n,
  train_acc: null,
  test_acc: null,
  duration_s: 0.1,
});

describe.skipIf(pgSkipReason !== undefined)(
  `PostgreSQL store${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`,
  () => {
    let server: PgServer;
    beforeAll(async () => {
      server = await startPgServer();
    });
    afterAll(async () => {
      await server?.destroy();
    });

    it('records every epoch exactly once while the server restarts under a worker', async () => {
      const store = await openPostgresStore(await server.freshDatabase(), { create: true, reconnectSeconds: 30 });
      await store.enqueue([RUN]);
      const [run] = await store.claimPack({ id: 'w1', pid: process.pid, host: 'h' }, 1);
      const claim = { runId: run!.runId, workerId: 'w1' };
      const recording = (async () => {
        for (let n = 1; n <= 30; n++) {
          await store.recordEpoch(claim, epoch(n), [{ name: 'm', value: n, better: 'higher' }]);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await new Promise((r) => setTimeout(r, 150));
      await server.restart();
      await recording;
      expect((await store.history(claim.runId)).map((e) => e.epoch)).toEqual(
        Array.from({ length: 30 }, (_, i) => i + 1),
      );
      expect((await store.overview())[0]!.metrics).toEqual({ m: 30 });
      await store.close();
    });

    it('keeps the password out of the database, the checkpoint owner and the run folders', async () => {
      const url = await server.freshDatabase();
      const secret = 'CorrectHorse9';
      const store = await openPostgresStore(url.replace('mosaic@', `mosaic:${secret}@`), { create: true });
      expect(store.location).toBe(url);
      await store.enqueue([RUN]);
      const [run] = await store.claimPack({ id: 'w1', pid: process.pid, host: 'h' }, 1);
      expect(JSON.stringify(run)).not.toContain(secret);
      expect(run!.owner.store).toBe(url);
      expect(run!.runDir).toMatch(new RegExp(`^/runs/${url.replace(/.*\//, '')}-[0-9a-f]{8}/run_1$`));
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const tables = ['system', 'params', 'runs', 'mosaic_queue', 'mosaic_experiments'];
      const dump = (
        await Promise.all(tables.map(async (t) => JSON.stringify((await client.query(`SELECT * FROM ${t}`)).rows)))
      ).join('\n');
      await client.end();
      expect(dump).toContain('run_1');
      expect(dump).not.toContain(secret);
    });
  },
);
