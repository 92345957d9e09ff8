import { describe, expect, it } from 'vitest';
import type { AnalysisRun } from '../../src/analysis/runs.js';
import type { RaceSettings } from '../../src/core/race-settings.js';
import { raceView } from '../../src/race/state.js';
import { raceCells, raceKeyTitle } from '../../src/race/table.js';
import type { RaceRoundRow } from '../../src/store/types.js';

/** The race as shown while it runs, from rows and runs made here (`race-display.test.ts` has a real race). */
const settings: RaceSettings = { minRepeats: 3, maxRepeats: 6, alpha: 0.05, criterion: 'test_loss' };
const DATA = 'blobs(2)';
const [A, B, C] = ['mlp(8)', 'mlp(64)', 'linear()'].map((m) => `${DATA} | ${m}`) as [string, string, string];

let id = 0;
function run(pipeline: string, status: AnalysisRun['status']): AnalysisRun {
  return {
    runId: ++id,
    status,
    pipeline,
    facts: {},
    results: null,
    dataKey: 'blobs',
    modelKey: pipeline.split(' | ')[1]!,
    metrics: {},
  };
}

function row(
  round: number,
  group: string,
  decision: RaceRoundRow['decision'],
  p: number | null,
  diff: number | null,
): RaceRoundRow {
  return {
    dataKey: 'blobs',
    round,
    group,
    decision,
    n: 3,
    mean: 1,
    diff,
    p,
    equivalenceP: null,
    threshold: 0.05 / (4 * 3),
    over: null,
    decidedAt: 0,
  };
}

describe('raceView', () => {
  const first = [A, B, C].flatMap((g) => [run(g, 'done'), run(g, 'done'), run(g, 'done')]);

  it('before the first round: every configuration racing, round 1 in progress', () => {
    const runs = [A, B, C].flatMap((g) => [run(g, 'done'), run(g, 'running'), run(g, 'pending')]);
    const v = raceView(settings, [], runs);
    const k = v.keys[0]!;
    expect(k.progress).toBe('round 1 of at most 4 in progress (6 runs open)');
    expect(k.entries.map((e) => [e.label, e.state, e.p])).toEqual([
      ['mlp(8)', 'racing', null],
      ['mlp(64)', 'racing', null],
      ['linear()', 'racing', null],
    ]);
    expect(raceKeyTitle(k, v)).toBe(
      'blobs: round 1 of at most 4 in progress (6 runs open); 9 of 18 runs (max_repeats 6 × 3 configurations)',
    );
    expect(v.line).toMatch(
      /^3 configurations, 3 left after 0 rounds; 9 runs instead of 18; still racing in 1 data key$/,
    );
  });

  it('after round 1: the best first, racing by distance to it, the eliminated with round and p; round 2 in progress', () => {
    const rows = [row(1, B, 'best', null, null), row(1, A, 'undecided', 0.2, 0.5), row(1, C, 'eliminated', 0.001, 3)];
    const runs = [...first, run(A, 'pending'), run(B, 'running')];
    const v = raceView(settings, rows, runs);
    const k = v.keys[0]!;
    expect(k.progress).toBe('round 2 of at most 4 in progress (2 runs open)');
    expect(k.entries.map(raceCells)).toEqual([
      ['mlp(64)', 'best', '', '', '4', '1.000E+00'],
      ['mlp(8)', 'racing', '', '2.00E-01', '4', '1.000E+00'],
      ['linear()', 'eliminated', '1', '1.00E-03', '3', '1.000E+00'],
    ]);
    expect(k.runs).toBe(11);
    expect(k.threshold).toBeCloseTo(0.05 / 12);
    // the round's runs finished, its decision not yet recorded
    const waiting = raceView(
      settings,
      rows,
      runs.map((r) => ({ ...r, status: 'done' as const })),
    );
    expect(waiting.keys[0]!.progress).toBe('round 2 of at most 4 finished, its decision not yet recorded');
  });
});
