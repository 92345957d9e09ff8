import { normSf, tTwoSidedP, tUpperQuantile } from './distributions.js';
import { averageRanks, mean, std } from './stats.js';

/**
 * Tests for paired samples (the same seeds, folds or datasets on both sides): the paired t-test and
 * the Wilcoxon signed-rank test, each as SciPy computes it (checked in
 * test/analysis/stats-reference.test.ts). Pure functions.
 */

function differences(a: number[], b: number[]): number[] {
  if (a.length !== b.length)
    throw new RangeError(`paired samples must have the same length (${a.length} and ${b.length})`);
  return a.map((x, i) => x - b[i]!);
}

export interface PairedTResult {
  /** Number of pairs. */
  n: number;
  t: number;
  df: number;
  /** Two-sided p-value. */
  p: number;
  /** Mean difference a − b and its confidence interval (Student t, n − 1 df). */
  diff: number;
  ci: [number, number];
}

/**
 * Paired t-test, two-sided, as scipy.stats.ttest_rel: t = mean(d) / (sd(d)/√n) with d = a − b,
 * n − 1 degrees of freedom. Where SciPy answers NaN this returns:
 *
 * - fewer than two pairs: t = NaN, p = 1, the interval (−∞, ∞) (no evidence either way);
 * - differences all equal (zero variance): t = ±∞ and p = 0 if they are not zero (SciPy too),
 *   t = 0 and p = 1 if they are all zero (identical samples; SciPy: NaN); the interval is the
 *   difference itself.
 */
export function pairedT(a: number[], b: number[], level = 0.95): PairedTResult {
  const d = differences(a, b);
  const n = d.length;
  const diff = n ? mean(d) : NaN;
  const df = Math.max(n - 1, 0);
  if (n < 2) return { n, t: NaN, df, p: 1, diff, ci: [-Infinity, Infinity] };
  const se = std(d) / Math.sqrt(n);
  if (se === 0) {
    return { n, t: diff === 0 ? 0 : Math.sign(diff) * Infinity, df, p: diff === 0 ? 1 : 0, diff, ci: [diff, diff] };
  }
  const t = diff / se;
  const half = tUpperQuantile((1 - level) / 2, df) * se;
  return { n, t, df, p: tTwoSidedP(t, df), diff, ci: [diff - half, diff + half] };
}

export interface WilcoxonResult {
  /** min(W+, W−), as SciPy reports it for the two-sided test. */
  statistic: number;
  /** Sums of the ranks of |d| of the positive and of the negative differences d = a − b. */
  rPlus: number;
  rMinus: number;
  /** Two-sided p-value. */
  p: number;
  /**
   * 'exact': the null distribution of W+ enumerated (over all 2^n signs: without ties or zeros the
   * Wilcoxon distribution, with them the permutation distribution given the observed ranks);
   * 'approx': the normal approximation, with the tie correction of the variance.
   */
  method: 'exact' | 'approx';
  /** Pairs used: the non-zero differences. */
  n: number;
  /** Zero differences, dropped. */
  zeros: number;
}

/**
 * Number of sign assignments giving each value of 2·W+ (twice the sum of the ranks given a + sign),
 * for ranks that are multiples of ½. Counts up to 2^50 are exact in doubles.
 */
function signedRankCounts(doubledRanks: number[]): number[] {
  const total = doubledRanks.reduce((s, r) => s + r, 0);
  let counts = new Array<number>(total + 1).fill(0);
  counts[0] = 1;
  let reach = 0;
  for (const r of doubledRanks) {
    const next = counts.slice();
    for (let s = 0; s <= reach; s++) if (counts[s]) next[s + r]! += counts[s]!;
    counts = next;
    reach += r;
  }
  return counts;
}

/**
 * Wilcoxon signed-rank test of a − b, two-sided, as scipy.stats.wilcoxon(a, b) with its defaults
 * (zero_method='wilcox', correction=False, method='auto'; SciPy 1.17): zero differences are
 * dropped and |d| ranked with ties at their average rank. With N the number of pairs *before*
 * dropping zeros (SciPy decides on it):
 *
 * - N ≤ 50, no ties in |d| and no zeros: the exact Wilcoxon distribution;
 * - N ≤ 13 with ties or zeros: the exact permutation distribution of W+ over the 2^n sign flips
 *   (what SciPy's PermutationMethod computes exactly for n ≤ 13);
 * - otherwise (N > 50, or ties/zeros with N > 13): the normal approximation
 *   z = (W+ − n(n+1)/4) / sqrt((n(n+1)(2n+1) − Σ(t³ − t)/2) / 24), t the sizes of the groups of
 *   tied |d|, without continuity correction.
 *
 * The exact p is 2·min(P(W+ ≤ w), P(W+ ≥ w)), at most 1. All differences zero: statistic 0, p = 1,
 * n = 0 (SciPy: p = 1 for N ≤ 13, NaN above).
 */
export function wilcoxonSignedRank(a: number[], b: number[]): WilcoxonResult {
  const all = differences(a, b);
  const d = all.filter((x) => x !== 0);
  const zeros = all.length - d.length;
  const n = d.length;
  if (n === 0)
    return { statistic: 0, rPlus: 0, rMinus: 0, p: 1, method: all.length <= 13 ? 'exact' : 'approx', n, zeros };
  const abs = d.map(Math.abs);
  const r = averageRanks(abs);
  let rPlus = 0;
  let rMinus = 0;
  d.forEach((x, i) => {
    if (x > 0) rPlus += r[i]!;
    else rMinus += r[i]!;
  });
  const groups = new Map<number, number>();
  for (const v of abs) groups.set(v, (groups.get(v) ?? 0) + 1);
  const hasTies = groups.size < n;
  const statistic = Math.min(rPlus, rMinus);
  if ((all.length <= 50 && !hasTies && zeros === 0) || all.length <= 13) {
    const counts = signedRankCounts(r.map((x) => Math.round(2 * x)));
    const observed = Math.round(2 * rPlus);
    let below = 0;
    let above = 0;
    counts.forEach((c, s) => {
      if (s <= observed) below += c;
      if (s >= observed) above += c;
    });
    const total = 2 ** n;
    return {
      statistic,
      rPlus,
      rMinus,
      p: Math.min(1, (2 * Math.min(below, above)) / total),
      method: 'exact',
      n,
      zeros,
    };
  }
  const tieTerm = [...groups.values()].reduce((s, t) => s + (t ** 3 - t), 0);
  const se = Math.sqrt((n * (n + 1) * (2 * n + 1) - tieTerm / 2) / 24);
  const z = (rPlus - (n * (n + 1)) / 4) / se;
  return { statistic, rPlus, rMinus, p: Math.min(1, 2 * normSf(Math.abs(z))), method: 'approx', n, zeros };
}
