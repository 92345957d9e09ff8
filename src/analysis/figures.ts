import type { TopLevelSpec } from 'vega-lite';
import { MosaicError } from '../core/errors.js';
import { displayLocation } from '../store/location.js';
import { metaplotSpec, perfanalysisPage } from './plots.js';
import { refuseUnknownPool } from './pooling.js';
import { CRITERIA, type LoadedRuns } from './runs.js';
import { sizeLetters } from './size-letters.js';
import { sizeData, sizeSeries } from './size-series.js';
import { usableRuns } from './usable.js';

/**
 * The figures of metaplot and perfanalysis from runs: what the commands draw and the dashboard
 * shows (one implementation; the CLI and the dashboard only present them).
 */

/** A figure and what was left out, split or pooled to draw it. */
export interface Figure {
  spec: TopLevelSpec;
  notes: string[];
}

/** The metaplot of `datasetKey`: what `mosaic metaplot` draws (the dashboard draws the same spec). */
export function metaplotFigure(
  { runs: all, criteria }: LoadedRuns,
  db: string,
  datasetKey: string,
  criterionName: string,
  pool: string[],
): Figure & { runs: number } {
  const c = criteria.parse(criterionName);
  const mine = all.filter((r) => r.dataKey === datasetKey);
  if (!mine.some((r) => r.status === 'done')) {
    const datasets = [...new Set(all.filter((r) => r.status === 'done').map((r) => r.dataKey))].sort();
    throw new MosaicError(
      `no finished run has dataset key "${datasetKey}"; dataset keys in ${displayLocation(db)}: ${datasets.join(', ') || 'none'}`,
    );
  }
  const usable = usableRuns(mine, c);
  if (usable.runs.length === 0)
    throw new MosaicError(`no finished run on ${datasetKey} has a value of ${c} (${usable.notes.join('; ')})`);
  refuseUnknownPool(usable.runs, pool);
  const series = sizeSeries(usable.runs, pool);
  const data = sizeData(usable.runs, series, c, criteria.better(c));
  const letters = sizeLetters(usable.runs, series, data, c, criteria, pool);
  return {
    spec: metaplotSpec(data, datasetKey, c, series, letters),
    notes: [...usable.notes, ...series.notes],
    runs: usable.runs.length,
  };
}

/**
 * The pages of perfanalysis, one per dataset key and criterion (`datasets`: only those), what
 * `mosaic perfanalysis` draws (the dashboard draws the same specs).
 */
export function perfanalysisFigures(
  { runs: all, criteria }: LoadedRuns,
  db: string,
  options: { criteria?: string[]; pool: string[]; datasets?: string[] },
): { pages: (Figure & { dataset: string; criterion: string })[]; notes: string[] } {
  const chosen = (options.criteria ?? [...CRITERIA.filter((c) => c !== 'nb_params'), ...criteria.metrics()]).map((c) =>
    criteria.parse(c),
  );
  if (!all.some((r) => r.status === 'done'))
    throw new MosaicError(`${displayLocation(db)} has no finished run to analyse`);
  refuseUnknownPool(
    all.filter((r) => r.status === 'done'),
    options.pool,
  );
  const datasets = [...new Set(all.map((r) => r.dataKey))].sort();
  const pages = [];
  const notes: string[] = [];
  for (const dataset of datasets) {
    if (options.datasets && !options.datasets.includes(dataset)) continue;
    const on = datasets.length > 1 ? `on ${dataset}: ` : '';
    const usable = usableRuns(all.filter((r) => r.dataKey === dataset));
    notes.push(...usable.notes.map((n) => on + n));
    if (usable.runs.length === 0) continue;
    const series = sizeSeries(usable.runs, options.pool);
    notes.push(...series.notes.map((n) => on + n));
    const [valueless, constant]: string[][] = [[], []];
    for (const c of chosen) {
      const data = sizeData(usable.runs, series, c, criteria.better(c));
      const values = new Set(data.points.map((p) => p.value));
      if (values.size === 0) valueless.push(c);
      else if (values.size === 1) constant.push(`${c} (${[...values][0]} in every run)`);
      else
        pages.push({
          dataset,
          criterion: c,
          spec: perfanalysisPage(
            data,
            dataset,
            c,
            series,
            sizeLetters(usable.runs, series, data, c, criteria, options.pool),
          ),
          notes: [],
        });
    }
    if (valueless.length) notes.push(`${on}skipped ${valueless.join(', ')}: no run has a value`);
    if (constant.length) notes.push(`${on}skipped ${constant.join(', ')}: the same value in every run`);
  }
  return { pages, notes };
}
