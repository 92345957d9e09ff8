/**
 * The reader role in SQL: status, analysis, the dashboard and copies. It never writes: a command
 * that only reads gets this role alone. `histories`, and `overview` of a few runs, read only the
 * rows of the runs asked for.
 */
import { MosaicError } from '../core/errors.js';
import type { ResultName, RunResults } from '../core/result-fields.js';
import type { EpochRecord, RunStatus } from '../core/run-records.js';
import {
  epochsDone,
  forEachChunk,
  historyFields,
  placeholders,
  RESULT_COLUMNS,
  ROWS_PER_STATEMENT,
  type SqlContext,
} from './sql-context.js';
import type { FailedAttempt, OpenRun, RaceRoundRow, RunOverview, StoreIdentity, StoreReader } from './types.js';

type OverviewRow = {
  run_id: number;
  status: RunStatus;
  pipeline: string;
  return_status: string | null;
  traceback: string | null;
  epochs_target: number | null;
  device: string | null;
  epochs_done: number;
  has_results: number | null;
} & Record<ResultName, number>;

/** The run ids a user's request returned (its first column), distinct and sorted; anything else is refused. */
export function runIdsOfColumn(values: unknown[]): number[] {
  const ids = values.map(Number);
  const bad = values.find((_, i) => !Number.isInteger(ids[i]));
  if (bad !== undefined)
    throw new MosaicError(`the request must return run ids in its first column, got ${JSON.stringify(bad)}`);
  return [...new Set(ids)].sort((a, b) => a - b);
}

export class SqlReader implements StoreReader {
  constructor(private readonly sql: SqlContext) {}

  get location(): string {
    return this.sql.location;
  }

  identity(): Promise<StoreIdentity> {
    return this.sql.identity();
  }

  counts(): Promise<Record<RunStatus, number>> {
    return this.sql.counts();
  }

  isPaused(): Promise<boolean> {
    return this.sql.isPaused();
  }

  busyWorkers(): Promise<number> {
    return this.sql.busyWorkers();
  }

  runningClaims(): Promise<{ host: string; pid: number }[]> {
    return this.sql.conn.all(
      `SELECT q.host, q.pid FROM runs r JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.status = 'running'`,
    );
  }

  async getSetting<T>(name: string): Promise<T | undefined> {
    const raw = await this.sql.system(this.sql.conn, `setting.${name}`);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }

  async queryRunIds(sql: string): Promise<number[]> {
    return runIdsOfColumn(await this.sql.conn.readOnlyColumn(sql));
  }

  async allRunIds(): Promise<number[]> {
    return (await this.sql.conn.all<{ run_id: number }>(`SELECT run_id FROM runs ORDER BY run_id`)).map(
      (r) => r.run_id,
    );
  }

  async metricDirections(): Promise<Record<string, 'higher' | 'lower'>> {
    const rows = await this.sql.conn.all<{ name: string; better: 'higher' | 'lower' }>(
      `SELECT name, better FROM metric_info`,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.better]));
  }

  async facts(runId: number): Promise<Record<string, string>> {
    const rows = await this.sql.conn.all<{ param_name: string; param_value: string }>(
      `SELECT param_name, param_value FROM params WHERE run_id = ?`,
      [runId],
    );
    return Object.fromEntries(rows.map((r) => [r.param_name, r.param_value]));
  }

  async allFacts(): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>();
    for (const row of await this.sql.conn.all<{ run_id: number; param_name: string; param_value: string }>(
      `SELECT run_id, param_name, param_value FROM params`,
    )) {
      let facts = out.get(row.run_id);
      if (!facts) {
        facts = {};
        out.set(row.run_id, facts);
      }
      facts[row.param_name] = row.param_value;
    }
    return out;
  }

  history(runId: number): Promise<EpochRecord[]> {
    return this.sql.history(runId);
  }

  async histories(runIds: number[]): Promise<Map<number, EpochRecord[]>> {
    const out = new Map<number, EpochRecord[]>(runIds.map((id) => [id, []]));
    // Each run's epochs come whole from one statement: the chunks hold distinct ids.
    await forEachChunk([...out.keys()], async (inList, chunk) => {
      const rows = await this.sql.conn.all<EpochRecord & { run_id: number }>(
        `SELECT run_id, ${historyFields()} FROM history WHERE run_id IN ${inList} ORDER BY run_id, epoch`,
        chunk,
      );
      for (const { run_id, ...record } of rows) out.get(run_id)?.push(record);
    });
    return out;
  }

  async overview(runIds?: number[]): Promise<RunOverview[]> {
    // A few runs (a run page, a rerun's selection): only theirs are read; otherwise all at once.
    const few = runIds !== undefined && runIds.length > 0 && runIds.length <= ROWS_PER_STATEMENT ? runIds : undefined;
    const rows = await this.sql.conn.all<OverviewRow>(
      `SELECT r.run_id, r.status, r.pipeline, r.return_status, p.param_value AS traceback, q.epochs_target, q.device,
         ${epochsDone('r.run_id')} AS epochs_done, rr.run_id AS has_results,
         ${RESULT_COLUMNS.map((c) => `rr.${c.sql} AS ${c.name}`).join(', ')}
       FROM runs r
       LEFT JOIN mosaic_queue q ON q.run_id = r.run_id
       LEFT JOIN params p ON p.run_id = r.run_id AND p.param_name = 'traceback'
       LEFT JOIN run_results rr ON rr.run_id = r.run_id
       ${few ? `WHERE r.run_id IN ${placeholders(few.length)}` : ''}
       ORDER BY r.run_id`,
      few ?? [],
    );
    const wanted = runIds ? new Set(runIds) : undefined;
    const metrics = await this.lastMetrics(few);
    const failures = await this.lastFailures(few);
    return rows
      .filter((r) => !wanted || wanted.has(r.run_id))
      .map((r) => ({
        metrics: metrics.get(r.run_id) ?? {},
        lastFailure: failures.get(r.run_id) ?? null,
        runId: r.run_id,
        status: r.status,
        pipeline: r.pipeline,
        returnStatus: r.return_status,
        traceback: r.traceback,
        epochsDone: Number(r.epochs_done),
        epochsTarget: r.epochs_target ?? 0,
        device: r.device,
        results:
          r.has_results === null
            ? null
            : (Object.fromEntries(RESULT_COLUMNS.map((c) => [c.name, r[c.name]])) as unknown as RunResults),
      }));
  }

  async openRuns(): Promise<OpenRun[]> {
    const rows = await this.sql.conn.all<{
      run_id: number;
      status: 'pending' | 'running';
      pipeline: string;
      epochs_target: number | null;
      device: string | null;
      heartbeat_at: number | null;
      silent: number | null;
      host: string | null;
      epochs_done: number;
    }>(
      `SELECT r.run_id, r.status, r.pipeline, q.epochs_target, q.device, q.heartbeat_at, q.host,
         ${this.sql.now} - q.heartbeat_at AS silent, ${epochsDone('r.run_id')} AS epochs_done
       FROM runs r LEFT JOIN mosaic_queue q ON q.run_id = r.run_id
       WHERE r.status IN ('pending', 'running') ORDER BY r.run_id`,
    );
    const last = new Map(
      (
        await this.sql.conn.all<EpochRecord & { run_id: number }>(
          `SELECT h.run_id, ${historyFields('h')} FROM history h JOIN runs r ON r.run_id = h.run_id
           WHERE r.status = 'running' AND h.epoch = (SELECT MAX(h2.epoch) FROM history h2 WHERE h2.run_id = h.run_id)`,
        )
      ).map(({ run_id, ...e }) => [run_id, e]),
    );
    return rows.map((r) => ({
      runId: r.run_id,
      status: r.status,
      pipeline: r.pipeline,
      epochsDone: Number(r.epochs_done),
      epochsTarget: r.epochs_target ?? 0,
      device: r.status === 'running' ? r.device : null,
      last: last.get(r.run_id) ?? null,
      heartbeatAt: r.status === 'running' && r.heartbeat_at !== null ? Number(r.heartbeat_at) : null,
      silentSeconds: r.status === 'running' && r.silent !== null ? Math.max(0, Number(r.silent)) : null,
      host: r.status === 'running' ? r.host : null,
    }));
  }

  async runDir(runId: number): Promise<string | null> {
    return (
      (
        await this.sql.conn.get<{ run_dir: string | null }>(`SELECT run_dir FROM mosaic_queue WHERE run_id = ?`, [
          runId,
        ])
      )?.run_dir ?? null
    );
  }

  copyTo(file: string): Promise<void> {
    return this.sql.conn.copyTo(file);
  }

  integrityCheck(): Promise<string> {
    return this.sql.conn.integrityCheck();
  }

  async raceRounds(): Promise<RaceRoundRow[]> {
    const rows = await this.sql.conn.all<{
      data_key: string;
      round: number;
      grp: string;
      decision: RaceRoundRow['decision'];
      n: number;
      mean: number | null;
      diff: number | null;
      p: number | null;
      equivalence_p: number | null;
      threshold: number;
      over_reason: string | null;
      decided_at: number;
    }>(`SELECT * FROM mosaic_race ORDER BY data_key, round, position`);
    return rows.map((r) => ({
      dataKey: r.data_key,
      round: Number(r.round),
      group: r.grp,
      decision: r.decision,
      n: Number(r.n),
      mean: r.mean,
      diff: r.diff,
      p: r.p,
      equivalenceP: r.equivalence_p,
      threshold: r.threshold,
      over: r.over_reason,
      decidedAt: r.decided_at,
    }));
  }

  close(): Promise<void> {
    return this.sql.conn.close();
  }

  /** The value of each logged metric at the last epoch that logged it, by run (of `runIds`, or all). */
  private async lastMetrics(runIds?: number[]): Promise<Map<number, Record<string, number | null>>> {
    const out = new Map<number, Record<string, number | null>>();
    const rows = await this.sql.conn.all<{ run_id: number; name: string; value: number | null }>(
      `SELECT m.run_id, m.name, m.value FROM history_metrics m
       JOIN (SELECT run_id, name, MAX(epoch) AS epoch FROM history_metrics GROUP BY run_id, name) last
         ON last.run_id = m.run_id AND last.name = m.name AND last.epoch = m.epoch
       ${runIds ? `WHERE m.run_id IN ${placeholders(runIds.length)}` : ''}`,
      runIds ?? [],
    );
    for (const row of rows) {
      let mine = out.get(row.run_id);
      if (!mine) {
        mine = {};
        out.set(row.run_id, mine);
      }
      mine[row.name] = row.value;
    }
    return out;
  }

  /** The latest failed attempt of each run (of `runIds`, or all). */
  private async lastFailures(runIds?: number[]): Promise<Map<number, FailedAttempt>> {
    const rows = await this.sql.conn.all<FailedAttempt & { run_id: number }>(
      `SELECT run_id, attempt, epoch, status, message, at FROM mosaic_failures
       ${runIds ? `WHERE run_id IN ${placeholders(runIds.length)}` : ''} ORDER BY run_id, at, attempt`,
      runIds ?? [],
    );
    return new Map(rows.map(({ run_id, ...f }) => [run_id, f]));
  }
}
