import { randomInt } from 'node:crypto';
import type { ExperimentConfig } from '../config/types.js';
import type { NewRun, RunSpec } from '../store/types.js';
import { moduleParams, pipelinesToJson, shortForm, type Pipeline } from './generate.js';

/**
 * The `params` facts of a run, as the original stores them: every PROCESS value, `pipeline`
 * (JSON), `<type>_key`, `<class>_<param>` for every module parameter, plus its `seed`.
 */
export function runFacts(pipeline: Pipeline, seed: number): [string, string][] {
  const facts: [string, string][] = Object.entries(pipeline.process.raw);
  facts.push(['pipeline', JSON.stringify(pipelinesToJson([pipeline])[0])]);
  for (const m of pipeline.modules) {
    facts.push([`${m.type}_key`, m.key]);
    for (const [k, v] of moduleParams(m)) facts.push([`${m.class}_${k}`, v]);
  }
  facts.push(['seed', String(seed)]);
  return facts;
}

export interface SeedPlan {
  /** Seed of the first run; run i gets base + i. */
  base: number;
  /** What the user should know about the choice, once (a clash with seeds already used). */
  note?: string;
}

/**
 * Seeds for `count` new runs of a database that already used `used`. `[PROCESS] seed` + index
 * when set (reproducible), otherwise a random base + index. Repeats must be independent: a range
 * that meets seeds already in the database moves past them, unless `reuse` says the user wants
 * the same seeds again on purpose.
 */
export function planSeeds(config: ExperimentConfig, count: number, used: Set<number>, reuse = false): SeedPlan {
  const fixed = config.processVariants[0]!.seed;
  const base = fixed ?? randomInt(2 ** 31 - 2 ** 24);
  const clashes = (b: number) => {
    let n = 0;
    for (let i = 0; i < count; i++) if (used.has(b + i)) n++;
    return n;
  };
  const n = clashes(base);
  if (n === 0) return { base };
  const range = (b: number) => (count === 1 ? `${b}` : `${b}-${b + count - 1}`);
  if (reuse) return { base, note: `seeds ${range(base)} are used again on purpose (--reuse-seeds): ${n} new runs repeat runs already in the database, and are not independent repeats of them` };
  const moved = Math.max(...used) + 1;
  return {
    base: moved,
    note: `${fixed === undefined ? 'the random' : `[PROCESS] seed = ${fixed} gives`} seeds ${range(base)}, ${n} of them already used in this database; the new runs take seeds ${range(moved)} so that repeats stay independent (--reuse-seeds keeps the same seeds on purpose)`,
  };
}

/** The runs to enqueue for an experiment, run i with seed `base + i`; repeats of a pipeline always get different seeds. */
export function newRuns(config: ExperimentConfig, pipelines: Pipeline[], seeds: SeedPlan = planSeeds(config, pipelines.length, new Set())): NewRun[] {
  const specs = new Map<Pipeline, RunSpec>();
  const base = seeds.base;
  return pipelines.map((p, i) => {
    let spec = specs.get(p);
    if (!spec) {
      spec = { configDir: config.dir, process: p.process, modules: p.modules, dataCount: p.dataCount };
      specs.set(p, spec);
    }
    const seed = base + i;
    return { spec, shortForm: shortForm(p), seed, facts: runFacts(p, seed) };
  });
}
