import { hostName } from '../experiment/liveness.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CheckpointOwner, EpochRecord } from '../store/types.js';
import type { ModelModule } from '../user/contracts.js';
import { decodeWeightFile } from '../user/weights.js';

export type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * A run's checkpoint after epoch E lives in `<run_dir>/epoch-E/`:
 *   model-<i>-<class>.*   whatever the model class's saveModel writes (if it has one)
 *   parameters.bin/.json  values of every trainable variable, in parameters() order
 *   optimizer.bin/.json   the optimizer's state (moments, iteration count)
 *   owner.json            whose it is: database identity, run id, epoch and that epoch's losses
 * It is written under a temporary name and renamed, then the epoch is committed to the store,
 * then older checkpoints are removed: the store's last epoch always has a complete checkpoint.
 */
export function checkpointDir(runDir: string, epoch: number): string {
  return path.join(runDir, `epoch-${epoch}`);
}

export function modelPath(dir: string, index: number, model: { constructor: { name: string } }): string {
  return path.join(dir, `model-${index}-${model.constructor.name}`);
}

async function writeTensors(file: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await fs.writeFile(`${file}.bin`, Buffer.from(data));
  await fs.writeFile(`${file}.json`, JSON.stringify(specs));
}

async function readTensors(file: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await fs.readFile(`${file}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const bin = await fs.readFile(`${file}.bin`);
  const tensors = decodeWeightFile(bin, specs);
  return specs.map((s, i) => ({ name: s.name, tensor: tensors[i]! }));
}

/** What `owner.json` holds: enough to tell, beyond doubt, whose epoch a checkpoint is. */
interface OwnerStamp {
  store_id: string;
  store: string;
  run_id: number;
  epoch: number;
  train_loss: number;
  test_loss: number;
}

const stampOf = (owner: CheckpointOwner, record: EpochRecord): OwnerStamp => ({
  store_id: owner.storeId,
  store: owner.store,
  run_id: owner.runId,
  epoch: record.epoch,
  train_loss: record.train_loss,
  test_loss: record.test_loss,
});

/** What a checkpoint keeps of an optimizer: its weights (moments, iterations) and bias corrections. */
export async function optimizerState(optimizer: tf.Optimizer): Promise<NamedTensor[]> {
  const weights = isAdamax(optimizer) ? adamaxWeights(optimizer) : await optimizer.getWeights();
  return [...weights, ...biasCorrections(optimizer)];
}

/** TF.js's Adamax has no getWeights/setWeights: its state is read and written here, in the same layout. */
type Adamax = tf.Optimizer & {
  iteration: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedWeightedInfNorm: { originalName: string; variable: tf.Variable }[];
};
const isAdamax = (o: tf.Optimizer): o is Adamax => o.getClassName() === 'Adamax';

function adamaxWeights(o: Adamax): NamedTensor[] {
  return [
    { name: 'mosaic/adamax_iteration', tensor: o.iteration },
    ...o.accumulatedFirstMoment.map((m) => ({ name: m.originalName, tensor: m.variable })),
    ...o.accumulatedWeightedInfNorm.map((v) => ({ name: v.originalName, tensor: v.variable })),
  ];
}

function setAdamaxWeights(o: Adamax, state: NamedTensor[]): void {
  const [iteration, ...moments] = state;
  o.iteration.assign(iteration!.tensor);
  const half = moments.length / 2;
  tf.dispose([...o.accumulatedFirstMoment, ...o.accumulatedWeightedInfNorm].map((x) => x.variable));
  o.accumulatedFirstMoment = moments.slice(0, half).map((t) => ({ originalName: t.name, variable: t.tensor.clone().variable(false) }));
  o.accumulatedWeightedInfNorm = moments.slice(half).map((t) => ({ originalName: t.name, variable: t.tensor.clone().variable(false) }));
}

export async function saveCheckpoint(
  runDir: string,
  owner: CheckpointOwner,
  record: EpochRecord,
  models: ModelModule[],
  variables: tf.Tensor[],
  optimizer: NamedTensor[],
): Promise<void> {
  const epoch = record.epoch;
  try {
    await writeCheckpoint(runDir, stampOf(owner, record), models, variables, optimizer);
  } catch (e) {
    await fs.rm(`${checkpointDir(runDir, epoch)}.tmp`, { recursive: true, force: true }).catch(() => undefined);
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`cannot write the checkpoint of epoch ${epoch} in ${runDir}: ${err.message}`), { stack: `Error: cannot write the checkpoint of epoch ${epoch} in ${runDir}\n${err.stack ?? ''}` });
  }
}

async function writeCheckpoint(
  runDir: string,
  stamp: OwnerStamp,
  models: ModelModule[],
  variables: tf.Tensor[],
  optimizer: NamedTensor[],
): Promise<void> {
  const final = checkpointDir(runDir, stamp.epoch);
  const tmp = `${final}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  for (const [i, m] of models.entries()) {
    const save = m.saveModel ?? (m as { save_model?: (p: string) => unknown }).save_model;
    if (save) await save.call(m, modelPath(tmp, i, m));
  }
  await writeTensors(path.join(tmp, 'parameters'), variables.map((v, i) => ({ name: `p${i}`, tensor: v })));
  await writeTensors(path.join(tmp, 'optimizer'), optimizer);
  await fs.writeFile(path.join(tmp, 'owner.json'), JSON.stringify(stamp));
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
}

/**
 * Restores models, variables and optimizer from the checkpoint of the database's last epoch
 * `record`, after checking that the checkpoint is that very epoch of that very run.
 */
export async function loadCheckpoint(
  runDir: string,
  owner: CheckpointOwner,
  record: EpochRecord,
  models: ModelModule[],
  variables: tf.Variable[],
  optimizer: { restore(state: NamedTensor[]): Promise<void> },
): Promise<void> {
  const epoch = record.epoch;
  const dir = checkpointDir(runDir, epoch);
  try {
    await fs.access(path.join(dir, 'parameters.json'));
  } catch {
    throw new CheckpointError(
      `checkpoint of epoch ${epoch} is missing (${dir} on ${hostName()}): run ${owner.runId} of ${owner.store} cannot continue from where it stopped. ` +
        'When workers run on several hosts, run_files_path must be a folder every host shares (see docs/cluster.md)',
    );
  }
  await verifyOwner(dir, stampOf(owner, record));
  for (const [i, m] of models.entries()) {
    const load = m.loadModel ?? (m as { load_model?: (p: string) => unknown }).load_model;
    if (load) await load.call(m, modelPath(dir, i, m));
  }
  const saved = await readTensors(path.join(dir, 'parameters'));
  if (saved.length !== variables.length) {
    throw new Error(`checkpoint of epoch ${epoch} holds ${saved.length} parameter tensors but the model chain has ${variables.length}`);
  }
  saved.forEach(({ tensor }, i) => {
    const v = variables[i]!;
    if (tensor.shape.join('x') !== v.shape.join('x')) {
      throw new Error(`checkpoint of epoch ${epoch}: parameter ${i} has shape [${tensor.shape}] but the model's is [${v.shape}]`);
    }
    v.assign(tensor);
  });
  tf.dispose(saved.map((s) => s.tensor));
  const state = await readTensors(path.join(dir, 'optimizer'));
  await optimizer.restore(state);
  tf.dispose(state.map((t) => t.tensor));
}

/** Gives an optimizer the state `optimizerState` read from one (moments in variable order, iterations, bias corrections). */
export async function restoreOptimizer(optimizer: tf.Optimizer, state: NamedTensor[]): Promise<void> {
  const corrections = new Map(biasCorrections(optimizer).map((c) => [c.name, c.tensor as tf.Variable]));
  const weights = state.filter((t) => !corrections.has(t.name));
  if (isAdamax(optimizer)) setAdamaxWeights(optimizer, weights);
  else await optimizer.setWeights(weights);
  for (const t of state) corrections.get(t.name)?.assign(t.tensor);
}

/** A checkpoint that cannot be used: missing, or someone else's. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

async function verifyOwner(dir: string, expected: OwnerStamp): Promise<void> {
  let found: OwnerStamp;
  try {
    found = JSON.parse(await fs.readFile(path.join(dir, 'owner.json'), 'utf8')) as OwnerStamp;
  } catch {
    throw new CheckpointError(`the checkpoint in ${dir} does not say whose it is (no owner.json; written by an older Mosaic?): refusing to continue run ${expected.run_id} of ${expected.store} from it`);
  }
  const who = (s: OwnerStamp) => `run ${s.run_id} of ${s.store} (database ${s.store_id}), epoch ${s.epoch}`;
  if (found.store_id !== expected.store_id || found.run_id !== expected.run_id || found.epoch !== expected.epoch) {
    throw new CheckpointError(`the checkpoint in ${dir} belongs to ${who(found)}, not to ${who(expected)}: refusing to continue from it`);
  }
  if (found.train_loss !== expected.train_loss || found.test_loss !== expected.test_loss) {
    throw new CheckpointError(
      `the checkpoint in ${dir} is not the epoch the database recorded for ${who(expected)} (train loss ${found.train_loss} in the checkpoint, ${expected.train_loss} in the database): ` +
        'another copy of this database wrote over it; refusing to continue from it',
    );
  }
}

/**
 * Adam and Adamax keep running products beta^t that `setWeights` recomputes with pow(), which
 * rounds differently in float32: saving and restoring them makes a continued run bit-identical.
 */
function biasCorrections(optimizer: tf.Optimizer): NamedTensor[] {
  const o = optimizer as unknown as Record<string, unknown>;
  return ['accBeta1', 'accBeta2']
    .filter((k) => o[k] instanceof tf.Variable)
    .map((k) => ({ name: `mosaic/${k}`, tensor: o[k] as tf.Variable }));
}

/** Removes checkpoints other than those of `keepEpochs` (the last and the best). */
export async function pruneCheckpoints(runDir: string, keepEpochs: number[]): Promise<void> {
  const entries = await fs.readdir(runDir).catch(() => [] as string[]);
  const keep = new Set(keepEpochs.map((e) => `epoch-${e}`));
  await Promise.all(
    entries.filter((e) => e.startsWith('epoch-') && !keep.has(e)).map((e) => fs.rm(path.join(runDir, e), { recursive: true, force: true })),
  );
}
