import { DESIGN_FACT, PAIRED } from '../pipelines/facts.js';
import type { AnalysisRun } from './runs.js';

/**
 * The design of a comparison between two groups of runs: paired when both groups ran on the very
 * same seeds (common random numbers: `[MONITOR] paired = True` gives repeat k of every pipeline
 * the seed base + k, so the same split, data order and seeded initial weights), each seed once
 * per group; independent otherwise. Paired tests are then valid, and stronger where the
 * split-to-split variance dominates.
 */

/** One matched pair: the two groups' runs of one seed. */
export interface SeedPair {
  seed: number;
  a: AnalysisRun;
  b: AnalysisRun;
}

export type Pairing =
  | {
      /** The runs matched by seed, in increasing seed order. */
      pairs: SeedPair[];
      /** Their values, aligned: `a[i]` and `b[i]` come from the runs of `seeds[i]`. */
      a: number[];
      b: number[];
      seeds: number[];
      /** Every run of both groups has `design = paired` (the experiment asked for it; otherwise the seeds agree by other means, e.g. `--reuse-seeds`). */
      declared: boolean;
      /** Runs of a paired design whose seed the other group lacks (a race stopped one group earlier), left out of the pairs. */
      unmatched: number;
      reason?: undefined;
    }
  | {
      pairs: undefined;
      a?: undefined;
      b?: undefined;
      seeds?: undefined;
      declared?: undefined;
      unmatched?: undefined;
      reason: string;
    };

/** A run's seed (`params.seed`), when it is an integer. */
export function seedOf(run: AnalysisRun): number | undefined {
  const raw = run.facts.seed;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) ? n : undefined;
}

/** Whether a run was made by an experiment with `[MONITOR] paired = True`. */
export const isPairedRun = (run: AnalysisRun) => run.facts[DESIGN_FACT] === PAIRED;

/**
 * The two groups matched by seed, when they can be: each group's runs have distinct seeds and
 * both groups have the same set of seeds — or, in a declared paired design (every run's
 * `design = paired`), at least two seeds in common: a race stops a configuration after the
 * repeats it shares with the best, and a run without a value leaves its seed alone; the pairs are
 * then the common seeds, and `unmatched` counts the runs left out. Runs whose `value` is null are
 * not part of a group and are left out first. Otherwise `pairs` is undefined and `reason` says why, in a few words that
 * complete "independent tests: …" (e.g. `the seeds differ (3 of 4 shared)`). `labels` name the
 * groups in the reason.
 */
export function pairedBy(
  aRuns: readonly AnalysisRun[],
  bRuns: readonly AnalysisRun[],
  value: (run: AnalysisRun) => number | null,
  labels: readonly [string, string] = ['the first group', 'the second group'],
): Pairing {
  const bySeed = (
    runs: readonly AnalysisRun[],
    label: string,
  ): Map<number, { run: AnalysisRun; value: number }> | string => {
    const out = new Map<number, { run: AnalysisRun; value: number }>();
    for (const run of runs) {
      const v = value(run);
      if (v === null) continue;
      const seed = seedOf(run);
      if (seed === undefined) return `run ${run.runId} of ${label} has no seed`;
      const other = out.get(seed);
      if (other) return `seed ${seed} is used by two runs of ${label} (${other.run.runId} and ${run.runId})`;
      out.set(seed, { run, value: v });
    }
    return out;
  };
  const a = bySeed(aRuns, labels[0]);
  if (typeof a === 'string') return { pairs: undefined, reason: a };
  const b = bySeed(bRuns, labels[1]);
  if (typeof b === 'string') return { pairs: undefined, reason: b };
  if (a.size === 0 || b.size === 0)
    return { pairs: undefined, reason: `${a.size === 0 ? labels[0] : labels[1]} has no run` };
  const shared = [...a.keys()].filter((s) => b.has(s)).length;
  const declared = [...a.values(), ...b.values()].every((x) => isPairedRun(x.run));
  if ((shared !== a.size || shared !== b.size) && !(declared && shared >= 2)) {
    return {
      pairs: undefined,
      reason:
        shared === 0
          ? 'the groups share no seed'
          : `the seeds differ (${shared} shared, ${a.size - shared} only in ${labels[0]}, ${b.size - shared} only in ${labels[1]})`,
    };
  }
  const seeds = [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
  const pairs = seeds.map((seed) => ({ seed, a: a.get(seed)!.run, b: b.get(seed)!.run }));
  return {
    pairs,
    a: seeds.map((s) => a.get(s)!.value),
    b: seeds.map((s) => b.get(s)!.value),
    seeds,
    declared,
    unmatched: a.size + b.size - 2 * shared,
  };
}
