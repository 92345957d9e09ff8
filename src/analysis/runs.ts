import { MosaicError } from '../core/errors.js';
import type { StoreReader } from '../store/types.js';
import type { RunStatus } from '../core/run-records.js';
import { CRITERION_FIELDS, RESULT_FIELDS, type RunResults } from '../core/result-fields.js';

/** A run as the analysis sees it: its keys, parameters and results. */
export interface AnalysisRun {
  runId: number;
  status: RunStatus;
  pipeline: string;
  facts: Record<string, string>;
  results: RunResults | null;
  /** `<type>_key` values of the data chain, joined with ' | ' (the dataset key). */
  dataKey: string;
  /** `<type>_key` values of the model chain, joined with ' | ' (the model key). */
  modelKey: string;
  /** The last value of each metric the run logged (`run_info.log`). */
  metrics: Record<string, number | null>;
}

/** Which way is better for a criterion. */
export type Better = 'higher' | 'lower';

/** The built-in criteria of SPEC.md: the result fields that are criteria (`run_results` columns). */
export const CRITERIA: readonly string[] = [...CRITERION_FIELDS.keys()];
/** A built-in criterion, or the name of a metric the runs logged. */
export type Criterion = string;
export const CRITERIA_HELP = `${CRITERIA.join(', ')}, or a metric your classes log (run_info.log)`;

/** A result field's own name is taken for its criterion (`duration_s` for `duration(s)`), and `duration` too. */
const CRITERION_ALIASES: ReadonlyMap<string, string> = new Map([
  ['duration', 'duration(s)'],
  ...RESULT_FIELDS.filter((f) => f.criterion !== null && f.criterion !== f.name).map(
    (f) => [f.name, f.criterion as string] as const,
  ),
]);

/**
 * The criteria of one database: the built-in ones, and the metrics its runs logged with which way
 * is better for each (`metric_info`), read by `loadRuns` with the runs: a metric is a criterion
 * like the built-in ones.
 */
export class Criteria {
  private readonly logged: ReadonlyMap<string, Better>;

  constructor(metricDirections: Readonly<Record<string, Better>> = {}) {
    this.logged = new Map(Object.entries(metricDirections));
  }

  /** The metrics the runs logged, sorted. */
  metrics(): string[] {
    return [...this.logged.keys()].sort();
  }

  /** The built-in criteria, then the logged metrics. */
  all(): string[] {
    return [...CRITERIA, ...this.metrics()];
  }

  /** The criterion a user named, or the error that lists the valid ones. */
  parse(name: string): Criterion {
    const n = CRITERION_ALIASES.get(name) ?? name;
    if (!CRITERION_FIELDS.has(n) && !this.logged.has(n)) {
      const mine = this.metrics();
      throw new MosaicError(
        `unknown criterion "${name}"; valid: ${CRITERIA.join(', ')}${mine.length ? `, and the metrics the runs logged: ${mine.join(', ')}` : ' (no run logged a metric of its own)'}`,
      );
    }
    return n;
  }

  /** As its result field says for a built-in criterion (higher for accuracies), as it was logged for a metric. */
  better(c: Criterion): Better {
    return CRITERION_FIELDS.get(c)?.better === 'higher' || this.logged.get(c) === 'higher' ? 'higher' : 'lower';
  }
}

/** The criteria of runs that logged no metric of their own: the built-in ones. */
export const BUILTIN_CRITERIA = new Criteria();

export function criterionValue(run: AnalysisRun, c: Criterion): number | null {
  const field = CRITERION_FIELDS.get(c);
  const v = field ? run.results?.[field.name] : run.metrics[c];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const split = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** A run's dataset key and model key, from its `<type>_key` facts in scheme order. */
export function runKeys(facts: Record<string, string>): { dataKey: string; modelKey: string } {
  const keyOf = (types: string[]) => types.map((t) => facts[`${t}_key`] ?? '?').join(' | ');
  return { dataKey: keyOf(split(facts.data_scheme)), modelKey: keyOf(split(facts.pipeline_scheme)) };
}

/** Every run of a database, and its criteria (the metrics the runs logged, with their directions). */
export interface LoadedRuns {
  runs: AnalysisRun[];
  criteria: Criteria;
}

export async function loadRuns(store: StoreReader): Promise<LoadedRuns> {
  const criteria = new Criteria(await store.metricDirections());
  const facts = await store.allFacts();
  const runs = (await store.overview()).map((o) => {
    const f = facts.get(o.runId) ?? {};
    return {
      runId: o.runId,
      status: o.status,
      pipeline: o.pipeline,
      facts: f,
      results: o.results,
      ...runKeys(f),
      metrics: o.metrics,
    };
  });
  return { runs, criteria };
}
