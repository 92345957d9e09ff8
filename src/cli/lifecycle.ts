import fs from 'node:fs';
import path from 'node:path';
import { readConfigFile } from '../config/load.js';
import type { MonitorSettings } from '../config/types.js';
import { MosaicError } from '../core/errors.js';
import { executePending, type ProgressMode } from '../experiment/execute.js';
import { displayLocation, isUrl } from '../store/location.js';
import { openStore } from '../store/open.js';
import { selectRuns, type RunSelector } from '../analysis/select.js';
import { chooseDatabase, rememberDatabase } from './recent.js';
import { idRanges, plural } from '../core/wording.js';
import { copyRunFolder } from '../engine/checkpoints/run-folder.js';
import type { RunFolderMove, StoreIdentity } from '../store/types.js';

/** What `pause FILE.json` writes and `resume FILE.json` reads. */
interface PauseFile {
  database: string;
  paused_at: string;
  pending: { run_id: number; pipeline: string }[];
  running: { run_id: number; pipeline: string }[];
}

const isJson = (p: string | undefined) => p?.toLowerCase().endsWith('.json');

/** "no run is running", "1 running run finishes (id 3)", "2 pending runs wait (ids 4-5)". */
function runsThat(runs: { runId: number }[], state: string, one: string, many: string): string {
  if (runs.length === 0) return `no run is ${state}`;
  const ids = runs.map((r) => r.runId);
  return `${plural(runs.length, `${state} run`)} ${runs.length === 1 ? one : many} (${runs.length === 1 ? 'id' : 'ids'} ${idRanges(ids)})`;
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** `mosaic pause [FILE.json|DB]`: workers stop claiming; running runs finish. */
export async function pauseCommand(target: string | undefined, dbOption: string | undefined): Promise<void> {
  const db = chooseDatabase(dbOption ?? (isJson(target) ? undefined : target));
  const store = await openStore(db, 'write');
  try {
    await store.setPaused(true);
    const runs = await store.overview();
    const pending = runs.filter((r) => r.status === 'pending');
    const running = runs.filter((r) => r.status === 'running');
    if (isJson(target)) {
      const file: PauseFile = {
        database: isUrl(db) ? displayLocation(db) : path.resolve(db),
        paused_at: new Date().toISOString(),
        pending: pending.map((r) => ({ run_id: r.runId, pipeline: r.pipeline })),
        running: running.map((r) => ({ run_id: r.runId, pipeline: r.pipeline })),
      };
      fs.writeFileSync(target!, JSON.stringify(file, null, 1));
    }
    console.log(
      `${store.location}: paused. ${capitalised(runsThat(running, 'running', 'finishes', 'finish'))}; ${runsThat(pending, 'pending', 'waits', 'wait')}.` +
        `${isJson(target) ? ` Written to ${target}.` : ''} Continue with: mosaic resume ${isJson(target) ? target : store.location}`,
    );
  } finally {
    await store.close();
  }
}

function databaseOf(target: string | undefined, dbOption: string | undefined): string {
  if (dbOption) return dbOption;
  if (isJson(target)) {
    let file: PauseFile;
    try {
      file = JSON.parse(fs.readFileSync(target!, 'utf8')) as PauseFile;
    } catch (e) {
      throw new MosaicError(`cannot read pause file ${target}: ${(e as Error).message}`);
    }
    if (typeof file.database !== 'string')
      throw new MosaicError(`${target} is not a file written by mosaic pause (no "database")`);
    return file.database;
  }
  return chooseDatabase(target);
}

/** `mosaic resume [FILE.json|DB]`: unpause, reclaim interrupted runs, train what is left. */
export async function resumeCommand(
  target: string | undefined,
  options: { db?: string; workers?: number; progress?: ProgressMode },
): Promise<number> {
  const db = databaseOf(target, options.db);
  const store = await openStore(db, 'write');
  try {
    const saved = await store.getSetting<MonitorSettings>('monitor');
    if (!saved)
      throw new MosaicError(`${store.location} has no experiment settings to resume (was it made by mosaic run?)`);
    const monitor = { ...saved, ...(options.workers ? { nb_processus: options.workers } : {}) };
    await store.setPaused(false);
    const failed = await store.retryFailedRuns();
    rememberDatabase(db);
    const retrying = failed.length
      ? `; ${plural(failed.length, 'failed run')} (${failed.length === 1 ? 'id' : 'ids'} ${idRanges(failed)}) continue from their last checkpoint`
      : '';
    return await executePending({
      dbPath: db,
      store,
      monitor,
      progress: options.progress ?? 'auto',
      headline: `resuming ${store.location}${retrying}`,
    });
  } finally {
    await store.close();
  }
}

/** `mosaic rerun CONFIG DB -epochs N <selector>`: continue selected runs from their checkpoints. */
export async function rerunCommand(
  configPath: string,
  db: string,
  options: RunSelector & { epochs?: string; progress?: ProgressMode; earlyStopping?: boolean },
): Promise<number> {
  const config = readConfigFile(configPath);
  const epochs = Number(options.epochs);
  if (options.epochs === undefined) throw new MosaicError('-epochs N is required: how many more epochs to train');
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new MosaicError(`-epochs must be a positive integer, got "${options.epochs}"`);
  const store = await openStore(db, 'write');
  try {
    const ids = await selectRuns(store, options);
    const busy = (await store.overview(ids)).filter((r) => r.status === 'running' || r.status === 'pending');
    if (busy.length)
      throw new MosaicError(
        `runs ${idRanges(busy.map((r) => r.runId))} are still ${busy[0]!.status}: rerun continues finished runs; wait, or resume the experiment`,
      );
    await store.extendRuns(ids, epochs, { earlyStopping: options.earlyStopping !== false });
    await store.setPaused(false);
    await store.setSetting('monitor', config.monitor);
    rememberDatabase(db);
    return await executePending({
      dbPath: db,
      store,
      monitor: config.monitor,
      progress: options.progress ?? 'auto',
      headline: `continuing ${ids.length} runs (ids ${idRanges(ids)}) for ${epochs} more epochs`,
    });
  } finally {
    await store.close();
  }
}

/**
 * `mosaic savedb COPY`: a consistent copy while workers write. The copy is a database of its own
 * (a new identity, `system.copy_of`), whose runs' folders are its own: with `--with-checkpoints`
 * the original's folders are copied into them, so the copy can continue its runs; without, they
 * stay empty and the original's are never touched by the copy. The copy appears whole or not at all.
 */
export async function savedbCommand(
  first: string,
  second: string | undefined,
  options: { db?: string; withCheckpoints?: boolean },
): Promise<void> {
  const [dbArg, copy] = second === undefined ? [options.db, first] : [first, second];
  const db = chooseDatabase(dbArg);
  if (isUrl(copy)) throw new MosaicError(`the copy is a SQLite file: ${displayLocation(copy)} is a URL`);
  if (fs.existsSync(copy)) throw new MosaicError(`${copy} already exists: choose a new file for the copy`);
  const partial = path.join(path.dirname(path.resolve(copy)), `.${path.basename(copy)}.${process.pid}.partial`);
  const store = await openStore(db, 'read');
  let original: StoreIdentity;
  try {
    if (store.notice)
      throw new MosaicError(
        `${db} was written by the original Mosaic: \`mosaic import ${db} ${copy}\` copies it into a Mosaic database`,
      );
    original = await store.identity();
    await store.copyTo(partial);
  } finally {
    await store.close();
  }
  try {
    const target = await openStore(partial, 'write');
    let made: Awaited<ReturnType<typeof target.becomeCopyOf>>;
    try {
      made = await target.becomeCopyOf(original, copy);
    } finally {
      await target.close();
    }
    const folders = options.withCheckpoints ? await copyRunFolders(made.moves, made.storeId, copy) : 0;
    const check = await openStore(partial, 'read');
    let summary: string;
    try {
      const result = await check.integrityCheck();
      if (result !== 'ok') throw new MosaicError(`the copy ${copy} failed its integrity check: ${String(result)}`);
      const counts = await check.counts();
      summary = `${counts.done} done, ${counts.running} running, ${counts.pending} pending runs at the time of the copy`;
    } finally {
      await check.close();
    }
    fs.renameSync(partial, copy);
    const where = options.withCheckpoints
      ? `with the checkpoints of ${plural(folders, 'run')}`
      : `without checkpoints (they stay with ${displayLocation(db)}; \`--with-checkpoints\` copies them, so that the copy can continue its runs)`;
    console.log(`${displayLocation(db)} copied to ${copy} (integrity ok), ${where}: ${summary}`);
  } finally {
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) fs.rmSync(f, { force: true });
  }
}

/** The original's run folders copied into the copy's, stamped as the copy's; returns how many there were. */
async function copyRunFolders(moves: RunFolderMove[], storeId: string, copy: string): Promise<number> {
  let copied = 0;
  for (const [i, m] of moves.entries()) {
    if (process.stderr.isTTY) process.stderr.write(`\rcopying run folders: ${i + 1}/${moves.length}`);
    if (!fs.existsSync(m.from)) continue;
    await copyRunFolder(m.from, m.to, { storeId, store: copy, runId: m.runId });
    copied++;
  }
  if (process.stderr.isTTY && moves.length) process.stderr.write('\n');
  return copied;
}
