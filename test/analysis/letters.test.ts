import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { compareRuns, type CompareReport } from '../../dist/analysis/compare.js';
import { compactLetters, shareLetter } from '../../dist/analysis/letters.js';
import type { AnalysisRun } from '../../dist/analysis/runs.js';

/** Runs of groups g1…gk with these test losses (one dataset, one model slot). */
function runsOf(groups: number[][]): AnalysisRun[] {
  let id = 0;
  return groups.flatMap((values, g) =>
    values.map((v) => {
      id++;
      return {
        runId: id,
        status: 'done',
        pipeline: `g${g + 1}`,
        facts: { mlp_key: `g${g + 1}`, data_key: 'toy', seed: String(id) },
        results: { test_loss: v } as AnalysisRun['results'],
        dataKey: 'toy',
        modelKey: `g${g + 1}`,
        metrics: {},
      } as AnalysisRun;
    }),
  );
}

/** Random data sets of 2–7 groups of 2–8 runs: some groups far apart, some close, spreads that differ. */
function randomGroups(random: () => number): number[][] {
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const k = 2 + Math.floor(random() * 6);
  return Array.from({ length: k }, () => {
    const n = 2 + Math.floor(random() * 7);
    const centre = Math.floor(random() * 4) * (0.5 + random());
    const spread = 0.05 + random() * random() * 2;
    return Array.from({ length: n }, () => centre + spread * normal());
  });
}

const ALPHA = 0.05;

/** Every claim of the verdict sentence about a pair, checked against the pair table. */
function checkVerdict(report: CompareReport): void {
  const text = report.verdicts[0]!.text;
  const pairs = report.pairs;
  const p = (a: string, b: string) => pairs.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a))!.pHolm;
  const entries = report.rankings[0]!.entries;
  const names = entries.map((e) => e.group);
  const best = names[0]!;
  const list = (s: string) => s.split(', ').map((x) => x.trim());
  if (names.length === 2) {
    // Two groups: a winner is named only when their pair is significant.
    if (/ has lower test_loss than /.test(text)) expect(p(names[0]!, names[1]!)).toBeLessThan(ALPHA);
    else {
      expect(text).toMatch(/no significant difference/);
      expect(p(names[0]!, names[1]!)).toBeGreaterThanOrEqual(ALPHA);
    }
    return;
  }
  const none = text.match(/^no significant difference among the (\d+) groups/);
  const clear = text.match(
    /^(g\d+) has the lowest mean test_loss, significantly lower than each of the other (\d+) groups/,
  );
  const undecided = text.match(
    /^(g\d+) has the lowest mean test_loss but does not differ significantly from any other group/,
  );
  const mixed = text.match(
    /^(g\d+) has the lowest mean test_loss; not significantly different from it after Holm: (.*); significantly higher than it: (.*) \(p/,
  );
  if (none) {
    for (const a of names) for (const b of names) if (a < b) expect(p(a, b)).toBeGreaterThanOrEqual(ALPHA);
  } else if (clear) {
    expect(clear[1]).toBe(best);
    for (const b of names.slice(1)) expect(p(best, b)).toBeLessThan(ALPHA);
  } else if (undecided) {
    expect(undecided[1]).toBe(best);
    for (const b of names.slice(1)) expect(p(best, b)).toBeGreaterThanOrEqual(ALPHA);
  } else if (mixed) {
    expect(mixed[1]).toBe(best);
    for (const b of list(mixed[2]!)) expect(p(best, b)).toBeGreaterThanOrEqual(ALPHA);
    for (const b of list(mixed[3]!)) expect(p(best, b)).toBeLessThan(ALPHA);
    expect(new Set([...list(mixed[2]!), ...list(mixed[3]!)])).toEqual(new Set(names.slice(1)));
  } else throw new Error(`a verdict the test does not know: ${text}`);
}

describe('the compact letter display', () => {
  it('gives letters that say exactly which pairs differ (Piepho: a chain a < b < c with a, c different)', () => {
    const different = new Set(['a|c']);
    const letters = compactLetters(['a', 'b', 'c'], (x, y) => different.has(`${x}|${y}`) || different.has(`${y}|${x}`));
    expect(Object.fromEntries(letters)).toEqual({ a: 'a', b: 'ab', c: 'b' });
    const none = compactLetters(['a', 'b', 'c'], () => false);
    expect(Object.fromEntries(none)).toEqual({ a: 'a', b: 'a', c: 'a' });
    const all = compactLetters(['a', 'b', 'c', 'd'], () => true);
    expect(Object.fromEntries(all)).toEqual({ a: 'a', b: 'b', c: 'c', d: 'd' });
  });

  it('over 400 random data sets: two groups share a letter exactly when their pair is not significant after Holm, and no verdict names a pair the table does not support', () => {
    const random = seedrandom('letters-property');
    let significantPairs = 0;
    let pairsSeen = 0;
    let mixedVerdicts = 0;
    for (let trial = 0; trial < 400; trial++) {
      const report = compareRuns(runsOf(randomGroups(random)), { criterion: 'test_loss' });
      const letters = new Map(report.groups.map((g) => [g.group, g.letters]));
      for (const pair of report.pairs) {
        pairsSeen++;
        const different = pair.pHolm < ALPHA;
        if (different) significantPairs++;
        expect(
          shareLetter(letters.get(pair.a)!, letters.get(pair.b)!),
          `trial ${trial}: ${pair.a} ${letters.get(pair.a)} vs ${pair.b} ${letters.get(pair.b)}, Holm p ${pair.pHolm}`,
        ).toBe(!different);
      }
      // Letters are named in order: the best group holds a.
      expect(report.rankings[0]!.entries[0]!.letters).toMatch(/^a/);
      checkVerdict(report);
      if (/not significantly different from it after Holm: .*; significantly higher/.test(report.verdicts[0]!.text))
        mixedVerdicts++;
    }
    // The data sets cover both kinds of pairs and the mixed verdict, so the assertions above were exercised.
    expect(pairsSeen).toBeGreaterThan(2000);
    expect(significantPairs / pairsSeen).toBeGreaterThan(0.2);
    expect(significantPairs / pairsSeen).toBeLessThan(0.8);
    expect(mixedVerdicts).toBeGreaterThan(20);
  });
});
