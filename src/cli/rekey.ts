import fs from 'node:fs';
import { MosaicError } from '../core/errors.js';
import { displayLocation } from '../store/location.js';
import { openStore } from '../store/open.js';

type ModuleObject = Record<string, string>;

/** What identifies a pipeline whatever its keys: every module's values but `key` and `path_to_class`. */
function identity(modules: ModuleObject[]): string {
  return JSON.stringify(
    modules.map((m) =>
      Object.fromEntries(
        Object.entries(m)
          .filter(([k]) => k !== 'key' && k !== 'path_to_class')
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
    ),
  );
}

function readPipelines(file: string): ModuleObject[][] {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new MosaicError(`cannot read pipelines file ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(data) || !data.every((p) => Array.isArray(p) && p.every((m) => m && typeof m === 'object'))) {
    throw new MosaicError(`${file} is not a list of pipelines as written by mosaic generate`);
  }
  return data as ModuleObject[][];
}

/** `mosaic rekey PIPELINES.json DB`: after editing `key` and regenerating, update the stored keys of the matching runs. */
export async function rekeyCommand(pipelinesFile: string, db: string): Promise<void> {
  const byIdentity = new Map<string, ModuleObject[]>();
  for (const p of readPipelines(pipelinesFile)) byIdentity.set(identity(p), p);
  const store = await openStore(db, 'write');
  try {
    const matched = new Set<string>();
    const changes: { runId: number; name: string; value: string }[] = [];
    let runsMatched = 0;
    for (const runId of await store.allRunIds()) {
      const facts = await store.facts(runId);
      if (!facts.pipeline) continue;
      const stored = JSON.parse(facts.pipeline) as ModuleObject[];
      const id = identity(stored);
      const fresh = byIdentity.get(id);
      if (!fresh) continue;
      matched.add(id);
      runsMatched++;
      let changed = false;
      const updated = stored.map((m, i) => {
        const key = fresh[i]!.key;
        if (m.name === 'PROCESS' || key === undefined || key === m.key) return m;
        changed = true;
        changes.push({ runId, name: `${m.type}_key`, value: key });
        return { ...m, key };
      });
      if (changed) changes.push({ runId, name: 'pipeline', value: JSON.stringify(updated) });
    }
    await store.updateFacts(changes);
    const unmatched = [...byIdentity.entries()].filter(([id]) => !matched.has(id));
    const keyChanges = changes.filter((c) => c.name !== 'pipeline').length;
    console.log(`${runsMatched} runs match ${pipelinesFile}; ${keyChanges} keys changed in ${displayLocation(db)}`);
    if (unmatched.length) {
      console.log(`${unmatched.length} pipelines of the file match no run:`);
      for (const [, p] of unmatched.slice(0, 20))
        console.log(`\t${p.map((m) => `${m.class ?? m.name}(${m.key ?? ''})`).join(' | ')}`);
      if (unmatched.length > 20) console.log(`\t… and ${unmatched.length - 20} more`);
    }
  } finally {
    await store.close();
  }
}
