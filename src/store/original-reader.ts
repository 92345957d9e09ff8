/**
 * A database written by the original Mosaic (Python, ml-mosaic), read as it is: its four tables
 * (`runs`, `params`, `run_results`, `system`) answer the reader role, so that status, compare,
 * the plots and the dashboard open it. Nothing here writes: the connection is read-only, and no
 * writer is ever given such a database (`mosaic import` copies it into a Mosaic one). What the
 * original lacks reads as empty: no per-epoch history (it kept it in `.pt` files), no queue, no
 * logged metrics, no pause. Its tables have no keys, so a fact or result written twice (a rerun)
 * is read as its last row; rowid order is SQLite's, the only backend the original had.
 */
import type { SqlConnection } from './connection.js';
import { RESULT_COLUMNS } from './sql-context.js';
import { runIdsOfColumn } from './sql-reader.js';
import type { OpenRun, RaceRoundRow, RunOverview, StoreIdentity, StoreReader } from './types.js';
import type { ResultName, RunResults } from '../core/result-fields.js';
import { RUN_STATUSES, type EpochRecord, type RunStatus } from '../core/run-records.js';

/** The tables of an original database: all four present and no `mosaic_queue` is how one is recognised. */
export const ORIGINAL_TABLES = ['runs', 'params', 'run_results', 'system'] as const;

/** What a writer is told about an original database. */
export const refuseOriginal = (location: string): string =>
  `${location} was written by the original Mosaic (Python): Mosaic reads it as it is (status, compare, metaplot, perfanalysis, dashboard) but never writes to it; \`mosaic import ${location} NEW.db\` copies it into a Mosaic database`;

/** A status of the original's (running, done, error) as Mosaic's; any other is a run that failed. */
export const originalStatus = (status: unknown): RunStatus =>
  RUN_STATUSES.includes(status as RunStatus) ? (status as RunStatus) : 'failed';

type RunRow = {
  run_id: number;
  status: unknown;
  pipeline: string | null;
  return_status: string | null;
  traceback: unknown;
  epochs: unknown;
  has_results: number | null;
} & Record<ResultName, number | null>;

/** A fact's value as Mosaic stores it: text (the original's sweeps wrote integers). */
const asText = (value: unknown): string => (typeof value === 'string' ? value : String(value));

/** How the original said a run finished well: its losses and time, already in `run_results`. */
const FINISHED_LINE = /^train_loss=[^\t]*\ttest_loss=[^\t]*\texecution_time=[^\t]*$/;

/** A run's return status as Mosaic's: `ok` for the original's line of a run done; a status Mosaic does not know is kept here. */
function returnStatusOf(status: RunStatus, row: RunRow): string | null {
  if (status === 'done' && (row.return_status === null || FINISHED_LINE.test(row.return_status))) return 'ok';
  return row.return_status ?? (status === row.status ? null : asText(row.status));
}

export class OriginalReader implements StoreReader {
  readonly notice: string;
  private resultColumns?: Promise<Set<string>>;

  constructor(
    private readonly conn: SqlConnection,
    readonly location: string,
  ) {
    this.notice = `${location} was written by the original Mosaic (Python) and is read as it is, read-only: it has no per-epoch histories (the original kept them in .pt files), so no loss curves; \`mosaic import ${location} NEW.db\` copies it into a Mosaic database`;
  }

  async identity(): Promise<StoreIdentity> {
    return { storeId: 'original', store: this.location };
  }

  async counts(): Promise<Record<RunStatus, number>> {
    const out = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
    for (const row of await this.conn.all<{ status: unknown; n: number }>(
      `SELECT status, COUNT(*) AS n FROM runs GROUP BY status`,
    ))
      out[originalStatus(row.status)] += Number(row.n);
    return out;
  }

  async isPaused(): Promise<boolean> {
    return false;
  }

  async busyWorkers(): Promise<number> {
    return 0;
  }

  async runningClaims(): Promise<{ host: string; pid: number }[]> {
    return [];
  }

  async getSetting<T>(): Promise<T | undefined> {
    return undefined;
  }

  async queryRunIds(sql: string): Promise<number[]> {
    return runIdsOfColumn(await this.conn.readOnlyColumn(sql));
  }

  async allRunIds(): Promise<number[]> {
    const rows = await this.conn.all<{ run_id: number }>(`SELECT DISTINCT run_id FROM runs ORDER BY run_id`);
    return rows.map((r) => Number(r.run_id));
  }

  async metricDirections(): Promise<Record<string, 'higher' | 'lower'>> {
    return {};
  }

  async facts(runId: number): Promise<Record<string, string>> {
    return (await this.readFacts(runId)).get(runId) ?? {};
  }

  allFacts(): Promise<Map<number, Record<string, string>>> {
    return this.readFacts();
  }

  async history(): Promise<EpochRecord[]> {
    return [];
  }

  async histories(runIds: number[]): Promise<Map<number, EpochRecord[]>> {
    return new Map(runIds.map((id) => [id, []]));
  }

  async overview(runIds?: number[]): Promise<RunOverview[]> {
    const have = await this.columns();
    const lastFact = (name: string) =>
      `(SELECT p.param_value FROM params p WHERE p.run_id = r.run_id AND p.param_name = '${name}' ORDER BY p.rowid DESC LIMIT 1)`;
    const rows = await this.conn.all<RunRow>(
      `SELECT r.run_id, r.status, r.pipeline, r.return_status, ${lastFact('traceback')} AS traceback,
         ${lastFact('epochs')} AS epochs, rr.run_id AS has_results,
         ${RESULT_COLUMNS.map((c) => `${have.has(c.name) ? `rr.${c.sql}` : 'NULL'} AS ${c.name}`).join(', ')}
       FROM runs r
       LEFT JOIN run_results rr ON rr.rowid = (SELECT MAX(x.rowid) FROM run_results x WHERE x.run_id = r.run_id)
       ORDER BY r.run_id`,
    );
    const wanted = runIds ? new Set(runIds) : undefined;
    return rows
      .filter((r) => !wanted || wanted.has(Number(r.run_id)))
      .map((r) => {
        const status = originalStatus(r.status);
        const results =
          r.has_results === null
            ? null
            : (Object.fromEntries(RESULT_COLUMNS.map((c) => [c.name, r[c.name] ?? null])) as unknown as RunResults);
        return {
          runId: Number(r.run_id),
          status,
          pipeline: r.pipeline ?? '',
          returnStatus: returnStatusOf(status, r),
          traceback: r.traceback === null || r.traceback === undefined ? null : asText(r.traceback),
          results,
          epochsDone: results?.epochs ?? 0,
          epochsTarget: Number(r.epochs) || 0,
          device: null,
          metrics: {},
          lastFailure: null,
        };
      });
  }

  async openRuns(): Promise<OpenRun[]> {
    return (await this.overview())
      .filter(
        (r): r is RunOverview & { status: 'pending' | 'running' } => r.status === 'running' || r.status === 'pending',
      )
      .map((r) => ({
        runId: r.runId,
        status: r.status,
        pipeline: r.pipeline,
        epochsDone: 0,
        epochsTarget: r.epochsTarget,
        device: null,
        last: null,
        heartbeatAt: null,
        silentSeconds: null,
        host: null,
      }));
  }

  async runDir(): Promise<string | null> {
    return null;
  }

  copyTo(file: string): Promise<void> {
    return this.conn.copyTo(file);
  }

  async raceRounds(): Promise<RaceRoundRow[]> {
    return [];
  }

  integrityCheck(): Promise<string> {
    return this.conn.integrityCheck();
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  /** The facts of one run or all, by run id; a fact written twice is its last row. */
  private async readFacts(runId?: number): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>();
    const rows = await this.conn.all<{ run_id: number; param_name: string; param_value: unknown }>(
      `SELECT run_id, param_name, param_value FROM params ${runId === undefined ? '' : 'WHERE run_id = ?'} ORDER BY rowid`,
      runId === undefined ? [] : [runId],
    );
    for (const row of rows) {
      if (row.param_value === null || row.param_value === undefined) continue;
      const id = Number(row.run_id);
      let facts = out.get(id);
      if (!facts) {
        facts = {};
        out.set(id, facts);
      }
      facts[asText(row.param_name)] = asText(row.param_value);
    }
    return out;
  }

  /** The result fields the original's `run_results` has (it lacks the slope spreads and best epoch). */
  private columns(): Promise<Set<string>> {
    this.resultColumns ??= this.conn
      .all<{ name: string }>(`SELECT name FROM pragma_table_info('run_results')`)
      .then((rows) => {
        const names = new Set(rows.map((r) => r.name));
        return new Set(
          RESULT_COLUMNS.filter((c) => names.has(c.sql.replace(/^"|"$/g, ''))).map((c) => c.name as string),
        );
      });
    return this.resultColumns;
  }
}
