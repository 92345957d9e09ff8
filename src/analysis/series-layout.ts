/**
 * How the many series of a figure stay readable: which panel each goes to (small multiples by the
 * parameters that split them), a colour per series with no colour twice in a panel, a legend that
 * names every entry, points that share an x moved apart (dodged), and a log axis for a swept value
 * that spans a decade or more. metaplot, perfanalysis and perfanalysis_by_config share it.
 */

/** A series label's parts (pooling.ts `seriesLabel`): its model keys, and the values it was split by. */
export interface SeriesParts {
  base: string;
  variant: string;
}

/** More series than this in one chart go to panels, one per variant, when that groups them. */
export const MAX_SERIES_PER_PANEL = 6;

export interface SeriesPanels {
  /** Panel titles in order; one empty title when the figure is one chart. */
  panels: string[];
  panelOf: Map<string, string>;
  /** The field and title that colour a series within its panel: the series itself, or its model keys across panels. */
  colourField: 'series' | 'model';
  colourOf: Map<string, string>;
  /** Colour values in legend order. */
  colours: string[];
}

/**
 * One chart when the series are few or cannot be grouped; otherwise a panel per variant
 * (`lr=1e-3, dropout=0.1`), its series coloured by model key, the same colour in every panel.
 */
export function seriesPanels(order: string[], parts: Map<string, SeriesParts>): SeriesPanels {
  const partOf = (s: string) => parts.get(s) ?? { base: s, variant: '' };
  const variants = [...new Set(order.map((s) => partOf(s).variant))];
  const bases = [...new Set(order.map((s) => partOf(s).base))];
  const facet = order.length > MAX_SERIES_PER_PANEL && variants.length > 1 && bases.length > 1;
  if (!facet)
    return {
      panels: [''],
      panelOf: new Map(order.map((s) => [s, ''])),
      colourField: 'series',
      colourOf: new Map(order.map((s) => [s, s])),
      colours: order,
    };
  return {
    panels: variants.map((v) => v || 'without a split'),
    panelOf: new Map(order.map((s) => [s, partOf(s).variant || 'without a split'])),
    colourField: 'model',
    colourOf: new Map(order.map((s) => [s, partOf(s).base])),
    colours: bases,
  };
}

const TABLEAU10 = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];
const TABLEAU20 = [
  '#4c78a8',
  '#9ecae9',
  '#f58518',
  '#ffbf79',
  '#54a24b',
  '#88d27a',
  '#b79a20',
  '#f2cf5b',
  '#439894',
  '#83bcb6',
  '#e45756',
  '#ff9d98',
  '#79706e',
  '#bab0ac',
  '#d67195',
  '#fcbfd2',
  '#b279a2',
  '#d6a5c9',
  '#9e765f',
  '#d8b5a5',
];

/** `n` distinct colours: Vega's own palettes up to 20, then hues evenly spaced, dark and light in turn. */
export function palette(n: number): string[] {
  if (n <= 10) return TABLEAU10.slice(0, n);
  if (n <= 20) return TABLEAU20.slice(0, n);
  return Array.from({ length: n }, (_, i) => `hsl(${((i * 360) / n).toFixed(2)}, 65%, ${i % 2 ? 62 : 40}%)`);
}

/** The colour encoding: a colour per value of `field`, a legend naming them all (Vega cuts at 30 otherwise). */
export function colourEncoding(field: string, title: string, domain: string[]) {
  return {
    field,
    type: 'nominal' as const,
    title,
    scale: { domain, range: palette(domain.length) },
    legend: {
      title,
      symbolType: 'stroke',
      symbolStrokeWidth: 3,
      symbolOpacity: 1,
      symbolLimit: 0,
      labelLimit: 480,
      columns: domain.length > 24 ? 3 : domain.length > 6 ? 2 : 1,
    },
  };
}

/** Whether positive values span a decade or more: they are then drawn on a log axis. */
export function spansDecade(values: number[]): boolean {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  return (
    positive.length === values.length && positive.length > 0 && Math.max(...positive) / Math.min(...positive) >= 10
  );
}

/** Pixels between the points of two series dodged at one x, and at most between the outermost two. */
const DODGE_STEP = 8;
const DODGE_SPAN = 40;
/** Pixels kept free at each end of an x axis, so that no point sits on the chart's edge. */
export const X_PADDING = 24;

export interface XScale {
  log: boolean;
  /** The distinct x values, when few: the axis marks them and no others (a swept parameter's own values). */
  ticks?: number[];
  /** The data's x range (before dodging) and the chart's width in pixels. */
  lo: number;
  hi: number;
  width: number;
}

/** The x scale of a chart of these x values: one value alone is centred in a range around it. */
export function xScaleOf(values: number[], width: number): XScale {
  const finite = values.filter(Number.isFinite);
  const log = spansDecade(finite);
  let [lo, hi] = finite.length ? [Math.min(...finite), Math.max(...finite)] : [0, 1];
  if (lo === hi)
    [lo, hi] = lo > 0 && log ? [lo / 2, hi * 2] : [lo - (Math.abs(lo) || 1) / 2, hi + (Math.abs(hi) || 1) / 2];
  const distinct = [...new Set(finite)].sort((a, b) => a - b);
  return { log, lo, hi, width, ...(distinct.length <= MAX_TICKS ? { ticks: distinct } : {}) };
}

/** More distinct x values than this get the axis's own ticks. */
const MAX_TICKS = 12;

/** How many data units (decades on a log axis) a pixel is. */
function unitsPerPixel(scale: XScale): number {
  const [lo, hi] = scale.log ? [Math.log10(scale.lo), Math.log10(scale.hi)] : [scale.lo, scale.hi];
  return (hi - lo) / Math.max(1, scale.width - 2 * X_PADDING);
}

/**
 * Each series' offset in pixels, so that points of one panel at the same x stand apart: the
 * series of a panel side by side, in legend order, when any x of the panel has two of them or
 * more; 0 otherwise. A series keeps its offset at every x, so its line keeps its shape.
 */
export function dodgeOffsets(
  points: { series: string; x: number | string }[],
  order: string[],
  panelOf: Map<string, string>,
): Map<string, number> {
  const out = new Map<string, number>();
  const byPanel = new Map<string, { series: string; x: number | string }[]>();
  for (const p of points) {
    const panel = panelOf.get(p.series) ?? '';
    byPanel.set(panel, [...(byPanel.get(panel) ?? []), p]);
  }
  for (const ps of byPanel.values()) {
    const seriesAt = new Map<string, Set<string>>();
    for (const p of ps) seriesAt.set(String(p.x), (seriesAt.get(String(p.x)) ?? new Set()).add(p.series));
    if (![...seriesAt.values()].some((s) => s.size > 1)) continue;
    const present = new Set(ps.map((p) => p.series));
    const mine = order.filter((s) => present.has(s));
    const step = mine.length > 1 ? Math.min(DODGE_STEP, DODGE_SPAN / (mine.length - 1)) : 0;
    mine.forEach((s, i) => {
      out.set(s, (i - (mine.length - 1) / 2) * step);
    });
  }
  return out;
}

/** `x` moved by `pixels` on the chart's axis. */
export function shifted(x: number, pixels: number, scale: XScale): number {
  if (pixels === 0) return x;
  const units = pixels * unitsPerPixel(scale);
  return scale.log ? x * 10 ** units : x + units;
}

/** The x scale of a dodged chart: its domain fixed to the data's range (offsets are computed against it), padded in pixels. */
export function xScaleSpec(scale: XScale): Record<string, unknown> {
  return {
    ...(scale.log ? { type: 'log' } : { zero: false }),
    domain: [scale.lo, scale.hi],
    nice: false,
    padding: X_PADDING,
  };
}

/** The x axis: ticks at the values drawn when they are few, written as integers with separators or as short numbers. */
export function xAxisSpec(scale: XScale): Record<string, unknown> {
  const integers = (scale.ticks ?? [scale.lo, scale.hi]).every(Number.isInteger);
  return {
    ...(scale.ticks ? { values: scale.ticks } : {}),
    ...(integers ? { tickMinStep: 1, format: ',d' } : scale.ticks ? { format: '~g' } : {}),
  };
}
