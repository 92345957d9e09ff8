import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../dist/store/open.js';
import { cli, faultyModel, fixtureConfig, startCli, tmpDir, type RunningCli } from './helpers.js';

/**
 * `mosaic worker`: workers of several hosts (distinct host identities, one shared folder) on one
 * database. Written against a location so that the same scenarios run on every backend.
 */
export function workerScenarios(backend: string, newLocation: (dir: string) => Promise<string>): void {
  /** With `epochMs`, runs last long enough for the other host to join, or for a kill to find them. */
  const model = (widths: string, epochMs = 0) => faultyModel(widths, 'net_{width}', epochMs);
  const host = (name: string) => ({ MOSAIC_HOST: name });

  /** Every run done, every epoch recorded exactly once, read through the store. */
  async function expectComplete(location: string, runs: number, epochs: number): Promise<void> {
    const store = await openStore(location, 'read');
    try {
      const overview = await store.overview();
      expect(overview.map((r) => r.status)).toEqual(Array(runs).fill('done'));
      const histories = await store.histories(overview.map((r) => r.runId));
      for (const h of histories.values())
        expect(h.map((e) => e.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
      expect(overview.every((r) => r.results?.epochs === epochs)).toBe(true);
    } finally {
      await store.close();
    }
  }

  async function epochsRecorded(location: string): Promise<number> {
    const store = await openStore(location, 'read');
    try {
      return [...(await store.histories(await store.allRunIds())).values()].reduce((n, h) => n + h.length, 0);
    } finally {
      await store.close();
    }
  }

  async function until(what: () => Promise<boolean>, timeoutMs: number, proc?: RunningCli): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await what())) {
      if (Date.now() > end) throw new Error(`timed out${proc ? `:\n${proc.output()}` : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const killHost = (proc: RunningCli) => process.kill(-proc.child.pid!, 'SIGKILL');

  describe(`mosaic worker (${backend})`, () => {
    it('run --queue-only, then workers of two hosts train every run exactly once', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const config = fixtureConfig(dir, {
        models: model('2, 5', 10),
        epochs: 15,
        monitor: 'nb_processus = 1\nmultiplicity = 4\npack_size = 1',
      });
      const queued = cli(['run', config, db, '--queue-only'], dir);
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout).toMatch(/8 runs queued \(ids 1-8\) in .*Train them with: mosaic worker /);
      const [a, b] = [
        startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-a') }),
        startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-b') }),
      ];
      const [endA, endB] = await Promise.all([a.done, b.done]);
      expect(endA.code, a.output()).toBe(0);
      expect(endB.code, b.output()).toBe(0);
      expect(a.output()).toMatch(/worker on host-a joining /);
      await expectComplete(db, 8, 15);
      const store = await openStore(db, 'read');
      const hosts = new Set([...(await store.allFacts()).values()].map((f) => f.host));
      await store.close();
      expect([...hosts].sort()).toEqual(['host-a', 'host-b']);
    });

    it('a host killed mid-epoch: its runs are taken back after heartbeat_timeout by a live worker and continue from their checkpoints', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const config = fixtureConfig(dir, {
        models: model('2, 5', 10),
        epochs: 60,
        monitor: 'nb_processus = 2\nmultiplicity = 2\npack_size = 1\nheartbeat_timeout = 3',
      });
      expect(cli(['run', config, db, '--queue-only'], dir).code).toBe(0);
      const a = startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-a'), detached: true });
      await until(async () => (await epochsRecorded(db)) >= 10, 60_000, a);
      killHost(a);
      await a.done;
      // status shows where the running runs are held
      expect(cli(['status', db], dir).stdout).toMatch(/Running\n\t\[\d\] .* epoch \d+\/60.* @ host-a\n/);
      const before = await epochsRecorded(db);
      const b = startCli(['worker', db, '--wait', '--progress', 'lines'], dir, { env: host('host-b') });
      const store = await openStore(db, 'read');
      try {
        await until(async () => (await store.counts()).done === 4, 120_000, b);
      } finally {
        await store.close();
      }
      b.child.kill('SIGINT');
      const end = await b.done;
      expect(end.code, b.output()).toBe(130);
      expect(b.output()).toMatch(/had no heartbeat for 3 s: taken back, they continue from their last checkpoint/);
      expect(b.output()).toMatch(/\(continuing after epoch \d+\)/);
      expect(before).toBeGreaterThanOrEqual(10);
      await expectComplete(db, 4, 60);
    });

    it('a run taken back on a host that cannot see its checkpoints fails saying so, never restarts from epoch 0', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const config = fixtureConfig(dir, {
        models: model('2', 5),
        epochs: 200,
        monitor: 'nb_processus = 1\nmultiplicity = 1\nheartbeat_timeout = 2',
      });
      expect(cli(['run', config, db, '--queue-only'], dir).code).toBe(0);
      const a = startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-a'), detached: true });
      await until(async () => (await epochsRecorded(db)) >= 3, 60_000, a);
      killHost(a);
      await a.done;
      // host-b does not share host-a's folder: the checkpoints are not there
      fs.rmSync(path.join(dir, 'runs'), { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 2500));
      const b = cli(['worker', db, '--progress', 'lines'], dir, host('host-b'));
      expect(b.code, b.stdout + b.stderr).toBe(3);
      const store = await openStore(db, 'read');
      const [run] = await store.overview();
      await store.close();
      expect(run!.status).toBe('error');
      expect(run!.returnStatus).toMatch(
        /checkpoint of epoch \d+ is missing \(.* on host-b\).*run_files_path is not a folder every host shares/,
      );
    });
  });
}
