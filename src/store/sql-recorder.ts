/**
 * The recorder role in SQL: what a worker writes about the runs it holds. Every write first
 * checks, in its own transaction, that the worker still holds the run's claim (the run's rows
 * locked until it commits): otherwise it throws ClaimLostError and writes nothing. A failed
 * continuation of a run that has results leaves the run done with them.
 */
import type { SqlRunner } from './connection.js';
import { ClaimLostError } from './errors.js';
import { epochsDone, HISTORY_COLUMNS, RESULT_COLUMNS, SET_FACT, upsert, type SqlContext } from './sql-context.js';
import type { Claim, RunRecorder, StoreIdentity } from './types.js';
import type { RunResults } from '../core/result-fields.js';
import type { EpochRecord, LoggedMetric, RunStatus } from '../core/run-records.js';

const INSERT_HISTORY = `INSERT INTO history (run_id, ${HISTORY_COLUMNS.map((c) => c.sql).join(', ')}) VALUES (?, ${HISTORY_COLUMNS.map(() => '?').join(', ')})`;
const SET_METRIC = upsert('history_metrics', ['run_id', 'epoch', 'name'], ['value']);
const SET_METRIC_INFO = upsert('metric_info', ['name'], ['better']);
const SET_RESULTS = upsert(
  'run_results',
  ['run_id'],
  RESULT_COLUMNS.map((c) => c.sql),
);

export class SqlRecorder implements RunRecorder {
  constructor(private readonly sql: SqlContext) {}

  identity(): Promise<StoreIdentity> {
    return this.sql.identity();
  }

  history(runId: number): Promise<EpochRecord[]> {
    return this.sql.history(runId);
  }

  async recordEpoch(claim: Claim, epoch: EpochRecord, metrics: LoggedMetric[] = []): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      await tx.run(INSERT_HISTORY, [claim.runId, ...HISTORY_COLUMNS.map((c) => epoch[c.name])]);
      for (const m of metrics) {
        await tx.run(SET_METRIC, [claim.runId, epoch.epoch, m.name, Number.isFinite(m.value) ? m.value : null]);
        await tx.run(SET_METRIC_INFO, [m.name, m.better]);
      }
      await tx.run(`UPDATE mosaic_queue SET heartbeat_at = ${this.sql.now} WHERE run_id = ?`, [claim.runId]);
    });
  }

  async recordFacts(claim: Claim, facts: Record<string, string>): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      for (const [name, value] of Object.entries(facts)) await tx.run(SET_FACT, [claim.runId, name, value]);
    });
  }

  async finishRun(claim: Claim, r: RunResults, note?: string): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      await tx.run(SET_RESULTS, [claim.runId, ...RESULT_COLUMNS.map((c) => r[c.name])]);
      await this.sql.setRunStatus(tx, claim.runId, 'done', note ?? 'ok');
      // `epochs` stays the design's (configured, or raised by rerun): early stopping never splits groups.
      const { epochs_target } = (await tx.get<{ epochs_target: number | null }>(
        `SELECT epochs_target FROM mosaic_queue WHERE run_id = ?`,
        [claim.runId],
      ))!;
      const target = epochs_target ?? r.epochs;
      await tx.run(SET_FACT, [claim.runId, 'epochs', String(Math.max(target, r.epochs))]);
      await tx.run(SET_FACT, [claim.runId, 'epochs_done', String(r.epochs)]);
      if (r.epochs < target) await tx.run(SET_FACT, [claim.runId, 'stopped_epoch', String(r.epochs)]);
      else await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'stopped_epoch'`, [claim.runId]);
      await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`, [claim.runId]);
      await tx.run(`UPDATE mosaic_queue SET finished_at = ${this.sql.now} WHERE run_id = ?`, [claim.runId]);
    });
  }

  async failRun(
    claim: Claim,
    status: 'error' | 'failed' | 'diverged',
    message: string,
    traceback: string,
  ): Promise<RunStatus> {
    return this.sql.conn.transaction(async (tx) => {
      await this.mustHold(tx, claim);
      return recordFailure(this.sql, tx, claim.runId, status, message, traceback);
    });
  }

  private async mustHold(tx: SqlRunner, claim: Claim): Promise<void> {
    if (!(await this.sql.holds(tx, claim))) throw new ClaimLostError(claim.runId, claim.workerId);
  }
}

/**
 * Records a failed attempt of a run in `mosaic_failures` and ends it: back to done with its results
 * if it had some (a continuation failed), otherwise with `status`. Returns the status it has now.
 * Also how the queue fails the runs of a dead worker that used up their retries.
 */
export async function recordFailure(
  sql: SqlContext,
  tx: SqlRunner,
  runId: number,
  status: 'error' | 'failed' | 'diverged',
  message: string,
  traceback: string,
): Promise<RunStatus> {
  const q = (await tx.get<{ attempts: number; epochs: number }>(
    `SELECT attempts, ${epochsDone('?')} AS epochs FROM mosaic_queue WHERE run_id = ?`,
    [runId, runId],
  ))!;
  await tx.run(
    `INSERT INTO mosaic_failures (run_id, attempt, epoch, status, message, traceback, at) VALUES (?, ?, ?, ?, ?, ?, ${sql.now})`,
    [runId, q.attempts, q.epochs, status, message, traceback],
  );
  const kept = await tx.get<{ epochs: number }>(`SELECT epochs FROM run_results WHERE run_id = ?`, [runId]);
  await tx.run(`UPDATE mosaic_queue SET finished_at = ${sql.now} WHERE run_id = ?`, [runId]);
  if (kept) {
    // A continuation failed: the run's finished results stand; it can be continued again.
    await sql.setRunStatus(tx, runId, 'done', 'ok');
    const before = await tx.get<{ v: string }>(
      `SELECT param_value AS v FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`,
      [runId],
    );
    await tx.run(SET_FACT, [runId, 'epochs', before?.v ?? String(kept.epochs)]);
    await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'epochs_before_rerun'`, [runId]);
    await tx.run(`UPDATE mosaic_queue SET epochs_target = ? WHERE run_id = ?`, [q.epochs, runId]);
    return 'done';
  }
  await sql.setRunStatus(tx, runId, status, message);
  await tx.run(SET_FACT, [runId, 'traceback', traceback]);
  if (status === 'diverged') await tx.run(SET_FACT, [runId, 'diverged_epoch', String(Number(q.epochs) + 1)]);
  return status;
}
