import type { BackendSetting, OptimizerName } from './names.js';

export const ACCURACY_OPTIONS = ['auto', 'argmax', 'threshold', 'none'] as const;
export type AccuracyOption = (typeof ACCURACY_OPTIONS)[number];

/** `[PROCESS]` after validation, for one combination of its swept keys. */
export interface ProcessSettings {
  lr: number;
  epochs: number;
  optimizer: OptimizerName;
  loss_function?: string;
  class_loss_function?: string;
  /** Absolute path. */
  path_to_class_loss_function?: string;
  backend: BackendSetting;
  /** Absolute path. */
  run_files_path: string;
  data_scheme: string[];
  pipeline_scheme: string[];
  seed?: number;
  /** How accuracy is measured: `auto` chooses from the loss and the targets. */
  accuracy: AccuracyOption;
  /** Patience of early stopping on the test loss, in epochs; undefined: no early stopping. */
  early_stopping?: number;
  /** An epoch improves on the best test loss when lower by more than this. */
  min_delta: number;
  /** Decoupled weight decay: before each step, every parameter is multiplied by 1 − lr·weight_decay; undefined (absent) or 0: none. */
  weight_decay?: number;
  /** Every `[PROCESS]` value as written (after sweep resolution), stored as params facts. */
  raw: Record<string, string>;
}

/** One module of a pipeline: its section's keys with sweeps resolved, plus `name` = section name. */
export interface PipelineModule {
  type: string;
  class: string;
  path_to_class: string;
  key: string;
  name: string;
  [param: string]: string;
}

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
  return JSON.stringify({
    dir: spec.configDir,
    process: spec.process,
    data: spec.modules.slice(0, spec.dataCount),
    models: spec.modules.slice(spec.dataCount).map((m) => m.type),
  });
}

export interface NewRun {
  spec: RunSpec;
  shortForm: string;
  seed: number;
  /** `params` rows besides status: PROCESS values, pipeline, keys, class parameters. */
  facts: [name: string, value: string][];
}
