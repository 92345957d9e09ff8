import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../dist/config/load.js';
import { newRuns } from '../dist/pipelines/facts.js';
import { generatePipelines } from '../dist/pipelines/generate.js';
import { openSqliteStore } from '../dist/store/sqlite.js';
import { cli, tmpDir } from './helpers.js';

// Two models at two widths; their test losses are the samples whose statistics are known (SciPy).
const A = [19.1, 20.3, 21.7, 18.9, 22.4, 20.0];
const B = [23.5, 24.1, 22.8, 25.9, 24.6, 24.0];

function database(dir: string, valuesFor: (model: string, width: string, repeat: number) => number): string {
  const config = parseConfig(
    `[PROCESS]
epochs = 1
data_scheme = data
pipeline_scheme = mlp
loss_function = MSELoss
[MONITOR]
multiplicity = 6
[d]
type = data
class = D
path_to_class = d.ts
key = toy
[a]
type = mlp
class = A
path_to_class = m.ts
key = model_a
width = 2, 3
[b]
type = mlp
class = B
path_to_class = m.ts
key = model_b
width = 2, 3
`,
    path.join(dir, 'c.ini'),
  );
  const file = path.join(dir, 'c.db');
  const store = openSqliteStore(file, { create: true });
  const runs = newRuns(config, generatePipelines(config));
  const ids = store.enqueue(runs);
  const worker = { id: 'w', pid: process.pid, host: 'h' };
  ids.forEach((id, i) => {
    const run = store.claimNext(worker)!;
    const facts = Object.fromEntries(runs[i]!.facts);
    const model = facts.mlp_key!;
    const width = facts.A_width ?? facts.B_width!;
    const v = valuesFor(model, width, i % 6);
    store.recordEpoch(run.runId, { epoch: 1, train_loss: v, test_loss: v, train_acc: null, test_acc: null, duration_s: 1 });
    store.finishRun(run.runId, { train_loss: v, test_loss: v, train_acc: null, test_acc: null, nb_params: Number(width) * 10, duration_s: 1, epochs: 1, overfit: 0, trainability: v, slope: 0, slope_std_plus: 0, slope_std_minus: 0, best_test_loss: v, best_epoch: 1 });
  });
  store.close();
  return file;
}

describe('mosaic compare', () => {
  it('finds the better model at every size, with Holm-corrected p-values and effect sizes', () => {
    const dir = tmpDir();
    const db = database(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : B[r]!));
    const r = cli(['compare', db, '--at', 'width'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/toy: model_a has lower test_loss than model_b at every width tested \(2 of 2\), p < 0\.0?01 after Holm \(Welch\), \|d\| = /);
    const json = JSON.parse(cli(['compare', db, '--at', 'width', '--format', 'json'], dir).stdout);
    expect(json.groups).toHaveLength(4);
    expect(json.groups[0]).toMatchObject({ dataset: 'toy', at: '2', group: 'model_a', n: 6, mean: expect.closeTo(20.4, 10), std: expect.closeTo(1.4, 10) });
    const pair = json.pairs[0];
    expect(pair.welchPHolm).toBeCloseTo(Math.min(1, 2 * pair.welchP), 12); // two equal pairs: Holm doubles the smaller
    expect(pair.cliffsDelta).toBe(-1);
    expect(pair.pABetter).toBe(1);
    expect(json.rankings[0].entries.map((e: { group: string; rank: number }) => [e.group, e.rank])).toEqual([['model_a', 1], ['model_b', 2]]);
    const csv = cli(['compare', db, '--format', 'csv'], dir).stdout.trimEnd().split('\n');
    expect(csv[0]).toMatch(/^kind,dataset,at,group_or_pair,n,mean/);
    expect(csv).toHaveLength(1 + 2 + 1);
    expect(cli(['compare', db, '--format', 'markdown'], dir).stdout).toMatch(/^\*\*test_loss \(lower is better\)/);
  });

  it('says when there is no significant difference, and how many repeats would be needed', () => {
    const dir = tmpDir();
    const db = database(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : A[(r + 1) % 6]! + 0.3));
    const r = cli(['compare', db], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/no significant difference between model_a and model_b on test_loss with n = 12 per group; about \d+ repeats per group would be needed/);
  });

  it('explains bad criteria, groupings and formats', () => {
    const dir = tmpDir();
    const db = database(dir, () => 1);
    expect(cli(['compare', db, '--criterion', 'accuracy'], dir).stderr).toMatch(/unknown criterion "accuracy"; valid: train_loss, test_loss/);
    expect(cli(['compare', db, '--by', 'head'], dir).stderr).toMatch(/--by head: no run has a key of type "head"; types with keys: data, mlp/);
    expect(cli(['compare', db, '--at', 'depth'], dir).stderr).toMatch(/--at depth: no run has a parameter named depth/);
    expect(cli(['compare', db, '--format', 'xml'], dir).stderr).toMatch(/--format must be table, json, csv or markdown/);
  });
});
