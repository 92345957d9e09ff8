import { MosaicError } from '../errors.js';
import { clip, criterionRange, rangeText } from './bands.js';
import { compareValues, factNamed, moduleFacts, valueKey } from './params.js';
import { orderedLabels, refuseUnknownPool, seriesLabel, splitCells, type PlacedRun } from './pooling.js';
import { higherIsBetter, valueOf, type AnalysisRun, type Criterion } from './runs.js';
import { cliffsDelta, cohensD, holm, mannWhitney, mean, probabilityBelow, repeatsNeeded, summarize, welch, type Summary } from './stats.js';
import { leftOut, usableRuns } from './usable.js';
import { plural } from './wording.js';
import { compactLetters } from './letters.js';

export interface CompareOptions {
  criterion: Criterion;
  /** A scheme type whose `<type>_key` names the groups; default: the whole model chain's keys. */
  by?: string;
  /** Compare separately at each value of `nb_params` or of a parameter (`width` matches `mlp_brick_width`). */
  at?: string;
  /** Parameters whose values are pooled on purpose instead of splitting the groups. */
  pool?: string[];
  alpha?: number;
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
  /** mean a − mean b, with its 95% Welch interval. */
  diff: number;
  ci: [number, number];
  welchP: number;
  welchPHolm: number;
  mannWhitneyP: number;
  mannWhitneyPHolm: number;
  cohensD: number;
  cliffsDelta: number;
  /** Probability that a draw of a is better than a draw of b (ties half). */
  pABetter: number;
}

/** A group in the order of its mean, best first, with its letters (`GroupStats.letters`). */
export interface RankEntry {
  group: string;
  mean: number;
  letters: string;
}

export interface CompareReport {
  criterion: Criterion;
  direction: 'lower' | 'higher';
  by: string;
  at: string | null;
  /** Parameters the groups were split by, and those pooled on request. */
  splitBy: string[];
  pooled: string[];
  /** What the comparison left out, split or pooled, in sentences. */
  notes: string[];
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
    const types = (run.facts.pipeline_scheme ?? '').split(',').map((t) => t.trim()).filter((t) => t && t !== by);
    const params = [...moduleFacts(run.facts)].filter(([, m]) => types.includes(m.type)).map(([f]) => f);
    return [...types.map((t) => `${t}_key`), ...params];
  };
}

interface Cell {
  dataset: string;
  at: string | null;
  group: string;
  values: number[];
}

export function compareRuns(all: AnalysisRun[], options: CompareOptions): CompareReport {
  const { criterion } = options;
  const alpha = options.alpha ?? 0.05;
  const usable = usableRuns(all, criterion);
  const notes = usable.notes;
  const done = usable.runs;
  if (done.length === 0) throw new MosaicError(`no finished run has a value of ${criterion}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  if (options.by !== undefined && !done.some((r) => r.facts[`${options.by}_key`] !== undefined)) {
    const types = [...new Set(done.flatMap((r) => Object.keys(r.facts).filter((k) => k.endsWith('_key')).map((k) => k.slice(0, -4))))];
    throw new MosaicError(`--by ${options.by}: no run has a key of type "${options.by}"; types with keys: ${types.join(', ')}`);
  }

  const placed: (PlacedRun & { at: string | null; group: string })[] = [];
  const [noGroup, noAt]: AnalysisRun[][] = [[], []];
  const atSpelling = new Map<string, string>();
  for (const run of done) {
    const group = groupOf(run, options.by);
    const at = options.at === undefined ? null : atValue(run, options.at) ?? null;
    if (group === undefined) noGroup.push(run);
    else if (options.at !== undefined && at === null) noAt.push(run);
    else {
      if (at !== null && !atSpelling.has(valueKey(at))) atSpelling.set(valueKey(at), at);
      const shownAt = at === null ? null : atSpelling.get(valueKey(at))!;
      placed.push({ run, at: shownAt, group, cell: JSON.stringify([run.dataKey, shownAt, group]), line: JSON.stringify([run.dataKey, group]) });
    }
  }
  if (options.at !== undefined && placed.length === 0) throw new MosaicError(`--at ${options.at}: no run has a parameter named ${options.at} (or ending in _${options.at}), nor is it nb_params`);
  if (noGroup.length) notes.push(leftOut(noGroup, `without a ${options.by}_key`));
  if (noAt.length) notes.push(leftOut(noAt, `without a value of --at ${options.at}`));

  refuseUnknownPool(done, options.pool ?? []);
  const pooling = splitCells(placed, {
    pool: options.pool ?? [],
    fixed: options.at !== undefined && options.at !== 'nb_params' ? [options.at] : [],
    ...(options.by !== undefined ? { pooledBy: { facts: otherModelTypesFacts(options.by), reason: `over the model chain's other types (--by ${options.by})` } } : {}),
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
    if (!cell) cells.set(id, (cell = { dataset: p.run.dataKey, at: p.at, group: labels.get(seriesId)!, values: [] }));
    cell.values.push(valueOf(p.run, criterion)!);
  }

  const range = criterionRange(criterion, done.map((r) => valueOf(r, criterion)!));
  let clipped = false;
  const withClippedCi = (s: Summary): Summary => {
    if (!s.ci) return s;
    const ci: [number, number] = [clip(s.ci[0], range), clip(s.ci[1], range)];
    if (ci[0] !== s.ci[0] || ci[1] !== s.ci[1]) clipped = true;
    return { ...s, ci };
  };
  const groupOrder = orderedLabels(placed.map((p) => ({ base: p.group, runId: p.run.runId })), pooling);
  const byGroupOrder = (x: Cell, y: Cell) =>
    x.dataset.localeCompare(y.dataset) || (x.at === null || y.at === null ? 0 : compareValues(x.at, y.at)) || groupOrder.indexOf(x.group) - groupOrder.indexOf(y.group);
  const ordered = [...cells.values()].sort(byGroupOrder);
  const groups: GroupStats[] = ordered.map((c) => ({ dataset: c.dataset, at: c.at, group: c.group, ...withClippedCi(summarize(c.values)), letters: '' }));
  if (clipped) notes.push(`95% CIs clipped to ${criterion}'s range (${rangeText(range)})`);
  const valuesOf = (g: GroupStats) => ordered[groups.indexOf(g)]!.values;
  const rawPairs: Omit<PairStats, 'welchPHolm' | 'mannWhitneyPHolm'>[] = [];
  const levels = [...new Set(groups.map((g) => JSON.stringify([g.dataset, g.at])))];
  for (const level of levels) {
    const inLevel = groups.filter((g) => JSON.stringify([g.dataset, g.at]) === level && g.n >= 2);
    for (let i = 0; i < inLevel.length; i++) {
      for (let j = i + 1; j < inLevel.length; j++) {
        const [ga, gb] = [inLevel[i]!, inLevel[j]!];
        const [a, b] = [valuesOf(ga), valuesOf(gb)];
        const w = welch(a, b);
        const below = probabilityBelow(a, b);
        rawPairs.push({
          dataset: ga.dataset,
          at: ga.at,
          a: ga.group,
          b: gb.group,
          diff: w.diff,
          ci: w.ci,
          welchP: w.p,
          mannWhitneyP: mannWhitney(a, b).p,
          cohensD: cohensD(a, b),
          cliffsDelta: cliffsDelta(a, b),
          pABetter: higherIsBetter(criterion) ? 1 - below : below,
        });
      }
    }
  }
  const welchHolm = holm(rawPairs.map((p) => p.welchP));
  const mwHolm = holm(rawPairs.map((p) => p.mannWhitneyP));
  const pairs: PairStats[] = rawPairs.map((p, i) => ({ ...p, welchPHolm: welchHolm[i]!, mannWhitneyPHolm: mwHolm[i]! }));

  const rankings = levels.map((level) => {
    const [dataset, at] = JSON.parse(level) as [string, string | null];
    const sorted = groups
      .filter((g) => g.dataset === dataset && g.at === at && g.n >= 2)
      .sort((x, y) => (higherIsBetter(criterion) ? y.mean - x.mean : x.mean - y.mean));
    const different = (a: string, b: string) => pairOf(pairs, dataset, at, a, b)!.welchPHolm < alpha;
    const letters = compactLetters(sorted.map((g) => g.group), different);
    for (const g of sorted) g.letters = letters.get(g.group)!;
    return { dataset, at, entries: sorted.map((g) => ({ group: g.group, mean: g.mean, letters: g.letters })) };
  });

  const datasets = [...new Set(groups.map((g) => g.dataset))];
  const verdicts = datasets.map((dataset) => ({ dataset, text: verdict(dataset, groups, pairs, rankings, options, alpha) }));
  return {
    criterion,
    direction: higherIsBetter(criterion) ? 'higher' : 'lower',
    by: options.by ?? 'model key',
    at: options.at ?? null,
    splitBy: pooling.splitBy,
    pooled: pooling.pooled,
    notes,
    groups,
    pairs,
    rankings,
    verdicts,
  };
}

/** The pair of groups a and b (either order) of a dataset and `at` value. */
function pairOf(pairs: PairStats[], dataset: string, at: string | null, a: string, b: string): PairStats | undefined {
  return pairs.find((q) => q.dataset === dataset && q.at === at && ((q.a === a && q.b === b) || (q.a === b && q.b === a)));
}

function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  if (p < 0.01) return 'p < 0.01';
  return `p = ${p.toFixed(p < 0.1 ? 3 : 2)}`;
}

const fmt = (x: number) => (Math.abs(x) >= 100 || (Math.abs(x) < 0.01 && x !== 0) ? x.toExponential(2) : x.toFixed(2));

function verdict(dataset: string, groups: GroupStats[], pairs: PairStats[], rankings: CompareReport['rankings'], options: CompareOptions, alpha: number): string {
  const c = options.criterion;
  const better = higherIsBetter(c) ? 'higher' : 'lower';
  const names = [...new Set(groups.filter((g) => g.dataset === dataset).map((g) => g.group))];
  const mine = pairs.filter((p) => p.dataset === dataset);
  const where = options.at ? ` ${options.at}` : '';
  if (names.length < 2) return `only one group (${names[0]}) on ${dataset}: nothing to compare`;
  if (mine.length === 0) return `too few repeats on ${dataset} to compare (at least 2 runs per group are needed)`;
  if (names.length === 2) {
    const significant = mine.filter((p) => p.welchPHolm < alpha);
    const winnerOf = (p: PairStats) => ((p.diff < 0) === (better === 'lower') ? p.a : p.b);
    const d = mine.map((p) => Math.abs(p.cohensD));
    const [dLo, dHi] = [fmt(Math.min(...d)), fmt(Math.max(...d))];
    const dRange = dLo === dHi ? `|d| = ${dLo}` : `|d| = ${dLo} to ${dHi}`;
    const nPer = [...new Set(groups.filter((g) => g.dataset === dataset).map((g) => g.n))].join('–');
    if (significant.length === 0) {
      const needed = repeatsNeeded(mean(d));
      const how = Number.isFinite(needed) ? `about ${plural(needed, 'repeat')} per group would be needed to detect a difference of this size (|d| = ${fmt(mean(d))})` : 'the groups do not differ at all';
      return `no significant difference between ${names[0]} and ${names[1]} on ${c} with n = ${nPer} per group; ${how}`;
    }
    const winners = new Set(significant.map(winnerOf));
    const maxP = Math.max(...significant.map((p) => p.welchPHolm));
    if (winners.size === 1) {
      const w = [...winners][0]!;
      const loser = names.find((n) => n !== w)!;
      const extent = options.at
        ? significant.length === mine.length
          ? `at every${where} tested (${mine.length} of ${mine.length})`
          : `at ${significant.length} of ${mine.length}${where} values tested (${significant.map((p) => p.at).join(', ')}); elsewhere no significant difference`
        : '';
      return `${w} has ${better} ${c} than ${loser}${extent ? ` ${extent}` : ''}, ${formatP(maxP)} after Holm (Welch), ${dRange}, n = ${nPer} per group`;
    }
    return `neither model wins everywhere: ${significant.map((p) => `${winnerOf(p)} at ${options.at ?? ''} ${p.at}`).join('; ')} (${formatP(maxP)} after Holm)`;
  }
  const levels = rankings.filter((x) => x.dataset === dataset);
  const said = levels.map((x) => `${x.at === null ? '' : `at ${options.at} ${x.at}: `}${manyGroupsVerdict(x.entries, (a, b) => pairOf(mine, dataset, x.at, a, b)!, c, alpha)}`);
  return said.join('; ');
}

/**
 * What the pair table says of several groups, and only that: the best mean; the groups not
 * significantly different from it; those significantly worse, with the largest Holm p of those pairs.
 * Which other pairs differ is the letters' to say.
 */
function manyGroupsVerdict(entries: RankEntry[], pair: (a: string, b: string) => PairStats, c: Criterion, alpha: number): string {
  if (entries.length < 2) return 'too few repeats to compare (at least 2 runs per group are needed)';
  const better = higherIsBetter(c) ? 'higher' : 'lower';
  const best = entries[0]!;
  const others = entries.slice(1).map((e) => ({ e, p: pair(best.group, e.group) }));
  const worse = others.filter((o) => o.p.welchPHolm < alpha);
  const tied = others.filter((o) => o.p.welchPHolm >= alpha);
  const list = (xs: typeof others) => xs.map((o) => o.e.group).join(', ');
  const maxP = (xs: typeof others) => formatP(Math.max(...xs.map((o) => o.p.welchPHolm)));
  const anyDifferent = entries.some((x, i) => entries.slice(i + 1).some((y) => pair(x.group, y.group).welchPHolm < alpha));
  if (!anyDifferent) {
    const far = others[others.length - 1]!;
    const d = Math.abs(far.p.cohensD);
    const needed = repeatsNeeded(d);
    const how = Number.isFinite(needed) ? `; about ${plural(needed, 'repeat')} per group would be needed to detect the largest difference (${best.group} vs ${far.e.group}, |d| = ${fmt(d)})` : '';
    return `no significant difference among the ${entries.length} groups on ${c} after Holm (Welch)${how}`;
  }
  const best_ = `${best.group} has the ${better === 'lower' ? 'lowest' : 'highest'} mean ${c}`;
  if (worse.length === 0) return `${best_} but does not differ significantly from any other group after Holm (Welch); other pairs do: the letters say which`;
  if (tied.length === 0) return `${best_}, significantly ${better} than each of the other ${entries.length - 1} groups (${maxP(worse)} after Holm, Welch)`;
  return `${best_}; not significantly different from it after Holm: ${list(tied)}; significantly ${better === 'lower' ? 'higher' : 'lower'} than it: ${list(worse)} (${maxP(worse)}, Welch); the letters say which other pairs differ`;
}
