import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compareAcrossDatasets } from '../../dist/analysis/across-datasets.js';
import type { AnalysisRun } from '../../dist/analysis/runs.js';
import { MosaicError } from '../../dist/core/errors.js';
import { analysisDb, iniText, TWO_MODELS } from '../support/analysis-db.js';
import { cli, tmpDir } from '../support/helpers.js';

/**
 * `mosaic compare --across-datasets` and `mosaic cdplot`: models ranked on each dataset key,
 * Friedman (tie-corrected χ², as SciPy) and Iman–Davenport, the Nemenyi critical difference and
 * its cliques, Wilcoxon signed-rank over datasets with Holm (Demšar 2006; Benavoli et al. 2016).
 *
 * The reference values were computed once with SciPy 1.17 (python3), by this snippet:
 *
 *   import numpy as np
 *   from scipy import stats
 *   def holm(ps):
 *       ps = np.asarray(ps); o = np.argsort(ps, kind='stable'); m = len(ps); adj = np.empty(m); run = 0
 *       for i, idx in enumerate(o): run = max(run, min(1, (m - i) * ps[idx])); adj[idx] = run
 *       return adj
 *   def report(T, lower):                       # T: datasets × models
 *       N, k = T.shape
 *       avg = stats.rankdata(T if lower else -T, axis=1).mean(axis=0)
 *       chi2, p = stats.friedmanchisquare(*T.T)
 *       ff = (N - 1) * chi2 / (N * (k - 1) - chi2)
 *       q = stats.studentized_range.ppf(0.95, k, np.inf) / np.sqrt(2)
 *       order = np.argsort(avg, kind='stable')   # best average rank first
 *       ws = [stats.wilcoxon(T[:, order[i]], T[:, order[j]]) for i in range(k) for j in range(i + 1, k)]
 *       ps = [w.pvalue for w in ws]
 *       print(order, avg[order], chi2, p, ff, stats.f.sf(ff, k - 1, (k - 1) * (N - 1)), q, q * np.sqrt(k * (k + 1) / (6 * N)))
 *       print([w.statistic for w in ws], ps, holm(ps))
 *   report(np.array(DEMSAR), lower=False); report(np.array(SPREAD), lower=True)
 */

/**
 * Demšar (2006), Table 6: AUC of four C4.5 variants on 14 UCI data sets (higher is better). From
 * these printed values the average ranks are 3.143, 2.000, 2.929 and 1.929; the paper prints
 * 2.893 and 1.964 for C4.5+cf and C4.5+m+cf (its ranks of one data set differ by half a rank from
 * what the rounded values give) and χ² = 9.28 without the tie correction, CD = 1.25 — the same
 * conclusion: the Friedman test rejects, the Nemenyi test separates no pair.
 */
const DEMSAR_MODELS = ['C4.5', 'C4.5+m', 'C4.5+cf', 'C4.5+m+cf'];
const DEMSAR_DATASETS = [
  'adult_sample',
  'breast_cancer',
  'breast_cancer_wisconsin',
  'cmc',
  'ionosphere',
  'iris',
  'liver_disorders',
  'lung_cancer',
  'lymphography',
  'mushroom',
  'primary_tumor',
  'rheum',
  'voting',
  'wine',
];
const DEMSAR = [
  [0.763, 0.768, 0.771, 0.798],
  [0.599, 0.591, 0.59, 0.569],
  [0.954, 0.971, 0.968, 0.967],
  [0.628, 0.661, 0.654, 0.657],
  [0.882, 0.888, 0.886, 0.898],
  [0.936, 0.931, 0.916, 0.931],
  [0.661, 0.668, 0.609, 0.685],
  [0.583, 0.583, 0.563, 0.625],
  [0.775, 0.838, 0.866, 0.875],
  [1.0, 1.0, 1.0, 1.0],
  [0.94, 0.962, 0.965, 0.962],
  [0.619, 0.666, 0.614, 0.669],
  [0.972, 0.981, 0.975, 0.975],
  [0.957, 0.978, 0.946, 0.97],
];
/** SciPy on DEMSAR; models in order of average rank: C4.5+m+cf, C4.5+m, C4.5+cf, C4.5. */
const DEMSAR_REF = {
  models: ['C4.5+m+cf', 'C4.5+m', 'C4.5+cf', 'C4.5'],
  avgRanks: [1.9285714285714286, 2.0, 2.9285714285714284, 3.142857142857143],
  chi2: 10.952380952380956,
  p: 0.011986176325417788,
  ff: 4.585889570552149,
  ffP: 0.007628838730725745,
  q: 2.569031772546482,
  cd: 1.2535591471176057,
  // pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3) of the models above
  statistic: [22.0, 10.5, 11.0, 18.0, 6.5, 43.0],
  wilcoxonP: [
    0.3278256758446406, 0.025313519968766574, 0.015874359307532084, 0.05432871367198416, 0.01075713311978963,
    0.861262330095348,
  ],
  holm: [
    0.6556513516892812, 0.1012540798750663, 0.07937179653766042, 0.1629861410159525, 0.06454279871873778,
    0.861262330095348,
  ],
};

/** 12 datasets × 5 models, losses (lower is better) in 1/32 steps: each cell is the mean of two runs, value ∓ 1/64. */
const SPREAD_MODELS = ['A', 'B', 'C', 'D', 'E'];
const SPREAD = [
  [1.0, 1.34375, 1.40625, 1.3125, 1.84375],
  [1.15625, 1.78125, 2.46875, 1.9375, 2.28125],
  [2.15625, 2.375, 2.53125, 2.3125, 3.0],
  [2.75, 2.28125, 2.84375, 2.46875, 3.0625],
  [2.34375, 3.15625, 3.0625, 3.71875, 4.0625],
  [3.4375, 2.875, 3.8125, 4.09375, 4.53125],
  [3.46875, 4.09375, 4.15625, 4.34375, 5.375],
  [4.21875, 4.75, 5.3125, 4.90625, 5.46875],
  [5.03125, 5.28125, 5.0625, 5.65625, 6.46875],
  [4.96875, 6.0625, 6.03125, 5.90625, 7.1875],
  [6.28125, 5.84375, 6.53125, 6.8125, 6.9375],
  [6.75, 6.71875, 7.21875, 7.625, 7.25],
];
/** SciPy on SPREAD; models in order of average rank: A, B, D, C, E. */
const SPREAD_REF = {
  models: ['A', 'B', 'D', 'C', 'E'],
  avgRanks: [1.4166666666666667, 2.1666666666666665, 3.25, 3.3333333333333335, 4.833333333333333],
  chi2: 32.33333333333334,
  p: 1.6352789645240239e-6,
  ff: 22.702127659574487,
  ffP: 3.172263659820266e-10,
  q: 2.7277743708703763,
  cd: 1.7607707850987302,
  // pairs (A,B) (A,D) (A,C) (A,E) (B,D) (B,C) (B,E) (D,C) (D,E) (C,E)
  statistic: [20.0, 2.0, 0.0, 0.0, 7.0, 11.0, 0.0, 32.5, 4.0, 3.0],
  wilcoxonP: [
    0.146484375, 0.00146484375, 0.00048828125, 0.00048828125, 0.00927734375, 0.02587890625, 0.00048828125,
    0.63623046875, 0.00341796875, 0.00244140625,
  ],
  holm: [
    0.29296875, 0.01025390625, 0.0048828125, 0.0048828125, 0.037109375, 0.07763671875, 0.0048828125, 0.63623046875,
    0.01708984375, 0.0146484375,
  ],
};

/** Runs of `models` on datasets ds01…: `values(d, m)` gives each cell's runs' values of `criterion`. */
function runsOf(
  datasets: string[],
  models: string[],
  criterion: string,
  values: (d: number, m: number) => number[],
): AnalysisRun[] {
  let id = 0;
  return datasets.flatMap((dataKey, d) =>
    models.flatMap((modelKey, m) =>
      values(d, m).map((v) => {
        id++;
        return {
          runId: id,
          status: 'done',
          pipeline: `${dataKey} | ${modelKey}`,
          facts: { data_key: dataKey, mlp_key: modelKey, seed: String(id) },
          results: { [criterion]: v } as unknown as AnalysisRun['results'],
          dataKey,
          modelKey,
          metrics: {},
        } as AnalysisRun;
      }),
    ),
  );
}

const ds = (n: number) => Array.from({ length: n }, (_, i) => `ds${String(i + 1).padStart(2, '0')}`);

function expectClose(actual: number[], expected: number[], digits = 12): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((x, i) => {
    expect(x, `item ${i}`).toBeCloseTo(expected[i]!, digits);
  });
}

function expectReference(r: ReturnType<typeof compareAcrossDatasets>, ref: typeof DEMSAR_REF): void {
  expect(r.models).toEqual(ref.models);
  expectClose(r.avgRanks, ref.avgRanks);
  expect(r.friedman.chi2).toBeCloseTo(ref.chi2, 10);
  expect(r.friedman.p / ref.p).toBeCloseTo(1, 9);
  expect(r.friedman.ff).toBeCloseTo(ref.ff, 10);
  expect(r.friedman.ffP / ref.ffP).toBeCloseTo(1, 8);
  expect(r.friedman.df).toBe(ref.models.length - 1);
  expect(r.q).toBeCloseTo(ref.q, 8);
  expect(r.cd).toBeCloseTo(ref.cd, 8);
  expectClose(
    r.pairs.map((p) => p.statistic),
    ref.statistic,
  );
  expectClose(
    r.pairs.map((p) => p.wilcoxonP),
    ref.wilcoxonP,
    10,
  );
  expectClose(
    r.pairs.map((p) => p.wilcoxonPHolm),
    ref.holm,
    10,
  );
}

describe('models across datasets (analysis)', () => {
  it("reproduces Demšar's Table 6: Friedman rejects, Nemenyi separates no pair, Wilcoxon–Holm neither", () => {
    const r = compareAcrossDatasets(
      runsOf(DEMSAR_DATASETS, DEMSAR_MODELS, 'test_acc', (d, m) => [DEMSAR[d]![m]!]),
      { criterion: 'test_acc' },
    );
    expectReference(r, DEMSAR_REF);
    expect(r.direction).toBe('higher');
    expect(r.datasets).toEqual(DEMSAR_DATASETS);
    expect(r.ranks[9]).toEqual([2.5, 2.5, 2.5, 2.5]); // mushroom: all tied
    // the paper's CD and q_α (Table 5a: 2.569)
    expect(r.cd.toFixed(2)).toBe('1.25');
    expect(r.q.toFixed(3)).toBe('2.569');
    // the largest difference, C4.5 vs C4.5+m+cf (1.21), is below the CD: one bar joins all four
    expect(r.cliques).toEqual([DEMSAR_REF.models]);
    expect(r.pairs.some((p) => p.nemenyiDiffers)).toBe(false);
    expect(r.pairs[2]).toMatchObject({
      a: 'C4.5+m+cf',
      b: 'C4.5',
      aBetter: 11,
      ties: 1,
      bBetter: 2,
      n: 13,
      zeros: 1,
      favours: 'C4.5+m+cf',
      method: 'approx',
    });
    expect(r.verdict).toBe(
      "Friedman p = 0.012: the 4 models' ranks differ over 14 datasets; C4.5+m+cf has the best average rank (1.93); " +
        'the Nemenyi test separates no pair: every difference of average ranks is below the critical difference (largest 1.21, C4.5+m+cf vs C4.5; CD = 1.25); ' +
        'by Wilcoxon over datasets after Holm, no pair differs (smallest p = 0.065)',
    );
  });

  it('takes the mean of the runs of each model on each dataset, and finds the cliques of the CD diagram', () => {
    const r = compareAcrossDatasets(
      runsOf(ds(12), SPREAD_MODELS, 'test_loss', (d, m) => [SPREAD[d]![m]! - 1 / 64, SPREAD[d]![m]! + 1 / 64]),
      { criterion: 'test_loss' },
    );
    expectReference(r, SPREAD_REF);
    expect(r.table[0]).toEqual([1.0, 1.34375, 1.3125, 1.40625, 1.84375]); // A, B, D, C, E
    expect(r.runs.flat().every((n) => n === 2)).toBe(true);
    expect(r.notes).toContain(
      "each model's value on a dataset is the mean of its runs' test_loss there (2 runs per model and dataset); the ranks are taken over those means",
    );
    // CD 1.76: A–B (0.75) within, A–D (1.83) beyond; B–C (1.17) within; D–E (1.58) within, B–E beyond
    expect(r.cliques).toEqual([
      ['A', 'B'],
      ['B', 'D', 'C'],
      ['D', 'C', 'E'],
    ]);
    expect(r.pairs.filter((p) => p.nemenyiDiffers).map((p) => `${p.a}-${p.b}`)).toEqual(['A-D', 'A-C', 'A-E', 'B-E']);
    expect(r.verdict).toBe(
      "Friedman p < 0.001: the 5 models' ranks differ over 12 datasets; A has the best average rank (1.42); " +
        'within the critical difference of A (CD = 1.76, Nemenyi): B; beyond it, significantly worse: D, C, E; other pairs beyond the CD: B vs E; ' +
        'by Wilcoxon over datasets after Holm, A beats D (p = 0.010), C (p = 0.005), E (p = 0.005); B beats D (p = 0.037), E (p = 0.005); D beats E (p = 0.017); C beats E (p = 0.015)',
    );
  });

  it('keeps a complete table: drops the models or the datasets that keep fewer values, and says which', () => {
    const values = (d: number, m: number) => [SPREAD[d]![m]!];
    // C has no run on ds04: without C, 4 × 4 = 16 values; without ds04, 3 × 5 = 15
    const noC = runsOf(ds(4), SPREAD_MODELS, 'test_loss', values).filter(
      (r) => !(r.modelKey === 'C' && r.dataKey === 'ds04'),
    );
    const a = compareAcrossDatasets(noC, { criterion: 'test_loss' });
    expect([a.models.length, a.datasets.length, a.models.includes('C')]).toEqual([4, 4, false]);
    expect(a.notes).toContain(
      'left out 1 model without finished runs on every dataset (the ranks need a value of each model on each dataset): C (none on ds04)',
    );
    // with 6 datasets, C and E missing on ds06: without them 3 × 6 = 18 values; without ds06, 5 × 5 = 25
    const two = runsOf(ds(6), SPREAD_MODELS, 'test_loss', values).filter(
      (r) => !(['C', 'E'].includes(r.modelKey) && r.dataKey === 'ds06'),
    );
    const b = compareAcrossDatasets(two, { criterion: 'test_loss' });
    expect([b.models.length, b.datasets]).toEqual([5, ds(5)]);
    expect(b.notes).toContain(
      'left out 1 dataset where not every model has finished runs (the ranks need a value of each model on each dataset): ds06 (no C, E)',
    );
    // unfinished runs are left out as compare leaves them out
    const failed = runsOf(ds(3), SPREAD_MODELS, 'test_loss', values).map((r) =>
      r.runId === 2 ? { ...r, status: 'error' as const, results: null } : r,
    );
    expect(compareAcrossDatasets(failed, { criterion: 'test_loss' }).notes[0]).toBe(
      'left out 1 run that is not done: 1 error (2)',
    );
  });

  it('says when the ranks do not differ, and when there are too few datasets for Wilcoxon', () => {
    // three datasets that rank three models in three different ways: every average rank is 2
    const rows = [
      [1, 2, 3],
      [2, 3, 1],
      [3, 1, 2.5],
    ];
    const r = compareAcrossDatasets(
      runsOf(ds(3), ['x', 'y', 'z'], 'test_loss', (d, m) => [rows[d]![m]!]),
      { criterion: 'test_loss' },
    );
    expect([r.friedman.chi2, r.friedman.p]).toEqual([0, 1]);
    expect(r.cliques).toEqual([r.models]); // no post-hoc test: one bar joins all
    expect(r.pairs.some((p) => p.nemenyiDiffers)).toBe(false);
    expect(r.verdict).toMatch(
      /^no significant difference among the 3 models' ranks over 3 datasets \(Friedman p = 1\.00\); best average rank: x, y, z \(2\.00, tied\); /,
    );
    const better = compareAcrossDatasets(
      runsOf(ds(3), ['x', 'y', 'z'], 'test_loss', (d, m) => [
        [
          [1, 2, 3],
          [1, 3, 2],
          [2, 1, 3],
        ][d]![m]!,
      ]),
      { criterion: 'test_loss' },
    );
    expect(better.verdict).toMatch(
      /^no significant difference among the 3 models' ranks over 3 datasets \(Friedman p = 0\.\d+\); best average rank: x \(1\.33\); /,
    );
    expect(r.verdict).toMatch(
      /with 3 datasets the Wilcoxon signed-rank test cannot reach p < 0\.05 \(its smallest exact p is 2\/2\^3 = 0\.250\)/,
    );
    // 6 datasets and 10 pairs: one pair could reach 0.031, but not after Holm
    const six = compareAcrossDatasets(
      runsOf(ds(6), SPREAD_MODELS, 'test_loss', (d, m) => [SPREAD[d]![m]!]),
      { criterion: 'test_loss' },
    );
    expect(six.verdict).toMatch(
      /by Wilcoxon over datasets after Holm, no pair differs — nor could one with 6 datasets and 10 pairs \(the smallest Holm-adjusted p possible is 10·2\/2\^6 = 0\.313\)$/,
    );
  });

  it('refuses one dataset, one model, and models that never meet on two datasets', () => {
    const one = runsOf(['toy'], ['x', 'y'], 'test_loss', () => [1, 2]);
    expect(() => compareAcrossDatasets(one, { criterion: 'test_loss' })).toThrow(
      new MosaicError('--across-datasets needs at least two data keys; this database has one: toy'),
    );
    expect(() => compareAcrossDatasets(one, { criterion: 'test_loss', asked: 'cdplot' })).toThrow(
      'cdplot needs at least two data keys; this database has one: toy',
    );
    expect(() =>
      compareAcrossDatasets(
        runsOf(ds(3), ['x'], 'test_loss', () => [1]),
        { criterion: 'test_loss' },
      ),
    ).toThrow('--across-datasets needs at least two models; every run is of x');
    const apart = runsOf(ds(2), ['x', 'y'], 'test_loss', () => [1]).filter((r) => r.runId !== 2 && r.runId !== 3);
    expect(() => compareAcrossDatasets(apart, { criterion: 'test_loss' })).toThrow(
      '--across-datasets needs two models that both have finished runs on two datasets or more; here x on ds01; y on ds02',
    );
  });
});

/** Demšar's table as a database: 14 data keys × 4 model keys, one run each, the AUC as test_acc. */
async function demsarDb(dir: string): Promise<string> {
  const data = DEMSAR_DATASETS.map(
    (d, i) => `[d${i}]\ntype = data\nclass = D\npath_to_class = d.ts\nkey = ${d}\n`,
  ).join('');
  const models = DEMSAR_MODELS.map((m, i) => `[m${i}]\ntype = mlp\nclass = M\npath_to_class = m.ts\nkey = ${m}\n`).join(
    '',
  );
  const ini = `[PROCESS]\nepochs = 1\ndata_scheme = data\npipeline_scheme = mlp\nloss_function = MSELoss\n[MONITOR]\nmultiplicity = 1\n${data}${models}`;
  return analysisDb(dir, ini, (facts) => {
    const v = DEMSAR[DEMSAR_DATASETS.indexOf(facts.data_key!)]![DEMSAR_MODELS.indexOf(facts.mlp_key!)]!;
    return { status: 'done', value: 1 - v, acc: v };
  });
}

describe('mosaic compare --across-datasets and mosaic cdplot', () => {
  it('prints the ranks, the tests and the verdict in four formats, and draws the diagram', async () => {
    const dir = tmpDir();
    const db = await demsarDb(dir);
    const r = cli(['compare', db, '--across-datasets', '--criterion', 'test_acc'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('test_acc (higher is better), models by model key, ranked on each of 14 datasets (1 = best)');
    expect(lines).toContainEqual(expect.stringMatching(/^average rank +1\.93 +2\.00 +2\.93 +3\.14$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/^adult_sample +0\.7980 \(1\) +0\.7680 \(3\) +0\.7710 \(2\) +0\.7630 \(4\)$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^C4\.5\+m vs C4\.5 +1\.14 +– +6\.5 +0\.0108 +0\.0645 +approx +12 +10 \/ 2 \/ 2$/),
    );
    expect(r.stdout).toContain(
      'Friedman χ² = 10.95 (df 3), p = 0.0120; Iman–Davenport F = 4.586 (df 3, 39), p = 0.0076',
    );
    expect(r.stdout).toContain('Nemenyi critical difference CD = 1.254 (q = 2.569, α = 0.05)');
    expect(r.stdout).toContain('within the CD (the bars of the diagram): [C4.5+m+cf, C4.5+m, C4.5+cf, C4.5]');
    expect(lines[lines.length - 1]).toBe(
      `across 14 datasets: ${
        compareAcrossDatasets(
          runsOf(DEMSAR_DATASETS, DEMSAR_MODELS, 'test_acc', (d, m) => [DEMSAR[d]![m]!]),
          { criterion: 'test_acc' },
        ).verdict
      }`,
    );
    expect(lines[lines.length - 1]).toMatch(/^across 14 datasets: Friedman p = 0\.012: the 4 models' ranks differ/);

    const json = JSON.parse(
      cli(['compare', db, '--across-datasets', '--criterion', 'test_acc', '--format', 'json'], dir).stdout,
    );
    expect(json.models).toEqual(DEMSAR_REF.models);
    expect(json.datasets).toEqual([...DEMSAR_DATASETS].sort());
    expect(json.friedman.chi2).toBeCloseTo(DEMSAR_REF.chi2, 10);
    expectClose(
      json.pairs.map((p: { wilcoxonPHolm: number }) => p.wilcoxonPHolm),
      DEMSAR_REF.holm,
      10,
    );
    const csv = cli(['compare', db, '--across-datasets', '--criterion', 'test_acc', '--format', 'csv'], dir);
    const rows = csv.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe(
      'kind,dataset,model,mean,rank,runs,pair,rank_diff,nemenyi_differs,statistic,df,p,p_holm,method,n,a_better,ties,b_better',
    );
    expect(rows).toHaveLength(1 + 14 * 4 + 4 + 3 + 6);
    expect(rows).toContain('cell,adult_sample,C4.5+m+cf,0.798,1,1,,,,,,,,,,,,');
    expect(csv.stderr.trim()).toBe(
      "note: each model's value on a dataset is the mean of its runs' test_acc there (1 run per model and dataset); the ranks are taken over those means",
    );
    expect(
      cli(['compare', db, '--across-datasets', '--criterion', 'test_acc', '--format', 'markdown'], dir).stdout,
    ).toMatch(
      /^\*\*test_acc \(higher is better\), models by model key[\s\S]*\n- \*\*across 14 datasets\*\*: Friedman p = 0\.012/,
    );

    // the diagram: --plot, and cdplot
    const viaPlot = `${dir}/compare-cd.svg`;
    expect(cli(['compare', db, '--across-datasets', '--criterion', 'test_acc', '--plot', viaPlot], dir).code).toBe(0);
    const svg = `${dir}/cd.svg`;
    const drawn = cli(['cdplot', db, svg, '--criterion', 'test_acc'], dir);
    expect([drawn.code, drawn.stderr]).toEqual([0, '']);
    expect(drawn.stdout.trim().split('\n').pop()).toBe(
      `critical difference diagram of 4 models over 14 datasets (test_acc) written to ${svg}`,
    );
    const text = fs.readFileSync(svg, 'utf8');
    for (const m of DEMSAR_MODELS) expect(text).toContain(`>${m}</text>`);
    expect(text).toContain('CD = 1.25');
    expect(text).toContain('Friedman p = 0.012, N = 14 datasets, k = 4 models');
    expect(fs.readFileSync(viaPlot, 'utf8')).toBe(text);
    const png = `${dir}/cd.png`;
    expect(cli(['cdplot', db, png, '--criterion', 'test_acc'], dir).code).toBe(0);
    expect(fs.readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('refuses one data key, --at and a bad output in one line, exit 2', async () => {
    const dir = tmpDir();
    const db = await analysisDb(dir, iniText({ multiplicity: 2, models: TWO_MODELS }), (facts, i) => ({
      status: 'done',
      value: facts.mlp_key === 'model_a' ? 1 + i / 100 : 2,
    }));
    const one = cli(['compare', db, '--across-datasets'], dir);
    expect([one.code, one.stdout, one.stderr]).toEqual([
      2,
      '',
      'mosaic: error: --across-datasets needs at least two data keys; this database has one: toy\n',
    ]);
    const plot = cli(['cdplot', db, `${dir}/cd.png`], dir);
    expect([plot.code, plot.stderr]).toEqual([
      2,
      'mosaic: error: cdplot needs at least two data keys; this database has one: toy\n',
    ]);
    expect(fs.existsSync(`${dir}/cd.png`)).toBe(false);
    const at = cli(['compare', db, '--across-datasets', '--at', 'width'], dir);
    expect([at.code, at.stderr]).toEqual([
      2,
      expect.stringMatching(
        /^mosaic: error: --across-datasets ranks the models over the data keys: it does not take --at .*\n$/,
      ),
    ]);
    const jpg = cli(['cdplot', db, `${dir}/cd.jpg`], dir);
    expect([jpg.code, jpg.stderr]).toEqual([
      2,
      expect.stringMatching(/^mosaic: error: cannot tell the format of .*cd\.jpg: name it \.pdf, \.png or \.svg\n$/),
    ]);
  });
});
