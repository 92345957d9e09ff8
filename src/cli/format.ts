/** Python's `%.3E`: 4.171E-11, 4.670E+01. */
export function sci(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'NULL';
  if (!Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}E${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/** Run id ranges, shared with analysis. */
export { idRanges } from '../analysis/wording.js';

/** Comma-separated names (`--pool lr,width`). */
export const nameList = (s: string | undefined) => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
