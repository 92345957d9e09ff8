import { randomBytes } from 'node:crypto';
import { MosaicError } from '../core/errors.js';
import type { SqlRunner } from './connection.js';
import { PgConnection, type PgConnectionOptions } from './postgres-connection.js';
import { addResultColumns, POSTGRES_MIGRATIONS, SCHEMA_VERSION, schemaSql } from './schema.js';
import { SqlStore } from './sql-store.js';

/** Any constant: the key of the advisory lock under which a database's tables are made or migrated. */
const SCHEMA_LOCK_KEY = 0x6d6f7361; // "mosa"

export interface PostgresOpenOptions extends Omit<PgConnectionOptions, 'readonly'> {
  /** Create Mosaic's tables when the database has none (run); otherwise they must be there. */
  create: boolean;
  readonly?: boolean;
}

/** The store on a PostgreSQL database (`postgres://user@host:port/database`); see openPostgresConnection. */
export async function openPostgresStore(url: string, options: PostgresOpenOptions): Promise<SqlStore> {
  const conn = await openPostgresConnection(url, options);
  return new SqlStore(conn, conn.location);
}

/** That the server answers and the database exists, before anything is made (nothing is written). */
export async function checkPostgresLocation(url: string): Promise<void> {
  await (await PgConnection.open(url, { readonly: true })).close();
}

/**
 * Connects to a PostgreSQL database and makes sure it holds Mosaic's tables at this Mosaic's
 * schema version: creates them (when `create`), migrates an older database, refuses a newer one
 * or one that is not Mosaic's, as openSqliteStore does with a file.
 */
export async function openPostgresConnection(url: string, options: PostgresOpenOptions): Promise<PgConnection> {
  const readonly = options.readonly ?? false;
  const conn = await PgConnection.open(url, { ...options, readonly });
  try {
    if (readonly) {
      const [version, missing] = await conn.transaction(
        async (tx) => [await schemaVersion(tx), await missingResultColumns(tx)] as const,
      );
      checkVersion(conn.location, version, { create: false });
      if (version! < SCHEMA_VERSION || missing.length > 0) {
        // Readers see the current schema too: migrate through a short-lived writer first.
        await (await openPostgresConnection(url, { ...options, create: false, readonly: false })).close();
      }
    } else {
      await conn.transaction(async (tx) => {
        // Two commands creating or migrating at once: the second waits, then finds the tables made.
        await tx.get('SELECT pg_advisory_xact_lock(?)', [SCHEMA_LOCK_KEY]);
        const version = await schemaVersion(tx);
        checkVersion(conn.location, version, options);
        if (version !== undefined) await migrate(tx, conn.location, version);
        await tx.run(schemaSql('postgres'));
        for (const add of await missingResultColumns(tx)) await tx.run(add);
        await tx.run(
          `INSERT INTO system (param_name, param_value) VALUES ('next_run_id', '1'), ('store_id', ?) ON CONFLICT (param_name) DO NOTHING`,
          [randomBytes(4).toString('hex')],
        );
        await tx.run(
          `INSERT INTO system (param_name, param_value) VALUES ('schema_version', ?) ON CONFLICT (param_name) DO UPDATE SET param_value = excluded.param_value`,
          [String(SCHEMA_VERSION)],
        );
      });
      await conn.markCommits();
    }
  } catch (e) {
    await conn.close();
    if (e instanceof MosaicError) throw e;
    throw new MosaicError(`cannot use PostgreSQL database ${conn.location}: ${(e as Error).message}`);
  }
  return conn;
}

async function missingResultColumns(tx: SqlRunner): Promise<string[]> {
  const rows = await tx.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'run_results'`,
  );
  return rows.length === 0
    ? []
    : addResultColumns(
        'postgres',
        rows.map((r) => r.column_name),
      );
}

/** The schema version of a Mosaic database, or undefined when it has no Mosaic tables. */
async function schemaVersion(tx: SqlRunner): Promise<number | undefined> {
  const found = await tx.get<{ present: boolean }>(`SELECT to_regclass('mosaic_queue') IS NOT NULL AS present`);
  if (!found?.present) return undefined;
  const row = await tx.get<{ param_value: string }>(
    `SELECT param_value FROM system WHERE param_name = 'schema_version'`,
  );
  return Number(row?.param_value ?? '1');
}

function checkVersion(location: string, version: number | undefined, options: { create: boolean }): void {
  if (version === undefined && !options.create)
    throw new MosaicError(`${location} is not a Mosaic database (no mosaic_queue table)`);
  if (version !== undefined && version > SCHEMA_VERSION) {
    throw new MosaicError(
      `${location} was written by a newer Mosaic (database schema ${version}; this Mosaic reads up to ${SCHEMA_VERSION}): upgrade Mosaic to use it`,
    );
  }
}

async function migrate(tx: SqlRunner, location: string, from: number): Promise<void> {
  for (let v = from; v < SCHEMA_VERSION; v++) {
    const step = POSTGRES_MIGRATIONS[v];
    if (step === undefined)
      throw new MosaicError(`${location} has database schema ${v}, which this Mosaic cannot upgrade`);
    await tx.run(step);
  }
}
