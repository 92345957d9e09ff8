import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MosaicError } from '../core/errors.js';
import type { SqlConnection, SqlRunner } from './connection.js';
import { ClaimLostError } from './errors.js';
import { databaseName } from './location.js';
import { type Claim, type ClaimedRun, type ExperimentRecord, type FailedAttempt, type OpenRun, type RunOverview, type Store, type RunFolderMove, type StoreIdentity, type WorkerIdentity } from './types.js';
import { RUN_STATUSES, type EpochRecord, type LoggedMetric, type RunStatus } from '../core/run-records.js';
import { type RunResults } from '../core/result-fields.js';
import { packKey, type NewRun, type RunSpec } from '../core/run-spec.js';

/** Statements put this many rows in one INSERT (well under both backends' limits on parameters). */
const ROWS_PER_INSERT = 200;

const RESULT_COLUMNS = [
  'train_loss', 'test_loss', 'train_acc', 'test_acc', 'nb_params', 'duration_s', 'epochs',
  'overfit', 'trainability', 'slope', 'slope_std_plus', 'slope_std_minus', 'best_test_loss', 'best_epoch',
] as const satisfies readonly (keyof RunResults)[];

const HISTORY_COLUMNS = ['epoch', 'train_loss', 'test_loss', 'train_acc', 'test_acc', 'duration_s'] as const satisfies readonly (keyof EpochRecord)[];

/** Our field names → the original's column names (`duration(s)` must be quoted in SQL). */
const column = (name: string) => (name === 'duration_s' ? '"duration(s)"' : name);

/** The history columns under our field names. */
const HISTORY_SELECT = HISTORY_COLUMNS.map((c) => `${column(c)} AS ${c}`).join(', ');

/** `INSERT … ON CONFLICT (keys) DO UPDATE`: the same upsert in SQLite and PostgreSQL. */
function upsert(table: string, keys: string[], columns: readonly string[]): string {
  const all = [...keys, ...columns].map(column);
  const set = columns.map((c) => `${column(c)} = excluded.${column(c)}`).join(', ');
  return `INSERT INTO ${table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')}) ON CONFLICT (${keys.join(', ')}) DO ${set ? `UPDATE SET ${set}` : 'NOTHING'}`;
}

const SET_FACT = upsert('params', ['run_id', 'param_name'], ['param_value']);
const INSERT_HISTORY = `INSERT INTO history (run_id, ${HISTORY_COLUMNS.map(column).join(', ')}) VALUES (?, ${HISTORY_COLUMNS.map(() => '?').join(', ')})`;
const SET_SYSTEM = upsert('system', ['param_name'], ['param_value']);

/** Many rows in few statements: one round trip per ROWS_PER_INSERT rows, not per row. */
async function insertMany(tx: SqlRunner, table: string, columns: readonly string[], rows: unknown[][], conflict = ''): Promise<void> {
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + ROWS_PER_INSERT);
    await tx.run(`INSERT INTO ${table} (${columns.map(column).join(', ')}) VALUES ${chunk.map(() => one).join(', ')}${conflict}`, chunk.flat());
  }
}

/** `(?, ?, …)`: n placeholders, for `IN`. */
const placeholders = (n: number) => `(${Array.from({ length: n }, () => '?').join(', ')})`;

/** `run_id IN (?, ?, …)` over ids in chunks. */
async function forEachChunk(ids: number[], fn: (inList: string, chunk: number[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < ids.length; i += ROWS_PER_INSERT) {
    const chunk = ids.slice(i, i + ROWS_PER_INSERT);
    await fn(placeholders(chunk.length), chunk);
  }
}

interface ClaimRow {
  run_id: number;
  pipeline: string;
  spec: string;
  seed: number;
  epochs_target: number;
  run_dir: string;
  pack_key: string;
  epochs_done: number;
}

type OverviewRow = {
  run_id: number;
  status: RunStatus;
  pipeline: string;
  return_status: string | null;
  traceback: string | null;
  epochs_target: number | null;
  device: string | null;
  epochs_done: number;
  has_results: number | null;
} & { [K in (typeof RESULT_COLUMNS)[number]]: number };

/**
 * The store over SQL: the same statements on SQLite and PostgreSQL (the connection translates
 * placeholders and supplies the database's clock and row locks). Every change is one transaction.
 */
export class SqlStore implements Store {
  private storeIdentity?: StoreIdentity;

  constructor(
    private readonly conn: SqlConnection,
    /** The database as a user names it, without any password. */
    readonly location: string,
  ) {}

  private get now(): string {
    return this.conn.dialect.now;
  }

  /** Made once when the database was created, never changed: read once per connection. */
  async identity(): Promise<StoreIdentity> {
    if (!this.storeIdentity) {
      const copyOf = await this.getSystem(this.conn, 'copy_of');
      this.storeIdentity = { storeId: (await this.getSystem(this.conn, 'store_id'))!, store: this.location, ...(copyOf ? { copyOf } : {}) };
    }
    return this.storeIdentity;
  }

  async becomeCopyOf(original: StoreIdentity, copyLocation: string): Promise<{ storeId: string; moves: RunFolderMove[] }> {
    const storeId = randomBytes(4).toString('hex');
    const folder = `${databaseName(copyLocation) || 'mosaic'}-${storeId}`;
    const moves = await this.conn.transaction(async (tx) => {
      const at = (await tx.get<{ t: number }>(`SELECT ${this.now} AS t`))!.t;
      const copyOf = `${original.store} (database ${original.storeId}) at ${new Date(Number(at) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}`;
      await tx.run(SET_SYSTEM, ['store_id', storeId]);
      await tx.run(SET_SYSTEM, ['copy_of', copyOf]);
      const rows = await tx.all<{ run_id: number; run_dir: string | null }>(`SELECT run_id, run_dir FROM mosaic_queue WHERE run_dir IS NOT NULL ORDER BY run_id`);
      const moved: RunFolderMove[] = [];
      for (const r of rows) {
        // <run_files_path>/<db>-<store id>/run_<id>: the same place, in a folder of the copy's own.
        const to = path.join(path.dirname(path.dirname(r.run_dir!)), folder, path.basename(r.run_dir!));
        await tx.run(`UPDATE mosaic_queue SET run_dir = ? WHERE run_id = ?`, [to, r.run_id]);
        moved.push({ runId: r.run_id, from: r.run_dir!, to });
      }
      return moved;
    });
    this.storeIdentity = undefined;
    return { storeId, moves };
  }

  /** The folder of this database's runs inside run_files_path: its name and identity. */
  private async runsFolder(): Promise<string> {
    const { storeId, store } = await this.identity();
    return `${databaseName(store) || 'mosaic'}-${storeId}`;
  }

  async usedSeeds(): Promise<Set<number>> {
    return new Set((await this.conn.all<{ seed: number }>(`SELECT seed FROM mosaic_queue`)).map((r) => r.seed));
  }

  async enqueue(runs: NewRun[], experiment?: ExperimentRecord): Promise<number[]> {
    const folder = await this.runsFolder();
    return this.conn.transaction(async (tx) => {
      // Taking the counter's row first makes concurrent enqueues wait for each other.
      await tx.run(`UPDATE system SET param_value = param_value WHERE param_name = 'next_run_id'`);
      const next = Number((await this.getSystem(tx, 'next_run_id')) ?? '1');
      const maxId = (await tx.get<{ m: number | null }>(`SELECT MAX(run_id) AS m FROM runs`))?.m ?? 0;
      const first = Math.max(next, maxId + 1);
      const ids = runs.map((_, i) => first + i);
      const experimentId = experiment ? await this.recordExperiment(tx, experiment, first, first + runs.length - 1) : undefined;
      const specs = new Map<RunSpec, { json: string; key: string }>();
      const runRows: unknown[][] = [];
      const queueRows: unknown[][] = [];
      const factRows = new Map<string, unknown[]>();
      runs.forEach((run, i) => {
        const id = ids[i]!;
        let spec = specs.get(run.spec);
        if (!spec) specs.set(run.spec, (spec = { json: JSON.stringify(run.spec), key: packKey(run.spec) }));
        runRows.push([id, 'pending', run.shortForm, null]);
        queueRows.push([id, spec.json, run.seed, run.spec.process.epochs, path.join(run.spec.process.run_files_path, folder, `run_${id}`), spec.key]);
        const facts: [string, string][] = [...run.facts, ...(experimentId !== undefined ? [['experiment', String(experimentId)] as [string, string]] : []), ['status', 'pending']];
        for (const [name, value] of facts) factRows.set(`${id}\u0000${name}`, [id, name, value]);
      });
      await insertMany(tx, 'runs', ['run_id', 'status', 'pipeline', 'return_status'], runRows);
      await insertMany(tx, 'mosaic_queue', ['run_id', 'spec', 'seed', 'epochs_target', 'run_dir', 'pack_key'], queueRows);
      await insertMany(tx, 'params', ['run_id', 'param_name', 'param_value'], [...factRows.values()]);
      await tx.run(SET_SYSTEM, ['next_run_id', String(first + runs.length)]);
      return ids;
    });
  }

  private async recordExperiment(tx: SqlRunner, e: ExperimentRecord, firstRunId: number, lastRunId: number): Promise<number> {
    const row = await tx.get<{ experiment_id: number }>(
      `INSERT INTO mosaic_experiments (created_at, config_file, config_text, config_hash, user_files, mosaic_version, git_commit, first_run_id, last_run_id)
       VALUES (${this.now}, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING experiment_id`,
      [e.configFile, e.configText, e.configHash, JSON.stringify(e.userFiles), e.mosaicVersion, e.gitCommit, firstRunId, lastRunId],
    );
    return Number(row!.experiment_id);
  }

  async claimPack(worker: WorkerIdentity, max: number, alone?: ReadonlySet<string>): Promise<ClaimedRun[]> {
    const identity = await this.identity();
    const epochsDone = `(SELECT COUNT(*) FROM history h WHERE h.run_id = r.run_id)`;
    const columns = `r.run_id, r.pipeline, q.spec, q.seed, q.epochs_target, q.run_dir, q.pack_key, ${epochsDone} AS epochs_done`;
    const from = `FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'pending'`;
    const lock = this.conn.dialect.skipLocked;
    return this.conn.transaction(async (tx) => {
      if (await this.pausedIn(tx)) return [];
      const first = await tx.get<ClaimRow>(`SELECT ${columns} ${from} ORDER BY r.run_id LIMIT 1${lock}`);
      if (!first) return [];
      const mates =
        max > 1 && !alone?.has(first.pack_key)
          ? await tx.all<ClaimRow>(
              `SELECT ${columns} ${from} AND q.pack_key = ? AND q.epochs_target = ? AND r.run_id > ? AND ${epochsDone} = ? ORDER BY r.run_id LIMIT ?${lock}`,
              [first.pack_key, first.epochs_target, first.run_id, first.epochs_done, max - 1],
            )
          : [];
      const claimed: ClaimedRun[] = [];
      for (const row of [first, ...mates]) claimed.push(await this.claimRow(tx, row, worker, identity));
      return claimed;
    });
  }

  private async claimRow(tx: SqlRunner, row: ClaimRow, worker: WorkerIdentity, identity: StoreIdentity): Promise<ClaimedRun> {
    await this.setRunStatus(tx, row.run_id, 'running');
    await tx.run(
      `UPDATE mosaic_queue SET worker = ?, host = ?, pid = ?, device = ?, claimed_at = ${this.now}, heartbeat_at = ${this.now}, finished_at = NULL, attempts = attempts + 1 WHERE run_id = ?`,
      [worker.id, worker.host, worker.pid, worker.device ?? null, row.run_id],
    );
    await tx.run(SET_FACT, [row.run_id, 'host', worker.host]);
    if (worker.device) await tx.run(SET_FACT, [row.run_id, 'device', worker.device]);
    return {
      runId: row.run_id,
      workerId: worker.id,
      runDir: row.run_dir,
      owner: { storeId: identity.storeId, store: identity.store, runId: row.run_id, ...(identity.copyOf ? { copyOf: identity.copyOf } : {}) },
      spec: JSON.parse(row.spec) as RunSpec,
      seed: Number(row.seed),
      shortForm: row.pipeline,
      epochsDone: Number(row.epochs_done),
      epochsTarget: row.epochs_target,
      packKey: row.pack_key,
    };
  }

  async releaseRuns(claims: Claim[]): Promise<void> {
    await this.conn.transaction(async (tx) => {
      for (const c of claims) {
        if (!(await this.holds(tx, c))) continue;
        await this.setRunStatus(tx, c.runId, 'pending');
        await tx.run(`UPDATE mosaic_queue SET attempts = attempts - 1, worker = NULL WHERE run_id = ?`, [c.runId]);
      }
    });
  }

  /** Whether the worker still holds the run (running, claimed by it); locks the run's rows until the transaction ends. */
  private async holds(tx: SqlRunner, claim: Claim): Promise<boolean> {
    const row = await tx.get<{ worker: string | null; status: RunStatus }>(
      `SELECT q.worker, r.status FROM mosaic_queue q JOIN runs r ON r.run_id = q.run_id WHERE q.run_id = ?${this.conn.dialect.forUpdate}`,
      [claim.runId],
    );
    return row?.status === 'running' && row.worker === claim.workerId;
  }

  private async mustHold(tx: SqlRunner, claim: Claim): Promise<void> {
    if (!(await this.holds(tx, claim))) throw new ClaimLostError(claim.runId, claim.workerId);
  }

  async recordEpoch(claim: Claim, epoch: EpochRecord, metrics: LoggedMetric[] = []): Promise<void> {
    await this.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      await tx.run(INSERT_HISTORY, [claim.runId, ...HISTORY_COLUMNS.map((c) => epoch[c])]);
      for (const m of metrics) {
        await tx.run(upsert('history_metrics', ['run_id', 'epoch', 'name'], ['value']), [claim.runId, epoch.epoch, m.name, Number.isFinite(m.value) ? m.value : null]);
        await tx.run(upsert('metric_info', ['name'], ['better']), [m.name, m.better]);
      }
      await tx.run(`UPDATE mosaic_queue SET heartbeat_at = ${this.now} WHERE run_id = ?`, [claim.runId]);
    });
  }

  async recordFacts(claim: Claim, facts: Record<string, string>): Promise<void> {
    await this.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      for (const [name, value] of Object.entries(facts)) await tx.run(SET_FACT, [claim.runId, name, value]);
    });
  }

  async finishRun(claim: Claim, r: RunResults, note?: string): Promise<void> {
    await this.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      await tx.run(upsert('run_results', ['run_id'], RESULT_COLUMNS), [claim.runId, ...RESULT_COLUMNS.map((c) => r[c])]);
      await this.setRunStatus(tx, claim.runId, 'done', note ?? 'ok');
      // `epochs` stays the design's (configured, or raised by rerun): early stopping never splits groups.
      const { epochs_target } = (await tx.get<{ epochs_target: number | null }>(`SELECT epochs_target FROM mosaic_queue WHERE run_id = ?`, [claim.runId]))!;
      const target = epochs_target ?? r.epochs;
      await tx.run(SET_FACT, [claim.runId, 'epochs', String(Math.max(target, r.epochs))]);
      await tx.run(SET_FACT, [claim.runId, 'epochs_done', String(r.epochs)]);
      if (r.epochs < target) await tx.run(SET_FACT, [claim.runId, 'stopped_epoch', String(r.epochs)]);
      else await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'stopped_epoch'`, [claim.runId]);
      await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`, [claim.runId]);
      await tx.run(`UPDATE mosaic_queue SET finished_at = ${this.now} WHERE run_id = ?`, [claim.runId]);
    });
  }

  async failRun(claim: Claim, status: 'error' | 'failed' | 'diverged', message: string, traceback: string): Promise<RunStatus> {
    return this.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      return this.failRunIn(tx, claim.runId, status, message, traceback);
    });
  }

  private async failRunIn(tx: SqlRunner, runId: number, status: 'error' | 'failed' | 'diverged', message: string, traceback: string): Promise<RunStatus> {
    const q = (await tx.get<{ attempts: number; epochs: number }>(
      `SELECT attempts, (SELECT COUNT(*) FROM history h WHERE h.run_id = ?) AS epochs FROM mosaic_queue WHERE run_id = ?`,
      [runId, runId],
    ))!;
    await tx.run(`INSERT INTO mosaic_failures (run_id, attempt, epoch, status, message, traceback, at) VALUES (?, ?, ?, ?, ?, ?, ${this.now})`, [
      runId,
      q.attempts,
      q.epochs,
      status,
      message,
      traceback,
    ]);
    const kept = await tx.get<{ epochs: number }>(`SELECT epochs FROM run_results WHERE run_id = ?`, [runId]);
    await tx.run(`UPDATE mosaic_queue SET finished_at = ${this.now} WHERE run_id = ?`, [runId]);
    if (kept) {
      // A continuation failed: the run's finished results stand; it can be continued again.
      await this.setRunStatus(tx, runId, 'done', 'ok');
      const before = await tx.get<{ v: string }>(`SELECT param_value AS v FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`, [runId]);
      await tx.run(SET_FACT, [runId, 'epochs', before?.v ?? String(kept.epochs)]);
      await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`, [runId]);
      await tx.run(`UPDATE mosaic_queue SET epochs_target = ? WHERE run_id = ?`, [q.epochs, runId]);
      return 'done';
    }
    await this.setRunStatus(tx, runId, status, message);
    await tx.run(SET_FACT, [runId, 'traceback', traceback]);
    if (status === 'diverged') await tx.run(SET_FACT, [runId, 'diverged_epoch', String(Number(q.epochs) + 1)]);
    return status;
  }

  async releaseRunsOfDeadWorker(workerId: string, message: string, retries: number): Promise<{ failed: number[]; retried: number[] }> {
    return this.conn.transaction(async (tx) => {
      const failed: number[] = [];
      const retried: number[] = [];
      for (const { run_id: id, attempts } of await this.runningOf(tx, workerId)) {
        if (attempts <= retries) {
          await this.setRunStatus(tx, id, 'pending');
          await tx.run(SET_FACT, [id, 'last_failure', message]);
          retried.push(id);
        } else if ((await this.failRunIn(tx, id, 'failed', message, message)) === 'failed') {
          failed.push(id);
        }
      }
      return { failed, retried };
    });
  }

  async retryFailedRuns(): Promise<number[]> {
    return this.conn.transaction(async (tx) => {
      const ids = (await tx.all<{ run_id: number }>(`SELECT run_id FROM runs WHERE status = 'failed' ORDER BY run_id`)).map((r) => r.run_id);
      for (const id of ids) {
        await this.setRunStatus(tx, id, 'pending');
        // A fresh count of claims: `retries` applies again; the failed attempts stay in mosaic_failures.
        await tx.run(`UPDATE mosaic_queue SET attempts = 0, worker = NULL, finished_at = NULL WHERE run_id = ?`, [id]);
        await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'traceback'`, [id]);
      }
      return ids;
    });
  }

  async requeueRunsOfWorker(workerId: string): Promise<number[]> {
    return this.conn.transaction(async (tx) => {
      const ids = (await this.runningOf(tx, workerId)).map((r) => r.run_id);
      for (const id of ids) await this.setRunStatus(tx, id, 'pending');
      return ids;
    });
  }

  private async setRunStatus(tx: SqlRunner, runId: number, status: RunStatus, returnStatus: string | null = null): Promise<void> {
    await tx.run(`UPDATE runs SET status = ?, return_status = ? WHERE run_id = ?`, [status, returnStatus, runId]);
    await tx.run(SET_FACT, [runId, 'status', status]);
  }

  async heartbeat(claims: Claim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.conn.transaction(async (tx) => {
      for (const c of claims) await tx.run(`UPDATE mosaic_queue SET heartbeat_at = ${this.now} WHERE run_id = ? AND worker = ?`, [c.runId, c.workerId]);
    });
  }

  async reclaimStale(isAlive: (host: string, pid: number) => boolean, staleSeconds: number): Promise<number[]> {
    return this.conn.transaction(async (tx) => {
      const rows = await tx.all<{ run_id: number; host: string | null; pid: number | null; silent: number }>(
        `SELECT r.run_id, q.host, q.pid, ${this.now} - COALESCE(q.heartbeat_at, 0) AS silent
         FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running' ORDER BY r.run_id${this.conn.dialect.forUpdate}`,
      );
      const stale = rows.filter((r) => r.host === null || r.pid === null || !isAlive(r.host, r.pid) || r.silent > staleSeconds);
      for (const r of stale) await this.setRunStatus(tx, r.run_id, 'pending');
      return stale.map((r) => r.run_id);
    });
  }

  async setPaused(paused: boolean): Promise<void> {
    const since = paused ? `CAST(${this.now} AS TEXT)` : `''`;
    await this.conn.run(`INSERT INTO system (param_name, param_value) VALUES ('paused', ${since}) ON CONFLICT (param_name) DO UPDATE SET param_value = excluded.param_value`);
  }

  isPaused(): Promise<boolean> {
    return this.pausedIn(this.conn);
  }

  private async pausedIn(runner: SqlRunner): Promise<boolean> {
    return Boolean(await this.getSystem(runner, 'paused'));
  }

  async setSetting(name: string, value: unknown): Promise<void> {
    await this.conn.run(SET_SYSTEM, [`setting.${name}`, JSON.stringify(value)]);
  }

  async getSetting<T>(name: string): Promise<T | undefined> {
    const raw = await this.getSystem(this.conn, `setting.${name}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async extendRuns(runIds: number[], moreEpochs: number, options: { earlyStopping?: boolean } = {}): Promise<void> {
    await this.conn.transaction(async (tx) => {
      for (const id of runIds) {
        if (options.earlyStopping === false) {
          const { spec } = (await tx.get<{ spec: string }>(`SELECT spec FROM mosaic_queue WHERE run_id = ?`, [id]))!;
          const parsed = JSON.parse(spec) as RunSpec;
          if (parsed.process.early_stopping !== undefined) {
            delete parsed.process.early_stopping;
            await tx.run(`UPDATE mosaic_queue SET spec = ? WHERE run_id = ?`, [JSON.stringify(parsed), id]);
          }
        }
        await tx.run(
          `UPDATE mosaic_queue SET epochs_target = (SELECT COUNT(*) FROM history h WHERE h.run_id = mosaic_queue.run_id) + ?, finished_at = NULL WHERE run_id = ?`,
          [moreEpochs, id],
        );
        await this.setRunStatus(tx, id, 'pending');
        // What `epochs` goes back to if the continuation fails (an early-stopped run's is not its epochs done).
        await tx.run(
          `INSERT INTO params (run_id, param_name, param_value) SELECT run_id, 'epochs_before_rerun', param_value FROM params WHERE run_id = ? AND param_name = 'epochs' ON CONFLICT (run_id, param_name) DO NOTHING`,
          [id],
        );
        const { epochs_target } = (await tx.get<{ epochs_target: number }>(`SELECT epochs_target FROM mosaic_queue WHERE run_id = ?`, [id]))!;
        await tx.run(SET_FACT, [id, 'epochs', String(epochs_target)]);
        await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'traceback'`, [id]);
      }
    });
  }

  async deleteRuns(runIds: number[]): Promise<{ runId: number; runDir: string }[]> {
    return this.conn.transaction(async (tx) => {
      const dirs: { runId: number; runDir: string }[] = [];
      await forEachChunk(runIds, async (inList, chunk) => {
        const rows = await tx.all<{ run_id: number; run_dir: string | null }>(`SELECT run_id, run_dir FROM mosaic_queue WHERE run_id IN ${inList} ORDER BY run_id`, chunk);
        for (const r of rows) if (r.run_dir) dirs.push({ runId: r.run_id, runDir: r.run_dir });
        for (const table of ['runs', 'params', 'run_results', 'history', 'history_metrics', 'mosaic_queue', 'mosaic_failures']) {
          await tx.run(`DELETE FROM ${table} WHERE run_id IN ${inList}`, chunk);
        }
      });
      return dirs;
    });
  }

  async metricDirections(): Promise<Record<string, 'higher' | 'lower'>> {
    const rows = await this.conn.all<{ name: string; better: 'higher' | 'lower' }>(`SELECT name, better FROM metric_info`);
    return Object.fromEntries(rows.map((r) => [r.name, r.better]));
  }

  async queryRunIds(sql: string): Promise<number[]> {
    const values = await this.conn.readOnlyColumn(sql);
    const ids = values.map(Number);
    const bad = values.find((_, i) => !Number.isInteger(ids[i]));
    if (bad !== undefined) throw new MosaicError(`the request must return run ids in its first column, got ${JSON.stringify(bad)}`);
    return [...new Set(ids)].sort((a, b) => a - b);
  }

  async allRunIds(): Promise<number[]> {
    return (await this.conn.all<{ run_id: number }>(`SELECT run_id FROM runs ORDER BY run_id`)).map((r) => r.run_id);
  }

  async facts(runId: number): Promise<Record<string, string>> {
    const rows = await this.conn.all<{ param_name: string; param_value: string }>(`SELECT param_name, param_value FROM params WHERE run_id = ?`, [runId]);
    return Object.fromEntries(rows.map((r) => [r.param_name, r.param_value]));
  }

  async updateFacts(changes: { runId: number; name: string; value: string }[]): Promise<void> {
    await this.conn.transaction(async (tx) => {
      for (const c of changes) await tx.run(SET_FACT, [c.runId, c.name, c.value]);
    });
  }

  copyTo(file: string): Promise<void> {
    return this.conn.copyTo(file);
  }

  private runningOf(tx: SqlRunner, workerId: string): Promise<{ run_id: number; attempts: number }[]> {
    return tx.all(
      `SELECT r.run_id, q.attempts FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE q.worker = ? AND r.status = 'running' ORDER BY r.run_id${this.conn.dialect.forUpdate}`,
      [workerId],
    );
  }

  history(runId: number): Promise<EpochRecord[]> {
    return this.conn.all<EpochRecord>(`SELECT ${HISTORY_SELECT} FROM history WHERE run_id = ? ORDER BY epoch`, [runId]);
  }

  async histories(runIds: number[]): Promise<Map<number, EpochRecord[]>> {
    const out = new Map<number, EpochRecord[]>(runIds.map((id) => [id, []]));
    const rows = await this.conn.all<EpochRecord & { run_id: number }>(
      `SELECT run_id, ${HISTORY_SELECT} FROM history ORDER BY run_id, epoch`,
    );
    for (const { run_id, ...record } of rows) out.get(run_id)?.push(record);
    return out;
  }

  async allFacts(): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>();
    for (const row of await this.conn.all<{ run_id: number; param_name: string; param_value: string }>(`SELECT run_id, param_name, param_value FROM params`)) {
      let facts = out.get(row.run_id);
      if (!facts) out.set(row.run_id, (facts = {}));
      facts[row.param_name] = row.param_value;
    }
    return out;
  }

  async overview(runIds?: number[]): Promise<RunOverview[]> {
    // A few runs (a run page, a rerun's selection): only theirs are read; otherwise all at once.
    const few = runIds !== undefined && runIds.length > 0 && runIds.length <= ROWS_PER_INSERT ? runIds : undefined;
    const rows = await this.conn.all<OverviewRow>(
      `SELECT r.run_id, r.status, r.pipeline, r.return_status, p.param_value AS traceback, q.epochs_target, q.device,
         (SELECT COUNT(*) FROM history h WHERE h.run_id = r.run_id) AS epochs_done, rr.run_id AS has_results,
         ${RESULT_COLUMNS.map((c) => `rr.${column(c)} AS ${c}`).join(', ')}
       FROM runs r
       LEFT JOIN mosaic_queue q ON q.run_id = r.run_id
       LEFT JOIN params p ON p.run_id = r.run_id AND p.param_name = 'traceback'
       LEFT JOIN run_results rr ON rr.run_id = r.run_id
       ${few ? `WHERE r.run_id IN ${placeholders(few.length)}` : ''}
       ORDER BY r.run_id`,
      few ?? [],
    );
    const wanted = runIds ? new Set(runIds) : undefined;
    const metrics = await this.lastMetrics(few);
    const failures = await this.lastFailures(few);
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
        epochsDone: Number(r.epochs_done),
        epochsTarget: r.epochs_target ?? 0,
        device: r.device,
        results: r.has_results === null ? null : (Object.fromEntries(RESULT_COLUMNS.map((c) => [c, r[c]])) as unknown as RunResults),
      }));
  }

  async openRuns(): Promise<OpenRun[]> {
    const rows = await this.conn.all<{ run_id: number; status: 'pending' | 'running'; pipeline: string; epochs_target: number | null; device: string | null; heartbeat_at: number | null; epochs_done: number }>(
      `SELECT r.run_id, r.status, r.pipeline, q.epochs_target, q.device, q.heartbeat_at,
         (SELECT COUNT(*) FROM history h WHERE h.run_id = r.run_id) AS epochs_done
       FROM runs r LEFT JOIN mosaic_queue q ON q.run_id = r.run_id
       WHERE r.status IN ('pending', 'running') ORDER BY r.run_id`,
    );
    const last = new Map(
      (
        await this.conn.all<EpochRecord & { run_id: number }>(
          `SELECT h.run_id, ${HISTORY_COLUMNS.map((c) => `h.${column(c)} AS ${c}`).join(', ')} FROM history h JOIN runs r ON r.run_id = h.run_id
           WHERE r.status = 'running' AND h.epoch = (SELECT MAX(h2.epoch) FROM history h2 WHERE h2.run_id = h.run_id)`,
        )
      ).map(({ run_id, ...e }) => [run_id, e]),
    );
    return rows.map((r) => ({
      runId: r.run_id,
      status: r.status,
      pipeline: r.pipeline,
      epochsDone: Number(r.epochs_done),
      epochsTarget: r.epochs_target ?? 0,
      device: r.status === 'running' ? r.device : null,
      last: last.get(r.run_id) ?? null,
      heartbeatAt: r.status === 'running' && r.heartbeat_at !== null ? Number(r.heartbeat_at) : null,
    }));
  }

  async runDir(runId: number): Promise<string | null> {
    return (await this.conn.get<{ run_dir: string | null }>(`SELECT run_dir FROM mosaic_queue WHERE run_id = ?`, [runId]))?.run_dir ?? null;
  }

  /** The value of each logged metric at the last epoch that logged it, by run. */
  private async lastMetrics(runIds?: number[]): Promise<Map<number, Record<string, number | null>>> {
    const out = new Map<number, Record<string, number | null>>();
    const rows = await this.conn.all<{ run_id: number; name: string; value: number | null }>(
      `SELECT m.run_id, m.name, m.value FROM history_metrics m
       JOIN (SELECT run_id, name, MAX(epoch) AS epoch FROM history_metrics GROUP BY run_id, name) last
         ON last.run_id = m.run_id AND last.name = m.name AND last.epoch = m.epoch
       ${runIds ? `WHERE m.run_id IN ${placeholders(runIds.length)}` : ''}`,
      runIds ?? [],
    );
    for (const row of rows) {
      let mine = out.get(row.run_id);
      if (!mine) out.set(row.run_id, (mine = {}));
      mine[row.name] = row.value;
    }
    return out;
  }

  private async lastFailures(runIds?: number[]): Promise<Map<number, FailedAttempt>> {
    const rows = await this.conn.all<FailedAttempt & { run_id: number }>(
      `SELECT run_id, attempt, epoch, status, message, at FROM mosaic_failures
       ${runIds ? `WHERE run_id IN ${placeholders(runIds.length)}` : ''} ORDER BY run_id, at, attempt`,
      runIds ?? [],
    );
    return new Map(rows.map(({ run_id, ...f }) => [run_id, f]));
  }

  async counts(): Promise<Record<RunStatus, number>> {
    const out = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of await this.conn.all<{ status: RunStatus; n: number }>(`SELECT status, COUNT(*) AS n FROM runs GROUP BY status`)) {
      out[row.status] = Number(row.n);
    }
    return out;
  }

  runningClaims(): Promise<{ host: string; pid: number }[]> {
    return this.conn.all(`SELECT q.host, q.pid FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`);
  }

  integrityCheck(): Promise<string> {
    return this.conn.integrityCheck();
  }

  async busyWorkers(): Promise<number> {
    const row = await this.conn.get<{ n: number }>(`SELECT COUNT(DISTINCT q.worker) AS n FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`);
    return Number(row?.n ?? 0);
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  private async getSystem(runner: SqlRunner, name: string): Promise<string | undefined> {
    return (await runner.get<{ param_value: string }>(`SELECT param_value FROM system WHERE param_name = ?`, [name]))?.param_value;
  }
}
