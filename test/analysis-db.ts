import path from 'node:path';
import { parseConfig } from '../dist/config/load.js';
import { newRuns } from '../dist/pipelines/facts.js';
import { generatePipelines } from '../dist/pipelines/generate.js';
import { openSqliteStore } from '../dist/store/sqlite.js';

/** How a run of an analysis test database ends. */
export type Outcome =
  | { status: 'done'; value: number; nb_params?: number; acc?: number | null }
  | { status: 'error' | 'failed' | 'diverged' | 'running' | 'pending' };

/**
 * A database for analysis tests, built through the store API: the runs of `config` (an
 * experiment INI text), each finished as `outcome` says from its params facts and index.
 * Results: train and test loss = `value`, trainability = `value`, accuracies = `acc`.
 */
export function analysisDb(dir: string, config: string, outcome: (facts: Record<string, string>, index: number) => Outcome, name = 'a.db'): string {
  const parsed = parseConfig(config, path.join(dir, 'c.ini'));
  const file = path.join(dir, name);
  const store = openSqliteStore(file, { create: true });
  const runs = newRuns(parsed, generatePipelines(parsed));
  const ids = store.enqueue(runs);
  ids.forEach((_, i) => {
    const facts = Object.fromEntries(runs[i]!.facts);
    const o = outcome(facts, i);
    // Runs stay pending by being claimed by a worker that is then interrupted.
    const run = store.claimNext({ id: o.status === 'pending' ? 'p' : 'w', pid: process.pid, host: 'h' })!;
    if (o.status === 'done') {
      const acc = o.acc ?? null;
      store.recordEpoch(run.runId, { epoch: 1, train_loss: o.value, test_loss: o.value, train_acc: acc, test_acc: acc, duration_s: 1 });
      store.finishRun(run.runId, {
        train_loss: o.value, test_loss: o.value, train_acc: acc, test_acc: acc, nb_params: o.nb_params ?? 10, duration_s: 1,
        epochs: Number(facts.epochs ?? 1), overfit: 0, trainability: o.value, slope: 0, slope_std_plus: 0, slope_std_minus: 0,
        best_test_loss: o.value, best_epoch: 1,
      });
    } else if (o.status === 'error' || o.status === 'failed') {
      store.failRun(run.runId, o.status, `${o.status} on purpose`, `${o.status} on purpose`);
    } else if (o.status === 'diverged') {
      store.failRun(run.runId, 'diverged', 'diverged at epoch 1 on purpose', 'diverged on purpose');
    }
  });
  store.requeueRunsOfWorker('p');
  store.close();
  return file;
}

/** An experiment INI on classes that are never loaded (the store API needs no code). */
export function iniText(opts: { process?: string; multiplicity: number; models: string; scheme?: string }): string {
  return `[PROCESS]
epochs = 1
data_scheme = data
pipeline_scheme = ${opts.scheme ?? 'mlp'}
loss_function = MSELoss
${opts.process ?? ''}
[MONITOR]
multiplicity = ${opts.multiplicity}
[d]
type = data
class = D
path_to_class = d.ts
key = toy
${opts.models}
`;
}
