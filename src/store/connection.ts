/**
 * What the SQL store needs from a database driver: parameterised statements (written with `?`
 * placeholders; a driver that numbers them translates), transactions, and the few things that
 * differ between SQLite and PostgreSQL. Every method is async; a connection serialises its own
 * uses, so a transaction never interleaves with another statement of the same process.
 */
export interface SqlRunner {
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export interface SqlConnection extends SqlRunner {
  readonly dialect: SqlDialect;
  /**
   * Runs `fn` in one transaction that commits when it resolves and rolls back when it throws.
   * SQLite takes the write lock at the start (IMMEDIATE); PostgreSQL runs READ COMMITTED, and
   * statements lock the rows they must own with the dialect's `forUpdate` / `skipLocked`.
   * A driver may run `fn` again after a lost connection or a serialisation failure: `fn` must
   * only talk to the database.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /**
   * Runs the user's SQL (a `-request` selector) read-only and returns the first column of its
   * rows; refuses SQL that writes, with a MosaicError, and stops SQL that runs too long.
   */
  readOnlyColumn(sql: string): Promise<unknown[]>;
  /** A consistent snapshot of the whole database into a new SQLite file, even while others write. */
  copyTo(file: string): Promise<void>;
  /** 'ok', or what the backend's own consistency check found wrong. */
  integrityCheck(): Promise<string>;
  close(): Promise<void>;
}

export interface SqlDialect {
  name: 'sqlite' | 'postgres';
  /** An SQL expression: the database's clock, in seconds since 1970 (fractional). */
  now: string;
  /** Appended to a SELECT whose rows the transaction must own until it ends ('' where the whole database is locked). */
  forUpdate: string;
  /** Appended to a claim's SELECT: rows locked by another claim are skipped, not waited for. */
  skipLocked: string;
}
