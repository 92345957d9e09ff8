/**
 * One contract for every store backend, run against a real SQLite file and a real PostgreSQL
 * server (a fresh database per test): the queue, the claim rule, recording, the admin commands,
 * the user's SQL, the copy and the schema checks. Concurrency runs in separate processes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessSettings } from '../../src/core/run-spec.js';
import { ClaimLostError } from '../../src/store/errors.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Claim, ClaimedRun, RaceRoundRecord, Store, WorkerIdentity } from '../../src/store/types.js';
import type { EpochRecord } from '../../src/core/run-records.js';
import type { RunResults } from '../../src/core/result-fields.js';
import { packKey, type NewRun, type RunSpec } from '../../src/core/run-spec.js';
import { FIXTURES, tmpDir } from '../support/helpers.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';

interface StoreBackend {
  name: string;
  /** Why the backend cannot be tested here; undefined when it can. */
  skip?: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Where a new database can be made (not made yet). */
  newLocation(): Promise<string>;
  open(location: string, options: { create: boolean; readonly?: boolean }): Promise<Store>;
  /** Runs SQL on the database behind the store's back: what no command may do, for the schema checks. */
  rawSql(location: string, sql: string): Promise<void>;
}

function sqliteBackend(): StoreBackend {
  let dir = '';
  let n = 0;
  return {
    name: 'SQLite',
    async setup() {
      dir = tmpDir('mosaic-contract-');
    },
    async teardown() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async newLocation() {
      return path.join(dir, `db${++n}.db`);
    },
    open: async (location, options) => openSqliteStore(location, options),
    async rawSql(location, sql) {
      const db = new Database(location);
      db.exec(sql);
      db.close();
    },
  };
}

function postgresBackend(): StoreBackend {
  let server: PgServer | undefined;
  return {
    name: 'PostgreSQL',
    skip: pgSkipReason,
    async setup() {
      server = await startPgServer();
    },
    async teardown() {
      await server?.destroy();
    },
    newLocation: () => server!.freshDatabase(),
    open: (location, options) => openPostgresStore(location, options),
    async rawSql(location, sql) {
      const client = new pg.Client({ connectionString: location });
      await client.connect();
      await client.query(sql);
      await client.end();
    },
  };
}

const PROCESS = {
  lr: 0.01,
  epochs: 3,
  optimizer: 'adam',
  backend: 'auto',
  run_files_path: '/runs',
  data_scheme: ['data'],
  pipeline_scheme: ['model'],
  accuracy: 'auto',
  min_delta: 0,
  raw: {},
} satisfies ProcessSettings;

function spec(variant: string, process: Partial<ProcessSettings> = {}): RunSpec {
  return {
    configDir: '/cfg',
    process: { ...PROCESS, ...process },
    modules: [
      { type: 'data', class: 'Data', path_to_class: 'data.ts', key: 'd', name: 'data' },
      { type: 'model', class: `Model${variant}`, path_to_class: 'model.ts', key: 'm', name: 'model', width: variant },
    ],
    dataCount: 1,
  };
}

const SPEC_A = spec('A');
const SPEC_B = { ...spec('B'), modules: [spec('B').modules[0]!, { ...spec('B').modules[1]!, type: 'other' }] };

function runs(n: number, runSpec = SPEC_A, firstSeed = 1): NewRun[] {
  return Array.from({ length: n }, (_, i) => ({
    spec: runSpec,
    shortForm: `pipe${i}`,
    seed: firstSeed + i,
    facts: [
      ['lr', '0.01'],
      ['model_key', `m${i % 2}`],
    ],
  }));
}

const worker = (id: string, pid = 4242): WorkerIdentity => ({ id, pid, host: 'test-host' });
const claimOf = (run: ClaimedRun, workerId: string): Claim => ({ runId: run.runId, workerId });

const epoch = (n: number, loss = 1 / n): EpochRecord => ({
  epoch: n,
  train_loss: loss,
  test_loss: loss * 1.1,
  train_acc: 0.5,
  test_acc: null,
  duration_s: 0.25,
});

const RESULTS: RunResults = {
  train_loss: 0.2,
  test_loss: 0.3,
  train_acc: 0.9,
  test_acc: 0.8,
  nb_params: 12345678901,
  duration_s: 1.5,
  epochs: 3,
  overfit: 0.1,
  trainability: 0.7,
  slope: -0.01,
  slope_std_plus: 0.001,
  slope_std_minus: 0.002,
  best_test_loss: 0.25,
  best_epoch: 2,
};

/** Starts `count` processes that open the database, then, all at once, do `mode`; their answers. */
async function inChildren(
  mode: 'claim' | 'enqueue' | 'race',
  location: string,
  count: number,
  args: (i: number) => string[],
): Promise<{ ids: number[]; ms: number }[]> {
  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, [path.join(FIXTURES, 'store-child.mjs'), mode, location, `w${i}`, ...args(i)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const outputs = children.map((child) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      const check = () => (out.startsWith('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
      child.on('exit', () => reject(new Error(`child exited before ready: ${err}`)));
    });
    const done = new Promise<{ ids: number[]; ms: number }>((resolve, reject) => {
      child.on('close', (code) =>
        code === 0
          ? resolve(JSON.parse(out.split('\n')[1]!) as { ids: number[]; ms: number })
          : reject(new Error(`child failed (${code}): ${err}`)),
      );
    });
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  // Closing stdin is the signal, and lets the children end when done.
  for (const child of children) child.stdin.end('go\n');
  return Promise.all(outputs.map((o) => o.done));
}

function storeContract(backend: StoreBackend): void {
  describe.skipIf(backend.skip !== undefined)(
    `${backend.name} store${backend.skip ? ` (skipped: ${backend.skip})` : ''}`,
    () => {
      const open: Store[] = [];
      let location = '';
      let store: Store;

      beforeAll(() => backend.setup());
      afterAll(() => backend.teardown());
      afterEach(async () => {
        await Promise.all(open.splice(0).map((s) => s.close()));
      });

      const openStore = async (where: string, options: { create: boolean; readonly?: boolean }) => {
        const s = await backend.open(where, options);
        open.push(s);
        return s;
      };
      const fresh = async () => {
        location = await backend.newLocation();
        store = await openStore(location, { create: true });
        return store;
      };

      it('enqueues runs with consecutive ids, their facts, seeds and experiment', async () => {
        await fresh();
        const experiment = {
          configFile: 'c.ini',
          configText: '[PROCESS]',
          configHash: 'h',
          userFiles: { 'm.ts': 'abc' },
          mosaicVersion: '0.1.0',
          gitCommit: null,
        };
        expect(await store.enqueue(runs(3), experiment)).toEqual([1, 2, 3]);
        expect(await store.enqueue(runs(2, SPEC_A, 10))).toEqual([4, 5]);
        expect(await store.allRunIds()).toEqual([1, 2, 3, 4, 5]);
        expect(await store.facts(2)).toEqual({
          lr: '0.01',
          model_key: 'm1',
          status: 'pending',
          experiment: expect.stringMatching(/^\d+$/),
        });
        expect((await store.facts(4)).experiment).toBeUndefined();
        expect([...(await store.usedSeeds())].sort((a, b) => a - b)).toEqual([1, 2, 3, 10, 11]);
        expect(await store.counts()).toMatchObject({ pending: 5, running: 0, done: 0 });
        expect((await store.identity()).store).toBe(location);
        expect(await store.integrityCheck()).toBe('ok');
      });

      it('claims the lowest pending run, with everything a worker needs', async () => {
        await fresh();
        await store.enqueue(runs(3));
        const [run, ...more] = await store.claimPack(worker('w1'), 1);
        expect(more).toEqual([]);
        expect(run).toMatchObject({
          runId: 1,
          seed: 1,
          shortForm: 'pipe0',
          epochsDone: 0,
          epochsTarget: 3,
          spec: SPEC_A,
        });
        expect(run!.runDir).toMatch(/run_1$/);
        expect(run!.owner).toEqual({ ...(await store.identity()), runId: 1 });
        expect((await store.claimPack(worker('w2'), 1))[0]!.runId).toBe(2);
        expect(await store.counts()).toMatchObject({ pending: 1, running: 2 });
        expect(await store.busyWorkers()).toBe(2);
        expect(await store.runningClaims()).toEqual([
          { host: 'test-host', pid: 4242 },
          { host: 'test-host', pid: 4242 },
        ]);
        expect((await store.facts(1)).status).toBe('running');
      });

      it('packs runs of one pack key, at one epoch and target, up to the limit', async () => {
        await fresh();
        // ids 1..6: A B A B A(10 epochs) A
        await store.enqueue([
          ...runs(1),
          ...runs(1, SPEC_B),
          ...runs(1),
          ...runs(1, SPEC_B),
          ...runs(1, spec('A', { epochs: 10 })),
          ...runs(1),
        ]);
        const pack = await store.claimPack(worker('w1'), 4);
        expect(pack.map((r) => r.runId)).toEqual([1, 3, 6]);
        const two = await store.claimPack(worker('w2'), 2);
        expect(two.map((r) => r.runId)).toEqual([2, 4]);
        expect((await store.claimPack(worker('w3'), 2)).map((r) => r.runId)).toEqual([5]);
        expect(await store.claimPack(worker('w4'), 2)).toEqual([]);
      });

      it('takes a run the worker cannot pack by itself', async () => {
        await fresh();
        await store.enqueue([...runs(1, SPEC_B), ...runs(3)]);
        const seen: string[] = [];
        const aloneA = (r: Pick<ClaimedRun, 'packKey' | 'spec'>) => {
          seen.push(r.spec.modules[1]!.width!);
          return r.packKey === packKey(SPEC_A);
        };
        const [b] = await store.claimPack(worker('w1'), 4, aloneA);
        expect(b!.runId).toBe(1);
        const [a, ...none] = await store.claimPack(worker('w1'), 4, aloneA);
        expect([a!.runId, a!.packKey, none]).toEqual([2, packKey(SPEC_A), []]);
        // the predicate is asked about the lowest pending run, with its spec
        expect(seen).toEqual(['B', 'A']);
        const aloneB = (r: Pick<ClaimedRun, 'packKey'>) => r.packKey === b!.packKey;
        expect((await store.claimPack(worker('w2'), 4, aloneB)).map((r) => r.runId)).toEqual([3, 4]);
      });

      it('knows the live workers of every host, and which of them hold no run', async () => {
        await fresh();
        await store.enqueue(runs(3));
        expect(await store.idleWorkers(60)).toBe(0);
        await store.markWorkerAlive(worker('w1'));
        await store.markWorkerAlive({ ...worker('w2'), host: 'other-host' });
        await store.markWorkerAlive(worker('w3'));
        await store.markWorkerAlive(worker('w3')); // again: still one worker
        expect(await store.idleWorkers(60)).toBe(3);
        await store.claimPack(worker('w1'), 1);
        expect(await store.idleWorkers(60)).toBe(2);
        await store.forgetWorker('w3');
        expect(await store.idleWorkers(60)).toBe(1);
        // seen more than a second ago (by the database's clock): no longer live, until marked again
        await new Promise((r) => setTimeout(r, 1300));
        expect(await store.idleWorkers(1)).toBe(0);
        await store.markWorkerAlive({ ...worker('w2'), host: 'other-host' });
        expect(await store.idleWorkers(1)).toBe(1);
      });

      it('tells how long each running run has been silent, and its host, by the database clock', async () => {
        await fresh();
        await store.enqueue(runs(3));
        const [a] = await store.claimPack(worker('w1'), 1);
        await store.claimPack({ ...worker('w2'), host: 'node-b' }, 1);
        await new Promise((r) => setTimeout(r, 1300));
        await store.heartbeat([claimOf(a!, 'w1')]);
        const open = await store.openRuns();
        expect(open.map((o) => [o.runId, o.status, o.host])).toEqual([
          [1, 'running', 'test-host'],
          [2, 'running', 'node-b'],
          [3, 'pending', null],
        ]);
        expect(open[0]!.silentSeconds).toBeLessThan(1);
        expect(open[1]!.silentSeconds).toBeGreaterThan(1.2);
        expect(open[1]!.silentSeconds).toBeLessThan(30);
        expect(open[2]!.silentSeconds).toBeNull();
      });

      it('does not pack runs at different epochs', async () => {
        await fresh();
        await store.enqueue(runs(3));
        const [first] = await store.claimPack(worker('w1'), 1);
        await store.recordEpoch(claimOf(first!, 'w1'), epoch(1));
        await store.releaseRuns([claimOf(first!, 'w1')]);
        const pack = await store.claimPack(worker('w2'), 3);
        expect(pack.map((r) => [r.runId, r.epochsDone])).toEqual([[1, 1]]);
        expect((await store.claimPack(worker('w3'), 3)).map((r) => [r.runId, r.epochsDone])).toEqual([
          [2, 0],
          [3, 0],
        ]);
      });

      it('releases claimed runs without counting the claim; a non-holder cannot release', async () => {
        await fresh();
        await store.enqueue(runs(1));
        for (let i = 0; i < 2; i++) {
          const [run] = await store.claimPack(worker('w1'), 1);
          await store.releaseRuns([claimOf(run!, 'w1')]);
          expect(await store.counts()).toMatchObject({ pending: 1, running: 0 });
        }
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.releaseRuns([claimOf(run!, 'intruder')]);
        expect(await store.counts()).toMatchObject({ running: 1 });
        // Claimed three times, two of them given back: one attempt, which one retry allows.
        expect(await store.releaseRunsOfDeadWorker('w1', 'worker died', 1)).toEqual({ failed: [], retried: [1] });
        await store.claimPack(worker('w2'), 1);
        expect(await store.releaseRunsOfDeadWorker('w2', 'worker died again', 1)).toEqual({ failed: [1], retried: [] });
        const [overview] = await store.overview([1]);
        expect(overview).toMatchObject({
          status: 'failed',
          returnStatus: 'worker died again',
          lastFailure: { status: 'failed', attempt: 2, message: 'worker died again' },
        });
      });

      it('lets the holder record epochs, metrics, facts and results', async () => {
        await fresh();
        await store.enqueue(runs(2));
        const [run] = await store.claimPack(worker('w1'), 1);
        const claim = claimOf(run!, 'w1');
        for (const n of [1, 2, 3])
          await store.recordEpoch(claim, epoch(n), [
            { name: 'f1', value: n / 10, better: 'higher' },
            { name: 'bad', value: Number.NaN, better: 'lower' },
          ]);
        await store.recordFacts(claim, { backend: 'wasm' });
        await store.finishRun(claim, RESULTS, 'early stop at 3');
        expect(await store.history(1)).toEqual([epoch(1), epoch(2), epoch(3)]);
        expect((await store.histories([1, 2])).get(1)).toEqual([epoch(1), epoch(2), epoch(3)]);
        expect((await store.histories([1, 2])).get(2)).toEqual([]);
        expect(await store.metricDirections()).toEqual({ f1: 'higher', bad: 'lower' });
        const [overview] = await store.overview([1]);
        expect(overview).toMatchObject({
          status: 'done',
          returnStatus: 'early stop at 3',
          epochsDone: 3,
          epochsTarget: 3,
          results: RESULTS,
          metrics: { f1: 0.3, bad: null },
          lastFailure: null,
        });
        expect((await store.overview([2, 99])).map((o) => [o.runId, o.status, o.metrics])).toEqual([
          [2, 'pending', {}],
        ]);
        expect((await store.overview()).map((o) => o.runId)).toEqual([1, 2]);
        expect(await store.facts(1)).toMatchObject({ status: 'done', epochs: '3', backend: 'wasm' });
        expect((await store.allFacts()).get(1)).toEqual(await store.facts(1));
        expect(await store.counts()).toMatchObject({ done: 1, pending: 1 });
      });

      it('reads the histories of the runs asked for, however many, by run in the order asked', async () => {
        await fresh();
        await store.enqueue(runs(401));
        expect(await store.claimPack(worker('w1'), 401)).toHaveLength(401);
        // Runs on both sides of the boundaries of 200 ids, with 1 to 3 epochs each.
        const recorded = new Map(
          [1, 200, 201, 401].map((id) => [
            id,
            Array.from({ length: (id % 3) + 1 }, (_, i) => epoch(i + 1, id + i + 1)),
          ]),
        );
        for (const [id, epochs] of recorded)
          for (const e of epochs) await store.recordEpoch({ runId: id, workerId: 'w1' }, e);
        const few = await store.histories([401, 1, 999, 1]);
        expect([...few.entries()]).toEqual([
          [401, recorded.get(401)],
          [1, recorded.get(1)],
          [999, []],
        ]);
        const all = Array.from({ length: 401 }, (_, i) => 401 - i);
        const many = await store.histories([...all, 200]);
        expect([...many.keys()]).toEqual(all);
        for (const id of all) expect(many.get(id), `run ${id}`).toEqual(recorded.get(id) ?? []);
        expect(await store.histories([])).toEqual(new Map());
      });

      it('reads back a NaN loss as null and an infinite one as infinite', async () => {
        await fresh();
        await store.enqueue(runs(1));
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.recordEpoch(claimOf(run!, 'w1'), {
          ...epoch(1),
          train_loss: Number.NaN,
          test_loss: Number.POSITIVE_INFINITY,
        });
        expect(await store.history(1)).toEqual([
          { ...epoch(1), train_loss: null, test_loss: Number.POSITIVE_INFINITY },
        ]);
      });

      it('records a failure; a run with results stays done', async () => {
        await fresh();
        await store.enqueue(runs(2));
        const [a, b] = await store.claimPack(worker('w1'), 2);
        await store.recordEpoch(claimOf(a!, 'w1'), epoch(1));
        expect(await store.failRun(claimOf(a!, 'w1'), 'diverged', 'loss is NaN at epoch 2', 'trace')).toBe('diverged');
        expect(await store.facts(1)).toMatchObject({ status: 'diverged', diverged_epoch: '2', traceback: 'trace' });
        await store.finishRun(claimOf(b!, 'w1'), RESULTS);
        await store.extendRuns([2], 2);
        const [again] = await store.claimPack(worker('w2'), 1);
        expect(again).toMatchObject({ runId: 2, epochsDone: 0, epochsTarget: 2 });
        expect(await store.failRun(claimOf(again!, 'w2'), 'error', 'boom', 'trace')).toBe('done');
        const [one, two] = await store.overview();
        expect(one).toMatchObject({
          status: 'diverged',
          lastFailure: { status: 'diverged', epoch: 1, attempt: 1, message: 'loss is NaN at epoch 2' },
        });
        expect(two).toMatchObject({
          status: 'done',
          results: RESULTS,
          lastFailure: { status: 'error', message: 'boom' },
        });
      });

      it('refuses writes from a worker that does not hold the run, or no longer does, and writes nothing', async () => {
        await fresh();
        await store.enqueue(runs(1));
        const [run] = await store.claimPack(worker('w1'), 1);
        const mine = claimOf(run!, 'w1');
        const theirs = claimOf(run!, 'w2');
        await expect(store.recordEpoch(theirs, epoch(1))).rejects.toBeInstanceOf(ClaimLostError);
        await expect(store.finishRun(theirs, RESULTS)).rejects.toBeInstanceOf(ClaimLostError);
        await expect(store.recordFacts(theirs, { x: '1' })).rejects.toBeInstanceOf(ClaimLostError);
        await store.recordEpoch(mine, epoch(1));
        // The worker went silent: another process takes the run back.
        expect(await store.reclaimStale(() => false, 3600)).toEqual([1]);
        await expect(
          store.recordEpoch(mine, epoch(2), [{ name: 'm', value: 1, better: 'higher' }]),
        ).rejects.toBeInstanceOf(ClaimLostError);
        await expect(store.finishRun(mine, RESULTS)).rejects.toBeInstanceOf(ClaimLostError);
        await expect(store.failRun(mine, 'error', 'late', 'late')).rejects.toBeInstanceOf(ClaimLostError);
        await store.heartbeat([mine]);
        expect(await store.history(1)).toEqual([epoch(1)]);
        expect(await store.metricDirections()).toEqual({});
        const [overview] = await store.overview();
        expect(overview).toMatchObject({ status: 'pending', results: null, lastFailure: null });
        expect((await store.facts(1)).x).toBeUndefined();
        // Claimed again by another worker, it continues after the recorded epoch.
        const [next] = await store.claimPack(worker('w3'), 1);
        expect(next).toMatchObject({ runId: 1, epochsDone: 1 });
        await expect(store.recordEpoch(mine, epoch(2))).rejects.toBeInstanceOf(ClaimLostError);
        await store.recordEpoch(claimOf(next!, 'w3'), epoch(2));
      });

      it('puts back the runs of a worker whose process is dead, and of one interrupted', async () => {
        await fresh();
        await store.enqueue(runs(4));
        await store.claimPack(worker('w1', 111), 1);
        await store.claimPack(worker('w2', 222), 1);
        await store.claimPack(worker('w3', 333), 2);
        expect(await store.reclaimStale((host, pid) => !(host === 'test-host' && pid === 111), 3600)).toEqual([1]);
        expect(await store.requeueRunsOfWorker('w3')).toEqual([3, 4]);
        expect(await store.counts()).toMatchObject({ pending: 3, running: 1 });
        expect((await store.facts(3)).status).toBe('pending');
      });

      it('reclaims by the database clock the runs without a heartbeat for too long', async () => {
        await fresh();
        await store.enqueue(runs(3));
        const [a] = await store.claimPack(worker('w1'), 1);
        const [b] = await store.claimPack(worker('w2'), 1);
        const [c] = await store.claimPack(worker('w3'), 1);
        expect(await store.reclaimStale(() => true, 1)).toEqual([]);
        await new Promise((r) => setTimeout(r, 1300));
        await store.heartbeat([claimOf(a!, 'w1'), claimOf(b!, 'someone else')]);
        await store.recordEpoch(claimOf(c!, 'w3'), epoch(1));
        expect(await store.reclaimStale(() => true, 1)).toEqual([2]);
        expect(await store.counts()).toMatchObject({ pending: 1, running: 2 });
      });

      it('extends finished runs: new target, pending, the epochs fact says the total', async () => {
        await fresh();
        await store.enqueue(runs(1));
        const [run] = await store.claimPack(worker('w1'), 1);
        const claim = claimOf(run!, 'w1');
        for (const n of [1, 2, 3]) await store.recordEpoch(claim, epoch(n));
        await store.finishRun(claim, RESULTS);
        await store.updateFacts([{ runId: 1, name: 'traceback', value: 'old' }]);
        await store.extendRuns([1], 2);
        expect(await store.facts(1)).toMatchObject({ status: 'pending', epochs: '5' });
        expect((await store.facts(1)).traceback).toBeUndefined();
        expect((await store.claimPack(worker('w2'), 1))[0]).toMatchObject({ runId: 1, epochsDone: 3, epochsTarget: 5 });
      });

      it('pauses claims, keeps settings', async () => {
        await fresh();
        await store.enqueue(runs(1));
        await store.setPaused(true);
        expect(await store.isPaused()).toBe(true);
        expect(await store.claimPack(worker('w1'), 1)).toEqual([]);
        await store.setPaused(false);
        expect(await store.isPaused()).toBe(false);
        expect(await store.claimPack(worker('w1'), 1)).toHaveLength(1);
        expect(await store.getSetting('monitor')).toBeUndefined();
        await store.setSetting('monitor', { nb_processus: 4, gpu: ['cuda:0'] });
        await store.setSetting('monitor', { nb_processus: 2, gpu: [] });
        expect(await store.getSetting('monitor')).toEqual({ nb_processus: 2, gpu: [] });
      });

      it('deletes runs from every table and gives their folders; replaces facts', async () => {
        await fresh();
        await store.enqueue(runs(3));
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.recordEpoch(claimOf(run!, 'w1'), epoch(1), [{ name: 'm', value: 1, better: 'higher' }]);
        await store.failRun(claimOf(run!, 'w1'), 'error', 'boom', 'trace');
        const dirs = await store.deleteRuns([1, 3]);
        expect(dirs.map((d) => d.runId)).toEqual([1, 3]);
        expect(dirs[0]!.runDir).toMatch(/run_1$/);
        expect(dirs[1]!.runDir).toMatch(/run_3$/);
        expect(await store.allRunIds()).toEqual([2]);
        expect(await store.facts(1)).toEqual({});
        expect(await store.history(1)).toEqual([]);
        expect([...(await store.allFacts()).keys()]).toEqual([2]);
        await store.updateFacts([
          { runId: 2, name: 'model_key', value: 'renamed' },
          { runId: 2, name: 'new_key', value: 'v' },
        ]);
        expect(await store.facts(2)).toMatchObject({ model_key: 'renamed', new_key: 'v', lr: '0.01' });
        expect(await store.integrityCheck()).toBe('ok');
      });

      it("answers the user's SQL read-only, as the original's tables", async () => {
        await fresh();
        await store.enqueue(runs(4));
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.finishRun(claimOf(run!, 'w1'), RESULTS);
        expect(
          await store.queryRunIds(
            `SELECT run_id FROM params WHERE param_name = 'model_key' AND param_value = 'm1' ORDER BY run_id DESC`,
          ),
        ).toEqual([2, 4]);
        expect(
          await store.queryRunIds(`SELECT run_id FROM run_results WHERE "duration(s)" > 1 AND nb_params > 10`),
        ).toEqual([1]);
        expect(
          await store.queryRunIds(
            `SELECT r.run_id FROM runs r JOIN params p ON p.run_id = r.run_id WHERE r.status = 'pending'`,
          ),
        ).toEqual([2, 3, 4]);
        await expect(store.queryRunIds(`DELETE FROM runs`)).rejects.toThrow(/^the request must only read/);
        await expect(store.queryRunIds(`SELEKT run_id FROM runs`)).rejects.toThrow(
          /^the request is not valid SQL: .*syntax error/,
        );
        await expect(store.queryRunIds(`SELECT pipeline FROM runs`)).rejects.toThrow(
          /must return run ids in its first column, got "pipe\d"/,
        );
        expect(await store.allRunIds()).toEqual([1, 2, 3, 4]);
      });

      it('copies itself into a new SQLite file that reads the same, and refuses an existing one', async () => {
        await fresh();
        const experiment = {
          configFile: 'c.ini',
          configText: 'x',
          configHash: 'h',
          userFiles: {},
          mosaicVersion: '0.1.0',
          gitCommit: 'abc',
        };
        await store.enqueue(runs(3), experiment);
        const [a, b] = await store.claimPack(worker('w1'), 2);
        await store.recordEpoch(claimOf(a!, 'w1'), epoch(1), [{ name: 'f1', value: 0.5, better: 'higher' }]);
        await store.finishRun(claimOf(a!, 'w1'), RESULTS);
        await store.failRun(claimOf(b!, 'w1'), 'error', 'boom', 'trace');
        await store.setSetting('monitor', { nb_processus: 2 });
        const dir = tmpDir('mosaic-copy-');
        try {
          const file = path.join(dir, 'copy.db');
          await store.copyTo(file);
          await expect(store.copyTo(file)).rejects.toThrow(/already exists/);
          const copy = await openSqliteStore(file, { create: false, readonly: true });
          open.push(copy);
          expect(await copy.integrityCheck()).toBe('ok');
          expect(await copy.overview()).toEqual(await store.overview());
          expect(await copy.allFacts()).toEqual(await store.allFacts());
          expect(await copy.histories([1, 2, 3])).toEqual(await store.histories([1, 2, 3]));
          expect(await copy.counts()).toEqual(await store.counts());
          expect(await copy.metricDirections()).toEqual(await store.metricDirections());
          expect(await copy.getSetting('monitor')).toEqual({ nb_processus: 2 });
          expect((await copy.identity()).storeId).toBe((await store.identity()).storeId);
          await copy.close();
          // The copy becomes a database of its own: new identity, what it is a copy of, run folders of its own.
          const own = await openSqliteStore(file, { create: false });
          open.push(own);
          const original = await store.identity();
          const made = await own.becomeCopyOf(original, path.join(dir, 'mine.db'));
          expect(made.storeId).not.toBe(original.storeId);
          const identity = await own.identity();
          expect(identity.storeId).toBe(made.storeId);
          expect(identity.copyOf).toMatch(
            new RegExp(
              `^${original.store.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(database ${original.storeId}\\) at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$`,
            ),
          );
          expect(made.moves.map((m) => m.runId)).toEqual([1, 2, 3]);
          for (const m of made.moves) {
            expect(m.from).toBe(await store.runDir(m.runId));
            expect(m.to).toBe(path.join(path.dirname(path.dirname(m.from)), `mine-${made.storeId}`, `run_${m.runId}`));
            expect(await own.runDir(m.runId)).toBe(m.to);
          }
          await own.enqueue(runs(1));
          const [claimed] = await own.claimPack(worker('w9'), 1);
          expect(claimed!.owner).toEqual({ storeId: made.storeId, store: file, runId: 3, copyOf: identity.copyOf });
          const raw = new Database(file, { readonly: true });
          expect(
            raw.prepare(`SELECT config_text, git_commit, first_run_id, last_run_id FROM mosaic_experiments`).all(),
          ).toEqual([{ config_text: 'x', git_commit: 'abc', first_run_id: 1, last_run_id: 3 }]);
          expect(raw.prepare(`SELECT nb_params FROM run_results`).pluck().get()).toBe(RESULTS.nb_params);
          raw.close();
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      it('opens read-only for readers, and refuses a database of a newer Mosaic', async () => {
        await fresh();
        await store.enqueue(runs(2));
        const reader = await openStore(location, { create: false, readonly: true });
        expect(await reader.counts()).toMatchObject({ pending: 2 });
        await store.close();
        open.splice(open.indexOf(store), 1);
        await backend.rawSql(
          location,
          `UPDATE system SET param_value = '${SCHEMA_VERSION + 1}' WHERE param_name = 'schema_version'`,
        );
        for (const options of [{ create: true }, { create: false }, { create: false, readonly: true }]) {
          await expect(backend.open(location, options)).rejects.toThrow(
            `was written by a newer Mosaic (database schema ${SCHEMA_VERSION + 1}`,
          );
        }
        await expect(backend.open(await backend.newLocation(), { create: false })).rejects.toThrow(
          /does not exist|is not a Mosaic database/,
        );
      });

      it('migrates a database of schema 2, which had no race table, when a reader opens it', async () => {
        await fresh();
        await store.enqueue(runs(1));
        await store.close();
        open.splice(open.indexOf(store), 1);
        await backend.rawSql(
          location,
          `DROP TABLE mosaic_race; UPDATE system SET param_value = '2' WHERE param_name = 'schema_version'`,
        );
        const reader = await openStore(location, { create: false, readonly: true });
        expect(await reader.raceRounds()).toEqual([]);
        expect(await reader.getSetting('nothing')).toBeUndefined();
        expect(await reader.allRunIds()).toEqual([1]);
      });

      it('gives run_results the result fields it lacks when opened, for a reader too', async () => {
        await fresh();
        await store.enqueue(runs(1));
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.finishRun(claimOf(run!, 'w1'), RESULTS);
        await store.close();
        open.splice(open.indexOf(store), 1);
        // As a database made before these fields existed (the original Mosaic's has neither).
        await backend.rawSql(
          location,
          'ALTER TABLE run_results DROP COLUMN slope_std_plus; ALTER TABLE run_results DROP COLUMN best_epoch',
        );
        const reader = await openStore(location, { create: false, readonly: true });
        const [overview] = await reader.overview([1]);
        expect(overview!.results).toEqual({ ...RESULTS, slope_std_plus: null, best_epoch: null });
      });

      it('gives every run to exactly one of several processes claiming at once', async () => {
        await fresh();
        const total = 200;
        await store.enqueue(runs(total));
        const results = await inChildren('claim', location, 6, (i) => [i % 2 === 0 ? '1' : '4', '2']);
        const claimed = results.flatMap((r) => r.ids).sort((a, b) => a - b);
        expect(claimed).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(results.filter((r) => r.ids.length > 0).length).toBeGreaterThan(1);
        expect(await store.counts()).toMatchObject({ pending: 0, running: total });
        const seconds = Math.max(...results.map((r) => r.ms)) / 1000;
        console.log(
          `${backend.name}: ${total} runs claimed by 6 processes (2 ms pause after each claim) in ${seconds.toFixed(2)} s; per process ${results.map((r) => r.ids.length).join(', ')}`,
        );
      });

      it('gives distinct consecutive ids to several processes enqueuing at once', async () => {
        await fresh();
        const results = await inChildren('enqueue', location, 4, () => ['10']);
        const ids = results.flatMap((r) => r.ids).sort((a, b) => a - b);
        expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
        expect(await store.counts()).toMatchObject({ pending: 200 });
      });

      const raceRow = (round: number, position: number, over: string | null = null): RaceRoundRecord => ({
        dataKey: 'd',
        round,
        group: `pipe${position}`,
        decision: position === 0 ? 'best' : position === 1 ? 'eliminated' : 'undecided',
        n: 3,
        mean: 0.5 + position,
        diff: position === 0 ? null : position,
        p: position === 0 ? null : 1e-5 * position,
        equivalenceP: null,
        threshold: 1e-4,
        over: position === 0 ? over : null,
      });

      it('records a race round once and queues its repeats made like their configuration', async () => {
        await fresh();
        const [a, b] = await store.enqueue(runs(2));
        await store.updateFacts([
          { runId: a!, name: 'repeat', value: '2' },
          { runId: a!, name: 'epochs', value: '3' },
        ]);
        const [run] = await store.claimPack(worker('w1'), 1);
        await store.recordFacts(claimOf(run!, 'w1'), { backend_used: 'cpu', warning: 'w' });
        await store.finishRun(claimOf(run!, 'w1'), RESULTS);
        const rows = [raceRow(1, 0), raceRow(1, 1), raceRow(1, 2)];
        const ids = await store.recordRaceRound(rows, [
          { templateRunId: a!, repeat: 3, seed: 500 },
          { templateRunId: b!, repeat: 1 },
        ]);
        expect(ids).toEqual([3, 4]);
        const recorded = await store.raceRounds();
        expect(recorded.map(({ decidedAt, ...r }) => r)).toEqual(rows);
        expect(recorded.every((r) => r.decidedAt > 1.7e9)).toBe(true);
        // The repeat: its configuration's spec, pipeline and facts, its own seed, repeat and status, none of the outcome's.
        const facts = await store.facts(3);
        expect(facts).toMatchObject({
          lr: '0.01',
          model_key: 'm0',
          repeat: '3',
          seed: '500',
          status: 'pending',
          epochs: '3',
        });
        for (const outcome of ['backend_used', 'warning', 'host', 'epochs_done'])
          expect(facts[outcome]).toBeUndefined();
        // No seed given: one no run has (the largest so far + 1).
        expect((await store.facts(4)).seed).toBe('501');
        const [next] = await store.claimPack(worker('w2'), 1);
        expect(next).toMatchObject({ runId: 2 });
        const [repeat] = await store.claimPack(worker('w2'), 1);
        expect(repeat).toMatchObject({ runId: 3, seed: 500, epochsDone: 0, epochsTarget: 3, shortForm: 'pipe0' });
        expect(repeat!.spec).toEqual(SPEC_A);
        expect(path.dirname(repeat!.runDir)).toBe(path.dirname(run!.runDir));
        expect(path.basename(repeat!.runDir)).toBe('run_3');
        // Recorded once: the same round again, or a round after a missing one, writes nothing.
        expect(await store.recordRaceRound([raceRow(1, 0)], [{ templateRunId: a!, repeat: 3 }])).toBeNull();
        expect(await store.recordRaceRound([raceRow(3, 0)], [{ templateRunId: a!, repeat: 3 }])).toBeNull();
        expect(await store.allRunIds()).toEqual([1, 2, 3, 4]);
        expect(await store.recordRaceRound([raceRow(2, 0, 'decided')], [])).toEqual([]);
        expect((await store.raceRounds()).at(-1)).toMatchObject({ round: 2, over: 'decided' });
        // A copy keeps the race.
        const copy = path.join(tmpDir('mosaic-race-copy-'), 'copy.db');
        await store.copyTo(copy);
        const copied = await openSqliteStore(copy, { create: false });
        open.push(copied);
        expect((await copied.raceRounds()).length).toBe(4);
      });

      it('records a race round once when several processes decide it at once', async () => {
        await fresh();
        await store.enqueue(runs(2));
        const results = await inChildren('race', location, 4, () => ['1']);
        const winners = results.filter((r) => r.ids.length > 0);
        expect(winners.length).toBe(1);
        expect(winners[0]!.ids).toEqual([3]);
        expect(await store.allRunIds()).toEqual([1, 2, 3]);
        expect((await store.raceRounds()).length).toBe(2);
      });
    },
  );
}

storeContract(sqliteBackend());
storeContract(postgresBackend());
