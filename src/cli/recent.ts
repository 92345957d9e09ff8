import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MosaicError } from '../core/errors.js';
import { displayLocation, isUrl } from '../store/location.js';

/** The database of the last `mosaic run` started from each folder, so `status` needs no argument there. */
function recentFile(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mosaic', 'recent.json');
}

function readRecent(): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(recentFile(), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export function rememberDatabase(db: string): void {
  try {
    const recent = readRecent();
    recent[process.cwd()] = isUrl(db) ? displayLocation(db) : path.resolve(db);
    fs.mkdirSync(path.dirname(recentFile()), { recursive: true });
    fs.writeFileSync(recentFile(), JSON.stringify(recent, null, 1));
  } catch {
    // Only a convenience: a read-only home must not stop a run.
  }
}

/** `--db` or the positional argument, else $MOSAIC_DB, else the last database run from this folder. */
export function chooseDatabase(given: string | undefined): string {
  const db = given || process.env.MOSAIC_DB || readRecent()[process.cwd()];
  if (!db)
    throw new MosaicError('no database given: name it (mosaic status results.db), or use --db, or set MOSAIC_DB');
  return db;
}
