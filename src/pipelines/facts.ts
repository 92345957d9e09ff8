import { randomInt } from 'node:crypto';
import type { ExperimentConfig } from '../config/types.js';
import type { NewRun, RunSpec } from '../core/run-spec.js';
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
  /** Seed of the first run; run i gets base + i (paired design: repeat k of every pipeline gets base + k). */
  base: number;
  /** What the user should know about the choice, once (a clash with seeds already used). */
  note?: string;
}

/** Facts of a run of a paired design: the design, and which repeat of its pipeline it is (from 0; its seed is base + repeat). */
export const DESIGN_FACT = 'design';
export const REPEAT_FACT = 'repeat';
export const PAIRED = 'paired';

/**
 * How many seeds `count` new runs take: one per run, or with `[MONITOR] paired = True` one per
 * repeat index (`multiplicity`, or a race's max_repeats), shared by every pipeline.
 */
export function seedSpan(config: ExperimentConfig, count: number): number {
  // A paired race takes the seeds of its later rounds' repeats too: base + k up to max_repeats.
  if (config.monitor.paired && config.monitor.race) return config.monitor.race.maxRepeats;
  return config.monitor.paired ? Math.min(count, config.monitor.multiplicity) : count;
}

/**
 * Seeds for `configuredCount` new runs of a database that already used `used`. `[PROCESS] seed` + index
 * when set (reproducible), otherwise a random base + index; the index is the run's, or in a
 * paired design the repeat's. Repeats must be independent: a range that meets seeds already in
 * the database moves past them (so repeat k of a paired experiment appended to another is a new
 * common seed), unless `reuse` says the user wants the same seeds again on purpose.
 */
export function planSeeds(
  config: ExperimentConfig,
  configuredCount: number,
  used: Set<number>,
  reuse = false,
): SeedPlan {
  const count = seedSpan(config, configuredCount);
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
  // paired: each seed is shared by one run of every pipeline
  const runs = Math.round((n * configuredCount) / count);
  const pairedNote = (b: number) =>
    config.monitor.paired ? `paired: repeat k of every pipeline takes seed ${b} + k` : '';
  if (reuse)
    return {
      base,
      note: `seeds ${range(base)} are used again on purpose (--reuse-seeds${config.monitor.paired ? `; ${pairedNote(base)}` : ''}): ${runs} new runs repeat runs already in the database, and are not independent repeats of them`,
    };
  const moved = Math.max(...used) + 1;
  return {
    base: moved,
    note: `${fixed === undefined ? 'the random' : `[PROCESS] seed = ${fixed} gives`} seeds ${range(base)}, ${n} of them already used in this database; the new runs take seeds ${range(moved)}${config.monitor.paired ? ` (${pairedNote(moved)})` : ''} so that repeats stay independent (--reuse-seeds keeps the same seeds on purpose)`,
  };
}

/**
 * The runs to enqueue for an experiment, run i with seed `base + i`; repeats of a pipeline always
 * get different seeds. With `[MONITOR] paired = True`, repeat k of every pipeline gets `base + k`
 * (common random numbers), and its facts say so: `design = paired`, `repeat = k`.
 */
export function newRuns(
  config: ExperimentConfig,
  pipelines: Pipeline[],
  seeds: SeedPlan = planSeeds(config, pipelines.length, new Set()),
): NewRun[] {
  const specs = new Map<Pipeline, RunSpec>();
  const repeats = new Map<Pipeline, number>();
  const base = seeds.base;
  const paired = config.monitor.paired;
  return pipelines.map((p, i) => {
    let spec = specs.get(p);
    if (!spec) {
      spec = { configDir: config.dir, process: p.process, modules: p.modules, dataCount: p.dataCount };
      specs.set(p, spec);
    }
    // generatePipelines repeats each pipeline (one object) `multiplicity` times: its k-th occurrence is repeat k
    const repeat = repeats.get(p) ?? 0;
    repeats.set(p, repeat + 1);
    const seed = paired ? base + repeat : base + i;
    const facts = runFacts(p, seed);
    if (paired) facts.push([DESIGN_FACT, PAIRED], [REPEAT_FACT, String(repeat)]);
    return { spec, shortForm: shortForm(p), seed, facts };
  });
}
