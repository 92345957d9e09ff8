import { MosaicError } from '../core/errors.js';
import { fixed, pVerdict } from '../core/format.js';
import { clip, criterionRange, rangeText } from './bands.js';
import { compareValues, factNamed, moduleFacts, valueKey } from './params.js';
import { orderedLabels, refuseUnknownPool, seriesLabel, splitCells, type PlacedRun } from './pooling.js';
import {
  BUILTIN_CRITERIA,
  criterionValue,
  type AnalysisRun,
  type Better,
  type Criteria,
  type Criterion,
} from './runs.js';
import {
  cliffsDelta,
  cohensD,
  holm,
  mannWhitney,
  pooledStd,
  probabilityBelow,
  std,
  summarize,
  welch,
  type Summary,
} from './stats.js';
import { pairedT, wilcoxonSignedRank } from './paired-stats.js';
import { tost as twoOneSidedTests, type TostResult } from './equivalence.js';
import { repeatsNeededT } from './power.js';
import { pairedBy } from './design.js';
import { leftOut, usableRuns } from './usable.js';
import { plural } from '../core/wording.js';
import { compactLetters } from './letters.js';

export interface CompareOptions {
  criterion: Criterion;
  /** The database's criteria (`loadRuns`): which way is better for a metric the runs logged. Default: the built-in criteria alone. */
  criteria?: Criteria;
  /** A scheme type whose `<type>_key` names the groups; default: the whole model chain's keys. */
  by?: string;
  /** Compare separately at each value of `nb_params` or of a parameter (`width` matches `mlp_brick_width`). */
  at?: string;
  /** Parameters whose values are pooled on purpose instead of splitting the groups. */
  pool?: string[];
  alpha?: number;
  /** A region of practical equivalence, ±rope in the criterion's units: each pair also gets two one-sided tests (TOST). */
  rope?: number;
}

export interface GroupStats extends Summary {
  dataset: string;
  at: string | null;
  group: string;
  /**
   * Its letters in the compact letter display of its dataset (and `at` value): groups that share
   * a letter are not significantly different after Holm (Welch); groups that share none are.
   * Empty for a group with fewer than 2 runs, which is not tested.
   */
  letters: string;
}

export interface PairStats {
  dataset: string;
  at: string | null;
  a: string;
  b: string;
  /**
   * `paired` when both groups ran on the same seeds, each once (a paired design's common random
   * numbers, analysis/design.ts): paired t and Wilcoxon signed-rank on the differences seed by
   * seed; `independent` otherwise: Welch's t and Mann–Whitney U.
   */
  design: 'paired' | 'independent';
  /** Why the pair is not paired (independent only): the seeds differ, a seed repeats… */
  unpairedBecause?: string;
  /** Paired on the seeds both groups have, in a paired design where one has runs the other lacks (a race): the runs left out of the pairs. */
  unmatched?: number;
  /** The t-test of the design ('paired t' or 'Welch'): its p, Holm-adjusted over all pairs. */
  test: 'paired t' | 'Welch';
  p: number;
  pHolm: number;
  /** The rank test of the design ('Wilcoxon' signed-rank or 'Mann–Whitney' U), Holm-adjusted too. */
  rankTest: 'Wilcoxon' | 'Mann–Whitney';
  rankP: number;
  rankPHolm: number;
  /** mean a − mean b (the mean of the differences when paired), with its 95% interval from the t-test. */
  diff: number;
  ci: [number, number];
  /** Runs (independent) or pairs of runs (paired) behind the test. */
  n: [number, number] | number;
  cohensD: number;
  cliffsDelta: number;
  /** Probability that a draw of a is better than a draw of b (ties half). */
  pABetter: number;
  /** With `rope`: two one-sided tests of |a − b| < rope (p Holm-adjusted over the pairs, and the 90% interval). */
  equivalence?: { rope: number; p: number; pHolm: number; ci: [number, number] };
  /** What the tests decide: a difference, practical equivalence (with `rope`), or nothing yet. */
  decision: 'different' | 'equivalent' | 'undecided';
  /**
   * For an undecided pair: the repeats per group (pairs, when paired) a t-test of the design would
   * need to detect the observed difference with 80% power at α/m, m the pairs compared (the
   * strictest step of Holm; noncentral t); Infinity when the means are equal.
   */
  repeatsNeeded?: number;
}

/** A group in the order of its mean, best first, with its letters (`GroupStats.letters`). */
export interface RankEntry {
  group: string;
  mean: number;
  letters: string;
}

export interface CompareReport {
  criterion: Criterion;
  direction: Better;
  by: string;
  at: string | null;
  /** Parameters the groups were split by, and those pooled on request. */
  splitBy: string[];
  pooled: string[];
  /** What the comparison left out, split or pooled, in sentences. */
  notes: string[];
  /** Which design the tests assumed and why, in one line (paired: the same seeds; independent repeats). */
  design: string;
  /** The region of practical equivalence of `--rope`, or null. */
  rope: number | null;
  groups: GroupStats[];
  pairs: PairStats[];
  rankings: { dataset: string; at: string | null; entries: RankEntry[] }[];
  verdicts: { dataset: string; text: string }[];
}

function atValue(run: AnalysisRun, at: string): string | undefined {
  if (at === 'nb_params') return run.results ? String(run.results.nb_params) : undefined;
  const fact = factNamed(run.facts, at, run.runId);
  return fact === undefined ? undefined : run.facts[fact];
}

function groupOf(run: AnalysisRun, by: string | undefined): string | undefined {
  return by === undefined ? run.modelKey : run.facts[`${by}_key`];
}

/** With `--by T`, the keys and parameters of the model chain's other types are pooled by definition. */
function otherModelTypesFacts(by: string) {
  return (run: AnalysisRun) => {
    const types = (run.facts.pipeline_scheme ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t && t !== by);
    const params = [...moduleFacts(run.facts)].filter(([, m]) => types.includes(m.type)).map(([f]) => f);
    return [...types.map((t) => `${t}_key`), ...params];
  };
}

interface Cell {
  dataset: string;
  at: string | null;
  group: string;
  values: number[];
  runs: AnalysisRun[];
}

export function compareRuns(all: AnalysisRun[], options: CompareOptions): CompareReport {
  return compareRunsWithIds(all, options).report;
}

/**
 * `compareRuns`, with the ids of each group's runs (`runIds[i]` are those of `report.groups[i]`):
 * a figure finds its own series among the groups by their runs, not by their labels.
 */
export function compareRunsWithIds(
  all: AnalysisRun[],
  options: CompareOptions,
): { report: CompareReport; runIds: number[][] } {
  // Parsed again so that a logged metric without its database's criteria is refused, not taken as lower-is-better.
  const criterion = (options.criteria ?? BUILTIN_CRITERIA).parse(options.criterion);
  const better = (options.criteria ?? BUILTIN_CRITERIA).better(criterion);
  const alpha = options.alpha ?? 0.05;
  const usable = usableRuns(all, criterion);
  const notes = usable.notes;
  const done = usable.runs;
  if (done.length === 0)
    throw new MosaicError(`no finished run has a value of ${criterion}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  if (options.by !== undefined && !done.some((r) => r.facts[`${options.by}_key`] !== undefined)) {
    const types = [
      ...new Set(
        done.flatMap((r) =>
          Object.keys(r.facts)
            .filter((k) => k.endsWith('_key'))
            .map((k) => k.slice(0, -4)),
        ),
      ),
    ];
    throw new MosaicError(
      `--by ${options.by}: no run has a key of type "${options.by}"; types with keys: ${types.join(', ')}`,
    );
  }

  const placed: (PlacedRun & { at: string | null; group: string })[] = [];
  const [noGroup, noAt]: AnalysisRun[][] = [[], []];
  const atSpelling = new Map<string, string>();
  for (const run of done) {
    const group = groupOf(run, options.by);
    const at = options.at === undefined ? null : (atValue(run, options.at) ?? null);
    if (group === undefined) noGroup.push(run);
    else if (options.at !== undefined && at === null) noAt.push(run);
    else {
      if (at !== null && !atSpelling.has(valueKey(at))) atSpelling.set(valueKey(at), at);
      const shownAt = at === null ? null : atSpelling.get(valueKey(at))!;
      placed.push({
        run,
        at: shownAt,
        group,
        cell: JSON.stringify([run.dataKey, shownAt, group]),
        line: JSON.stringify([run.dataKey, group]),
      });
    }
  }
  if (options.at !== undefined && placed.length === 0)
    throw new MosaicError(
      `--at ${options.at}: no run has a parameter named ${options.at} (or ending in _${options.at}), nor is it nb_params`,
    );
  if (noGroup.length) notes.push(leftOut(noGroup, `without a ${options.by}_key`));
  if (noAt.length) notes.push(leftOut(noAt, `without a value of --at ${options.at}`));

  refuseUnknownPool(done, options.pool ?? []);
  const pooling = splitCells(placed, {
    pool: options.pool ?? [],
    fixed: options.at !== undefined && options.at !== 'nb_params' ? [options.at] : [],
    ...(options.by !== undefined
      ? {
          pooledBy: {
            facts: otherModelTypesFacts(options.by),
            reason: `over the model chain's other types (--by ${options.by})`,
          },
        }
      : {}),
    poolHint: '--pool',
  });
  notes.push(...pooling.notes);

  const cells = new Map<string, Cell>();
  const labels = new Map<string, string>();
  for (const p of placed) {
    const seriesId = JSON.stringify([p.group, pooling.variantKey.get(p.run.runId)]);
    if (!labels.has(seriesId)) labels.set(seriesId, seriesLabel(p.group, pooling.variant.get(p.run.runId)!));
    const id = JSON.stringify([p.run.dataKey, p.at, seriesId]);
    let cell = cells.get(id);
    if (!cell) {
      cell = { dataset: p.run.dataKey, at: p.at, group: labels.get(seriesId)!, values: [], runs: [] };
      cells.set(id, cell);
    }
    cell.values.push(criterionValue(p.run, criterion)!);
    cell.runs.push(p.run);
  }

  const range = criterionRange(
    criterion,
    better,
    done.map((r) => criterionValue(r, criterion)!),
  );
  let clipped = false;
  const withClippedCi = (s: Summary): Summary => {
    if (!s.ci) return s;
    const ci: [number, number] = [clip(s.ci[0], range), clip(s.ci[1], range)];
    if (ci[0] !== s.ci[0] || ci[1] !== s.ci[1]) clipped = true;
    return { ...s, ci };
  };
  const groupOrder = orderedLabels(
    placed.map((p) => ({ base: p.group, runId: p.run.runId })),
    pooling,
  );
  const byGroupOrder = (x: Cell, y: Cell) =>
    x.dataset.localeCompare(y.dataset) ||
    (x.at === null || y.at === null ? 0 : compareValues(x.at, y.at)) ||
    groupOrder.indexOf(x.group) - groupOrder.indexOf(y.group);
  const ordered = [...cells.values()].sort(byGroupOrder);
  const groups: GroupStats[] = ordered.map((c) => ({
    dataset: c.dataset,
    at: c.at,
    group: c.group,
    ...withClippedCi(summarize(c.values)),
    letters: '',
  }));
  if (clipped) notes.push(`95% CIs clipped to ${criterion}'s range (${rangeText(range)})`);
  const cellOf = (g: GroupStats) => ordered[groups.indexOf(g)]!;
  const rawPairs: RawPair[] = [];
  const levels = [...new Set(groups.map((g) => JSON.stringify([g.dataset, g.at])))];
  for (const level of levels) {
    const inLevel = groups.filter((g) => JSON.stringify([g.dataset, g.at]) === level && g.n >= 2);
    for (let i = 0; i < inLevel.length; i++) {
      for (let j = i + 1; j < inLevel.length; j++) {
        rawPairs.push(pairTests(cellOf(inLevel[i]!), cellOf(inLevel[j]!), criterion, better, options.rope));
      }
    }
  }
  const pHolm = holm(rawPairs.map((p) => p.p));
  const rankHolm = holm(rawPairs.map((p) => p.rankP));
  const tostHolm = holm(rawPairs.map((p) => p.tost?.p ?? 1));
  const pairs: PairStats[] = rawPairs.map(({ tost, sd, ...p }, i) => {
    const equivalence =
      tost && options.rope !== undefined
        ? { rope: options.rope, p: tost.p, pHolm: tostHolm[i]!, ci: tost.ci }
        : undefined;
    const decision =
      pHolm[i]! < alpha ? 'different' : equivalence && equivalence.pHolm < alpha ? 'equivalent' : 'undecided';
    return {
      ...p,
      pHolm: pHolm[i]!,
      rankPHolm: rankHolm[i]!,
      ...(equivalence ? { equivalence } : {}),
      decision,
      // At α/m, the strictest step of Holm over the m pairs: enough repeats to decide it in this very comparison.
      ...(decision === 'undecided'
        ? {
            repeatsNeeded: repeatsNeededT(p.diff, sd, {
              paired: p.design === 'paired',
              alpha: alpha / rawPairs.length,
            }),
          }
        : {}),
    };
  });

  const rankings = levels.map((level) => {
    const [dataset, at] = JSON.parse(level) as [string, string | null];
    const sorted = groups
      .filter((g) => g.dataset === dataset && g.at === at && g.n >= 2)
      .sort((x, y) => (better === 'higher' ? y.mean - x.mean : x.mean - y.mean));
    const different = (a: string, b: string) => pairOf(pairs, dataset, at, a, b)!.pHolm < alpha;
    const letters = compactLetters(
      sorted.map((g) => g.group),
      different,
    );
    for (const g of sorted) g.letters = letters.get(g.group)!;
    return { dataset, at, entries: sorted.map((g) => ({ group: g.group, mean: g.mean, letters: g.letters })) };
  });

  const datasets = [...new Set(groups.map((g) => g.dataset))];
  const verdicts = datasets.map((dataset) => ({
    dataset,
    text: verdict(dataset, groups, pairs, rankings, { ...options, criterion }, better, alpha),
  }));
  const report: CompareReport = {
    criterion,
    direction: better,
    by: options.by ?? 'model key',
    at: options.at ?? null,
    splitBy: pooling.splitBy,
    pooled: pooling.pooled,
    notes,
    design: designLine(pairs),
    rope: options.rope ?? null,
    groups,
    pairs,
    rankings,
    verdicts,
  };
  return { report, runIds: ordered.map((c) => c.runs.map((r) => r.runId)) };
}

/** `--rope D` as given (the CLI's option, the dashboard's field): a positive number, or undefined when not given. */
export function parseRope(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const rope = Number(value);
  if (!(Number.isFinite(rope) && rope > 0))
    throw new MosaicError(
      `--rope must be a positive number in the criterion's units (e.g. 0.005 for accuracy), not "${value}"`,
    );
  return rope;
}

/** A pair's tests before Holm: its TOST, and the standard deviation its repeats-needed estimate uses. */
type RawPair = Omit<PairStats, 'pHolm' | 'rankPHolm' | 'decision' | 'equivalence' | 'repeatsNeeded'> & {
  tost?: TostResult;
  sd: number;
};

/**
 * The tests of two groups, as their design calls for: paired when they ran on the same seeds
 * (each once), on the differences seed by seed; independent otherwise.
 */
function pairTests(ca: Cell, cb: Cell, criterion: Criterion, better: Better, rope: number | undefined): RawPair {
  const [a, b] = [ca.values, cb.values];
  const below = probabilityBelow(a, b);
  const common = {
    dataset: ca.dataset,
    at: ca.at,
    a: ca.group,
    b: cb.group,
    cohensD: cohensD(a, b),
    cliffsDelta: cliffsDelta(a, b),
    pABetter: better === 'higher' ? 1 - below : below,
  };
  const pairing = pairedBy(ca.runs, cb.runs, (r) => criterionValue(r, criterion), [ca.group, cb.group]);
  if (pairing.pairs && pairing.pairs.length >= 2) {
    const t = pairedT(pairing.a, pairing.b);
    const differences = pairing.a.map((x, i) => x - pairing.b[i]!);
    return {
      ...common,
      design: 'paired',
      ...(pairing.unmatched ? { unmatched: pairing.unmatched } : {}),
      test: 'paired t',
      p: t.p,
      rankTest: 'Wilcoxon',
      rankP: wilcoxonSignedRank(pairing.a, pairing.b).p,
      diff: t.diff,
      ci: t.ci,
      n: t.n,
      sd: std(differences),
      ...(rope !== undefined ? { tost: twoOneSidedTests(pairing.a, pairing.b, rope, { paired: true }) } : {}),
    };
  }
  const w = welch(a, b);
  return {
    ...common,
    design: 'independent',
    unpairedBecause: pairing.reason ?? 'fewer than two common seeds',
    test: 'Welch',
    p: w.p,
    rankTest: 'Mann–Whitney',
    rankP: mannWhitney(a, b).p,
    diff: w.diff,
    ci: w.ci,
    n: [a.length, b.length],
    sd: pooledStd(a, b),
    ...(rope !== undefined ? { tost: twoOneSidedTests(a, b, rope) } : {}),
  };
}

/** The pair of groups a and b (either order) of a dataset and `at` value. */
function pairOf(pairs: PairStats[], dataset: string, at: string | null, a: string, b: string): PairStats | undefined {
  return pairs.find(
    (q) => q.dataset === dataset && q.at === at && ((q.a === a && q.b === b) || (q.a === b && q.b === a)),
  );
}

function verdict(
  dataset: string,
  groups: GroupStats[],
  pairs: PairStats[],
  rankings: CompareReport['rankings'],
  options: CompareOptions,
  better: Better,
  alpha: number,
): string {
  const c = options.criterion;
  const names = [...new Set(groups.filter((g) => g.dataset === dataset).map((g) => g.group))];
  const mine = pairs.filter((p) => p.dataset === dataset);
  const where = options.at ? ` ${options.at}` : '';
  if (names.length < 2) return `only one group (${names[0]}) on ${dataset}: nothing to compare`;
  if (mine.length === 0) return `too few repeats on ${dataset} to compare (at least 2 runs per group are needed)`;
  if (names.length === 2) {
    const significant = mine.filter((p) => p.decision === 'different');
    const winnerOf = (p: PairStats) => (p.diff < 0 === (better === 'lower') ? p.a : p.b);
    const d = mine.map((p) => Math.abs(p.cohensD));
    const [dLo, dHi] = [fixed(Math.min(...d)), fixed(Math.max(...d))];
    const dRange = dLo === dHi ? `|d| = ${dLo}` : `|d| = ${dLo} to ${dHi}`;
    const nPer = [...new Set(groups.filter((g) => g.dataset === dataset).map((g) => g.n))].join('–');
    if (significant.length === 0)
      return `no significant difference between ${names[0]} and ${names[1]} on ${c} with n = ${nPer} per group${undecidedOrEquivalent(mine, options)}`;
    const winners = new Set(significant.map(winnerOf));
    const maxP = Math.max(...significant.map((p) => p.pHolm));
    if (winners.size === 1) {
      const w = [...winners][0]!;
      const loser = names.find((n) => n !== w)!;
      const extent = options.at
        ? significant.length === mine.length
          ? `at every${where} tested (${mine.length} of ${mine.length})`
          : `at ${significant.length} of ${mine.length}${where} values tested (${significant.map((p) => p.at).join(', ')}); elsewhere no significant difference`
        : '';
      const rest =
        significant.length < mine.length
          ? undecidedOrEquivalent(
              mine.filter((p) => p.decision !== 'different'),
              options,
            )
          : '';
      return `${w} has ${better} ${c} than ${loser}${extent ? ` ${extent}` : ''}, ${pVerdict(maxP)} after Holm (${testsOf(significant)}), ${dRange}, n = ${nPer} per group${rest}`;
    }
    return `neither model wins everywhere: ${significant.map((p) => `${winnerOf(p)} at ${options.at ?? ''} ${p.at}`).join('; ')} (${pVerdict(maxP)} after Holm)`;
  }
  const levels = rankings.filter((x) => x.dataset === dataset);
  const said = levels.map(
    (x) =>
      `${x.at === null ? '' : `at ${options.at} ${x.at}: `}${manyGroupsVerdict(x.entries, (a, b) => pairOf(mine, dataset, x.at, a, b)!, c, better, alpha)}`,
  );
  return said.join('; ');
}

/**
 * What the pair table says of several groups, and only that: the best mean; the groups not
 * significantly different from it; those significantly worse, with the largest Holm p of those pairs.
 * Which other pairs differ is the letters' to say.
 */
function manyGroupsVerdict(
  entries: RankEntry[],
  pair: (a: string, b: string) => PairStats,
  c: Criterion,
  better: Better,
  alpha: number,
): string {
  if (entries.length < 2) return 'too few repeats to compare (at least 2 runs per group are needed)';
  const best = entries[0]!;
  const others = entries.slice(1).map((e) => ({ e, p: pair(best.group, e.group) }));
  const worse = others.filter((o) => o.p.pHolm < alpha);
  const tied = others.filter((o) => o.p.pHolm >= alpha);
  const list = (xs: typeof others) => xs.map((o) => o.e.group).join(', ');
  const maxP = (xs: typeof others) => pVerdict(Math.max(...xs.map((o) => o.p.pHolm)));
  const anyDifferent = entries.some((x, i) => entries.slice(i + 1).some((y) => pair(x.group, y.group).pHolm < alpha));
  const tests = testsOf(others.map((o) => o.p));
  if (!anyDifferent) {
    const far = others[others.length - 1]!;
    const needed = far.p.repeatsNeeded;
    const how =
      needed !== undefined && Number.isFinite(needed)
        ? `; about ${plural(needed, far.p.design === 'paired' ? 'pair' : 'repeat')}${far.p.design === 'paired' ? '' : ' per group'} would be needed to detect the largest difference (${best.group} vs ${far.e.group}) with 80% power`
        : '';
    return `no significant difference among the ${entries.length} groups on ${c} after Holm (${tests})${how}`;
  }
  const best_ = `${best.group} has the ${better === 'lower' ? 'lowest' : 'highest'} mean ${c}`;
  if (worse.length === 0)
    return `${best_} but does not differ significantly from any other group after Holm (${tests}); other pairs do: the letters say which`;
  if (tied.length === 0)
    return `${best_}, significantly ${better} than each of the other ${entries.length - 1} groups (${maxP(worse)} after Holm, ${tests})`;
  const equivalent = tied.filter((o) => o.p.decision === 'equivalent');
  const also = equivalent.length ? ` (practically equivalent to it: ${list(equivalent)})` : '';
  return `${best_}; not significantly different from it after Holm: ${list(tied)}${also}; significantly ${better === 'lower' ? 'higher' : 'lower'} than it: ${list(worse)} (${maxP(worse)}, ${tests}); the letters say which other pairs differ`;
}

/** "Welch", "paired t", or both: the t-tests behind these pairs. */
function testsOf(pairs: PairStats[]): string {
  const tests = [...new Set(pairs.map((p) => p.test))].sort();
  return tests.join(' and ');
}

/**
 * What is known of pairs that differ in nothing significant: practically equivalent within the
 * ROPE (TOST), or undecided, with the repeats that would decide it.
 */
function undecidedOrEquivalent(pairs: PairStats[], options: CompareOptions): string {
  const where = (ps: PairStats[]) =>
    options.at && ps.length < pairs.length ? ` at ${options.at} ${ps.map((p) => p.at).join(', ')}` : '';
  const equivalent = pairs.filter((p) => p.decision === 'equivalent');
  const undecided = pairs.filter((p) => p.decision === 'undecided');
  const parts: string[] = [];
  if (equivalent.length) {
    const maxP = Math.max(...equivalent.map((p) => p.equivalence!.pHolm));
    parts.push(
      `practically equivalent${where(equivalent)} (within ±${options.rope}, TOST ${pVerdict(maxP)} after Holm)`,
    );
  }
  if (undecided.length) {
    const needed = undecided.map((p) => p.repeatsNeeded!).filter((n) => Number.isFinite(n));
    const unit = undecided.every((p) => p.design === 'paired') ? 'pairs' : 'repeats per group';
    const how = needed.length
      ? `about ${Math.min(...needed) === Math.max(...needed) ? needed[0] : `${Math.min(...needed)} to ${Math.max(...needed)}`} ${unit} would be needed to detect a difference of the size observed (t-test, 80% power)`
      : 'the means do not differ at all';
    parts.push(
      `${options.rope !== undefined ? `undecided${where(undecided)}: neither different nor within ±${options.rope}; ` : ''}${how}`,
    );
  }
  return parts.length ? `; ${parts.join('; ')}` : '';
}

/** The design the pairs were tested under, and why, in one line. */
function designLine(pairs: PairStats[]): string {
  const paired = pairs.filter((p) => p.design === 'paired');
  const independent = pairs.filter((p) => p.design === 'independent');
  const pairedText = 'paired t and Wilcoxon signed-rank on the differences, seed by seed';
  const independentText = "Welch's t and Mann–Whitney U";
  if (pairs.length === 0) return 'no pair to test';
  const partial = paired.filter((p) => p.unmatched);
  const commonOnly = partial.length
    ? ` (${partial.length} of ${pairs.length} pairs on the seeds both groups have: a race stopped one of them earlier, or runs have no value)`
    : '';
  if (independent.length === 0)
    return `paired: every two groups ran on the same seeds, one run each (common random numbers, [MONITOR] paired = True)${commonOnly}, so ${pairedText}`;
  if (paired.length === 0) return `independent repeats (${independent[0]!.unpairedBecause}): ${independentText}`;
  return `paired where two groups ran on the same seeds (${paired.length} of ${pairs.length} pairs: ${pairedText}); independent elsewhere (e.g. ${independent[0]!.a} vs ${independent[0]!.b}: ${independent[0]!.unpairedBecause}; ${independentText})`;
}
