import type { ExperimentConfig, ModuleSection } from '../../config/types.js';
import { ConfigError } from '../../core/errors.js';
import { RESERVED_MODULE_KEYS } from '../../pipelines/generate.js';
import { MissingParameterError } from '../chain/inject.js';
import { FirstBuilds } from './first-builds.js';

/** Rounds of builds with other values tried before a key is refused (only when one would be). */
const MORE_ROUNDS = 3;

/**
 * Refuses, before anything is queued, a pipeline that fails to build or to run its first batch
 * (`first-builds.ts`, with the first swept values), and a key of a class section that its class
 * never reads: a misspelt `dropuot = 0.3` would otherwise be stored with every run and train
 * without dropout.
 *
 * What a class reads from its parameters (`p.x`, `'x' in p`; enumerating them reads them all) or
 * from its module info, until the end of its first forward pass, is read; a key written in the
 * section (not inherited from `[DEFAULT]`, not listed in `ignore_unread`) that is not read is
 * refused, with the closest name the class did read. Before refusing, up to 3 more rounds build
 * everything again with the next swept values, `[PROCESS]` values and seed: a key read only for
 * some values (`alpha` for `activation = leaky`) or some seeds is read. A build that fails on
 * reading a parameter that no place gives, while its section has an unread key close to that
 * name, is refused as that typo.
 */
export async function checkUnreadKeys(config: ExperimentConfig): Promise<void> {
  const sectionOf = (name: string) => config.modules.find((m) => m.name === name);
  const readBy = (m: ModuleSection): Set<string> => builds.reads.get(m.name) ?? new Set<string>();
  /** A missing parameter whose name is close to an unread key of its section: a typo. */
  const typo = (e: unknown): ConfigError | undefined => {
    if (!(e instanceof MissingParameterError) || e.parameter === undefined || e.section === undefined) return;
    const m = sectionOf(e.section);
    const key = m && unreadKeys(m, readBy(m)).find((k) => closestName(k, [e.parameter!]) !== undefined);
    if (!m || !key) return;
    return unreadError(
      config.file,
      m,
      key,
      e.parameter,
      `${m.className} never reads it: it reads "${e.parameter}" instead, which is given nowhere`,
    );
  };
  const builds: FirstBuilds = new FirstBuilds(config, typo);
  const unread = () =>
    config.modules
      .filter((m) => builds.built.has(m.name))
      .map((m) => ({ m, keys: unreadKeys(m, readBy(m)) }))
      .filter((u) => u.keys.length > 0);

  await builds.around(async () => {
    await builds.round(0);
    for (let round = 1; round <= MORE_ROUNDS && unread().length > 0; round++) await builds.round(round);
  });

  const [first] = unread();
  if (!first) return;
  const { m, keys } = first;
  const read = readBy(m);
  const others = keys.length > 1 ? ` (nor ${keys.slice(1).join(', ')})` : '';
  throw unreadError(
    config.file,
    m,
    keys[0]!,
    closestName(
      keys[0]!,
      [...read].filter((n) => !RESERVED_MODULE_KEYS.has(n)),
    ),
    `${m.className} never reads it${others}`,
  );
}

/** The keys written in section `m` that its class may not leave unread, and did. */
function unreadKeys(m: ModuleSection, read: Set<string>): string[] {
  return m.params
    .map((p) => p.key)
    .filter(
      (k) =>
        !RESERVED_MODULE_KEYS.has(k) && !m.inheritedKeys.includes(k) && !m.ignoreUnread.includes(k) && !read.has(k),
    );
}

function unreadError(
  file: string,
  m: ModuleSection,
  key: string,
  suggestion: string | undefined,
  what: string,
): ConfigError {
  const hint = suggestion === undefined ? '' : `; did you mean ${suggestion}?`;
  return new ConfigError(
    { file, line: m.lines[key], section: m.name, key },
    `${what}${hint} (a key meant for something else can be listed in ignore_unread = ${key})`,
  );
}

/**
 * The name among `names` closest to `key` (case, `_` and `-` aside) by edit distance with
 * transpositions, within 1 edit for names of up to 4 letters, 2 up to 8, 3 beyond.
 */
export function closestName(key: string, names: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  const limit = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const name of names) {
    if (name === key) continue;
    const d = editDistance(k, norm(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
