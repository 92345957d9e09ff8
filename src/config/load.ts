import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, MosaicError } from '../core/errors.js';
import { parseIni, type IniSection } from './ini.js';
import * as v from './schema.js';
import { expandSweep, SweepSyntaxError } from './sweep.js';
import { cartesian } from './cartesian.js';
import { readRace } from './race.js';
import type { ExperimentConfig, ModuleSection, MonitorSettings } from './types.js';
import type { ProcessSettings } from '../core/run-spec.js';
import { MONITOR_DEFAULTS, PROCESS_DEFAULTS } from '../core/defaults.js';
import type { z } from 'zod';

const MODULE_REQUIRED = ['type', 'class', 'path_to_class', 'key'] as const;
/** A class section's key read by Mosaic, not a parameter: the keys the class may leave unread. */
export const IGNORE_UNREAD = 'ignore_unread';
/** PROCESS keys that are lists or paths, never sweeps. */
const PROCESS_NOT_SWEPT = new Set([
  'data_scheme',
  'pipeline_scheme',
  'run_files_path',
  'class_loss_function',
  'path_to_class_loss_function',
]);

export function readConfigFile(file: string): ExperimentConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new MosaicError(
      `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`,
    );
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): ExperimentConfig {
  const doc = parseIni(text, file);
  const dir = path.dirname(path.resolve(file));
  const find = (name: string) => doc.sections.find((s) => s.name.toUpperCase() === name);
  const processSection = find('PROCESS');
  const monitorSection = find('MONITOR');
  if (!processSection) throw new ConfigError({ file }, 'missing section [PROCESS]');
  if (!monitorSection) throw new ConfigError({ file }, 'missing section [MONITOR]');

  const processValues = [...processSection.entries].map(([key, entry]) => {
    const values = PROCESS_NOT_SWEPT.has(key) ? [entry.value] : sweep(entry.value, file, processSection, key);
    return { key, values, line: entry.line };
  });
  const processVariants = cartesian(processValues.map((pv) => pv.values.map((value) => [pv.key, value] as const))).map(
    (combo) => resolveProcess(Object.fromEntries(combo), file, processSection, dir),
  );
  const sweptProcessKeys = processValues.filter((pv) => pv.values.length > 1).map((pv) => pv.key);
  const first = processVariants[0]!;
  const monitor = resolveMonitor(monitorSection, file, dir);

  const modules = doc.sections
    .filter((s) => s !== processSection && s !== monitorSection)
    .map((s) => readModule(s, file, dir));
  const warnings: string[] = [];
  const schemeTypes = new Set([...first.data_scheme, ...first.pipeline_scheme]);
  for (const m of modules) {
    if (!schemeTypes.has(m.type)) {
      warnings.push(
        `${file}:${m.line} [${m.name}]: type "${m.type}" is in neither data_scheme nor pipeline_scheme; section not used`,
      );
    }
  }
  for (const [schemeKey, types] of [
    ['data_scheme', first.data_scheme],
    ['pipeline_scheme', first.pipeline_scheme],
  ] as const) {
    for (const t of types) {
      if (!modules.some((m) => m.type === t)) {
        throw new ConfigError(
          { file, line: processSection.entries.get(schemeKey)!.line, section: processSection.name, key: schemeKey },
          `no section has type = ${t}`,
        );
      }
    }
  }
  return {
    file,
    dir,
    processVariants,
    sweptProcessKeys,
    monitor,
    dataScheme: first.data_scheme,
    pipelineScheme: first.pipeline_scheme,
    modules,
    warnings,
  };
}

function sweep(value: string, file: string, section: IniSection, key: string): string[] {
  try {
    return expandSweep(value);
  } catch (e) {
    if (e instanceof SweepSyntaxError) {
      throw new ConfigError({ file, line: section.entries.get(key)?.line, section: section.name, key }, e.message);
    }
    throw e;
  }
}

function check<T extends z.ZodType>(
  schema: T,
  raw: string,
  file: string,
  section: IniSection,
  key: string,
): z.output<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(
      { file, line: section.entries.get(key)?.line, section: section.name, key },
      `${v.firstIssue(r.error)}, found "${raw}"`,
    );
  }
  return r.data;
}

/** Validates one combination of PROCESS values (each key with a single value). */
export function resolveProcess(
  values: Record<string, string>,
  file: string,
  section: IniSection,
  dir: string,
): ProcessSettings {
  const get = <T extends z.ZodType>(key: string, schema: T, fallback?: string): z.output<T> | undefined => {
    const raw = values[key] ?? fallback;
    return raw === undefined ? undefined : check(schema, raw, file, section, key);
  };
  const need = (key: string, what: string) => {
    if (values[key] === undefined)
      throw new ConfigError({ file, line: section.line, section: section.name }, `missing key "${key}" (${what})`);
  };
  need('epochs', 'number of training epochs');
  need('data_scheme', 'comma-separated types of the data chain');
  need('pipeline_scheme', 'comma-separated types of the model chain');
  if (values.loss_function === undefined && values.class_loss_function === undefined) {
    throw new ConfigError(
      { file, line: section.line, section: section.name },
      'missing key "loss_function" (e.g. MSELoss, BCELoss, CrossEntropyLoss), or "class_loss_function" + "path_to_class_loss_function" for a loss class of your own',
    );
  }
  if (values.class_loss_function !== undefined)
    need('path_to_class_loss_function', 'file of the class named by class_loss_function');
  const dataScheme = get('data_scheme', v.nameList)!;
  const pipelineScheme = get('pipeline_scheme', v.nameList)!;
  if (dataScheme.length === 0)
    throw new ConfigError(
      { file, line: section.entries.get('data_scheme')!.line, section: section.name, key: 'data_scheme' },
      'names no type',
    );
  if (pipelineScheme.length === 0)
    throw new ConfigError(
      { file, line: section.entries.get('pipeline_scheme')!.line, section: section.name, key: 'pipeline_scheme' },
      'names no type',
    );
  const lossPath = values.path_to_class_loss_function;
  const seed = get('seed', v.integer);
  const earlyStopping = get('early_stopping', v.positiveInt);
  const weightDecay = get('weight_decay', v.nonNegativeNumber);
  if (values.min_delta !== undefined && earlyStopping === undefined) {
    throw new ConfigError(
      { file, line: section.entries.get('min_delta')?.line, section: section.name, key: 'min_delta' },
      'min_delta only has a meaning with early_stopping = N (patience in epochs)',
    );
  }
  return {
    lr: get('lr', v.positiveNumber, String(PROCESS_DEFAULTS.lr))!,
    epochs: get('epochs', v.positiveInt)!,
    optimizer: get('optimizer', v.optimizer, PROCESS_DEFAULTS.optimizer)!,
    loss_function: values.class_loss_function === undefined ? get('loss_function', v.lossName) : undefined,
    class_loss_function: values.class_loss_function,
    path_to_class_loss_function: lossPath === undefined ? undefined : path.resolve(dir, lossPath),
    backend: get('backend', v.backend, PROCESS_DEFAULTS.backend)!,
    run_files_path: path.resolve(dir, values.run_files_path ?? PROCESS_DEFAULTS.run_files_path),
    data_scheme: dataScheme,
    pipeline_scheme: pipelineScheme,
    ...(seed === undefined ? {} : { seed }),
    accuracy: get('accuracy', v.accuracy, PROCESS_DEFAULTS.accuracy)!,
    ...(earlyStopping === undefined ? {} : { early_stopping: earlyStopping }),
    min_delta: get('min_delta', v.nonNegativeNumber, String(PROCESS_DEFAULTS.min_delta))!,
    ...(weightDecay === undefined ? {} : { weight_decay: weightDecay }),
    raw: { ...values },
  };
}

function resolveMonitor(section: IniSection, file: string, dir: string): MonitorSettings {
  const raw = (key: string) => section.entries.get(key)?.value;
  const get = <T extends z.ZodType>(key: string, schema: T, fallback: string): z.output<T> =>
    check(schema, raw(key) ?? fallback, file, section, key);
  const gpuRaw = raw('gpu_available');
  const gpus = gpuRaw === undefined || /^none$/i.test(gpuRaw.trim()) ? [] : v.nameList.parse(gpuRaw);
  const needGpu = get('need_gpu', v.boolean, String(MONITOR_DEFAULTS.need_gpu));
  if (needGpu && gpus.length === 0) {
    throw new ConfigError(
      { file, line: section.entries.get('need_gpu')?.line, section: section.name, key: 'need_gpu' },
      'need_gpu is True but gpu_available lists no device (e.g. gpu_available = cuda:0, cuda:1)',
    );
  }
  const cachePath = raw('cache_database_path');
  const cacheSize = raw('cache_size');
  // A race (multiplicity = auto) queues min_repeats repeats first, paired unless paired = False.
  const race = readRace(section, file);
  return {
    nb_processus: get('nb_processus', v.positiveInt, String(MONITOR_DEFAULTS.nb_processus)),
    multiplicity: race ? race.minRepeats : get('multiplicity', v.positiveInt, String(MONITOR_DEFAULTS.multiplicity)),
    paired: get('paired', v.boolean, String(race ? true : MONITOR_DEFAULTS.paired)),
    ...(race ? { race } : {}),
    need_gpu: needGpu,
    gpu_available: gpus,
    ...(cachePath && !/^none$/i.test(cachePath) ? { cache_database_path: path.resolve(dir, cachePath) } : {}),
    ...(cacheSize && !/^none$/i.test(cacheSize) ? { cache_size: get('cache_size', v.size, cacheSize) } : {}),
    retries: get('retries', v.nonNegativeInt, String(MONITOR_DEFAULTS.retries)),
    pack_size: get('pack_size', v.positiveInt, String(MONITOR_DEFAULTS.pack_size)),
    heartbeat_timeout: get('heartbeat_timeout', v.positiveInt, String(MONITOR_DEFAULTS.heartbeat_timeout)),
  };
}

function readModule(section: IniSection, file: string, dir: string): ModuleSection {
  for (const key of MODULE_REQUIRED) {
    const entry = section.entries.get(key);
    if (!entry || entry.value === '') {
      throw new ConfigError(
        { file, line: section.line, section: section.name },
        `missing key "${key}" (every class section needs ${MODULE_REQUIRED.join(', ')})`,
      );
    }
  }
  const e = (k: string) => section.entries.get(k)!;
  const params = [...section.entries]
    .filter(([key]) => !(MODULE_REQUIRED as readonly string[]).includes(key) && key !== IGNORE_UNREAD)
    .map(([key, entry]) => ({ key, values: sweep(entry.value, file, section, key), line: entry.line }));
  const ignoreUnread = section.entries.get(IGNORE_UNREAD);
  const templateNames = ['type', 'class', 'path_to_class', ...params.map((p) => p.key)];
  for (const [, ref] of e('key').value.matchAll(/\{([^{}]*)\}/g)) {
    if (!templateNames.includes(ref!.trim().toLowerCase())) {
      throw new ConfigError(
        { file, line: e('key').line, section: section.name, key: 'key' },
        `template "{${ref}}" names no key of this section (known: ${templateNames.join(', ')})`,
      );
    }
  }
  return {
    name: section.name,
    line: section.line,
    type: e('type').value,
    className: e('class').value,
    pathToClass: e('path_to_class').value,
    absolutePathToClass: path.resolve(dir, e('path_to_class').value),
    keyTemplate: e('key').value,
    lines: Object.fromEntries([...section.entries].map(([k, entry]) => [k, entry.line])),
    params,
    inheritedKeys: params.filter((p) => section.entries.get(p.key)!.inherited).map((p) => p.key),
    ignoreUnread: ignoreUnread ? v.nameList.parse(ignoreUnread.value).map((k) => k.toLowerCase()) : [],
  };
}
