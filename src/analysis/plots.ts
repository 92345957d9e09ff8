import type { TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '../core/run-records.js';
import { significant } from '../core/format.js';
import { spreadNote } from './bands.js';
import type { AnalysisRun, Criterion } from './runs.js';
import { placeLetters, type ChartSize, type PlacedSummary } from './letter-placement.js';
import { SIZE_LETTERS_CAPTION, type SizeLetters } from './size-letters.js';
import {
  colourEncoding,
  dodgeOffsets,
  seriesPanels,
  shifted,
  X_PADDING,
  xAxisSpec,
  xScaleOf,
  xScaleSpec,
  type SeriesPanels,
} from './series-layout.js';
import type { SizeData, SizeSeries } from './size-series.js';

/** Vega-Lite specifications of Mosaic's figures, from the database's contents alone. */

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** At most `max` points of a curve, evenly spaced, the last one kept: a subplot has no room for more. */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  const out = Array.from({ length: max - 1 }, (_, i) => points[Math.floor(i * step)]!);
  out.push(points[points.length - 1]!);
  return out;
}

export interface LossPlotOptions {
  plotSize: number;
  logScale: boolean;
}

/** One page of plotloss: plotSize × plotSize loss curves (train solid, test dashed). */
export function lossPage(
  runs: { run: AnalysisRun; history: EpochRecord[] }[],
  options: LossPlotOptions,
  page: number,
  pages: number,
): TopLevelSpec {
  const k = options.plotSize;
  const width = Math.max(180, Math.floor(1100 / k) - 50);
  const height = Math.max(110, Math.floor(width * 0.6));
  const charts = runs.map(({ run, history }) => {
    const r = run.results;
    const values = thin(history, 200)
      .flatMap((e) => [
        { epoch: e.epoch, loss: e.train_loss, curve: 'train' },
        { epoch: e.epoch, loss: e.test_loss, curve: 'test' },
      ])
      .filter((v) => Number.isFinite(v.loss) && (!options.logScale || v.loss > 0));
    return {
      title: {
        text: `${run.runId}: ${run.pipeline} : ${r ? r.nb_params : '?'}`,
        subtitle: r
          ? [
              `overfit ${significant(r.overfit, 3)} · trainability ${significant(r.trainability, 3)}`,
              `slope ${significant(r.slope, 3)} (+${significant(r.slope_std_plus, 3)} / −${significant(r.slope_std_minus, 3)}) · ${r.epochs} epochs`,
            ]
          : `unfinished (${run.status}, ${history.length} epochs)`,
        fontSize: 10,
        subtitleFontSize: 9,
        limit: 0,
      },
      width,
      height,
      data: { values },
      mark: { type: 'line' as const, strokeWidth: 1.5 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1 } },
        y: {
          field: 'loss',
          type: 'quantitative' as const,
          title: options.logScale ? 'loss (log)' : 'loss',
          scale: options.logScale ? { type: 'log' as const } : { zero: false },
        },
        color: {
          field: 'curve',
          type: 'nominal' as const,
          title: 'loss',
          scale: { domain: ['train', 'test'], range: ['#1f77b4', '#d62728'] },
        },
        strokeDash: {
          field: 'curve',
          type: 'nominal' as const,
          title: 'loss',
          scale: {
            domain: ['train', 'test'],
            range: [
              [1, 0],
              [5, 3],
            ],
          },
        },
      },
    };
  });
  return {
    $schema: SCHEMA,
    title: {
      text: `Loss curves — page ${page} of ${pages}`,
      subtitle: 'train loss solid, test loss dashed; title: run id: pipeline : number of parameters',
    },
    columns: k,
    concat: charts,
    resolve: { scale: { color: 'shared', strokeDash: 'shared', y: 'independent', x: 'independent' } },
    spacing: 24,
  } as TopLevelSpec;
}

export interface SpreadOptions {
  /** Rows with `mean`, `lower`, `upper`, `single` and the x and series fields. */
  summaries: object[];
  x: Record<string, unknown>;
  /** Side by side within an ordinal x's band. */
  xOffset?: Record<string, unknown>;
  yTitle: string;
  /** The series' colour encoding; its legend is drawn by the means' layer only. */
  color: Record<string, unknown>;
  /** band: a band (error bars for a series of one x); bars: error bars everywhere. */
  spread: 'band' | 'bars';
  centre: 'line' | 'point';
  /** The means' tooltip, when the x they are drawn at is not the value to read (dodged). */
  tooltip?: Record<string, unknown>[];
}

/**
 * Layers of a mean curve with its ±1 std spread, from summaries computed beforehand (bands.ts,
 * clipped to the criterion's range). A series with one x value gets an error bar: a band of
 * one point would draw nothing.
 */
export function meanAndSpreadLayers(o: SpreadOptions): Record<string, unknown>[] {
  const rows = o.summaries as { single: boolean }[];
  const banded = o.spread === 'band' ? rows.filter((r) => !r.single) : [];
  const barred = o.spread === 'band' ? rows.filter((r) => r.single) : rows;
  const axis = valueAxis((o.summaries as { mean: number; upper: number }[]).flatMap((r) => [r.mean, r.upper]));
  const y = { field: 'lower', type: 'quantitative', title: o.yTitle, axis };
  const quiet = o.color;
  const offset = o.xOffset ? { xOffset: o.xOffset } : {};
  return [
    ...(banded.length
      ? [
          {
            data: { values: banded },
            mark: { type: 'errorband', opacity: 0.2 },
            encoding: { x: o.x, ...offset, y, y2: { field: 'upper' }, color: quiet },
          },
        ]
      : []),
    ...(barred.length
      ? [
          {
            data: { values: barred },
            mark: { type: 'errorbar', ticks: { size: 10 }, thickness: 2 },
            encoding: { x: o.x, ...offset, y, y2: { field: 'upper' }, color: quiet },
          },
        ]
      : []),
    {
      data: { values: o.summaries },
      mark:
        o.centre === 'line'
          ? { type: 'line', point: { filled: true, size: 40 }, strokeWidth: 2 }
          : { type: 'point', filled: true, size: 60 },
      encoding: {
        x: o.x,
        ...offset,
        y: { field: 'mean', type: 'quantitative', title: o.yTitle, scale: { zero: false }, axis },
        color: o.color,
        ...(o.tooltip ? { tooltip: o.tooltip } : {}),
      },
    },
  ];
}

/** Tiny or huge values (a loss of 1e-10) read better as 4.5e-10 than as 0.00000000045. */
export function valueAxis(values: number[]): Record<string, unknown> {
  const largest = Math.max(0, ...values.filter(Number.isFinite).map(Math.abs));
  return largest > 0 && (largest < 1e-3 || largest >= 1e5) ? { format: '.1e' } : {};
}

/** What a figure's subtitle says about its spread and about splitting and pooling. */
export function spreadSubtitle(
  first: string,
  context: { splitBy: string[]; pooled: string[]; single: boolean; spread?: 'band' | 'bars'; of?: string },
): string[] {
  const spread =
    context.spread === 'bars'
      ? spreadNote('bars')
      : `${spreadNote('band')}${context.single ? `; error bars: a series of ${context.of ?? 'one size'}` : ''}`;
  return [
    first,
    spread,
    ...(context.splitBy.length
      ? [
          `series split by ${context.splitBy.join(', ')}: runs that differ in ${context.splitBy.length === 1 ? 'it' : 'them'} are not averaged together`,
        ]
      : []),
    ...(context.pooled.length ? [`averaged over ${context.pooled.join(', ')} on request`] : []),
  ];
}

/** The letters of each series at each size, beside its mean (letter-placement.ts), in its colour, over a white halo. */
function letterLayers(
  letters: SizeLetters[],
  summaries: PlacedSummary[],
  x: Record<string, unknown>,
  yTitle: string,
  color: Record<string, unknown>,
  chart: ChartSize,
): Record<string, unknown>[] {
  if (letters.length === 0) return [];
  const values = placeLetters(letters, summaries, chart).map((l) => ({
    ...l,
    x: summaries.find((s) => s.series === l.series && s.nb_params === l.nb_params)?.x ?? l.nb_params,
    model: (summaries as (PlacedSummary & { model?: string })[]).find((s) => s.series === l.series)?.model,
  }));
  const y = { field: 'mean', type: 'quantitative', title: yTitle };
  const text = {
    type: 'text',
    align: { expr: 'datum.align' },
    baseline: 'middle',
    dx: { expr: 'datum.dx' },
    dy: { expr: 'datum.dy' },
    fontSize: 10,
    fontWeight: 'bold',
  };
  const tooltip = [
    { field: 'series', title: 'model key' },
    { field: 'nb_params', title: 'number of parameters' },
    { field: 'mean', title: yTitle, format: '.4g' },
    { field: 'letters', title: 'letters' },
  ];
  return [
    {
      data: { values },
      mark: {
        ...text,
        fill: 'white',
        stroke: 'white',
        strokeWidth: 3,
        strokeJoin: 'round',
        aria: false,
        tooltip: null,
      },
      encoding: { x, y, text: { field: 'letters' } },
    },
    { data: { values }, mark: text, encoding: { x, y, text: { field: 'letters' }, color, tooltip } },
  ];
}

type SeriesInfo = Pick<SizeSeries, 'splitBy' | 'pooled' | 'order' | 'parts'>;

/** The curve charts of metaplot and perfanalysis: one, or one per panel (series-layout.ts), and how they are laid out. */
function sizeCurves(
  data: SizeData,
  criterion: Criterion,
  series: SeriesInfo,
  letters: SizeLetters[],
  size: { width: number; height: number },
) {
  const shown = new Set(data.summaries.map((s) => s.series));
  const order = series.order.filter((s) => shown.has(s));
  const panels = seriesPanels(order, series.parts);
  const scale = xScaleOf(
    data.summaries.map((s) => s.nb_params),
    size.width,
  );
  const offsets = dodgeOffsets(
    data.summaries.map((s) => ({ series: s.series, x: s.nb_params })),
    order,
    panels.panelOf,
  );
  const colour = colourEncoding(panels.colourField, 'model key', panels.colours);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: `number of parameters${scale.log ? ' (log scale)' : ''}`,
    scale: xScaleSpec(scale),
    axis: xAxisSpec(scale),
  };
  const rows = data.summaries.map((s) => ({
    ...s,
    x: shifted(s.nb_params, offsets.get(s.series) ?? 0, scale),
    model: panels.colourOf.get(s.series)!,
    panel: panels.panelOf.get(s.series)!,
  }));
  const finite = (xs: number[]) => xs.filter(Number.isFinite);
  const yRange: [number, number] = [
    Math.min(...finite(rows.flatMap((s) => [s.mean, s.lower]))),
    Math.max(...finite(rows.flatMap((s) => [s.mean, s.upper]))),
  ];
  const tooltip = [
    { field: 'series', title: 'series' },
    { field: 'nb_params', title: 'number of parameters' },
    { field: 'mean', title: criterion, format: '.4g' },
    { field: 'std', title: 'std', format: '.3g' },
    { field: 'n', title: 'runs' },
  ];
  const charts = panels.panels.map((panel) => {
    const mine = rows.filter((r) => r.panel === panel);
    const names = new Set(mine.map((r) => r.series));
    return {
      ...(panel ? { title: { text: panel, fontSize: 11 } } : {}),
      ...size,
      layer: [
        ...meanAndSpreadLayers({
          summaries: mine,
          x,
          yTitle: criterion,
          color: colour,
          spread: 'band',
          centre: 'line',
          tooltip,
        }),
        ...letterLayers(
          letters.filter((l) => names.has(l.series)),
          mine,
          x,
          criterion,
          colour,
          {
            width: size.width - 2 * X_PADDING,
            height: size.height,
            logX: scale.log,
            xDomain: [scale.lo, scale.hi],
            yRange,
          },
        ),
      ],
    };
  });
  return { charts, panels, scale, colour };
}

/** What a figure of panels says about them. */
const panelNote = (series: SeriesInfo, panels: SeriesPanels) =>
  panels.panels.length > 1 ? [`a panel per ${series.splitBy.join(', ')}; colour: model key`] : [];

/** Panels side by side, so many a row. */
const panelColumns = (n: number) => (n <= 3 ? n : n === 4 ? 2 : 3);

/**
 * metaplot: a criterion against nb_params, one line per series, mean over repeats ± 1 std; with
 * `letters` (size-letters.ts), each series' letters at each size where several were tested. Many
 * series split by parameters go to panels, one per parameter values (series-layout.ts).
 */
export function metaplotSpec(
  data: SizeData,
  dataset: string,
  criterion: Criterion,
  series: SeriesInfo,
  letters: SizeLetters[] = [],
  size: { width: number; height: number } = { width: 560, height: 340 },
): TopLevelSpec {
  const nValues = [...new Set(data.summaries.map((s) => s.n))].sort((a, b) => a - b);
  const probe = seriesPanels(
    series.order.filter((s) => data.summaries.some((d) => d.series === s)),
    series.parts,
  );
  const panelSize = probe.panels.length > 1 ? { width: 340, height: 230 } : size;
  const { charts, panels, scale } = sizeCurves(data, criterion, series, letters, panelSize);
  const first = `mean over repeats (n = ${nValues.join('–')} per point)${scale.log ? ', x on a log scale' : ''}`;
  const title = {
    text: `${criterion} against model size on ${dataset}`,
    subtitle: [
      ...spreadSubtitle(first, { ...series, single: data.summaries.some((s) => s.single) }),
      ...panelNote(series, panels),
      ...(letters.length ? SIZE_LETTERS_CAPTION : []),
    ],
  };
  if (charts.length === 1) return { $schema: SCHEMA, title, ...charts[0]! } as unknown as TopLevelSpec;
  return {
    $schema: SCHEMA,
    title,
    columns: panelColumns(charts.length),
    concat: charts,
    resolve: { scale: { x: 'shared', y: 'shared', color: 'shared' } },
  } as unknown as TopLevelSpec;
}

/**
 * perfanalysis: one page per dataset key and criterion: the mean curve (±1 std) of each series
 * against nb_params, and beside it the distribution over repeats as violins, one per size; with
 * panels, a row of both per panel.
 */
export function perfanalysisPage(
  data: SizeData,
  dataset: string,
  criterion: Criterion,
  series: SeriesInfo,
  letters: SizeLetters[] = [],
): TopLevelSpec {
  const meta = metaplotSpec(data, dataset, criterion, series, letters, { width: 420, height: 300 }) as unknown as {
    title: object;
    concat?: Record<string, unknown>[];
  } & Record<string, unknown>;
  const { $schema: _s, title, ...single } = meta;
  void _s;
  const curves = meta.concat ?? [single];
  const shown = new Set(data.summaries.map((s) => s.series));
  const panels = seriesPanels(
    series.order.filter((s) => shown.has(s)),
    series.parts,
  );
  const colour = colourEncoding(panels.colourField, 'model key', panels.colours);
  const points = data.points.map((p) => ({
    ...p,
    model: panels.colourOf.get(p.series)!,
    panel: panels.panelOf.get(p.series)!,
  }));
  const violins = (panel: string) => ({
    data: { values: points.filter((p) => p.panel === panel) },
    ...violinChart({
      title: 'distribution over repeats',
      field: 'value',
      series: panels.colourField,
      column: 'nb_params',
      columnTitle: 'number of parameters',
      yTitle: criterion,
      color: colour,
      width: 46,
      height: panels.panels.length > 1 ? 230 : 300,
      values: data.points.map((p) => p.value),
    }),
  });
  const rows = curves.map((curve, i) => {
    const { resolve: _r, columns: _c, ...chart } = curve;
    void _r;
    void _c;
    return { hconcat: [chart, violins(panels.panels[i]!)], resolve: { scale: { color: 'shared' } } };
  });
  return {
    $schema: SCHEMA,
    title,
    ...(rows.length === 1 ? rows[0]! : { vconcat: rows, resolve: { scale: { color: 'shared' } } }),
  } as unknown as TopLevelSpec;
}

export interface ViolinOptions {
  title: string;
  /** The values whose distribution is drawn. */
  field: string;
  /** One violin per series and column value. */
  series: string;
  column: string;
  columnTitle: string;
  yTitle: string;
  color: Record<string, unknown>;
  width: number;
  height: number;
  /** The values drawn, to choose how the axis writes them. */
  values: number[];
}

/** Violins: the density of `field` mirrored around 0, one area between −density and +density, a column per `column` value. */
export function violinChart(o: ViolinOptions): Record<string, unknown> {
  return {
    title: { text: o.title, fontSize: 11 },
    transform: [
      { filter: `isValid(datum['${o.field}'])` },
      { density: o.field, groupby: [o.series, o.column], as: ['value', 'density'] },
      { calculate: '-datum.density', as: 'mirror' },
    ],
    width: o.width,
    height: o.height,
    spacing: 0,
    mark: { type: 'area', orient: 'horizontal', opacity: 0.7 },
    encoding: {
      y: { field: 'value', type: 'quantitative', title: o.yTitle, axis: valueAxis(o.values) },
      x: {
        field: 'density',
        type: 'quantitative',
        title: null,
        axis: { labels: false, values: [0], grid: false, ticks: true },
      },
      x2: { field: 'mirror' },
      color: o.color,
      column: {
        field: o.column,
        type: 'ordinal',
        title: o.columnTitle,
        header: { titleOrient: 'bottom', labelOrient: 'bottom' },
      },
    },
    resolve: { scale: { x: 'independent' } },
  };
}
