import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { hostName, isWorkerAlive } from '../core/host.js';
import { enableWal } from '../store/wal.js';

/**
 * The download cache of data classes. `downloadFile(url, dest)` copies the file at `url` to
 * `dest`, fetching it only when the cache does not have it. The cache is a SQLite index
 * (`[MONITOR] cache_database_path`) of files kept in the folder `<index>.files/`, held under
 * `cache_size` by deleting the least recently used. Several processes asking for one URL at
 * once fetch it once: the first marks it `downloading`, the others wait for it.
 */
export const CACHE_ENV = { db: 'MOSAIC_CACHE_DB', size: 'MOSAIC_CACHE_SIZE' } as const;

interface CacheRow {
  url: string;
  file: string;
  size: number;
  state: 'ready' | 'downloading';
  owner_host: string | null;
  owner_pid: number | null;
  started_at: number | null;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS files (
  url TEXT PRIMARY KEY, file TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 0, last_used REAL NOT NULL,
  state TEXT NOT NULL, owner_host TEXT, owner_pid INTEGER, started_at REAL)`;
/** A download that shows no progress for this long is taken over (owner on another host). */
const STALE_DOWNLOAD_SECONDS = 600;
const BUSY_TIMEOUT_MS = 30_000;
const inProcess = new Map<string, Promise<string>>();

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

function cacheIndexPath(): string {
  return (
    process.env[CACHE_ENV.db] ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mosaic', 'downloads.db')
  );
}

function cacheLimit(): number {
  const n = Number(process.env[CACHE_ENV.size]);
  return Number.isFinite(n) && n > 0 ? n : Infinity;
}

function openIndex(file: string): Database.Database {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  enableWal(db, BUSY_TIMEOUT_MS);
  db.exec(SCHEMA);
  return db;
}

export async function downloadFile(url: string, dest: string): Promise<string> {
  const key = `${url}\n${path.resolve(dest)}`;
  let p = inProcess.get(key);
  if (!p) {
    p = fetchThroughCache(url, path.resolve(dest)).finally(() => inProcess.delete(key));
    inProcess.set(key, p);
  }
  return p;
}

async function fetchThroughCache(url: string, dest: string): Promise<string> {
  const indexPath = cacheIndexPath();
  const db = openIndex(indexPath);
  const folder = `${path.resolve(indexPath)}.files`;
  fs.mkdirSync(folder, { recursive: true });
  const file = path.join(folder, createHash('sha256').update(url).digest('hex'));
  try {
    for (;;) {
      const decision = claim(db, url, file);
      if (decision === 'ready') break;
      if (decision === 'wait') {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      await fetchTo(db, url, file);
      break;
    }
    await copyAtomically(file, dest);
    evict(db, url);
    return dest;
  } finally {
    db.close();
  }
}

/** 'ready': cached; 'wait': another process is fetching it; 'fetch': ours to fetch. */
function claim(db: Database.Database, url: string, file: string): 'ready' | 'wait' | 'fetch' {
  return db
    .transaction((): 'ready' | 'wait' | 'fetch' => {
      const now = Date.now() / 1000;
      const row = db.prepare(`SELECT * FROM files WHERE url = ?`).get(url) as CacheRow | undefined;
      if (row?.state === 'ready' && fs.existsSync(row.file)) {
        db.prepare(`UPDATE files SET last_used = ? WHERE url = ?`).run(now, url);
        return 'ready';
      }
      if (
        row?.state === 'downloading' &&
        row.owner_pid !== null &&
        isWorkerAlive(row.owner_host ?? '', row.owner_pid) &&
        now - (row.started_at ?? 0) < STALE_DOWNLOAD_SECONDS
      ) {
        return 'wait';
      }
      db.prepare(
        `INSERT OR REPLACE INTO files (url, file, size, last_used, state, owner_host, owner_pid, started_at) VALUES (?, ?, 0, ?, 'downloading', ?, ?, ?)`,
      ).run(url, file, now, hostName(), process.pid, now);
      return 'fetch';
    })
    .immediate();
}

async function fetchTo(db: Database.Database, url: string, file: string): Promise<void> {
  const part = `${file}.part-${process.pid}`;
  try {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      throw new DownloadError(
        `downloadFile: cannot fetch ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`,
      );
    }
    if (!response.ok || !response.body)
      throw new DownloadError(`downloadFile: ${url} answered ${response.status} ${response.statusText}`);
    try {
      await pipeline(
        Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
        fs.createWriteStream(part),
      );
    } catch (e) {
      throw new DownloadError(`downloadFile: the download of ${url} broke off: ${(e as Error).message}`);
    }
    const expected = Number(response.headers.get('content-length'));
    const size = fs.statSync(part).size;
    if (Number.isFinite(expected) && expected > 0 && size !== expected) {
      throw new DownloadError(`downloadFile: ${url} sent ${size} of ${expected} bytes`);
    }
    fs.renameSync(part, file);
    db.prepare(`UPDATE files SET state = 'ready', size = ?, last_used = ?, owner_pid = NULL WHERE url = ?`).run(
      size,
      Date.now() / 1000,
      url,
    );
  } catch (e) {
    fs.rmSync(part, { force: true });
    db.prepare(`DELETE FROM files WHERE url = ? AND state = 'downloading'`).run(url);
    throw e;
  }
}

async function copyAtomically(from: string, dest: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  try {
    await fs.promises.copyFile(from, tmp);
    await fs.promises.rename(tmp, dest);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw new DownloadError(`downloadFile: cannot write ${dest}: ${(e as Error).message}`);
  }
}

/** Deletes least-recently-used files until the cache is under its size; a file alone above it is not kept. */
function evict(db: Database.Database, justUsed: string): void {
  const limit = cacheLimit();
  if (!Number.isFinite(limit)) return;
  db.transaction(() => {
    const rows = db
      .prepare(`SELECT url, file, size FROM files WHERE state = 'ready' ORDER BY last_used ASC`)
      .all() as CacheRow[];
    let total = rows.reduce((a, r) => a + r.size, 0);
    const victims = [...rows.filter((r) => r.url !== justUsed), ...rows.filter((r) => r.url === justUsed)];
    for (const r of victims) {
      if (total <= limit) break;
      fs.rmSync(r.file, { force: true });
      db.prepare(`DELETE FROM files WHERE url = ?`).run(r.url);
      total -= r.size;
    }
  }).immediate();
}
