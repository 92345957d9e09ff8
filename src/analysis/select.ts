import { MosaicError } from '../core/errors.js';
import type { StoreReader } from '../store/types.js';
import { distinctValues, factNamed, isBookkeeping, isNumeric, sameValue } from './params.js';
import { plural, someOf } from '../core/wording.js';

/**
 * Which runs a command works on, as the original's options say it: exactly one of
 * `-id 1-3,7,10-12` (or `all`), `-request "SQL returning run_id"` (read-only),
 * `-param_name_value NAME VALUE`, `-param_name_value_low_threshold NAME VALUE` (≤, numeric),
 * `-param_name_value_high_threshold NAME VALUE` (≥, numeric). NAME finds a fact by the naming
 * rule of params.ts (`width` → `mlp1_width`); values equal as numbers when both are (0.001 = 1e-3).
 */
export interface RunSelector {
  id?: string;
  request?: string;
  param_name_value?: string[];
  param_name_value_low_threshold?: string[];
  param_name_value_high_threshold?: string[];
}

const SELECTOR_NAMES = [
  'id',
  'request',
  'param_name_value',
  'param_name_value_low_threshold',
  'param_name_value_high_threshold',
] as const;

/** `1-3,7,10-12` → [1,2,3,7,10,11,12]; `all` → 'all'. */
export function parseIdList(spec: string): number[] | 'all' {
  if (spec.trim().toLowerCase() === 'all') return 'all';
  const ids = new Set<number>();
  for (const part of spec.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new MosaicError(`-id: "${part}" is not a run id or a range (write e.g. 1-3,7,10-12 or all)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new MosaicError(`-id: range "${part}" is empty (its start is above its end)`);
    for (let i = lo; i <= hi; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

function pair(name: string, values: string[] | undefined): [string, string] {
  if (values?.length !== 2) throw new MosaicError(`-${name} takes two values: NAME VALUE (got ${values?.length ?? 0})`);
  return [values[0]!, values[1]!];
}

export async function selectRuns(store: StoreReader, selector: RunSelector): Promise<number[]> {
  const given = SELECTOR_NAMES.filter((n) => selector[n] !== undefined);
  if (given.length === 0)
    throw new MosaicError(`choose the runs with one of: ${SELECTOR_NAMES.map((n) => `-${n}`).join(', ')}`);
  if (given.length > 1) throw new MosaicError(`give only one selector, not ${given.map((n) => `-${n}`).join(' and ')}`);
  const which = given[0]!;
  let ids: number[];
  let described: string;
  switch (which) {
    case 'id': {
      const parsed = parseIdList(selector.id!);
      const existing = await store.allRunIds();
      if (parsed === 'all') {
        ids = existing;
      } else {
        const known = new Set(existing);
        const missing = parsed.filter((i) => !known.has(i));
        if (missing.length)
          throw new MosaicError(
            `-id: no run ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} in the database (it has ${plural(existing.length, 'run')})`,
          );
        ids = parsed;
      }
      described = `-id ${selector.id}`;
      break;
    }
    case 'request':
      ids = await store.queryRunIds(selector.request!);
      described = `-request "${selector.request}"`;
      break;
    default: {
      const [name, value] = pair(which, selector[which]);
      const op = which === 'param_name_value' ? '=' : which === 'param_name_value_low_threshold' ? '<=' : '>=';
      if (op !== '=' && !Number.isFinite(Number(value)))
        throw new MosaicError(`-${which}: the threshold "${value}" is not a number`);
      ids = runsByParam(await store.allFacts(), name, op, value);
      described = `-${which} ${name} ${value}`;
    }
  }
  if (ids.length === 0) throw new MosaicError(`no run matches ${described}`);
  return ids;
}

function runsByParam(
  all: Map<number, Record<string, string>>,
  name: string,
  op: '=' | '<=' | '>=',
  value: string,
): number[] {
  const ids: number[] = [];
  const seen: { fact: string; value: string }[] = [];
  for (const [runId, facts] of [...all].sort(([a], [b]) => a - b)) {
    const fact = factNamed(facts, name, runId);
    if (fact === undefined) continue;
    const v = facts[fact]!;
    seen.push({ fact, value: v });
    const hit =
      op === '='
        ? sameValue(v, value)
        : isNumeric(v) && (op === '<=' ? Number(v) <= Number(value) : Number(v) >= Number(value));
    if (hit) ids.push(runId);
  }
  if (ids.length > 0) return ids;
  if (seen.length === 0) {
    const names = [...new Set([...all.values()].flatMap((f) => Object.keys(f)))]
      .filter((f) => !isBookkeeping(f))
      .sort();
    throw new MosaicError(
      `no run has a parameter ${name} (nor one ending in _${name}); parameters: ${someOf(names, 12)}`,
    );
  }
  const facts = [...new Set(seen.map((s) => s.fact))].sort();
  const shown = facts.length === 1 && facts[0] === name ? name : `${name} (${facts.join(', ')})`;
  throw new MosaicError(
    `no run has ${shown} ${op} ${value}; its values: ${someOf(distinctValues(seen.map((s) => s.value)), 12)}`,
  );
}
