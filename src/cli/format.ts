/** Python's `%.3E`: 4.171E-11, 4.670E+01. */
export function sci(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'NULL';
  if (!Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}E${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** Run id ranges and name lists, shared with analysis. */
export { idRanges, nameList } from '../analysis/wording.js';
