import type { TopLevelSpec } from 'vega-lite';
import { MosaicError } from '../core/errors.js';
import { band, criterionRange } from './bands.js';
import { factNamed, sameValue, valueKey } from './params.js';
import type { PlotSection } from './plot-config.js';
import { meanAndSpreadLayers, spreadSubtitle, violinChart } from './plots.js';
import { orderedLabels, seriesLabel, splitCells } from './pooling.js';
import { CRITERIA, criterionValue, type AnalysisRun, type Better, type Criterion, type LoadedRuns } from './runs.js';
import { leftOut, usableRuns } from './usable.js';
import {
  colourEncoding,
  dodgeOffsets,
  seriesPanels,
  shifted,
  xAxisSpec,
  xScaleOf,
  xScaleSpec,
} from './series-layout.js';

const CHART_WIDTH = 560;
const PANEL_WIDTH = 320;

type Row = { x: number | string; series: string; model: string; panel: string } & Record<string, number | null>;
import { plural } from '../core/wording.js';

function abscissaOf(run: AnalysisRun, abscissa: string): number | string | undefined {
  if (CRITERIA.includes(abscissa)) return criterionValue(run, abscissa) ?? undefined;
  const fact = factNamed(run.facts, abscissa, run.runId);
  if (fact === undefined) return undefined;
  const raw = run.facts[fact]!;
  return Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

function included(run: AnalysisRun, section: PlotSection): boolean {
  return section.include.every((inc) => {
    const fact = factNamed(run.facts, inc.key, run.runId);
    return fact !== undefined && inc.values.some((v) => sameValue(run.facts[fact]!, v));
  });
}

const types = (run: AnalysisRun, scheme: 'data_scheme' | 'pipeline_scheme') =>
  (run.facts[scheme] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * The base of a series: the model chain's keys (and the dataset's, when the section spans
 * several), less the keys the section excludes. Parameters then split it as pooling.ts says.
 */
function baseOf(
  runs: AnalysisRun[],
  excluded: (run: AnalysisRun, keyFact: string) => boolean,
): (run: AnalysisRun) => string {
  const keys = (r: AnalysisRun, scheme: 'data_scheme' | 'pipeline_scheme') =>
    types(r, scheme)
      .filter((t) => !excluded(r, `${t}_key`))
      .map((t) => r.facts[`${t}_key`] ?? '?')
      .join(' | ');
  const severalDatasets = new Set(runs.map((r) => keys(r, 'data_scheme'))).size > 1;
  return (r) =>
    [severalDatasets ? keys(r, 'data_scheme') : '', keys(r, 'pipeline_scheme')].filter(Boolean).join(' / ') ||
    'all runs';
}

/** One page of perfanalysis_by_config: a chart per ordinate, a series per group of runs; and what it left out, split or pooled. */
export function configPage(
  { runs: all, criteria }: LoadedRuns,
  section: PlotSection,
  source: string,
): { spec: TopLevelSpec; notes: string[] } {
  const usable = usableRuns(all.filter((r) => included(r, section)));
  const notes = [...usable.notes];
  const runs = usable.runs;
  if (runs.length === 0) {
    throw new MosaicError(
      `${source} [${section.name}]: no finished run matches ${section.include.map((i) => `${i.key} in [${i.values.join(', ')}]`).join(' and ') || 'the section'}`,
    );
  }
  const xs = new Map(runs.map((r) => [r.runId, abscissaOf(r, section.abscissa)]));
  const placedRuns = runs.filter((r) => xs.get(r.runId) !== undefined);
  if (placedRuns.length === 0) {
    throw new MosaicError(
      `${source} [${section.name}] abscissae: no run has "${section.abscissa}" (a criterion: ${CRITERIA.join(', ')}, or a parameter)`,
    );
  }
  if (placedRuns.length < runs.length)
    notes.push(
      leftOut(
        runs.filter((r) => xs.get(r.runId) === undefined),
        `without a value of ${section.abscissa}`,
      ),
    );

  const excluded = (r: AnalysisRun, fact: string) =>
    section.excludes.some((e) => factNamed(r.facts, e, r.runId) === fact);
  const base = baseOf(placedRuns, excluded);
  const placed = placedRuns.map((run) => ({
    run,
    cell: JSON.stringify([base(run), valueKey(String(xs.get(run.runId)))]),
    line: base(run),
  }));
  const pooling = splitCells(placed, {
    pool: section.excludes,
    fixed: CRITERIA.includes(section.abscissa) ? [] : [section.abscissa],
    poolHint: 'excludes =',
  });
  notes.push(...pooling.notes);

  const order = orderedLabels(
    placedRuns.map((r) => ({ base: base(r), runId: r.runId })),
    pooling,
  );
  const panels = seriesPanels(
    order,
    new Map(
      placedRuns.map((r) => [
        seriesLabel(base(r), pooling.variant.get(r.runId)!),
        { base: base(r), variant: pooling.variant.get(r.runId)! },
      ]),
    ),
  );
  const rows = placedRuns.map((r) => {
    const series = seriesLabel(base(r), pooling.variant.get(r.runId)!);
    return {
      x: xs.get(r.runId)!,
      series,
      model: panels.colourOf.get(series)!,
      panel: panels.panelOf.get(series)!,
      ...Object.fromEntries(section.ordinates.map((o) => [o, criterionValue(r, o)])),
    };
  }) as Row[];
  const numericX = rows.every((v) => typeof v.x === 'number');
  const width = panels.panels.length > 1 ? PANEL_WIDTH : CHART_WIDTH;
  const scale = numericX
    ? xScaleOf(
        rows.map((r) => r.x as number),
        width,
      )
    : undefined;
  const x = {
    field: 'x',
    type: numericX ? ('quantitative' as const) : ('ordinal' as const),
    title: `${section.abscissa}${scale?.log ? ' (log scale)' : ''}`,
    ...(scale ? { scale: xScaleSpec(scale), axis: xAxisSpec(scale) } : {}),
  };
  const offsets = dodgeOffsets(rows, order, panels.panelOf);
  /** Means at the same x stand apart: shifted on a numeric axis, side by side in the band of an ordinal one. */
  const dodged = (summaries: ReturnType<typeof summarizeBySeriesAndX>) =>
    summaries.map((s) => ({
      ...s,
      at: s.x,
      model: panels.colourOf.get(s.series)!,
      x: scale && typeof s.x === 'number' ? shifted(s.x, offsets.get(s.series) ?? 0, scale) : s.x,
    }));
  const xOf =
    !scale && offsets.size
      ? { x, xOffset: { field: panels.colourField, type: 'nominal', scale: { domain: panels.colours } } }
      : { x };
  const color = colourEncoding(
    panels.colourField,
    panels.colourField === 'series' ? 'series' : 'model keys',
    panels.colours,
  );
  const tooltip = [
    { field: 'series', title: 'series' },
    { field: 'at', title: section.abscissa },
    { field: 'mean', format: '.4g' },
    { field: 'std', format: '.3g' },
    { field: 'n', title: 'runs' },
  ];
  let single = false;
  const chart = (o: Criterion, panel: string) => {
    const mine = rows.filter((r) => r.panel === panel);
    const title = { text: panel ? `${o} · ${panel}` : o, fontSize: 11 };
    if (section.plotType === 'violin') {
      return {
        data: { values: mine },
        ...violinChart({
          title: title.text,
          field: o,
          series: panels.colourField,
          column: 'x',
          columnTitle: section.abscissa,
          yTitle: o,
          color,
          width: Math.round(46 * section.plotScale),
          height: 260,
          values: rows.map((r) => r[o]).filter((v): v is number => typeof v === 'number'),
        }),
      };
    }
    const summaries = dodged(summarizeBySeriesAndX(mine, o, criteria.better(o)));
    single ||= section.errorbars === 'fill_between' && summaries.some((s) => s.single);
    const spread = section.errorbars === 'bars' ? 'bars' : 'band';
    return {
      title,
      width,
      height: panels.panels.length > 1 ? 220 : 260,
      layer: meanAndSpreadLayers({ summaries, ...xOf, yTitle: o, color, spread, centre: section.plotType, tooltip }),
    };
  };
  // With panels, a row of them per ordinate, on one y scale.
  const charts = section.ordinates.map((o) =>
    panels.panels.length > 1
      ? {
          concat: panels.panels.map((panel) => chart(o, panel)),
          columns: Math.min(panels.panels.length, 3),
          resolve: { scale: { y: 'shared', x: 'shared', color: 'shared' } },
        }
      : chart(o, ''),
  );
  const who = `${plural(runs.length, 'finished run')}${section.include.length ? ` with ${section.include.map((i) => `${i.key} in [${i.values.join(', ')}]`).join(', ')}` : ''}`;
  const subtitle =
    section.plotType === 'violin'
      ? [`${who}; the distribution over the runs of a series at each ${section.abscissa}`]
      : [
          who,
          ...spreadSubtitle('mean over the runs of a series', {
            splitBy: pooling.splitBy,
            pooled: pooling.pooled,
            single,
            spread: section.errorbars === 'bars' ? 'bars' : 'band',
            of: `one ${section.abscissa}`,
          }),
          ...(panels.panels.length > 1 ? [`a panel per ${pooling.splitBy.join(', ')}; colour: model keys`] : []),
        ];
  return {
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: { text: section.name, subtitle },
      vconcat: charts,
      resolve: { scale: { color: 'shared' } },
    } as unknown as TopLevelSpec,
    notes,
  };
}

/** Per series and x: mean ± 1 std of the ordinate, clipped to its range; `single` when the series has one x. */
function summarizeBySeriesAndX(rows: Row[], o: Criterion, better: Better) {
  const withValue = rows.filter((r) => r[o] !== null);
  const range = criterionRange(
    o,
    better,
    withValue.map((r) => r[o]!),
  );
  const cells = new Map<string, { x: number | string; series: string; values: number[] }>();
  for (const r of withValue) {
    const id = JSON.stringify([r.series, r.x]);
    const cell = cells.get(id) ?? { x: r.x, series: r.series, values: [] };
    cell.values.push(r[o]!);
    cells.set(id, cell);
  }
  const xsOf = new Map<string, number>();
  for (const c of cells.values()) xsOf.set(c.series, (xsOf.get(c.series) ?? 0) + 1);
  return [...cells.values()].map((c) => ({
    x: c.x,
    series: c.series,
    single: xsOf.get(c.series) === 1,
    ...band(c.values, range),
  }));
}
