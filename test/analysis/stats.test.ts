import { describe, expect, it } from 'vitest';
import {
  cliffsDelta,
  cohensD,
  holm,
  mannWhitney,
  probabilityBelow,
  summarize,
  welch,
} from '../../src/analysis/stats.js';

// Reference values computed independently with SciPy 1.17 (scipy.stats.ttest_ind(equal_var=False),
// mannwhitneyu(method='exact' / 'asymptotic'), t.interval) and NumPy, and Holm's textbook example.
const A = [19.1, 20.3, 21.7, 18.9, 22.4, 20.0];
const B = [23.5, 24.1, 22.8, 25.9, 24.6];

describe('statistics against independent values', () => {
  it('summary: mean, std, median, 95% t interval', () => {
    const s = summarize(A);
    expect(s.n).toBe(6);
    expect(s.mean).toBeCloseTo(20.4, 12);
    expect(s.std).toBeCloseTo(1.4, 12);
    expect(s.median).toBeCloseTo(20.15, 12);
    expect(s.ci![0]).toBeCloseTo(18.930790104145625, 9);
    expect(s.ci![1]).toBeCloseTo(21.86920989585438, 9);
  });

  it("Welch's t-test: t, df, p and the interval of the difference", () => {
    const w = welch(A, B);
    expect(w.t).toBeCloseTo(-4.871576291526989, 9);
    expect(w.df).toBeCloseTo(8.99386309343153, 9);
    expect(w.p).toBeCloseTo(0.0008833298636348797, 9);
    expect(w.ci[0]).toBeCloseTo(-5.535457178593668, 8);
    expect(w.ci[1]).toBeCloseTo(-2.0245428214063272, 8);
  });

  it('Mann–Whitney U: exact without ties, normal approximation with ties', () => {
    expect(mannWhitney(A, B)).toEqual({ u: 0, p: expect.closeTo(0.004329004329004329, 12), method: 'exact' });
    const tied = mannWhitney([1.1, 2.2, 2.2, 3.5, 4.0], [2.2, 3.0, 3.5, 5.1, 6.3, 7.0]);
    expect(tied.method).toBe('normal');
    expect(tied.u).toBe(6.5);
    expect(tied.p).toBeCloseTo(0.13954714372531585, 9);
  });

  it('Holm correction (textbook example)', () => {
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((v, i) => {
      expect(adj[i]).toBeCloseTo(v, 12);
    });
  });

  it("effect sizes: Cohen's d, Cliff's delta, probability of being below", () => {
    expect(cohensD(A, B)).toBeCloseTo(-2.8983700130743806, 9);
    expect(cliffsDelta(A, B)).toBe(-1);
    const c = [1.1, 2.2, 2.2, 3.5, 4.0];
    const d = [2.2, 3.0, 3.5, 5.1, 6.3, 7.0];
    expect(cliffsDelta(c, d)).toBeCloseTo(-0.5666666666666667, 12);
    expect(probabilityBelow(c, d)).toBeCloseTo(0.7833333333333333, 12);
  });
});
