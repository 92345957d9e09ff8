import { MosaicError } from '../errors.js';
import { isUrl } from './location.js';
import { checkDatabasePath, openSqliteStore } from './sqlite.js';
import type { Store, StoreReader } from './types.js';

/** How a command uses a database: makes it if missing (run), writes to it, or only reads. */
export type OpenMode = 'create' | 'write' | 'read';


/** The database behind a location refused before anything is opened (no backend for it yet). */
function refuseUrl(location: string): never {
  const scheme = location.slice(0, location.indexOf(':'));
  const kind = /^postgres(ql)?$/i.test(scheme) ? 'PostgreSQL databases are not supported yet' : `"${scheme}://" is not a kind of database Mosaic knows`;
  throw new MosaicError(`${kind}: give the path of a SQLite file (e.g. results.db)`);
}

/**
 * Checks that `location` can be opened in `mode` before anything is written, so that a bad
 * location fails with one clear line and nothing created.
 */
export function checkStoreLocation(location: string, mode: OpenMode): void {
  if (isUrl(location)) refuseUrl(location);
  checkDatabasePath(location, { create: mode === 'create', readonly: mode === 'read' });
}

/**
 * The one place that chooses a store from its location: a file path is a SQLite database (the
 * embedded default). Nothing outside `store/` knows which backend it talks to. A reader gets
 * only the reader role.
 */
export async function openStore(location: string, mode: 'read'): Promise<StoreReader>;
export async function openStore(location: string, mode: 'create' | 'write'): Promise<Store>;
export async function openStore(location: string, mode: OpenMode): Promise<Store | StoreReader> {
  if (isUrl(location)) refuseUrl(location);
  return openSqliteStore(location, { create: mode === 'create', readonly: mode === 'read' });
}
