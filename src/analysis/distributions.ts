import jstat from 'jstat';

const { jStat } = jstat;

/**
 * Distribution functions to double precision, for the tests of `stats.ts`, `paired-stats.ts`,
 * `equivalence.ts`, `power.ts` and `rank-stats.ts`: jStat's incomplete beta stops at a relative
 * change of 3e-7 and its tails are computed as 1 − cdf, which loses small p-values. Here: the
 * regularized incomplete beta (continued fraction) and gamma (series / continued fraction)
 * functions, the normal, Student t, χ² and F tails computed as tails, the t quantile (Newton on the
 * tail), the noncentral t distribution and the studentized range for infinite degrees of freedom
 * (both by adaptive Gauss–Legendre integration). Pure functions; checked against SciPy in
 * test/analysis/stats-reference.test.ts.
 */

const EPS = 1e-16;
const TINY = 1e-300;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

// Lanczos approximation, g = 7, n = 9 (relative error about 1e-15).
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const logBeta = (a: number, b: number) => logGamma(a) + logGamma(b) - logGamma(a + b);

/** Continued fraction of the incomplete beta function (modified Lentz), for x < (a+1)/(a+b+2). */
function betaFraction(a: number, b: number, x: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 100_000; m++) {
    const m2 = 2 * m;
    for (const aa of [
      (m * (b - m) * x) / ((a + m2 - 1) * (a + m2)),
      (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1)),
    ]) {
      d = 1 + aa * d;
      if (Math.abs(d) < TINY) d = TINY;
      c = 1 + aa / c;
      if (Math.abs(c) < TINY) c = TINY;
      d = 1 / d;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < EPS) break;
  }
  return h;
}

/**
 * The regularized incomplete beta function I_x(a, b) and its complement 1 − I_x(a, b) = I_y(b, a),
 * with y = 1 − x given separately when it is known more precisely than 1 − x.
 */
export function betaInc(a: number, b: number, x: number, y = 1 - x): [number, number] {
  if (x <= 0) return [0, 1];
  if (y <= 0) return [1, 0];
  const front = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const v = (Math.exp(front) * betaFraction(a, b, x)) / a;
    return [v, 1 - v];
  }
  const w = (Math.exp(front) * betaFraction(b, a, y)) / b;
  return [1 - w, w];
}

/** ln Q(a, x) by the continued fraction (x > a + 1). */
function logGammaQFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return a * Math.log(x) - x - logGamma(a) + Math.log(h);
}

/** The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 − P(a, x). */
export function gammaInc(a: number, x: number): [number, number] {
  if (x <= 0) return [0, 1];
  if (x === Infinity) return [1, 0];
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < 100_000 && Math.abs(del) > Math.abs(sum) * EPS; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
    }
    const v = sum * Math.exp(a * Math.log(x) - x - logGamma(a));
    return [v, 1 - v];
  }
  const q = Math.exp(logGammaQFraction(a, x));
  return [1 - q, q];
}

/** P(Z > z) for a standard normal Z, accurate in the tail (½ Q(½, z²/2)). */
export function normSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const tail = 0.5 * gammaInc(0.5, (z * z) / 2)[1];
  return z >= 0 ? tail : 1 - tail;
}

export const normCdf = (z: number) => normSf(-z);

/** ln Φ(z), finite far into the lower tail. */
export function logNormCdf(z: number): number {
  if (z < -2) return Math.log(0.5) + logGammaQFraction(0.5, (z * z) / 2);
  return z > 0 ? Math.log1p(-normSf(z)) : Math.log(normCdf(z));
}

const normLogPdf = (z: number) => -(z * z) / 2 - LN_SQRT_2PI;

/** The z with P(Z > z) = q. */
export function normUpperQuantile(q: number): number {
  if (q <= 0) return Infinity;
  if (q >= 1) return -Infinity;
  if (q > 0.5) return -normUpperQuantile(1 - q);
  let z = -jStat.normal.inv(q, 0, 1);
  for (let i = 0; i < 50; i++) {
    const step = (normSf(z) - q) / Math.exp(normLogPdf(z));
    z += step;
    if (Math.abs(step) <= 1e-15 * Math.max(1, Math.abs(z))) break;
  }
  return z;
}

/** P(T > t) for Student's t with df degrees of freedom (df = Infinity: the normal). */
export function tSf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return NaN;
  if (df === Infinity) return normSf(t);
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  const tail = 0.5 * betaInc(df / 2, 0.5, df / (df + t2), t2 / (df + t2))[0];
  return t >= 0 ? tail : 1 - tail;
}

export const tCdf = (t: number, df: number) => tSf(-t, df);

/** The two-sided p-value of a t statistic, P(|T| ≥ |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return NaN;
  if (df === Infinity) return Math.min(1, 2 * normSf(Math.abs(t)));
  if (!Number.isFinite(t)) return 0;
  const t2 = t * t;
  return Math.min(1, betaInc(df / 2, 0.5, df / (df + t2), t2 / (df + t2))[0]);
}

function tLogPdf(t: number, df: number): number {
  if (df === Infinity) return normLogPdf(t);
  return (
    logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((t * t) / df)
  );
}

/** The t with P(T > t) = q for Student's t with df degrees of freedom (Newton on the tail). */
export function tUpperQuantile(q: number, df: number): number {
  if (df === Infinity) return normUpperQuantile(q);
  if (q <= 0) return Infinity;
  if (q >= 1) return -Infinity;
  if (q > 0.5) return -tUpperQuantile(1 - q, df);
  if (q === 0.5) return 0;
  let t = Math.max(0, jStat.studentt.inv(1 - q, df));
  if (!Number.isFinite(t)) t = normUpperQuantile(q);
  for (let i = 0; i < 100; i++) {
    const step = (tSf(t, df) - q) / Math.exp(tLogPdf(t, df));
    // the tail is convex for t ≥ 0: Newton from either side ends up climbing to the root
    const next = t + step < 0 ? t / 2 : t + step;
    const done = Math.abs(next - t) <= 1e-15 * Math.max(1, Math.abs(next));
    t = next;
    if (done) break;
  }
  return t;
}

/** P(X > x) for χ² with df degrees of freedom. */
export const chiSquareSf = (x: number, df: number) => (x <= 0 ? 1 : gammaInc(df / 2, x / 2)[1]);

/** P(X > x) for Fisher's F with (d1, d2) degrees of freedom. */
export function fSf(x: number, d1: number, d2: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const z = d1 * x;
  return betaInc(d2 / 2, d1 / 2, d2 / (d2 + z), z / (d2 + z))[0];
}

// ---------------------------------------------------------------------------------------------
// Adaptive Gauss–Legendre quadrature

/** Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (Newton on P_n). */
function legendreRule(n: number): { x: number[]; w: number[] } {
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * z * p1 - (k - 1) * p0) / k];
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-16) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
}

const RULE = legendreRule(20);

function gaussLegendre(f: (x: number) => number, a: number, b: number): number {
  const mid = (a + b) / 2;
  const half = (b - a) / 2;
  let s = 0;
  for (let i = 0; i < RULE.x.length; i++) s += RULE.w[i]! * f(mid + half * RULE.x[i]!);
  return s * half;
}

/**
 * ∫_a^b f by adaptive bisection of 20-point Gauss–Legendre rules, to a relative accuracy of about
 * 1e-13 of the whole integral (f ≥ 0 here, smooth inside [a, b]).
 */
export function integrate(f: (x: number) => number, a: number, b: number, pieces = 16): number {
  const parts: [number, number, number][] = [];
  let total = 0;
  for (let i = 0; i < pieces; i++) {
    const lo = a + ((b - a) * i) / pieces;
    const hi = i === pieces - 1 ? b : a + ((b - a) * (i + 1)) / pieces;
    const v = gaussLegendre(f, lo, hi);
    parts.push([lo, hi, v]);
    total += v;
  }
  const tol = 1e-14 * Math.abs(total);
  let result = 0;
  let budget = 20_000;
  while (parts.length) {
    const [lo, hi, whole] = parts.pop()!;
    const mid = (lo + hi) / 2;
    const left = gaussLegendre(f, lo, mid);
    const right = gaussLegendre(f, mid, hi);
    if (Math.abs(left + right - whole) <= tol || --budget <= 0 || hi - lo < 1e-15 * Math.max(1, Math.abs(mid))) {
      result += left + right;
    } else {
      parts.push([lo, mid, left], [mid, hi, right]);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Noncentral t

/** ln of the density of s = sqrt(χ²_df / df) at s > 0. */
function logChiScaledPdf(s: number, df: number): number {
  const a = df / 2;
  // ln 2 + a ln a − ln Γ(a) − a, by Stirling's series for large a (it cancels to ½ ln(a/2π) + …)
  const c =
    a >= 10
      ? 0.5 * Math.log(a) - LN_SQRT_2PI - 1 / (12 * a) + 1 / (360 * a ** 3) - 1 / (1260 * a ** 5) + 1 / (1680 * a ** 7)
      : a * Math.log(a) - logGamma(a) - a;
  // s − 1 is exact near 1, where the two large terms cancel: keep their rounding small
  const u = s - 1;
  const logS = df === 1 ? 0 : Math.abs(u) < 0.5 ? Math.log1p(u) : Math.log(s);
  return Math.LN2 + c + (df - 1) * logS - (df * u * (s + 1)) / 2;
}

/**
 * E[Φ(sign·(t·S − nc))] over S = sqrt(χ²_df/df): the lower (sign = 1) or upper (sign = −1) tail of
 * the noncentral t at t. The log of the integrand is concave in S, so its mode is found by
 * bisection on the derivative, the range where it is within e^−60 of the mode by doubling steps,
 * and the integral by adaptive quadrature over that range.
 */
function nctTail(t: number, df: number, nc: number, sign: 1 | -1): number {
  if (Number.isNaN(t) || Number.isNaN(df) || Number.isNaN(nc)) return NaN;
  if (t === Infinity) return sign === 1 ? 1 : 0;
  if (t === -Infinity) return sign === 1 ? 0 : 1;
  if (df === Infinity || t === 0) return normCdf(sign * (t - nc));
  const st = sign * t;
  const logF = (s: number) => logNormCdf(st * s - sign * nc) + logChiScaledPdf(s, df);
  const slope = (s: number) => {
    const z = st * s - sign * nc;
    return st * Math.exp(normLogPdf(z) - logNormCdf(z)) + (df - 1) / s - df * s;
  };
  // the mode
  let lo = 1e-300;
  let hi = 2;
  while (slope(hi) > 0) hi *= 2;
  let mode: number;
  if (slope(lo) <= 0) mode = 0;
  else {
    for (let i = 0; i < 2000 && hi - lo > 1e-15 * hi; i++) {
      const mid = lo < 1e-8 * hi ? Math.sqrt(lo * hi) : (lo + hi) / 2;
      if (slope(mid) > 0) lo = mid;
      else hi = mid;
    }
    mode = (lo + hi) / 2;
  }
  const top = logF(Math.max(mode, 1e-300));
  const drop = 60;
  const step0 = Math.min(1 / Math.sqrt(df), Math.max(mode, 1e-3)) / 8;
  let right = mode + step0;
  for (let step = step0; logF(right) > top - drop; step *= 2) right = mode + 2 * step;
  let left = 0;
  if (mode > 0) {
    left = Math.max(0, mode - step0);
    for (let step = step0; left > 0 && logF(left) > top - drop; step *= 2) left = Math.max(0, mode - 2 * step);
  }
  const f = (s: number) => (s <= 0 ? (df === 1 ? Math.exp(logF(1e-300) - top) : 0) : Math.exp(logF(s) - top));
  const value = mode > left ? integrate(f, left, mode) + integrate(f, mode, right) : integrate(f, left, right);
  return Math.min(1, value * Math.exp(top));
}

/** P(T ≤ t) for the noncentral t with df degrees of freedom and noncentrality nc. */
export const nctCdf = (t: number, df: number, nc: number) => nctTail(t, df, nc, 1);

/** P(T > t) for the noncentral t, computed as a tail (not 1 − cdf). */
export const nctSf = (t: number, df: number, nc: number) => nctTail(t, df, nc, -1);

// ---------------------------------------------------------------------------------------------
// Studentized range, infinite degrees of freedom

/** Φ(z + q) − Φ(z) for q ≥ 0, from whichever tails keep its precision. */
function normInterval(z: number, q: number): number {
  if (z >= 0) return normSf(z) - normSf(z + q);
  if (z + q <= 0) return normCdf(z + q) - normCdf(z);
  return 1 - normSf(z + q) - normCdf(z);
}

/**
 * P(R ≤ q) for the range R of k independent standard normals (the studentized range with infinite
 * degrees of freedom): k ∫ φ(z) [Φ(z + q) − Φ(z)]^(k−1) dz, integrated over [−12, 12] (outside it
 * φ < 1e-31).
 */
export function studentizedRangeCdf(q: number, k: number): number {
  if (!(k >= 2)) throw new RangeError(`the studentized range needs k ≥ 2 groups, not ${k}`);
  if (q <= 0) return 0;
  if (q === Infinity) return 1;
  const f = (z: number) => Math.exp(normLogPdf(z)) * normInterval(z, q) ** (k - 1);
  return Math.min(1, k * integrate(f, -12, 12, 48));
}

/**
 * The q with P(R ≤ q) = p for the studentized range of k groups, infinite df: a bracket by
 * doubling, then regula falsi with the Illinois modification (a bisection that converges faster).
 */
export function studentizedRangePpf(p: number, k: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return Infinity;
  let lo = 0;
  let hi = 1;
  let fHi = studentizedRangeCdf(hi, k) - p;
  let fLo = -p;
  while (fHi < 0) {
    [lo, fLo] = [hi, fHi];
    hi *= 2;
    fHi = studentizedRangeCdf(hi, k) - p;
  }
  let side = 0;
  for (let i = 0; i < 200 && hi - lo > 4e-16 * hi; i++) {
    const x = Math.min(hi, Math.max(lo, (lo * fHi - hi * fLo) / (fHi - fLo)));
    const fx = studentizedRangeCdf(x, k) - p;
    if (fx === 0) return x;
    if (fx < 0) {
      [lo, fLo] = [x, fx];
      if (side === -1) fHi /= 2;
      side = -1;
    } else {
      [hi, fHi] = [x, fx];
      if (side === 1) fLo /= 2;
      side = 1;
    }
    if (x === lo && x === hi) break;
  }
  return (lo + hi) / 2;
}
