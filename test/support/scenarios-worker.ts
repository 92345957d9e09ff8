import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../dist/store/open.js';
import { cli, faultyModel, fixtureConfig, startCli, tmpDir, tutorialConfig, type RunningCli } from './helpers.js';

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

    it('two hosts of one worker each share 12 packable runs queued at once: a fair share each, not all to the first', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      // the tutorial at 2 repeats: 2 models x 3 widths x 2 = 12 runs of one pack key
      const config = tutorialConfig(dir, {
        epochs: '150\nseed = 5',
        multiplicity: '2',
        nb_processus: '1',
      });
      expect(cli(['run', config, db, '--queue-only'], dir).code).toBe(0);
      const started = Date.now();
      const [a, b] = [
        startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-a') }),
        startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-b') }),
      ];
      const [endA, endB] = await Promise.all([a.done, b.done]);
      const twoHosts = (Date.now() - started) / 1000;
      expect(endA.code, a.output()).toBe(0);
      expect(endB.code, b.output()).toBe(0);
      await expectComplete(db, 12, 150);
      const store = await openStore(db, 'read');
      const facts = [...(await store.allFacts()).values()];
      await store.close();
      const trained = (name: string) => facts.filter((f) => f.host === name).length;
      expect([trained('host-a'), trained('host-b')], a.output() + b.output()).toEqual([
        expect.toSatisfy((n: number) => n >= 5 && n <= 7),
        expect.toSatisfy((n: number) => n >= 5 && n <= 7),
      ]);
      // The same 12 runs on one host, for the figure (printed, not asserted: the machine is shared).
      const alone = await newLocation(dir);
      expect(cli(['run', config, alone, '--queue-only'], dir).code).toBe(0);
      const aloneStarted = Date.now();
      expect(cli(['worker', alone, '--progress', 'lines'], dir, host('host-a')).code).toBe(0);
      const oneHost = (Date.now() - aloneStarted) / 1000;
      console.log(
        `${backend}: 12 packable runs, ${trained('host-a')} on host-a and ${trained('host-b')} on host-b: ${twoHosts.toFixed(1)} s on two hosts, ${oneHost.toFixed(1)} s on one`,
      );
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
      // status shows where the running runs are held, and since when they are silent
      expect(cli(['status', db], dir).stdout).toMatch(
        /Running\n\t\[\d\] .* epoch \d+\/60.* @ host-a, (last heartbeat \d+ s ago|silent for \d+ s; taken back at 3 s)\n/,
      );
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

    it('a host gone silent: status says since when; a worker with nothing else to do waits for the takeover and trains its runs, unless --no-wait', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const config = fixtureConfig(dir, {
        models: model('2, 5', 10),
        epochs: 60,
        monitor: 'nb_processus = 2\nmultiplicity = 1\npack_size = 1\nheartbeat_timeout = 15',
      });
      expect(cli(['run', config, db, '--queue-only'], dir).code).toBe(0);
      const a = startCli(['worker', db, '--progress', 'lines'], dir, { env: host('host-a'), detached: true });
      await until(async () => (await epochsRecorded(db)) >= 6, 60_000, a);
      const live = cli(['status', db], dir).stdout;
      expect(live).toMatch(/Running\n\t\[\d\] .* epoch \d+\/60.* @ host-a, last heartbeat \d+ s ago\n/);
      killHost(a);
      await a.done;
      // past a third of the timeout (5 s): silent
      await new Promise((r) => setTimeout(r, 5500));
      expect(cli(['status', db], dir).stdout).toMatch(
        /Running\n\t\[\d\] .* @ host-a, silent for \d+ s; taken back at 15 s\n\t\[\d\] .* @ host-a, silent for \d+ s; taken back at 15 s\n/,
      );
      // --no-wait: nothing pending, so it leaves the silent host's runs to others
      const leaving = cli(['worker', db, '--no-wait', '--progress', 'lines'], dir, host('host-c'));
      expect(leaving.code, leaving.stdout + leaving.stderr).toBe(0);
      expect(leaving.stdout).toMatch(/2 running elsewhere, 0 pending of 2 runs/);
      // without it: it says once that it waits, takes the runs back at the timeout and trains them
      const b = cli(['worker', db, '--progress', 'lines'], dir, host('host-b'));
      expect(b.code, b.stdout + b.stderr).toBe(0);
      const waiting = b.stdout.split('\n').filter((l) => l.includes('waiting for'));
      expect(waiting).toHaveLength(1);
      expect(waiting[0]).toMatch(
        /waiting for runs 1, 2 @ host-a: silent for \d+ s; taken back at 15 s, then training them here \(--no-wait leaves them to other workers\)/,
      );
      expect(b.stdout).toMatch(/\(continuing after epoch \d+\)/);
      await expectComplete(db, 2, 60);
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
