/**
 * The compare report as tables, for `mosaic compare` and the dashboard's compare view alike: the
 * head and the cells of its groups and of its pairs, and their legends. The columns of `at` and of
 * the TOST are there with an empty head when unused (the reader leaves them out). No Node import:
 * the dashboard's page bundles this file.
 */
import { pValue, significant } from '../core/format.js';
import type { CompareReport } from './compare.js';

type Group = CompareReport['groups'][number];
type Pair = CompareReport['pairs'][number];

export const LETTERS_LEGEND =
  'letters: groups that share a letter do not differ significantly (the test of their pair — paired t on common seeds, else Welch — Holm-adjusted, α = 0.05); groups that share none do.';

export const PAIRS_LEGEND =
  'P(a better): probability that a run of a beats a run of b. Holm: p adjusted over all pairs. repeats needed: per group (pairs, when paired) for a t-test to detect the observed difference with 80% power at α/m (m pairs: the strictest step of Holm).';

export const interval = (ci: [number, number] | null) => (ci ? `[${significant(ci[0])}, ${significant(ci[1])}]` : '');

/** Repeats needed, or ∞ (null once the report went through JSON), or empty when not estimated. */
const needed = (n: Pair['repeatsNeeded'] | null) =>
  n === undefined ? '' : n === null || !Number.isFinite(n) ? '∞' : String(n);

export const groupHead = (r: Pick<CompareReport, 'at'>) => [
  'dataset',
  r.at ?? '',
  'group',
  'letters',
  'n',
  'mean',
  'std',
  '95% CI',
  'median',
];

export const groupCells = (g: Group): string[] => [
  g.dataset,
  g.at ?? '',
  g.group,
  g.letters,
  String(g.n),
  significant(g.mean),
  significant(g.std),
  interval(g.ci),
  significant(g.median),
];

export const pairHead = (r: Pick<CompareReport, 'at' | 'rope'>) => [
  'dataset',
  r.at ?? '',
  'pair (a vs b)',
  'mean a−b',
  '95% CI',
  'test',
  'p',
  'Holm',
  'rank test',
  'p',
  'Holm',
  "Cohen's d",
  "Cliff's δ",
  'P(a better)',
  r.rope !== null ? `TOST ±${r.rope} (Holm)` : '',
  'decision',
  'repeats needed',
];

export const pairCells = (p: Pair): string[] => [
  p.dataset,
  p.at ?? '',
  `${p.a} vs ${p.b}`,
  significant(p.diff),
  interval(p.ci),
  p.test,
  pValue(p.p),
  pValue(p.pHolm),
  p.rankTest,
  pValue(p.rankP),
  pValue(p.rankPHolm),
  significant(p.cohensD, 3),
  significant(p.cliffsDelta, 3),
  significant(p.pABetter, 3),
  p.equivalence ? pValue(p.equivalence.pHolm) : '',
  p.decision,
  needed(p.repeatsNeeded),
];

/** The columns whose head is not empty: a table without the unused `at` and TOST columns. */
export function namedColumns(head: string[], rows: string[][]): { head: string[]; rows: string[][] } {
  const keep = head.map((name, i) => (name === '' ? -1 : i)).filter((i) => i >= 0);
  return { head: keep.map((i) => head[i]!), rows: rows.map((row) => keep.map((i) => row[i]!)) };
}
