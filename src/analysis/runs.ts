import { MosaicError } from '../core/errors.js';
import type { StoreReader } from '../store/types.js';
import type { RunStatus } from '../core/run-records.js';
import type { RunResults } from '../core/result-fields.js';

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

/** The criteria of SPEC.md, as `run_results` columns, and the best epoch's. */
export const CRITERIA = ['train_loss', 'test_loss', 'train_acc', 'test_acc', 'nb_params', 'duration(s)', 'epochs', 'overfit', 'trainability', 'slope', 'best_test_loss', 'best_epoch'] as const;
type BuiltinCriterion = (typeof CRITERIA)[number];
/** A built-in criterion, or the name of a metric the runs logged. */
export type Criterion = string;
export const CRITERIA_HELP = `${CRITERIA.join(', ')}, or a metric your classes log (run_info.log)`;

/**
 * Which way is better for each metric the runs of the database being analysed logged, as
 * `loadRuns` last read it (`metric_info`): a metric is a criterion like the built-in ones.
 */
const metricBetter = new Map<string, 'higher' | 'lower'>();

const isBuiltin = (c: string): c is BuiltinCriterion => (CRITERIA as readonly string[]).includes(c);

const CRITERION_FIELD: Record<BuiltinCriterion, keyof RunResults> = {
  train_loss: 'train_loss',
  test_loss: 'test_loss',
  train_acc: 'train_acc',
  test_acc: 'test_acc',
  nb_params: 'nb_params',
  'duration(s)': 'duration_s',
  epochs: 'epochs',
  overfit: 'overfit',
  trainability: 'trainability',
  slope: 'slope',
  best_test_loss: 'best_test_loss',
  best_epoch: 'best_epoch',
};

/** Higher is better for accuracies, and for the metrics logged as such. */
export const higherIsBetter = (c: Criterion) => c === 'train_acc' || c === 'test_acc' || metricBetter.get(c) === 'higher';

/** The metrics of the database last read by `loadRuns`. */
export const loggedMetrics = () => [...metricBetter.keys()].sort();

export function criterion(name: string): Criterion {
  const n = name === 'duration' || name === 'duration_s' ? 'duration(s)' : name;
  if (!isBuiltin(n) && !metricBetter.has(n)) {
    const mine = loggedMetrics();
    throw new MosaicError(`unknown criterion "${name}"; valid: ${CRITERIA.join(', ')}${mine.length ? `, and the metrics the runs logged: ${mine.join(', ')}` : ' (no run logged a metric of its own)'}`);
  }
  return n;
}

export function valueOf(run: AnalysisRun, c: Criterion): number | null {
  const v = isBuiltin(c) ? run.results?.[CRITERION_FIELD[c]] : run.metrics[c];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** A run's dataset key and model key, from its `<type>_key` facts in scheme order. */
export function runKeys(facts: Record<string, string>): { dataKey: string; modelKey: string } {
  const keyOf = (types: string[]) => types.map((t) => facts[`${t}_key`] ?? '?').join(' | ');
  return { dataKey: keyOf(split(facts.data_scheme)), modelKey: keyOf(split(facts.pipeline_scheme)) };
}

export async function loadRuns(store: StoreReader): Promise<AnalysisRun[]> {
  metricBetter.clear();
  for (const [name, better] of Object.entries(await store.metricDirections())) metricBetter.set(name, better);
  const facts = await store.allFacts();
  return (await store.overview()).map((o) => {
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
}
