import { nctCdf, nctSf, normUpperQuantile, tUpperQuantile } from './distributions.js';

/**
 * Power of the two-sided t-tests and the repeats needed for a wanted power, with the noncentral t
 * distribution (as statsmodels' TTestIndPower / TTestPower, checked against SciPy's nct in
 * test/analysis/stats-reference.test.ts). Pure functions.
 */

export interface PowerOptions {
  /** Paired t-test (n pairs; sd is then the standard deviation of the differences). Default: two samples of n each. */
  paired?: boolean;
  /** Two-sided significance level, default 0.05. */
  alpha?: number;
  /** Wanted power, default 0.8. */
  power?: number;
  /** Above this many repeats the answer is Infinity (default 1,000,000). */
  maxRepeats?: number;
}

/**
 * Power of the two-sided t-test at effect size d = diff/sd with n repeats per group (two samples:
 * df = 2n − 2, noncentrality d·√(n/2)) or n pairs (paired: df = n − 1, noncentrality d·√n):
 * P(T > c) + P(T < −c) for T noncentral t and c = t(1 − α/2, df).
 */
export function tTestPower(
  d: number,
  n: number,
  { paired = false, alpha = 0.05 }: Pick<PowerOptions, 'paired' | 'alpha'> = {},
): number {
  const df = paired ? n - 1 : 2 * n - 2;
  if (!(df >= 1)) return NaN;
  const nc = d * Math.sqrt(paired ? n : n / 2);
  const c = tUpperQuantile(alpha / 2, df);
  return nctSf(c, df, nc) + nctCdf(-c, df, nc);
}

/**
 * The smallest number of repeats per group (two samples) or of pairs (paired) for which the
 * two-sided t-test at level α detects a difference of means `diff` with standard deviation `sd`
 * (of each group; of the differences when paired) with the wanted power: the smallest integer
 * n ≥ 2 with tTestPower(|diff|/sd, n) ≥ power, found by doubling then bisection (the power grows
 * with n). Infinity when diff is 0, and when more than maxRepeats (default 10⁶) would be needed —
 * known without computing it once the normal approximation (z₁₋α/₂ + z_power)²·(2 or 1)/d², which
 * never exceeds the answer, passes the cap. sd = 0 with diff ≠ 0: 2. NaN inputs give NaN.
 */
export function repeatsNeededT(
  diff: number,
  sd: number,
  { paired = false, alpha = 0.05, power = 0.8, maxRepeats = 1e6 }: PowerOptions = {},
): number {
  if (Number.isNaN(diff) || Number.isNaN(sd)) return NaN;
  if (sd < 0) throw new RangeError(`a standard deviation cannot be negative (${sd})`);
  if (diff === 0) return Infinity;
  const d = Math.abs(diff) / sd;
  if (d === Infinity) return 2;
  const opts = { paired, alpha };
  const enough = (n: number) => tTestPower(d, n, opts) >= power;
  const normal = ((paired ? 1 : 2) * (normUpperQuantile(alpha / 2) + normUpperQuantile(1 - power)) ** 2) / d ** 2;
  if (normal > maxRepeats) return Infinity;
  if (enough(2)) return 2;
  // The normal approximation never exceeds the answer, which is mostly within a few repeats of it:
  // a few steps up from it cost a few evaluations of the noncentral t (~1 ms each), a search ~10.
  let n = Math.max(3, Math.ceil(normal));
  for (let step = 0; step < 4; step++, n++) if (enough(n)) return n;
  let lo = 2; // not enough
  let hi = Math.max(3, Math.ceil(normal) + 1);
  while (!enough(hi)) {
    if (hi >= maxRepeats) return Infinity;
    lo = hi;
    hi = Math.min(maxRepeats, hi * 2);
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
