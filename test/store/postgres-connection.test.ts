/**
 * The PostgreSQL driver layer on a real server: placeholders, numbers, transactions that never
 * interleave, reconnection after the server goes away, the commit whose answer was lost, the
 * user's read-only SQL, and passwords kept out of every message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { MosaicError } from '../../src/core/errors.js';
import { StoreUnavailableError } from '../../src/store/errors.js';
import { PgConnection } from '../../src/store/postgres-connection.js';
import { numberPlaceholders } from '../../src/store/postgres-placeholders.js';
import { publicLocation, scrubber } from '../../src/store/postgres-url.js';
import { openPostgresConnection } from '../../src/store/postgres.js';
import { pgSkipReason, startPgServer, type PgServer } from '../support/pg-server.js';
import { startTcpCutter } from '../support/tcp-cutter.js';

/** The error a promise rejects with (failing the test if it does not). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as Error,
  );
}

describe('placeholders', () => {
  it('numbers ? outside strings, identifiers, comments and dollar quotes', () => {
    const sql = `SELECT '?', 'it''s ?', "a?b", E'\\'?', $$ ? $$, $t$ ? $t$ FROM x -- what?\nWHERE a = ? /* ? */ AND b IN (?, ?)`;
    expect(numberPlaceholders(sql)).toBe(
      `SELECT '?', 'it''s ?', "a?b", E'\\'?', $$ ? $$, $t$ ? $t$ FROM x -- what?\nWHERE a = $1 /* ? */ AND b IN ($2, $3)`,
    );
    expect(numberPlaceholders(`INSERT INTO t VALUES (?, ?) RETURNING "duration(s)"`)).toBe(
      `INSERT INTO t VALUES ($1, $2) RETURNING "duration(s)"`,
    );
  });
});

describe('locations', () => {
  it('drop the password and secret parameters', () => {
    expect(
      publicLocation('postgres://ann:s3cret@db.example:5433/mosaic?sslmode=require&password=x2&sslpassword=y3'),
    ).toBe('postgres://ann@db.example:5433/mosaic?sslmode=require');
    expect(publicLocation('postgresql://db.example/mosaic')).toBe('postgresql://db.example/mosaic');
  });

  it('scrub secrets from any text, short ones as whole words only', () => {
    const scrub = scrubber('postgres://ann:hunter22@h/db', { PGPASSWORD: 'pw' });
    expect(scrub('auth failed for hunter22 at postgres://ann:hunter22@h/db; pw given; pwned')).toBe(
      'auth failed for *** at postgres://ann@h/db; *** given; pwned',
    );
  });
});

describe.skipIf(pgSkipReason !== undefined)(
  `PostgreSQL connection${pgSkipReason ? ` (skipped: ${pgSkipReason})` : ''}`,
  () => {
    let server: PgServer;
    beforeAll(async () => {
      server = await startPgServer();
    });
    afterAll(async () => {
      await server?.destroy();
    });

    it('creates the tables once when several commands open a new database at once', async () => {
      const url = await server.freshDatabase();
      const conns = await Promise.all([1, 2, 3, 4].map(() => openPostgresConnection(url, { create: true })));
      const ids = await Promise.all(
        conns.map((c) =>
          c.all<{ param_value: string }>(`SELECT param_value FROM system WHERE param_name = 'store_id'`),
        ),
      );
      expect(ids.every((rows) => rows.length === 1 && rows[0]!.param_value === ids[0]![0]!.param_value)).toBe(true);
      const columns = await conns[0]!.all<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'run_results' ORDER BY ordinal_position`,
      );
      expect(columns.map((c) => c.column_name)).toContain('duration(s)');
      expect(columns.find((c) => c.column_name === 'train_loss')!.data_type).toBe('double precision');
      await Promise.all(conns.map((c) => c.close()));
    });

    it('gives COUNT(*), NUMERIC and the clock as numbers', async () => {
      const conn = await openPostgresConnection(await server.freshDatabase(), { create: true });
      const row = await conn.get<{ n: unknown; avg: unknown; now: unknown }>(
        `SELECT COUNT(*) AS n, AVG(x) AS avg, ${conn.dialect.now} AS now FROM (VALUES (1), (2)) v(x)`,
      );
      expect(row).toMatchObject({ n: 2, avg: 1.5 });
      expect(typeof row!.now).toBe('number');
      expect(Math.abs((row!.now as number) - Date.now() / 1000)).toBeLessThan(60);
      await conn.close();
    });

    it('rolls a failed transaction back and keeps transactions whole while other statements wait', async () => {
      const conn = await openPostgresConnection(await server.freshDatabase(), { create: true });
      await conn.run(`CREATE TABLE log (seq SERIAL PRIMARY KEY, what TEXT)`);
      await expect(
        conn.transaction(async (tx) => {
          await tx.run(`INSERT INTO log (what) VALUES (?)`, ['lost']);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      const tx = conn.transaction(async (t) => {
        await t.run(`INSERT INTO log (what) VALUES (?)`, ['first']);
        await new Promise((r) => setTimeout(r, 100));
        await t.run(`INSERT INTO log (what) VALUES (?)`, ['second']);
      });
      // Issued while the transaction sleeps: it must run after the commit, not inside the transaction.
      const plain = conn.run(`INSERT INTO log (what) VALUES (?)`, ['third']);
      await Promise.all([tx, plain]);
      expect((await conn.all<{ what: string }>(`SELECT what FROM log ORDER BY seq`)).map((r) => r.what)).toEqual([
        'first',
        'second',
        'third',
      ]);
      await conn.close();
    });

    it('runs a transaction again when it was chosen as a deadlock victim', async () => {
      const url = await server.freshDatabase();
      const [a, b] = await Promise.all([
        openPostgresConnection(url, { create: true }),
        openPostgresConnection(url, { create: true }),
      ]);
      await a.run(`CREATE TABLE pair (id INT PRIMARY KEY, n INT)`);
      await a.run(`INSERT INTO pair VALUES (1, 0), (2, 0)`);
      let calls = 0;
      const crosswise = (conn: PgConnection, first: number, second: number) =>
        conn.transaction(async (tx) => {
          calls++;
          await tx.run(`UPDATE pair SET n = n + 1 WHERE id = ?`, [first]);
          await new Promise((r) => setTimeout(r, 200));
          await tx.run(`UPDATE pair SET n = n + 1 WHERE id = ?`, [second]);
        });
      await Promise.all([crosswise(a, 1, 2), crosswise(b, 2, 1)]);
      expect(calls).toBe(3);
      expect(await a.all(`SELECT n FROM pair ORDER BY id`)).toEqual([{ n: 2 }, { n: 2 }]);
      await Promise.all([a.close(), b.close()]);
    });

    it("runs the user's SQL read-only, one statement, within a time limit", async () => {
      const url = await server.freshDatabase();
      const conn = await openPostgresConnection(url, { create: true, requestTimeoutSeconds: 0.5 });
      await conn.run(`INSERT INTO runs (run_id, status, pipeline) VALUES (1, 'done', 'a'), (2, 'pending', 'b')`);
      expect(await conn.readOnlyColumn(`SELECT run_id FROM runs WHERE status = 'done'`)).toEqual([1]);
      const refused = async (sql: string) => {
        const e = await failure(conn.readOnlyColumn(sql));
        expect(e).toBeInstanceOf(MosaicError);
        return e.message;
      };
      expect(await refused(`DELETE FROM runs RETURNING run_id`)).toMatch(/^the request must only read/);
      expect(await refused(`SELEC run_id FROM runs`)).toMatch(/^the request is not valid SQL: .*syntax error/);
      expect(await refused(`SELECT run_id FROM nowhere`)).toMatch(/^the request is not valid SQL: .*nowhere/);
      expect(await refused(`SELECT 1; DELETE FROM runs`)).toMatch(/^the request is not valid SQL: .*multiple commands/);
      expect(await refused(`COMMIT`)).toMatch(/returns no rows/);
      expect(await refused(`SELECT run_id FROM runs, pg_sleep(5)`)).toMatch(/ran longer than 0.5 s/);
      expect(await conn.all(`SELECT run_id FROM runs ORDER BY run_id`)).toEqual([{ run_id: 1 }, { run_id: 2 }]);
      await conn.close();
    });

    it('opens read-only connections whose transactions cannot write', async () => {
      const url = await server.freshDatabase();
      await (await openPostgresConnection(url, { create: true })).close();
      const reader = await openPostgresConnection(url, { create: false, readonly: true });
      await expect(reader.run(`DELETE FROM system`)).rejects.toThrow(/read-only transaction/);
      expect((await reader.all(`SELECT * FROM system`)).length).toBe(3);
      await reader.close();
    });

    it('refuses a database without Mosaic tables unless creating, and a newer schema always', async () => {
      const url = await server.freshDatabase();
      await expect(openPostgresConnection(url, { create: false })).rejects.toThrow(/is not a Mosaic database/);
      await expect(openPostgresConnection(url, { create: false, readonly: true })).rejects.toThrow(
        /is not a Mosaic database/,
      );
      const conn = await openPostgresConnection(url, { create: true });
      await conn.run(`UPDATE system SET param_value = '99' WHERE param_name = 'schema_version'`);
      await conn.close();
      for (const options of [{ create: true }, { create: false }, { create: false, readonly: true }]) {
        await expect(openPostgresConnection(url, options)).rejects.toThrow(
          /was written by a newer Mosaic \(database schema 99/,
        );
      }
    });

    it('copies into a new SQLite file only, all or nothing', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-pgcopy-'));
      try {
        const conn = await openPostgresConnection(await server.freshDatabase(), { create: true });
        const existing = path.join(dir, 'taken.db');
        fs.writeFileSync(existing, 'mine');
        await expect(conn.copyTo(existing)).rejects.toThrow(/already exists/);
        expect(fs.readFileSync(existing, 'utf8')).toBe('mine');
        await expect(conn.copyTo(path.join(dir, 'missing', 'copy.db'))).rejects.toThrow(MosaicError);
        const copy = path.join(dir, 'copy.db');
        await conn.copyTo(copy);
        const db = new Database(copy, { readonly: true });
        expect(db.prepare(`SELECT param_value FROM system WHERE param_name = 'schema_version'`).pluck().get()).toBe(
          String(SCHEMA_VERSION),
        );
        db.close();
        expect(fs.readdirSync(dir).sort()).toEqual(['copy.db', 'taken.db']);
        await conn.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('keeps passwords out of errors and locations', async () => {
      const url = await server.freshDatabase();
      const withPassword = `${url.replace('mosaic@', 'mosaic:Tr0ub4dor@')}_absent`;
      const e = await failure(openPostgresConnection(withPassword, { create: true }));
      expect(e).toBeInstanceOf(MosaicError);
      expect(e).not.toBeInstanceOf(StoreUnavailableError);
      expect(e.message).toContain(`${url.replace(/\/[^/]*$/, '')}/`);
      expect(e.message).toMatch(/does not exist/);
      expect(`${e.message}\n${e.stack}`).not.toContain('Tr0ub4dor');
      const conn = await openPostgresConnection(url.replace('mosaic@', 'mosaic:Tr0ub4dor@'), { create: true });
      expect(conn.location).toBe(url);
      const bad = await failure(conn.all(`SELECT 'Tr0ub4dor' FROM nowhere`));
      expect(bad.message).toMatch(/nowhere/);
      expect(`${bad.message}\n${bad.stack}`).not.toContain('Tr0ub4dor');
      await conn.close();
    });

    it('says a server that does not answer is unavailable', async () => {
      const e = await failure(PgConnection.open(`postgres://mosaic:Tr0ub4dor@127.0.0.1:1/db`));
      expect(e).toBeInstanceOf(StoreUnavailableError);
      expect(e.message).toMatch(
        /^cannot connect to PostgreSQL database postgres:\/\/mosaic@127.0.0.1:1\/db: .*ECONNREFUSED/,
      );
    });

    describe('when the connection is lost', () => {
      it('reconnects after the server restarts and carries on', async () => {
        const conn = await openPostgresConnection(await server.freshDatabase(), { create: true, reconnectSeconds: 20 });
        await server.restart();
        expect(await conn.get(`SELECT COUNT(*) AS n FROM system`)).toEqual({ n: 3 });
        await server.stop();
        const later = conn.transaction((tx) =>
          tx.run(`UPDATE system SET param_value = 'x' WHERE param_name = 'next_run_id'`),
        );
        await new Promise((r) => setTimeout(r, 1500));
        await server.start();
        expect(await later).toBe(1);
        await conn.close();
      });

      it('gives up after the reconnection time with a StoreUnavailableError naming the database', async () => {
        const url = await server.freshDatabase();
        const conn = await openPostgresConnection(url, { create: true, reconnectSeconds: 1 });
        await server.stop();
        try {
          const started = Date.now();
          const e = await failure(conn.get(`SELECT 1`));
          expect(e).toBeInstanceOf(StoreUnavailableError);
          expect(e.message).toContain(
            `lost the connection to PostgreSQL database ${url} and could not reconnect within 1 s`,
          );
          expect(Date.now() - started).toBeLessThan(5000);
        } finally {
          await server.start();
        }
        await conn.close();
      });

      it('runs a transaction cut before its commit again, and one whose commit answer was lost only once', async () => {
        const cutter = await startTcpCutter(server.port);
        const url = (await server.freshDatabase()).replace(`:${server.port}/`, `:${cutter.port}/`);
        const conn = await openPostgresConnection(url, { create: true });
        await conn.run(`CREATE TABLE events (what TEXT)`);
        let calls = 0;
        const insert = (what: string) =>
          conn.transaction(async (tx) => {
            calls++;
            await tx.run(`INSERT INTO events VALUES (?)`, [what]);
            return what;
          });
        cutter.cutAfterAnswerTo('INSERT INTO events');
        expect(await insert('cut before commit')).toBe('cut before commit');
        expect(calls).toBe(2);
        calls = 0;
        cutter.cutAfterAnswerTo('COMMIT');
        expect(await insert('commit answer lost')).toBe('commit answer lost');
        expect(calls).toBe(1);
        expect(cutter.cuts).toBe(2);
        expect((await conn.all<{ what: string }>(`SELECT what FROM events ORDER BY what`)).map((r) => r.what)).toEqual([
          'commit answer lost',
          'cut before commit',
        ]);
        await conn.close();
        await cutter.close();
      });

      it('runs again a commit lost in a crash, though the restarted server gave its transaction id to another that committed', async () => {
        const cutter = await startTcpCutter(server.port);
        const direct = await server.freshDatabase();
        const url = direct.replace(`:${server.port}/`, `:${cutter.port}/`);
        const conn = await openPostgresConnection(url, { create: true });
        const other = await openPostgresConnection(direct, { create: false });
        await conn.run(`CREATE TABLE events (what TEXT)`);
        const ids: string[] = [];
        const insert = (on: PgConnection, what: string) =>
          on.transaction(async (tx) => {
            await tx.run(`INSERT INTO events VALUES (?)`, [what]);
            ids.push((await tx.get<{ id: string }>(`SELECT txid_current()::text AS id`))!.id);
            return what;
          });
        // The COMMIT never reaches the server, which then crashes: the transaction was never in its log.
        cutter.cutBefore('COMMIT');
        cutter.hold();
        const lost = insert(conn, 'commit lost in the crash');
        while (cutter.cuts === 0) await new Promise((r) => setTimeout(r, 20));
        await server.restart();
        expect(await insert(other, 'another after the restart')).toBe('another after the restart');
        // The scenario: the restarted server handed the lost transaction's id out again.
        expect(ids[1]).toBe(ids[0]);
        cutter.release();
        expect(await lost).toBe('commit lost in the crash');
        expect(ids).toHaveLength(3);
        expect((await other.all<{ what: string }>(`SELECT what FROM events ORDER BY what`)).map((r) => r.what)).toEqual(
          ['another after the restart', 'commit lost in the crash'],
        );
        // Each connection keeps the mark of its last transaction only.
        expect(await other.get(`SELECT COUNT(*) AS n FROM mosaic_commits`)).toEqual({ n: 2 });
        await conn.close();
        await other.close();
        await cutter.close();
      });
    });
  },
);
