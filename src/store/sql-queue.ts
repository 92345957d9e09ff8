/**
 * The queue role in SQL: workers claim, keep alive and give back runs. A claim is one
 * transaction (SQLite's write lock; PostgreSQL's `FOR UPDATE SKIP LOCKED`), so concurrent claims
 * never take the same run, and none while the store is paused. Claims and heartbeats are stamped
 * with the database's clock, by which staleness is judged. A run given back is pending again, to
 * continue from its last checkpoint; `attempts` counts its claims (not those released unused), and
 * a dead worker's run that has used up its `retries` fails instead.
 */
import type { SqlRunner } from './connection.js';
import { epochsDone, SET_FACT, type SqlContext } from './sql-context.js';
import { recordFailure } from './sql-recorder.js';
import type { Claim, ClaimedRun, RunQueue, StoreIdentity, WorkerIdentity } from './types.js';
import type { RunStatus } from '../core/run-records.js';
import type { RunSpec } from '../core/run-spec.js';

/** A pending run as a claim reads it. */
interface ClaimRow {
  run_id: number;
  pipeline: string;
  spec: string;
  seed: number;
  epochs_target: number;
  run_dir: string;
  pack_key: string;
  epochs_done: number;
}

const CLAIM_COLUMNS = `r.run_id, r.pipeline, q.spec, q.seed, q.epochs_target, q.run_dir, q.pack_key, ${epochsDone('r.run_id')} AS epochs_done`;
const FROM_PENDING = `FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'pending'`;

export class SqlQueue implements RunQueue {
  constructor(private readonly sql: SqlContext) {}

  async claimPack(
    worker: WorkerIdentity,
    max: number,
    alone?: (run: Pick<ClaimedRun, 'packKey' | 'spec'>) => boolean,
  ): Promise<ClaimedRun[]> {
    const identity = await this.sql.identity();
    const lock = this.sql.conn.dialect.skipLocked;
    return this.sql.conn.transaction(async (tx) => {
      if (await this.sql.isPaused(tx)) return [];
      const first = await tx.get<ClaimRow>(`SELECT ${CLAIM_COLUMNS} ${FROM_PENDING} ORDER BY r.run_id LIMIT 1${lock}`);
      if (!first) return [];
      const mates =
        max > 1 && !alone?.({ packKey: first.pack_key, spec: JSON.parse(first.spec) as RunSpec })
          ? await tx.all<ClaimRow>(
              `SELECT ${CLAIM_COLUMNS} ${FROM_PENDING} AND q.pack_key = ? AND q.epochs_target = ? AND r.run_id > ? AND ${epochsDone('r.run_id')} = ? ORDER BY r.run_id LIMIT ?${lock}`,
              [first.pack_key, first.epochs_target, first.run_id, first.epochs_done, max - 1],
            )
          : [];
      const claimed: ClaimedRun[] = [];
      for (const row of [first, ...mates]) claimed.push(await this.claimRow(tx, row, worker, identity));
      return claimed;
    });
  }

  private async claimRow(
    tx: SqlRunner,
    row: ClaimRow,
    worker: WorkerIdentity,
    identity: StoreIdentity,
  ): Promise<ClaimedRun> {
    await this.sql.setRunStatus(tx, row.run_id, 'running');
    await tx.run(
      `UPDATE mosaic_queue SET worker = ?, host = ?, pid = ?, device = ?, claimed_at = ${this.sql.now}, heartbeat_at = ${this.sql.now}, finished_at = NULL, attempts = attempts + 1 WHERE run_id = ?`,
      [worker.id, worker.host, worker.pid, worker.device ?? null, row.run_id],
    );
    await tx.run(SET_FACT, [row.run_id, 'host', worker.host]);
    if (worker.device) await tx.run(SET_FACT, [row.run_id, 'device', worker.device]);
    return {
      runId: row.run_id,
      workerId: worker.id,
      runDir: row.run_dir,
      owner: {
        storeId: identity.storeId,
        store: identity.store,
        runId: row.run_id,
        ...(identity.copyOf ? { copyOf: identity.copyOf } : {}),
      },
      spec: JSON.parse(row.spec) as RunSpec,
      seed: Number(row.seed),
      shortForm: row.pipeline,
      epochsDone: Number(row.epochs_done),
      epochsTarget: row.epochs_target,
      packKey: row.pack_key,
    };
  }

  async releaseRuns(claims: Claim[]): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      for (const c of claims) {
        if (!(await this.sql.holds(tx, c))) continue;
        await this.sql.setRunStatus(tx, c.runId, 'pending');
        await tx.run(`UPDATE mosaic_queue SET attempts = attempts - 1, worker = NULL WHERE run_id = ?`, [c.runId]);
      }
    });
  }

  async heartbeat(claims: Claim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.sql.conn.transaction(async (tx) => {
      for (const c of claims)
        await tx.run(`UPDATE mosaic_queue SET heartbeat_at = ${this.sql.now} WHERE run_id = ? AND worker = ?`, [
          c.runId,
          c.workerId,
        ]);
    });
  }

  async releaseRunsOfDeadWorker(
    workerId: string,
    message: string,
    retries: number,
  ): Promise<{ failed: number[]; retried: number[] }> {
    return this.sql.conn.transaction(async (tx) => {
      const failed: number[] = [];
      const retried: number[] = [];
      for (const { run_id: id, attempts } of await this.runningOf(tx, workerId)) {
        if (attempts <= retries) {
          await this.sql.setRunStatus(tx, id, 'pending');
          await tx.run(SET_FACT, [id, 'last_failure', message]);
          retried.push(id);
        } else if ((await recordFailure(this.sql, tx, id, 'failed', message, message)) === 'failed') {
          failed.push(id);
        }
      }
      return { failed, retried };
    });
  }

  async requeueRunsOfWorker(workerId: string): Promise<number[]> {
    return this.sql.conn.transaction(async (tx) => {
      const ids = (await this.runningOf(tx, workerId)).map((r) => r.run_id);
      for (const id of ids) await this.sql.setRunStatus(tx, id, 'pending');
      return ids;
    });
  }

  async reclaimStale(isAlive: (host: string, pid: number) => boolean, staleSeconds: number): Promise<number[]> {
    return this.sql.conn.transaction(async (tx) => {
      const rows = await tx.all<{ run_id: number; host: string | null; pid: number | null; silent: number }>(
        `SELECT r.run_id, q.host, q.pid, ${this.sql.now} - COALESCE(q.heartbeat_at, 0) AS silent
         FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running' ORDER BY r.run_id${this.sql.conn.dialect.forUpdate}`,
      );
      const stale = rows.filter(
        (r) => r.host === null || r.pid === null || !isAlive(r.host, r.pid) || r.silent > staleSeconds,
      );
      for (const r of stale) await this.sql.setRunStatus(tx, r.run_id, 'pending');
      return stale.map((r) => r.run_id);
    });
  }

  isPaused(): Promise<boolean> {
    return this.sql.isPaused();
  }

  counts(): Promise<Record<RunStatus, number>> {
    return this.sql.counts();
  }

  busyWorkers(): Promise<number> {
    return this.sql.busyWorkers();
  }

  async markWorkerAlive(worker: WorkerIdentity): Promise<void> {
    await this.sql.conn.run(
      `INSERT INTO mosaic_workers (worker, host, pid, seen_at) VALUES (?, ?, ?, ${this.sql.now})
       ON CONFLICT (worker) DO UPDATE SET host = excluded.host, pid = excluded.pid, seen_at = excluded.seen_at`,
      [worker.id, worker.host, worker.pid],
    );
  }

  async forgetWorker(workerId: string): Promise<void> {
    await this.sql.conn.run(`DELETE FROM mosaic_workers WHERE worker = ?`, [workerId]);
  }

  async idleWorkers(liveSeconds: number): Promise<number> {
    const row = await this.sql.conn.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM mosaic_workers w WHERE w.seen_at > ${this.sql.now} - ?
         AND NOT EXISTS (SELECT 1 FROM mosaic_queue q JOIN runs r ON r.run_id = q.run_id WHERE q.worker = w.worker AND r.status = 'running')`,
      [liveSeconds],
    );
    return Number(row?.n ?? 0);
  }

  /** The runs a worker holds, locked until the transaction ends. */
  private runningOf(tx: SqlRunner, workerId: string): Promise<{ run_id: number; attempts: number }[]> {
    return tx.all(
      `SELECT r.run_id, q.attempts FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE q.worker = ? AND r.status = 'running' ORDER BY r.run_id${this.sql.conn.dialect.forUpdate}`,
      [workerId],
    );
  }
}
