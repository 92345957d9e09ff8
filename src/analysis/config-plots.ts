import type { TopLevelSpec } from 'vega-lite';
import { MosaicError } from '../errors.js';
import type { PlotSection } from './plot-config.js';
import { violinChart } from './plots.js';
import { CRITERIA, valueOf, type AnalysisRun, type Criterion } from './runs.js';

/** Facts that describe a run's bookkeeping, never a parameter to group by. */
const BOOKKEEPING = new Set(['seed', 'status', 'traceback', 'pipeline', 'device', 'last_failure', 'run_files_path']);

const matches = (fact: string, name: string) => fact === name || fact.endsWith(`_${name}`);

function xOf(run: AnalysisRun, abscissa: string): { value: number | string; fact?: string } | undefined {
  if ((CRITERIA as readonly string[]).includes(abscissa)) {
    const v = valueOf(run, abscissa as Criterion);
    return v === null ? undefined : { value: v };
  }
  const fact = Object.keys(run.facts).find((k) => matches(k, abscissa) && !k.endsWith('_key'));
  if (fact === undefined) return undefined;
  const raw = run.facts[fact]!;
  return { value: Number.isFinite(Number(raw)) ? Number(raw) : raw, fact };
}

/** One page of perfanalysis_by_config: a chart per ordinate, a series per group of runs. */
export function configPage(all: AnalysisRun[], section: PlotSection, source: string): TopLevelSpec {
  const runs = all.filter((r) => r.status === 'done' && section.include.every((inc) => inc.values.includes(r.facts[inc.key] ?? '\u0000')));
  if (runs.length === 0) {
    throw new MosaicError(`${source} [${section.name}]: no finished run matches ${section.include.map((i) => `${i.key} in [${i.values.join(', ')}]`).join(' and ') || 'the section'}`);
  }
  const xs = runs.map((r) => xOf(r, section.abscissa));
  if (xs.every((x) => x === undefined)) {
    throw new MosaicError(`${source} [${section.name}] abscissae: no run has "${section.abscissa}" (a criterion: ${CRITERIA.join(', ')}, or a parameter)`);
  }
  const xFacts = new Set(xs.map((x) => x?.fact).filter((f): f is string => f !== undefined));
  const facts = [...new Set(runs.flatMap((r) => Object.keys(r.facts)))].filter(
    (f) => !BOOKKEEPING.has(f) && !xFacts.has(f) && !section.excludes.some((e) => matches(f, e)) && new Set(runs.map((r) => r.facts[f])).size > 1,
  );
  const label = (r: AnalysisRun) => {
    const own = facts.filter((f) => r.facts[f] !== undefined);
    if (own.length === 0) return 'all runs';
    return own.map((f) => (f.endsWith('_key') ? r.facts[f]! : `${f}=${r.facts[f]}`)).join(', ');
  };
  const values = runs.flatMap((r, i) => {
    const x = xs[i];
    if (x === undefined) return [];
    return [{ x: x.value, series: label(r), ...Object.fromEntries(section.ordinates.map((o) => [o, valueOf(r, o)])) }];
  });
  const numericX = values.every((v) => typeof v.x === 'number');
  const integerX = numericX && values.every((v) => Number.isInteger(v.x));
  const x = {
    field: 'x',
    type: numericX ? ('quantitative' as const) : ('ordinal' as const),
    title: section.abscissa,
    ...(numericX ? { scale: { zero: false } } : {}),
    ...(integerX ? { axis: { tickMinStep: 1, format: 'd' } } : {}),
  };
  const color = { field: 'series', type: 'nominal' as const, title: 'series', legend: { labelLimit: 480, columns: 2 } };
  const charts = section.ordinates.map((o) => {
    const y = { field: o, type: 'quantitative' as const, title: o };
    if (section.plotType === 'violin') {
      return violinChart({
        title: o,
        field: o,
        series: 'series',
        column: 'x',
        columnTitle: section.abscissa,
        yTitle: o,
        color,
        width: Math.round(46 * section.plotScale),
        height: 260,
      });
    }
    const spread =
      section.errorbars === 'bars'
        ? { mark: { type: 'errorbar', extent: 'stdev', ticks: true }, encoding: { x, y, color } }
        : { mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 }, encoding: { x, y, fill: { field: 'series', type: 'nominal', legend: null } } };
    // The band's legend is hidden; the mean's legend (lines or points) names the series.
    const centre =
      section.plotType === 'line'
        ? { mark: { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 }, encoding: { x, y: { ...y, aggregate: 'mean', scale: { zero: false } }, color } }
        : { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { ...y, aggregate: 'mean', scale: { zero: false } }, color } };
    return { title: { text: o, fontSize: 11 }, width: 560, height: 260, layer: [spread, centre] };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: section.name,
      subtitle: `${runs.length} finished runs${section.include.length ? ` with ${section.include.map((i) => `${i.key} in [${i.values.join(', ')}]`).join(', ')}` : ''}; mean ± 1 standard deviation over the runs of a series`,
    },
    data: { values },
    vconcat: charts,
    resolve: { scale: { color: 'shared', fill: 'shared' } },
  } as unknown as TopLevelSpec;
}
