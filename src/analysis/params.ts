import { MosaicError } from '../core/errors.js';
import { RESERVED_MODULE_KEYS } from '../pipelines/generate.js';

/**
 * How analysis reads a run's `params` facts: which fact a name given by the user designates,
 * how two values compare, and which facts are bookkeeping rather than parameters. Selectors,
 * `--at`, `--pool` and the plot INI all go through here so that they agree.
 */

/** Facts that describe a run's bookkeeping, never a parameter that tells runs apart. */
export const BOOKKEEPING: ReadonlySet<string> = new Set([
  'seed',
  'status',
  'traceback',
  'pipeline',
  'device',
  'host',
  'last_failure',
  'run_files_path',
  'backend',
  'experiment',
  'run_dir',
  'diverged_epoch',
  'early_stopped',
  'backend_used',
  'epochs_done',
  'stopped_epoch',
  'epochs_before_rerun',
  'warning',
  'design',
  'repeat',
]);

export const isBookkeeping = (fact: string) => BOOKKEEPING.has(fact);

/**
 * The fact of one run that NAME designates: the fact named NAME, otherwise the one fact ending
 * in `_NAME` that is not a `*_key` (`width` → `mlp_brick_width`). Several such facts (two
 * modules with a width) are an error asking for the full name.
 */
export function factNamed(facts: Record<string, string>, name: string, runId: number): string | undefined {
  if (facts[name] !== undefined) return name;
  const suffix = `_${name}`;
  const found = Object.keys(facts).filter((f) => f.endsWith(suffix) && !f.endsWith('_key'));
  if (found.length > 1) {
    throw new MosaicError(`"${name}" could be any of ${found.sort().join(', ')} (run ${runId}): give the full name`);
  }
  return found[0];
}

export const isNumeric = (value: string) => value.trim() !== '' && Number.isFinite(Number(value));

/** Numbers compare as numbers (0.001 = 1e-3) and come before strings, which compare as strings. */
export function compareValues(a: string, b: string): number {
  const [na, nb] = [isNumeric(a), isNumeric(b)];
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sameValue = (a: string, b: string) => compareValues(a, b) === 0;

/** A key under which equal values (by `sameValue`) meet: `1e-3` and `0.001` give the same. */
export const valueKey = (value: string | undefined) =>
  value === undefined ? '\u0000none' : isNumeric(value) ? `#${Number(value)}` : `'${value}`;

/** Distinct values, in order, each spelled as first seen. */
export function distinctValues(values: (string | undefined)[]): string[] {
  const seen = new Map<string, string>();
  for (const v of values) if (v !== undefined && !seen.has(valueKey(v))) seen.set(valueKey(v), v);
  return [...seen.values()].sort(compareValues);
}

export interface ModuleFact {
  /** The scheme type of the module the fact belongs to. */
  type: string;
  /** The parameter as written in its section: `width` for `mlp_brick_width`. */
  param: string;
}

/**
 * The class parameters of a run, by fact name, read from its `pipeline` fact (the generated
 * modules, whose `<class>_<param>` facts these are). A class name may hold underscores, so the
 * fact name alone cannot tell the class from the parameter.
 */
export function moduleFacts(facts: Record<string, string>): Map<string, ModuleFact> {
  const out = new Map<string, ModuleFact>();
  let modules: unknown;
  try {
    modules = JSON.parse(facts.pipeline ?? '[]');
  } catch {
    return out;
  }
  if (!Array.isArray(modules)) return out;
  for (const m of modules as Record<string, unknown>[]) {
    if (typeof m !== 'object' || m === null || typeof m.class !== 'string' || typeof m.type !== 'string') continue;
    for (const param of Object.keys(m)) {
      if (!RESERVED_MODULE_KEYS.has(param)) out.set(`${m.class}_${param}`, { type: m.type, param });
    }
  }
  return out;
}
