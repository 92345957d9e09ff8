import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MosaicError } from '../core/errors.js';
import type { SqlConnection, SqlDialect, SqlRunner } from './connection.js';
import { StoreUnavailableError } from './errors.js';
import { ORIGINAL_TABLES, OriginalReader, refuseOriginal } from './original-reader.js';
import { addResultColumns, SCHEMA_VERSION, schemaSql, SQLITE_MIGRATIONS } from './schema.js';
import { Serial } from './serial.js';
import { SqlStore } from './sql-store.js';
import type { StoreReader } from './types.js';
import { enableWal } from './wal.js';

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
  if (stat?.isDirectory())
    throw new MosaicError(`database ${file} is a directory; give a file name such as ${path.join(file, 'mosaic.db')}`);
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
    if ((stat.mode & 0o200) === 0)
      throw new MosaicError(`database ${file} is read-only (chmod u+w ${file} to append to it)`);
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

export function openSqliteStore(file: string, options: OpenOptions): SqlStore {
  const opened = openSqlite(file, options);
  if (opened instanceof OriginalReader) {
    void opened.close();
    throw new MosaicError(refuseOriginal(file));
  }
  return opened;
}

/** The reader role of a database: a Mosaic database's, or the original Mosaic's read as it is. */
export function openSqliteReader(file: string, options: OpenOptions): StoreReader {
  return openSqlite(file, { ...options, readonly: true });
}

/** A store of every role, or, for a database written by the original Mosaic opened to read, its reader. */
function openSqlite(file: string, options: OpenOptions): SqlStore | OriginalReader {
  checkDatabasePath(file, options);
  let db = connect(file, options);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
    const version = schemaVersion(db);
    if (version === undefined && isOriginal(db)) {
      if (!options.readonly) throw new MosaicError(refuseOriginal(file));
      return new OriginalReader(new SqliteConnection(db, file), file);
    }
    if (version === undefined && (options.readonly || !options.create)) {
      throw new MosaicError(`${file} is not a Mosaic database (no mosaic_queue table)`);
    }
    if (version !== undefined && version > SCHEMA_VERSION) {
      throw new MosaicError(
        `${file} was written by a newer Mosaic (database schema ${version}; this Mosaic reads up to ${SCHEMA_VERSION}): upgrade Mosaic to use it`,
      );
    }
    if (
      options.readonly &&
      version !== undefined &&
      (version < SCHEMA_VERSION || missingResultColumns(db).length > 0)
    ) {
      // Readers see the current schema too: migrate through a short-lived writer first.
      db.close();
      migrateFile(file);
      db = connect(file, options);
    }
    if (!options.readonly) {
      enableWal(db, busyTimeoutMs());
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        if (version !== undefined) migrate(db, version);
        db.exec(schemaSql('sqlite'));
        for (const add of missingResultColumns(db)) db.exec(add);
        db.prepare(
          `INSERT OR IGNORE INTO system (param_name, param_value) VALUES ('next_run_id', '1'), ('store_id', ?)`,
        ).run(randomBytes(4).toString('hex'));
        db.prepare(`INSERT OR REPLACE INTO system (param_name, param_value) VALUES ('schema_version', ?)`).run(
          String(SCHEMA_VERSION),
        );
      }).immediate();
    }
  } catch (e) {
    db.close();
    if (e instanceof MosaicError) throw e;
    throw new MosaicError(`cannot use database ${file}: ${(e as Error).message}`);
  }
  return new SqlStore(new SqliteConnection(db, file), file);
}

/** How long a statement waits for another process's write lock: `$MOSAIC_SQLITE_BUSY_TIMEOUT` ms, 30 s by default. */
function busyTimeoutMs(): number {
  const ms = Number(process.env.MOSAIC_SQLITE_BUSY_TIMEOUT);
  return Number.isInteger(ms) && ms >= 0 ? ms : 30_000;
}

function migrateFile(file: string): void {
  const db = connect(file, { create: false });
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
    db.transaction(() => {
      migrate(db, schemaVersion(db)!);
      db.exec(schemaSql('sqlite'));
      for (const add of missingResultColumns(db)) db.exec(add);
      db.prepare(`INSERT OR REPLACE INTO system (param_name, param_value) VALUES ('schema_version', ?)`).run(
        String(SCHEMA_VERSION),
      );
    }).immediate();
  } finally {
    db.close();
  }
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
  const row = db.prepare(`SELECT param_value FROM system WHERE param_name = 'schema_version'`).get() as
    | { param_value: string }
    | undefined;
  return Number(row?.param_value ?? '1');
}

/** The original Mosaic's four tables without Mosaic's queue: a database of the Python Mosaic. */
function isOriginal(db: Database.Database): boolean {
  const tables = new Set(db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[]);
  return ORIGINAL_TABLES.every((t) => tables.has(t)) && !tables.has('mosaic_queue');
}

function missingResultColumns(db: Database.Database): string[] {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('run_results')`).pluck().all() as string[];
  return addResultColumns('sqlite', columns);
}

function migrate(db: Database.Database, from: number): void {
  for (let v = from; v < SCHEMA_VERSION; v++) db.exec(SQLITE_MIGRATIONS[v]!);
}

/** SQLite's errors that say the database cannot be used now, not that a statement is wrong. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CORRUPT|NOTADB|CANTOPEN|READONLY|PROTOCOL|NOLFS)/;

const SQLITE_DIALECT: SqlDialect = {
  name: 'sqlite',
  // julianday, not unixepoch('subsec'): the same clock with sub-second precision on every SQLite 3.
  now: `((julianday('now') - 2440587.5) * 86400.0)`,
  // A write transaction locks the whole database from its start (BEGIN IMMEDIATE).
  forUpdate: '',
  skipLocked: '',
};

/** better-sqlite3 is synchronous: each call completes at once; `Serial` keeps transactions whole. */
class SqliteConnection implements SqlConnection {
  readonly dialect = SQLITE_DIALECT;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly serial = new Serial();
  private readonly runner: SqlRunner = {
    all: async <T>(sql: string, params: readonly unknown[] = []) =>
      this.guard(() => this.statement(sql).all(...params) as T[]),
    get: async <T>(sql: string, params: readonly unknown[] = []) =>
      this.guard(() => this.statement(sql).get(...params) as T | undefined),
    run: async (sql: string, params: readonly unknown[] = []) =>
      this.guard(() => this.statement(sql).run(...params).changes),
  };

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
  ) {}

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && UNAVAILABLE.test(code))
        throw new StoreUnavailableError(`database ${this.file} cannot be used: ${(e as Error).message} (${code})`);
      throw e;
    }
  }

  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.serial.run(() => this.runner.all<T>(sql, params));
  }

  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.serial.run(() => this.runner.get<T>(sql, params));
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.serial.run(() => this.runner.run(sql, params));
  }

  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.serial.run(async () => {
      this.guard(() => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const result = await fn(this.runner);
        this.guard(() => this.db.exec('COMMIT'));
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async readOnlyColumn(sql: string): Promise<unknown[]> {
    let stmt: Database.Statement;
    try {
      stmt = this.db.prepare(sql);
    } catch (e) {
      throw new MosaicError(`the request is not valid SQL: ${(e as Error).message}`);
    }
    if (!stmt.readonly) throw new MosaicError('the request must only read (a SELECT returning run ids)');
    if (!stmt.reader) throw new MosaicError('the request returns no rows: write a SELECT returning run ids');
    try {
      return (stmt.raw(true).all() as unknown[][]).map((r) => r[0]);
    } catch (e) {
      throw new MosaicError(`the request failed: ${(e as Error).message}`);
    }
  }

  async copyTo(file: string): Promise<void> {
    try {
      this.db.prepare('VACUUM INTO ?').run(file);
    } catch (e) {
      throw new MosaicError(`cannot copy the database to ${file}: ${(e as Error).message}`);
    }
  }

  async integrityCheck(): Promise<string> {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  async close(): Promise<void> {
    await this.serial.run(async () => {
      if (this.db.open) this.db.close();
    });
  }
}
