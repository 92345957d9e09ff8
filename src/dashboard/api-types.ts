/**
 * What the dashboard's JSON API answers, shared by the server and the page (type-only: nothing
 * of the server is bundled into the page).
 */
import type { AcrossDatasetsReport } from '../analysis/across-datasets.js';
import type { CompareReport } from '../analysis/compare.js';
import type { EpochRecord, RunStatus } from '../core/run-records.js';
import type { TableResults } from '../core/result-fields.js';
import type { RaceView } from '../race/state.js';

export type { EpochRecord };

/** A run as a row of the runs table: its results are those of `TABLE_FIELDS`. */
export interface TableRow extends TableResults {
  runId: number;
  status: RunStatus;
  pipeline: string;
  dataKey: string;
  modelKey: string;
  epochsDone: number;
  epochsTarget: number;
  /** Parameters (class parameters and [PROCESS] values), without bookkeeping facts and keys. */
  params: Record<string, string>;
}

/** What the page's header shows, sent on every change. */
export interface Summary {
  db: string;
  counts: Record<RunStatus, number>;
  total: number;
  paused: boolean;
  /** Worker processes alive that hold running runs (on this host judged by pid, elsewhere trusted). */
  workersAlive: number;
  /** Finished runs count whole, open runs by their share of epochs: 0..1. */
  progress: number;
  remainingEpochs: number;
  /** Seconds left at the recent pace, or null when unknown. */
  etaSeconds: number | null;
  running: {
    runId: number;
    pipeline: string;
    epochsDone: number;
    epochsTarget: number;
    device: string | null;
    last: EpochRecord | null;
    /** The host holding the run. */
    host: string | null;
    /** Seconds since its last heartbeat (the database's clock) when the summary was made. */
    heartbeatAgeSeconds: number | null;
  }[];
  /** [MONITOR] heartbeat_timeout: a run silent this long is taken back by any worker. */
  heartbeatTimeout: number;
  /** Epochs done by each open run (pending runs with none left out): the page refreshes a run's curve when it changes. */
  epochs: Record<number, number>;
  /** What the page should tell (runs waiting for a worker, paused). */
  hint: string | null;
  /** Changes whenever anything the page shows may have changed. */
  mark: string;
}

/**
 * `/api/compare`: the report of `mosaic compare`, its verdict lines as printed, its picture
 * (`compare --plot`), and in a race the line `mosaic compare` ends with (null otherwise).
 */
export type CompareAnswer = CompareReport & { verdictLines: string[]; figure: object; raceLine: string | null };

/** `/api/race`: the race as `mosaic status` shows it (`race/state.ts`), or null when the experiment is no race. */
export interface RaceAnswer {
  race: RaceView | null;
}
export type { RaceEntry, RaceKeyView, RaceView } from '../race/state.js';

/** `/api/across-datasets`: the report of `mosaic compare --across-datasets` and the diagram of `mosaic cdplot`. */
export type AcrossDatasetsAnswer = AcrossDatasetsReport & { figure: object };
