/** Numbers as researchers read them: 4 significant digits, exponents for tiny or huge values. */
export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return x === null || x === undefined ? '' : String(x);
  if (x === 0) return '0';
  if (Number.isInteger(x) && Math.abs(x) < 1e7) return String(x);
  return Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5 ? x.toExponential(digits - 1) : x.toPrecision(digits);
}

export function pval(p: number): string {
  return p < 1e-4 ? '<1e-4' : p.toFixed(4);
}

export function duration(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return '';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

export const plural = (n: number, word: string) => `${n.toLocaleString('en')} ${word}${n === 1 ? '' : 's'}`;
