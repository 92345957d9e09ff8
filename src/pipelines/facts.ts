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

/**
 * The runs to enqueue for an experiment. Seeds: `[PROCESS] seed` + index when set (reproducible),
 * otherwise a random base + index; repeats of a pipeline always get different seeds.
 */
export function newRuns(config: ExperimentConfig, pipelines: Pipeline[]): NewRun[] {
  const specs = new Map<Pipeline, RunSpec>();
  const base = config.processVariants[0]!.seed ?? randomInt(2 ** 31 - 2 ** 24);
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
