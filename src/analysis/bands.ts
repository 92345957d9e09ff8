import type { Better, Criterion } from './runs.js';
import { mean, std } from './stats.js';

/** The values a criterion can take: accuracies (higher is better) in [0, 1]; slope anywhere; others ≥ 0 when every value is. */
export function criterionRange(criterion: Criterion, better: Better, values: number[]): [number, number] {
  if (better === 'higher') return [0, 1];
  if (criterion === 'slope') return [-Infinity, Infinity];
  return values.every((v) => v >= 0) ? [0, Infinity] : [-Infinity, Infinity];
}

export const clip = (x: number, [lo, hi]: [number, number]) => Math.min(hi, Math.max(lo, x));

export interface Band {
  n: number;
  mean: number;
  std: number;
  /** mean ± 1 standard deviation, clipped to the criterion's range. */
  lower: number;
  upper: number;
}

export function band(values: number[], range: [number, number]): Band {
  const m = mean(values);
  const s = std(values);
  return { n: values.length, mean: m, std: s, lower: clip(m - s, range), upper: clip(m + s, range) };
}

/** The subtitle's words for the spread: "band: ±1 standard deviation, clipped to the criterion's range". */
export const spreadNote = (kind: 'band' | 'bars') => `${kind}: ±1 standard deviation, clipped to the criterion's range`;

/** "[0, 1]", "≥ 0", or '' for an unbounded range. */
export function rangeText([lo, hi]: [number, number]): string {
  if (Number.isFinite(lo) && Number.isFinite(hi)) return `[${lo}, ${hi}]`;
  if (Number.isFinite(lo)) return `≥ ${lo}`;
  return Number.isFinite(hi) ? `≤ ${hi}` : '';
}
