import { band, criterionRange, type Band } from './bands.js';
import { orderedLabels, seriesLabel, splitCells } from './pooling.js';
import { criterionValue, type AnalysisRun, type Better, type Criterion } from './runs.js';
import type { SeriesParts } from './series-layout.js';

/**
 * The series of metaplot and perfanalysis: a criterion against nb_params, one series per model
 * key, split by any parameter that differs among the runs of one model key and size (pooling.ts).
 */
export interface SizeSeries {
  /** Series label by run id. */
  seriesOf: Map<number, string>;
  /** Every series label, in legend order. */
  order: string[];
  /** Each label's model key and the values it was split by. */
  parts: Map<string, SeriesParts>;
  splitBy: string[];
  pooled: string[];
  notes: string[];
}

/** `runs`: the finished runs of one dataset key. */
export function sizeSeries(runs: AnalysisRun[], pool: string[]): SizeSeries {
  const measured = runs.filter((r) => r.results !== null);
  const placed = measured.map((run) => ({
    run,
    cell: JSON.stringify([run.dataKey, run.modelKey, run.results!.nb_params]),
    line: JSON.stringify([run.dataKey, run.modelKey]),
  }));
  const pooling = splitCells(placed, { pool, poolHint: '--pool' });
  const seriesOf = new Map(measured.map((r) => [r.runId, seriesLabel(r.modelKey, pooling.variant.get(r.runId)!)]));
  const order = orderedLabels(
    measured.map((r) => ({ base: r.modelKey, runId: r.runId })),
    pooling,
  );
  const parts = new Map(
    measured.map((r) => [seriesOf.get(r.runId)!, { base: r.modelKey, variant: pooling.variant.get(r.runId)! }]),
  );
  return { seriesOf, order, parts, splitBy: pooling.splitBy, pooled: pooling.pooled, notes: pooling.notes };
}

export interface SizePoint {
  series: string;
  nb_params: number;
  value: number;
}

export interface SizeSummary extends Band {
  series: string;
  nb_params: number;
  /** The series has this one size: drawn as an error bar, since a band of one point is invisible. */
  single: boolean;
}

export interface SizeData {
  points: SizePoint[];
  summaries: SizeSummary[];
  range: [number, number];
}

/** One value per run, and per series and size the mean ± 1 std clipped to the criterion's range. */
export function sizeData(runs: AnalysisRun[], series: SizeSeries, criterion: Criterion, better: Better): SizeData {
  const points = runs
    .filter((r) => r.results !== null && criterionValue(r, criterion) !== null && series.seriesOf.has(r.runId))
    .map((r) => ({
      series: series.seriesOf.get(r.runId)!,
      nb_params: r.results!.nb_params,
      value: criterionValue(r, criterion)!,
    }));
  const range = criterionRange(
    criterion,
    better,
    points.map((p) => p.value),
  );
  const cells = new Map<string, SizePoint[]>();
  for (const p of points) {
    const id = JSON.stringify([p.series, p.nb_params]);
    const cell = cells.get(id);
    if (cell) cell.push(p);
    else cells.set(id, [p]);
  }
  const sizesOf = new Map<string, number>();
  for (const [first] of cells.values()) sizesOf.set(first!.series, (sizesOf.get(first!.series) ?? 0) + 1);
  const summaries = [...cells.values()].map((ps) => ({
    series: ps[0]!.series,
    nb_params: ps[0]!.nb_params,
    single: sizesOf.get(ps[0]!.series) === 1,
    ...band(
      ps.map((p) => p.value),
      range,
    ),
  }));
  return { points, summaries, range };
}
