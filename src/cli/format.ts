/** Python's `%.3E`: 4.171E-11, 4.670E+01. */
export function sci(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'NULL';
  if (!Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}E${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
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
