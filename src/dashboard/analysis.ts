import { compareFigure } from '../analysis/compare-plot.js';
import { compareAcrossDatasets } from '../analysis/across-datasets.js';
import type { AcrossDatasetsAnswer, CompareAnswer, RaceAnswer } from './api-types.js';
import { cdFigure } from '../analysis/cd-plot.js';
import type { TopLevelSpec } from 'vega-lite';
import { compareRuns, parseRope } from '../analysis/compare.js';
import { metaplotFigure, perfanalysisFigures } from '../analysis/figures.js';
import { nameList } from '../core/wording.js';
import { MosaicError } from '../core/errors.js';
import { BASE_CONFIG } from '../render/render.js';
import { RUN_STATUSES } from '../core/run-records.js';
import { HttpError, text, type Query } from './http-errors.js';
import { shortNames } from './param-labels.js';
import type { Snapshot } from './snapshot.js';

/**
 * The analysis views: the same functions as the commands (`compareRuns` with `loadRuns`'s runs as
 * `mosaic compare` calls it; the specs of `mosaic metaplot` and `mosaic perfanalysis`), so the
 * page shows what the commands print and draw.
 */

/** What the page's menus offer. */
export function choices(s: Snapshot) {
  const types = new Set<string>();
  for (const r of s.runs) for (const t of (r.facts.pipeline_scheme ?? '').split(',')) if (t.trim()) types.add(t.trim());
  const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
  // --at takes a parameter's short name (width finds mlp_brick_width; dropout, each model's dropout) or its full name: one entry each
  const at = [...new Set(shortNames(s.runs, s.varying).values())];
  return {
    statuses: RUN_STATUSES,
    criteria: s.criteria.all(),
    modelTypes: [...types],
    datasetKeys: sorted(s.runs.map((r) => r.dataKey)),
    doneDatasetKeys: sorted(s.runs.filter((r) => r.status === 'done').map((r) => r.dataKey)),
    modelKeys: sorted(s.runs.map((r) => r.modelKey)),
    params: [...s.varying, ...s.constant],
    varying: s.varying,
    at: ['nb_params', ...sorted(at)],
  };
}

/** `mosaic compare` with --criterion, --by, --at and --pool from the query. */
export function compareView(s: Snapshot, q: Query): CompareAnswer {
  const by = text(q, 'by');
  const at = text(q, 'at');
  const rope = parseRope(text(q, 'rope'));
  const report = compareRuns(s.runs, {
    criterion: s.criteria.parse(text(q, 'criterion') ?? 'test_loss'),
    criteria: s.criteria,
    ...(by ? { by } : {}),
    ...(at ? { at } : {}),
    pool: nameList(text(q, 'pool')),
    ...(rope !== undefined ? { rope } : {}),
  });
  return {
    ...report,
    verdictLines: report.verdicts.map((v) => `${v.dataset}: ${v.text}`),
    figure: compareFigure(report, rope !== undefined ? { rope } : {}),
    raceLine: s.race ? `race: ${s.race.line}` : null,
  };
}

/** The race, as `mosaic status` shows it (the snapshot reads it with the runs). */
export function raceAnswer(s: Snapshot): RaceAnswer {
  return { race: s.race };
}

/** `mosaic compare --across-datasets` with --criterion, --by and --pool from the query, and its diagram (`mosaic cdplot`). */
export function acrossDatasetsView(s: Snapshot, q: Query): AcrossDatasetsAnswer {
  const by = text(q, 'by');
  const report = compareAcrossDatasets(s.runs, {
    criterion: s.criteria.parse(text(q, 'criterion') ?? 'test_loss'),
    criteria: s.criteria,
    ...(by ? { by } : {}),
    pool: nameList(text(q, 'pool')),
    asked: 'the view across datasets',
  });
  return { ...report, figure: cdFigure(report) };
}

/** The PDF commands' defaults (fonts, sizes), tooltips, and zoom and pan on the curve's scales. */
function interactive(spec: TopLevelSpec): TopLevelSpec {
  const s = structuredClone(spec) as unknown as Record<string, unknown>;
  const zoom = { name: 'zoom', select: { type: 'interval' }, bind: 'scales' };
  const curve = (Array.isArray(s.hconcat) ? (s.hconcat as Record<string, unknown>[])[0] : s) as {
    layer?: Record<string, unknown>[];
  };
  const means = curve.layer?.[curve.layer.length - 1];
  if (means) means.params = [zoom];
  const config = (s.config ?? {}) as Record<string, unknown>;
  s.config = {
    ...BASE_CONFIG,
    ...config,
    mark: { tooltip: true },
    legend: { ...BASE_CONFIG.legend, orient: 'bottom' },
  };
  return s as unknown as TopLevelSpec;
}

function required(q: Query, name: string): string {
  const v = text(q, name);
  if (v === undefined) throw new HttpError(400, `"${name}" is required`);
  return v;
}

export function metaplotView(s: Snapshot, q: Query, db: string) {
  const fig = metaplotFigure(s, db, required(q, 'dataset'), required(q, 'criterion'), nameList(text(q, 'pool')));
  return { spec: interactive(fig.spec), notes: fig.notes };
}

export function perfanalysisView(s: Snapshot, q: Query, db: string) {
  const dataset = required(q, 'dataset');
  const c = required(q, 'criterion');
  const { pages, notes } = perfanalysisFigures(s, db, {
    criteria: [c],
    pool: nameList(text(q, 'pool')),
    datasets: [dataset],
  });
  if (!s.runs.some((r) => r.dataKey === dataset)) throw new MosaicError(`no run has dataset key "${dataset}"`);
  const page = pages[0];
  if (!page) throw new MosaicError(`nothing to draw for ${c} on ${dataset}: ${notes.join('; ') || 'no finished run'}`);
  return { spec: interactive(page.spec), notes };
}
