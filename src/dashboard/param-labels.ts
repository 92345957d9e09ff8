import { factNamed, moduleFacts } from '../analysis/params.js';
import type { AnalysisRun } from '../analysis/runs.js';

/**
 * How the page names a parameter: a class parameter by its own name (`dropout` for
 * `small_cnn_dropout`) when that name designates it (the naming rule of `params.ts`) in every run
 * that has it, otherwise in full. Never cut at an underscore: a class or key may hold some.
 */
export function shortNames(runs: AnalysisRun[], facts: string[]): Map<string, string> {
  const modules = new Map<string, ReturnType<typeof moduleFacts>>();
  const moduleOf = (r: AnalysisRun) => {
    const pipeline = r.facts.pipeline ?? '';
    let m = modules.get(pipeline);
    if (!m) {
      m = moduleFacts(r.facts);
      modules.set(pipeline, m);
    }
    return m;
  };
  const designates = (r: AnalysisRun, name: string, fact: string) => {
    try {
      return factNamed(r.facts, name, r.runId) === fact;
    } catch {
      return false; // two facts end in _name: only the full name says which
    }
  };
  const out = new Map<string, string>();
  for (const fact of facts) {
    const holders = runs.filter((r) => r.facts[fact] !== undefined);
    const param = holders.length ? moduleOf(holders[0]!).get(fact)?.param : undefined;
    out.set(fact, param !== undefined && holders.every((r) => designates(r, param, fact)) ? param : fact);
  }
  return out;
}

/** The runs table's column titles: short names, in full where two columns would share one. */
export function columnLabels(runs: AnalysisRun[], columns: string[]): Record<string, string> {
  const short = shortNames(runs, columns);
  const count = new Map<string, number>();
  for (const label of short.values()) count.set(label, (count.get(label) ?? 0) + 1);
  return Object.fromEntries(columns.map((c) => [c, count.get(short.get(c)!)! > 1 ? c : short.get(c)!]));
}
