import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../dist/dashboard/server.js';
import { openStore } from '../../dist/store/open.js';
import { analysisDb, iniText, TWO_MODELS } from '../support/analysis-db.js';
import { cli, faultyModel, fixtureConfig, startCli, tmpDir, type RunningCli } from '../support/helpers.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';
import { commandScenarios } from '../support/scenarios-commands.js';
import { workerScenarios } from '../support/scenarios-worker.js';
import { raceScenarios } from '../support/scenarios-race.js';

/**
 * The PostgreSQL backend end to end: every command and the worker scenarios as on SQLite, then a
 * cluster under faults — workers of two hosts, workers and whole hosts killed, the server restarted.
 */
let server: PgServer | undefined;
const database = async () => server!.freshDatabase();

describe.skipIf(pgSkipReason)('PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPgServer();
  });
  afterAll(async () => server?.destroy());

  commandScenarios('PostgreSQL', database);
  workerScenarios('PostgreSQL', database);
  raceScenarios('PostgreSQL', database);

  it('the dashboard reads a PostgreSQL experiment: summary, runs, a run, the verdict of mosaic compare', async () => {
    const dir = tmpDir();
    const db = await analysisDb(
      dir,
      iniText({ multiplicity: 4, models: TWO_MODELS }),
      (facts, i) =>
        i === 0
          ? { status: 'error' }
          : { status: 'done', value: (facts.mlp_key === 'model_a' ? 1 : 2) + (i % 4) * 0.1 },
      await database(),
    );
    const dash = await startDashboard({ db, host: '127.0.0.1', port: 0 });
    try {
      const get = async (path: string) => (await fetch(new URL(path, dash.url))).json();
      expect((await get('/api/summary')).counts).toEqual({
        pending: 0,
        running: 0,
        done: 15,
        error: 1,
        failed: 0,
        diverged: 0,
      });
      expect((await get('/api/runs?limit=5')).total).toBe(16);
      expect((await get('/api/runs/1')).status).toBe('error');
      const printed = cli(['compare', db], dir);
      expect(printed.code, printed.stderr).toBe(0);
      expect((await get('/api/compare')).verdictLines).toEqual(
        printed.stdout
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('toy: ') && !l.includes(': ranking by ')),
      );
    } finally {
      await dash.close();
    }
  });

  it('the dashboard pauses and resumes a password-protected PostgreSQL database (the writer opens the URL as given, password included)', async () => {
    const dir = tmpDir();
    const password = 'Tr0ub4dor&3';
    const url = await server!.passwordDatabase('alice', password);
    const db = await analysisDb(
      dir,
      iniText({ multiplicity: 2, models: TWO_MODELS }),
      () => ({ status: 'done', value: 1 }),
      url,
    );
    const dash = await startDashboard({ db, host: '127.0.0.1', port: 0 });
    try {
      const origin = `http://127.0.0.1:${dash.port}`;
      const pause = async (paused: boolean) => {
        const r = await fetch(new URL('/api/control/pause', dash.url), {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin, 'x-mosaic-token': dash.token },
          body: JSON.stringify({ paused }),
        });
        const body = await r.text();
        expect(body).not.toContain(password);
        return { status: r.status, body: JSON.parse(body) as { paused: boolean } };
      };
      const isPaused = async () => {
        const store = await openStore(db, 'read');
        try {
          return await store.isPaused();
        } finally {
          await store.close();
        }
      };
      const paused = await pause(true);
      expect(paused.status, JSON.stringify(paused.body)).toBe(200);
      expect(await isPaused()).toBe(true);
      expect((await pause(false)).status).toBe(200);
      expect(await isPaused()).toBe(false);
      // the same URL without its password: the user's to fix, said in one line (exit 2), not a database that is down
      const bare = cli(['status', url.replace(/:[^:@/]+@/, '@')], dir, { PGPASSWORD: '' });
      expect([bare.code, bare.stderr.trim().split('\n')]).toEqual([
        2,
        [
          expect.stringMatching(
            /^mosaic: error: cannot connect to PostgreSQL database postgres:\/\/alice@.*: the server asks a password of alice and none was given: set PGPASSWORD, put it in ~\/\.pgpass, or in the URL/,
          ),
        ],
      ]);
    } finally {
      await dash.close();
    }
  });

  describe('a cluster under faults', () => {
    /** Counts by status; before `run` has made the tables, none. */
    async function counts(db: string) {
      const store = await openStore(db, 'read').catch(() => undefined);
      if (!store) return { pending: 0, running: 0, done: 0, error: 0, failed: 0, diverged: 0 };
      try {
        return await store.counts();
      } finally {
        await store.close();
      }
    }

    async function until(what: () => Promise<boolean>, timeoutMs: number, procs: RunningCli[]): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!(await what())) {
        if (Date.now() > end)
          throw new Error(`timed out:\n${procs.map((p) => p.output().slice(-3000)).join('\n----\n')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    /** Every run done, with exactly its epochs, read through the store. */
    async function expectEachOnce(db: string, runs: number, epochs: number): Promise<void> {
      const store = await openStore(db, 'read');
      try {
        const overview = await store.overview();
        expect(overview).toHaveLength(runs);
        expect(
          overview.filter((r) => r.status !== 'done').map((r) => `${r.runId}: ${r.status} ${r.returnStatus}`),
        ).toEqual([]);
        const histories = await store.histories(overview.map((r) => r.runId));
        const wrong = [...histories].filter(
          ([, h]) => h.map((e) => e.epoch).join(',') !== Array.from({ length: epochs }, (_, i) => i + 1).join(','),
        );
        expect(wrong.map(([id, h]) => `${id}: ${h.map((e) => e.epoch)}`)).toEqual([]);
      } finally {
        await store.close();
      }
    }

    const workerOf = (proc: RunningCli) =>
      Number(
        execFileSync('pgrep', ['-P', String(proc.child.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n')[0],
      );
    const hostEnv = (name: string) => ({ MOSAIC_HOST: name });

    it('2,000 one-epoch runs on two hosts of 4 workers; a worker and a whole host killed, twice: every run done once, every epoch once', async () => {
      const dir = tmpDir();
      const db = await database();
      const config = fixtureConfig(dir, {
        models: faultyModel('2, 5'),
        epochs: 1,
        monitor: 'nb_processus = 4\nmultiplicity = 1000\npack_size = 1\nretries = 5\nheartbeat_timeout = 3',
      });
      expect(cli(['run', config, db, '--queue-only'], dir).code).toBe(0);
      const host = (name: string) =>
        startCli(['worker', db, '--progress', 'lines'], dir, { env: hostEnv(name), detached: true });
      const hosts = { a: host('host-a'), b: host('host-b') };
      const all = () => Object.values(hosts);
      for (const round of [1, 2]) {
        await until(async () => (await counts(db)).done >= round * 500, 240_000, all());
        process.kill(workerOf(hosts.a), 'SIGKILL');
        await until(async () => (await counts(db)).done >= round * 500 + 200, 240_000, all());
        // host-b dies whole; host-a takes its runs back once they are silent for heartbeat_timeout
        process.kill(-hosts.b.child.pid!, 'SIGKILL');
        await hosts.b.done;
        await new Promise((r) => setTimeout(r, 3500));
        hosts.b = host('host-b');
      }
      const ends = await Promise.all(all().map((p) => p.done));
      for (const [i, end] of ends.entries()) expect(end.code, all()[i]!.output().slice(-3000)).toBe(0);
      await expectEachOnce(db, 2000, 1);
    });

    it('PostgreSQL restarted in the middle of an experiment: workers reconnect and go on, nothing committed is lost', async () => {
      const dir = tmpDir();
      const db = await database();
      const config = fixtureConfig(dir, {
        models: faultyModel('2, 5'),
        epochs: 30,
        monitor: 'nb_processus = 2\nmultiplicity = 4',
      });
      const run = startCli(['run', config, db, '--progress', 'lines'], dir);
      await until(async () => (await counts(db)).done >= 1, 120_000, [run]);
      await server!.stop();
      await new Promise((r) => setTimeout(r, 2000));
      await server!.start();
      const end = await run.done;
      expect(end.code, run.output().slice(-3000)).toBe(0);
      await expectEachOnce(db, 8, 30);
    });
  });
});
