import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../dist/analysis/compare.js';
import { tost } from '../../dist/analysis/equivalence.js';
import { pairedT, wilcoxonSignedRank } from '../../dist/analysis/paired-stats.js';
import { repeatsNeededT } from '../../dist/analysis/power.js';
import type { AnalysisRun } from '../../dist/analysis/runs.js';
import { std, welch } from '../../dist/analysis/stats.js';
import { analysisDb, iniText, TWO_MODELS } from '../support/analysis-db.js';
import { cli, tmpDir } from '../support/helpers.js';

/** Runs of two models with these test losses; `seeds`: each run's seed (the same list for both models makes a paired design). */
function runs(
  values: Record<string, number[]>,
  seeds: (model: string, i: number) => number,
  paired = false,
): AnalysisRun[] {
  let id = 0;
  return Object.entries(values).flatMap(([model, vs]) =>
    vs.map((v, i) => {
      id++;
      const facts: Record<string, string> = { mlp_key: model, data_key: 'toy', seed: String(seeds(model, i)) };
      if (paired) Object.assign(facts, { design: 'paired', repeat: String(i) });
      return {
        runId: id,
        status: 'done',
        pipeline: model,
        facts,
        results: { test_loss: v } as AnalysisRun['results'],
        dataKey: 'toy',
        modelKey: model,
        metrics: {},
      } as AnalysisRun;
    }),
  );
}

// Split-to-split variance dominates: each seed shifts both models alike; model b is worse by ~0.02 on every seed.
const SPLIT = [0.31, 0.45, 0.22, 0.38, 0.27, 0.5, 0.35, 0.29];
const A = SPLIT;
const B = SPLIT.map((x, i) => x + 0.02 + (i % 3) * 0.002);

describe('verdicts by design', () => {
  it('a paired design (the same seeds in both groups) is tested with paired t and Wilcoxon, and says so; unpaired runs keep Welch and Mann–Whitney', () => {
    const paired = compareRuns(
      runs({ a: A, b: B }, (_m, i) => 100 + i, true),
      { criterion: 'test_loss' },
    );
    const [pair] = paired.pairs;
    expect(pair).toMatchObject({ design: 'paired', test: 'paired t', rankTest: 'Wilcoxon', n: 8 });
    const t = pairedT(A, B);
    expect(pair!.p).toBe(t.p);
    expect(pair!.ci).toEqual(t.ci);
    expect(pair!.rankP).toBe(wilcoxonSignedRank(A, B).p);
    expect(pair!.decision).toBe('different');
    expect(paired.design).toMatch(
      /^paired: every two groups ran on the same seeds, one run each .*paired t and Wilcoxon signed-rank/,
    );
    expect(paired.verdicts[0]!.text).toMatch(/^a has lower test_loss than b, p < 0\.001 after Holm \(paired t\)/);

    // The same values on different seeds: independent, and the split-to-split variance hides the difference.
    const independent = compareRuns(
      runs({ a: A, b: B }, (m, i) => (m === 'a' ? 100 : 200) + i),
      { criterion: 'test_loss' },
    );
    const [q] = independent.pairs;
    expect(q).toMatchObject({
      design: 'independent',
      test: 'Welch',
      rankTest: 'Mann–Whitney',
      n: [8, 8],
      unpairedBecause: 'the groups share no seed',
    });
    expect(q!.p).toBe(welch(A, B).p);
    expect(q!.decision).toBe('undecided');
    expect(independent.design).toBe("independent repeats (the groups share no seed): Welch's t and Mann–Whitney U");
    // the repeats that would decide it: a two-sample t-test at the observed difference and pooled sd, 80% power
    const pooled = Math.sqrt((std(A) ** 2 + std(B) ** 2) / 2);
    expect(q!.repeatsNeeded).toBe(repeatsNeededT(q!.diff, pooled));
    expect(independent.verdicts[0]!.text).toBe(
      `no significant difference between a and b on test_loss with n = 8 per group; about ${q!.repeatsNeeded} repeats per group would be needed to detect a difference of the size observed (t-test, 80% power)`,
    );
  });

  it('with a ROPE, a pair is practically equivalent (TOST), different, or said to be undecided', () => {
    const close = { a: [1.0, 1.01, 0.99, 1.0, 1.02, 0.98], b: [1.0, 1.0, 1.01, 0.99, 1.0, 1.01] };
    const seeds = (m: string, i: number) => (m === 'a' ? 10 : 20) + i;
    const equivalent = compareRuns(runs(close, seeds), { criterion: 'test_loss', rope: 0.05 });
    const [e] = equivalent.pairs;
    const expected = tost(close.a, close.b, 0.05);
    expect(e!.equivalence).toEqual({ rope: 0.05, p: expected.p, pHolm: expected.p, ci: expected.ci });
    expect(e!.decision).toBe('equivalent');
    expect(e!.repeatsNeeded).toBeUndefined();
    expect(equivalent.verdicts[0]!.text).toMatch(
      /^no significant difference between a and b on test_loss with n = 6 per group; practically equivalent \(within ±0\.05, TOST p < 0\.001 after Holm\)$/,
    );

    const narrow = compareRuns(runs(close, seeds), { criterion: 'test_loss', rope: 0.001 });
    expect(narrow.pairs[0]!.decision).toBe('undecided');
    expect(narrow.verdicts[0]!.text).toMatch(
      /; undecided: neither different nor within ±0\.001; about \d+ repeats per group would be needed/,
    );
  });

  it('compare --rope refuses what is not a positive number, in one line', async () => {
    const dir = tmpDir();
    const db = await analysisDb(dir, iniText({ multiplicity: 3, models: TWO_MODELS }), (facts, i) => ({
      status: 'done',
      value: facts.mlp_key === 'model_a' ? 1 + i : 2 + i,
    }));
    for (const bad of ['-0.1', 'lots', '0']) {
      const r = cli(['compare', db, '--rope', bad], dir);
      expect([r.code, r.stderr.trim().split('\n')]).toEqual([
        2,
        [
          `mosaic: error: --rope must be a positive number in the criterion's units (e.g. 0.005 for accuracy), not "${bad}"`,
        ],
      ]);
    }
    const ok = cli(['compare', db, '--rope', '5', '--pool', 'width'], dir);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/TOST ±5 \(Holm\)/);
  });
});
