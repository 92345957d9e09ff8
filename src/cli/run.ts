import { readConfigFile } from '../config/load.js';
import { refuseBadRace } from '../config/race.js';
import { formatLocation, MosaicError } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import type { ExperimentConfig } from '../config/types.js';
import { executePending, type ProgressMode } from '../experiment/execute.js';
import { WarmWorkers } from '../worker/pool.js';
import { isWorkerAlive } from '../core/host.js';
import { generatePipelines } from '../pipelines/generate.js';
import { DESIGN_FACT, newRuns, PAIRED, planSeeds } from '../pipelines/facts.js';
import { provenance } from '../experiment/provenance.js';
import { checkStoreLocation, openStore } from '../store/open.js';
import type { StoreReader } from '../store/types.js';
import { rememberDatabase } from './recent.js';
import { idRanges, plural } from '../core/wording.js';

export interface RunCommandOptions {
  progress?: ProgressMode;
  /** Queue the new runs even if the database holds an unfinished experiment. */
  force?: boolean;
  /** Give the new runs seeds that runs of the database already had (on purpose). */
  reuseSeeds?: boolean;
  /** Only queue the runs: workers (`mosaic worker`) train them. */
  queueOnly?: boolean;
  /** Build a run of each pipeline before queueing (`--no-check`: false). */
  check?: boolean;
  /** Wait for runs other workers hold once nothing is pending (`--no-wait`: false). */
  wait?: boolean;
}

/** `mosaic run CONFIG DB`: validate everything, enqueue the runs, execute them with the worker pool. Returns the exit code. */
export async function runCommand(configPath: string, dbPath: string, options: RunCommandOptions = {}): Promise<number> {
  const config = readConfigFile(configPath);
  for (const w of config.warnings) console.error(`warning: ${w}`);
  const pipelines = generatePipelines(config);
  refuseBadRace(config, pipelines.length / config.monitor.multiplicity);
  await checkStoreLocation(dbPath, 'create');
  // The workers load while the experiment is checked; they touch nothing until told to begin.
  const warm = options.queueOnly ? undefined : new WarmWorkers({ dbPath, monitor: config.monitor }, pipelines.length);
  try {
    return await checkAndRun(config, pipelines, dbPath, options, warm);
  } finally {
    warm?.dispose();
  }
}

async function checkAndRun(
  config: ExperimentConfig,
  pipelines: ReturnType<typeof generatePipelines>,
  dbPath: string,
  options: RunCommandOptions,
  warm: WarmWorkers | undefined,
): Promise<number> {
  const build = options.check ?? true;
  if (warm?.started) await warm.check(config.file, build);
  else await (await import('../engine/preflight/preflight.js')).preflight(config, { build });

  const store = await openStore(dbPath, 'create');
  try {
    if (config.monitor.race) await refuseRaceBeside(store, config);
    if (!options.force) await refuseUnfinished(store);
    await refuseOtherDesign(store, config);
    await store.setSetting('monitor', config.monitor);
    await store.setSetting('config', config.file);
    await store.setPaused(false);
    const seeds = planSeeds(config, pipelines.length, await store.usedSeeds(), options.reuseSeeds ?? false);
    if (seeds.note) console.error(`note: ${seeds.note}`);
    const ids = await store.enqueue(newRuns(config, pipelines, seeds), provenance(config));
    rememberDatabase(dbPath);
    if (options.queueOnly) {
      console.log(
        `${ids.length} runs queued (ids ${idRanges(ids)}) in ${store.location}. Train them with: mosaic worker ${store.location}`,
      );
      return EXIT.ok.code;
    }
    return await executePending({
      dbPath,
      store,
      monitor: config.monitor,
      progress: options.progress ?? 'auto',
      headline: `${ids.length} runs queued (ids ${idRanges(ids)}) in ${store.location}`,
      waitForOthers: options.wait === false ? 'none' : 'held',
      ...(warm ? { warm } : {}),
    });
  } finally {
    await store.close();
  }
}

/** A race decides on all the runs of its data keys: it runs in a database of its own. */
async function refuseRaceBeside(store: StoreReader, config: ExperimentConfig): Promise<void> {
  const held = (await store.allRunIds()).length;
  if (held > 0)
    throw new MosaicError(
      `${formatLocation({ file: config.file, section: 'MONITOR', key: 'multiplicity' })}: auto (a race), but ${store.location} already holds ${plural(held, 'run')}: a race decides on every run of its data keys, so it runs in a database of its own. Run it into a new database`,
    );
}

/** An earlier experiment that did not finish is resumed, not silently mixed with a new one. */
async function refuseUnfinished(store: StoreReader): Promise<void> {
  const dbPath = store.location;
  const counts = await store.counts();
  if (counts.pending + counts.running === 0) return;
  const alive = (await store.runningClaims()).filter((r) => isWorkerAlive(r.host, r.pid));
  if (alive.length > 0) {
    throw new MosaicError(
      `${dbPath} is in use: ${alive.length} runs are being trained right now. Wait for that experiment (mosaic status ${dbPath}), or pass --force to queue these runs beside it`,
    );
  }
  throw new MosaicError(
    `${dbPath} holds an unfinished experiment (${counts.pending} pending, ${counts.running} interrupted runs${(await store.isPaused()) ? ', paused' : ''}). ` +
      `Finish it with: mosaic resume ${dbPath} (or pass --force to queue the new runs beside it)`,
  );
}

/**
 * A database holds one design. Paired runs are compared pair by pair, on their common seeds;
 * independent repeats appended to them (or paired runs to independent ones) would make groups
 * that mix both, whose runs are neither all independent nor all paired. So `[MONITOR] paired`
 * must agree with the runs already in the database (a database without runs takes either).
 */
async function refuseOtherDesign(store: StoreReader, config: ExperimentConfig): Promise<void> {
  const all = await store.allRunIds();
  if (all.length === 0) return;
  const paired = await store.queryRunIds(
    `SELECT run_id FROM params WHERE param_name = '${DESIGN_FACT}' AND param_value = '${PAIRED}'`,
  );
  const where = formatLocation({ file: config.file, section: 'MONITOR', key: 'paired' });
  const db = store.location;
  if (config.monitor.paired && paired.length < all.length) {
    throw new MosaicError(
      `${where}: True, but ${db} holds ${all.length - paired.length} runs of independent repeats (paired = False): a database holds one design, so that no comparison mixes paired and independent runs. ` +
        `Run this experiment into another database, or leave paired out to append independent repeats`,
    );
  }
  if (!config.monitor.paired && paired.length > 0) {
    throw new MosaicError(
      `${where}: False, but ${db} holds ${paired.length} runs of a paired design (paired = True): a database holds one design, so that no comparison mixes paired and independent runs. ` +
        `Set paired = True to append paired repeats (with new common seeds), or run this experiment into another database`,
    );
  }
}
