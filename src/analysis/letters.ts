/**
 * A compact letter display (Piepho 2004, "An algorithm for a letter-based representation of
 * all-pairwise comparisons", J. Comput. Graph. Stat. 13(2)): groups that share a letter are not
 * significantly different; groups that share none are. Built by insert-and-absorb: start with one
 * letter holding every group; for each significant pair, every letter holding both is split into a
 * copy without the one and a copy without the other; letters contained in another are absorbed.
 * A non-significant pair keeps a common letter through every split (a split removes only one of a
 * significant pair), so the display says exactly what the tests say.
 *
 * `order` lists the groups best first; letters are named a, b, c… in the order of the best group
 * each holds, so the best group has `a`.
 */
export function compactLetters(order: string[], different: (a: string, b: string) => boolean): Map<string, string> {
  let columns: Set<string>[] = [new Set(order)];
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      const [a, b] = [order[i]!, order[j]!];
      if (!different(a, b)) continue;
      const next: Set<string>[] = [];
      for (const c of columns) {
        if (c.has(a) && c.has(b)) {
          next.push(new Set([...c].filter((g) => g !== a)), new Set([...c].filter((g) => g !== b)));
        } else next.push(c);
      }
      columns = absorb(next);
    }
  }
  const rank = new Map(order.map((g, i) => [g, i]));
  const firstOf = (c: Set<string>) => Math.min(...[...c].map((g) => rank.get(g)!));
  // By the best group each holds, then by the next ones: a stable, readable naming.
  const key = (c: Set<string>) => [...c].map((g) => rank.get(g)!).sort((x, y) => x - y);
  columns.sort((x, y) => firstOf(x) - firstOf(y) || compareLists(key(x), key(y)));
  const letters = new Map(order.map((g) => [g, '']));
  columns.forEach((c, i) => {
    for (const g of c) letters.set(g, letters.get(g)! + letterName(i));
  });
  return letters;
}

/** Drops every column that is contained in another (and duplicates but one). */
function absorb(columns: Set<string>[]): Set<string>[] {
  const kept: Set<string>[] = [];
  columns.forEach((c, i) => {
    const inside = columns.some((o, j) => j !== i && isSubset(c, o) && (c.size < o.size || j < i));
    if (!inside && c.size > 0) kept.push(c);
  });
  return kept;
}

const isSubset = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

function compareLists(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** a…z, then A…Z, then a1, b1…: enough names for any number of letters. */
function letterName(i: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const round = Math.floor(i / alphabet.length);
  return `${alphabet[i % alphabet.length]}${round ? round : ''}`;
}

/** Whether two groups share a letter. */
export function shareLetter(a: string, b: string): boolean {
  const split = (s: string) => s.match(/[a-zA-Z]\d*/g) ?? [];
  const mine = new Set(split(a));
  return split(b).some((l) => mine.has(l));
}
