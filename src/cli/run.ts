import { readConfigFile } from '../config/load.js';
import { generatePipelines } from '../pipelines/generate.js';
import { newRuns } from '../pipelines/facts.js';
import { checkDatabasePath, openSqliteStore } from '../store/sqlite.js';
import { runPool, workerSlots } from '../worker/pool.js';
import { BarReporter, LineReporter, type Reporter } from '../worker/reporter.js';
import { rememberDatabase } from './recent.js';
import { idRanges } from './format.js';

export interface RunCommandOptions {
  progress?: 'auto' | 'bar' | 'lines';
}

/** `mosaic run CONFIG DB`: validate everything, enqueue the runs, execute them with the worker pool. Returns the exit code. */
export async function runCommand(configPath: string, dbPath: string, options: RunCommandOptions = {}): Promise<number> {
  const config = readConfigFile(configPath);
  for (const w of config.warnings) console.error(`warning: ${w}`);
  const pipelines = generatePipelines(config);
  checkDatabasePath(dbPath, { create: true });
  const { preflight } = await import('../engine/preflight.js');
  await preflight(config);

  const store = openSqliteStore(dbPath, { create: true });
  try {
    const ids = store.enqueue(newRuns(config, pipelines));
    rememberDatabase(dbPath);
    const useBars = options.progress === 'bar' || (options.progress !== 'lines' && process.stdout.isTTY === true);
    const slots = workerSlots(config.monitor);
    const reporter: Reporter = useBars ? new BarReporter(ids.length, Math.min(slots.length, ids.length)) : new LineReporter();
    reporter.log(`${ids.length} runs queued (ids ${idRanges(ids)}) in ${dbPath}; ${Math.min(slots.length, ids.length)} workers`);
    const started = Date.now();
    let summary;
    try {
      summary = await runPool({ dbPath, store, monitor: config.monitor, total: ids.length, reporter });
    } finally {
      reporter.close();
    }
    const counts = store.counts();
    console.log(
      `finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary.done} done, ${summary.error} error, ${summary.failed} failed` +
        ` (database: ${counts.done} done, ${counts.error + counts.failed} in error of ${Object.values(counts).reduce((a, b) => a + b, 0)} runs). ` +
        `See: mosaic status ${dbPath}`,
    );
    return summary.error + summary.failed > 0 ? 3 : 0;
  } finally {
    store.close();
  }
}
