import fs from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelModule } from '../user/contracts.js';
import { decodeWeightFile } from '../user/weights.js';

type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * A run's checkpoint after epoch E lives in `<run_dir>/epoch-E/`:
 *   model-<i>-<class>.*   whatever the model class's saveModel writes (if it has one)
 *   parameters.bin/.json  values of every trainable variable, in parameters() order
 *   optimizer.bin/.json   the optimizer's state (moments, iteration count)
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

export async function saveCheckpoint(
  runDir: string,
  epoch: number,
  models: ModelModule[],
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
): Promise<void> {
  try {
    await writeCheckpoint(runDir, epoch, models, variables, optimizer);
  } catch (e) {
    await fs.rm(`${checkpointDir(runDir, epoch)}.tmp`, { recursive: true, force: true }).catch(() => undefined);
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`cannot write the checkpoint of epoch ${epoch} in ${runDir}: ${err.message}`), { stack: `Error: cannot write the checkpoint of epoch ${epoch} in ${runDir}\n${err.stack ?? ''}` });
  }
}

async function writeCheckpoint(
  runDir: string,
  epoch: number,
  models: ModelModule[],
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
): Promise<void> {
  const final = checkpointDir(runDir, epoch);
  const tmp = `${final}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  for (const [i, m] of models.entries()) {
    const save = m.saveModel ?? (m as { save_model?: (p: string) => unknown }).save_model;
    if (save) await save.call(m, modelPath(tmp, i, m));
  }
  await writeTensors(path.join(tmp, 'parameters'), variables.map((v, i) => ({ name: `p${i}`, tensor: v })));
  const optimizerState = await optimizer.getWeights();
  await writeTensors(path.join(tmp, 'optimizer'), [...optimizerState, ...biasCorrections(optimizer)]);
  await fs.rm(final, { recursive: true, force: true });
  await fs.rename(tmp, final);
}

/** Restores models, variables and optimizer from the checkpoint of `epoch`. */
export async function loadCheckpoint(
  runDir: string,
  epoch: number,
  models: ModelModule[],
  variables: tf.Variable[],
  optimizer: tf.Optimizer,
): Promise<void> {
  const dir = checkpointDir(runDir, epoch);
  try {
    await fs.access(path.join(dir, 'parameters.json'));
  } catch {
    throw new Error(`checkpoint of epoch ${epoch} is missing (${dir}): the run cannot continue from where it stopped`);
  }
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
  const corrections = new Map(biasCorrections(optimizer).map((c) => [c.name, c.tensor as tf.Variable]));
  await optimizer.setWeights(state.filter((t) => !corrections.has(t.name)));
  for (const t of state) corrections.get(t.name)?.assign(t.tensor);
  tf.dispose(state.map((t) => t.tensor));
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

/** Removes checkpoints other than `keepEpoch`'s. */
export async function pruneCheckpoints(runDir: string, keepEpoch: number): Promise<void> {
  const entries = await fs.readdir(runDir).catch(() => [] as string[]);
  const keep = `epoch-${keepEpoch}`;
  await Promise.all(
    entries.filter((e) => e.startsWith('epoch-') && e !== keep).map((e) => fs.rm(path.join(runDir, e), { recursive: true, force: true })),
  );
}
