import { RACE_DEFAULTS, raceSettingsErrors, type RaceSettings } from '../core/race-settings.js';
import { plural } from '../core/wording.js';
import { pairedBy, type Pairing } from './design.js';
import { tost } from './equivalence.js';
import { pairedT } from './paired-stats.js';
import type { AnalysisRun, Better } from './runs.js';
import { mean, welch } from './stats.js';

/**
 * The statistics of a race (issue 22; F-race, Birattari et al. 2002; irace, López-Ibáñez et al.
 * 2016): after each round, within one data key, every remaining configuration is compared with
 * the current best; those significantly worse are eliminated, those equivalent to it (with a
 * rope) stop, and only the undecided ones — with the best — get one more repeat. Pure functions:
 * the queue, the store and the CLI call them (next sessions).
 *
 * ERROR CONTROL. Looking after every round and testing each look at the plain α would eliminate a
 * best configuration far more often than α (repeated significance tests: Armitage, McPherson &
 * Rowe 1969; Jennison & Turnbull 2000, ch. 1). The race bounds the probability of EVER
 * eliminating a configuration whose true mean is best (none better; on null data, where all are
 * equal, that is every configuration, so: of eliminating any) by α, with a double Bonferroni
 * bound, over the looks and over the pairs of configurations:
 *
 *   τ = α / (L · k(k − 1)/2),   L = max_repeats − min_repeats + 1 planned looks,
 *                               k = the configurations the race started with in the data key;
 *
 * a group is eliminated at a look when the two-sided p of its t-test against the current best
 * (paired t on the common seeds, else Welch: the t-tests of `compare`) is ≤ τ, and it is the
 * worse of the two (always, but for ties: the best is the best sample mean).
 * Proof: a true best g* is eliminated at look l only if, for the best ĝ ≠ g* of that look, the
 * test of the pair {g*, ĝ} rejects at τ with ĝ looking better. Take the L · k(k − 1)/2 events
 * "the test of pair {i, j} at look l rejects, towards j, and i is a true best". Each has
 * probability ≤ τ: when i and j are both true bests their means are equal and the two-sided test
 * rejects with probability ≤ τ (exactly τ for normal data); when j is truly worse than i,
 * rejecting towards j has probability ≤ τ/2 (each pair gives one event: the true best of the pair
 * is unique, or both are). A union bound gives ≤ α, whatever the dependence between looks
 * (cumulative data), between pairs (shared seeds, a shared best) and whatever the other groups
 * do; the sample sizes of a look are set by its round, not by the values. TOST (Schuirmann 1987,
 * on the same design) declares equivalence at the same τ, so the probability of ever declaring
 * equivalent two configurations farther apart than the rope is ≤ α by the same bound.
 *
 * Why not the cheaper alternatives: Bonferroni (or Holm) over the k − 1 comparisons with the best
 * alone bounds the elimination of one given best configuration, but not of any of several equal
 * ones — the comparisons with the best are chosen by the data (the sample's best against its
 * worst is the widest gap of all pairs, the range): on 8 equal groups, one-sided tests at
 * α / (L·(k − 1)) eliminated some group in 11% of 2,000 races, each given group in under 2%
 * (measured while building this).
 * Alpha-spending functions (Lan & DeMets 1983: Pocock, O'Brien–Fleming) spend α more cheaply
 * over the looks, but their guarantee rests on the independent increments of a z statistic,
 * which t-tests with 2 to 19 degrees of freedom only approach; Tukey's studentized range and
 * Multiple Comparisons with the Best (Hsu 1996) need a joint distribution that shared seeds and
 * unequal variances change. Simple and provable: Bonferroni. It is conservative — its cost is in
 * the figures of test/analysis/race.test.ts — and what it gives up is repeats, never the guarantee.
 *
 * The best group is the one with the best mean of the values so far (lowest or highest, as the
 * criterion says); ties go to the group listed first, so a round's decision is deterministic.
 * Decisions are final: an eliminated or an equivalent group leaves the race, so the groups still
 * racing always have the same repeats (the same seeds in a paired race), and each look's sample
 * sizes are fixed by its round.
 */

/** One run's value of the criterion, with its seed (the pairing of a paired design). */
export interface RaceValue {
  seed: number;
  value: number;
}

/** A group still racing in a data key: its name and its values so far. */
export interface RaceGroup {
  name: string;
  values: readonly RaceValue[];
}

/** The settings a round's decision uses (`RaceSettings` without the criterion). */
export type RaceTestSettings = Pick<RaceSettings, 'minRepeats' | 'maxRepeats' | 'alpha' | 'rope'>;

export interface RaceRoundInput {
  /** The groups still racing in this data key (not eliminated, not equivalent), in a stable order. */
  groups: readonly RaceGroup[];
  better: Better;
  /** 1 for the look after min_repeats repeats, r for the look after min_repeats + r − 1 (at most L). */
  round: number;
  settings: RaceTestSettings;
  /**
   * The groups the race started with in this data key (k in τ = α / (L·k(k − 1)/2)); default the
   * groups given, which is right for the first round only: later rounds must pass it for the
   * guarantee to hold.
   */
  startedWith?: number;
  /** Runs the budget (max_runs) still allows this data key; the race ends when the next round needs more. */
  runsLeft?: number;
}

/** A remaining group against the best. */
export interface RaceComparison {
  group: string;
  /** Paired when both ran on the same seeds, each once (`pairedBy`); independent otherwise. */
  design: 'paired' | 'independent';
  unpairedBecause?: string;
  test: 'paired t' | 'Welch';
  /** Pairs (paired), or values of the group and of the best (independent). */
  n: number | [number, number];
  /** Mean of the group − mean of the best (the mean of the differences when paired). */
  diff: number;
  /** Two-sided p-value of the test (1 when a side has fewer than 2 values). */
  p: number;
  /** Whether the group's mean is worse than the best's (false only for a tie). */
  worse: boolean;
  /** With a rope: TOST of |group − best| < rope on the same design, its p (max of the two one-sided). */
  equivalence?: { rope: number; p: number };
  decision: 'eliminated' | 'equivalent' | 'undecided';
}

export type RaceEndReason = 'decided' | 'max-repeats' | 'budget';

export interface RaceEnd {
  reason: RaceEndReason;
  /** In a few words: "every remaining group decided", "max_repeats (20) reached", "max_runs reached". */
  text: string;
}

export interface RaceRound {
  round: number;
  /** The planned looks L = max_repeats − min_repeats + 1. */
  looks: number;
  best: string;
  bestMean: number;
  /** The per-test level of every look: τ = α / (L·k(k − 1)/2); a p at or below it decides. */
  threshold: number;
  /** Every other group against the best, in the order given. */
  comparisons: RaceComparison[];
  eliminated: string[];
  equivalent: string[];
  undecided: string[];
  /** The groups that get one more repeat: the best and the undecided ones; empty when the race is over. */
  next: string[];
  over: RaceEnd | null;
}

/** The planned looks of a race: one after min_repeats repeats, then one per round up to max_repeats. */
export const plannedLooks = (s: Pick<RaceSettings, 'minRepeats' | 'maxRepeats'>) => s.maxRepeats - s.minRepeats + 1;

/** The per-test level of every look: α / (L · k(k − 1)/2), k the groups the race started with (Bonferroni over looks and pairs). */
export function raceThreshold(settings: RaceTestSettings, startedWith: number): number {
  const pairs = Math.max(1, (startedWith * (startedWith - 1)) / 2);
  return settings.alpha / (plannedLooks(settings) * pairs);
}

function checkSettings(settings: RaceTestSettings): void {
  const errors = raceSettingsErrors({ ...settings, criterion: RACE_DEFAULTS.criterion });
  if (errors.length) throw new RangeError(errors[0]);
}

/** The groups' values as runs, the way `pairedBy` reads them (the seed as the fact), and each run's value. */
function asRuns(groups: readonly RaceGroup[]): { runs: AnalysisRun[][]; value: (run: AnalysisRun) => number } {
  const values = new Map<AnalysisRun, number>();
  let runId = 0;
  const runs = groups.map((group) =>
    group.values.map((v) => {
      const run: AnalysisRun = {
        runId: ++runId,
        status: 'done',
        pipeline: group.name,
        facts: { seed: String(v.seed) },
        results: null,
        dataKey: '',
        modelKey: group.name,
        metrics: {},
      };
      values.set(run, v.value);
      return run;
    }),
  );
  return { runs, value: (run) => values.get(run)! };
}

/** A group against the best: the t-test of the design, and TOST with a rope. */
function compareWithBest(
  group: RaceGroup,
  best: RaceGroup,
  pairing: Pairing,
  better: Better,
  rope: number | undefined,
  threshold: number,
): Omit<RaceComparison, 'decision'> {
  const a = group.values.map((v) => v.value);
  const b = best.values.map((v) => v.value);
  const worse = (diff: number) => (better === 'lower' ? diff > 0 : diff < 0);
  // TOST needs α < 0.5 for its interval, which is not used here: only its p is compared with τ.
  const tostAlpha = Math.min(threshold, 0.25);
  if (pairing.pairs && pairing.pairs.length >= 2) {
    const t = pairedT(pairing.a, pairing.b);
    return {
      group: group.name,
      design: 'paired',
      test: 'paired t',
      n: t.n,
      diff: t.diff,
      p: t.p,
      worse: worse(t.diff),
      ...(rope !== undefined
        ? { equivalence: { rope, p: tost(pairing.a, pairing.b, rope, { paired: true, alpha: tostAlpha }).p } }
        : {}),
    };
  }
  const enough = a.length >= 2 && b.length >= 2;
  const w = enough ? welch(a, b) : undefined;
  const diff = a.length && b.length ? mean(a) - mean(b) : NaN;
  return {
    group: group.name,
    design: 'independent',
    unpairedBecause: pairing.reason ?? 'fewer than two common seeds',
    test: 'Welch',
    n: [a.length, b.length],
    diff,
    p: w ? w.p : 1,
    worse: worse(diff),
    ...(rope !== undefined ? { equivalence: { rope, p: enough ? tost(a, b, rope, { alpha: tostAlpha }).p : 1 } } : {}),
  };
}

/**
 * The decision of one round in one data key: the best group (best mean, ties to the first
 * listed), each other group against it — eliminated when it is worse and its p ≤ τ, else equivalent
 * when a rope is given and TOST's p ≤ τ, else undecided — and whether the race is over: every
 * remaining group decided (or only one left), the last planned look (max_repeats), or a next
 * round the budget cannot pay. A group with fewer than two values cannot be tested: it is
 * undecided. Throws a RangeError on settings `raceSettingsErrors` refuses, a round outside
 * 1…L, no group, or a non-finite value.
 */
export function raceRound(input: RaceRoundInput): RaceRound {
  const { groups, better, round, settings } = input;
  checkSettings(settings);
  const looks = plannedLooks(settings);
  if (!(Number.isInteger(round) && round >= 1 && round <= looks))
    throw new RangeError(`round must be an integer from 1 to the ${looks} planned looks, not ${round}`);
  if (groups.length === 0) throw new RangeError('a round needs at least one group');
  for (const g of groups)
    if (g.values.some((v) => !Number.isFinite(v.value)))
      throw new RangeError(`group ${g.name} has a value that is not a finite number`);
  const startedWith = input.startedWith ?? groups.length;
  if (startedWith < groups.length)
    throw new RangeError(`startedWith (${startedWith}) is less than the ${groups.length} groups still racing`);
  const threshold = raceThreshold(settings, startedWith);

  const means = groups.map((g) => (g.values.length ? mean(g.values.map((v) => v.value)) : NaN));
  let bestIndex = -1;
  means.forEach((m, i) => {
    if (Number.isNaN(m)) return;
    const cur = bestIndex < 0 ? NaN : means[bestIndex]!;
    if (bestIndex < 0 || (better === 'lower' ? m < cur : m > cur)) bestIndex = i;
  });
  if (bestIndex < 0) bestIndex = 0;
  const best = groups[bestIndex]!;

  const { runs, value } = asRuns(groups);
  const comparisons: RaceComparison[] = groups
    .map((g, i) => ({ g, i }))
    .filter(({ i }) => i !== bestIndex)
    .map(({ g, i }) => {
      const pairing = pairedBy(runs[i]!, runs[bestIndex]!, value, [g.name, best.name]);
      const c = compareWithBest(g, best, pairing, better, settings.rope, threshold);
      const decision =
        c.worse && c.p <= threshold
          ? 'eliminated'
          : c.equivalence && c.equivalence.p <= threshold
            ? 'equivalent'
            : 'undecided';
      return { ...c, decision };
    });
  const named = (d: RaceComparison['decision']) => comparisons.filter((c) => c.decision === d).map((c) => c.group);
  const [eliminated, equivalent, undecided] = [named('eliminated'), named('equivalent'), named('undecided')];
  const wanted = undecided.length ? [best.name, ...undecided] : [];

  let over: RaceEnd | null = null;
  if (undecided.length === 0)
    over = {
      reason: 'decided',
      text: comparisons.length ? 'every remaining group decided' : 'one group left',
    };
  else if (round >= looks) over = { reason: 'max-repeats', text: `max_repeats (${settings.maxRepeats}) reached` };
  else if (input.runsLeft !== undefined && wanted.length > input.runsLeft)
    over = {
      reason: 'budget',
      text: `max_runs reached (the next round needs ${wanted.length} runs, ${input.runsLeft} left)`,
    };

  return {
    round,
    looks,
    best: best.name,
    bestMean: means[bestIndex]!,
    threshold,
    comparisons,
    eliminated,
    equivalent,
    undecided,
    next: over ? [] : wanted,
    over,
  };
}

/** What a race in one data key came to, for its summary line. */
export interface RaceTally {
  configurations: number;
  /** Groups never eliminated (still racing at the end, or equivalent to the best). */
  left: number;
  rounds: number;
  runs: number;
}

/**
 * The one line on a race (issue 22, item 5), over its data keys: "8 configurations, 2 left after 5
 * rounds; 46 runs instead of 160", the runs a fixed multiplicity = max_repeats would have queued
 * after "instead of"; "on N data keys" when there are several (rounds: the most of any key), and
 * why it stopped when that is not that every group was decided.
 */
export function raceSummary(keys: readonly RaceTally[], maxRepeats: number, end?: RaceEnd): string {
  const sum = (f: (t: RaceTally) => number) => keys.reduce((s, t) => s + f(t), 0);
  const configurations = sum((t) => t.configurations);
  const rounds = Math.max(0, ...keys.map((t) => t.rounds));
  const where = keys.length > 1 ? ` on ${keys.length} data keys` : '';
  const why = end && end.reason !== 'decided' ? ` (stopped: ${end.text})` : '';
  return `${plural(configurations, 'configuration')}${where}, ${sum((t) => t.left)} left after ${plural(rounds, 'round')}; ${plural(
    sum((t) => t.runs),
    'run',
  )} instead of ${configurations * maxRepeats}${why}`;
}

/** A group's values, drawn run by run: its value for a run of that seed. */
export type RaceGenerator = (seed: number) => number;

export interface RaceSimulationOptions {
  settings: RaceTestSettings & Pick<RaceSettings, 'maxRuns'>;
  better: Better;
  /** Paired seeds (repeat i of every group on seed i, as `[MONITOR] paired`), the race's default; else a seed per run. */
  paired?: boolean;
  /** The groups' names; default g0, g1… */
  names?: readonly string[];
}

export interface RaceSimulation {
  groups: string[];
  rounds: RaceRound[];
  /** In the order they were eliminated. */
  eliminated: string[];
  equivalent: string[];
  /** The groups never eliminated: still racing at the end, or equivalent to the best; in the order given. */
  survivors: string[];
  /** The best of the last round. */
  best: string;
  runs: number;
  /** The runs of a fixed multiplicity = max_repeats: groups × max_repeats. */
  fixedRuns: number;
  /** Every value drawn, by group. */
  values: RaceGroup[];
  over: RaceEnd;
  tally: RaceTally;
}

/**
 * A whole race in one data key on data generators (for tests and the bench): min_repeats values
 * of every group, then a round after another as `raceRound` decides, one more value for each group
 * it names, until it says the race is over. The generators' randomness is theirs (seed them for a
 * reproducible race); with `paired`, a generator is called with the same seed for repeat i in
 * every group, so a shared seed effect makes paired differences, as common random numbers do.
 */
export function simulateRace(generators: readonly RaceGenerator[], options: RaceSimulationOptions): RaceSimulation {
  const { settings, better, paired = true } = options;
  checkSettings(settings);
  const k = generators.length;
  if (k === 0) throw new RangeError('a race needs at least one group');
  const names = options.names ? [...options.names] : generators.map((_, i) => `g${i}`);
  if (names.length !== k || new Set(names).size !== k)
    throw new RangeError(`names must be ${k} distinct names, one per generator`);
  if (settings.maxRuns !== undefined && settings.maxRuns < k * settings.minRepeats)
    throw new RangeError(
      `max_runs (${settings.maxRuns}) is less than the first round needs (${k} × ${settings.minRepeats})`,
    );
  const values: RaceValue[][] = names.map(() => []);
  let runs = 0;
  const draw = (g: number) => {
    const i = values[g]!.length;
    const seed = paired ? i : g * settings.maxRepeats + i;
    values[g]!.push({ seed, value: generators[g]!(seed) });
    runs++;
  };
  for (let g = 0; g < k; g++) for (let i = 0; i < settings.minRepeats; i++) draw(g);
  let racing = names.map((_, g) => g);
  const rounds: RaceRound[] = [];
  const eliminated: string[] = [];
  const equivalent: string[] = [];
  for (let round = 1; ; round++) {
    const decision = raceRound({
      groups: racing.map((g) => ({ name: names[g]!, values: values[g]! })),
      better,
      round,
      settings,
      startedWith: k,
      ...(settings.maxRuns !== undefined ? { runsLeft: settings.maxRuns - runs } : {}),
    });
    rounds.push(decision);
    eliminated.push(...decision.eliminated);
    equivalent.push(...decision.equivalent);
    const out = new Set([...decision.eliminated, ...decision.equivalent]);
    racing = racing.filter((g) => !out.has(names[g]!));
    if (decision.over) {
      const gone = new Set(eliminated);
      const survivors = names.filter((n) => !gone.has(n));
      return {
        groups: names,
        rounds,
        eliminated,
        equivalent,
        survivors,
        best: decision.best,
        runs,
        fixedRuns: k * settings.maxRepeats,
        values: names.map((name, g) => ({ name, values: values[g]! })),
        over: decision.over,
        tally: { configurations: k, left: survivors.length, rounds: round, runs },
      };
    }
    for (const name of decision.next) draw(names.indexOf(name));
  }
}
