/**
 * What the store's SQL roles (sql-queue, sql-recorder, sql-reader, sql-admin) share: the
 * connection, the SQL several of them write, and the reads and writes more than one role makes.
 * Every statement is the same on SQLite and PostgreSQL: the connection translates placeholders
 * and supplies the database's clock and row locks.
 */
import type { SqlConnection, SqlRunner } from './connection.js';
import { sqlName } from './schema.js';
import type { Claim, StoreIdentity } from './types.js';
import { RESULT_FIELDS } from '../core/result-fields.js';
import { RUN_STATUSES, type EpochRecord, type RunStatus } from '../core/run-records.js';

/**
 * Rows in one INSERT, or ids in one `IN (…)`: at the few columns of the store's INSERTs, well
 * under both backends' limits on a statement's parameters (SQLite 32,766, PostgreSQL 65,535).
 */
export const ROWS_PER_STATEMENT = 200;

/** The columns of `run_results`: each result field (RESULT_FIELDS) and its column as SQL. */
export const RESULT_COLUMNS = RESULT_FIELDS.map((f) => ({ name: f.name, sql: sqlName(f.column) }));

const HISTORY_FIELDS = [
  'epoch',
  'train_loss',
  'test_loss',
  'train_acc',
  'test_acc',
  'duration_s',
] as const satisfies readonly (keyof EpochRecord)[];

/** The columns of `history`: each field of an epoch's record and its column as SQL (the original's `duration(s)`). */
export const HISTORY_COLUMNS = HISTORY_FIELDS.map((name) => ({
  name,
  sql: sqlName(name === 'duration_s' ? 'duration(s)' : name),
}));

/** The history columns of the table aliased `alias` (or unaliased), under our field names. */
export const historyFields = (alias = ''): string =>
  HISTORY_COLUMNS.map((c) => `${alias && `${alias}.`}${c.sql} AS ${c.name}`).join(', ');

/** The number of epochs a run has recorded, as an SQL expression; `runId` is the SQL of the run's id. */
export const epochsDone = (runId: string): string => `(SELECT COUNT(*) FROM history h WHERE h.run_id = ${runId})`;

/** `(?, ?, …)`: n placeholders, for `VALUES` and `IN`. */
export const placeholders = (n: number): string => `(${Array.from({ length: n }, () => '?').join(', ')})`;

/** `INSERT … ON CONFLICT (keys) DO UPDATE`: the same upsert in SQLite and PostgreSQL (columns as SQL). */
export function upsert(table: string, keys: readonly string[], columns: readonly string[]): string {
  const all = [...keys, ...columns];
  const set = columns.map((c) => `${c} = excluded.${c}`).join(', ');
  return `INSERT INTO ${table} (${all.join(', ')}) VALUES ${placeholders(all.length)} ON CONFLICT (${keys.join(', ')}) DO ${set ? `UPDATE SET ${set}` : 'NOTHING'}`;
}

export const SET_FACT = upsert('params', ['run_id', 'param_name'], ['param_value']);
export const SET_SYSTEM = upsert('system', ['param_name'], ['param_value']);

/** Calls `fn` with `IN (?, ?, …)` for each chunk of at most ROWS_PER_STATEMENT ids. */
export async function forEachChunk(
  ids: readonly number[],
  fn: (inList: string, chunk: number[]) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < ids.length; i += ROWS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + ROWS_PER_STATEMENT);
    await fn(placeholders(chunk.length), chunk);
  }
}

/** The connection with the reads and writes several roles make. */
export class SqlContext {
  private cachedIdentity?: StoreIdentity;

  constructor(
    readonly conn: SqlConnection,
    /** The database as a user names it, without any password. */
    readonly location: string,
  ) {}

  /** The database's clock, as an SQL expression (seconds since 1970). */
  get now(): string {
    return this.conn.dialect.now;
  }

  /** Made once when the database was created, never changed but by becomeCopyOf: read once per connection. */
  async identity(): Promise<StoreIdentity> {
    if (!this.cachedIdentity) {
      const copyOf = await this.system(this.conn, 'copy_of');
      this.cachedIdentity = {
        storeId: (await this.system(this.conn, 'store_id'))!,
        store: this.location,
        ...(copyOf ? { copyOf } : {}),
      };
    }
    return this.cachedIdentity;
  }

  /** After becomeCopyOf: the identity is read again. */
  forgetIdentity(): void {
    this.cachedIdentity = undefined;
  }

  /** A value of the `system` table. */
  async system(runner: SqlRunner, name: string): Promise<string | undefined> {
    return (await runner.get<{ param_value: string }>(`SELECT param_value FROM system WHERE param_name = ?`, [name]))
      ?.param_value;
  }

  async isPaused(runner: SqlRunner = this.conn): Promise<boolean> {
    return Boolean(await this.system(runner, 'paused'));
  }

  /** Sets a run's status in `runs` and its `status` fact together. */
  async setRunStatus(
    tx: SqlRunner,
    runId: number,
    status: RunStatus,
    returnStatus: string | null = null,
  ): Promise<void> {
    await tx.run(`UPDATE runs SET status = ?, return_status = ? WHERE run_id = ?`, [status, returnStatus, runId]);
    await tx.run(SET_FACT, [runId, 'status', status]);
  }

  /** Whether the worker still holds the run (running, claimed by it); locks the run's rows until the transaction ends. */
  async holds(tx: SqlRunner, claim: Claim): Promise<boolean> {
    const row = await tx.get<{ worker: string | null; status: RunStatus }>(
      `SELECT q.worker, r.status FROM mosaic_queue q JOIN runs r ON r.run_id = q.run_id WHERE q.run_id = ?${this.conn.dialect.forUpdate}`,
      [claim.runId],
    );
    return row?.status === 'running' && row.worker === claim.workerId;
  }

  async counts(): Promise<Record<RunStatus, number>> {
    const out = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of await this.conn.all<{ status: RunStatus; n: number }>(
      `SELECT status, COUNT(*) AS n FROM runs GROUP BY status`,
    )) {
      out[row.status] = Number(row.n);
    }
    return out;
  }

  async busyWorkers(): Promise<number> {
    const row = await this.conn.get<{ n: number }>(
      `SELECT COUNT(DISTINCT q.worker) AS n FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`,
    );
    return Number(row?.n ?? 0);
  }

  history(runId: number): Promise<EpochRecord[]> {
    return this.conn.all<EpochRecord>(`SELECT ${historyFields()} FROM history WHERE run_id = ? ORDER BY epoch`, [
      runId,
    ]);
  }
}
