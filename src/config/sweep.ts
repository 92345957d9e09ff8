/**
 * Sweep syntax of a parameter value:
 *   `{2-5}`          the integer range 2, 3, 4, 5
 *   `a, b, c`        a list
 *   `1, 2, {4-10}`   lists may mix scalars and ranges (the original left such ranges unexpanded)
 * Anything else is a single value. A braced item that is not a valid range is an error, and so
 * is a bracket the list's commas leave unpaired (`[1, 2, 3]`, a Python habit, would otherwise
 * sweep "[1", "2" and "3]"); a bracketed single value (`[64]`) stays a string its class may read.
 */
export class SweepSyntaxError extends Error {}

const RANGE_RE = /^\{\s*(-?\d+)\s*-\s*(-?\d+)\s*\}$/;

export function expandSweep(value: string): string[] {
  const items = value.includes(',') ? value.split(',').map((s) => s.trim()) : [value.trim()];
  if (items.some(unpairedBracket)) {
    throw new SweepSyntaxError(
      `a list is written without brackets: ${value.replace(/[[\]]/g, '').trim()}, not ${value.trim()}`,
    );
  }
  const out: string[] = [];
  for (const item of items) {
    if (item === '') throw new SweepSyntaxError(`empty item in the list "${value}"`);
    if (item.startsWith('{') && item.endsWith('}')) {
      out.push(...expandRange(item));
    } else {
      out.push(item);
    }
  }
  return out;
}

function unpairedBracket(item: string): boolean {
  const count = (c: string) => item.split(c).length - 1;
  return count('[') !== count(']');
}

function expandRange(item: string): string[] {
  const m = RANGE_RE.exec(item);
  if (!m) throw new SweepSyntaxError(`"${item}" is not a range: write {a-b} with integers a <= b, e.g. {2-5}`);
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo > hi) throw new SweepSyntaxError(`range "${item}" is empty: its start ${lo} is above its end ${hi}`);
  if (hi - lo >= 1_000_000) throw new SweepSyntaxError(`range "${item}" has more than a million values`);
  const out: string[] = [];
  for (let v = lo; v <= hi; v++) out.push(String(v));
  return out;
}
