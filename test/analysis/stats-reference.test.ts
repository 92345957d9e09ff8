import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { nctCdf, nctSf, studentizedRangeCdf } from '../../src/analysis/distributions.js';
import { tost } from '../../src/analysis/equivalence.js';
import { pairedT, wilcoxonSignedRank } from '../../src/analysis/paired-stats.js';
import { repeatsNeededT, tTestPower } from '../../src/analysis/power.js';
import { friedman, nemenyiCD, nemenyiQ } from '../../src/analysis/rank-stats.js';
import { mannWhitney, welch } from '../../src/analysis/stats.js';

// Every value compared here was computed by SciPy (scripts/stats-reference.py, which names the
// version in the file) on the frozen data sets of that script: facts, not code. Tolerance: 1e-6
// relative; p-values also pass within 1e-12 absolute (exact p-values can be tiny).

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
const num = (x: Num): number =>
  typeof x === 'number' ? x : x === 'NaN' ? NaN : x === 'Infinity' ? Infinity : -Infinity;

interface Reference {
  scipy: string;
  paired: Record<
    string,
    {
      a: number[];
      b: number[];
      ttest_rel: { t: Num; df: number; p: Num; diff: number; ci95: [Num, Num] };
      wilcoxon: {
        statistic: number;
        p: number;
        auto_method: 'exact' | 'permutation' | 'asymptotic';
        n_nonzero: number;
        zeros: number;
      };
    }
  >;
  paired_degenerate: Record<
    string,
    {
      a: number[];
      b: number[];
      ttest_rel: { t: Num; p: Num };
      wilcoxon: { statistic: number; p: Num } | null;
    }
  >;
  independent: Record<
    string,
    {
      a: number[];
      b: number[];
      welch: { t: number; df: number; p: number; diff: number; ci95: [number, number] };
      mannwhitneyu: {
        u: number;
        p: number;
        auto_method: 'exact' | 'asymptotic';
        ties: boolean;
        p_exact: number | null;
        p_asymptotic: number;
      };
    }
  >;
  tost: {
    kind: 'paired' | 'independent';
    data: string;
    rope: number;
    alpha: number;
    p_lower: number;
    p_upper: number;
    p: number;
    diff: number;
    ci: [number, number];
  }[];
  friedman: Record<
    string,
    {
      better: 'lower' | 'higher';
      table: number[][];
      avg_ranks: number[];
      chi2: number;
      p: number;
      ff: Num;
      ff_df: [number, number];
      ff_p: number;
    }
  >;
  nemenyi_q: { k: number; alpha: number; q: number }[];
  nemenyi_cd: { k: number; n: number; alpha: number; cd: number }[];
  studentized_range_cdf: { q: number; k: number; cdf: number }[];
  nct: { t: number; df: number; nc: number; cdf: Num; sf: number; cdf_by_quad?: number; sf_by_quad?: number }[];
  power: {
    diff: number;
    sd: number;
    paired: boolean;
    alpha: number;
    power: number;
    n: number;
    power_at_n: number;
    power_at_n_minus_1: number | null;
  }[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ref = JSON.parse(fs.readFileSync(path.join(here, '..', 'fixtures', 'stats-reference.json'), 'utf8')) as Reference;

/** Largest relative error seen per statistic, printed at the end. */
const worst = new Map<string, number>();

function close(what: string, actual: number, expected: number, absFloor = 0): void {
  if (!Number.isFinite(expected)) {
    expect(actual, what).toBe(expected);
    return;
  }
  const err = Math.abs(actual - expected);
  const rel = expected === 0 ? err : err / Math.abs(expected);
  const key = what.split(' ')[0]!;
  worst.set(key, Math.max(worst.get(key) ?? 0, rel));
  expect(err, `${what}: ${actual} against SciPy's ${expected}`).toBeLessThanOrEqual(
    Math.max(1e-6 * Math.abs(expected), absFloor),
  );
}
const closeP = (what: string, actual: number, expected: number) => close(what, actual, expected, 1e-12);

afterAll(() => {
  const lines = [...worst].map(([k, v]) => `  ${k.padEnd(28)} ${v.toExponential(1)}`);
  console.log(`largest relative error against SciPy ${ref.scipy}:\n${lines.join('\n')}`);
});

describe(`paired tests against SciPy ${ref.scipy}`, () => {
  for (const [name, c] of Object.entries(ref.paired)) {
    it(`${name}: ttest_rel and wilcoxon`, () => {
      const t = pairedT(c.a, c.b);
      close(`ttest_rel.t ${name}`, t.t, num(c.ttest_rel.t));
      expect(t.df).toBe(c.ttest_rel.df);
      closeP(`ttest_rel.p ${name}`, t.p, num(c.ttest_rel.p));
      close(`ttest_rel.diff ${name}`, t.diff, c.ttest_rel.diff);
      if (Number.isFinite(num(c.ttest_rel.t))) {
        close(`ttest_rel.ci ${name}`, t.ci[0], num(c.ttest_rel.ci95[0]));
        close(`ttest_rel.ci ${name}`, t.ci[1], num(c.ttest_rel.ci95[1]));
      }
      const w = wilcoxonSignedRank(c.a, c.b);
      expect(w.statistic).toBe(c.wilcoxon.statistic);
      expect(w.n).toBe(c.wilcoxon.n_nonzero);
      expect(w.zeros).toBe(c.wilcoxon.zeros);
      expect(w.method).toBe(c.wilcoxon.auto_method === 'asymptotic' ? 'approx' : 'exact');
      closeP(`wilcoxon.p.${w.method} ${name}`, w.p, c.wilcoxon.p);
    });
  }

  it('degenerate pairs: our documented answers where SciPy gives NaN', () => {
    const d = ref.paired_degenerate;
    for (const name of ['identical_n8', 'identical_n20']) {
      expect(num(d[name]!.ttest_rel.p)).toBeNaN();
      expect(pairedT(d[name]!.a, d[name]!.b)).toMatchObject({ t: 0, p: 1, diff: 0, ci: [0, 0] });
      const w = wilcoxonSignedRank(d[name]!.a, d[name]!.b);
      expect(w).toMatchObject({ statistic: 0, p: 1, n: 0, zeros: d[name]!.a.length });
    }
    // with up to 13 pairs SciPy's permutation test says p = 1 for identical samples, as we do
    expect(d.identical_n8!.wilcoxon).toEqual({ statistic: 0, p: 1 });
    expect(num(d.identical_n20!.wilcoxon!.p)).toBeNaN();
    expect(num(d.one_pair!.ttest_rel.t)).toBeNaN();
    const one = pairedT(d.one_pair!.a, d.one_pair!.b);
    expect(one.t).toBeNaN();
    expect(one).toMatchObject({ n: 1, df: 0, p: 1, ci: [-Infinity, Infinity] });
    expect(one.diff).toBeCloseTo(0.1, 12);
    // constant non-zero differences: t = ∞, p = 0, as SciPy
    const shift = ref.paired.constant_shift_n5!;
    expect(pairedT(shift.a, shift.b)).toMatchObject({ t: Infinity, p: 0, diff: 1, ci: [1, 1] });
    expect(() => pairedT([1, 2], [1])).toThrow(RangeError);
  });
});

describe(`independent samples against SciPy ${ref.scipy}`, () => {
  for (const [name, c] of Object.entries(ref.independent)) {
    it(`${name}: Welch (ttest_ind equal_var=False) and mannwhitneyu`, () => {
      const w = welch(c.a, c.b);
      close(`welch.t ${name}`, w.t, c.welch.t);
      close(`welch.df ${name}`, w.df, c.welch.df);
      closeP(`welch.p ${name}`, w.p, c.welch.p);
      close(`welch.ci ${name}`, w.ci[0], c.welch.ci95[0]);
      close(`welch.ci ${name}`, w.ci[1], c.welch.ci95[1]);
      const m = mannWhitney(c.a, c.b);
      expect(m.u).toBe(c.mannwhitneyu.u);
      // our p against SciPy's p for the same method
      const same = m.method === 'exact' ? c.mannwhitneyu.p_exact : c.mannwhitneyu.p_asymptotic;
      expect(same, 'exact p without ties only').not.toBeNull();
      closeP(`mannwhitney.p.${m.method} ${name}`, m.p, same!);
      if ((m.method === 'exact') === (c.mannwhitneyu.auto_method === 'exact'))
        closeP(`mannwhitney.p.default ${name}`, m.p, c.mannwhitneyu.p);
    });
  }

  it("chooses exact or normal as SciPy's default 'auto' does (exact without ties when either sample has at most 8 values), so its p is SciPy's default p", () => {
    for (const [name, c] of Object.entries(ref.independent)) {
      const m = mannWhitney(c.a, c.b);
      expect(m.method === 'exact', name).toBe(c.mannwhitneyu.auto_method === 'exact');
      closeP(`mannwhitney.p.default ${name}`, m.p, c.mannwhitneyu.p);
    }
  });
});

describe(`TOST against two one-sided SciPy t-tests (${ref.scipy})`, () => {
  for (const c of ref.tost) {
    it(`${c.kind} ${c.data}, rope ±${c.rope}, α = ${c.alpha}`, () => {
      const data = c.kind === 'paired' ? ref.paired[c.data]! : ref.independent[c.data]!;
      const r = tost(data.a, data.b, c.rope, { paired: c.kind === 'paired', alpha: c.alpha });
      const what = `tost.${c.kind} ${c.data} ${c.rope}`;
      closeP(what, r.pLower, c.p_lower);
      closeP(what, r.pUpper, c.p_upper);
      closeP(what, r.p, c.p);
      close(what, r.diff, c.diff);
      close(`tost.ci ${c.data}`, r.ci[0], c.ci[0]);
      close(`tost.ci ${c.data}`, r.ci[1], c.ci[1]);
      expect(r.level).toBeCloseTo(1 - 2 * c.alpha, 15);
      // equivalence at α ⇔ the 1 − 2α interval inside (−rope, rope)
      expect(r.p < c.alpha).toBe(r.ci[0] > -c.rope && r.ci[1] < c.rope);
    });
  }

  it('degenerate inputs', () => {
    expect(tost([1, 1, 1], [1, 1, 1], 0.5)).toMatchObject({ p: 0, ci: [0, 0] });
    expect(tost([2, 2, 2], [1, 1, 1], 0.5)).toMatchObject({ p: 1 });
    expect(tost([1], [2], 0.5, { paired: true })).toMatchObject({ p: 1, ci: [-Infinity, Infinity] });
    expect(() => tost([1, 2], [1, 2], 0)).toThrow(RangeError);
  });
});

describe(`Friedman, Iman–Davenport and Nemenyi against SciPy ${ref.scipy} and Demšar (2006)`, () => {
  for (const [name, c] of Object.entries(ref.friedman)) {
    it(`${name} (${c.better} is better)`, () => {
      const f = friedman(c.table, c.better);
      expect(f.n).toBe(c.table.length);
      expect(f.k).toBe(c.table[0]!.length);
      f.avgRanks.forEach((r, j) => {
        close(`friedman.avg_rank ${name}`, r, c.avg_ranks[j]!);
      });
      close(`friedman.chi2 ${name}`, f.chi2, c.chi2);
      closeP(`friedman.p ${name}`, f.p, c.p);
      close(`iman_davenport.F ${name}`, f.ff, num(c.ff));
      expect(f.ffDf).toEqual(c.ff_df);
      closeP(`iman_davenport.p ${name}`, f.ffP, c.ff_p);
    });
  }

  it('ranks: 1 is the best, ties at their average rank', () => {
    expect(friedman([[0.3, 0.1, 0.3, 0.2]], 'lower').ranks[0]).toEqual([3.5, 1, 3.5, 2]);
    expect(friedman([[0.3, 0.1, 0.3, 0.2]], 'higher').ranks[0]).toEqual([1.5, 4, 1.5, 3]);
    expect(
      friedman([
        [1, 1, 1],
        [2, 2, 2],
      ]),
    ).toMatchObject({ chi2: 0, p: 1 });
  });

  it('q_α: the studentized range quantile (k groups, infinite df) over √2', () => {
    for (const c of ref.nemenyi_q) close(`nemenyi.q k=${c.k}`, nemenyiQ(c.k, c.alpha), c.q);
  });

  it("q_α against Demšar's table (3 decimals, within one unit of the last: 2.343 for 2.3437)", () => {
    const table: Record<string, number[]> = {
      '0.05': [1.96, 2.343, 2.569, 2.728, 2.85, 2.949, 3.031, 3.102, 3.164],
      '0.1': [1.645, 2.052, 2.291, 2.459, 2.589, 2.693, 2.78, 2.855, 2.92],
    };
    for (const [alpha, qs] of Object.entries(table)) {
      qs.forEach((q, i) => {
        expect(Math.abs(nemenyiQ(i + 2, Number(alpha)) - q), `k = ${i + 2}, α = ${alpha}`).toBeLessThanOrEqual(1e-3);
      });
    }
  });

  it('critical differences and the studentized range cdf', () => {
    for (const c of ref.nemenyi_cd) close(`nemenyi.cd k=${c.k}`, nemenyiCD(c.k, c.n, c.alpha), c.cd);
    for (const c of ref.studentized_range_cdf)
      close(`studentized_range.cdf q=${c.q}`, studentizedRangeCdf(c.q, c.k), c.cdf);
  });
});

describe(`noncentral t and power against SciPy ${ref.scipy}`, () => {
  it('nct.cdf and nct.sf on a grid', () => {
    for (const c of ref.nct) {
      const at = `t=${c.t} df=${c.df} nc=${c.nc}`;
      const cdf = nctCdf(c.t, c.df, c.nc);
      const sf = nctSf(c.t, c.df, c.nc);
      // below 1e-6 SciPy's nct is accurate in absolute terms only (1e-17 for 5e-23; NaN at two
      // points): there the script integrates the same tail with scipy.integrate.quad, and we match
      // that relatively and nct within 1e-12
      const check = (what: string, ours: number, scipy: Num, quad: number | undefined) => {
        if (quad === undefined) return closeP(`${what} ${at}`, ours, num(scipy));
        close(`${what}.tail_by_quad ${at}`, ours, quad);
        if (!Number.isNaN(num(scipy))) expect(Math.abs(ours - num(scipy)), `${what} ${at}`).toBeLessThanOrEqual(1e-12);
      };
      check('nct.cdf', cdf, c.cdf, c.cdf_by_quad);
      check('nct.sf', sf, c.sf, c.sf_by_quad);
    }
  });

  for (const c of ref.power) {
    it(`repeats needed: d = ${c.diff}/${c.sd}, ${c.paired ? 'paired' : 'two samples'}, α = ${c.alpha}, power ${c.power}`, () => {
      const opts = { paired: c.paired, alpha: c.alpha, power: c.power };
      expect(repeatsNeededT(c.diff, c.sd, opts)).toBe(c.n);
      expect(repeatsNeededT(-c.diff, c.sd, opts)).toBe(c.n);
      close(`power ${c.diff}`, tTestPower(c.diff / c.sd, c.n, opts), c.power_at_n);
      if (c.power_at_n_minus_1 !== null)
        close(`power ${c.diff}`, tTestPower(c.diff / c.sd, c.n - 1, opts), c.power_at_n_minus_1);
    });
  }

  it('no difference, no variance, and the cap', () => {
    expect(repeatsNeededT(0, 1)).toBe(Infinity);
    expect(repeatsNeededT(1, 0)).toBe(2);
    expect(repeatsNeededT(1e-4, 1)).toBe(Infinity);
    expect(repeatsNeededT(0.01, 1, { maxRepeats: 1000 })).toBe(Infinity);
    expect(repeatsNeededT(NaN, 1)).toBeNaN();
  });
});
