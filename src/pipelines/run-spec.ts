import type { ProcessSettings } from '../config/types.js';
import type { PipelineModule } from './generate.js';

/** A run as the engine needs it: its settings and its chain of modules, data classes first. */
export interface RunSpec {
  /** Folder of the config file: `path_to_class` values are relative to it. */
  configDir: string;
  process: ProcessSettings;
  modules: PipelineModule[];
  dataCount: number;
}

/**
 * What runs must share to be claimed as one pack: the same data chain and training settings, and
 * the same model slots; the model classes and their parameters may differ (the engine then packs
 * those whose models are alike, padded to the widest, and gives the others back).
 */
export function packKey(spec: RunSpec): string {
  return JSON.stringify({ dir: spec.configDir, process: spec.process, data: spec.modules.slice(0, spec.dataCount), models: spec.modules.slice(spec.dataCount).map((m) => m.type) });
}

export interface NewRun {
  spec: RunSpec;
  shortForm: string;
  seed: number;
  /** `params` rows besides status: PROCESS values, pipeline, keys, class parameters. */
  facts: [name: string, value: string][];
}
