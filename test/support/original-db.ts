import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ROOT } from './helpers.js';

/** The database written by the original Python Mosaic (its tutorial, 18 runs): read it, never write it. */
export const ORIGINAL_FIXTURE = path.resolve(ROOT, '../shared/fixtures/original-tutorial.db');

/** A writable copy of the original's database in `dir` (a test may then check it was not written). */
export function copyOriginal(dir: string, name = 'original.db'): string {
  const file = path.join(dir, name);
  fs.copyFileSync(ORIGINAL_FIXTURE, file);
  fs.chmodSync(file, 0o644);
  return file;
}

export const sha256 = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Files beside `file` that SQLite makes when it writes (a journal, a WAL): none may appear after a read. */
export const sqliteSideFiles = (file: string): string[] =>
  ['-journal', '-wal', '-shm'].map((s) => `${file}${s}`).filter((f) => fs.existsSync(f));

/** The original's runs, facts and results, read with SQL of its own tables (the last row of a fact wins). */
export function originalRows(file: string): {
  runs: { run_id: number; status: string; pipeline: string }[];
  facts: Map<number, Record<string, string>>;
  results: Record<string, unknown>[];
} {
  const db = new Database(file, { readonly: true });
  try {
    const runs = db.prepare(`SELECT run_id, status, pipeline FROM runs ORDER BY run_id`).all() as {
      run_id: number;
      status: string;
      pipeline: string;
    }[];
    const facts = new Map<number, Record<string, string>>();
    for (const row of db.prepare(`SELECT run_id, param_name, param_value FROM params ORDER BY rowid`).all() as {
      run_id: number;
      param_name: string;
      param_value: unknown;
    }[]) {
      const mine = facts.get(row.run_id) ?? {};
      mine[row.param_name] = String(row.param_value);
      facts.set(row.run_id, mine);
    }
    const results = db.prepare(`SELECT * FROM run_results ORDER BY run_id`).all() as Record<string, unknown>[];
    return { runs, facts, results };
  } finally {
    db.close();
  }
}
