import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { MosaicError } from '../core/errors.js';
import type { SqlConnection, SqlDialect, SqlRunner } from './connection.js';
import { StoreUnavailableError } from './errors.js';
import { copyIntoNewSqliteFile } from './postgres-copy.js';
import {
  errorCode,
  errorMessage,
  isConnectionLost,
  isMissingPassword,
  isPermanentConnectFailure,
  isSerialisationFailure,
  isServerFailure,
} from './postgres-errors.js';
import { pgSql } from './postgres-placeholders.js';
import { publicLocation, scrubber } from './postgres-url.js';
import { Serial } from './serial.js';

export const POSTGRES_DIALECT: SqlDialect = {
  name: 'postgres',
  now: '(extract(epoch from clock_timestamp())::double precision)',
  forUpdate: ' FOR UPDATE',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
};

export interface PgConnectionOptions {
  /** Every transaction read-only (`default_transaction_read_only`). */
  readonly?: boolean;
  /** How long to keep trying to reconnect after the connection is lost, in seconds (default 60). */
  reconnectSeconds?: number;
  /** The longest a user's `-request` may run, in seconds (default 30). */
  requestTimeoutSeconds?: number;
}

const INT8 = 20;
const NUMERIC = 1700;

/** COUNT(*) is BIGINT and AVG of integers NUMERIC: the store wants JS numbers, as SQLite gives. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const MAX_SERIALISATION_RETRIES = 30;
const MAX_CONSECUTIVE_LOSSES = 10;

/** A database error with its message scrubbed of secrets (the driver's stack may hold them). */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/**
 * One connection to a PostgreSQL database (one per process). Every use goes through one promise
 * chain, so a transaction never interleaves with another statement. A lost connection is
 * re-established (with growing waits, up to `reconnectSeconds`) and the statement or transaction
 * run again; a commit whose answer was lost is looked up by the mark its transaction wrote
 * (`markCommits`) rather than run twice.
 */
export class PgConnection implements SqlConnection {
  readonly dialect = POSTGRES_DIALECT;
  /** The database without its password: for every message. */
  readonly location: string;
  private readonly scrub: (text: string) => string;
  private readonly reconnectMs: number;
  private readonly requestTimeoutMs: number;
  private client: pg.Client | undefined;
  private readonly queue = new Serial();
  private closed = false;
  private marking = false;
  private lastMark: string | undefined;

  private constructor(
    private readonly url: string,
    private readonly options: PgConnectionOptions,
  ) {
    this.location = publicLocation(url);
    this.scrub = scrubber(url);
    this.reconnectMs = (options.reconnectSeconds ?? 60) * 1000;
    this.requestTimeoutMs = (options.requestTimeoutSeconds ?? 30) * 1000;
  }

  /**
   * Connects once, failing at once when the server cannot be reached (StoreUnavailableError) or
   * refuses us (MosaicError: no such database, wrong password).
   */
  static async open(url: string, options: PgConnectionOptions = {}): Promise<PgConnection> {
    const conn = new PgConnection(url, options);
    try {
      conn.client = await conn.connectClient();
    } catch (e) {
      const message = `cannot connect to PostgreSQL database ${conn.location}: ${conn.scrub(errorMessage(e))}`;
      // A wrong URL, password or database name is the user's to fix; a server that does not answer is a system failure.
      if (errorCode(e) === '3D000') throw new MosaicError(`${message} (create it first, e.g. with createdb)`);
      if (isMissingPassword(e)) {
        const user = decodeURIComponent(new URL(url).username) || process.env.PGUSER || 'the user';
        throw new MosaicError(
          `cannot connect to PostgreSQL database ${conn.location}: the server asks a password of ${user} and none was given: set PGPASSWORD, put it in ~/.pgpass, or in the URL (postgres://${user}:PASSWORD@…)`,
        );
      }
      if (isPermanentConnectFailure(e)) throw new MosaicError(message);
      throw new StoreUnavailableError(message);
    }
    return conn;
  }

  all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.serial(() =>
      this.attempt(async (client) => (await client.query(pgSql(sql), values(params))).rows as T[]),
    );
  }

  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** A statement that may write runs as a transaction of its own, so a lost commit is never applied twice. */
  run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return this.transaction((tx) => tx.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.serial(() =>
      this.attempt(async (client) => {
        await client.query('BEGIN');
        let result: T;
        let mark: string | undefined;
        try {
          result = await fn(runnerOn(client));
          mark = await this.markIfWritten(client);
        } catch (e) {
          // A lost connection's transaction is rolled back by the server (and the client may still hold its query).
          if (!isConnectionLost(e)) await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        try {
          await client.query('COMMIT');
        } catch (e) {
          // The commit may have happened before the connection went: its mark says, on a new connection.
          // Otherwise (or unmarked) the connection is lost and `attempt` runs the transaction again.
          if (mark === undefined || !isConnectionLost(e) || !(await this.marked(mark))) throw e;
        }
        if (mark !== undefined) this.lastMark = mark;
        return result;
      }),
    );
  }

  /**
   * From now on every transaction that writes leaves a mark (`mosaic_commits`, which must exist):
   * a commit whose answer was lost is then never run twice. Deletes the marks of connections
   * gone for a day. Before this (the transaction that makes the tables), a lost commit is run again.
   */
  async markCommits(): Promise<void> {
    await this.run(`DELETE FROM mosaic_commits WHERE made_at < ${POSTGRES_DIALECT.now} - 86400`);
    this.marking = true;
  }

  /**
   * In a transaction that wrote, a new mark (and this connection's previous one deleted, its
   * transaction's outcome known): one statement, that writes nothing in a transaction that did not.
   */
  private async markIfWritten(client: pg.Client): Promise<string | undefined> {
    if (!this.marking) return undefined;
    const mark = randomUUID();
    const made = await client.query(
      `WITH wrote AS (SELECT txid_current_if_assigned() IS NOT NULL AS yes),
         gone AS (DELETE FROM mosaic_commits WHERE mark = $2 AND (SELECT yes FROM wrote))
       INSERT INTO mosaic_commits (mark, made_at) SELECT $1, ${POSTGRES_DIALECT.now} FROM wrote WHERE yes`,
      [mark, this.lastMark ?? null],
    );
    return made.rowCount === 1 ? mark : undefined;
  }

  /**
   * Whether the transaction that wrote `mark` committed, asked on a new connection (again on
   * another if that one is lost too, within `reconnectSeconds`).
   */
  private async marked(mark: string): Promise<boolean> {
    for (let losses = 1; ; losses++) {
      const client = await this.reconnect(undefined);
      try {
        return (await client.query('SELECT 1 FROM mosaic_commits WHERE mark = $1', [mark])).rowCount === 1;
      } catch (e) {
        if (!isConnectionLost(e) || losses >= MAX_CONSECUTIVE_LOSSES) {
          throw new StoreUnavailableError(
            `PostgreSQL database ${this.location}: the answer to a COMMIT was lost and whether it happened cannot be known: ${this.scrub(errorMessage(e))}`,
          );
        }
      }
    }
  }

  readOnlyColumn(sql: string): Promise<unknown[]> {
    return this.serial(() =>
      this.attempt(async (client) => {
        await client.query('BEGIN READ ONLY');
        try {
          await client.query(`SET LOCAL statement_timeout = ${Math.round(this.requestTimeoutMs)}`);
          // The extended protocol takes one statement only: no "SELECT 1; COMMIT; DELETE …".
          const result = await client.query({
            text: sql,
            rowMode: 'array',
            queryMode: 'extended',
          } as pg.QueryArrayConfig);
          if (result.fields.length === 0)
            throw new MosaicError('the request returns no rows: write a SELECT returning run ids');
          return result.rows.map((row: unknown[]) => row[0]);
        } catch (e) {
          throw this.requestError(e);
        } finally {
          // Read-only: nothing to keep; a SET the request made is undone too.
          await client.query('ROLLBACK').catch(() => undefined);
        }
      }),
    );
  }

  async copyTo(file: string): Promise<void> {
    if (fs.existsSync(file)) throw new MosaicError(`${file} already exists: choose a new file for the copy`);
    await this.serial(() =>
      this.attempt(async (client) => {
        // One snapshot for every table: the copy is consistent while workers write.
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          await copyIntoNewSqliteFile(runnerOn(client), file);
        } finally {
          await client.query('ROLLBACK').catch(() => undefined);
        }
      }),
    );
  }

  /** Cheap checks of what the store relies on; the server keeps its own files consistent. */
  async integrityCheck(): Promise<string> {
    const row = await this.get<{ orphans: number; bad_status: number; system_rows: number; stray: number }>(
      `SELECT
         (SELECT COUNT(*) FROM runs r WHERE NOT EXISTS (SELECT 1 FROM mosaic_queue q WHERE q.run_id = r.run_id)) AS orphans,
         (SELECT COUNT(*) FROM mosaic_queue q WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = q.run_id)) AS stray,
         (SELECT COUNT(*) FROM runs WHERE status NOT IN ('pending', 'running', 'done', 'error', 'failed', 'diverged')) AS bad_status,
         (SELECT COUNT(*) FROM system WHERE param_name IN ('next_run_id', 'store_id', 'schema_version')) AS system_rows`,
    );
    const problems: string[] = [];
    if (row!.orphans > 0) problems.push(`${row!.orphans} runs have no queue entry`);
    if (row!.stray > 0) problems.push(`${row!.stray} queue entries have no run`);
    if (row!.bad_status > 0) problems.push(`${row!.bad_status} runs have an unknown status`);
    if (row!.system_rows < 3) problems.push('the system table lacks next_run_id, store_id or schema_version');
    return problems.length ? problems.join('; ') : 'ok';
  }

  async close(): Promise<void> {
    await this.serial(async () => {
      this.closed = true;
      const client = this.client;
      this.client = undefined;
      await client?.end().catch(() => undefined);
    });
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  /**
   * Runs `work` on the connection: again on a new connection after a lost one, again after a
   * serialisation failure or deadlock; other errors come out scrubbed (system failures as
   * StoreUnavailableError).
   */
  private async attempt<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    let conflicts = 0;
    let losses = 0;
    for (;;) {
      if (this.closed) throw new MosaicError(`the connection to PostgreSQL database ${this.location} is closed`);
      const client = this.client ?? (await this.reconnect(undefined));
      try {
        return await work(client);
      } catch (e) {
        // Mosaic's own errors (a reconnection given up, a commit's outcome unknown) are final.
        if (e instanceof MosaicError) throw e;
        if (isConnectionLost(e) && ++losses <= MAX_CONSECUTIVE_LOSSES) {
          await this.reconnect(e);
        } else if (isSerialisationFailure(e) && ++conflicts <= MAX_SERIALISATION_RETRIES) {
          await sleep(Math.random() * 10 * conflicts);
        } else {
          throw this.translate(e);
        }
      }
    }
  }

  private translate(e: unknown): unknown {
    if (e instanceof MosaicError) return e;
    const code = errorCode(e);
    if (code === undefined && !(e instanceof pg.DatabaseError)) return e;
    const message = this.scrub(errorMessage(e));
    if (isServerFailure(e) || isConnectionLost(e))
      return new StoreUnavailableError(`PostgreSQL database ${this.location} cannot be used: ${message}`);
    return new PostgresError(`PostgreSQL database ${this.location}: ${message}`, code);
  }

  private requestError(e: unknown): unknown {
    if (e instanceof MosaicError || isConnectionLost(e)) return e;
    const code = errorCode(e);
    const message = this.scrub(errorMessage(e));
    if (code === '25006') return new MosaicError('the request must only read (a SELECT returning run ids)');
    if (code === '57014')
      return new MosaicError(`the request ran longer than ${this.requestTimeoutMs / 1000} s and was stopped`);
    if (code?.startsWith('42') && code !== '42501') return new MosaicError(`the request is not valid SQL: ${message}`);
    if (isServerFailure(e)) return this.translate(e);
    return new MosaicError(`the request failed: ${message}`);
  }

  /** A new client, after the old one was lost: waits 0.1 s, 0.2 s, … (at most 5 s) until `reconnectMs` is spent. */
  private async reconnect(cause: unknown): Promise<pg.Client> {
    const old = this.client;
    this.client = undefined;
    old?.end().catch(() => undefined);
    const deadline = Date.now() + this.reconnectMs;
    let delay = 100;
    let last = cause;
    for (;;) {
      try {
        this.client = await this.connectClient();
        return this.client;
      } catch (e) {
        last = e;
        if (isPermanentConnectFailure(e) || !isConnectionLost(e)) {
          throw new StoreUnavailableError(
            `cannot reconnect to PostgreSQL database ${this.location}: ${this.scrub(errorMessage(e))}`,
          );
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreUnavailableError(
          `lost the connection to PostgreSQL database ${this.location} and could not reconnect within ${Math.round(this.reconnectMs / 1000)} s: ${this.scrub(errorMessage(last))}`,
        );
      }
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 5000);
    }
  }

  private async connectClient(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.url,
      types: TYPES,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      fallback_application_name: 'mosaic',
    });
    // An idle connection's failure arrives as an event: without a listener it would end the process.
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      if (this.options.readonly) await client.query('SET default_transaction_read_only = on');
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
    return client;
  }
}

/** SQLite stores NaN as NULL, PostgreSQL as NaN: NULL here too, so both backends read the same. */
function values(params: readonly unknown[]): unknown[] {
  return params.map((v) => (typeof v === 'number' && Number.isNaN(v) ? null : v));
}

/** Statements on the client a transaction holds. */
function runnerOn(client: pg.Client): SqlRunner {
  const all = async <T>(sql: string, params: readonly unknown[] = []) =>
    (await client.query(pgSql(sql), values(params))).rows as T[];
  return {
    all,
    get: async <T>(sql: string, params: readonly unknown[] = []) => (await all<T>(sql, params))[0],
    run: async (sql: string, params: readonly unknown[] = []) =>
      (await client.query(pgSql(sql), values(params))).rowCount ?? 0,
  };
}
