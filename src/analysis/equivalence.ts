import { tCdf, tSf, tUpperQuantile } from './distributions.js';
import { mean, std } from './stats.js';

/**
 * Equivalence: two one-sided tests (TOST, Schuirmann 1987) that the difference of means a − b lies
 * within (−rope, rope). Pure functions, checked against SciPy in test/analysis/stats-reference.test.ts.
 */

export interface TostResult {
  /** max(pLower, pUpper): equivalence is shown at level α when p < α. */
  p: number;
  /** P-value of H0: diff ≤ −rope against diff > −rope (t = (diff + rope)/se, upper tail). */
  pLower: number;
  /** P-value of H0: diff ≥ rope against diff < rope (t = (diff − rope)/se, lower tail). */
  pUpper: number;
  /** Difference of means a − b (mean of the paired differences). */
  diff: number;
  se: number;
  df: number;
  /**
   * The 1 − 2α confidence interval of the difference, diff ± t(1 − α, df)·se: equivalence at
   * level α is the same as this interval lying inside (−rope, rope).
   */
  ci: [number, number];
  level: number;
}

export interface TostOptions {
  /** Paired samples (paired t: d = a − b, se = sd(d)/√n, n − 1 df); otherwise Welch. */
  paired?: boolean;
  alpha?: number;
}

/**
 * Two one-sided tests for equivalence within ±rope:
 *
 * - independent samples (Welch): se = sqrt(s²a/na + s²b/nb), df by Welch–Satterthwaite
 *   (as scipy.stats.ttest_ind(equal_var=False));
 * - paired: se = sd(a − b)/√n, df = n − 1 (as scipy.stats.ttest_rel);
 *
 * pLower = P(T_df > (diff + rope)/se), pUpper = P(T_df < (diff − rope)/se), p = max of the two;
 * that is, ttest(a + rope, b, alternative='greater') and ttest(a − rope, b, alternative='less').
 * With se = 0 each one-sided p is 0 when the difference is strictly inside its bound, 1 otherwise;
 * with fewer than two values (pairs, or in either sample) p = 1 and the interval is (−∞, ∞).
 */
export function tost(
  a: number[],
  b: number[],
  rope: number,
  { paired = false, alpha = 0.05 }: TostOptions = {},
): TostResult {
  if (!(rope > 0) || !Number.isFinite(rope))
    throw new RangeError(`the equivalence margin must be a positive number, not ${rope}`);
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`alpha must be in (0, 0.5), not ${alpha}`);
  const level = 1 - 2 * alpha;
  let diff: number;
  let se: number;
  let df: number;
  if (paired) {
    if (a.length !== b.length)
      throw new RangeError(`paired samples must have the same length (${a.length} and ${b.length})`);
    const d = a.map((x, i) => x - b[i]!);
    diff = d.length ? mean(d) : NaN;
    df = d.length - 1;
    se = d.length < 2 ? NaN : std(d) / Math.sqrt(d.length);
  } else {
    diff = mean(a) - mean(b);
    const va = std(a) ** 2 / a.length;
    const vb = std(b) ** 2 / b.length;
    se = a.length < 2 || b.length < 2 ? NaN : Math.sqrt(va + vb);
    df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  }
  if (Number.isNaN(se) || Number.isNaN(diff)) {
    return { p: 1, pLower: 1, pUpper: 1, diff, se, df: Math.max(df, 0), ci: [-Infinity, Infinity], level };
  }
  if (se === 0) {
    const pLower = diff > -rope ? 0 : 1;
    const pUpper = diff < rope ? 0 : 1;
    return {
      p: Math.max(pLower, pUpper),
      pLower,
      pUpper,
      diff,
      se,
      df: Number.isNaN(df) ? 0 : df,
      ci: [diff, diff],
      level,
    };
  }
  const pLower = tSf((diff + rope) / se, df);
  const pUpper = tCdf((diff - rope) / se, df);
  const half = tUpperQuantile(alpha, df) * se;
  return { p: Math.max(pLower, pUpper), pLower, pUpper, diff, se, df, ci: [diff - half, diff + half], level };
}
