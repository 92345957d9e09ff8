import type { TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '../core/run-records.js';
import { significant } from '../core/format.js';
import { spreadNote } from './bands.js';
import type { AnalysisRun, Criterion } from './runs.js';
import { placeLetters, type ChartSize } from './letter-placement.js';
import { SIZE_LETTERS_CAPTION, type SizeLetters } from './size-letters.js';
import type { SizeData, SizeSeries, SizeSummary } from './size-series.js';

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
  yTitle: string;
  /** The series' colour encoding; its legend is drawn by the means' layer only. */
  color: Record<string, unknown>;
  /** band: a band (error bars for a series of one x); bars: error bars everywhere. */
  spread: 'band' | 'bars';
  centre: 'line' | 'point';
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
  return [
    ...(banded.length
      ? [
          {
            data: { values: banded },
            mark: { type: 'errorband', opacity: 0.2 },
            encoding: { x: o.x, y, y2: { field: 'upper' }, color: quiet },
          },
        ]
      : []),
    ...(barred.length
      ? [
          {
            data: { values: barred },
            mark: { type: 'errorbar', ticks: { size: 10 }, thickness: 2 },
            encoding: { x: o.x, y, y2: { field: 'upper' }, color: quiet },
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
        y: { field: 'mean', type: 'quantitative', title: o.yTitle, scale: { zero: false }, axis },
        color: o.color,
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

/** The colour of the series of metaplot and perfanalysis, in legend order; every chart of a page shares it. */
function seriesColor(data: SizeData, order: string[]) {
  const shown = new Set(data.summaries.map((s) => s.series));
  return {
    field: 'series',
    type: 'nominal' as const,
    title: 'model key',
    scale: { domain: order.filter((s) => shown.has(s)) },
    legend: {
      title: 'model key',
      symbolType: 'stroke',
      symbolStrokeWidth: 3,
      symbolOpacity: 1,
      labelLimit: 480,
      columns: shown.size > 6 ? 2 : 1,
    },
  };
}

/** The letters of each series at each size, beside its mean (letter-placement.ts), in its colour, over a white halo. */
function letterLayers(
  letters: SizeLetters[],
  summaries: SizeSummary[],
  x: Record<string, unknown>,
  yTitle: string,
  color: Record<string, unknown>,
  chart: ChartSize,
): Record<string, unknown>[] {
  if (letters.length === 0) return [];
  const values = placeLetters(letters, summaries, chart);
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

/**
 * metaplot: a criterion against nb_params, one line per series, mean over repeats ± 1 std; with
 * `letters` (size-letters.ts), each series' letters at each size where several were tested.
 */
export function metaplotSpec(
  data: SizeData,
  dataset: string,
  criterion: Criterion,
  series: Pick<SizeSeries, 'splitBy' | 'pooled' | 'order'>,
  letters: SizeLetters[] = [],
  size: { width: number; height: number } = { width: 560, height: 340 },
): TopLevelSpec {
  const sizes = data.points.map((v) => v.nb_params).filter((n) => n > 0);
  const logX = sizes.length > 0 && Math.max(...sizes) / Math.min(...sizes) >= 10;
  const nValues = [...new Set(data.summaries.map((s) => s.n))].sort((a, b) => a - b);
  const x = {
    field: 'nb_params',
    type: 'quantitative' as const,
    title: 'number of parameters',
    scale: logX ? { type: 'log' as const } : { zero: false },
  };
  const color = seriesColor(data, series.order);
  const first = `mean over repeats (n = ${nValues.join('–')} per point)${logX ? ', x on a log scale' : ''}`;
  return {
    $schema: SCHEMA,
    title: {
      text: `${criterion} against model size on ${dataset}`,
      subtitle: [
        ...spreadSubtitle(first, { ...series, single: data.summaries.some((s) => s.single) }),
        ...(letters.length ? SIZE_LETTERS_CAPTION : []),
      ],
    },
    ...size,
    layer: [
      ...meanAndSpreadLayers({
        summaries: data.summaries,
        x,
        yTitle: criterion,
        color,
        spread: 'band',
        centre: 'line',
      }),
      ...letterLayers(letters, data.summaries, x, criterion, color, { ...size, logX }),
    ],
  } as unknown as TopLevelSpec;
}

/**
 * perfanalysis: one page per dataset key and criterion: the mean curve (±1 std) of each series
 * against nb_params, and beside it the distribution over repeats as violins, one per size.
 */
export function perfanalysisPage(
  data: SizeData,
  dataset: string,
  criterion: Criterion,
  series: Pick<SizeSeries, 'splitBy' | 'pooled' | 'order'>,
  letters: SizeLetters[] = [],
): TopLevelSpec {
  const curve = metaplotSpec(data, dataset, criterion, series, letters, {
    width: 420,
    height: 300,
  }) as unknown as Record<string, unknown>;
  const { $schema: _s, title, ...curveChart } = curve;
  void _s;
  return {
    $schema: SCHEMA,
    title,
    hconcat: [
      curveChart,
      {
        data: { values: data.points },
        ...violinChart({
          title: 'distribution over repeats',
          field: 'value',
          series: 'series',
          column: 'nb_params',
          columnTitle: 'number of parameters',
          yTitle: criterion,
          color: seriesColor(data, series.order),
          width: 46,
          height: 300,
          values: data.points.map((p) => p.value),
        }),
      },
    ],
    resolve: { scale: { color: 'shared' } },
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
