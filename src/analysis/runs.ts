import { MosaicError } from '../errors.js';
import type { RunResults, RunStatus, Store } from '../store/types.js';

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
}

/** The criteria of SPEC.md, as `run_results` columns. */
export const CRITERIA = ['train_loss', 'test_loss', 'train_acc', 'test_acc', 'nb_params', 'duration(s)', 'epochs', 'overfit', 'trainability', 'slope'] as const;
export type Criterion = (typeof CRITERIA)[number];

const CRITERION_FIELD: Record<Criterion, keyof RunResults> = {
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
};

/** Higher is better only for accuracies. */
export const higherIsBetter = (c: Criterion) => c === 'train_acc' || c === 'test_acc';

export function criterion(name: string): Criterion {
  const n = name === 'duration' || name === 'duration_s' ? 'duration(s)' : name;
  if (!(CRITERIA as readonly string[]).includes(n)) throw new MosaicError(`unknown criterion "${name}"; valid: ${CRITERIA.join(', ')}`);
  return n as Criterion;
}

export function valueOf(run: AnalysisRun, c: Criterion): number | null {
  const v = run.results?.[CRITERION_FIELD[c]];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

const split = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

export function loadRuns(store: Store): AnalysisRun[] {
  const facts = store.allFacts();
  return store.overview().map((o) => {
    const f = facts.get(o.runId) ?? {};
    const keyOf = (types: string[]) => types.map((t) => f[`${t}_key`] ?? '?').join(' | ');
    return {
      runId: o.runId,
      status: o.status,
      pipeline: o.pipeline,
      facts: f,
      results: o.results,
      dataKey: keyOf(split(f.data_scheme)),
      modelKey: keyOf(split(f.pipeline_scheme)),
    };
  });
}
