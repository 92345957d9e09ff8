import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, FIXTURES, fixtureConfig, tmpDir } from './helpers.js';

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
  beforeAll(() => {
    dir = tmpDir();
    db = path.join(dir, 'p.db');
    const config = fixtureConfig(dir, {
      epochs: 4,
      monitor: 'nb_processus = 2\nmultiplicity = 2',
      models: `[faulty]\ntype = model\nclass = faulty\npath_to_class = ${FIXTURES}/faulty-models.ts\nkey = net_{width}\nwidth = 2, 3, 5, 8`,
    });
    expect(cli(['run', config, db], dir).code).toBe(3); // width 3 throws: 2 runs in error
  });

  it('plotloss: plot_size² plots a page, runs in error skipped with a note', () => {
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
    expect(cli(['plotloss', db, png, '-param_name_value', 'faulty_width', '8', '-plot_size', '3'], dir).stdout).toContain('1 pages written');
    const [w, h] = pngSize(png);
    expect(w).toBeGreaterThan(1500);
    expect(h).toBeGreaterThan(600);
  });

  it('metaplot: a criterion against nb_params for a dataset key', () => {
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

  it('perfanalysis: a page per dataset key and criterion', () => {
    const out = path.join(dir, 'perf.pdf');
    const r = cli(['perfanalysis', db, out], dir);
    expect(r.stderr).toBe('');
    // one dataset key; 9 criteria but train_acc and test_acc exist too: all but nb_params
    expect(r.stdout).toContain('9 pages');
    expect(pdfPages(out)).toBe(9);
    const two = path.join(dir, 'perf2.svg');
    expect(cli(['perfanalysis', db, two, '--criteria', 'test_loss,overfit'], dir).stdout).toContain('2 pages');
    expect(fs.readFileSync(two, 'utf8')).toContain('distribution over repeats');
    expect(fs.existsSync(path.join(dir, 'perf2-2.svg'))).toBe(true);
  });

  it('explains unknown keys, criteria and formats', () => {
    expect(cli(['metaplot', db, path.join(dir, 'x.png'), 'mnist', 'test_loss'], dir).stderr).toMatch(/no finished run has dataset key "mnist"; dataset keys in .*: or$/m);
    expect(cli(['metaplot', db, path.join(dir, 'x.png'), 'or', 'loss'], dir).stderr).toMatch(/unknown criterion "loss"; valid: train_loss, test_loss, train_acc/);
    expect(cli(['plotloss', db, path.join(dir, 'x.jpg')], dir).stderr).toMatch(/cannot tell the format of .*x\.jpg: name it \.pdf, \.png or \.svg/);
    expect(cli(['plotloss', db, path.join(dir, 'x.pdf'), '-id', '3-4'], dir).stderr).toMatch(/none of the selected runs has a loss curve to draw/);
  });
});

describe('perfanalysis_by_config', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
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

  it('draws one page per section: line, point and violin', () => {
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
    ['[p]\nabscissae = width\nordinates = test_lost\n', /plots-\w+\.ini:3 \[p\] ordinates: unknown criterion "test_lost"; valid: train_loss/],
    ['[p]\nabscissae = width\nordinates = test_loss\nplot_type = bars\n', /\[p\] plot_type: must be line, point or violin, found "bars"/],
    ['[p]\nabscissae = width\nordinates = test_loss\nerrorbars_style = shade\n', /\[p\] errorbars_style: must be bars or fill_between/],
    ['[p]\nabscissae = width\nordinates = test_loss\ninclude_keys = data_key, model_key\ninclude_values = or\n', /\[p\] include_values: 1 values for 2 include_keys/],
    ['[p]\nabscissae = depth\nordinates = test_loss\n', /\[p\] abscissae: no run has "depth"/],
    ['[p]\nabscissae = width\nordinates = test_loss\ninclude_keys = model_key\ninclude_values = [net_9]\n', /\[p\]: no finished run matches model_key in \[net_9\]/],
  ])('a bad plot config is a clear error: %j', (text, message) => {
    const r = cli(['perfanalysis_by_config', write(text), db, path.join(dir, 'x.pdf')], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
