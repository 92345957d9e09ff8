import path from 'node:path';
import { parseConfig } from '../../dist/config/load.js';
import { newRuns } from '../../dist/pipelines/facts.js';
import { generatePipelines } from '../../dist/pipelines/generate.js';
import { openStore } from '../../dist/store/open.js';
import { isUrl } from '../../dist/store/location.js';

/** How a run of an analysis test database ends. */
export type Outcome =
  | { status: 'done'; value: number; nb_params?: number; acc?: number | null }
  | { status: 'error' | 'failed' | 'diverged' | 'running' | 'pending' };

/**
 * A database for analysis tests, built through the store API: the runs of `config` (an
 * experiment INI text), each finished as `outcome` says from its params facts and index.
 * Results: train and test loss = `value`, trainability = `value`, accuracies = `acc`. `name` is a
 * file in `dir`, or a database URL.
 */
export async function analysisDb(
  dir: string,
  config: string,
  outcome: (facts: Record<string, string>, index: number) => Outcome,
  name = 'a.db',
): Promise<string> {
  const parsed = parseConfig(config, path.join(dir, 'c.ini'));
  const file = isUrl(name) ? name : path.resolve(dir, name);
  const store = await openStore(file, 'create');
  const runs = newRuns(parsed, generatePipelines(parsed));
  const ids = await store.enqueue(runs);
  for (let i = 0; i < ids.length; i++) {
    const facts = Object.fromEntries(runs[i]!.facts);
    const o = outcome(facts, i);
    // Runs stay pending by being claimed by a worker that is then interrupted.
    const [run] = await store.claimPack({ id: o.status === 'pending' ? 'p' : 'w', pid: process.pid, host: 'h' }, 1);
    if (!run) throw new Error('nothing to claim');
    if (o.status === 'done') {
      const acc = o.acc ?? null;
      await store.recordEpoch(run, {
        epoch: 1,
        train_loss: o.value,
        test_loss: o.value,
        train_acc: acc,
        test_acc: acc,
        duration_s: 1,
      });
      await store.finishRun(run, {
        train_loss: o.value,
        test_loss: o.value,
        train_acc: acc,
        test_acc: acc,
        nb_params: o.nb_params ?? 10,
        duration_s: 1,
        epochs: Number(facts.epochs ?? 1),
        overfit: 0,
        trainability: o.value,
        slope: 0,
        slope_std_plus: 0,
        slope_std_minus: 0,
        best_test_loss: o.value,
        best_epoch: 1,
      });
    } else if (o.status === 'error' || o.status === 'failed') {
      await store.failRun(run, o.status, `${o.status} on purpose`, `${o.status} on purpose`);
    } else if (o.status === 'diverged') {
      await store.failRun(run, 'diverged', 'diverged at epoch 1 on purpose', 'diverged on purpose');
    }
  }
  await store.requeueRunsOfWorker('p');
  await store.close();
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

/** Two model classes of one slot, keys model_a and model_b, widths 2 and 3. */
export const TWO_MODELS = `[a]
type = mlp
class = A
path_to_class = m.ts
key = model_a
width = 2, 3
[b]
type = mlp
class = B
path_to_class = m.ts
key = model_b
width = 2, 3
`;
