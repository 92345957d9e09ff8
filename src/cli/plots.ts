import { lossPage } from '../analysis/plots.js';
import { configPage } from '../analysis/config-plots.js';
import { readPlotConfig } from '../analysis/plot-config.js';
import { loadRuns, type LoadedRuns } from '../analysis/runs.js';
import { selectRuns, type RunSelector } from '../analysis/select.js';
import { idRanges, nameList, plural } from '../core/wording.js';
import { MosaicError } from '../core/errors.js';
import { outputFormat, writeFigure } from '../render/render.js';
import { openStore } from '../store/open.js';
import { metaplotFigure, perfanalysisFigures } from '../analysis/figures.js';

export interface PlotlossOptions extends RunSelector {
  plot_size: string;
  log?: boolean;
}

const filesWritten = (files: string[]) => (files.length > 1 ? `${files[0]} … ${files[files.length - 1]}` : files[0]!);

/** Every run of a database and its criteria, for analysis (read-only), and what the database lacks (its notice). */
async function readRuns(db: string): Promise<LoadedRuns & { notice: string[] }> {
  const store = await openStore(db, 'read');
  try {
    return { ...(await loadRuns(store)), notice: store.notice ? [`note: ${store.notice}`] : [] };
  } finally {
    await store.close();
  }
}

/** `mosaic plotloss DB OUT.pdf [RUNS_DIR] -id all -plot_size 3`: loss curves, plot_size² a page. */
export async function plotlossCommand(db: string, out: string, options: PlotlossOptions): Promise<string> {
  outputFormat(out);
  const k = Number(options.plot_size);
  if (!Number.isInteger(k) || k < 1 || k > 10)
    throw new MosaicError(`-plot_size must be an integer from 1 to 10, got "${options.plot_size}"`);
  const store = await openStore(db, 'read');
  let pages: ReturnType<typeof lossPage>[];
  const notes: string[] = [];
  try {
    const ids = await selectRuns(
      store,
      options.id === undefined &&
        options.request === undefined &&
        !options.param_name_value &&
        !options.param_name_value_low_threshold &&
        !options.param_name_value_high_threshold
        ? { id: 'all' }
        : options,
    );
    const wanted = new Set(ids);
    const runs = (await loadRuns(store)).runs.filter((r) => wanted.has(r.runId));
    const skipped = runs.filter((r) => r.status === 'error' || r.status === 'failed' || r.status === 'diverged');
    for (const status of ['error', 'failed', 'diverged'] as const) {
      const these = skipped.filter((r) => r.status === status);
      if (these.length)
        notes.push(
          `skipped ${plural(these.length, 'run')} ${status === 'diverged' ? 'that diverged' : status === 'failed' ? 'that failed (system)' : 'in error'}: ${idRanges(these.map((r) => r.runId))}`,
        );
    }
    const histories = await store.histories(runs.map((r) => r.runId));
    const plotted = runs
      .filter((r) => !skipped.includes(r))
      .map((run) => ({ run, history: histories.get(run.runId) ?? [] }));
    const empty = plotted.filter((p) => p.history.length === 0);
    if (empty.length)
      notes.push(
        `skipped ${plural(empty.length, 'run')} without any finished epoch: ${idRanges(empty.map((p) => p.run.runId))}`,
      );
    const drawn = plotted.filter((p) => p.history.length > 0);
    if (drawn.length === 0 && store.notice)
      throw new MosaicError(
        `there are no loss curves in ${db}: the original Mosaic kept them in .pt files, not in its database (metaplot, perfanalysis and compare work from its results)`,
      );
    if (drawn.length === 0) throw new MosaicError('none of the selected runs has a loss curve to draw');
    const perPage = k * k;
    const count = Math.ceil(drawn.length / perPage);
    pages = Array.from({ length: count }, (_, i) =>
      lossPage(
        drawn.slice(i * perPage, (i + 1) * perPage),
        { plotSize: k, logScale: options.log ?? false },
        i + 1,
        count,
      ),
    );
  } finally {
    await store.close();
  }
  const files = await writeFigure(out, pages);
  return [...notes, `${plural(pages.length, 'page')} written to ${filesWritten(files)}`].join('\n');
}

/** `mosaic metaplot DB OUT DATASET_KEY CRITERION [--pool NAMES]`. */
export async function metaplotCommand(
  db: string,
  out: string,
  datasetKey: string,
  criterionName: string,
  options: { pool?: string } = {},
): Promise<string> {
  outputFormat(out);
  const loaded = await readRuns(db);
  const figure = metaplotFigure(loaded, db, datasetKey, criterionName, nameList(options.pool));
  const files = await writeFigure(out, [figure.spec]);
  return [
    ...loaded.notice,
    ...figure.notes,
    `${criterionName} of ${plural(figure.runs, 'run')} on ${datasetKey} written to ${files[0]}`,
  ].join('\n');
}

/** `mosaic perfanalysis DB OUT.pdf`: for every dataset key and criterion, mean curve and violins against nb_params. */
export async function perfanalysisCommand(
  db: string,
  out: string,
  options: { criteria?: string[]; pool?: string } = {},
): Promise<string> {
  outputFormat(out);
  const loaded = await readRuns(db);
  const { pages, notes } = perfanalysisFigures(loaded, db, {
    ...(options.criteria ? { criteria: options.criteria } : {}),
    pool: nameList(options.pool),
  });
  if (pages.length === 0) throw new MosaicError(`nothing to draw: ${notes.join('; ')}`);
  const files = await writeFigure(
    out,
    pages.map((p) => p.spec),
  );
  return [
    ...loaded.notice,
    ...notes,
    `${plural(pages.length, 'page')} (dataset keys x criteria) written to ${filesWritten(files)}`,
  ].join('\n');
}

/** `mosaic perfanalysis_by_config PLOT.ini DB OUT`: the pages a plot INI describes. */
export async function perfanalysisByConfigCommand(plotIni: string, db: string, out: string): Promise<string> {
  outputFormat(out);
  const loaded = await readRuns(db);
  const sections = readPlotConfig(plotIni, loaded.criteria);
  const pages = sections.map((s) => ({ name: s.name, ...configPage(loaded, s, plotIni) }));
  const files = await writeFigure(
    out,
    pages.map((p) => p.spec),
  );
  return [
    ...loaded.notice,
    ...pages.flatMap((p) => p.notes.map((n) => `[${p.name}] ${n}`)),
    `${plural(pages.length, 'page')} (${sections.map((s) => s.name).join(', ')}) written to ${filesWritten(files)}`,
  ].join('\n');
}
