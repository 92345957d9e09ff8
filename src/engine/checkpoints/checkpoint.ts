import { hostName } from '../../core/host.js';
import { readdirSync, renameSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { CheckpointOwner } from '../../store/types.js';
import type { EpochRecord } from '../../core/run-records.js';
import type { ModelModule } from '../../user/contracts.js';
import { LayersModule } from '../../user/layers-module.js';
import { isRandomState, type RandomState } from '../../user/random.js';
import { decodeWeightFile } from '../../user/weights.js';
import type { NamedTensor } from '../optimizers/optimizer-state.js';
import { checkpointPieces, splitCheckpoint } from './checkpoint-file.js';
import { spareFile, writeWhole } from './file-write.js';
import { claimFolder, claimedFolder, foreignFolder } from './run-folder.js';
import { type EncodedGroups, encodeGroups, viewGroups } from './weight-bytes.js';

/**
 * A run's checkpoint after epoch E is one file, `<run_dir>/epoch-E.ckpt`:
 *   a first line `MOSAIC-CHECKPOINT 1`, a line of JSON (whose checkpoint it is: database identity,
 *   run id, epoch and that epoch's losses; the state of the run's generator, `runInfo.random`, at
 *   the epoch's end; the specs of its tensors by group), then the tensors' bytes:
 *   `parameters` the values of every trainable variable, in parameters() order;
 *   `optimizer`  the optimizer's state (moments, iteration count, bias corrections);
 *   `model-<i>`  every weight (trainable or not) of a model class that keeps LayersModule's own
 *                saveModel/loadModel; a weight that is one of the parameters is not written again
 *                (the group's `parameters` says, for each weight, the index of the parameter it is,
 *                or null for the next tensor of the group's own bytes).
 * A model class with a saveModel of its own writes its files under `<run_dir>/epoch-E.files/`.
 * The file is written under a temporary name and renamed, then the epoch is committed to the
 * store, then older checkpoints are removed (one of them kept as the folder's spare file, which the
 * next checkpoint is written over: file-write.ts): the store's last epoch always has a complete
 * checkpoint. One file, not a folder of seven, because a pack writes a checkpoint per member per
 * epoch: the file operations were most of a small model's epoch. Checkpoints of earlier versions
 * (a folder `epoch-E/` of files, with `owner.json`; a file without the generator's state; a file
 * whose `model-<i>` holds every weight again) are still read.
 */
export function checkpointFile(runDir: string, epoch: number): string {
  return path.join(runDir, `epoch-${epoch}.ckpt`);
}

const filesDir = (runDir: string, epoch: number) => path.join(runDir, `epoch-${epoch}.files`);
const legacyDir = (runDir: string, epoch: number) => path.join(runDir, `epoch-${epoch}`);

export function modelPath(dir: string, index: number, model: { constructor: { name: string } }): string {
  return path.join(dir, `model-${index}-${model.constructor.name}`);
}

/** The model of a class that saves as LayersModule does: its weights go in the checkpoint file itself. */
function ownWeights(m: ModelModule): tf.LayersModel | undefined {
  return m instanceof LayersModule &&
    m.saveModel === LayersModule.prototype.saveModel &&
    m.loadModel === LayersModule.prototype.loadModel
    ? m.model
    : undefined;
}

type Save = (path: string) => unknown;
const userSave = (m: ModelModule) => (m.saveModel ?? (m as { save_model?: Save }).save_model) as Save | undefined;
const userLoad = (m: ModelModule) => (m.loadModel ?? (m as { load_model?: Save }).load_model) as Save | undefined;

interface Header {
  owner: OwnerStamp;
  /** Absent in checkpoints written before Mosaic seeded a run's unseeded draws. */
  random?: RandomState;
  groups: GroupHeader[];
}

interface GroupHeader {
  name: string;
  specs: tf.io.WeightsManifestEntry[];
  bytes: number;
  /**
   * A `model-<i>` group's weights, in order: the index of the parameter (in the `parameters` group)
   * each one is, or null for the next tensor of the group's own bytes. Absent in checkpoints written
   * before Mosaic wrote these weights once, where the group holds every weight.
   */
  parameters?: (number | null)[];
}

/** What a checkpoint gives back, whatever its format. */
interface CheckpointReader {
  where: string;
  owner(): Promise<OwnerStamp | undefined>;
  /** The run's generator state at the epoch's end, when the checkpoint has it. */
  random: RandomState | undefined;
  group(name: string): Promise<NamedTensor[] | undefined>;
  modelPath(index: number, m: ModelModule): string;
}

async function fileReader(file: string, runDir: string, epoch: number, content: Buffer): Promise<CheckpointReader> {
  const unreadable = () =>
    new CheckpointError(
      `${file} is not a whole Mosaic checkpoint (cut short, or written by something else): refusing to continue from it`,
    );
  const split = splitCheckpoint(content);
  if (!split) throw unreadable();
  const header = split.header as Header;
  const body = split.body;
  let offset = 0;
  const groups = new Map<string, Buffer>();
  for (const g of header.groups ?? []) {
    groups.set(g.name, body.subarray(offset, offset + g.bytes));
    offset += g.bytes;
  }
  if (offset !== body.length || (header.random !== undefined && !isRandomState(header.random))) throw unreadable();
  const stored = (name: string) => {
    const [bytes, specs] = [groups.get(name), header.groups.find((g) => g.name === name)?.specs];
    return bytes && specs
      ? decodeWeightFile(bytes, specs).map((tensor, i) => ({ name: specs[i]!.name, tensor }))
      : undefined;
  };
  const group = async (name: string) => {
    const tensors = stored(name);
    const shared = header.groups.find((g) => g.name === name)?.parameters;
    if (!tensors || !shared) return tensors;
    if (!Array.isArray(shared)) throw unreadable();
    // The weights that are parameters, from the `parameters` group, each a tensor of its own.
    const parameters = stored('parameters') ?? [];
    const own = tensors.values();
    const out = shared.map((p, k) => ({
      name: `w${k}`,
      tensor: p === null ? own.next().value?.tensor : parameters[p]?.tensor.clone(),
    }));
    tfjs.dispose(parameters.map((p) => p.tensor));
    if (!own.next().done || out.some((w) => !w.tensor)) {
      tfjs.dispose([...tensors.map((t) => t.tensor), ...out.flatMap((w) => (w.tensor ? [w.tensor] : []))]);
      throw unreadable();
    }
    return out as NamedTensor[];
  };
  return {
    where: file,
    owner: async () => header.owner,
    random: header.random,
    group,
    modelPath: (i, m) => modelPath(filesDir(runDir, epoch), i, m),
  };
}

function legacyReader(dir: string): CheckpointReader {
  return {
    where: dir,
    owner: async () =>
      JSON.parse(await fs.readFile(path.join(dir, 'owner.json'), 'utf8').catch(() => 'null')) as OwnerStamp | undefined,
    random: undefined,
    group: async (name) => (name.startsWith('model-') ? undefined : readTensors(path.join(dir, name))),
    modelPath: (i, m) => modelPath(dir, i, m),
  };
}

async function readTensors(file: string): Promise<NamedTensor[]> {
  const specs = JSON.parse(await fs.readFile(`${file}.json`, 'utf8')) as tf.io.WeightsManifestEntry[];
  const bin = await fs.readFile(`${file}.bin`);
  const tensors = decodeWeightFile(bin, specs);
  return specs.map((s, i) => ({ name: s.name, tensor: tensors[i]! }));
}

/** Whose a checkpoint is: enough to tell, beyond doubt, which epoch of which run of which database. */
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

export async function saveCheckpoint(
  runDir: string,
  owner: CheckpointOwner,
  record: EpochRecord,
  models: ModelModule[],
  variables: tf.Tensor[],
  optimizer: NamedTensor[],
  random: RandomState,
): Promise<void> {
  const epoch = record.epoch;
  try {
    await claimFolder(runDir, owner);
    await writeCheckpoint(runDir, stampOf(owner, record), models, variables, optimizer, random);
  } catch (e) {
    for (const tmp of [`${checkpointFile(runDir, epoch)}.tmp`, `${filesDir(runDir, epoch)}.tmp`])
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw new CheckpointWriteError(
      `cannot write the checkpoint of epoch ${epoch} in ${runDir}: ${(e as Error).message}`,
      e,
    );
  }
}

type Group = { name: string; tensors: NamedTensor[]; parameters?: (number | null)[] };

/**
 * The checkpoint's tensors by group: the parameters, the optimizer's state, and the weights of each
 * model class that saves as LayersModule does that are not parameters (every trainable weight is
 * one, usually: in the `parameters` group already).
 */
function tensorGroups(models: ModelModule[], variables: tf.Tensor[], optimizer: NamedTensor[]): Group[] {
  const groups: Group[] = [
    { name: 'parameters', tensors: variables.map((v, i) => ({ name: `p${i}`, tensor: v })) },
    { name: 'optimizer', tensors: optimizer },
  ];
  const parameterIndex = new Map<tf.Tensor, number>();
  variables.forEach((v, i) => {
    if (!parameterIndex.has(v)) parameterIndex.set(v, i);
  });
  for (const [i, m] of models.entries()) {
    const model = ownWeights(m);
    if (!model) continue;
    const weights = model.weights.map((w) => w.read());
    const parameters = weights.map((w) => parameterIndex.get(w) ?? null);
    groups.push({
      name: `model-${i}`,
      tensors: weights.flatMap((w, k) => (parameters[k] === null ? [{ name: `w${k}`, tensor: w }] : [])),
      parameters,
    });
  }
  return groups;
}

function headerOf(stamp: OwnerStamp, random: RandomState, groups: Group[], encoded: EncodedGroups): Header {
  return {
    owner: stamp,
    random,
    groups: groups.map((g, i) => ({
      name: g.name,
      specs: encoded.specs[i]!,
      bytes: encoded.bytes[i]!,
      ...(g.parameters ? { parameters: g.parameters } : {}),
    })),
  };
}

/** The files of the model classes with a saveModel of their own, under `epoch-E.files/` (moved into place). */
async function saveModelFiles(runDir: string, epoch: number, models: ModelModule[]): Promise<void> {
  const files = filesDir(runDir, epoch);
  let saved = false;
  for (const [i, m] of models.entries()) {
    const save = userSave(m);
    if (ownWeights(m) || !save) continue;
    if (!saved) await freshFolder(`${files}.tmp`);
    saved = true;
    await save.call(m, modelPath(`${files}.tmp`, i, m));
  }
  if (saved) {
    await fs.rm(files, { recursive: true, force: true });
    await fs.rename(`${files}.tmp`, files);
  }
}

/**
 * The checkpoint file of the run as it is now, written; a model class's own saveModel writes its
 * files first (moved into place).
 */
async function writeCheckpoint(
  runDir: string,
  stamp: OwnerStamp,
  models: ModelModule[],
  variables: tf.Tensor[],
  optimizer: NamedTensor[],
  random: RandomState,
): Promise<void> {
  const groups = tensorGroups(models, variables, optimizer);
  await saveModelFiles(runDir, stamp.epoch, models);
  const tensors = groups.map((g) => g.tensors);
  // Views of the tensors' bytes are written at once, with no TF.js operation (or await) between.
  const encoded: EncodedGroups = viewGroups(tensors) ?? (await encodeGroups(tensors));
  writeWhole(
    checkpointFile(runDir, stamp.epoch),
    runDir,
    checkpointPieces(headerOf(stamp, random, groups, encoded), encoded.body),
  );
}

async function freshFolder(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
}

/**
 * Restores models, variables and optimizer from the checkpoint of the database's last epoch
 * `record`, after checking that the checkpoint is that very epoch of that very run. Returns the
 * state of the run's generator at that epoch's end (undefined from a checkpoint of an older Mosaic).
 */
export async function loadCheckpoint(
  runDir: string,
  owner: CheckpointOwner,
  record: EpochRecord,
  models: ModelModule[],
  variables: tf.Variable[],
  optimizer: { restore(state: NamedTensor[]): Promise<void> },
): Promise<RandomState | undefined> {
  const epoch = record.epoch;
  const foreign = await foreignFolder(runDir, owner);
  if (foreign) throw new CheckpointError(foreign.message);
  const checkpoint = await openCheckpoint(runDir, epoch, owner);
  await verifyOwner(checkpoint, stampOf(owner, record));
  for (const [i, m] of models.entries()) {
    const weights = await checkpoint.group(`model-${i}`);
    const load = userLoad(m);
    if (weights) {
      ownWeights(m)!.setWeights(weights.map((w) => w.tensor));
      tfjs.dispose(weights.map((w) => w.tensor));
    } else if (load) await load.call(m, checkpoint.modelPath(i, m));
  }
  const saved = (await checkpoint.group('parameters')) ?? [];
  if (saved.length !== variables.length) {
    throw new Error(
      `checkpoint of epoch ${epoch} holds ${saved.length} parameter tensors but the model chain has ${variables.length}`,
    );
  }
  saved.forEach(({ tensor }, i) => {
    const v = variables[i]!;
    if (tensor.shape.join('x') !== v.shape.join('x')) {
      throw new Error(
        `checkpoint of epoch ${epoch}: parameter ${i} has shape [${tensor.shape}] but the model's is [${v.shape}]`,
      );
    }
    v.assign(tensor);
  });
  tfjs.dispose(saved.map((s) => s.tensor));
  const state = (await checkpoint.group('optimizer')) ?? [];
  await optimizer.restore(state);
  tfjs.dispose(state.map((t) => t.tensor));
  return checkpoint.random;
}

/** The checkpoint of `epoch`: its file, or the folder an older Mosaic wrote; missing is an error saying where. */
async function openCheckpoint(runDir: string, epoch: number, owner: CheckpointOwner): Promise<CheckpointReader> {
  const file = checkpointFile(runDir, epoch);
  const content = await fs.readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (content) return fileReader(file, runDir, epoch, content);
  const legacy = legacyDir(runDir, epoch);
  if (
    await fs.access(path.join(legacy, 'parameters.json')).then(
      () => true,
      () => false,
    )
  )
    return legacyReader(legacy);
  if (owner.copyOf) {
    throw new CheckpointError(
      `run ${owner.runId} of ${owner.store} has no checkpoint of epoch ${epoch}: ${owner.store} is a copy of ${owner.copyOf}, made without its checkpoints, which stayed with the original. ` +
        'Continue the run on the original, or make the copy again with `mosaic savedb --with-checkpoints`',
    );
  }
  // A folder with other checkpoints but not this one: removed by hand; no folder at all: not shared, or removed.
  const folderThere = await fs.access(runDir).then(
    () => true,
    () => false,
  );
  throw new CheckpointError(
    `checkpoint of epoch ${epoch} is missing (${file} on ${hostName()}): run ${owner.runId} of ${owner.store} cannot continue from where it stopped. ` +
      (folderThere
        ? 'Its folder is there but not this checkpoint: something other than Mosaic removed it'
        : 'Its folder does not exist on this host: it was deleted, or workers run on several hosts and run_files_path is not a folder every host shares (see docs/cluster.md)'),
  );
}

/** A checkpoint that cannot be used: missing, or someone else's. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** A checkpoint that cannot be written (a full disk, a folder in the way): the file system's error is its cause. */
export class CheckpointWriteError extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'CheckpointWriteError';
  }
}

async function verifyOwner(checkpoint: CheckpointReader, expected: OwnerStamp): Promise<void> {
  const dir = checkpoint.where;
  const found = await checkpoint.owner().catch(() => undefined);
  if (!found) {
    throw new CheckpointError(
      `the checkpoint in ${dir} does not say whose it is (no owner.json; written by an older Mosaic?): refusing to continue run ${expected.run_id} of ${expected.store} from it`,
    );
  }
  const who = (s: OwnerStamp) => `run ${s.run_id} of ${s.store} (database ${s.store_id}), epoch ${s.epoch}`;
  if (found.store_id !== expected.store_id || found.run_id !== expected.run_id || found.epoch !== expected.epoch) {
    throw new CheckpointError(
      `the checkpoint in ${dir} belongs to ${who(found)}, not to ${who(expected)}: refusing to continue from it`,
    );
  }
  if (found.train_loss !== expected.train_loss || found.test_loss !== expected.test_loss) {
    throw new CheckpointError(
      `the checkpoint in ${dir} is not the epoch the database recorded for ${who(expected)} (train loss ${found.train_loss} in the checkpoint, ${expected.train_loss} in the database): ` +
        'another copy of this database wrote over it; refusing to continue from it',
    );
  }
}

/**
 * Removes checkpoints (and leftovers of unfinished ones) other than those of `keepEpochs` (the
 * last and the best), in a folder the run owns. One checkpoint file removed becomes the folder's
 * spare file, which the next checkpoint is written over (file-write.ts).
 */
export async function pruneCheckpoints(runDir: string, owner: CheckpointOwner, keepEpochs: number[]): Promise<void> {
  await claimFolder(runDir, owner);
  const keep = new Set(
    keepEpochs.flatMap((e) =>
      [checkpointFile(runDir, e), filesDir(runDir, e), legacyDir(runDir, e)].map((p) => path.basename(p)),
    ),
  );
  // Synchronously, as the checkpoint is written (file-write.ts): 0.55 ms an epoch of the bench MLP otherwise.
  let entries: string[];
  try {
    entries = readdirSync(runDir);
  } catch {
    return;
  }
  let spare = entries.includes(path.basename(spareFile(runDir)));
  for (const e of entries) {
    if (!e.startsWith('epoch-') || keep.has(e)) continue;
    const victim = path.join(runDir, e);
    if (!spare && /^epoch-\d+\.ckpt$/.test(e)) {
      renameSync(victim, spareFile(runDir));
      spare = true;
    } else rmSync(victim, { recursive: true, force: true });
  }
}

/** At a run's end: the spare file of its folder (`pruneCheckpoints`) removed, if this process wrote there. */
export function dropSpareCheckpoint(runDir: string, owner: CheckpointOwner): void {
  if (claimedFolder(runDir, owner)) rmSync(spareFile(runDir), { force: true });
}
