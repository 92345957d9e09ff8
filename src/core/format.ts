/**
 * How Mosaic prints numbers and p-values: the commands, the figures, the worker's progress lines
 * and the dashboard page (which bundles this file: no Node import here).
 */

/** Python's `%.3E`, as the original printed status lines: 4.171E-11, 4.670E+01; NULL when there is none. */
export function sci(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined) return 'NULL';
  if (!Number.isFinite(x)) return String(x);
  const [mantissa, exp] = x.toExponential(digits).split('e') as [string, string];
  const sign = exp.startsWith('-') ? '-' : '+';
  return `${mantissa}E${sign}${exp.replace(/^[+-]/, '').padStart(2, '0')}`;
}

/**
 * `digits` significant digits, as tables and captions show a value: 0.1235, 12.35; an exponent
 * below 1e-3 and from 1e5 (1.235e-4); whole numbers below 1e7 as they are (0, 20, 12345); empty
 * when there is none.
 */
export function significant(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

/** `decimals` decimals (effect sizes in a verdict: 0.52, 1.30), an exponent where they would say too little or too much (below 0.01 and from 100 for 2). */
export function fixed(x: number, decimals = 2): string {
  const a = Math.abs(x);
  return a >= 10 ** decimals || (a < 10 ** -decimals && x !== 0) ? x.toExponential(decimals) : x.toFixed(decimals);
}

/** Below this a p-value in a table is `<1e-4`. */
const P_FLOOR = 1e-4;
const P_FLOOR_TEXT = '1e-4';

/** A p-value in a table: 0.0120, or <1e-4; empty when the test is undefined (NaN). */
export function pValue(p: number): string {
  return Number.isNaN(p) ? '' : p < P_FLOOR ? `<${P_FLOOR_TEXT}` : p.toFixed(4);
}

/** A p-value in a sentence, as precise as in a table: `p = 0.0120`, `p < 1e-4`, `p undefined`. */
export function pPhrase(p: number): string {
  return Number.isNaN(p) ? 'p undefined' : p < P_FLOOR ? `p < ${P_FLOOR_TEXT}` : `p = ${pValue(p)}`;
}

/** A p-value in a verdict or a figure's caption, rounded: `p = 0.35`, `p = 0.012`, `p < 0.001`. */
export function pVerdict(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(p < 0.1 ? 3 : 2)}`;
}

/** A model's rank on one dataset: whole, or a tie's shared rank (2.5). */
export function rank(r: number): string {
  return r % 1 ? r.toFixed(1) : String(r);
}

/** An average rank, a difference of average ranks or a critical difference: two decimals (2.07). */
export function averageRank(r: number): string {
  return r.toFixed(2);
}
