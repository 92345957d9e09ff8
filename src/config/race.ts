import fs from 'node:fs';
import { ConfigError } from '../core/errors.js';
import type { ExperimentConfig } from './types.js';
import { RACE_DEFAULTS, raceSettingsErrors, type RaceSettings } from '../core/race-settings.js';
import type { IniSection } from './ini.js';
import * as v from './schema.js';
import type { z } from 'zod';

/** The `[MONITOR]` keys of a race, read only with `multiplicity = auto`, and the setting each gives. */
export const RACE_KEYS = {
  min_repeats: 'minRepeats',
  max_repeats: 'maxRepeats',
  max_runs: 'maxRuns',
  alpha: 'alpha',
  race_rope: 'rope',
  race_criterion: 'criterion',
} as const satisfies Record<string, keyof RaceSettings>;

type RaceKey = keyof typeof RACE_KEYS;

/** Whether `multiplicity` asks for a race. */
export const isAuto = (multiplicity: string | undefined) => multiplicity?.trim().toLowerCase() === 'auto';

/**
 * The race `[MONITOR]` asks for (`multiplicity = auto`), validated — min_repeats ≥ 2, max_repeats ≥
 * min_repeats, alpha in (0, 1)… (`raceSettingsErrors`) —, or undefined for a fixed multiplicity,
 * where a race key is refused (it would be ignored). Errors name the file, line and key.
 */
export function readRace(section: IniSection, file: string): RaceSettings | undefined {
  const entry = (key: string) => section.entries.get(key);
  const where = (key: string) => ({ file, line: entry(key)?.line, section: section.name, key });
  const raceKeys = (Object.keys(RACE_KEYS) as RaceKey[]).filter((k) => entry(k) !== undefined && !entry(k)!.inherited);
  if (!isAuto(entry('multiplicity')?.value)) {
    if (raceKeys.length)
      throw new ConfigError(
        where(raceKeys[0]!),
        `${raceKeys[0]} is a setting of a race, read only with multiplicity = auto (multiplicity is ${entry('multiplicity')?.value ?? 'not set'})`,
      );
    return undefined;
  }
  const number = (key: RaceKey, schema: z.ZodType<number, string>): number | undefined => {
    const raw = entry(key)?.value;
    if (raw === undefined) return undefined;
    const r = schema.safeParse(raw);
    if (!r.success) throw new ConfigError(where(key), `${v.firstIssue(r.error)}, found "${raw}"`);
    return r.data;
  };
  const settings: RaceSettings = {
    minRepeats: number('min_repeats', v.integer) ?? RACE_DEFAULTS.minRepeats,
    maxRepeats: number('max_repeats', v.integer) ?? RACE_DEFAULTS.maxRepeats,
    alpha: number('alpha', v.positiveNumber) ?? RACE_DEFAULTS.alpha,
    criterion: entry('race_criterion')?.value.trim() ?? RACE_DEFAULTS.criterion,
  };
  const maxRuns = number('max_runs', v.integer);
  if (maxRuns !== undefined) settings.maxRuns = maxRuns;
  const rope = number('race_rope', v.positiveNumber);
  if (rope !== undefined) settings.rope = rope;
  const errors = raceSettingsErrors(settings);
  if (errors.length) {
    const first = errors[0]!;
    const key = (Object.keys(RACE_KEYS) as RaceKey[]).find((k) => first.startsWith(k)) ?? 'multiplicity';
    throw new ConfigError(where(entry(key) ? key : 'multiplicity'), first);
  }
  return settings;
}

/**
 * What is wrong with a race before anything is queued, or undefined: a first round larger than
 * max_runs, or a `race_criterion` that is neither a result field nor a metric some class can log.
 * A logged metric is only known once runs log it, so its name must at least appear, quoted, in one
 * of the experiment's class files (`run_info.log('f1', …)`): a misspelt name is refused here
 * rather than after the first round.
 */
export function raceConfigError(config: ExperimentConfig, configurations: number): string | undefined {
  const race = config.monitor.race;
  if (!race) return undefined;
  const [budget] = raceSettingsErrors(race, { configurations });
  if (budget) return budget;
  if (raceSettingsErrors(race, { loggedMetrics: [] }).length === 0) return undefined; // a result field
  const files = [...new Set(config.modules.map((m) => m.absolutePathToClass))];
  const quoted = new RegExp(`(['"\`])${race.criterion.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\1`);
  const logged = files.some((f) => {
    try {
      return quoted.test(fs.readFileSync(f, 'utf8'));
    } catch {
      return false;
    }
  });
  if (logged) return undefined;
  return `${raceSettingsErrors(race, { loggedMetrics: [] })[0]!.replace(' (the classes log no metric of their own)', '')}, and no class file of this experiment names a metric "${race.criterion}" (run_info.log('${race.criterion}', …))`;
}

/** `raceConfigError` as the error a command stops with, naming the key (run, generate: before anything is queued or written). */
export function refuseBadRace(config: ExperimentConfig, configurations: number): void {
  const error = raceConfigError(config, configurations);
  if (error === undefined) return;
  const key = error.startsWith('max_runs') ? 'max_runs' : 'race_criterion';
  throw new ConfigError({ file: config.file, section: 'MONITOR', key }, error);
}
