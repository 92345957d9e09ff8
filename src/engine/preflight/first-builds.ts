import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE_ENV } from '../../cache/download.js';
import { cartesian } from '../../config/cartesian.js';
import type { ExperimentConfig, ModuleSection, MonitorSettings } from '../../config/types.js';
import { moduleVariants } from '../../pipelines/generate.js';
import type { ClaimedRun } from '../../store/types.js';
import type { RunSpec } from '../../core/run-spec.js';
import type { Batch, BatchSource, RunInfo } from '../../user/contracts.js';
import { asBatch, buildData, buildModels, type Chain } from '../chain/chain.js';
import { MissingParameterError } from '../chain/inject.js';
import { EpochMetrics, initialRunInfo } from '../run/run.js';
import { useBackend } from '../../tfjs/backends.js';
import { tfjs } from '../../tfjs/tfjs.js';
import type * as TF from '@tensorflow/tfjs';
import { buildFailure, type BuildStage } from './build-failure.js';

/** A data chain built by the check, shared by the model chains that follow it. */
interface PreparedData {
  sections: ModuleSection[];
  chain: Pick<Chain, 'dataModules' | 'train' | 'test'>;
  /** run_info as the data chain left it (its classes' `info()` merged in). */
  runInfo: RunInfo;
  batch: Batch;
  dispose: () => void;
}

/**
 * The section whose class is being built: `buildData` and `buildModels` look up a section's
 * read set just before constructing its class, and its `prepare()` and `info()` follow.
 */
class TrackedReads extends Map<string, Set<string>> {
  current: string | undefined;
  override get(section: string): Set<string> | undefined {
    this.current = section;
    return super.get(section);
  }
}

/**
 * Builds the experiment's pipelines as its runs would (a real run_info with the `[PROCESS]`
 * values of the round, in a temporary run folder, on cpu), up to each model chain's first forward
 * pass (`training` true) on the first train batch: every distinct data chain (one section per
 * data slot) is prepared once, and every model chain of a cover of the model sections (as many as
 * the most alternatives of one type) runs on each of them. Round 0 builds every section with its
 * first swept values; a failure there is refused (`build-failure.ts`), since every run of that
 * pipeline would fail alike. Later rounds (other values, another seed) only look for more reads:
 * their failures are left to the runs.
 */
export class FirstBuilds {
  /** What each section's class read, by section name. */
  readonly reads = new TrackedReads();
  /** The sections built (and run) without failing at least once. */
  readonly built = new Set<string>();
  /** Set while a model chain runs its first forward pass (its failure is the forward's, not the build's). */
  private forwarding = false;
  private readonly runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-preflight-'));
  private readonly variants: Map<string, ReturnType<typeof moduleVariants>>;
  private readonly dataChains: ModuleSection[][];
  private readonly modelChains: ModuleSection[][];

  /** `explain`: an error of a build that means something else (a typo), thrown instead. */
  constructor(
    private readonly config: ExperimentConfig,
    private readonly explain: (e: unknown) => Error | undefined,
  ) {
    const slots = (types: string[]) => types.map((t) => config.modules.filter((m) => m.type === t));
    const modelSlots = slots(config.pipelineScheme);
    const cover = Math.max(...modelSlots.map((s) => s.length));
    this.dataChains = cartesian(slots(config.dataScheme));
    this.modelChains = Array.from({ length: cover }, (_, i) => modelSlots.map((s) => s[i % s.length]!));
    this.variants = new Map(config.modules.map((m) => [m.name, moduleVariants(m)]));
  }

  /** Runs `check` with the download cache and the backend of the runs, then removes the run folder. */
  async around<T>(check: () => Promise<T>): Promise<T> {
    const restoreEnv = useDownloadCache(this.config.monitor);
    try {
      await useBackend(this.config.processVariants[0]!.backend === 'tensorflow' ? 'tensorflow' : 'cpu');
      return await check();
    } finally {
      restoreEnv();
      fs.rmSync(this.runDir, { recursive: true, force: true });
    }
  }

  /** Builds every data chain and, on each, every model chain of the cover, with this round's values. */
  async round(round: number): Promise<void> {
    for (const sections of this.dataChains) {
      const d = await this.attempt(round, 'data', sections, () => this.prepareData(sections, round));
      if (!d) continue;
      for (const m of sections) this.built.add(m.name);
      try {
        for (const models of this.modelChains) {
          const ran = await this.attempt(round, 'model', models, () => this.firstForward(d, models, round), d.sections);
          if (ran) for (const m of models) this.built.add(m.name);
        }
      } finally {
        d.dispose();
      }
    }
  }

  /** Runs a build; a failure is refused in round 0 and left to the runs after it. */
  private async attempt<T>(
    round: number,
    stage: BuildStage,
    sections: ModuleSection[],
    build: () => Promise<T>,
    onData?: ModuleSection[],
  ): Promise<T | undefined> {
    this.reads.current = undefined;
    this.forwarding = false;
    try {
      return await build();
    } catch (e) {
      const failed =
        (e instanceof MissingParameterError && e.section) || this.reads.current || sections[sections.length - 1]!.name;
      const forwarding = this.forwarding;
      const explained = this.explain(e);
      if (explained) throw explained;
      if (round > 0) return undefined;
      const section = sections.find((m) => m.name === failed) ?? sections[sections.length - 1]!;
      throw buildFailure(this.config, {
        section,
        module: this.moduleOf(section, round),
        stage: forwarding ? 'forward' : stage,
        error: e,
        ...(onData && this.dataChains.length > 1 ? { data: onData } : {}),
      });
    }
  }

  private moduleOf(m: ModuleSection, round: number) {
    return nth(this.variants.get(m.name)!, round);
  }

  private spec(sections: ModuleSection[], round: number): RunSpec {
    return {
      configDir: this.config.dir,
      process: nth(this.config.processVariants, round),
      modules: sections.map((m) => this.moduleOf(m, round)),
      dataCount: this.config.dataScheme.length,
    };
  }

  private runInfo(s: RunSpec, round: number): RunInfo {
    const { config } = this;
    return initialRunInfo(
      {
        spec: s,
        runId: 0,
        seed: (config.processVariants[0]!.seed ?? 1) + round,
        epochsTarget: s.process.epochs,
        runDir: this.runDir,
      } as unknown as ClaimedRun,
      config.monitor.need_gpu ? config.monitor.gpu_available[0] : undefined,
      new EpochMetrics(),
    );
  }

  /** Prepares a data chain and takes its first train batch; undefined if it has none. */
  private async prepareData(sections: ModuleSection[], round: number): Promise<PreparedData | undefined> {
    const s = this.spec(sections, round);
    const info = this.runInfo(s, round);
    const chain = await buildData(s, info, this.reads);
    const batchDisposers: (() => void)[] = [];
    const dispose = () => {
      for (const f of batchDisposers) quietly(f);
      quietly(() => disposeData(chain));
    };
    try {
      const batch = await firstBatch(chain.train, batchDisposers);
      if (batch) return { sections, chain, runInfo: info, batch, dispose };
    } catch (e) {
      dispose();
      throw e;
    }
    dispose();
    return undefined;
  }

  /** Builds a model chain on a prepared data chain and runs its first forward pass (training). */
  private async firstForward(d: PreparedData, models: ModuleSection[], round: number): Promise<boolean> {
    const info: RunInfo = { ...d.runInfo };
    const chain = await buildModels(this.spec([...d.sections, ...models], round), info, this.reads);
    try {
      // as train() does before the first batch
      info.epoch = 1;
      info.training = true;
      this.forwarding = true;
      const forward = (x: TF.Tensor) =>
        chain.models.reduce((input, m, i) => {
          this.reads.current = models[i]!.name;
          return m.module.forward(input, info, m.info);
        }, x);
      // On cpu a batch's forward pass is slow (~0.1 s of the bench MLP's or CNN's check, for 64
      // rows), and the check needs the pass, not its numbers: its first rows, then the whole batch
      // only if those fail (a model written for its batch size), so that what is refused is what a
      // run would meet.
      const rows = d.batch.x.shape[0] ?? 0;
      let passed = false;
      if (rows > FIRST_ROWS) {
        try {
          tfjs.tidy(() => forward(tfjs.slice(d.batch.x, 0, FIRST_ROWS)));
          passed = true;
        } catch {
          // the whole batch decides, below
        }
      }
      if (!passed) tfjs.tidy(() => forward(d.batch.x));
    } finally {
      quietly(() => disposeModels(chain));
    }
    return true;
  }
}

const nth = <T>(list: T[], round: number) => list[round % list.length]!;

/** The rows of the first batch a model chain's check runs forward first. */
const FIRST_ROWS = 2;

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
