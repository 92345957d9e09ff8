import { CRITERION_FIELDS } from './result-fields.js';

/**
 * The settings of a race (`[MONITOR] multiplicity = auto`, issue 22): repeats are spent where the
 * comparison is still open, and configurations clearly beaten stop (analysis/race.ts decides each
 * round). Here in core so that the config layer can validate them before anything is queued.
 */
export interface RaceSettings {
  /** Repeats of every pipeline before the first look (≥ 2: a test needs two values a side). */
  minRepeats: number;
  /** The most repeats of any pipeline (≥ minRepeats); the race plans maxRepeats − minRepeats + 1 looks. */
  maxRepeats: number;
  /** A budget: the most runs the race may queue in all (every data key), when given. */
  maxRuns?: number;
  /** The race's error rate: the probability of ever eliminating a best configuration (0 < alpha < 1). */
  alpha: number;
  /** A region of practical equivalence, ±rope in the criterion's units: groups equivalent to the best stop too. */
  rope?: number;
  /** The criterion raced on: a result field (`test_loss`…) or a metric the classes log. */
  criterion: string;
}

export const RACE_DEFAULTS = {
  minRepeats: 3,
  maxRepeats: 20,
  alpha: 0.05,
  criterion: 'test_loss',
} as const satisfies Partial<RaceSettings>;

/** What the caller knows of the experiment when it validates the settings. */
export interface RaceContext {
  /**
   * The metrics the classes log (their names), when known: the criterion must be one of them or a
   * result field. Leave undefined when they are not known yet, and the criterion is not checked.
   */
  loggedMetrics?: readonly string[];
  /** The configurations (pipelines) raced, when known: the first round must fit in `maxRuns`. */
  configurations?: number;
}

const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;

/**
 * The settings' mistakes, one line each, in the order of the keys (empty when they are valid):
 * min_repeats ≥ 2, max_repeats ≥ min_repeats, max_runs a positive integer (and, with the number of
 * configurations, at least the first round's runs), alpha in (0, 1), rope positive, and a criterion
 * that exists (a result field, or a logged metric when those are known). Pure; the messages name
 * the INI keys of `[MONITOR]`.
 */
export function raceSettingsErrors(settings: RaceSettings, context: RaceContext = {}): string[] {
  const errors: string[] = [];
  const { minRepeats, maxRepeats, maxRuns, alpha, rope, criterion } = settings;
  const minOk = Number.isInteger(minRepeats) && minRepeats >= 2;
  if (!minOk)
    errors.push(
      `min_repeats must be an integer of at least 2 (a test needs two values per configuration), not ${minRepeats}`,
    );
  if (!positiveInteger(maxRepeats)) errors.push(`max_repeats must be a positive integer, not ${maxRepeats}`);
  else if (minOk && maxRepeats < minRepeats)
    errors.push(`max_repeats (${maxRepeats}) must be at least min_repeats (${minRepeats})`);
  if (maxRuns !== undefined) {
    if (!positiveInteger(maxRuns)) errors.push(`max_runs must be a positive integer, not ${maxRuns}`);
    else if (minOk && context.configurations !== undefined && maxRuns < context.configurations * minRepeats)
      errors.push(
        `max_runs (${maxRuns}) is less than the first round needs: ${context.configurations} configurations × min_repeats ${minRepeats} = ${context.configurations * minRepeats} runs`,
      );
  }
  if (!(alpha > 0 && alpha < 1)) errors.push(`alpha must be a number between 0 and 1 (e.g. 0.05), not ${alpha}`);
  if (rope !== undefined && !(Number.isFinite(rope) && rope > 0))
    errors.push(`race_rope must be a positive number in the criterion's units, not ${rope}`);
  const known = [...CRITERION_FIELDS.keys()];
  const fieldNames = new Set<string>([...CRITERION_FIELDS.values()].map((f) => f.name));
  const isField = CRITERION_FIELDS.has(criterion) || fieldNames.has(criterion) || criterion === 'duration';
  if (criterion.trim() === '') errors.push(`race_criterion is empty; valid: ${known.join(', ')}, or a logged metric`);
  else if (!isField && context.loggedMetrics !== undefined && !context.loggedMetrics.includes(criterion)) {
    const logged = context.loggedMetrics.length
      ? `, or a metric the classes log: ${context.loggedMetrics.join(', ')}`
      : ' (the classes log no metric of their own)';
    errors.push(`race_criterion "${criterion}" does not exist; valid: ${known.join(', ')}${logged}`);
  }
  return errors;
}
