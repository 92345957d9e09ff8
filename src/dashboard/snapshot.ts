import { isBookkeeping } from '../analysis/params.js';
import { loadRuns, type AnalysisRun, type Criteria } from '../analysis/runs.js';
import type { OpenRun, StoreReader } from '../store/types.js';
import { TABLE_FIELDS, type TableResults } from '../core/result-fields.js';
import type { TableRow } from './api-types.js';
import { columnLabels } from './param-labels.js';
import { raceView, type RaceView } from '../race/state.js';
import { readRaceRecord } from '../race/record.js';

export type { TableRow };

/** Every run of the database as analysis and the table see it, read at one moment. */
export interface Snapshot {
  runs: AnalysisRun[];
  /** The criteria of the database: built-in, and the metrics its runs logged. */
  criteria: Criteria;
  /** The race, when the experiment is one (`[MONITOR] multiplicity = auto`): its rounds, read with the runs. */
  race: RaceView | null;
  rows: TableRow[];
  byId: Map<number, TableRow>;
  /** Parameters whose value differs between runs (the table's own columns), then the others. */
  varying: string[];
  constant: string[];
  /** The varying parameters' column titles (param-labels.ts). */
  labels: Record<string, string>;
  /** When it was last found current, and when it was read. */
  readAt: number;
  loadedAt: number;
  mark: string;
}

const HIDDEN = (name: string) =>
  isBookkeeping(name) || name.endsWith('_key') || name === 'data_scheme' || name === 'pipeline_scheme';

function toRow(run: AnalysisRun, open: OpenRun | undefined): TableRow {
  const r = run.results;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(run.facts)) if (!HIDDEN(k)) params[k] = v;
  return {
    runId: run.runId,
    status: run.status,
    pipeline: run.pipeline,
    dataKey: run.dataKey,
    modelKey: run.modelKey,
    epochsDone: open ? open.epochsDone : (r?.epochs ?? 0),
    epochsTarget: open ? open.epochsTarget : Number(run.facts.epochs ?? r?.epochs ?? 0),
    ...(Object.fromEntries(TABLE_FIELDS.map((f) => [f.name, r?.[f.name] ?? null])) as TableResults),
    params,
  };
}

/**
 * Reads the runs through the store's reader, and reads them again only when the store's mark
 * (counts, pause, epochs of open runs: `live.ts`) has changed, and not more often than every
 * `minAgeMs`: a table of 10,000 runs is read once, not at every request.
 */
export class SnapshotSource {
  private current?: Snapshot;
  private loading?: Promise<Snapshot>;

  constructor(
    private readonly store: StoreReader,
    private readonly markNow: () => Promise<{ mark: string; open: OpenRun[] }>,
    private readonly minAgeMs = 2000,
    /** Read again after this long even if the mark is the same (facts changed by rekey). */
    private readonly maxAgeMs = 30_000,
  ) {}

  async get(): Promise<Snapshot> {
    if (this.loading) return this.loading;
    const cur = this.current;
    if (cur && Date.now() - cur.readAt < this.minAgeMs) return cur;
    this.loading = (async () => {
      const { mark, open } = await this.markNow();
      if (cur && cur.mark === mark && Date.now() - cur.loadedAt < this.maxAgeMs) {
        cur.readAt = Date.now();
        return cur;
      }
      this.current = await this.read(mark, open);
      return this.current;
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async read(mark: string, open: OpenRun[]): Promise<Snapshot> {
    const race = await readRaceRecord(this.store);
    const { runs, criteria } = await loadRuns(this.store);
    const openById = new Map(open.map((o) => [o.runId, o]));
    const rows = runs.map((r) => toRow(r, openById.get(r.runId)));
    const values = new Map<string, Set<string>>();
    for (const row of rows) {
      for (const [k, v] of Object.entries(row.params)) {
        let s = values.get(k);
        if (!s) {
          s = new Set();
          values.set(k, s);
        }
        if (s.size < 2) s.add(v);
      }
    }
    const names = [...values.keys()].sort();
    const varying = names.filter((n) => values.get(n)!.size > 1 || rows.some((r) => r.params[n] === undefined));
    return {
      runs,
      criteria,
      race: race ? raceView(race.settings, race.rows, runs) : null,
      rows,
      byId: new Map(rows.map((r) => [r.runId, r])),
      varying,
      labels: columnLabels(runs, varying),
      constant: names.filter((n) => values.get(n)!.size === 1 && rows.every((r) => r.params[n] !== undefined)),
      readAt: Date.now(),
      loadedAt: Date.now(),
      mark,
    };
  }
}
