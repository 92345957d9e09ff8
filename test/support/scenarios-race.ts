import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../dist/store/open.js';
import { loadRuns } from '../../dist/analysis/runs.js';
import type { RaceRoundRow } from '../../src/store/types.js';
import { cli, startCli, tmpDir, tutorialConfig, type RunningCli } from './helpers.js';

/**
 * Races (`[MONITOR] multiplicity = auto`) on the real queue: the tutorial's 6 configurations, a
 * fixed seed (so that every race of this config decides the same), workers of several hosts, a
 * kill -9 in the middle of a round. Written against a location so that the same scenarios run on
 * every backend.
 */
export function raceScenarios(backend: string, newLocation: (dir: string) => Promise<string>): void {
  const config = (dir: string, monitor: Record<string, string> = {}) =>
    tutorialConfig(dir, {
      epochs: '40',
      lr: '1e-2\nseed = 1',
      multiplicity: 'auto\nmax_repeats = 7',
      ...monitor,
    });

  /** A race's record and runs, read through the store. */
  async function raceOf(location: string) {
    const store = await openStore(location, 'read');
    try {
      return { rows: await store.raceRounds(), runs: (await loadRuns(store)).runs };
    } finally {
      await store.close();
    }
  }

  /** What a race decided, without when. */
  const decisions = (rows: RaceRoundRow[]) => rows.map(({ decidedAt, ...r }) => r);

  /**
   * A race as the rules say: rounds 1…R once each, the best first; a configuration leaves for
   * good; every configuration has min_repeats runs plus one per round it went on from; each repeat
   * index once per configuration, with the same seed in every configuration (paired); all done.
   */
  async function expectSoundRace(location: string, minRepeats = 3) {
    const { rows, runs } = await raceOf(location);
    expect(runs.every((r) => r.status === 'done')).toBe(true);
    const rounds = [...new Set(rows.map((r) => r.round))];
    expect(rounds).toEqual(rounds.map((_, i) => i + 1));
    const gone = new Set<string>();
    for (const round of rounds) {
      const these = rows.filter((r) => r.round === round);
      expect(these[0]!.decision).toBe('best');
      expect(these.filter((r) => r.decision === 'best')).toHaveLength(1);
      for (const r of these) expect(gone.has(r.group)).toBe(false);
      for (const r of these) if (r.decision === 'eliminated' || r.decision === 'equivalent') gone.add(r.group);
    }
    expect(rows.at(-1)!.round === rounds.at(-1) && rows.find((r) => r.round === rounds.at(-1))!.over).not.toBeNull();
    const seedOfRepeat = new Map<number, string>();
    for (const group of new Set(runs.map((r) => r.pipeline))) {
      const mine = runs.filter((r) => r.pipeline === group);
      const wentOn = rows.filter(
        (r) =>
          r.group === group &&
          (r.decision === 'best' || r.decision === 'undecided') &&
          rows.find((b) => b.round === r.round)!.over === null,
      ).length;
      expect(mine.length, group).toBe(minRepeats + wentOn);
      expect(mine.map((r) => Number(r.facts.repeat)).sort((a, b) => a - b)).toEqual(mine.map((_, i) => i));
      for (const r of mine) {
        const k = Number(r.facts.repeat);
        if (!seedOfRepeat.has(k)) seedOfRepeat.set(k, r.facts.seed!);
        expect(r.facts.seed, `${group} repeat ${k}`).toBe(seedOfRepeat.get(k));
      }
    }
    return { rows, runs };
  }

  /** The same config raced once on one host, in a SQLite file: what every race of it must decide. */
  let reference: Promise<RaceRoundRow[]> | undefined;
  const referenceRace = () =>
    (reference ??= (async () => {
      const dir = tmpDir('mosaic-race-ref-');
      const db = path.join(dir, 'ref.db');
      const r = cli(['run', config(dir), db], dir);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      return (await expectSoundRace(db)).rows;
    })());

  const until = async (what: () => Promise<boolean>, timeoutMs: number, proc?: RunningCli) => {
    const end = Date.now() + timeoutMs;
    while (!(await what())) {
      if (Date.now() > end) throw new Error(`timed out${proc ? `:\n${proc.output()}` : ''}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  describe(`races (${backend})`, () => {
    it('eliminates, queues a round at a time, and says so; the race line ends the report', async () => {
      const rows = await referenceRace();
      expect(rows.some((r) => r.decision === 'eliminated')).toBe(true);
      expect(Math.max(...rows.map((r) => r.round))).toBe(5);
      expect(rows.find((r) => r.over !== null)).toMatchObject({ over: 'max-repeats', round: 5 });
      // Bonferroni over the 5 planned looks and the 15 pairs of 6 configurations.
      expect(rows[0]!.threshold).toBeCloseTo(0.05 / (5 * 15), 12);
      for (const r of rows.filter((x) => x.decision === 'eliminated')) expect(r.p!).toBeLessThanOrEqual(r.threshold);
      for (const r of rows.filter((x) => x.decision === 'undecided')) expect(r.p!).toBeGreaterThan(r.threshold);
    });

    it('workers of two hosts race to the same decisions, each round recorded once', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const queued = cli(['run', config(dir, { nb_processus: '1' }), db, '--queue-only'], dir);
      expect(queued.code, queued.stderr).toBe(0);
      expect(queued.stdout).toMatch(/18 runs queued \(ids 1-18\)/);
      const [a, b] = [
        startCli(['worker', db, '--progress', 'lines'], dir, { env: { MOSAIC_HOST: 'host-a' } }),
        startCli(['worker', db, '--progress', 'lines'], dir, { env: { MOSAIC_HOST: 'host-b' } }),
      ];
      const [endA, endB] = await Promise.all([a.done, b.done]);
      expect(endA.code, a.output()).toBe(0);
      expect(endB.code, b.output()).toBe(0);
      const { rows, runs } = await expectSoundRace(db);
      expect(decisions(rows)).toEqual(decisions(await referenceRace()));
      // Both hosts trained runs, and every run of a later round was trained by one of them. (Which
      // host takes a later round is timing: a round of a few repeats may go to one worker as one pack.)
      expect(new Set(runs.map((r) => r.facts.host))).toEqual(new Set(['host-a', 'host-b']));
      const late = runs.filter((r) => r.runId > 18);
      expect(late.length).toBeGreaterThan(0);
      for (const r of late) expect(['host-a', 'host-b']).toContain(r.facts.host);
      // Each round said once, by the worker that decided it.
      const said = (a.output() + b.output()).match(/\[race\] race in data_dataset_OR, round \d+/g) ?? [];
      expect(said.sort()).toEqual(
        rows
          .filter((r) => r.decision === 'best')
          .map((r) => `[race] race in data_dataset_OR, round ${r.round}`)
          .sort(),
      );
    });

    it('killed with kill -9 in the middle of a round, resumed, it ends as the race run straight', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const run = startCli(['run', config(dir), db, '--progress', 'lines'], dir, { detached: true });
      // In round 2: the first round decided, its repeats training.
      await until(async () => /round 1: /.test(run.output()) && /---> launch 2[0-9] /.test(run.output()), 60_000, run);
      process.kill(-run.child.pid!, 'SIGKILL');
      await run.done;
      const resumed = cli(['resume', db, '--progress', 'lines'], dir);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const { rows } = await expectSoundRace(db);
      expect(decisions(rows)).toEqual(decisions(await referenceRace()));
    });

    it('paused in a round and resumed, it ends as the race run straight; rerun and delete leave its record as decided', async () => {
      const dir = tmpDir();
      const db = await newLocation(dir);
      const file = config(dir);
      const run = startCli(['run', file, db, '--progress', 'lines'], dir);
      await until(async () => /round 1: /.test(run.output()), 60_000, run);
      expect(cli(['pause', db], dir).code).toBe(0);
      const paused = await run.done;
      expect(paused.code, run.output()).toBe(4);
      const resumed = cli(['resume', db, '--progress', 'lines'], dir);
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      const { rows, runs } = await expectSoundRace(db);
      expect(decisions(rows)).toEqual(decisions(await referenceRace()));
      // A finished race: rerun continues a run, delete removes one; no round is decided again, no repeat queued.
      const eliminated = rows.find((r) => r.decision === 'eliminated')!;
      const [one, other] = runs.filter((r) => r.pipeline === eliminated.group);
      const rerun = cli(['rerun', file, db, '-id', String(one!.runId), '-epochs', '2'], dir);
      expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
      const removed = cli(['delete', db, '--id', String(other!.runId), '--yes'], dir);
      expect(removed.code, removed.stdout + removed.stderr).toBe(0);
      const after = await raceOf(db);
      expect(decisions(after.rows)).toEqual(decisions(rows));
      expect(after.runs.length).toBe(runs.length - 1);
      const status = cli(['status', db], dir);
      expect(status.stdout).toMatch(/Race on test_loss: 6 configurations, \d left after 5 rounds;/);
    });
  });
}
