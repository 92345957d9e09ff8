import type { ProcessSettings } from '../core/run-spec.js';
import type { RaceSettings } from '../core/race-settings.js';

export interface MonitorSettings {
  nb_processus: number;
  multiplicity: number;
  /**
   * A paired design (common random numbers): repeat k of every pipeline gets the same seed,
   * `base + k`, so all models of repeat k share its split, data order and seeded initial weights.
   */
  paired: boolean;
  /**
   * `multiplicity = auto`: a race (issue 22) — `multiplicity` is then its min_repeats, the repeats
   * queued first; later repeats are queued round by round (`race/`).
   */
  race?: RaceSettings;
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
