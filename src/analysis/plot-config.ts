import fs from 'node:fs';
import { parseIni, type IniSection } from '../config/ini.js';
import { ConfigError, MosaicError } from '../core/errors.js';
import { CRITERIA, type Criteria, type Criterion } from './runs.js';
import { plural } from '../core/wording.js';

/**
 * The plot INI of perfanalysis_by_config: one section per page.
 *   abscissae        x: nb_params, another criterion, or a parameter (`width` matches `mlp_brick_width`)
 *   ordinates        comma-separated criteria, one chart each
 *   include_keys     comma-separated fact names (e.g. dataset_key, mlp_key) …
 *   include_values   … and their accepted values, a value or a bracketed list per key
 *   excludes         parameters ignored when grouping runs into series
 *   plot_type        line (default), point or violin
 *   errorbars_style  fill_between (default) or bars, for line and point
 *   plot_scale       width of each violin, 1 = default
 */
export interface PlotSection {
  name: string;
  abscissa: string;
  ordinates: Criterion[];
  include: { key: string; values: string[] }[];
  excludes: string[];
  plotType: 'line' | 'point' | 'violin';
  errorbars: 'bars' | 'fill_between';
  plotScale: number;
}

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** `a, [b, c], d` → [['a'], ['b', 'c'], ['d']]. */
export function bracketedLists(value: string): string[][] {
  const out: string[][] = [];
  const re = /\s*(\[[^\]]*\]|[^,[\]]+)\s*(,|$)/gy;
  let consumed = 0;
  while (consumed < value.length) {
    const m = re.exec(value);
    if (m === null) break;
    const item = m[1]!.trim();
    out.push(item.startsWith('[') ? list(item.slice(1, -1)) : [item]);
    consumed = re.lastIndex;
    if (m[2] === '') break;
  }
  if (consumed < value.trim().length) throw new Error(`cannot read "${value}" as values or [lists of values]`);
  return out;
}

/** The sections of a plot INI; `criteria`: the database's, as the ordinates may name metrics its runs logged. */
export function readPlotConfig(file: string, criteria: Criteria): PlotSection[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new MosaicError(`cannot read plot config ${file}: ${(e as Error).message}`);
  }
  const doc = parseIni(text, file);
  if (doc.sections.length === 0)
    throw new ConfigError({ file }, 'no [section]: each section describes one page of plots');
  return doc.sections.map((s) => readSection(s, file, criteria));
}

function readSection(s: IniSection, file: string, criteria: Criteria): PlotSection {
  const at = (key: string) => ({ file, line: s.entries.get(key)?.line ?? s.line, section: s.name, key });
  const get = (key: string) => s.entries.get(key)?.value;
  const abscissa = get('abscissae');
  if (!abscissa)
    throw new ConfigError(
      { file, line: s.line, section: s.name },
      'missing key "abscissae" (the x axis: nb_params, a criterion or a parameter)',
    );
  const ordinatesRaw = list(get('ordinates'));
  if (ordinatesRaw.length === 0)
    throw new ConfigError(
      { file, line: s.line, section: s.name },
      `missing key "ordinates" (criteria: ${CRITERIA.join(', ')})`,
    );
  const ordinates = ordinatesRaw.map((o) => {
    try {
      return criteria.parse(o);
    } catch (e) {
      throw new ConfigError(at('ordinates'), (e as Error).message);
    }
  });
  const keys = list(get('include_keys'));
  let values: string[][] = [];
  try {
    values = get('include_values') ? bracketedLists(get('include_values')!) : [];
  } catch (e) {
    throw new ConfigError(at('include_values'), (e as Error).message);
  }
  if (keys.length !== values.length) {
    throw new ConfigError(
      at('include_values'),
      `${plural(values.length, 'value')} for ${plural(keys.length, 'include_key')}: give one value or [list] per key`,
    );
  }
  const plotType = (get('plot_type') ?? 'line').trim().toLowerCase();
  if (!['line', 'point', 'violin'].includes(plotType))
    throw new ConfigError(at('plot_type'), `must be line, point or violin, found "${plotType}"`);
  const errorbars = (get('errorbars_style') ?? 'fill_between').trim().toLowerCase();
  if (!['bars', 'fill_between'].includes(errorbars))
    throw new ConfigError(at('errorbars_style'), `must be bars or fill_between, found "${errorbars}"`);
  const plotScale = Number(get('plot_scale') ?? '1');
  if (!(plotScale > 0))
    throw new ConfigError(at('plot_scale'), `must be a positive number, found "${get('plot_scale')}"`);
  return {
    name: s.name,
    abscissa: abscissa.trim(),
    ordinates,
    include: keys.map((key, i) => ({ key, values: values[i]! })),
    excludes: list(get('excludes')),
    plotType: plotType as PlotSection['plotType'],
    errorbars: errorbars as PlotSection['errorbars'],
    plotScale,
  };
}
