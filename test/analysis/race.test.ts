import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/analysis/compare.js';
import { pairedT } from '../../src/analysis/paired-stats.js';
import {
  raceRound,
  raceSummary,
  raceThreshold,
  simulateRace,
  type RaceGenerator,
  type RaceGroup,
  type RaceTestSettings,
} from '../../src/analysis/race.js';
import { Criteria, type AnalysisRun } from '../../src/analysis/runs.js';
import { holm, mean } from '../../src/analysis/stats.js';
import { RACE_DEFAULTS, raceSettingsErrors } from '../../src/core/race-settings.js';

/** Racing (issue 22): a round's decision, its error control proven by simulation, and the 8-configuration target. */

const SETTINGS: RaceTestSettings = { minRepeats: 3, maxRepeats: 20, alpha: 0.05 };

/** A group whose repeat i ran on seed i. */
const group = (name: string, xs: number[], seeds = xs.map((_, i) => i)): RaceGroup => ({
  name,
  values: xs.map((value, i) => ({ seed: seeds[i]!, value })),
});

/** A seeded source of standard normal draws (Box–Muller over seedrandom's alea). */
function normals(seed: string): () => number {
  const rng = seedrandom.alea(seed);
  return () => {
    const u = 1 - rng();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
  };
}

/**
 * The generators of one simulated race: group g's value on seed s is means[g] + a seed effect
 * (sd seedSd, shared by every group on that seed: common random numbers) + its own noise (sd noiseSd).
 */
function generators(means: number[], seedSd: number, noiseSd: number, z: () => number): RaceGenerator[] {
  const seedEffect = new Map<number, number>();
  const effect = (s: number) => {
    let e = seedEffect.get(s);
    if (e === undefined) {
      e = seedSd * z();
      seedEffect.set(s, e);
    }
    return e;
  };
  return means.map((m) => (seed) => m + effect(seed) + noiseSd * z());
}

/** ± k Monte-Carlo standard errors of a rate p over n trials. */
const mcError = (p: number, n: number) => Math.sqrt((p * (1 - p)) / n);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

describe("a round's decision", () => {
  // Four seeds; "worse" is 0.1 above "best" on every seed, "close" within the seed noise.
  const seedNoise = [0.03, -0.02, 0.01, -0.015, 0.025, -0.005];
  const best = group(
    'best',
    seedNoise.map((e) => 0.2 + e),
  );
  const worse = group(
    'worse',
    seedNoise.map((e, i) => 0.3 + e + (i % 2 ? 0.002 : -0.002)),
  );
  const close = group(
    'close',
    seedNoise.map((e, i) => 0.201 + e + [0.004, -0.003, 0.002, -0.004, 0.001, 0.003][i]!),
  );

  it('eliminates a clearly worse group (paired t, p ≤ τ), keeps an undecided one, and gives both the best and it one more repeat', () => {
    const r = raceRound({ groups: [worse, best, close], better: 'lower', round: 2, settings: SETTINGS });
    expect(r.best).toBe('best');
    expect(r.threshold).toBeCloseTo(0.05 / (18 * 3), 15);
    const byName = new Map(r.comparisons.map((c) => [c.group, c]));
    expect(byName.get('worse')).toMatchObject({ decision: 'eliminated', design: 'paired', test: 'paired t', n: 6 });
    expect(byName.get('worse')!.p).toBeLessThanOrEqual(r.threshold);
    expect(byName.get('worse')!.diff).toBeCloseTo(0.1, 12);
    expect(byName.get('close')).toMatchObject({ decision: 'undecided', design: 'paired' });
    expect(byName.get('close')!.p).toBeGreaterThan(r.threshold);
    expect(r.eliminated).toEqual(['worse']);
    expect(r.undecided).toEqual(['close']);
    expect(r.next).toEqual(['best', 'close']);
    expect(r.over).toBeNull();
  });

  it('with higher-is-better the other way round; ties for the best go to the group listed first', () => {
    const flip = (g: RaceGroup) => ({ ...g, values: g.values.map((v) => ({ ...v, value: 1 - v.value })) });
    const r = raceRound({ groups: [flip(worse), flip(best)], better: 'higher', round: 1, settings: SETTINGS });
    expect(r.best).toBe('best');
    expect(r.eliminated).toEqual(['worse']);
    expect(r.over).toEqual({ reason: 'decided', text: 'every remaining group decided' });
    expect(r.next).toEqual([]);
    const twin = { ...best, name: 'twin' };
    expect(raceRound({ groups: [twin, best], better: 'lower', round: 1, settings: SETTINGS }).best).toBe('twin');
    expect(raceRound({ groups: [best, twin], better: 'lower', round: 1, settings: SETTINGS }).best).toBe('best');
  });

  it('paired vs independent: the same values on distinct seeds are tested by Welch, and the seed effect hides the difference', () => {
    const shifted = group(
      'shifted',
      seedNoise.map((e, i) => 0.215 + e + [0.001, -0.001, 0.0005, 0, -0.0005, 0.001][i]!),
    );
    const paired = raceRound({ groups: [best, shifted], better: 'lower', round: 1, settings: SETTINGS });
    expect(paired.comparisons[0]).toMatchObject({ design: 'paired', test: 'paired t', decision: 'eliminated' });
    const apart = group(
      'shifted',
      shifted.values.map((v) => v.value),
      shifted.values.map((_, i) => 100 + i),
    );
    const independent = raceRound({ groups: [best, apart], better: 'lower', round: 1, settings: SETTINGS });
    expect(independent.comparisons[0]).toMatchObject({
      design: 'independent',
      test: 'Welch',
      n: [6, 6],
      decision: 'undecided',
      unpairedBecause: 'the groups share no seed',
    });
    expect(independent.comparisons[0]!.diff).toBeCloseTo(paired.comparisons[0]!.diff, 12);
    expect(independent.comparisons[0]!.p).toBeGreaterThan(0.05);
  });

  it('with a rope, a group equivalent to the best (TOST ≤ τ) stops; without one it stays undecided', () => {
    const rope = 0.02;
    const r = raceRound({ groups: [best, close], better: 'lower', round: 1, settings: { ...SETTINGS, rope } });
    expect(r.comparisons[0]).toMatchObject({ group: 'close', decision: 'equivalent', equivalence: { rope } });
    expect(r.comparisons[0]!.equivalence!.p).toBeLessThanOrEqual(r.threshold);
    expect(r.equivalent).toEqual(['close']);
    expect(r.over?.reason).toBe('decided');
    const tight = raceRound({
      groups: [best, close],
      better: 'lower',
      round: 1,
      settings: { ...SETTINGS, rope: 0.002 },
    });
    expect(tight.comparisons[0]!.decision).toBe('undecided');
  });

  it('the last planned look ends the race (max_repeats), and so does a next round the budget cannot pay', () => {
    const settings = { ...SETTINGS, maxRepeats: 6 };
    const last = raceRound({ groups: [best, close], better: 'lower', round: 4, settings });
    expect(last.looks).toBe(4);
    expect(last.undecided).toEqual(['close']);
    expect(last.over).toEqual({ reason: 'max-repeats', text: 'max_repeats (6) reached' });
    expect(last.next).toEqual([]);
    expect(() => raceRound({ groups: [best, close], better: 'lower', round: 5, settings })).toThrow(/1 to the 4/);
    const poor = raceRound({ groups: [best, close], better: 'lower', round: 2, settings, runsLeft: 1 });
    expect(poor.over?.reason).toBe('budget');
    expect(raceRound({ groups: [best, close], better: 'lower', round: 2, settings, runsLeft: 2 }).over).toBeNull();
  });

  it('τ is α over the planned looks and the pairs of the groups the race started with; a group with one value is undecided', () => {
    expect(raceThreshold(SETTINGS, 8)).toBeCloseTo(0.05 / (18 * 28), 15);
    const r = raceRound({ groups: [best, close], better: 'lower', round: 3, settings: SETTINGS, startedWith: 8 });
    expect(r.threshold).toBeCloseTo(0.05 / (18 * 28), 15);
    const lone = group('lone', [0.9]);
    const one = raceRound({ groups: [best, lone], better: 'lower', round: 1, settings: SETTINGS });
    expect(one.comparisons[0]).toMatchObject({ group: 'lone', decision: 'undecided', p: 1 });
    expect(() =>
      raceRound({ groups: [best], better: 'lower', round: 1, settings: { ...SETTINGS, minRepeats: 1 } }),
    ).toThrow(/min_repeats/);
  });

  it('one line on the race', () => {
    expect(raceSummary([{ configurations: 8, left: 2, rounds: 5, runs: 46 }], 20)).toBe(
      '8 configurations, 2 left after 5 rounds; 46 runs instead of 160',
    );
    expect(
      raceSummary(
        [
          { configurations: 4, left: 1, rounds: 3, runs: 20 },
          { configurations: 4, left: 2, rounds: 18, runs: 60 },
        ],
        20,
        { reason: 'max-repeats', text: 'max_repeats (20) reached' },
      ),
    ).toBe(
      '8 configurations on 2 data keys, 3 left after 18 rounds; 80 runs instead of 160 (stopped: max_repeats (20) reached)',
    );
  });
});

describe('race settings', () => {
  const ok = { ...RACE_DEFAULTS };
  it('accept the defaults, and refuse each mistake in one line', () => {
    expect(raceSettingsErrors(ok)).toEqual([]);
    expect(raceSettingsErrors({ ...ok, minRepeats: 1 })).toEqual([
      'min_repeats must be an integer of at least 2 (a test needs two values per configuration), not 1',
    ]);
    expect(raceSettingsErrors({ ...ok, minRepeats: 5, maxRepeats: 4 })).toEqual([
      'max_repeats (4) must be at least min_repeats (5)',
    ]);
    expect(raceSettingsErrors({ ...ok, alpha: 1 })).toEqual([
      'alpha must be a number between 0 and 1 (e.g. 0.05), not 1',
    ]);
    expect(raceSettingsErrors({ ...ok, maxRuns: 0 })).toEqual(['max_runs must be a positive integer, not 0']);
    expect(raceSettingsErrors({ ...ok, maxRuns: 20 }, { configurations: 8 })).toEqual([
      'max_runs (20) is less than the first round needs: 8 configurations × min_repeats 3 = 24 runs',
    ]);
    expect(raceSettingsErrors({ ...ok, rope: -1 })).toHaveLength(1);
    for (const e of raceSettingsErrors({ ...ok, minRepeats: 0, alpha: 0, maxRuns: -3 })) expect(e).not.toMatch(/\n/);
  });
  it('a criterion that does not exist is refused once the logged metrics are known; result fields always pass', () => {
    expect(raceSettingsErrors({ ...ok, criterion: 'test_acc' }, { loggedMetrics: [] })).toEqual([]);
    expect(raceSettingsErrors({ ...ok, criterion: 'f1' }, { loggedMetrics: ['f1'] })).toEqual([]);
    expect(raceSettingsErrors({ ...ok, criterion: 'f1' })).toEqual([]);
    const [e] = raceSettingsErrors({ ...ok, criterion: 'tset_loss' }, { loggedMetrics: ['f1'] });
    expect(e).toMatch(
      /^race_criterion "tset_loss" does not exist; valid: .*test_loss.*, or a metric the classes log: f1$/,
    );
  });
});

describe('error control and power, by simulation (seeded)', () => {
  // On null data every group is a true best: eliminating any of them is the error bounded by α.
  it('on null data (8 equal groups, paired), races eliminate some group — each a true best — in at most α of them', () => {
    const N = 1000;
    const k = 8;
    const z = normals('null');
    const eliminatedOf = new Array<number>(k).fill(0);
    let any = 0;
    let runs = 0;
    for (let i = 0; i < N; i++) {
      const sim = simulateRace(generators(new Array(k).fill(0.2), 0.02, 0.01, z), {
        settings: SETTINGS,
        better: 'lower',
      });
      runs += sim.runs;
      if (sim.eliminated.length) any++;
      for (const name of sim.eliminated) eliminatedOf[Number(name.slice(1))]!++;
    }
    const a = SETTINGS.alpha;
    const se = mcError(a, N);
    const g0 = eliminatedOf[0]! / N;
    const worst = Math.max(...eliminatedOf) / N;
    console.log(
      `null, ${N} races of ${k} equal groups: g0 eliminated in ${pct(g0)}, the most eliminated group in ${pct(worst)}, some group in ${pct(any / N)} (α = ${a}, MC s.e. ${pct(se)}); mean runs ${(runs / N).toFixed(1)}`,
    );
    expect(g0).toBeLessThanOrEqual(a + 3 * se);
    expect(worst).toBeLessThanOrEqual(a + 3 * se);
    expect(any / N).toBeLessThanOrEqual(a + 3 * se);
  });

  it('on null data with independent repeats (Welch, 4 equal groups), the same', () => {
    const N = 1000;
    const z = normals('null-independent');
    let any = 0;
    for (let i = 0; i < N; i++) {
      const sim = simulateRace(generators([0.2, 0.2, 0.2, 0.2], 0.02, 0.01, z), {
        settings: SETTINGS,
        better: 'lower',
        paired: false,
      });
      expect(sim.rounds[0]!.comparisons[0]!.test).toBe('Welch');
      if (sim.eliminated.length) any++;
    }
    const se = mcError(SETTINGS.alpha, N);
    console.log(
      `null, ${N} races of 4 equal groups, independent: some group eliminated in ${pct(any / N)} (MC s.e. ${pct(se)})`,
    );
    expect(any / N).toBeLessThanOrEqual(SETTINGS.alpha + 3 * se);
  });

  it('with a known best (paired; means 0.20, 0.22, 0.24, 0.26, seed sd 0.02, noise sd 0.01), the race ends with it alone in ≥ 95% of races', () => {
    // The best leads the second by 0.02: 1.41 sd of the paired differences (sd 0.01·√2); d = 0.89 between independent runs.
    const N = 1000;
    const z = normals('power');
    let found = 0;
    let runs = 0;
    for (let i = 0; i < N; i++) {
      const sim = simulateRace(generators([0.2, 0.22, 0.24, 0.26], 0.02, 0.01, z), {
        settings: SETTINGS,
        better: 'lower',
      });
      runs += sim.runs;
      if (sim.survivors.length === 1 && sim.survivors[0] === 'g0') found++;
    }
    console.log(
      `known best, ${N} races of 4 groups: found alone in ${pct(found / N)} (MC s.e. ${pct(mcError(found / N, N))}); mean runs ${(runs / N).toFixed(1)} of 80`,
    );
    expect(found / N).toBeGreaterThanOrEqual(0.95);
  });
});

/** The runs of a fixed multiplicity = 20 as `compareRuns` reads them: paired seeds, the criterion a logged metric. */
function fixedRuns(values: number[][]): AnalysisRun[] {
  return values.flatMap((xs, g) =>
    xs.map((score, i) => ({
      runId: g * xs.length + i + 1,
      status: 'done' as const,
      pipeline: `g${g}`,
      facts: { seed: String(i), design: 'paired' },
      results: null,
      dataKey: 'data',
      modelKey: `g${g}`,
      metrics: { score },
    })),
  );
}

/** `compareRuns`' top group: the best mean and the groups not significantly different from it (its pairs' Holm p ≥ α). */
function compareTopGroup(values: number[][]): string[] {
  const report = compareRuns(fixedRuns(values), { criterion: 'score', criteria: new Criteria({ score: 'lower' }) });
  const best = report.rankings[0]!.entries[0]!.group;
  const tied = report.pairs.filter((p) => (p.a === best || p.b === best) && p.decision !== 'different');
  return [best, ...tied.map((p) => (p.a === best ? p.b : p.a))].sort();
}

/** The same top group by compare's own tests, without its report (fast): paired t on every pair, Holm, the best mean. */
function topGroup(values: number[][]): string[] {
  const means = values.map(mean);
  const best = means.indexOf(Math.min(...means));
  const pairs: [number, number][] = [];
  for (let a = 0; a < values.length; a++) for (let b = a + 1; b < values.length; b++) pairs.push([a, b]);
  const pHolm = holm(pairs.map(([a, b]) => pairedT(values[a]!, values[b]!).p));
  const tied = pairs
    .filter(([a, b], i) => (a === best || b === best) && pHolm[i]! >= 0.05)
    .map(([a, b]) => (a === best ? b : a));
  return [best, ...tied].map((g) => `g${g}`).sort();
}

describe('the 8-configuration target: 2 clearly best, 2 close seconds, 4 worse', () => {
  // test_loss-like, lower is better: a seed effect shared by every configuration on a seed (sd 0.02) and
  // each run's own noise (sd 0.004); the seconds are 0.015 behind the best (2.65 sd of paired
  // differences, 0.5 sd of a single run), the worse ones 0.05 to 0.08 behind.
  const MEANS = [0.2, 0.2, 0.215, 0.215, 0.25, 0.26, 0.27, 0.28];
  const N = 500;

  for (const rope of [0.01, undefined]) {
    it(`the race's top group is fixed multiplicity = 20's${rope ? `, with race_rope = ${rope} in ≤ 40% of its runs` : ', without a rope'}`, () => {
      const z = normals(`target-${rope}`);
      let agree = 0;
      let runs = 0;
      let rounds = 0;
      for (let i = 0; i < N; i++) {
        const gens = generators(MEANS, 0.02, 0.004, z);
        const sim = simulateRace(gens, {
          settings: { ...SETTINGS, ...(rope ? { rope } : {}) },
          better: 'lower',
        });
        // The fixed design on the same seeds: the race's values, then the repeats it did not run
        // (the same generators: each seed keeps its effect).
        const fixed = sim.values.map((g, k) =>
          Array.from({ length: SETTINGS.maxRepeats }, (_, seed) => g.values[seed]?.value ?? gens[k]!(seed)),
        );
        const top = topGroup(fixed);
        if (i === 0) expect(compareTopGroup(fixed)).toEqual(top);
        if (top.join() === [...sim.survivors].sort().join()) agree++;
        runs += sim.runs;
        rounds += sim.rounds.length;
        if (i === 0) console.log(`first race: ${raceSummary([sim.tally], SETTINGS.maxRepeats, sim.over)}`);
      }
      const share = runs / N / 160;
      console.log(
        `8 configurations${rope ? `, race_rope ${rope}` : ', no rope'}, ${N} races: same top group as multiplicity = 20 in ${pct(agree / N)}; mean runs ${(runs / N).toFixed(1)} of 160 (${pct(share)}), mean rounds ${(rounds / N).toFixed(1)}`,
      );
      expect(agree / N).toBeGreaterThanOrEqual(0.9);
      // Without a rope the two equal best can never be decided: they run to max_repeats, 40 of the
      // 64 runs 40% allows, and the others need 6×3 more for the first look alone (a floor of 58).
      if (rope) expect(share).toBeLessThanOrEqual(0.4);
    });
  }
});
