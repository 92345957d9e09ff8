/** Database locations: a file path (SQLite) or a URL (`postgres://…`). */
import path from 'node:path';
import { publicLocation } from './postgres-url.js';

export const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location);

export const isPostgresUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * The location as it may be shown, logged or remembered: a URL without its password (nor secret
 * query parameters). Paths are unchanged.
 */
export function displayLocation(location: string): string {
  return isUrl(location) ? publicLocation(location) : location;
}

/** A short name for the database, for folder names: a file's name, or a URL's database name. */
export function databaseName(location: string): string {
  if (!isUrl(location)) return path.basename(location).replace(/\.[^.]*$/, '');
  try {
    return decodeURIComponent(new URL(location).pathname.replace(/^\//, '')) || 'mosaic';
  } catch {
    return 'mosaic';
  }
}
