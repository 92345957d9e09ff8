import { MosaicError } from '../core/errors.js';
import { compareValues, distinctValues, factNamed, isBookkeeping, moduleFacts, valueKey } from './params.js';
import type { AnalysisRun } from './runs.js';
import { someOf } from '../core/wording.js';

/**
 * The rule against silent pooling. A command aggregates the runs of each *cell* (compare:
 * dataset × at-value × group; plots: dataset × model key × size). Within a cell, every
 * parameter fact whose value differs among its runs splits the cell, unless it is bookkeeping,
 * defines the cell already (`--at`, the abscissa), or the user pools it on purpose (`--pool`,
 * `excludes`). A *line* is what a cell belongs to across sizes or at-values (dataset × group,
 * dataset × model key): a fact that splits one cell of a line labels the whole line, so a
 * series keeps one name from point to point.
 */
export interface PlacedRun {
  run: AnalysisRun;
  cell: string;
  line: string;
}

export interface PoolingOptions {
  /** Names pooled on purpose (`--pool`, `excludes`), matched to facts by `factNamed`. */
  pool: string[];
  /** Names whose facts define the cells already (`--at width`, abscissae). */
  fixed?: string[];
  /** Facts the command's grouping pools by its own definition (compare `--by`), and why. */
  pooledBy?: { facts: (run: AnalysisRun) => string[]; reason: string };
  /** How the user pools on purpose, for the notes: `--pool` or `excludes`. */
  poolHint: string;
}

export interface Pooling {
  /** Per run id: `lr=1e-3, width=2`, or '' when its line needs no split. */
  variant: Map<number, string>;
  /** Per run id: equal for runs that stay together (values compared by `sameValue`). */
  variantKey: Map<number, string>;
  /** Per run id: the values its label shows, in the label's order, to sort series by value. */
  variantValues: Map<number, string[]>;
  /** The facts the runs were split by (display names). */
  splitBy: string[];
  /** The facts pooled on request that did differ within a cell (display names). */
  pooled: string[];
  notes: string[];
}

/** `base · variant`, or `base` alone. */
export const seriesLabel = (base: string, variant: string) => (variant ? `${base} · ${variant}` : base);

/** Series labels in order: by base, then by the values they were split by (1e-3 before 1e-2 before 0.1). */
export function orderedLabels(items: { base: string; runId: number }[], pooling: Pooling): string[] {
  const byLabel = new Map<string, { base: string; values: string[] }>();
  for (const { base, runId } of items)
    byLabel.set(seriesLabel(base, pooling.variant.get(runId)!), { base, values: pooling.variantValues.get(runId)! });
  return [...byLabel]
    .sort(
      ([la, a], [lb, b]) =>
        a.base.localeCompare(b.base) ||
        a.values.reduce((d, v, i) => d || compareValues(v, b.values[i] ?? ''), 0) ||
        la.localeCompare(lb),
    )
    .map(([label]) => label);
}

export function splitCells(placed: PlacedRun[], options: PoolingOptions): Pooling {
  const pooledFacts = new Set<string>();
  const fixedFacts = new Set<string>();
  const impliedFacts = new Set<string>();
  const matchedPool = new Map<string, Set<string>>();
  for (const { run } of placed) {
    for (const name of options.pool) {
      const f = factNamed(run.facts, name, run.runId);
      if (f !== undefined) {
        pooledFacts.add(f);
        matchedPool.set(name, (matchedPool.get(name) ?? new Set()).add(f));
      }
    }
    for (const name of options.fixed ?? []) {
      const f = factNamed(run.facts, name, run.runId);
      if (f !== undefined) fixedFacts.add(f);
    }
    for (const f of options.pooledBy?.facts(run) ?? []) impliedFacts.add(f);
  }
  const candidate = (f: string) =>
    !isBookkeeping(f) && !fixedFacts.has(f) && !pooledFacts.has(f) && !impliedFacts.has(f);

  const cells = new Map<string, PlacedRun[]>();
  for (const p of placed) {
    const cell = cells.get(p.cell);
    if (cell) cell.push(p);
    else cells.set(p.cell, [p]);
  }
  const splitOfLine = new Map<string, Set<string>>();
  const differing = (runs: PlacedRun[], f: string) => new Set(runs.map((p) => valueKey(p.run.facts[f]))).size > 1;
  const pooledThatDiffered = new Set<string>();
  const impliedThatDiffered = new Set<string>();
  for (const runs of cells.values()) {
    const facts = new Set(runs.flatMap((p) => Object.keys(p.run.facts)));
    for (const f of facts) {
      if (!differing(runs, f)) continue;
      if (candidate(f)) {
        const line = runs[0]!.line;
        splitOfLine.set(line, (splitOfLine.get(line) ?? new Set()).add(f));
      } else if (pooledFacts.has(f)) pooledThatDiffered.add(f);
      else if (impliedFacts.has(f)) impliedThatDiffered.add(f);
    }
  }

  const allSplit = [...new Set([...splitOfLine.values()].flatMap((s) => [...s]))].sort();
  const display = displayNames(
    [...allSplit, ...pooledThatDiffered, ...impliedThatDiffered],
    placed.map((p) => p.run),
  );
  const variant = new Map<number, string>();
  const variantKey = new Map<number, string>();
  const variantValues = new Map<number, string[]>();
  for (const { run, line } of placed) {
    const split = [...(splitOfLine.get(line) ?? [])].sort(
      (a, b) => display.get(a)!.localeCompare(display.get(b)!) || a.localeCompare(b),
    );
    variant.set(
      run.runId,
      split
        .filter((f) => run.facts[f] !== undefined)
        .map((f) => (f.endsWith('_key') ? run.facts[f]! : `${display.get(f)}=${run.facts[f]}`))
        .join(', '),
    );
    variantKey.set(run.runId, JSON.stringify(split.map((f) => valueKey(run.facts[f]))));
    variantValues.set(
      run.runId,
      split.map((f) => run.facts[f] ?? ''),
    );
  }

  // Facts shown under one name (`width` for A_width and B_width) are described together.
  const described = (facts: Iterable<string>) => {
    const byName = new Map<string, string[]>();
    for (const f of facts) byName.set(display.get(f)!, [...(byName.get(display.get(f)!) ?? []), f]);
    return [...byName]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([name, fs]) => `${name} (${someOf(distinctValues(placed.flatMap((p) => fs.map((f) => p.run.facts[f]))), 6)})`,
      )
      .join(', ');
  };
  const names = (facts: Iterable<string>) => [...new Set([...facts].map((f) => display.get(f)!))].sort();
  const notes: string[] = [];
  if (allSplit.length) {
    notes.push(
      `split by ${described(allSplit)}: runs that would be pooled differ in ${names(allSplit).length === 1 ? 'it' : 'them'}; ${options.poolHint} ${names(allSplit).join(',')} pools them on purpose`,
    );
  }
  const unmatched = options.pool.filter((n) => !matchedPool.has(n));
  const idle = options.pool.filter(
    (n) => matchedPool.has(n) && ![...matchedPool.get(n)!].some((f) => pooledThatDiffered.has(f)),
  );
  if (pooledThatDiffered.size)
    notes.push(`pooled on request (${options.poolHint} ${options.pool.join(',')}): ${described(pooledThatDiffered)}`);
  if (idle.length) notes.push(`${options.poolHint} ${idle.join(',')}: nothing to pool, one value in each group`);
  if (unmatched.length) notes.push(`${options.poolHint} ${unmatched.join(',')}: no run has such a parameter`);
  if (impliedThatDiffered.size) notes.push(`pooled ${options.pooledBy!.reason}: ${described(impliedThatDiffered)}`);
  return {
    variant,
    variantKey,
    variantValues,
    splitBy: names(allSplit),
    pooled: names(pooledThatDiffered),
    notes,
  };
}

/** Throws when a `--pool` name matches no parameter of any of `runs` (a typo would pool nothing, silently). */
export function refuseUnknownPool(runs: AnalysisRun[], names: string[]): void {
  const unknown = names.filter((n) => !runs.some((r) => factNamed(r.facts, n, r.runId) !== undefined));
  if (unknown.length)
    throw new MosaicError(
      `--pool ${unknown.join(',')}: no run has a parameter named ${unknown.map((n) => `${n} (or ending in _${n})`).join(', ')}`,
    );
}

/**
 * How facts are shown: a class parameter by its own name (`width` for `mlp_brick_width`) when,
 * in every run that has the fact, that name designates it by the naming rule; otherwise in full.
 */
function displayNames(facts: string[], runs: AnalysisRun[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const fact of new Set(facts)) {
    const holders = runs.filter((r) => r.facts[fact] !== undefined);
    const param = holders.length ? moduleFacts(holders[0]!.facts).get(fact)?.param : undefined;
    const designates = (r: AnalysisRun) => {
      if (param === undefined || r.facts[param] !== undefined) return false;
      const bySuffix = Object.keys(r.facts).filter((f) => f.endsWith(`_${param}`) && !f.endsWith('_key'));
      return bySuffix.length === 1 && bySuffix[0] === fact;
    };
    out.set(fact, param !== undefined && holders.every(designates) ? param : fact);
  }
  return out;
}
