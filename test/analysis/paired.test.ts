import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairedBy } from '../../dist/analysis/design.js';
import type { AnalysisRun } from '../../dist/analysis/runs.js';
import { loadUserClass } from '../../dist/engine/chain/loader.js';
import { cli, faultyModel, fixtureConfig, openDb, tmpDir, TUTORIAL, tutorialConfig } from '../support/helpers.js';

/** `[MONITOR] paired = True`: repeat k of every pipeline gets the same seed (common random numbers). */

interface SeedRow {
  run_id: number;
  seed: number;
  repeat: string | null;
  design: string | null;
  model: string;
}

/** Each run's seed (as queued), its `repeat` and `design` facts, and its model (the fact `model_of`). */
function seedRows(db: string, modelFact: string): SeedRow[] {
  const d = openDb(db);
  try {
    const fact = (name: string) =>
      `(SELECT param_value FROM params p WHERE p.run_id = q.run_id AND p.param_name = '${name}')`;
    return d
      .prepare(
        `SELECT q.run_id, q.seed, ${fact('repeat')} AS repeat, ${fact('design')} AS design, ${fact(modelFact)} AS model FROM mosaic_queue q ORDER BY q.run_id`,
      )
      .all() as SeedRow[];
  } finally {
    d.close();
  }
}

const runCount = (db: string) => {
  const d = openDb(db);
  try {
    return (d.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
  } finally {
    d.close();
  }
};

/** Two widths of the fixture model, 3 repeats each, seed 100. */
const pairedConfig = (dir: string, paired: string) =>
  fixtureConfig(dir, {
    models: faultyModel('1, 2'),
    epochs: 1,
    monitor: `nb_processus = 1\nmultiplicity = 3\n${paired}`,
    process: 'seed = 100',
  });

describe('paired designs: common seeds per repeat', () => {
  it('repeat k of every pipeline has seed 100 + k; an appended paired experiment takes new common seeds', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'p.db');
    const config = pairedConfig(dir, 'paired = True');
    const first = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(first.code, first.stderr).toBe(0);
    const rows = seedRows(db, 'faulty_width');
    expect(rows.map((r) => [r.model, r.repeat, r.seed, r.design])).toEqual([
      ['1', '0', 100, 'paired'],
      ['1', '1', 101, 'paired'],
      ['1', '2', 102, 'paired'],
      ['2', '0', 100, 'paired'],
      ['2', '1', 101, 'paired'],
      ['2', '2', 102, 'paired'],
    ]);
    // the seed fact agrees with the queue
    const d = openDb(db);
    const facts = d
      .prepare(`SELECT run_id, param_value FROM params WHERE param_name = 'seed' ORDER BY run_id`)
      .all() as { param_value: string }[];
    d.close();
    expect(facts.map((f) => Number(f.param_value))).toEqual(rows.map((r) => r.seed));

    const second = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      'the new runs take seeds 103-105 (paired: repeat k of every pipeline takes seed 103 + k) so that repeats stay independent',
    );
    const appended = seedRows(db, 'faulty_width').slice(6);
    expect(appended.map((r) => [r.model, r.repeat, r.seed])).toEqual([
      ['1', '0', 103],
      ['1', '1', 104],
      ['1', '2', 105],
      ['2', '0', 103],
      ['2', '1', 104],
      ['2', '2', 105],
    ]);
  });

  it('a database holds one design: paired appended to independent repeats, and the reverse, are refused naming the key', () => {
    const dir = tmpDir();
    const unpairedDb = path.join(dir, 'u.db');
    expect(cli(['run', pairedConfig(dir, ''), unpairedDb], dir).code).toBe(0);
    const paired = cli(['run', pairedConfig(dir, 'paired = True'), unpairedDb], dir);
    expect(paired.code).toBe(2);
    expect(paired.stderr.trim().split('\n')).toHaveLength(1);
    expect(paired.stderr).toMatch(
      /^mosaic: error: .*config\.ini \[MONITOR\] paired: True, but .*u\.db holds 6 runs of independent repeats \(paired = False\): a database holds one design/,
    );
    expect(runCount(unpairedDb)).toBe(6);

    const pairedDb = path.join(dir, 'p.db');
    expect(cli(['run', pairedConfig(dir, 'paired = True'), pairedDb], dir).code).toBe(0);
    const unpaired = cli(['run', pairedConfig(dir, 'paired = False'), pairedDb], dir);
    expect(unpaired.code).toBe(2);
    expect(unpaired.stderr.trim().split('\n')).toHaveLength(1);
    expect(unpaired.stderr).toMatch(
      /^mosaic: error: .*config\.ini \[MONITOR\] paired: False, but .*p\.db holds 6 runs of a paired design \(paired = True\)/,
    );
    expect(runCount(pairedDb)).toBe(6);
  });

  it("the tutorial's funnel and brick of the same first-layer shape start from the same first-layer weights in repeat k", async () => {
    const dir = tmpDir();
    const db = path.join(dir, 't.db');
    const config = tutorialConfig(dir, {
      epochs: '1',
      data_size: '20',
      multiplicity: '2\npaired = True',
      nb_processus: '1',
    });
    const r = cli(['run', config, db, '--progress', 'lines'], dir);
    expect(r.code, r.stderr).toBe(0);
    const d = openDb(db);
    const seedOf = (key: string, width: number, repeat: number) => {
      const row = d
        .prepare(
          `SELECT q.seed FROM mosaic_queue q JOIN params k ON k.run_id = q.run_id AND k.param_name = 'mlp_key' AND k.param_value = ?
           JOIN params w ON w.run_id = q.run_id AND w.param_name = ? AND w.param_value = ?
           JOIN params r ON r.run_id = q.run_id AND r.param_name = 'repeat' AND r.param_value = ?`,
        )
        .get(key, `${key}_width`, String(width), String(repeat)) as { seed: number } | undefined;
      if (!row) throw new Error(`no run of ${key} width ${width} with the fact repeat = ${repeat}`);
      return row.seed;
    };
    // the funnel of width 2 (hidden sizes 4, 2, 1, 1) and the brick of width 4 (4, 4, 4, 4): first layers of 2 → 4
    const seeds = [0, 1].map((k) => [seedOf('mlp_funnel', 2, k), seedOf('mlp_brick', 4, k)]);
    d.close();
    expect(seeds[0]![0]).toBe(seeds[0]![1]);
    expect(seeds[1]![0]).toBe(seeds[1]![1]);
    expect(seeds[0]![0]).not.toBe(seeds[1]![0]);

    // The classes built as a run builds them (length 4, the data class's sizes, the run's seed).
    const file = path.join(TUTORIAL, 'mlp.ts');
    const Funnel = await loadUserClass(file, 'mlp_funnel', 'test');
    const Brick = await loadUserClass(file, 'mlp_brick', 'test');
    const params = (width: number, seed: number) => ({ length: 4, width, input_size: 2, output_size: 1, seed });
    const firstLayer = (m: {
      model: { layers: { getWeights(): { shape: number[]; dataSync(): Float32Array }[] }[] };
    }) => m.model.layers[0]!.getWeights().map((w) => ({ shape: w.shape, values: [...w.dataSync()] }));
    const [funnel0, brick0, brick1] = [
      new Funnel(params(2, seeds[0]![0]!)),
      new Brick(params(4, seeds[0]![1]!)),
      new Brick(params(4, seeds[1]![1]!)),
    ].map(firstLayer);
    expect(funnel0!.map((w) => w.shape)).toEqual([[2, 4], [4]]);
    expect(funnel0).toEqual(brick0);
    expect(brick1).not.toEqual(brick0);
  });
});

const run = (
  runId: number,
  seed: number | undefined,
  value: number | null,
  paired = true,
): AnalysisRun & { value: number | null } => ({
  runId,
  status: 'done',
  pipeline: '',
  facts: {
    ...(seed === undefined ? {} : { seed: String(seed) }),
    ...(paired ? { design: 'paired', repeat: '0' } : {}),
  },
  results: null,
  dataKey: 'd',
  modelKey: 'm',
  metrics: {},
  value,
});
const value = (r: AnalysisRun) => (r as ReturnType<typeof run>).value;

describe('pairedBy: two groups matched by seed', () => {
  it('pairs the values by seed, in seed order, whatever the order of the runs', () => {
    const p = pairedBy(
      [run(1, 12, 0.3), run(2, 10, 0.1), run(3, 11, 0.2)],
      [run(4, 11, 1.2), run(5, 12, 1.3), run(6, 10, 1.1)],
      value,
    );
    expect(p.reason).toBeUndefined();
    expect(p.seeds).toEqual([10, 11, 12]);
    expect(p.a).toEqual([0.1, 0.2, 0.3]);
    expect(p.b).toEqual([1.1, 1.2, 1.3]);
    expect(p.pairs!.map((x) => [x.seed, x.a.runId, x.b.runId])).toEqual([
      [10, 2, 6],
      [11, 3, 4],
      [12, 1, 5],
    ]);
    expect(p.declared).toBe(true);
  });

  it('common seeds without design = paired (e.g. --reuse-seeds) pair too, not declared', () => {
    const p = pairedBy(
      [run(1, 10, 1, false), run(2, 11, 2, false)],
      [run(3, 10, 3, false), run(4, 11, 4, false)],
      value,
    );
    expect(p.pairs).toHaveLength(2);
    expect(p.declared).toBe(false);
  });

  it('a paired design where one group has repeats the other lacks (a race stopped it) pairs on the seeds both have', () => {
    const p = pairedBy(
      [run(1, 10, 1), run(2, 11, 2), run(3, 12, 3)],
      [run(4, 10, 4), run(5, 11, 5), run(6, 12, 6), run(7, 13, 7), run(8, 14, 8)],
      value,
    );
    expect(p.seeds).toEqual([10, 11, 12]);
    expect(p.b).toEqual([4, 5, 6]);
    expect(p.unmatched).toBe(2);
    // Not declared paired (independent seeds that happen to meet), the same sets only.
    const undeclared = pairedBy(
      [run(1, 10, 1, false), run(2, 11, 2, false)],
      [run(4, 10, 4, false), run(5, 11, 5, false), run(6, 12, 6, false)],
      value,
      ['A', 'B'],
    );
    expect(undeclared.reason).toBe('the seeds differ (2 shared, 0 only in A, 1 only in B)');
  });

  it('runs without a value are left out before matching', () => {
    const p = pairedBy([run(1, 10, 1), run(2, 11, null)], [run(3, 10, 3)], value);
    expect(p.seeds).toEqual([10]);
  });

  it.each([
    [
      'seeds differ',
      [run(1, 10, 1), run(2, 11, 1)],
      [run(3, 10, 1), run(4, 12, 1)],
      'the seeds differ (1 shared, 1 only in A, 1 only in B)',
    ],
    [
      'no seed shared (independent repeats)',
      [run(1, 10, 1), run(2, 11, 1)],
      [run(3, 12, 1), run(4, 13, 1)],
      'the groups share no seed',
    ],
    ['a seed repeats', [run(1, 10, 1), run(2, 10, 2)], [run(3, 10, 1)], 'seed 10 is used by two runs of A (1 and 2)'],
    [
      'a seed repeats in B',
      [run(1, 10, 1)],
      [run(3, 10, 1), run(4, 10, 1)],
      'seed 10 is used by two runs of B (3 and 4)',
    ],
    ['a run without a seed', [run(1, undefined, 1)], [run(3, 10, 1)], 'run 1 of A has no seed'],
    ['an empty group', [run(1, 10, null)], [run(3, 10, 1)], 'A has no run'],
  ])('%s: not paired, and why', (_, a, b, reason) => {
    const p = pairedBy(a, b, value, ['A', 'B']);
    expect(p.pairs).toBeUndefined();
    expect(p.reason).toBe(reason);
  });
});
