import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE_ENV } from '../../cache/download.js';
import type { ExperimentConfig, ModuleSection, MonitorSettings } from '../../config/types.js';
import { ConfigError } from '../../core/errors.js';
import { moduleVariants, RESERVED_MODULE_KEYS } from '../../pipelines/generate.js';
import type { ClaimedRun } from '../../store/types.js';
import type { RunSpec } from '../../core/run-spec.js';
import type { Batch, BatchSource, RunInfo } from '../../user/contracts.js';
import { asBatch, buildData, buildModels, type Chain, type ReadLog } from '../chain/chain.js';
import { MissingParameterError } from '../chain/inject.js';
import { EpochMetrics, initialRunInfo } from '../run/run.js';
import { useBackend } from '../../tfjs/backends.js';
import { tfjs } from '../../tfjs/tfjs.js';

/** A data chain built by the check, shared by the model chains that follow it. */
interface PreparedData {
  sections: ModuleSection[];
  /** The round of values it was built with. */
  round: number;
  chain: Pick<Chain, 'dataModules' | 'train' | 'test'>;
  /** run_info as the data chain left it (its classes' `info()` merged in). */
  runInfo: RunInfo;
  batch: Batch;
  dispose: () => void;
}

/** Rounds of builds with other values tried before a key is refused (only when one would be). */
const MORE_ROUNDS = 3;

/**
 * Refuses, before anything is queued, a key of a class section that its class never reads: a
 * misspelt `dropuot = 0.3` would otherwise be stored with every run and train without dropout.
 *
 * Every class section of the schemes is built, as a run builds it (its first swept value, a real
 * run_info with the first `[PROCESS]` values, in a temporary run folder, on cpu): the data chains
 * are prepared, then each model chain is built on one of them and given the first train batch
 * (the first forward pass, `training` true). The pipelines cover every section with as few builds
 * as possible: as many as the most alternatives of one type, each data chain prepared once (a
 * download goes through the cache of `[MONITOR]`, which the runs then reuse). What a class reads
 * from its parameters (`p.x`, `'x' in p`; enumerating them reads them all) or from its module
 * info, until the end of that first forward pass, is read; a key written in the section (not
 * inherited from `[DEFAULT]`, not listed in `ignore_unread`) that is not read is refused, with the
 * closest name the class did read. Before refusing, up to 3 more rounds build everything again
 * with the next swept values, `[PROCESS]` values and seed: a key read only for some values
 * (`alpha` for `activation = leaky`) or some seeds is read.
 *
 * A class that fails to build or to run its first batch here is not judged (its runs will say
 * why, as they always have), except when it failed on reading a parameter that no place gives
 * while its section has an unread key close to that name: that is a typo, refused here too.
 */
export async function checkUnreadKeys(config: ExperimentConfig): Promise<void> {
  const slots = (types: string[]) => types.map((t) => config.modules.filter((m) => m.type === t));
  const dataSlots = slots(config.dataScheme);
  const modelSlots = slots(config.pipelineScheme);
  const dataChains = Math.max(...dataSlots.map((s) => s.length));
  const pipelines = Math.max(dataChains, ...modelSlots.map((s) => s.length));
  const variants = new Map(config.modules.map((m) => [m.name, moduleVariants(m)]));
  const nth = <T>(list: T[], round: number) => list[round % list.length]!;
  const spec = (sections: ModuleSection[], round: number): RunSpec => ({
    configDir: config.dir,
    process: nth(config.processVariants, round),
    modules: sections.map((m) => nth(variants.get(m.name)!, round)),
    dataCount: config.dataScheme.length,
  });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-preflight-'));
  const runInfo = (s: RunSpec, round: number): RunInfo =>
    initialRunInfo(
      {
        spec: s,
        runId: 0,
        seed: (config.processVariants[0]!.seed ?? 1) + round,
        epochsTarget: s.process.epochs,
        runDir,
      } as unknown as ClaimedRun,
      config.monitor.need_gpu ? config.monitor.gpu_available[0] : undefined,
      new EpochMetrics(),
    );

  const reads: ReadLog = new Map();
  const judged = new Set<string>();
  const sectionOf = (name: string) => config.modules.find((m) => m.name === name);
  /** Runs a build; a failure is the run's to report, unless it is a typo of a parameter's name. */
  const attempt = async <T>(build: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await build();
    } catch (e) {
      if (e instanceof MissingParameterError && e.parameter !== undefined && e.section !== undefined) {
        const m = sectionOf(e.section);
        const typo =
          m && unreadKeys(m, reads.get(m.name) ?? new Set()).find((k) => closestName(k, [e.parameter!]) !== undefined);
        if (m && typo)
          throw unreadError(
            config.file,
            m,
            typo,
            e.parameter,
            `${m.className} never reads it: it reads "${e.parameter}" instead, which is given nowhere`,
          );
      }
      return undefined;
    }
  };

  /** Prepares a data chain and takes its first train batch; undefined if it has none. */
  const prepareData = async (sections: ModuleSection[], round: number): Promise<PreparedData | undefined> => {
    const s = spec(sections, round);
    const info = runInfo(s, round);
    const chain = await buildData(s, info, reads);
    const batchDisposers: (() => void)[] = [];
    const dispose = () => {
      for (const f of batchDisposers) quietly(f);
      quietly(() => disposeData(chain));
    };
    try {
      const batch = await firstBatch(chain.train, batchDisposers);
      if (batch) return { sections, round, chain, runInfo: info, batch, dispose };
    } catch (e) {
      dispose();
      throw e;
    }
    dispose();
    return undefined;
  };
  /** Builds a model chain on a prepared data chain and runs its first forward pass (training). */
  const firstForward = async (d: PreparedData, models: ModuleSection[]): Promise<boolean> => {
    const info: RunInfo = { ...d.runInfo };
    const chain = await buildModels(spec([...d.sections, ...models], d.round), info, reads);
    try {
      // as train() does before the first batch
      info.epoch = 1;
      info.training = true;
      tfjs.tidy(() => {
        chain.models.reduce((x, m) => m.module.forward(x, info, m.info), d.batch.x);
      });
    } finally {
      quietly(() => disposeModels(chain));
    }
    return true;
  };
  /** Builds every section (as few pipelines as cover them), with the values of this round. */
  const buildAll = async (round: number) => {
    // The first data chain built is kept for the model chains whose own data chain fails; the
    // others are released as soon as their model chains have run.
    let spare: PreparedData | undefined;
    const waiting: ModuleSection[][] = [];
    const runModels = async (d: PreparedData) => {
      for (const models of waiting.splice(0)) {
        if (await attempt(() => firstForward(d, models))) for (const m of models) judged.add(m.name);
      }
    };
    try {
      for (let j = 0; j < dataChains; j++) {
        for (let i = j; i < pipelines; i += dataChains) waiting.push(modelSlots.map((s) => s[i % s.length]!));
        const sections = dataSlots.map((s) => s[j % s.length]!);
        const d = await attempt(() => prepareData(sections, round));
        if (!d) continue; // its model chains wait for the next data chain built
        for (const m of sections) judged.add(m.name);
        spare ??= d;
        await runModels(d);
        if (d !== spare) d.dispose();
      }
      if (spare) await runModels(spare);
    } finally {
      spare?.dispose();
    }
  };
  const unread = () =>
    config.modules
      .filter((m) => judged.has(m.name))
      .map((m) => ({ m, keys: unreadKeys(m, reads.get(m.name) ?? new Set()) }))
      .filter((u) => u.keys.length > 0);

  const restoreEnv = useDownloadCache(config.monitor);
  try {
    await useBackend(config.processVariants[0]!.backend === 'tensorflow' ? 'tensorflow' : 'cpu');
    await buildAll(0);
    for (let round = 1; round <= MORE_ROUNDS && unread().length > 0; round++) await buildAll(round);
  } finally {
    restoreEnv();
    fs.rmSync(runDir, { recursive: true, force: true });
  }

  const [first] = unread();
  if (!first) return;
  const { m, keys } = first;
  const read = reads.get(m.name)!;
  const others = keys.length > 1 ? ` (nor ${keys.slice(1).join(', ')})` : '';
  throw unreadError(
    config.file,
    m,
    keys[0]!,
    closestName(
      keys[0]!,
      [...read].filter((n) => !RESERVED_MODULE_KEYS.has(n)),
    ),
    `${m.className} never reads it${others}`,
  );
}

/** The keys written in section `m` that its class may not leave unread, and did. */
function unreadKeys(m: ModuleSection, read: Set<string>): string[] {
  return m.params
    .map((p) => p.key)
    .filter(
      (k) =>
        !RESERVED_MODULE_KEYS.has(k) && !m.inheritedKeys.includes(k) && !m.ignoreUnread.includes(k) && !read.has(k),
    );
}

function unreadError(
  file: string,
  m: ModuleSection,
  key: string,
  suggestion: string | undefined,
  what: string,
): ConfigError {
  const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
  return new ConfigError(
    { file, line: m.lines[key], section: m.name, key },
    `${what}${hint} (a key meant for something else can be listed in ignore_unread = ${key})`,
  );
}

/**
 * The name among `names` closest to `key` (case, `_` and `-` aside) by edit distance with
 * transpositions, within 1 edit for names of up to 4 letters, 2 up to 8, 3 beyond.
 */
export function closestName(key: string, names: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  const limit = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of names) {
    if (name === key) continue;
    const d = editDistance(k, norm(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The user's `dispose()` failing here is no reason to refuse the experiment. */
function quietly(f: () => void): void {
  try {
    f();
  } catch {
    // ignored
  }
}

/** The first train batch (an iterator is closed after it; its batch is disposed with the check). */
async function firstBatch(source: BatchSource, disposers: (() => void)[]): Promise<Batch | undefined> {
  if (Array.isArray(source)) return source.length > 0 ? asBatch(source[0]!) : undefined;
  for await (const item of source) {
    const batch = asBatch(item);
    disposers.push(() => tfjs.dispose([batch.x, batch.y]));
    return batch;
  }
  return undefined;
}

function disposeData(chain: Pick<Chain, 'dataModules' | 'train' | 'test'>): void {
  for (const d of chain.dataModules) d.dispose?.();
  for (const source of [chain.train, chain.test]) {
    if (Array.isArray(source)) for (const item of source) tfjs.dispose(Object.values(asBatch(item)));
  }
}

function disposeModels(chain: Pick<Chain, 'models' | 'variables'>): void {
  for (const { module } of chain.models) module.dispose?.();
  tfjs.dispose(chain.variables.filter((v) => !v.isDisposed));
}

/** Downloads of data classes go through the cache the runs will use (as `worker/pool.ts` sets it). */
function useDownloadCache(monitor: MonitorSettings): () => void {
  const saved = { db: process.env[CACHE_ENV.db], size: process.env[CACHE_ENV.size] };
  if (monitor.cache_database_path) process.env[CACHE_ENV.db] = monitor.cache_database_path;
  if (monitor.cache_size) process.env[CACHE_ENV.size] = String(monitor.cache_size);
  return () => {
    for (const [k, v] of [
      [CACHE_ENV.db, saved.db],
      [CACHE_ENV.size, saved.size],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
