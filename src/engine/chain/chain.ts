import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import { typedValue, type ParamValue } from '../../config/values.js';
import { moduleParams } from '../../pipelines/generate.js';
import type { PipelineModule } from '../../core/run-spec.js';
import type { RunSpec } from '../../core/run-spec.js';
import type {
  Batch,
  BatchSource,
  DataModule,
  LossModule,
  ModelModule,
  ModuleInfo,
  RunInfo,
} from '../../user/contracts.js';
import { constructorParams, recordingReads } from './inject.js';
import { loadUserClass } from './loader.js';
import { builtinLoss, type LossFn } from './loss.js';
import { lossKind } from '../../core/names.js';
import { builtinCategory, userLossCategory, type LossCategory } from './targets.js';

/** The built pipeline of one run: data chain output, model chain, loss. */
export interface Chain {
  runInfo: RunInfo;
  dataModules: DataModule[];
  models: { module: ModelModule; info: ModuleInfo }[];
  train: BatchSource;
  test: BatchSource;
  variables: tf.Variable[];
  loss: LossFn;
  lossCategory: LossCategory;
  /** Who is who, for messages: the last model class, the last data class, the loss. */
  names: { model: string; data: string; loss: string };
}

export function moduleInfo(m: PipelineModule): ModuleInfo {
  const info: Record<string, ParamValue> = { name: m.name, type: m.type, class: m.class, key: m.key };
  for (const [k, v] of moduleParams(m)) info[k] = typedValue(v);
  return info;
}

/** The names each class read from its parameters and its module info, by section name (preflight's check of unread keys). */
export type ReadLog = Map<string, Set<string>>;

async function instantiate<T>(
  m: PipelineModule,
  spec: RunSpec,
  runInfo: RunInfo,
  reads?: ReadLog,
): Promise<{ instance: T; info: ModuleInfo }> {
  const Cls = await loadUserClass(
    path.resolve(spec.configDir, m.path_to_class),
    m.class,
    `[${m.name}] class = ${m.class}`,
  );
  const info = moduleInfo(m);
  const section = Object.fromEntries(moduleParams(m).map(([k]) => [k, info[k]]));
  const defaults = (Cls as { defaults?: Record<string, unknown> }).defaults;
  let seen: Set<string> | undefined;
  if (reads) {
    seen = reads.get(m.name) ?? new Set();
    reads.set(m.name, seen);
  }
  const instance = new Cls(constructorParams(m.class, m.name, section, runInfo, defaults, seen)) as T;
  return { instance, info: seen ? recordingReads(info, seen) : info };
}

function requireMethod(obj: object, method: string, what: string): void {
  if (typeof (obj as Record<string, unknown>)[method] !== 'function')
    throw new Error(`${what} has no ${method}() method`);
}

export async function buildChain(spec: RunSpec, runInfo: RunInfo): Promise<Chain> {
  const { dataModules, train, test } = await buildData(spec, runInfo);
  const { models, variables } = await buildModels(spec, runInfo);
  const lastData = spec.modules[spec.dataCount - 1]!;
  const lastModel = spec.modules[spec.modules.length - 1]!;
  const names = {
    model: `model class ${lastModel.class} [${lastModel.name}]`,
    data: `data class ${lastData.class} [${lastData.name}]`,
    loss: spec.process.class_loss_function ?? spec.process.loss_function!,
  };
  return { runInfo, dataModules, models, train, test, variables, ...(await makeLoss(spec, runInfo)), names };
}

/** The data chain of a run: each data class built and prepared in order, its `info()` merged into `runInfo`. */
export async function buildData(
  spec: RunSpec,
  runInfo: RunInfo,
  reads?: ReadLog,
): Promise<Pick<Chain, 'dataModules' | 'train' | 'test'>> {
  const dataModules: DataModule[] = [];
  let data: unknown;
  const dataSpecs = spec.modules.slice(0, spec.dataCount);
  for (const m of dataSpecs) {
    const { instance, info } = await instantiate<DataModule>(m, spec, runInfo, reads);
    dataModules.push(instance);
    requireMethod(instance, 'prepare', `data class ${m.class}`);
    data = await instance.prepare(data, runInfo, info);
    Object.assign(runInfo, instance.info?.() ?? {});
  }
  const lastData = dataSpecs[dataSpecs.length - 1]!;
  const [train, test] = trainTestPair(data, lastData.class);
  if (runInfo.batch_size === undefined) throw new Error(`data class ${lastData.class}: info() must return batch_size`);
  return { dataModules, train, test };
}

/** The model chain of a run, on `runInfo` as its data chain left it; each model's `info()` merged into it. */
export async function buildModels(
  spec: RunSpec,
  runInfo: RunInfo,
  reads?: ReadLog,
): Promise<Pick<Chain, 'models' | 'variables'>> {
  const models: Chain['models'] = [];
  for (const m of spec.modules.slice(spec.dataCount)) {
    const { instance, info } = await instantiate<ModelModule>(m, spec, runInfo, reads);
    requireMethod(instance, 'forward', `model class ${m.class}`);
    requireMethod(instance, 'parameters', `model class ${m.class}`);
    models.push({ module: instance, info });
    Object.assign(runInfo, instance.info?.() ?? {});
  }
  const variables = models.flatMap(({ module }, i) => {
    const vars = module.parameters();
    if (!Array.isArray(vars) || vars.some((v) => !(v instanceof tfjs.Variable))) {
      throw new Error(
        `model class ${spec.modules[spec.dataCount + i]!.class}: parameters() must return an array of tf.Variable`,
      );
    }
    return vars;
  });
  if (variables.length === 0)
    throw new Error('the model chain has no trainable parameters (parameters() returned nothing)');
  return { models, variables };
}

function trainTestPair(data: unknown, className: string): [BatchSource, BatchSource] {
  const pair =
    Array.isArray(data) && data.length === 2
      ? data
      : data && typeof data === 'object' && 'train' in data && 'test' in data
        ? [data.train, data.test]
        : undefined;
  const iterable = (s: unknown) =>
    s != null &&
    (typeof (s as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (s as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
  if (!pair || !iterable(pair[0]) || !iterable(pair[1])) {
    throw new Error(
      `data class ${className}: prepare() of the last data module must return [train, test] (or { train, test }), two iterables of batches`,
    );
  }
  return pair as [BatchSource, BatchSource];
}

async function makeLoss(spec: RunSpec, runInfo: RunInfo): Promise<{ loss: LossFn; lossCategory: LossCategory }> {
  const p = spec.process;
  if (p.class_loss_function) {
    const where = `[PROCESS] class_loss_function = ${p.class_loss_function}`;
    const Cls = await loadUserClass(p.path_to_class_loss_function!, p.class_loss_function, where);
    const defaults = (Cls as { defaults?: Record<string, unknown> }).defaults;
    const instance = new Cls(constructorParams(p.class_loss_function, 'PROCESS', {}, runInfo, defaults)) as LossModule;
    requireMethod(instance, 'forward', `loss class ${p.class_loss_function}`);
    const loss: LossFn = (prediction, target) => {
      const l = instance.forward(prediction, target);
      return (l.rank === 0 ? l : l.mean()) as tf.Scalar;
    };
    return { loss, lossCategory: userLossCategory(Cls, p.class_loss_function) };
  }
  const kind = lossKind(p.loss_function!)!;
  return { loss: builtinLoss(kind), lossCategory: builtinCategory(kind) };
}

export function asBatch(item: Batch | [tf.Tensor, tf.Tensor]): Batch {
  if (Array.isArray(item)) return { x: item[0], y: item[1] };
  if (item && 'x' in item && 'y' in item) return item;
  const alt = item as unknown as { xs?: tf.Tensor; ys?: tf.Tensor };
  if (alt.xs && alt.ys) return { x: alt.xs, y: alt.ys };
  throw new Error('a batch must be { x, y } or [x, y] tensors');
}

/** How many numbers a model chain trains: the sum of its variables' sizes. */
export const parameterCount = (variables: tf.Tensor[]) => variables.reduce((a, v) => a + v.size, 0);
