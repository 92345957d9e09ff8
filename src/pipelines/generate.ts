import { cartesian } from '../config/cartesian.js';
import type { PipelineModule, ProcessSettings } from '../core/run-spec.js';
import type { ExperimentConfig, ModuleSection } from '../config/types.js';

export interface Pipeline {
  process: ProcessSettings;
  /** The PROCESS values chosen for swept keys only (empty without PROCESS sweeps). */
  processOverrides: Record<string, string>;
  /** Data modules first, then model modules, in scheme order. */
  modules: PipelineModule[];
  /** How many data modules lead `modules`. */
  dataCount: number;
}

export const RESERVED_MODULE_KEYS = new Set(['type', 'class', 'path_to_class', 'key', 'name']);

/** The pipelines of an experiment: the Cartesian product over scheme slots and PROCESS sweeps, each repeated `multiplicity` times in a row. */
export function generatePipelines(config: ExperimentConfig): Pipeline[] {
  const variantsByType = new Map<string, PipelineModule[]>();
  for (const m of config.modules) {
    const list = variantsByType.get(m.type) ?? [];
    list.push(...moduleVariants(m));
    variantsByType.set(m.type, list);
  }
  const slots = [...config.dataScheme, ...config.pipelineScheme].map((t) => variantsByType.get(t)!);
  const chains = cartesian(slots);
  const out: Pipeline[] = [];
  const multiplicity = config.monitor.multiplicity;
  for (const process of config.processVariants) {
    const processOverrides = Object.fromEntries(config.sweptProcessKeys.map((k) => [k, process.raw[k]!]));
    for (const modules of chains) {
      const pipeline: Pipeline = { process, processOverrides, modules, dataCount: config.dataScheme.length };
      for (let r = 0; r < multiplicity; r++) out.push(pipeline);
    }
  }
  return out;
}

export function moduleVariants(m: ModuleSection): PipelineModule[] {
  const combos = cartesian(m.params.map((p) => p.values.map((value) => [p.key, value] as const)));
  return combos.map((combo) => {
    const values: Record<string, string> = { type: m.type, class: m.className, path_to_class: m.pathToClass };
    for (const [k, value] of combo) values[k] = value;
    const key = fillKeyTemplate(m, values);
    return {
      type: m.type,
      class: m.className,
      path_to_class: m.pathToClass,
      key,
      ...Object.fromEntries(combo),
      name: m.name,
    };
  });
}

/** `{name}` → the section's value of `name` (templates were checked when the config was read). */
function fillKeyTemplate(m: ModuleSection, values: Record<string, string>): string {
  return m.keyTemplate.replace(/\{([^{}]*)\}/g, (_, ref: string) => values[ref.trim().toLowerCase()]!);
}

/** The parameters of a module: every key but the reserved ones, in order. */
export function moduleParams(module: PipelineModule): [string, string][] {
  return Object.entries(module).filter(([k]) => !RESERVED_MODULE_KEYS.has(k));
}

/** The short form `dataset_OR(1,200,0.8) | mlp_funnel(4,3)`. */
export function shortForm(pipeline: Pipeline): string {
  const parts = pipeline.modules.map(
    (m) =>
      `${m.class}(${moduleParams(m)
        .map(([, v]) => v)
        .join(',')})`,
  );
  const overrides = Object.entries(pipeline.processOverrides);
  const prefix = overrides.length ? `[${overrides.map(([k, v]) => `${k}=${v}`).join(',')}] ` : '';
  return prefix + parts.join(' | ');
}

/** The JSON of `generate`: a list of pipelines, each a list of module objects; a leading `{"name": "PROCESS", ...}` object carries swept PROCESS values. */
export function pipelinesToJson(pipelines: Pipeline[]): unknown[] {
  return pipelines.map((p) => {
    const overrides = Object.keys(p.processOverrides).length ? [{ name: 'PROCESS', ...p.processOverrides }] : [];
    return [...overrides, ...p.modules];
  });
}
