import { chiSquareSf, fSf, studentizedRangePpf } from './distributions.js';
import { averageRanks } from './stats.js';

/**
 * Comparing k models over N datasets by their ranks (Demšar 2006, "Statistical comparisons of
 * classifiers over multiple data sets"): the Friedman test, the Iman–Davenport F, and the
 * Nemenyi critical difference. Pure functions, checked against SciPy in
 * test/analysis/stats-reference.test.ts.
 */

export interface FriedmanResult {
  /** Models (columns) and datasets (rows). */
  k: number;
  n: number;
  /** Each dataset's ranks, 1 = best, ties at their average rank. */
  ranks: number[][];
  /** Average rank of each model over the datasets. */
  avgRanks: number[];
  /** Friedman χ² with the tie correction, k − 1 degrees of freedom, and its p-value. */
  chi2: number;
  df: number;
  p: number;
  /** Iman–Davenport F = (N − 1)χ² / (N(k − 1) − χ²), its degrees of freedom and p-value. */
  ff: number;
  ffDf: [number, number];
  ffP: number;
}

/**
 * The Friedman test over a table of N datasets (rows) × k models (columns). Each row is ranked,
 * rank 1 the best value (`better`: 'lower' for losses, 'higher' for accuracies; a table of ranks is
 * its own ranking with 'lower'), ties at their average rank. With R_j the rank sums:
 *
 *   χ² = (12/(N k (k+1)) Σ R_j² − 3 N (k+1)) / C,   C = 1 − Σ(t³ − t) / (N k (k² − 1)),
 *
 * t the sizes of the groups of tied values within a row — as scipy.stats.friedmanchisquare (which
 * asks for k ≥ 3; k = 2 is computed the same way here), p from χ²(k − 1). The direction does not
 * change χ². Iman–Davenport: F = (N − 1)χ²/(N(k − 1) − χ²) with F(k − 1, (k − 1)(N − 1)).
 * Degenerate cases: every row tied throughout (C = 0): χ² = 0, p = 1; χ² = N(k − 1) (every
 * dataset ranks the models the same way): F = ∞, its p = 0; N = 1: F's p is NaN (no df).
 */
export function friedman(table: number[][], better: 'lower' | 'higher' = 'lower'): FriedmanResult {
  const n = table.length;
  const k = table[0]?.length ?? 0;
  if (n < 1 || k < 2)
    throw new RangeError(`the Friedman test needs at least one dataset and two models (got ${n} × ${k})`);
  if (table.some((row) => row.length !== k)) throw new RangeError('every dataset must have a value for each model');
  if (table.some((row) => row.some((v) => Number.isNaN(v)))) throw new RangeError('the Friedman table holds NaN');
  const ranks = table.map((row) => averageRanks(better === 'lower' ? row : row.map((v) => -v)));
  const sums = Array.from({ length: k }, (_, j) => ranks.reduce((s, row) => s + row[j]!, 0));
  let ties = 0;
  for (const row of table) {
    const groups = new Map<number, number>();
    for (const v of row) groups.set(v, (groups.get(v) ?? 0) + 1);
    for (const t of groups.values()) ties += t ** 3 - t;
  }
  const c = 1 - ties / (k * (k * k - 1) * n);
  const ssbn = sums.reduce((s, r) => s + r * r, 0);
  const df = k - 1;
  const chi2 = c <= 0 ? 0 : ((12 / (k * n * (k + 1))) * ssbn - 3 * n * (k + 1)) / c;
  const p = c <= 0 ? 1 : chiSquareSf(chi2, df);
  const ffDf: [number, number] = [k - 1, (k - 1) * (n - 1)];
  const room = n * (k - 1) - chi2;
  const ff = room <= 1e-12 * n * (k - 1) ? Infinity : ((n - 1) * chi2) / room;
  const ffP = n < 2 ? NaN : ff === Infinity ? 0 : fSf(ff, ffDf[0], ffDf[1]);
  return { k, n, ranks, avgRanks: sums.map((s) => s / n), chi2, df, p, ff, ffDf, ffP };
}

/**
 * q_α of the Nemenyi test for k models: the 1 − α quantile of the studentized range of k groups
 * with infinite degrees of freedom, divided by √2 (Demšar's table: 1.960, 2.343, 2.569, … for
 * k = 2, 3, 4, … at α = 0.05).
 */
export const nemenyiQ = (k: number, alpha = 0.05) => studentizedRangePpf(1 - alpha, k) / Math.SQRT2;

/**
 * The Nemenyi critical difference: two models whose average ranks over N datasets differ by more
 * than CD = q_α·sqrt(k(k + 1)/(6N)) differ significantly at level α (all pairs).
 */
export function nemenyiCD(k: number, n: number, alpha = 0.05): number {
  if (!(k >= 2) || !(n >= 1))
    throw new RangeError(`the critical difference needs k ≥ 2 models and N ≥ 1 datasets (got ${k}, ${n})`);
  return nemenyiQ(k, alpha) * Math.sqrt((k * (k + 1)) / (6 * n));
}
