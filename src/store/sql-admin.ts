/**
 * The admin role in SQL: the commands that change an experiment (run, rerun, rekey, delete,
 * pause, savedb). Each change is one transaction. Enqueued runs get new consecutive ids (never
 * one used before, even when deleted), each its folder inside this database's own; runs put back
 * to pending keep their epochs, to continue from their last checkpoint.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { SqlRunner } from './connection.js';
import { databaseName } from './location.js';
import {
  epochsDone,
  forEachChunk,
  RESULT_COLUMNS,
  ROWS_PER_STATEMENT,
  SET_FACT,
  SET_SYSTEM,
  type SqlContext,
} from './sql-context.js';
import type {
  ExperimentRecord,
  ImportedRun,
  RaceRepeat,
  RaceRoundRecord,
  RunFolderMove,
  StoreAdmin,
  StoreIdentity,
} from './types.js';
import { OUTCOME_FACTS } from '../core/run-records.js';
import { MosaicError } from '../core/errors.js';
import { idRanges, plural } from '../core/wording.js';
import { packKey, type NewRun, type RunSpec } from '../core/run-spec.js';

/** Many rows in few statements: one round trip per ROWS_PER_STATEMENT rows, not per row. */
async function insertMany(tx: SqlRunner, table: string, columns: readonly string[], rows: unknown[][]): Promise<void> {
  const one = `(${columns.map(() => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => one).join(', ')}`,
      chunk.flat(),
    );
  }
}

/** Runs imported from another database (no queue entry) cannot be continued: refused with their ids. */
async function refuseImported(tx: SqlRunner, runIds: number[]): Promise<void> {
  const imported: number[] = [];
  await forEachChunk(runIds, async (inList, chunk) => {
    const rows = await tx.all<{ run_id: number }>(
      `SELECT r.run_id FROM runs r LEFT JOIN mosaic_queue q ON q.run_id = r.run_id WHERE r.run_id IN ${inList} AND q.run_id IS NULL`,
      chunk,
    );
    imported.push(...rows.map((r) => Number(r.run_id)));
  });
  if (imported.length)
    throw new MosaicError(
      `${imported.length === 1 ? 'run' : 'runs'} ${idRanges(imported.sort((a, b) => a - b))} came from another database (mosaic import): Mosaic has neither their spec nor their checkpoints, so it cannot continue them`,
    );
}

export class SqlAdmin implements StoreAdmin {
  constructor(private readonly sql: SqlContext) {}

  async enqueue(runs: NewRun[], experiment?: ExperimentRecord): Promise<number[]> {
    const folder = await this.runsFolder();
    return this.sql.conn.transaction(async (tx) => {
      const first = await this.firstNewId(tx);
      const ids = runs.map((_, i) => first + i);
      const experimentId = experiment
        ? await this.recordExperiment(tx, experiment, first, first + runs.length - 1)
        : undefined;
      const specs = new Map<RunSpec, { json: string; key: string }>();
      const runRows: unknown[][] = [];
      const queueRows: unknown[][] = [];
      const factRows = new Map<string, unknown[]>();
      runs.forEach((run, i) => {
        const id = ids[i]!;
        let spec = specs.get(run.spec);
        if (!spec) {
          spec = { json: JSON.stringify(run.spec), key: packKey(run.spec) };
          specs.set(run.spec, spec);
        }
        runRows.push([id, 'pending', run.shortForm, null]);
        queueRows.push([
          id,
          spec.json,
          run.seed,
          run.spec.process.epochs,
          path.join(run.spec.process.run_files_path, folder, `run_${id}`),
          spec.key,
        ]);
        const facts: [string, string][] = [
          ...run.facts,
          ...(experimentId !== undefined ? [['experiment', String(experimentId)] as [string, string]] : []),
          ['status', 'pending'],
        ];
        for (const [name, value] of facts) factRows.set(`${id}\u0000${name}`, [id, name, value]);
      });
      await insertMany(tx, 'runs', ['run_id', 'status', 'pipeline', 'return_status'], runRows);
      await insertMany(
        tx,
        'mosaic_queue',
        ['run_id', 'spec', 'seed', 'epochs_target', 'run_dir', 'pack_key'],
        queueRows,
      );
      await insertMany(tx, 'params', ['run_id', 'param_name', 'param_value'], [...factRows.values()]);
      await tx.run(SET_SYSTEM, ['next_run_id', String(first + runs.length)]);
      return ids;
    });
  }

  async usedSeeds(): Promise<Set<number>> {
    return new Set((await this.sql.conn.all<{ seed: number }>(`SELECT seed FROM mosaic_queue`)).map((r) => r.seed));
  }

  async setPaused(paused: boolean): Promise<void> {
    const since = paused ? `CAST(${this.sql.now} AS TEXT)` : `''`;
    await this.sql.conn.run(
      `INSERT INTO system (param_name, param_value) VALUES ('paused', ${since}) ON CONFLICT (param_name) DO UPDATE SET param_value = excluded.param_value`,
    );
  }

  async setSetting(name: string, value: unknown): Promise<void> {
    await this.sql.conn.run(SET_SYSTEM, [`setting.${name}`, JSON.stringify(value)]);
  }

  async extendRuns(runIds: number[], moreEpochs: number, options: { earlyStopping?: boolean } = {}): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      await refuseImported(tx, runIds);
      for (const id of runIds) {
        if (options.earlyStopping === false) {
          const { spec } = (await tx.get<{ spec: string }>(`SELECT spec FROM mosaic_queue WHERE run_id = ?`, [id]))!;
          const parsed = JSON.parse(spec) as RunSpec;
          if (parsed.process.early_stopping !== undefined) {
            delete parsed.process.early_stopping;
            await tx.run(`UPDATE mosaic_queue SET spec = ? WHERE run_id = ?`, [JSON.stringify(parsed), id]);
          }
        }
        await tx.run(
          `UPDATE mosaic_queue SET epochs_target = ${epochsDone('mosaic_queue.run_id')} + ?, finished_at = NULL WHERE run_id = ?`,
          [moreEpochs, id],
        );
        await this.sql.setRunStatus(tx, id, 'pending');
        // What `epochs` goes back to if the continuation fails (an early-stopped run's is not its epochs done).
        await tx.run(
          `INSERT INTO params (run_id, param_name, param_value) SELECT run_id, 'epochs_before_rerun', param_value FROM params WHERE run_id = ? AND param_name = 'epochs' ON CONFLICT (run_id, param_name) DO NOTHING`,
          [id],
        );
        const { epochs_target } = (await tx.get<{ epochs_target: number }>(
          `SELECT epochs_target FROM mosaic_queue WHERE run_id = ?`,
          [id],
        ))!;
        await tx.run(SET_FACT, [id, 'epochs', String(epochs_target)]);
        await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'traceback'`, [id]);
      }
    });
  }

  async retryFailedRuns(): Promise<number[]> {
    return this.sql.conn.transaction(async (tx) => {
      const ids = (
        await tx.all<{ run_id: number }>(`SELECT run_id FROM runs WHERE status = 'failed' ORDER BY run_id`)
      ).map((r) => r.run_id);
      for (const id of ids) {
        await this.sql.setRunStatus(tx, id, 'pending');
        // A fresh count of claims: `retries` applies again; the failed attempts stay in mosaic_failures.
        await tx.run(`UPDATE mosaic_queue SET attempts = 0, worker = NULL, finished_at = NULL WHERE run_id = ?`, [id]);
        await tx.run(`DELETE FROM params WHERE run_id = ? AND param_name = 'traceback'`, [id]);
      }
      return ids;
    });
  }

  async deleteRuns(runIds: number[]): Promise<{ runId: number; runDir: string }[]> {
    return this.sql.conn.transaction(async (tx) => {
      const dirs: { runId: number; runDir: string }[] = [];
      await forEachChunk(runIds, async (inList, chunk) => {
        const rows = await tx.all<{ run_id: number; run_dir: string | null }>(
          `SELECT run_id, run_dir FROM mosaic_queue WHERE run_id IN ${inList} ORDER BY run_id`,
          chunk,
        );
        for (const r of rows) if (r.run_dir) dirs.push({ runId: r.run_id, runDir: r.run_dir });
        for (const table of [
          'runs',
          'params',
          'run_results',
          'history',
          'history_metrics',
          'mosaic_queue',
          'mosaic_failures',
        ]) {
          await tx.run(`DELETE FROM ${table} WHERE run_id IN ${inList}`, chunk);
        }
      });
      return dirs;
    });
  }

  async becomeCopyOf(
    original: StoreIdentity,
    copyLocation: string,
  ): Promise<{ storeId: string; moves: RunFolderMove[] }> {
    const storeId = randomBytes(4).toString('hex');
    const folder = `${databaseName(copyLocation) || 'mosaic'}-${storeId}`;
    const moves = await this.sql.conn.transaction(async (tx) => {
      const at = (await tx.get<{ t: number }>(`SELECT ${this.sql.now} AS t`))!.t;
      const copyOf = `${original.store} (database ${original.storeId}) at ${new Date(Number(at) * 1000).toISOString().replace(/\.\d+Z$/, 'Z')}`;
      await tx.run(SET_SYSTEM, ['store_id', storeId]);
      await tx.run(SET_SYSTEM, ['copy_of', copyOf]);
      const rows = await tx.all<{ run_id: number; run_dir: string | null }>(
        `SELECT run_id, run_dir FROM mosaic_queue WHERE run_dir IS NOT NULL ORDER BY run_id`,
      );
      const moved: RunFolderMove[] = [];
      for (const r of rows) {
        // <run_files_path>/<db>-<store id>/run_<id>: the same place, in a folder of the copy's own.
        const to = path.join(path.dirname(path.dirname(r.run_dir!)), folder, path.basename(r.run_dir!));
        await tx.run(`UPDATE mosaic_queue SET run_dir = ? WHERE run_id = ?`, [to, r.run_id]);
        moved.push({ runId: r.run_id, from: r.run_dir!, to });
      }
      return moved;
    });
    this.sql.forgetIdentity();
    return { storeId, moves };
  }

  async updateFacts(changes: { runId: number; name: string; value: string }[]): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      for (const c of changes) await tx.run(SET_FACT, [c.runId, c.name, c.value]);
    });
  }

  async importRuns(runs: ImportedRun[], experiment: ExperimentRecord): Promise<void> {
    await this.sql.conn.transaction(async (tx) => {
      const held = Number((await tx.get<{ n: number }>(`SELECT COUNT(*) AS n FROM runs`))?.n ?? 0);
      if (held > 0)
        throw new MosaicError(
          `${this.sql.location} already holds ${plural(held, 'run')}: import into a new database (nothing was written)`,
        );
      if (runs.length === 0) return;
      const ids = runs.map((r) => r.runId);
      const experimentId = await this.recordExperiment(tx, experiment, Math.min(...ids), Math.max(...ids));
      await insertMany(
        tx,
        'runs',
        ['run_id', 'status', 'pipeline', 'return_status'],
        runs.map((r) => [r.runId, r.status, r.pipeline, r.returnStatus]),
      );
      await insertMany(
        tx,
        'params',
        ['run_id', 'param_name', 'param_value'],
        runs.flatMap((r) =>
          Object.entries({ ...r.facts, status: r.status, experiment: String(experimentId) }).map(([name, value]) => [
            r.runId,
            name,
            value,
          ]),
        ),
      );
      await insertMany(
        tx,
        'run_results',
        ['run_id', ...RESULT_COLUMNS.map((c) => c.sql)],
        runs.flatMap((r) => (r.results ? [[r.runId, ...RESULT_COLUMNS.map((c) => r.results![c.name] ?? null)]] : [])),
      );
      const next = Number((await this.sql.system(tx, 'next_run_id')) ?? '1');
      await tx.run(SET_SYSTEM, ['next_run_id', String(Math.max(next, Math.max(...ids) + 1))]);
    });
  }

  async recordRaceRound(rows: RaceRoundRecord[], repeats: RaceRepeat[]): Promise<number[] | null> {
    const { dataKey, round } = rows[0]!;
    if (rows.some((r) => r.dataKey !== dataKey || r.round !== round))
      throw new Error('recordRaceRound: the rows of one data key and round only');
    return this.sql.conn.transaction(async (tx) => {
      const last = await tx.get<{ r: number | null }>(`SELECT MAX(round) AS r FROM mosaic_race WHERE data_key = ?`, [
        dataKey,
      ]);
      if (Number(last?.r ?? 0) !== round - 1) return null;
      // The key (data key, round, position) makes a second decider of the same round wait for the
      // first and then insert nothing (PostgreSQL), or find the round recorded above (SQLite).
      const insert = `INSERT INTO mosaic_race (data_key, round, position, grp, decision, n, mean, diff, p, equivalence_p, threshold, over_reason, decided_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${this.sql.now}) ON CONFLICT (data_key, round, position) DO NOTHING`;
      for (const [position, r] of rows.entries()) {
        const values = [r.dataKey, r.round, position, r.group, r.decision, r.n, r.mean, r.diff, r.p, r.equivalenceP];
        const changed = await tx.run(insert, [...values, r.threshold, r.over]);
        if (changed === 0) {
          if (position === 0) return null;
          throw new Error(`round ${round} of the race in ${dataKey} recorded twice at once`);
        }
      }
      return this.enqueueRepeats(tx, repeats);
    });
  }

  /** New pending runs, each a copy of a configuration's run (its spec, pipeline, configuration's facts) as another repeat. */
  private async enqueueRepeats(tx: SqlRunner, repeats: RaceRepeat[]): Promise<number[]> {
    if (repeats.length === 0) return [];
    const first = await this.firstNewId(tx);
    const largest = Number((await tx.get<{ s: number | null }>(`SELECT MAX(seed) AS s FROM mosaic_queue`))?.s ?? 0);
    let freeSeed = Math.max(largest, ...repeats.map((r) => r.seed ?? 0)) + 1;
    const ids: number[] = [];
    const experiments = new Map<string, number>();
    for (const [i, repeat] of repeats.entries()) {
      const id = first + i;
      const template = await tx.get<{ spec: string; run_dir: string | null; pack_key: string; pipeline: string }>(
        `SELECT q.spec, q.run_dir, q.pack_key, r.pipeline FROM mosaic_queue q JOIN runs r ON r.run_id = q.run_id WHERE q.run_id = ?`,
        [repeat.templateRunId],
      );
      if (!template) throw new Error(`a race's repeat of run ${repeat.templateRunId}, which is not in the queue`);
      const spec = JSON.parse(template.spec) as RunSpec;
      const seed = repeat.seed ?? freeSeed++;
      const runDir = path.join(
        template.run_dir
          ? path.dirname(template.run_dir)
          : path.join(spec.process.run_files_path, await this.runsFolder()),
        `run_${id}`,
      );
      await tx.run(`INSERT INTO runs (run_id, status, pipeline, return_status) VALUES (?, 'pending', ?, NULL)`, [
        id,
        template.pipeline,
      ]);
      await tx.run(
        `INSERT INTO mosaic_queue (run_id, spec, seed, epochs_target, run_dir, pack_key) VALUES (?, ?, ?, ?, ?, ?)`,
        [id, template.spec, seed, spec.process.epochs, runDir, template.pack_key],
      );
      const facts = (
        await tx.all<{ param_name: string; param_value: string | null }>(
          `SELECT param_name, param_value FROM params WHERE run_id = ?`,
          [repeat.templateRunId],
        )
      ).filter((f) => !OUTCOME_FACTS.has(f.param_name));
      const own: Record<string, string> = {
        seed: String(seed),
        repeat: String(repeat.repeat),
        epochs: String(spec.process.epochs),
        status: 'pending',
      };
      const rows = [
        ...facts.filter((f) => !(f.param_name in own)).map((f) => [id, f.param_name, f.param_value]),
        ...Object.entries(own).map(([name, value]) => [id, name, value]),
      ];
      await insertMany(tx, 'params', ['run_id', 'param_name', 'param_value'], rows);
      const experiment = facts.find((f) => f.param_name === 'experiment')?.param_value;
      if (experiment) experiments.set(experiment, id);
      ids.push(id);
    }
    for (const [experiment, last] of experiments)
      await tx.run(`UPDATE mosaic_experiments SET last_run_id = ? WHERE experiment_id = ? AND last_run_id < ?`, [
        last,
        Number(experiment),
        last,
      ]);
    await tx.run(SET_SYSTEM, ['next_run_id', String(first + repeats.length)]);
    return ids;
  }

  /** The id of the next new run: never one used before, even by a deleted run. Taking the counter's row first makes concurrent enqueues wait for each other. */
  private async firstNewId(tx: SqlRunner): Promise<number> {
    await tx.run(`UPDATE system SET param_value = param_value WHERE param_name = 'next_run_id'`);
    const next = Number((await this.sql.system(tx, 'next_run_id')) ?? '1');
    const maxId = (await tx.get<{ m: number | null }>(`SELECT MAX(run_id) AS m FROM runs`))?.m ?? 0;
    return Math.max(next, Number(maxId) + 1);
  }

  /** The folder of this database's runs inside run_files_path: its name and identity. */
  private async runsFolder(): Promise<string> {
    const { storeId, store } = await this.sql.identity();
    return `${databaseName(store) || 'mosaic'}-${storeId}`;
  }

  private async recordExperiment(
    tx: SqlRunner,
    e: ExperimentRecord,
    firstRunId: number,
    lastRunId: number,
  ): Promise<number> {
    const row = await tx.get<{ experiment_id: number }>(
      `INSERT INTO mosaic_experiments (created_at, config_file, config_text, config_hash, user_files, mosaic_version, git_commit, first_run_id, last_run_id)
       VALUES (${this.sql.now}, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING experiment_id`,
      [
        e.configFile,
        e.configText,
        e.configHash,
        JSON.stringify(e.userFiles),
        e.mosaicVersion,
        e.gitCommit,
        firstRunId,
        lastRunId,
      ],
    );
    return Number(row!.experiment_id);
  }
}
