import type Database from 'better-sqlite3';

/**
 * Switches a SQLite connection to write-ahead logging. While another process holds the file's
 * write lock (as one switching the same new file does, when several open it at once), SQLite
 * answers the switch with SQLITE_BUSY at once, without waiting on its busy handler; once the file
 * is in WAL, the switch is a no-op. So it is tried again, for up to `timeoutMs`, like any other
 * statement waiting for a lock.
 */
export function enableWal(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (let waitMs = 1; ; waitMs = Math.min(2 * waitMs, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, waitMs);
    }
  }
}
