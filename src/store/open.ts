import { MosaicError } from '../core/errors.js';
import { isPostgresUrl, isUrl } from './location.js';
import { checkDatabasePath, openSqliteReader, openSqliteStore } from './sqlite.js';
import type { Store, StoreReader } from './types.js';

/** How a command uses a database: makes it if missing (run), writes to it, or only reads. */
export type OpenMode = 'create' | 'write' | 'read';

/** A URL of a kind of database Mosaic has no backend for, refused before anything is opened. */
function refuseUrl(location: string): never {
  const scheme = location.slice(0, location.indexOf(':'));
  throw new MosaicError(
    `"${scheme}://" is not a kind of database Mosaic knows: give the path of a SQLite file (e.g. results.db) or a postgres:// URL`,
  );
}

/**
 * Checks that `location` can be opened in `mode` before anything is written, so that a bad
 * location fails with one clear line and nothing created.
 */
export async function checkStoreLocation(location: string, mode: OpenMode): Promise<void> {
  if (isPostgresUrl(location)) {
    await (await import('./postgres.js')).checkPostgresLocation(location);
    return;
  }
  if (isUrl(location)) refuseUrl(location);
  checkDatabasePath(location, { create: mode === 'create', readonly: mode === 'read' });
}

/**
 * The one place that chooses a store from its location: a file path is a SQLite database (the
 * embedded default), a `postgres://` or `postgresql://` URL a PostgreSQL database (loaded only
 * then). Nothing outside `store/` knows which backend it talks to. A reader gets only the reader role;
 * a file written by the original Mosaic opens for reading only (`original-reader.ts`).
 */
export async function openStore(location: string, mode: 'read'): Promise<StoreReader>;
export async function openStore(location: string, mode: 'create' | 'write'): Promise<Store>;
export async function openStore(location: string, mode: OpenMode): Promise<Store | StoreReader> {
  const options = { create: mode === 'create', readonly: mode === 'read' };
  if (isPostgresUrl(location)) return (await import('./postgres.js')).openPostgresStore(location, options);
  if (isUrl(location)) refuseUrl(location);
  return mode === 'read' ? openSqliteReader(location, options) : openSqliteStore(location, options);
}
