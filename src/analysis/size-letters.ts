import { compareRunsWithIds } from './compare.js';
import { factNamed } from './params.js';
import { criterionValue, type AnalysisRun, type Criteria, type Criterion } from './runs.js';
import type { SizeData, SizeSeries } from './size-series.js';

/** A series' letters at one size of metaplot and perfanalysis (compare.ts, `GroupStats.letters`). */
export interface SizeLetters {
  series: string;
  nb_params: number;
  letters: string;
}

/** The lines of a figure's subtitle that say what its letters mean (two: Vega overestimates the width of a long one). */
export const SIZE_LETTERS_CAPTION = [
  'letters at each size: series that share a letter do not differ significantly',
  '(Welch or paired t, Holm over the pairs at all sizes, α = 0.05)',
];

/**
 * The letters of each series at each size where at least two series have 2 runs or more: those
 * of `mosaic compare --at nb_params` (`compareRuns`, same grouping, splitting and `pool`) on the
 * runs the figure draws (`runs`: one dataset key's), so Holm corrects over the pairs at all its
 * sizes.
 */
export function sizeLetters(
  runs: AnalysisRun[],
  series: SizeSeries,
  data: SizeData,
  criterion: Criterion,
  criteria: Criteria,
  pool: string[],
): SizeLetters[] {
  const tested = new Map<number, number>();
  for (const s of data.summaries) if (s.n >= 2) tested.set(s.nb_params, (tested.get(s.nb_params) ?? 0) + 1);
  if (![...tested.values()].some((k) => k >= 2)) return [];
  const drawn = runs.filter(
    (r) => r.results !== null && criterionValue(r, criterion) !== null && series.seriesOf.has(r.runId),
  );
  // A name pooled for the database may name nothing in this dataset key's runs: compare would refuse it.
  const known = pool.filter((name) => drawn.some((r) => factNamed(r.facts, name, r.runId) !== undefined));
  const { report, runIds } = compareRunsWithIds(drawn, { criterion, criteria, at: 'nb_params', pool: known });
  const placeOf = new Map(
    drawn.map((r) => [r.runId, { series: series.seriesOf.get(r.runId)!, nb_params: r.results!.nb_params }]),
  );
  return lettersOfSeries(report.groups, runIds, placeOf);
}

/**
 * compare's groups as the figure's points: a group is the series and size of its runs, found by
 * run id (compare and the figure label their groups each their own way). Only at sizes (a
 * dataset and `at` value of compare) where at least two groups have letters. A size where a group
 * is not exactly the runs of one point gets no letters at all — half a display would mislead; it
 * does not happen when both split the same runs.
 */
export function lettersOfSeries(
  groups: { dataset: string; at: string | null; letters: string }[],
  runIds: number[][],
  placeOf: Map<number, { series: string; nb_params: number }>,
): SizeLetters[] {
  const pointSize = new Map<string, number>();
  const pointOf = (id: number) => {
    const p = placeOf.get(id);
    return p === undefined ? undefined : JSON.stringify([p.series, p.nb_params]);
  };
  for (const id of placeOf.keys()) pointSize.set(pointOf(id)!, (pointSize.get(pointOf(id)!) ?? 0) + 1);
  const levels = new Map<string, number[]>();
  groups.forEach((g, i) => {
    if (!g.letters) return;
    const level = JSON.stringify([g.dataset, g.at]);
    levels.set(level, [...(levels.get(level) ?? []), i]);
  });
  const out: SizeLetters[] = [];
  for (const members of levels.values()) {
    if (members.length < 2) continue;
    const rows: SizeLetters[] = [];
    const seen = new Set<string>();
    for (const i of members) {
      const points = new Set(runIds[i]!.map(pointOf));
      const [point] = points;
      if (points.size !== 1 || point === undefined || pointSize.get(point) !== runIds[i]!.length || seen.has(point))
        break;
      seen.add(point);
      const place = placeOf.get(runIds[i]![0]!)!;
      rows.push({ series: place.series, nb_params: place.nb_params, letters: groups[i]!.letters });
    }
    if (rows.length === members.length) out.push(...rows);
  }
  return out;
}
