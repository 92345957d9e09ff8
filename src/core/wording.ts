/** Small pieces of the sentences analysis commands print. */

/** `plural(1, 'run')` → "1 run", `plural(3, 'run')` → "3 runs"; irregular plurals as third argument. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** [1,2,3,5,7,8] → "1-3,5,7-8". */
export function idRanges(ids: number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The first `max` items joined with ", ", then "… (N in all)". */
export function someOf(items: string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

/** Comma-separated names (`--pool lr,width`, the dashboard's pool field). */
export const nameList = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
