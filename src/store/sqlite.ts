import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MosaicError } from '../errors.js';
import { MIGRATIONS, SCHEMA_VERSION, SQLITE_SCHEMA } from './schema-sqlite.js';
import {
  RUN_STATUSES,
  packKey,
  type ClaimedRun,
  type EpochRecord,
  type ExperimentRecord,
  type FailedAttempt,
  type LoggedMetric,
  type NewRun,
  type RunOverview,
  type RunResults,
  type RunSpec,
  type RunStatus,
  type Store,
  type WorkerIdentity,
} from './types.js';

export interface OpenOptions {
  /** Create the file and tables when missing (run); otherwise the database must exist (status). */
  create: boolean;
  readonly?: boolean;
}

/**
 * Checks that `file` can be a Mosaic database before anything is written, so a bad path
 * fails with one clear line and nothing created.
 */
export function checkDatabasePath(file: string, options: OpenOptions): void {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) throw new MosaicError(`database ${file} is a directory; give a file name such as ${path.join(file, 'mosaic.db')}`);
  if (!stat) {
    if (!options.create) throw new MosaicError(`database ${file} does not exist`);
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) throw new MosaicError(`cannot create database ${file}: folder ${dir} does not exist`);
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      throw new MosaicError(`cannot create database ${file}: folder ${dir} is not writable`);
    }
    return;
  }
  if (!options.readonly) {
    // Root may write anywhere: a file without its owner's write bit is read-only by intent.
    if ((stat.mode & 0o200) === 0) throw new MosaicError(`database ${file} is read-only (chmod u+w ${file} to append to it)`);
    try {
      fs.accessSync(file, fs.constants.W_OK);
      fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
    } catch {
      throw new MosaicError(`database ${file} is read-only (the file or its folder cannot be written)`);
    }
  }
  if (stat.size > 0) {
    const head = Buffer.alloc(16);
    const fd = fs.openSync(file, 'r');
    try {
      fs.readSync(fd, head, 0, 16, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (head.toString('latin1') !== 'SQLite format 3\u0000') throw new MosaicError(`${file} is not a SQLite database`);
  }
}

export function openSqliteStore(file: string, options: OpenOptions): SqliteStore {
  checkDatabasePath(file, options);
  let db = connect(file, options);
  try {
    db.pragma('busy_timeout = 30000');
    const version = schemaVersion(db);
    if (version === undefined && (options.readonly || !options.create)) {
      throw new MosaicError(`${file} is not a Mosaic database (no mosaic_queue table)`);
    }
    if (version !== undefined && version > SCHEMA_VERSION) {
      throw new MosaicError(`${file} was written by a newer Mosaic (database schema ${version}; this Mosaic reads up to ${SCHEMA_VERSION}): upgrade Mosaic to use it`);
    }
    if (options.readonly && version !== undefined && version < SCHEMA_VERSION) {
      // Readers see the current schema too: migrate through a short-lived writer first.
      db.close();
      openSqliteStore(file, { create: false }).close();
      db = connect(file, options);
    }
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        if (version !== undefined) migrate(db, version);
        db.exec(SQLITE_SCHEMA);
        db.prepare(`INSERT OR IGNORE INTO system (param_name, param_value) VALUES ('next_run_id', '1'), ('store_id', ?)`).run(randomBytes(4).toString('hex'));
        db.prepare(`INSERT OR REPLACE INTO system (param_name, param_value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
      }).immediate();
    }
  } catch (e) {
    db.close();
    if (e instanceof MosaicError) throw e;
    throw new MosaicError(`cannot use database ${file}: ${(e as Error).message}`);
  }
  return new SqliteStore(db);
}

function connect(file: string, options: OpenOptions): Database.Database {
  try {
    return new Database(file, { readonly: options.readonly ?? false, fileMustExist: !options.create });
  } catch (e) {
    throw new MosaicError(`cannot open database ${file}: ${(e as Error).message}`);
  }
}

/** The schema version of a Mosaic database, or undefined for an empty file. */
function schemaVersion(db: Database.Database): number | undefined {
  if (!db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mosaic_queue'`).get()) return undefined;
  const row = db.prepare(`SELECT param_value FROM system WHERE param_name = 'schema_version'`).get() as { param_value: string } | undefined;
  return Number(row?.param_value ?? '1');
}

function migrate(db: Database.Database, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
}

interface OverviewRow {
  run_id: number;
  status: RunStatus;
  pipeline: string;
  return_status: string | null;
  traceback: string | null;
  epochs_target: number;
  device: string | null;
  epochs_done: number;
  has_results: number | null;
  train_loss: number;
  test_loss: number;
  train_acc: number | null;
  test_acc: number | null;
  nb_params: number;
  'duration(s)': number;
  epochs: number;
  overfit: number;
  trainability: number;
  slope: number;
  slope_std_plus: number;
  slope_std_minus: number;
  best_test_loss: number;
  best_epoch: number;
}

export class SqliteStore implements Store {
  private readonly stmts;

  constructor(readonly db: Database.Database) {
    this.stmts = {
      setStatus: db.prepare(`UPDATE runs SET status = ?, return_status = ? WHERE run_id = ?`),
      setFact: db.prepare(`INSERT INTO params (run_id, param_name, param_value) VALUES (?, ?, ?)
        ON CONFLICT (run_id, param_name) DO UPDATE SET param_value = excluded.param_value`),
      insertHistory: db.prepare(`INSERT INTO history (run_id, epoch, train_loss, test_loss, train_acc, test_acc, "duration(s)")
        VALUES (@run_id, @epoch, @train_loss, @test_loss, @train_acc, @test_acc, @duration_s)`),
      heartbeat: db.prepare(`UPDATE mosaic_queue SET heartbeat_at = ? WHERE run_id = ?`),
      history: db.prepare(`SELECT epoch, train_loss, test_loss, train_acc, test_acc, "duration(s)" AS duration_s FROM history WHERE run_id = ? ORDER BY epoch`),
      insertMetric: db.prepare(`INSERT OR REPLACE INTO history_metrics (run_id, epoch, name, value) VALUES (?, ?, ?, ?)`),
      metricInfo: db.prepare(`INSERT OR REPLACE INTO metric_info (name, better) VALUES (?, ?)`),
    };
  }

  private storeIdentity?: { storeId: string; store: string };

  /** Made once when the database was created, never changed: read once per connection. */
  identity(): { storeId: string; store: string } {
    return (this.storeIdentity ??= { storeId: this.getSystem('store_id')!, store: this.db.name });
  }

  /** The folder of this database's runs inside run_files_path: its file name and identity. */
  private runsFolder(): string {
    const { storeId, store } = this.identity();
    return `${path.basename(store).replace(/\.[^.]*$/, '') || 'mosaic'}-${storeId}`;
  }

  usedSeeds(): Set<number> {
    return new Set((this.db.prepare(`SELECT seed FROM mosaic_queue`).all() as { seed: number }[]).map((r) => r.seed));
  }

  enqueue(runs: NewRun[], experiment?: ExperimentRecord): number[] {
    const db = this.db;
    const insertRun = db.prepare(`INSERT INTO runs (run_id, status, pipeline, return_status) VALUES (?, 'pending', ?, NULL)`);
    const insertQueue = db.prepare(`INSERT INTO mosaic_queue (run_id, spec, seed, epochs_target, run_dir, pack_key) VALUES (?, ?, ?, ?, ?, ?)`);
    const folder = this.runsFolder();
    const insertFact = db.prepare(`INSERT OR REPLACE INTO params (run_id, param_name, param_value) VALUES (?, ?, ?)`);
    const tx = db.transaction((items: NewRun[]) => {
      let next = Number(this.getSystem('next_run_id') ?? '1');
      const maxId = (db.prepare(`SELECT MAX(run_id) AS m FROM runs`).get() as { m: number | null }).m ?? 0;
      next = Math.max(next, maxId + 1);
      const ids: number[] = [];
      const specCache = new Map<RunSpec, string>();
      const keyCache = new Map<RunSpec, string>();
      const experimentId = experiment ? this.recordExperiment(experiment, next, next + items.length - 1) : undefined;
      for (const run of items) {
        const id = next++;
        ids.push(id);
        let specJson = specCache.get(run.spec);
        if (specJson === undefined) {
          specJson = JSON.stringify(run.spec);
          specCache.set(run.spec, specJson);
        }
        insertRun.run(id, run.shortForm);
        let key = keyCache.get(run.spec);
        if (key === undefined) keyCache.set(run.spec, (key = packKey(run.spec)));
        insertQueue.run(id, specJson, run.seed, run.spec.process.epochs, path.join(run.spec.process.run_files_path, folder, `run_${id}`), key);
        for (const [name, value] of run.facts) insertFact.run(id, name, value);
        if (experimentId !== undefined) insertFact.run(id, 'experiment', String(experimentId));
        insertFact.run(id, 'status', 'pending');
      }
      this.setSystem('next_run_id', String(next));
      return ids;
    });
    return tx.immediate(runs);
  }

  private recordExperiment(e: ExperimentRecord, firstRunId: number, lastRunId: number): number {
    const r = this.db
      .prepare(
        `INSERT INTO mosaic_experiments (created_at, config_file, config_text, config_hash, user_files, mosaic_version, git_commit, first_run_id, last_run_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(Date.now() / 1000, e.configFile, e.configText, e.configHash, JSON.stringify(e.userFiles), e.mosaicVersion, e.gitCommit, firstRunId, lastRunId);
    return Number(r.lastInsertRowid);
  }

  claimNext(worker: WorkerIdentity): ClaimedRun | undefined {
    return this.claimPack(worker, 1)[0];
  }

  claimPack(worker: WorkerIdentity, max: number): ClaimedRun[] {
    const db = this.db;
    const columns = `r.run_id, r.pipeline, q.spec, q.seed, q.epochs_target, q.run_dir, q.pack_key, (SELECT COUNT(*) FROM history h WHERE h.run_id = r.run_id) AS epochs_done`;
    type Row = { run_id: number; pipeline: string; spec: string; seed: number; epochs_target: number; run_dir: string; pack_key: string; epochs_done: number };
    return db.transaction((): ClaimedRun[] => {
      if (this.isPaused()) return [];
      const first = db.prepare(`SELECT ${columns} FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'pending' ORDER BY r.run_id LIMIT 1`).get() as Row | undefined;
      if (!first) return [];
      const mates =
        max > 1
          ? (db
              .prepare(
                `SELECT ${columns} FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id
                 WHERE r.status = 'pending' AND q.pack_key = ? AND q.epochs_target = ? AND r.run_id > ? ORDER BY r.run_id`,
              )
              .all(first.pack_key, first.epochs_target, first.run_id) as Row[])
          : [];
      const rows = [first, ...mates.filter((m) => m.epochs_done === first.epochs_done).slice(0, max - 1)];
      return rows.map((row) => this.claimRow(row, worker));
    }).immediate();
  }

  releaseRuns(runIds: number[]): void {
    this.db.transaction(() => {
      for (const id of runIds) {
        this.setRunStatus(id, 'pending');
        this.db.prepare(`UPDATE mosaic_queue SET attempts = attempts - 1, worker = NULL WHERE run_id = ?`).run(id);
      }
    }).immediate();
  }

  private claimRow(
    row: { run_id: number; pipeline: string; spec: string; seed: number; epochs_target: number; run_dir: string; epochs_done: number },
    worker: WorkerIdentity,
  ): ClaimedRun {
    const now = Date.now() / 1000;
    this.setRunStatus(row.run_id, 'running');
    this.db
      .prepare(`UPDATE mosaic_queue SET worker = ?, host = ?, pid = ?, device = ?, claimed_at = ?, heartbeat_at = ?, finished_at = NULL, attempts = attempts + 1 WHERE run_id = ?`)
      .run(worker.id, worker.host, worker.pid, worker.device ?? null, now, now, row.run_id);
    if (worker.device) this.stmts.setFact.run(row.run_id, 'device', worker.device);
    const { storeId, store } = this.identity();
    return {
      runId: row.run_id,
      runDir: row.run_dir,
      owner: { storeId, store, runId: row.run_id },
      spec: JSON.parse(row.spec) as RunSpec,
      seed: row.seed,
      shortForm: row.pipeline,
      epochsDone: row.epochs_done,
      epochsTarget: row.epochs_target,
    };
  }

  recordEpoch(runId: number, epoch: EpochRecord, metrics: LoggedMetric[] = []): void {
    this.db.transaction(() => {
      this.stmts.insertHistory.run({ run_id: runId, ...epoch });
      for (const m of metrics) {
        this.stmts.insertMetric.run(runId, epoch.epoch, m.name, Number.isFinite(m.value) ? m.value : null);
        this.stmts.metricInfo.run(m.name, m.better);
      }
      this.stmts.heartbeat.run(Date.now() / 1000, runId);
    }).immediate();
  }

  finishRun(runId: number, r: RunResults, note?: string): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT OR REPLACE INTO run_results (run_id, train_loss, test_loss, train_acc, test_acc, nb_params, "duration(s)", epochs,
             overfit, trainability, slope, slope_std_plus, slope_std_minus, best_test_loss, best_epoch)
           VALUES (@run_id, @train_loss, @test_loss, @train_acc, @test_acc, @nb_params, @duration_s, @epochs,
             @overfit, @trainability, @slope, @slope_std_plus, @slope_std_minus, @best_test_loss, @best_epoch)`,
        )
        .run({ run_id: runId, ...r });
      this.setRunStatus(runId, 'done', note ?? 'ok');
      this.stmts.setFact.run(runId, 'epochs', String(r.epochs));
      this.db.prepare(`UPDATE mosaic_queue SET finished_at = ? WHERE run_id = ?`).run(Date.now() / 1000, runId);
    }).immediate();
  }

  failRun(runId: number, status: 'error' | 'failed' | 'diverged', message: string, traceback: string): RunStatus {
    return this.db.transaction((): RunStatus => {
      const now = Date.now() / 1000;
      const q = this.db.prepare(`SELECT attempts, (SELECT COUNT(*) FROM history h WHERE h.run_id = ?) AS epochs FROM mosaic_queue WHERE run_id = ?`).get(runId, runId) as { attempts: number; epochs: number };
      this.db
        .prepare(`INSERT INTO mosaic_failures (run_id, attempt, epoch, status, message, traceback, at) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(runId, q.attempts, q.epochs, status, message, traceback, now);
      const kept = this.db.prepare(`SELECT epochs FROM run_results WHERE run_id = ?`).get(runId) as { epochs: number } | undefined;
      this.db.prepare(`UPDATE mosaic_queue SET finished_at = ? WHERE run_id = ?`).run(now, runId);
      if (kept) {
        // A continuation failed: the run's finished results stand; it can be continued again.
        this.setRunStatus(runId, 'done', 'ok');
        this.stmts.setFact.run(runId, 'epochs', String(kept.epochs));
        this.db.prepare(`UPDATE mosaic_queue SET epochs_target = ? WHERE run_id = ?`).run(q.epochs, runId);
        return 'done';
      }
      this.setRunStatus(runId, status, message);
      this.stmts.setFact.run(runId, 'traceback', traceback);
      if (status === 'diverged') this.stmts.setFact.run(runId, 'diverged_epoch', String(q.epochs + 1));
      return status;
    }).immediate();
  }

  releaseRunsOfDeadWorker(workerId: string, message: string, retries: number): { failed: number[]; retried: number[] } {
    return this.db.transaction(() => {
      const failed: number[] = [];
      const retried: number[] = [];
      for (const id of this.runningOf(workerId)) {
        const { attempts } = this.db.prepare(`SELECT attempts FROM mosaic_queue WHERE run_id = ?`).get(id) as { attempts: number };
        if (attempts <= retries) {
          this.setRunStatus(id, 'pending');
          this.stmts.setFact.run(id, 'last_failure', message);
          retried.push(id);
        } else if (this.failRun(id, 'failed', message, message) === 'failed') {
          failed.push(id);
        }
      }
      return { failed, retried };
    }).immediate();
  }

  requeueRunsOfWorker(workerId: string): number[] {
    return this.db.transaction(() => {
      const ids = this.runningOf(workerId);
      for (const id of ids) this.setRunStatus(id, 'pending');
      return ids;
    }).immediate();
  }

  private setRunStatus(runId: number, status: RunStatus, returnStatus: string | null = null): void {
    this.stmts.setStatus.run(status, returnStatus, runId);
    this.stmts.setFact.run(runId, 'status', status);
  }

  heartbeat(runId: number): void {
    this.stmts.heartbeat.run(Date.now() / 1000, runId);
  }

  reclaimStale(isAlive: (host: string, pid: number) => boolean, staleSeconds: number): number[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare(`SELECT r.run_id, q.host, q.pid, q.heartbeat_at FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`)
        .all() as { run_id: number; host: string | null; pid: number | null; heartbeat_at: number | null }[];
      const now = Date.now() / 1000;
      const stale = rows.filter((r) => r.host === null || r.pid === null || !isAlive(r.host, r.pid) || now - (r.heartbeat_at ?? 0) > staleSeconds);
      for (const r of stale) this.setRunStatus(r.run_id, 'pending');
      return stale.map((r) => r.run_id);
    }).immediate();
  }

  setPaused(paused: boolean): void {
    this.setSystem('paused', paused ? String(Date.now() / 1000) : '');
  }

  isPaused(): boolean {
    return Boolean(this.getSystem('paused'));
  }

  setSetting(name: string, value: unknown): void {
    this.setSystem(`setting.${name}`, JSON.stringify(value));
  }

  getSetting<T>(name: string): T | undefined {
    const raw = this.getSystem(`setting.${name}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  extendRuns(runIds: number[], moreEpochs: number): void {
    this.db.transaction(() => {
      const update = this.db.prepare(
        `UPDATE mosaic_queue SET epochs_target = (SELECT COUNT(*) FROM history h WHERE h.run_id = mosaic_queue.run_id) + ?, finished_at = NULL WHERE run_id = ?`,
      );
      const target = this.db.prepare(`SELECT epochs_target FROM mosaic_queue WHERE run_id = ?`);
      for (const id of runIds) {
        update.run(moreEpochs, id);
        this.setRunStatus(id, 'pending');
        this.stmts.setFact.run(id, 'epochs', String((target.get(id) as { epochs_target: number }).epochs_target));
        this.db.prepare(`DELETE FROM params WHERE run_id = ? AND param_name = 'traceback'`).run(id);
      }
    }).immediate();
  }

  deleteRuns(runIds: number[]): string[] {
    return this.db.transaction(() => {
      const dirs: string[] = [];
      const dirOf = this.db.prepare(`SELECT run_dir FROM mosaic_queue WHERE run_id = ?`);
      for (const id of runIds) {
        const row = dirOf.get(id) as { run_dir: string | null } | undefined;
        if (row?.run_dir) dirs.push(row.run_dir);
        for (const table of ['runs', 'params', 'run_results', 'history', 'history_metrics', 'mosaic_queue', 'mosaic_failures']) {
          this.db.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(id);
        }
      }
      return dirs;
    }).immediate();
  }

  metricDirections(): Record<string, 'higher' | 'lower'> {
    const rows = this.db.prepare(`SELECT name, better FROM metric_info`).all() as { name: string; better: 'higher' | 'lower' }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.better]));
  }

  queryRunIds(sql: string): number[] {
    let stmt: Database.Statement;
    try {
      stmt = this.db.prepare(sql);
    } catch (e) {
      throw new MosaicError(`the request is not valid SQL: ${(e as Error).message}`);
    }
    if (!stmt.readonly) throw new MosaicError('the request must only read (a SELECT returning run ids)');
    if (!stmt.reader) throw new MosaicError('the request returns no rows: write a SELECT returning run ids');
    let rows: unknown[][];
    try {
      rows = stmt.raw(true).all() as unknown[][];
    } catch (e) {
      throw new MosaicError(`the request failed: ${(e as Error).message}`);
    }
    const ids = rows.map((r) => Number(r[0]));
    const bad = rows.find((r, i) => !Number.isInteger(ids[i]));
    if (bad) throw new MosaicError(`the request must return run ids in its first column, got ${JSON.stringify(bad[0])}`);
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  allRunIds(): number[] {
    return (this.db.prepare(`SELECT run_id FROM runs ORDER BY run_id`).all() as { run_id: number }[]).map((r) => r.run_id);
  }

  facts(runId: number): Record<string, string> {
    const rows = this.db.prepare(`SELECT param_name, param_value FROM params WHERE run_id = ?`).all(runId) as { param_name: string; param_value: string }[];
    return Object.fromEntries(rows.map((r) => [r.param_name, r.param_value]));
  }

  updateFacts(changes: { runId: number; name: string; value: string }[]): void {
    this.db.transaction(() => {
      for (const c of changes) this.stmts.setFact.run(c.runId, c.name, c.value);
    }).immediate();
  }

  copyTo(file: string): void {
    try {
      this.db.prepare('VACUUM INTO ?').run(file);
    } catch (e) {
      throw new MosaicError(`cannot copy the database to ${file}: ${(e as Error).message}`);
    }
  }

  private runningOf(workerId: string): number[] {
    return (
      this.db
        .prepare(`SELECT r.run_id FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE q.worker = ? AND r.status = 'running'`)
        .all(workerId) as { run_id: number }[]
    ).map((r) => r.run_id);
  }

  history(runId: number): EpochRecord[] {
    return this.stmts.history.all(runId) as EpochRecord[];
  }

  histories(runIds: number[]): Map<number, EpochRecord[]> {
    const out = new Map<number, EpochRecord[]>(runIds.map((id) => [id, []]));
    const stmt = this.db.prepare(
      `SELECT run_id, epoch, train_loss, test_loss, train_acc, test_acc, "duration(s)" AS duration_s FROM history ORDER BY run_id, epoch`,
    );
    for (const row of stmt.iterate() as IterableIterator<EpochRecord & { run_id: number }>) {
      const list = out.get(row.run_id);
      if (list) list.push({ epoch: row.epoch, train_loss: row.train_loss, test_loss: row.test_loss, train_acc: row.train_acc, test_acc: row.test_acc, duration_s: row.duration_s });
    }
    return out;
  }

  allFacts(): Map<number, Record<string, string>> {
    const out = new Map<number, Record<string, string>>();
    for (const row of this.db.prepare(`SELECT run_id, param_name, param_value FROM params`).iterate() as IterableIterator<{ run_id: number; param_name: string; param_value: string }>) {
      let facts = out.get(row.run_id);
      if (!facts) out.set(row.run_id, (facts = {}));
      facts[row.param_name] = row.param_value;
    }
    return out;
  }

  overview(runIds?: number[]): RunOverview[] {
    const rows = this.db
      .prepare(
        `SELECT r.run_id, r.status, r.pipeline, r.return_status, p.param_value AS traceback, q.epochs_target, q.device,
           (SELECT COUNT(*) FROM history h WHERE h.run_id = r.run_id) AS epochs_done,
           rr.run_id AS has_results, rr.train_loss, rr.test_loss, rr.train_acc, rr.test_acc, rr.nb_params, rr."duration(s)",
           rr.epochs, rr.overfit, rr.trainability, rr.slope, rr.slope_std_plus, rr.slope_std_minus, rr.best_test_loss, rr.best_epoch
         FROM runs r
         LEFT JOIN mosaic_queue q ON q.run_id = r.run_id
         LEFT JOIN params p ON p.run_id = r.run_id AND p.param_name = 'traceback'
         LEFT JOIN run_results rr ON rr.run_id = r.run_id
         ORDER BY r.run_id`,
      )
      .all() as OverviewRow[];
    const wanted = runIds ? new Set(runIds) : undefined;
    const metrics = this.lastMetrics();
    const failures = this.lastFailures();
    return rows
      .filter((r) => !wanted || wanted.has(r.run_id))
      .map((r) => ({
        metrics: metrics.get(r.run_id) ?? {},
        lastFailure: failures.get(r.run_id) ?? null,
        runId: r.run_id,
        status: r.status,
        pipeline: r.pipeline,
        returnStatus: r.return_status,
        traceback: r.traceback,
        epochsDone: r.epochs_done,
        epochsTarget: r.epochs_target ?? 0,
        device: r.device,
        results:
          r.has_results === null
            ? null
            : {
                train_loss: r.train_loss,
                test_loss: r.test_loss,
                train_acc: r.train_acc,
                test_acc: r.test_acc,
                nb_params: r.nb_params,
                duration_s: r['duration(s)'],
                epochs: r.epochs,
                overfit: r.overfit,
                trainability: r.trainability,
                slope: r.slope,
                slope_std_plus: r.slope_std_plus,
                slope_std_minus: r.slope_std_minus,
                best_test_loss: r.best_test_loss,
                best_epoch: r.best_epoch,
              },
      }));
  }

  /** The value of each logged metric at the last epoch that logged it, by run. */
  private lastMetrics(): Map<number, Record<string, number | null>> {
    const out = new Map<number, Record<string, number | null>>();
    const rows = this.db
      .prepare(
        `SELECT m.run_id, m.name, m.value FROM history_metrics m
         JOIN (SELECT run_id, name, MAX(epoch) AS epoch FROM history_metrics GROUP BY run_id, name) last
           ON last.run_id = m.run_id AND last.name = m.name AND last.epoch = m.epoch`,
      )
      .iterate() as IterableIterator<{ run_id: number; name: string; value: number | null }>;
    for (const row of rows) {
      let mine = out.get(row.run_id);
      if (!mine) out.set(row.run_id, (mine = {}));
      mine[row.name] = row.value;
    }
    return out;
  }

  private lastFailures(): Map<number, FailedAttempt> {
    const rows = this.db
      .prepare(`SELECT run_id, attempt, epoch, status, message, at FROM mosaic_failures ORDER BY at, rowid`)
      .all() as (FailedAttempt & { run_id: number })[];
    return new Map(rows.map(({ run_id, ...f }) => [run_id, f]));
  }

  counts(): Record<RunStatus, number> {
    const out = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of this.db.prepare(`SELECT status, COUNT(*) AS n FROM runs GROUP BY status`).all() as { status: RunStatus; n: number }[]) {
      out[row.status] = row.n;
    }
    return out;
  }

  runningClaims(): { host: string; pid: number }[] {
    return this.db.prepare(`SELECT q.host, q.pid FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`).all() as { host: string; pid: number }[];
  }

  integrityCheck(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  busyWorkers(): number {
    return (this.db.prepare(`SELECT COUNT(DISTINCT q.worker) n FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`).get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private getSystem(name: string): string | undefined {
    return (this.db.prepare(`SELECT param_value FROM system WHERE param_name = ?`).get(name) as { param_value: string } | undefined)?.param_value;
  }

  private setSystem(name: string, value: string): void {
    this.db.prepare(`INSERT OR REPLACE INTO system (param_name, param_value) VALUES (?, ?)`).run(name, value);
  }
}
