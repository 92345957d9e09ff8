import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MosaicError } from '../core/errors.js';
import type { SqlRunner } from './connection.js';
import { MOSAIC_TABLES, schemaSql } from './schema.js';

/** Rows fetched from the server at a time: the copy never holds a whole table in memory. */
const BATCH = 5000;

/** A stable order for each table, so the copy is the same every time (mosaic_failures has no key). */
const ORDER: Record<(typeof MOSAIC_TABLES)[number], string> = {
  system: 'param_name',
  params: 'run_id, param_name',
  runs: 'run_id',
  run_results: 'run_id',
  history: 'run_id, epoch',
  history_metrics: 'run_id, epoch, name',
  metric_info: 'name',
  mosaic_failures: 'at, run_id, attempt',
  mosaic_experiments: 'experiment_id',
  mosaic_queue: 'run_id',
  mosaic_race: 'data_key, round, position',
};

/**
 * Copies every Mosaic table that `tx` sees (one snapshot: the caller's REPEATABLE READ
 * transaction) into a new SQLite database `file`, with the SQLite store's schema. All or nothing:
 * the rows go into a temporary file beside it, which becomes `file` only when complete, and never
 * over a file that exists.
 */
export async function copyIntoNewSqliteFile(tx: SqlRunner, file: string): Promise<void> {
  const temp = path.join(
    path.dirname(path.resolve(file)),
    `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`,
  );
  let db: Database.Database;
  try {
    db = new Database(temp);
  } catch (e) {
    throw new MosaicError(`cannot copy the database to ${file}: ${(e as Error).message}`);
  }
  try {
    // The file only counts once renamed into place: no journal needed while filling it.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(schemaSql('sqlite'));
    for (const table of MOSAIC_TABLES) await copyTable(tx, db, table);
    db.close();
    const fd = fs.openSync(temp, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      // A link, unlike a rename, refuses to replace a file that appeared meanwhile.
      fs.linkSync(temp, file);
    } catch (e) {
      const exists = (e as NodeJS.ErrnoException).code === 'EEXIST';
      throw new MosaicError(
        exists
          ? `${file} already exists: choose a new file for the copy`
          : `cannot copy the database to ${file}: ${(e as Error).message}`,
      );
    }
  } catch (e) {
    if (e instanceof Error && !(e instanceof MosaicError) && (e as NodeJS.ErrnoException).code?.startsWith('SQLITE')) {
      throw new MosaicError(`cannot copy the database to ${file}: ${e.message}`);
    }
    throw e;
  } finally {
    if (db.open) db.close();
    fs.rmSync(temp, { force: true });
  }
}

async function copyTable(tx: SqlRunner, db: Database.Database, table: (typeof MOSAIC_TABLES)[number]): Promise<void> {
  await tx.run(`DECLARE mosaic_copy NO SCROLL CURSOR FOR SELECT * FROM ${table} ORDER BY ${ORDER[table]}`);
  let insert: Database.Statement | undefined;
  let columns: string[] = [];
  for (;;) {
    const rows = await tx.all<Record<string, unknown>>(`FETCH ${BATCH} FROM mosaic_copy`);
    if (rows.length === 0) break;
    if (!insert) {
      columns = Object.keys(rows[0]!);
      insert = db.prepare(
        `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      );
    }
    const stmt = insert;
    db.transaction(() => {
      for (const row of rows) stmt.run(columns.map((c) => row[c]));
    })();
  }
  await tx.run('CLOSE mosaic_copy');
}
