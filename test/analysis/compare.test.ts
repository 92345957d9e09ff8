import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../dist/store/sqlite.js';
import { analysisDb, iniText, type Outcome, TWO_MODELS } from '../support/analysis-db.js';
import { cli, tmpDir } from '../support/helpers.js';

// Two models at two widths; their test losses are the samples whose statistics are known (SciPy).
const A = [19.1, 20.3, 21.7, 18.9, 22.4, 20.0];
const B = [23.5, 24.1, 22.8, 25.9, 24.6, 24.0];

async function database(
  dir: string,
  valuesFor: (model: string, width: string, repeat: number) => number,
): Promise<string> {
  return analysisDb(dir, iniText({ multiplicity: 6, models: TWO_MODELS }), (facts, i) => {
    const width = facts.A_width ?? facts.B_width!;
    return { status: 'done', value: valuesFor(facts.mlp_key!, width, i % 6), nb_params: Number(width) * 10 };
  });
}

describe('mosaic compare', () => {
  it('finds the better model at every size, with Holm-corrected p-values and effect sizes', async () => {
    const dir = tmpDir();
    const db = await database(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : B[r]!));
    const r = cli(['compare', db, '--at', 'width'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /toy: model_a has lower test_loss than model_b at every width tested \(2 of 2\), p < 0\.0?01 after Holm \(Welch\), \|d\| = /,
    );
    const json = JSON.parse(cli(['compare', db, '--at', 'width', '--format', 'json'], dir).stdout);
    expect(json.groups).toHaveLength(4);
    expect(json.groups[0]).toMatchObject({
      dataset: 'toy',
      at: '2',
      group: 'model_a',
      n: 6,
      mean: expect.closeTo(20.4, 10),
      std: expect.closeTo(1.4, 10),
    });
    const pair = json.pairs[0];
    expect(pair.pHolm).toBeCloseTo(Math.min(1, 2 * pair.p), 12); // two equal pairs: Holm doubles the smaller
    expect(pair.cliffsDelta).toBe(-1);
    expect(pair.pABetter).toBe(1);
    expect(json.rankings[0].entries.map((e: { group: string; letters: string }) => [e.group, e.letters])).toEqual([
      ['model_a', 'a'],
      ['model_b', 'b'],
    ]);
    const pooled = cli(['compare', db, '--format', 'csv', '--pool', 'width'], dir);
    const csv = pooled.stdout.trimEnd().split('\n');
    expect(csv[0]).toMatch(/^kind,dataset,at,group_or_pair,letters,n,mean/);
    expect(csv).toHaveLength(1 + 2 + 1);
    expect(pooled.stderr).toBe('note: pooled on request (--pool width): width (2, 3)\n');
    expect(cli(['compare', db, '--format', 'markdown'], dir).stdout).toMatch(/^\*\*test_loss \(lower is better\)/);
    // --plot draws the same report: each group's mean and CI with its letters
    const png = `${dir}/compare.png`;
    const drawn = cli(['compare', db, '--at', 'width', '--plot', png], dir);
    expect(drawn.code, drawn.stderr).toBe(0);
    expect(drawn.stderr).toBe('');
    expect(fs.readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const svg = `${dir}/compare.svg`;
    expect(cli(['compare', db, '--at', 'width', '--plot', svg], dir).code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text).toContain('Which is better on test_loss');
    expect(text).toContain('toy · width = 2');
    expect(text).toContain('model_a   [a]');
    expect(text).toContain('model_b   [b]');
    const bad = cli(['compare', db, '--plot', `${dir}/compare.jpg`], dir);
    expect([bad.code, bad.stderr.trim()]).toEqual([
      2,
      expect.stringMatching(/cannot tell the format of .*compare\.jpg: name it \.pdf, \.png or \.svg/),
    ]);
  });

  it('says when there is no significant difference, and how many repeats would be needed', async () => {
    const dir = tmpDir();
    const db = await database(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : A[(r + 1) % 6]! + 0.3));
    const r = cli(['compare', db, '--pool', 'width'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /no significant difference between model_a and model_b on test_loss with n = 12 per group; about \d+ repeats per group would be needed/,
    );
  });

  it('explains bad criteria, groupings and formats', async () => {
    const dir = tmpDir();
    const db = await database(dir, () => 1);
    expect(cli(['compare', db, '--criterion', 'accuracy'], dir).stderr).toMatch(
      /unknown criterion "accuracy"; valid: train_loss, test_loss/,
    );
    expect(cli(['compare', db, '--by', 'head'], dir).stderr).toMatch(
      /--by head: no run has a key of type "head"; types with keys: data, mlp/,
    );
    expect(cli(['compare', db, '--at', 'depth'], dir).stderr).toMatch(/--at depth: no run has a parameter named depth/);
    expect(cli(['compare', db, '--format', 'xml'], dir).stderr).toMatch(
      /--format must be table, json, csv or markdown/,
    );
  });

  it('splits groups by a swept parameter that is not in the key, and pools it only when asked', async () => {
    const dir = tmpDir();
    // model_a is better at lr 1e-3 only; pooled over lr, model_a and model_b look alike
    const db = await analysisDb(
      dir,
      iniText({
        process: 'lr = 1e-2, 1e-3',
        multiplicity: 6,
        models: TWO_MODELS.replace(/width = 2, 3/g, 'width = 2'),
      }),
      (facts, i) => ({
        status: 'done',
        value: facts.mlp_key === 'model_a' ? (facts.lr === '1e-3' ? A[i % 6]! : B[i % 6]! + 2) : B[i % 6]!,
      }),
    );
    const json = JSON.parse(cli(['compare', db, '--format', 'json'], dir).stdout);
    expect(json.groups.map((g: { group: string; n: number }) => `${g.group} (${g.n})`)).toEqual([
      'model_a · lr=1e-3 (6)',
      'model_a · lr=1e-2 (6)',
      'model_b · lr=1e-3 (6)',
      'model_b · lr=1e-2 (6)',
    ]);
    expect(json.splitBy).toEqual(['lr']);
    expect(json.notes).toEqual([
      'split by lr (1e-3, 1e-2): runs that would be pooled differ in it; --pool lr pools them on purpose',
    ]);
    const table = cli(['compare', db], dir).stdout;
    expect(table).toContain('note: split by lr (1e-3, 1e-2)');
    expect(table).toContain(
      'toy: ranking by test_loss (lower is better): model_a · lr=1e-3 (a), model_b · lr=1e-3 (b), model_b · lr=1e-2 (b), model_a · lr=1e-2 (c)',
    );
    expect(table).toContain(
      'toy: model_a · lr=1e-3 has the lowest mean test_loss, significantly lower than each of the other 3 groups (p = 0.002 after Holm, Welch)',
    );

    const pooled = JSON.parse(cli(['compare', db, '--pool', 'lr', '--format', 'json'], dir).stdout);
    expect(pooled.groups.map((g: { group: string; n: number }) => `${g.group} (${g.n})`)).toEqual([
      'model_a (12)',
      'model_b (12)',
    ]);
    expect(pooled.notes).toEqual(['pooled on request (--pool lr): lr (1e-3, 1e-2)']);
    expect(cli(['compare', db, '--pool', 'width'], dir).stdout).toContain(
      'note: --pool width: nothing to pool, one value in each group',
    );
    expect(cli(['compare', db, '--pool', 'depth'], dir).stderr).toMatch(
      /--pool depth: no run has a parameter named depth \(or ending in _depth\)/,
    );
  });

  it('splits runs continued to more epochs (rerun) from the others', async () => {
    const dir = tmpDir();
    const db = await database(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : B[r]!));
    // what a rerun leaves: the epochs fact of runs 1-3 holds their new total
    const store = openSqliteStore(db, { create: false });
    await store.updateFacts([1, 2, 3].map((runId) => ({ runId, name: 'epochs', value: '5' })));
    await store.close();
    const json = JSON.parse(cli(['compare', db, '--at', 'width', '--format', 'json'], dir).stdout);
    expect(
      json.groups
        .filter((g: { at: string }) => g.at === '2')
        .map((g: { group: string; n: number }) => `${g.group} (${g.n})`),
    ).toEqual(['model_a · epochs=1 (3)', 'model_a · epochs=5 (3)', 'model_b (6)']);
    expect(json.notes[0]).toMatch(/^split by epochs \(1, 5\)/);
  });

  it('leaves out runs that are not done or have no value, and says which', async () => {
    const dir = tmpDir();
    const outcomes: Record<number, Outcome> = {
      0: { status: 'error' },
      1: { status: 'error' },
      2: { status: 'diverged' },
      6: { status: 'failed' },
      7: { status: 'running' },
      8: { status: 'pending' },
      9: { status: 'pending' },
      11: { status: 'diverged' },
    };
    const db = await analysisDb(
      dir,
      iniText({ multiplicity: 6, models: TWO_MODELS }),
      (facts, i) => outcomes[i] ?? { status: 'done', value: facts.mlp_key === 'model_a' ? A[i % 6]! : B[i % 6]! },
    );
    const left =
      'left out 8 runs that are not done: 2 pending (9-10), 1 running (8), 2 error (1-2), 1 failed (7), 2 diverged (3,12)';
    const json = JSON.parse(cli(['compare', db, '--pool', 'width', '--format', 'json'], dir).stdout);
    expect(json.notes[0]).toBe(left);
    expect(json.groups.map((g: { n: number }) => g.n)).toEqual([4, 12]);
    expect(cli(['compare', db, '--pool', 'width'], dir).stdout).toContain(`note: ${left}`);
    expect(cli(['compare', db, '--pool', 'width', '--format', 'markdown'], dir).stdout).toContain(`> note: ${left}`);
    expect(cli(['compare', db, '--pool', 'width', '--format', 'csv'], dir).stderr).toContain(`note: ${left}`);
    // accuracy: none of these runs has one
    expect(cli(['compare', db, '--criterion', 'test_acc'], dir).stderr).toMatch(
      /no finished run has a value of test_acc \(left out 8 runs that are not done: .*; left out 16 runs without a value of test_acc: 4-6,11,13-24\)/,
    );
  });

  it('says which runs --at leaves out for want of the parameter', async () => {
    const dir = tmpDir();
    const models = `${TWO_MODELS.replace(/width = 2, 3/g, 'width = 2')}[c]\ntype = mlp\nclass = C\npath_to_class = m.ts\nkey = model_c\n`;
    const db = await analysisDb(dir, iniText({ multiplicity: 2, models }), () => ({ status: 'done', value: 1 }));
    const r = cli(['compare', db, '--at', 'width', '--format', 'json'], dir);
    expect(JSON.parse(r.stdout).notes).toEqual(['left out 2 runs without a value of --at width: 5-6']);
  });

  it('asks for the full name when --at names parameters of two modules', async () => {
    const dir = tmpDir();
    const db = await analysisDb(
      dir,
      iniText({
        scheme: 'mlp, head',
        multiplicity: 2,
        models: `${TWO_MODELS}[h]\ntype = head\nclass = H\npath_to_class = m.ts\nkey = head\nwidth = 1\n`,
      }),
      () => ({ status: 'done', value: 1 }),
    );
    expect(cli(['compare', db, '--at', 'width'], dir).stderr).toMatch(
      /"width" could be any of A_width, H_width \(run 1\): give the full name/,
    );
    expect(
      JSON.parse(cli(['compare', db, '--at', 'A_width', '--format', 'json'], dir).stdout).groups.map(
        (g: { at: string }) => g.at,
      ),
    ).toEqual(['2', '3']);
  });

  it('orders learning rates as numbers in every part and format', async () => {
    const dir = tmpDir();
    const db = await analysisDb(
      dir,
      iniText({
        process: 'lr = 1e-2, 1e-3, 0.1',
        multiplicity: 4,
        models: TWO_MODELS.replace(/width = 2, 3/g, 'width = 2'),
      }),
      (facts, i) => ({
        status: 'done',
        value: (facts.mlp_key === 'model_a' ? A[i % 4]! : B[i % 4]!) * Number(facts.lr),
      }),
    );
    const json = JSON.parse(cli(['compare', db, '--at', 'lr', '--format', 'json'], dir).stdout);
    const order = ['1e-3', '1e-2', '0.1'];
    expect([...new Set(json.groups.map((g: { at: string }) => g.at))]).toEqual(order);
    expect(json.pairs.map((p: { at: string }) => p.at)).toEqual(order);
    expect(json.rankings.map((r: { at: string }) => r.at)).toEqual(order);
    const rowsAt = (lines: string[], pattern: RegExp) => lines.map((l) => pattern.exec(l)?.[1]).filter(Boolean);
    const table = cli(['compare', db, '--at', 'lr'], dir).stdout.split('\n');
    expect(rowsAt(table, /^toy\s+(\S+)\s+model_a\s+[a-z]+\s+\d+\s/)).toEqual(order);
    expect(rowsAt(table, /^toy\s+(\S+)\s+model_a vs model_b/)).toEqual(order);
    const csv = cli(['compare', db, '--at', 'lr', '--format', 'csv'], dir).stdout.split('\n');
    expect(rowsAt(csv, /^group,toy,([^,]+),model_a,/)).toEqual(order);
    expect(rowsAt(csv, /^pair,toy,([^,]+),/)).toEqual(order);
    const md = cli(['compare', db, '--at', 'lr', '--format', 'markdown'], dir).stdout.split('\n');
    expect(rowsAt(md, /^\| toy \| (\S+) \| model_a \|/)).toEqual(order);
    expect(rowsAt(md, /^\| toy \| (\S+) \| model_a vs model_b \|/)).toEqual(order);

    // a second experiment in the same database writes its learning rate 0.01: the same value as 1e-2
    await analysisDb(
      dir,
      iniText({ process: 'lr = 0.01', multiplicity: 2, models: TWO_MODELS.replace(/width = 2, 3/g, 'width = 2') }),
      () => ({ status: 'done', value: 0.2 }),
    );
    const both = JSON.parse(cli(['compare', db, '--at', 'lr', '--format', 'json'], dir).stdout);
    expect(both.groups.map((g: { at: string; group: string; n: number }) => `${g.at} ${g.group} ${g.n}`)).toEqual([
      '1e-3 model_a 4',
      '1e-3 model_b 4',
      '1e-2 model_a 6',
      '1e-2 model_b 6',
      '0.1 model_a 4',
      '0.1 model_b 4',
    ]);
  });

  it('clips confidence intervals of accuracies to [0, 1]', async () => {
    const dir = tmpDir();
    const acc = [0.99, 1, 0.9, 1, 0.97, 0.2];
    const db = await analysisDb(
      dir,
      iniText({ multiplicity: 6, models: TWO_MODELS.replace(/width = 2, 3/g, 'width = 2') }),
      (_f, i) => ({ status: 'done', value: 1, acc: acc[i % 6]! }),
    );
    const json = JSON.parse(cli(['compare', db, '--criterion', 'test_acc', '--format', 'json'], dir).stdout);
    for (const g of json.groups) {
      expect(g.ci[0]).toBeGreaterThanOrEqual(0);
      expect(g.ci[1]).toBe(1);
    }
    expect(json.notes).toContain("95% CIs clipped to test_acc's range ([0, 1])");
  });
});
