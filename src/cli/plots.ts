import { lossPage, metaplotSpec, perfanalysisPage } from '../analysis/plots.js';
import { configPage } from '../analysis/config-plots.js';
import { readPlotConfig } from '../analysis/plot-config.js';
import { CRITERIA, criterion as parseCriterion, loadRuns, valueOf as valueOfCriterion, type AnalysisRun } from '../analysis/runs.js';
import { selectRuns, type RunSelector } from '../analysis/select.js';
import { MosaicError } from '../errors.js';
import { outputFormat, writeFigure } from '../render/render.js';
import { openSqliteStore } from '../store/sqlite.js';
import { idRanges } from './format.js';

export interface PlotlossOptions extends RunSelector {
  plot_size: string;
  log?: boolean;
}

/** Every run of a database, for analysis (read-only). */
function readRuns(db: string): AnalysisRun[] {
  const store = openSqliteStore(db, { create: false, readonly: true });
  try {
    return loadRuns(store);
  } finally {
    store.close();
  }
}

/** `mosaic plotloss DB OUT.pdf [RUNS_DIR] -id all -plot_size 3`: loss curves, plot_size² a page. */
export async function plotlossCommand(db: string, out: string, options: PlotlossOptions): Promise<string> {
  outputFormat(out);
  const k = Number(options.plot_size);
  if (!Number.isInteger(k) || k < 1 || k > 10) throw new MosaicError(`-plot_size must be an integer from 1 to 10, got "${options.plot_size}"`);
  const store = openSqliteStore(db, { create: false, readonly: true });
  let pages;
  const notes: string[] = [];
  try {
    const ids = selectRuns(store, options.id === undefined && options.request === undefined && !options.param_name_value && !options.param_name_value_low_threshold && !options.param_name_value_high_threshold ? { id: 'all' } : options);
    const wanted = new Set(ids);
    const runs = loadRuns(store).filter((r) => wanted.has(r.runId));
    const skipped = runs.filter((r) => r.status === 'error' || r.status === 'failed');
    if (skipped.length) notes.push(`skipped ${skipped.length} runs in error: ${idRanges(skipped.map((r) => r.runId))}`);
    const histories = store.histories(runs.map((r) => r.runId));
    const plotted = runs.filter((r) => !skipped.includes(r)).map((run) => ({ run, history: histories.get(run.runId) ?? [] }));
    const empty = plotted.filter((p) => p.history.length === 0);
    if (empty.length) notes.push(`skipped ${empty.length} runs without any finished epoch: ${idRanges(empty.map((p) => p.run.runId))}`);
    const drawn = plotted.filter((p) => p.history.length > 0);
    if (drawn.length === 0) throw new MosaicError('none of the selected runs has a loss curve to draw');
    const perPage = k * k;
    const count = Math.ceil(drawn.length / perPage);
    pages = Array.from({ length: count }, (_, i) => lossPage(drawn.slice(i * perPage, (i + 1) * perPage), { plotSize: k, logScale: options.log ?? false }, i + 1, count));
  } finally {
    store.close();
  }
  const files = await writeFigure(out, pages);
  return [...notes, `${pages.length} pages written to ${files.length > 1 ? `${files[0]} … ${files[files.length - 1]}` : files[0]}`].join('\n');
}

/** `mosaic metaplot DB OUT DATASET_KEY CRITERION`. */
export async function metaplotCommand(db: string, out: string, datasetKey: string, criterionName: string): Promise<string> {
  outputFormat(out);
  const runs = readRuns(db).filter((r) => r.status === 'done');
  const datasets = [...new Set(runs.map((r) => r.dataKey))].sort();
  let c;
  try {
    c = parseCriterion(criterionName);
  } catch {
    throw new MosaicError(`unknown criterion "${criterionName}"; valid: ${CRITERIA.join(', ')}`);
  }
  const mine = runs.filter((r) => r.dataKey === datasetKey);
  if (mine.length === 0) throw new MosaicError(`no finished run has dataset key "${datasetKey}"; dataset keys in ${db}: ${datasets.join(', ') || 'none'}`);
  const files = await writeFigure(out, [metaplotSpec(mine, datasetKey, c)]);
  return `${criterionName} of ${mine.length} runs on ${datasetKey} written to ${files[0]}`;
}

/** `mosaic perfanalysis DB OUT.pdf`: for every dataset key and criterion, mean curve and violins against nb_params. */
export async function perfanalysisCommand(db: string, out: string, criteria?: string[]): Promise<string> {
  outputFormat(out);
  const chosen = (criteria ?? CRITERIA.filter((c) => c !== 'nb_params')).map((c) => parseCriterion(c));
  const runs = readRuns(db).filter((r) => r.status === 'done');
  if (runs.length === 0) throw new MosaicError(`${db} has no finished run to analyse`);
  const pages = [];
  for (const dataset of [...new Set(runs.map((r) => r.dataKey))].sort()) {
    const mine = runs.filter((r) => r.dataKey === dataset);
    for (const c of chosen) {
      if (mine.some((r) => valueOfCriterion(r, c) !== null)) pages.push(perfanalysisPage(mine, dataset, c));
    }
  }
  const files = await writeFigure(out, pages);
  return `${pages.length} pages (dataset keys x criteria) written to ${files.length > 1 ? `${files[0]} … ${files[files.length - 1]}` : files[0]}`;
}

/** `mosaic perfanalysis_by_config PLOT.ini DB OUT`: the pages a plot INI describes. */
export async function perfanalysisByConfigCommand(plotIni: string, db: string, out: string): Promise<string> {
  outputFormat(out);
  const sections = readPlotConfig(plotIni);
  const runs = readRuns(db);
  const pages = sections.map((s) => configPage(runs, s, plotIni));
  const files = await writeFigure(out, pages);
  return `${pages.length} pages (${sections.map((s) => s.name).join(', ')}) written to ${files.length > 1 ? `${files[0]} … ${files[files.length - 1]}` : files[0]}`;
}
