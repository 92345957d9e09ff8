import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../../dist/analysis/compare.js';
import { loadRuns, type LoadedRuns } from '../../dist/analysis/runs.js';
import { lettersOfSeries } from '../../dist/analysis/size-letters.js';
import { metaplotFigure, perfanalysisFigures } from '../../dist/analysis/figures.js';
import { configPage } from '../../dist/analysis/config-plots.js';
import { readPlotConfig } from '../../dist/analysis/plot-config.js';
import { openStore } from '../../dist/store/open.js';
import { analysisDb, iniText, TWO_MODELS, type Outcome } from '../support/analysis-db.js';
import { cli, FIXTURES, fixtureConfig, tmpDir } from '../support/helpers.js';

/** Pages of a PDF: its /Type /Page objects. */
const pdfPages = (file: string) => (fs.readFileSync(file, 'latin1').match(/\/Type \/Page\b/g) ?? []).length;
/** Width and height of a PNG, from its IHDR chunk. */
const pngSize = (file: string) => {
  const b = fs.readFileSync(file);
  expect(b.subarray(1, 4).toString()).toBe('PNG');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
};

describe('plots', () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = tmpDir();
    db = path.join(dir, 'p.db');
    const config = fixtureConfig(dir, {
      epochs: 4,
      monitor: 'nb_processus = 2\nmultiplicity = 2',
      models: `[faulty]\ntype = model\nclass = faulty\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = net_{width}\nwidth = 2, 3, 5, 8`,
    });
    expect(cli(['run', config, db], dir).code).toBe(3); // width 3 throws: 2 runs in error
  });

  it('plotloss: plot_size² plots a page, runs in error skipped with a note', async () => {
    const out = path.join(dir, 'loss.pdf');
    const r = cli(['plotloss', db, out, '.runs', '-id', 'all', '-plot_size', '2'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('skipped 2 runs in error: 3-4');
    expect(r.stdout).toContain('2 pages written');
    expect(pdfPages(out)).toBe(2);
    const one = path.join(dir, 'one.pdf');
    expect(cli(['plotloss', db, one, '-id', '1-2,5', '-plot_size', '1', '--log'], dir).code).toBe(0);
    expect(pdfPages(one)).toBe(3);
    const png = path.join(dir, 'loss.png');
    expect(
      cli(['plotloss', db, png, '-param_name_value', 'faulty_width', '8', '-plot_size', '3'], dir).stdout,
    ).toContain('1 page written');
    const [w, h] = pngSize(png);
    expect(w).toBeGreaterThan(1500);
    expect(h).toBeGreaterThan(600);
  });

  it('metaplot: a criterion against nb_params for a dataset key', async () => {
    const out = path.join(dir, 'meta.png');
    const r = cli(['metaplot', db, out, 'or', 'test_loss'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('test_loss of 6 runs on or written to');
    const [w, h] = pngSize(out);
    expect(w).toBeGreaterThan(1000);
    expect(h).toBeGreaterThan(600);
    const svg = path.join(dir, 'meta.svg');
    expect(cli(['metaplot', db, svg, 'or', 'overfit'], dir).code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text).toContain('overfit against model size on or');
    expect(text).toContain('number of parameters');
    expect(text).toContain('net_5');
  });

  it('perfanalysis: a page per dataset key and criterion', async () => {
    const out = path.join(dir, 'perf.pdf');
    const r = cli(['perfanalysis', db, out], dir);
    expect(r.stderr).toBe('');
    // one dataset key; 11 criteria (all but nb_params), less those with one value in every run: epochs at least
    const skipped = /skipped (.*): the same value in every run/.exec(r.stdout)?.[1] ?? '';
    expect(skipped).toMatch(/^epochs \(4 in every run\)/);
    const pages = 11 - skipped.split('), ').length;
    expect(r.stdout).toContain(`${pages} pages`);
    expect(pdfPages(out)).toBe(pages);
    const two = path.join(dir, 'perf2.svg');
    expect(cli(['perfanalysis', db, two, '--criteria', 'test_loss,overfit'], dir).stdout).toContain('2 pages');
    expect(fs.readFileSync(two, 'utf8')).toContain('distribution over repeats');
    expect(fs.existsSync(path.join(dir, 'perf2-2.svg'))).toBe(true);
  });

  it('explains unknown keys, criteria and formats', async () => {
    expect(cli(['metaplot', db, path.join(dir, 'x.png'), 'mnist', 'test_loss'], dir).stderr).toMatch(
      /no finished run has dataset key "mnist"; dataset keys in .*: or$/m,
    );
    expect(cli(['metaplot', db, path.join(dir, 'x.png'), 'or', 'loss'], dir).stderr).toMatch(
      /unknown criterion "loss"; valid: train_loss, test_loss, train_acc/,
    );
    expect(cli(['plotloss', db, path.join(dir, 'x.jpg')], dir).stderr).toMatch(
      /cannot tell the format of .*x\.jpg: name it \.pdf, \.png or \.svg/,
    );
    expect(cli(['plotloss', db, path.join(dir, 'x.pdf'), '-id', '3-4'], dir).stderr).toMatch(
      /none of the selected runs has a loss curve to draw/,
    );
  });
});

describe('perfanalysis_by_config', () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = tmpDir();
    db = path.join(dir, 'c.db');
    const config = fixtureConfig(dir, {
      epochs: 2,
      monitor: 'nb_processus = 2\nmultiplicity = 2',
      models: `[faulty]\ntype = model\nclass = faulty\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = net_{width}\nwidth = 2, 5, 8`,
    });
    expect(cli(['run', config, db], dir).code).toBe(0);
  });

  const write = (text: string) => {
    const file = path.join(dir, `plots-${Math.random().toString(36).slice(2)}.ini`);
    fs.writeFileSync(file, text);
    return file;
  };

  it('draws one page per section: line, point and violin', async () => {
    const ini = write(`[by width]
abscissae = width
ordinates = test_loss, overfit
include_keys = data_key, model_key
include_values = or, [net_2, net_8]
excludes = width

[points]
abscissae = nb_params
ordinates = train_loss
plot_type = point
errorbars_style = bars

[violins]
abscissae = width
ordinates = test_loss
plot_type = violin
plot_scale = 2
`);
    const out = path.join(dir, 'byconfig.pdf');
    const r = cli(['perfanalysis_by_config', ini, db, out], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('3 pages (by width, points, violins)');
    expect(pdfPages(out)).toBe(3);
    const svg = path.join(dir, 'byconfig.svg');
    expect(cli(['perfanalysis_by_config', ini, db, svg], dir).code).toBe(0);
    const first = fs.readFileSync(svg, 'utf8');
    expect(first).toContain('4 finished runs with data_key in [or], model_key in [net_2, net_8]');
  });

  it.each([
    ['[p]\nordinates = test_loss\n', /plots-\w+\.ini:1 \[p\]: missing key "abscissae"/],
    [
      '[p]\nabscissae = width\nordinates = test_lost\n',
      /plots-\w+\.ini:3 \[p\] ordinates: unknown criterion "test_lost"; valid: train_loss/,
    ],
    [
      '[p]\nabscissae = width\nordinates = test_loss\nplot_type = bars\n',
      /\[p\] plot_type: must be line, point or violin, found "bars"/,
    ],
    [
      '[p]\nabscissae = width\nordinates = test_loss\nerrorbars_style = shade\n',
      /\[p\] errorbars_style: must be bars or fill_between/,
    ],
    [
      '[p]\nabscissae = width\nordinates = test_loss\ninclude_keys = data_key, model_key\ninclude_values = or\n',
      /\[p\] include_values: 1 value for 2 include_keys/,
    ],
    ['[p]\nabscissae = depth\nordinates = test_loss\n', /\[p\] abscissae: no run has "depth"/],
    [
      '[p]\nabscissae = width\nordinates = test_loss\ninclude_keys = model_key\ninclude_values = [net_9]\n',
      /\[p\]: no finished run matches model_key in \[net_9\]/,
    ],
  ])('a bad plot config is a clear error: %j', (text, message) => {
    const r = cli(['perfanalysis_by_config', write(text), db, path.join(dir, 'x.pdf')], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

async function runsOf(db: string): Promise<LoadedRuns> {
  const store = await openStore(db, 'read');
  try {
    return await loadRuns(store);
  } finally {
    await store.close();
  }
}

type Lettered = [series: string, nbParams: number, letters: string];
const byPoint = (a: Lettered, b: Lettered) => a[1] - b[1] || a[0].localeCompare(b[0]);

/** The letters `mosaic compare --at nb_params` gives: [group, nb_params, letters], at sizes where two groups or more have some. */
function compareLetters({ runs, criteria }: LoadedRuns, pool: string[] = []): Lettered[] {
  const groups = compareRuns(runs, { criterion: 'test_loss', criteria, at: 'nb_params', pool }).groups.filter(
    (g) => g.letters,
  );
  return groups
    .filter((g) => groups.filter((o) => o.at === g.at).length >= 2)
    .map((g): Lettered => [g.group, Number(g.at), g.letters])
    .sort(byPoint);
}

/** The curve chart of a metaplot spec or a perfanalysis page. */
const curveOf = (spec: object) => {
  const s = spec as { hconcat?: object[] };
  return (s.hconcat ? s.hconcat[0] : s) as {
    layer: { mark: { type: string }; encoding: { color?: object }; data?: { values: Record<string, unknown>[] } }[];
  };
};

/** The letters a figure writes (its coloured text layer): [series, nb_params, letters]. */
function lettersIn(spec: object): Lettered[] {
  const layers = curveOf(spec).layer.filter((l) => l.mark.type === 'text');
  const coloured = layers.filter((l) => l.encoding.color);
  if (layers.length === 0) return [];
  expect(coloured).toHaveLength(1);
  return coloured[0]!
    .data!.values.map((v): Lettered => [v.series as string, v.nb_params as number, v.letters as string])
    .sort(byPoint);
}

const subtitleOf = (spec: object) => (spec as { title: { subtitle: string[] } }).title.subtitle.join('\n');
const CAPTION =
  'letters at each size: series that share a letter do not differ significantly\n(Welch or paired t, Holm over the pairs at all sizes, α = 0.05)';

describe('metaplot and perfanalysis: the letters of compare at each size', () => {
  // compare.test.ts's samples: model_a is better than model_b at both widths (p < 0.001, Welch, after Holm)
  const A = [19.1, 20.3, 21.7, 18.9, 22.4, 20.0];
  const B = [23.5, 24.1, 22.8, 25.9, 24.6, 24.0];
  const twoModels = (dir: string, criterionValue: (model: string, width: number, repeat: number) => number) =>
    analysisDb(dir, iniText({ multiplicity: 6, models: TWO_MODELS }), (facts, i) => {
      const width = Number(facts.A_width ?? facts.B_width);
      return { status: 'done', value: criterionValue(facts.mlp_key!, width, i % 6), nb_params: width * 10 };
    });

  it('writes beside each mean the letters compare --at nb_params gives, and says what they mean', async () => {
    const dir = tmpDir();
    const db = await twoModels(dir, (model, _w, r) => (model === 'model_a' ? A[r]! : B[r]!));
    const runs = await runsOf(db);
    const expected: Lettered[] = [
      ['model_a', 20, 'a'],
      ['model_b', 20, 'b'],
      ['model_a', 30, 'a'],
      ['model_b', 30, 'b'],
    ];
    expect(compareLetters(runs)).toEqual(expected);
    const meta = metaplotFigure(runs, db, 'toy', 'test_loss', []).spec;
    expect(lettersIn(meta)).toEqual(expected);
    expect(subtitleOf(meta)).toContain(CAPTION);
    const page = perfanalysisFigures(runs, db, { criteria: ['test_loss'], pool: [] }).pages[0]!.spec;
    expect(lettersIn(page)).toEqual(expected);
    expect(subtitleOf(page)).toContain(CAPTION);
    // the drawn figure: each letter a text mark in its series' colour, beside its point
    const svg = path.join(dir, 'meta.svg');
    expect(cli(['metaplot', db, svg, 'toy', 'test_loss'], dir).code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expect(labelled(text, 'text', 'letters').filter(Boolean)).toEqual(['a', 'b', 'a', 'b']);
    expect(labelled(text, 'text', 'model key').filter(Boolean)).toEqual(['model_a', 'model_b', 'model_a', 'model_b']);
    expect(text).toContain('letters at each size: series that share a letter do not differ significantly');
  });

  it('letters shared where the series do not differ, none at a size where a series has one run', async () => {
    const dir = tmpDir();
    // at 30, model_b is model_a shifted by 0.3: not significantly different
    const db = await twoModels(dir, (model, w, r) =>
      model === 'model_a' ? A[r]! : w === 2 ? B[r]! : A[(r + 1) % 6]! + 0.3,
    );
    const runs = await runsOf(db);
    const expected: Lettered[] = [
      ['model_a', 20, 'a'],
      ['model_b', 20, 'b'],
      ['model_a', 30, 'a'],
      ['model_b', 30, 'a'],
    ];
    expect(compareLetters(runs)).toEqual(expected);
    expect(lettersIn(metaplotFigure(runs, db, 'toy', 'test_loss', []).spec)).toEqual(expected);

    // one run of model_b at width 2 finished: letters at 30 only
    const dir2 = tmpDir();
    const one = await analysisDb(dir2, iniText({ multiplicity: 3, models: TWO_MODELS }), (facts, i) => {
      const width = Number(facts.A_width ?? facts.B_width);
      if (facts.mlp_key === 'model_b' && width === 2 && i % 3 > 0) return { status: 'failed' };
      return { status: 'done', value: (facts.mlp_key === 'model_a' ? A : B)[i % 3]!, nb_params: width * 10 };
    });
    const partial = await runsOf(one);
    const at30 = lettersIn(metaplotFigure(partial, one, 'toy', 'test_loss', []).spec);
    expect(at30.map(([series, size]) => [series, size])).toEqual([
      ['model_a', 30],
      ['model_b', 30],
    ]);
    expect(at30).toEqual(compareLetters(partial));
  });

  it('maps compare groups to series by their runs, not by their labels', () => {
    const groups = [
      { dataset: 'toy', at: '20', letters: 'a' },
      { dataset: 'toy', at: '20', letters: 'b' },
      { dataset: 'toy', at: '30', letters: 'a' },
      { dataset: 'toy', at: '30', letters: 'a' },
      { dataset: 'toy', at: '40', letters: 'a' }, // alone at its size
      { dataset: 'toy', at: '40', letters: '' },
    ];
    const placeOf = new Map([
      [1, { series: 'x · width=2', nb_params: 20 }],
      [2, { series: 'x · width=2', nb_params: 20 }],
      [3, { series: 'y', nb_params: 20 }],
      [4, { series: 'y', nb_params: 20 }],
      [5, { series: 'x · width=2', nb_params: 30 }],
      [6, { series: 'x · width=2', nb_params: 30 }],
      [7, { series: 'y', nb_params: 30 }],
      [8, { series: 'y', nb_params: 30 }],
      [9, { series: 'y', nb_params: 40 }],
      [10, { series: 'y', nb_params: 40 }],
      [11, { series: 'x · width=2', nb_params: 40 }],
    ]);
    expect(lettersOfSeries(groups, [[3, 4], [1, 2], [5, 6], [7, 8], [9, 10], [11]], placeOf)).toEqual([
      { series: 'y', nb_params: 20, letters: 'a' },
      { series: 'x · width=2', nb_params: 20, letters: 'b' },
      { series: 'x · width=2', nb_params: 30, letters: 'a' },
      { series: 'y', nb_params: 30, letters: 'a' },
    ]);
    // a group that is not exactly one point's runs: no letters at its size rather than half a display
    expect(
      lettersOfSeries(
        groups.slice(0, 4),
        [
          [3, 4],
          [1, 2],
          [5, 7],
          [6, 8],
        ],
        placeOf,
      ),
    ).toEqual([
      { series: 'y', nb_params: 20, letters: 'a' },
      { series: 'x · width=2', nb_params: 20, letters: 'b' },
    ]);
    expect(lettersOfSeries(groups.slice(0, 2), [[3], [1, 2]], placeOf)).toEqual([]);
  });

  it('no letters, nor their caption, where each size has one series; letters only at the sizes series share', async () => {
    // model_b's sizes: shifted by 1 at the widths in `shifted`, so that no other series has them
    const sizes = async (shifted: number[]) => {
      const dir = tmpDir();
      const db = await analysisDb(dir, iniText({ multiplicity: 3, models: TWO_MODELS }), (facts, i) => {
        const width = Number(facts.A_width ?? facts.B_width);
        const b = facts.mlp_key === 'model_b';
        return {
          status: 'done',
          value: (b ? B : A)[i % 3]!,
          nb_params: width * 10 + (b && shifted.includes(width) ? 1 : 0),
        };
      });
      const runs = await runsOf(db);
      return {
        runs,
        specs: [
          metaplotFigure(runs, db, 'toy', 'test_loss', []).spec,
          perfanalysisFigures(runs, db, { criteria: ['test_loss'], pool: [] }).pages[0]!.spec,
        ],
      };
    };
    const apart = await sizes([2, 3]);
    for (const spec of apart.specs) {
      expect(curveOf(spec).layer.filter((l) => l.mark.type === 'text')).toEqual([]);
      expect(subtitleOf(spec)).not.toContain('letters');
    }
    // …though compare, alone at each nb_params, gives each group a letter
    expect(
      compareRuns(apart.runs.runs, { criterion: 'test_loss', at: 'nb_params' }).groups.map((g) => g.letters),
    ).toEqual(['a', 'a', 'a', 'a']);
    const shared = await sizes([3]);
    for (const spec of shared.specs) {
      expect(lettersIn(spec)).toEqual([
        ['model_a', 20, 'a'],
        ['model_b', 20, 'b'],
      ]);
      expect(subtitleOf(spec)).toContain(CAPTION);
    }
  });
});

/** The values of `name: value` in the aria labels of an SVG's marks of one kind. */
const labelled = (svg: string, mark: string, name: string) =>
  [...svg.matchAll(new RegExp(`<g class="mark-${mark} role-mark[^>]*>(.*?)</g>`, 'gs'))]
    .flatMap((m) => [...m[1]!.matchAll(/aria-label="([^"]*)"/g)].map((a) => a[1]!))
    .map((label) => new RegExp(`(?:^|; )${name}: ([^;]*)`).exec(label)?.[1]);

describe('metaplot and perfanalysis: what is averaged, and the spread', () => {
  let dir: string;
  let db: string;
  // lr 1e-2 and 1e-3 are swept but not in the key; model_b comes in one size only
  const models = `[a]\ntype = mlp\nclass = A\npath_to_class = m.ts\nkey = model_a\nwidth = 2, 3\n[b]\ntype = mlp\nclass = B\npath_to_class = m.ts\nkey = model_b\nwidth = 2\n`;
  const spread = [0.01, 0.4, 0.02];
  beforeAll(async () => {
    dir = tmpDir();
    const odd: Record<number, Outcome> = {
      0: { status: 'error' },
      4: { status: 'diverged' },
      5: { status: 'diverged' },
    };
    db = await analysisDb(
      dir,
      iniText({ process: 'lr = 1e-2, 1e-3', multiplicity: 4, models }),
      (facts, i) =>
        odd[i] ?? {
          status: 'done',
          value: spread[i % 3]! * (facts.lr === '1e-3' ? 1 : 2),
          nb_params: Number(facts.A_width ?? facts.B_width) * 10,
        },
    );
  });

  it('metaplot splits series by a swept parameter, pools it on request, says what it left out', async () => {
    const svg = path.join(dir, 'meta.svg');
    const r = cli(['metaplot', db, svg, 'toy', 'test_loss'], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'left out 3 runs that are not done: 1 error (1), 2 diverged (5-6)',
      'split by lr (1e-3, 1e-2): runs that would be pooled differ in it; --pool lr pools them on purpose',
      `test_loss of 21 runs on toy written to ${svg}`,
      '',
    ]);
    const text = fs.readFileSync(svg, 'utf8');
    expect(labelled(text, 'line', 'model key').filter(Boolean).sort()).toEqual([
      'model_a · lr=1e-2',
      'model_a · lr=1e-3',
      'model_b · lr=1e-2',
      'model_b · lr=1e-3',
    ]);
    expect(text).toContain('series split by lr: runs that differ in it are not averaged together');

    const pooled = cli(['metaplot', db, svg, 'toy', 'test_loss', '--pool', 'lr'], dir);
    expect(pooled.stdout).toContain('pooled on request (--pool lr): lr (1e-3, 1e-2)');
    expect(labelled(fs.readFileSync(svg, 'utf8'), 'line', 'model key').filter(Boolean)).toEqual(['model_a', 'model_b']);
    expect(cli(['metaplot', db, svg, 'toy', 'test_loss', '--pool', 'depth'], dir).stderr).toMatch(
      /--pool depth: no run has a parameter named depth/,
    );
  });

  it('metaplot and perfanalysis: letters of split series, found by their runs, equal those of compare --at nb_params', async () => {
    const runs = await runsOf(db);
    // model_a at 20 and 30 (lr 1e-2 and 1e-3), model_b at 20: at 20, four series with 2 runs or more
    const expected = compareLetters(runs);
    expect(new Set(expected.map(([series]) => series))).toEqual(
      new Set(['model_a · lr=1e-2', 'model_a · lr=1e-3', 'model_b · lr=1e-2', 'model_b · lr=1e-3']),
    );
    expect(new Set(expected.map(([, size]) => size))).toEqual(new Set([20, 30]));
    expect(lettersIn(metaplotFigure(runs, db, 'toy', 'test_loss', []).spec)).toEqual(expected);
    expect(lettersIn(perfanalysisFigures(runs, db, { criteria: ['test_loss'], pool: [] }).pages[0]!.spec)).toEqual(
      expected,
    );
    const pooled = compareLetters(runs, ['lr']);
    expect(pooled.map(([series, size]) => [series, size])).toEqual([
      ['model_a', 20],
      ['model_b', 20],
    ]); // model_a alone at 30
    expect(lettersIn(metaplotFigure(runs, db, 'toy', 'test_loss', ['lr']).spec)).toEqual(pooled);
  });

  it('metaplot: the ±1 std band stops at 0 for a loss, and a model of one size gets an error bar', async () => {
    const svg = path.join(dir, 'band.svg');
    expect(cli(['metaplot', db, svg, 'toy', 'test_loss'], dir).code).toBe(0);
    const text = fs.readFileSync(svg, 'utf8');
    expect(text).toContain(
      "band: ±1 standard deviation, clipped to the criterion's range; error bars: a series of one size",
    );
    const lows = labelled(text, 'area', 'lower').map(Number);
    expect(lows.length).toBeGreaterThan(0);
    expect(Math.min(...lows)).toBe(0); // mean − std is below 0 for these losses
    const bars = labelled(text, 'rule', 'model key');
    expect(bars.filter(Boolean).sort()).toEqual(['model_b · lr=1e-2', 'model_b · lr=1e-3']);
    expect(Math.min(...labelled(text, 'rule', 'lower').map(Number))).toBe(0);
  });

  it('perfanalysis skips criteria with one value in every run, and says so', async () => {
    const out = path.join(dir, 'perf.pdf');
    const r = cli(['perfanalysis', db, out], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('skipped train_acc, test_acc: no run has a value');
    expect(r.stdout).toContain(
      'skipped duration(s) (1 in every run), epochs (1 in every run), overfit (0 in every run), slope (0 in every run), best_epoch (1 in every run): the same value in every run',
    );
    // train_loss, test_loss, trainability, best_test_loss
    expect(r.stdout).toContain('4 pages (dataset keys x criteria)');
    expect(pdfPages(out)).toBe(4);
    expect(
      cli(['perfanalysis', db, path.join(dir, 'one.pdf'), '--criteria', 'test_loss', '--pool', 'lr'], dir).stdout,
    ).toMatch(/pooled on request \(--pool lr\)[\s\S]*\n1 page \(/);
  });
});

describe('perfanalysis_by_config: the same rules', () => {
  it('splits by parameters not excluded, matches include_keys by number and suffix, clips bands and bars', async () => {
    const dir = tmpDir();
    const models = `[a]\ntype = mlp\nclass = mlp_brick\npath_to_class = m.ts\nkey = brick\nwidth = 2, 3\n`;
    const spread = [0.01, 0.4, 0.02];
    const db = await analysisDb(dir, iniText({ process: 'lr = 1e-2, 1e-3', multiplicity: 3, models }), (facts, i) =>
      i === 1
        ? { status: 'failed' }
        : { status: 'done', value: spread[i % 3]!, nb_params: Number(facts.mlp_brick_width) * 10 },
    );
    const ini = path.join(dir, 'plots.ini');
    fs.writeFileSync(
      ini,
      `[split]\nabscissae = width\nordinates = test_loss\n\n[pooled]\nabscissae = width\nordinates = test_loss\nexcludes = lr\nerrorbars_style = bars\n\n` +
        `[one lr]\nabscissae = width\nordinates = test_loss\ninclude_keys = lr\ninclude_values = 0.001\n\n[at one width]\nabscissae = lr\nordinates = test_loss\ninclude_keys = width\ninclude_values = 2\n`,
    );
    const svg = path.join(dir, 'page.svg');
    const r = cli(['perfanalysis_by_config', ini, db, svg], dir);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      '[split] left out 1 run that is not done: 1 failed (2)',
      '[split] split by lr (1e-3, 1e-2): runs that would be pooled differ in it; excludes = lr pools them on purpose',
      '[pooled] left out 1 run that is not done: 1 failed (2)',
      '[pooled] pooled on request (excludes = lr): lr (1e-3, 1e-2)',
      '[at one width] left out 1 run that is not done: 1 failed (2)',
      `4 pages (split, pooled, one lr, at one width) written to ${svg} … ${svg.replace('.svg', '-4.svg')}`,
      '',
    ]);
    const split = fs.readFileSync(svg, 'utf8');
    expect(labelled(split, 'line', 'series').filter(Boolean).sort()).toEqual(['brick · lr=1e-2', 'brick · lr=1e-3']);
    expect(Math.min(...labelled(split, 'area', 'lower').map(Number))).toBe(0);
    const pooled = fs.readFileSync(svg.replace('.svg', '-2.svg'), 'utf8');
    expect(pooled).toContain("bars: ±1 standard deviation, clipped to the criterion's range");
    expect(labelled(pooled, 'rule', 'series').filter(Boolean)).toEqual(['brick', 'brick']);
    expect(Math.min(...labelled(pooled, 'rule', 'lower').map(Number))).toBe(0);
    expect(fs.readFileSync(svg.replace('.svg', '-3.svg'), 'utf8')).toContain('6 finished runs with lr in [0.001]');
  });
});

describe("figures at a real experiment's size: three models × two lr × two dropout, not pooled", () => {
  // small_cnn and mlp have the same sizes; big_cnn ten times theirs
  const models = ['small_cnn', 'mlp', 'big_cnn']
    .map(
      (m) =>
        `[${m}]\ntype = mlp\nclass = ${m}\npath_to_class = m.ts\nkey = ${m}${m === 'small_cnn' ? '_dropout' : ''}\nwidth = 2, 4\ndropout = 0.1, 0.5\n`,
    )
    .join('');
  let dir: string;
  let db: string;
  let runs: LoadedRuns;
  beforeAll(async () => {
    dir = tmpDir();
    db = await analysisDb(dir, iniText({ process: 'lr = 1e-3, 1e-2', multiplicity: 3, models }), (f, i) => {
      const model = f.mlp_key!;
      const width = Number(f.small_cnn_width ?? f.mlp_width ?? f.big_cnn_width);
      const value =
        (model === 'big_cnn' ? 0.3 : 0.45) / Math.sqrt(width) + (f.lr === '1e-2' ? 0 : 0.05) + 0.01 * (i % 3);
      return { status: 'done', value, nb_params: width * (model === 'big_cnn' ? 6000 : 600) };
    });
    runs = await runsOf(db);
  });

  type Chart = {
    title?: { text: string };
    layer: {
      mark: { type: string };
      encoding: Record<string, Record<string, unknown>>;
      data: { values: Record<string, unknown>[] };
    }[];
  };
  /** Every panel's mean layer, its colour encoding and the points it draws. */
  const panelsOf = (charts: Chart[]) =>
    charts.map((c) => {
      const means = c.layer.find((l) => l.mark.type === 'line')!;
      return { title: c.title?.text, colour: means.encoding.color!, x: means.encoding.x!, values: means.data.values };
    });

  const expectReadable = (panels: ReturnType<typeof panelsOf>) => {
    expect(panels.map((p) => p.title).sort()).toEqual([
      'dropout=0.1, lr=1e-2',
      'dropout=0.1, lr=1e-3',
      'dropout=0.5, lr=1e-2',
      'dropout=0.5, lr=1e-3',
    ]);
    for (const p of panels) {
      const scale = p.colour.scale as { domain: string[]; range: string[] };
      const legend = p.colour.legend as { symbolLimit: number };
      // the legend names every model key (never "…N entries"), each in a colour of its own
      expect(scale.domain).toEqual(['big_cnn', 'mlp', 'small_cnn_dropout']);
      expect(new Set(scale.range).size).toBe(scale.domain.length);
      expect(legend.symbolLimit).toBe(0);
      const models = new Set(p.values.map((v) => v.model));
      expect(models).toEqual(new Set(scale.domain));
      // small_cnn_dropout and mlp share each size: drawn apart
      for (const size of [1200, 2400]) {
        const at = p.values.filter((v) => v.nb_params === size);
        expect(at).toHaveLength(2);
        expect(at[0]!.x).not.toBe(at[1]!.x);
      }
      expect(p.x.title).toBe('number of parameters (log scale)');
      expect((p.x.scale as { type: string }).type).toBe('log');
    }
  };

  it('metaplot: a panel per lr and dropout, a colour per model key, points at one size dodged, log x', () => {
    const { spec } = metaplotFigure(runs, db, 'toy', 'test_loss', []);
    const s = spec as unknown as { concat: Chart[]; title: { subtitle: string[] } };
    expect(s.concat).toHaveLength(4);
    expectReadable(panelsOf(s.concat));
    expect(s.title.subtitle).toContain('a panel per dropout, lr; colour: model key');
  });

  it('perfanalysis: a row of curve and violins per panel', () => {
    const page = perfanalysisFigures(runs, db, { criteria: ['test_loss'], pool: [] }).pages[0]!.spec;
    const rows = (page as unknown as { vconcat: { hconcat: [Chart, { encoding: { color: { field: string } } }] }[] })
      .vconcat;
    expect(rows).toHaveLength(4);
    expectReadable(panelsOf(rows.map((r) => r.hconcat[0])));
    for (const r of rows) expect(r.hconcat[1].encoding.color.field).toBe('model');
  });

  it('letters stand beyond the dodged points of their size', () => {
    const { spec } = metaplotFigure(runs, db, 'toy', 'test_loss', []);
    let checked = 0;
    for (const panel of (spec as unknown as { concat: Chart[] }).concat) {
      const text = panel.layer.find((l) => l.mark.type === 'text' && l.encoding.color)!.data.values;
      const at1200 = text.filter((t) => t.nb_params === 1200);
      expect(at1200).toHaveLength(2);
      // the two points are 8 px apart: a letter beside the left one goes past the right one, and the other way round
      const [left, right] = [...at1200].sort((a, b) => (a.x as number) - (b.x as number));
      expect(left!.x).toBeLessThan(right!.x as number);
      expect(left!.align === 'left' ? (left!.dx as number) >= 14 : (left!.dx as number) <= -6).toBe(true);
      expect(right!.align === 'left' ? (right!.dx as number) >= 6 : (right!.dx as number) <= -14).toBe(true);
      checked++;
    }
    expect(checked).toBe(4);
  });

  it('perfanalysis_by_config: lr on a log axis that says so, series in panels, means at one lr dodged', async () => {
    const ini = path.join(dir, 'plots.ini');
    fs.writeFileSync(ini, '[by lr]\nabscissae = lr\nordinates = test_loss\n');
    const [section] = readPlotConfig(ini, runs.criteria);
    const { spec } = configPage(runs, section!, ini);
    const row = (spec as unknown as { vconcat: { concat: Chart[] }[] }).vconcat[0]!;
    expect(row.concat).toHaveLength(4); // dropout × width
    for (const p of panelsOf(row.concat)) {
      expect(p.x.title).toBe('lr (log scale)');
      expect((p.x.scale as { type: string }).type).toBe('log');
      expect((p.x.axis as { values: number[] }).values).toEqual([1e-3, 1e-2]);
      const scale = p.colour.scale as { domain: string[]; range: string[] };
      expect(new Set(scale.range).size).toBe(scale.domain.length);
      for (const lr of [1e-3, 1e-2]) {
        const xs = p.values.filter((v) => v.at === lr).map((v) => v.x);
        expect(new Set(xs).size).toBe(3);
      }
    }
    // drawn: a PNG of the page and of the metaplot
    const png = path.join(dir, 'by-lr.png');
    expect(cli(['perfanalysis_by_config', ini, db, png], dir).code).toBe(0);
    const [w, h] = pngSize(png);
    expect(w).toBeGreaterThan(1500);
    expect(h).toBeGreaterThan(800);
    const meta = path.join(dir, 'meta.png');
    expect(cli(['metaplot', db, meta, 'toy', 'test_loss'], dir).code).toBe(0);
    expect(pngSize(meta)[1]).toBeGreaterThan(1000);
  });
});
