import { normSf, tTwoSidedP, tUpperQuantile } from './distributions.js';

/** Descriptive and comparative statistics for small samples of repeats. */

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  median: number;
  /** 95% confidence interval of the mean (Student t); null below two values. */
  ci: [number, number] | null;
}

export function summarize(xs: number[], level = 0.95): Summary {
  const n = xs.length;
  const m = mean(xs);
  const s = std(xs);
  const ci: [number, number] | null =
    n < 2
      ? null
      : (() => {
          const half = tUpperQuantile((1 - level) / 2, n - 1) * (s / Math.sqrt(n));
          return [m - half, m + half];
        })();
  return { n, mean: m, std: s, median: median(xs), ci };
}

export interface WelchResult {
  t: number;
  df: number;
  p: number;
  /** Difference of means a − b and its 95% confidence interval. */
  diff: number;
  ci: [number, number];
}

/** Welch's unequal-variances t-test, two-sided. */
export function welch(a: number[], b: number[], level = 0.95): WelchResult {
  const va = std(a) ** 2 / a.length;
  const vb = std(b) ** 2 / b.length;
  const diff = mean(a) - mean(b);
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    return {
      t: diff === 0 ? 0 : Math.sign(diff) * Infinity,
      df: a.length + b.length - 2,
      p: diff === 0 ? 1 : 0,
      diff,
      ci: [diff, diff],
    };
  }
  const t = diff / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const p = tTwoSidedP(t, df);
  const half = tUpperQuantile((1 - level) / 2, df) * se;
  return { t, df, p, diff, ci: [diff - half, diff + half] };
}

/** Ranks with ties given their average rank (1-based, rank 1 = smallest). */
export function averageRanks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) out[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

export interface MannWhitneyResult {
  /** U of sample a (count of pairs a > b, ties counting half). */
  u: number;
  p: number;
  method: 'exact' | 'normal';
}

/**
 * Mann–Whitney U test, two-sided: exact distribution when there are no ties and the samples are
 * small (as scipy's `method='exact'`), else the normal approximation with tie correction and
 * continuity correction (scipy's `asymptotic`).
 */
export function mannWhitney(a: number[], b: number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  const r = averageRanks([...a, ...b]);
  const r1 = r.slice(0, n1).reduce((x, y) => x + y, 0);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  const hasTies = new Set([...a, ...b]).size < n1 + n2;
  // As scipy.stats.mannwhitneyu's default ('auto'): exact without ties when either sample has at most 8 values.
  if (!hasTies && Math.min(n1, n2) <= 8) {
    const counts = uDistribution(n1, n2);
    const total = counts.reduce((x, y) => x + y, 0);
    const lo = Math.min(u, n1 * n2 - u);
    let tail = 0;
    for (let k = 0; k <= lo; k++) tail += counts[k]!;
    return { u, p: Math.min(1, (2 * tail) / total), method: 'exact' };
  }
  const n = n1 + n2;
  const tieGroups = new Map<number, number>();
  for (const v of [...a, ...b]) tieGroups.set(v, (tieGroups.get(v) ?? 0) + 1);
  const tieTerm = [...tieGroups.values()].reduce((s, t) => s + (t ** 3 - t), 0);
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, method: 'normal' };
  const z = (Math.abs(u - (n1 * n2) / 2) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * normSf(Math.max(z, 0))), method: 'normal' };
}

/** Number of arrangements giving each U value, for samples of n1 and n2 without ties. */
function uDistribution(n1: number, n2: number): number[] {
  // f(i, j, u): arrangements of i a's and j b's with statistic u; built by the last element.
  let prev: number[][] = Array.from({ length: n2 + 1 }, () => [1]);
  for (let i = 1; i <= n1; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n2; j++) {
      const size = i * j + 1;
      const row = new Array<number>(size).fill(0);
      // last element is an a: it beats the j b's → adds j
      const fromA = prev[j]!;
      for (let k = 0; k < fromA.length; k++) row[k + j] += fromA[k]!;
      // last element is a b: adds nothing
      if (j > 0) {
        const fromB = cur[j - 1]!;
        for (let k = 0; k < fromB.length; k++) row[k] += fromB[k]!;
      }
      cur.push(row);
    }
    prev = cur;
  }
  return prev[n2]!;
}

/** Holm–Bonferroni adjusted p-values, in the order given. */
export function holm(ps: number[]): number[] {
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(ps.length);
  let running = 0;
  order.forEach(([p, i], k) => {
    running = Math.max(running, Math.min(1, (ps.length - k) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** Cohen's d with the pooled standard deviation: (mean a − mean b) / s_pooled. */
/** The pooled standard deviation of two samples (n − 1 weighted), as Cohen's d and a two-sample t-test's power use it. */
export function pooledStd(a: number[], b: number[]): number {
  return Math.sqrt(((a.length - 1) * std(a) ** 2 + (b.length - 1) * std(b) ** 2) / (a.length + b.length - 2));
}

export function cohensD(a: number[], b: number[]): number {
  const pooled = pooledStd(a, b);
  const diff = mean(a) - mean(b);
  return pooled === 0 ? (diff === 0 ? 0 : Math.sign(diff) * Infinity) : diff / pooled;
}

/** Cliff's delta: P(a > b) − P(a < b) over all pairs. */
export function cliffsDelta(a: number[], b: number[]): number {
  let gt = 0;
  let lt = 0;
  for (const x of a) for (const y of b) x > y ? gt++ : x < y ? lt++ : 0;
  return (gt - lt) / (a.length * b.length);
}

/** P(a < b) + ½ P(a = b): the probability that a draw of a is below a draw of b. */
export function probabilityBelow(a: number[], b: number[]): number {
  let below = 0;
  for (const x of a) for (const y of b) below += x < y ? 1 : x === y ? 0.5 : 0;
  return below / (a.length * b.length);
}
