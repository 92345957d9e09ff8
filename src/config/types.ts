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

export interface MonitorSettings {
  nb_processus: number;
  multiplicity: number;
  /**
   * A paired design (common random numbers): repeat k of every pipeline gets the same seed,
   * `base + k`, so all models of repeat k share its split, data order and seeded initial weights.
   */
  paired: boolean;
  need_gpu: boolean;
  gpu_available: string[];
  /** Absolute path, when set. */
  cache_database_path?: string;
  /** Bytes. */
  cache_size?: number;
  retries: number;
  /** The most runs of one structure trained together as a pack; 1: every run alone. */
  pack_size?: number;
  /** Seconds without a heartbeat after which a running run is taken back by any worker (its host is presumed dead). */
  heartbeat_timeout?: number;
}

export interface ModuleParam {
  key: string;
  values: string[];
  line: number;
}

/** A class section of the config: one alternative for a scheme slot. */
export interface ModuleSection {
  name: string;
  line: number;
  type: string;
  className: string;
  /** As written in the config. */
  pathToClass: string;
  /** Resolved against the config file's folder. */
  absolutePathToClass: string;
  keyTemplate: string;
  /** Line of each key of the section. */
  lines: Record<string, number>;
  /** Every key but type/class/path_to_class/key/ignore_unread, in file order. */
  params: ModuleParam[];
  /** Keys of `params` inherited from `[DEFAULT]`, not written in the section itself. */
  inheritedKeys: string[];
  /** `ignore_unread`: keys the class may leave unread (meant for something else), lower-cased. */
  ignoreUnread: string[];
}

export interface ExperimentConfig {
  file: string;
  dir: string;
  /** One validated PROCESS per combination of its swept keys (usually just one). */
  processVariants: ProcessSettings[];
  /** The PROCESS keys given several values. */
  sweptProcessKeys: string[];
  monitor: MonitorSettings;
  dataScheme: string[];
  pipelineScheme: string[];
  modules: ModuleSection[];
  warnings: string[];
}
