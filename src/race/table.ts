/**
 * The race as `mosaic status` and the dashboard show it, the same words and cells in both: a data
 * key's title, its table (a configuration a row) and what its p means. No Node import: the
 * dashboard's page bundles this file.
 */
import { sci } from '../core/format.js';
import type { RaceEntry, RaceKeyView, RaceView } from './state.js';

export const raceHead = (v: Pick<RaceView, 'criterion'>) => [
  'configuration',
  'state',
  'round',
  'p',
  'runs',
  `mean ${v.criterion}`,
];

/** The table's columns from this one on are numbers. */
export const RACE_NUMERIC_FROM = 2;

export const raceCells = (e: RaceEntry) => [
  e.label,
  e.state,
  e.round === null ? '' : String(e.round),
  e.p === null ? '' : sci(e.p, 2),
  String(e.runs),
  e.mean === null ? '' : sci(e.mean),
];

/** `data_dataset_OR: over at round 6 of 6: max_repeats (8) reached; 45 of 48 runs (max_repeats 8 × 6 configurations)`. */
export function raceKeyTitle(k: RaceKeyView, v: Pick<RaceView, 'maxRepeats'>): string {
  return `${k.dataKey}: ${k.progress}; ${k.runs} of ${k.budget} runs (max_repeats ${v.maxRepeats} × ${k.configurations} configurations)`;
}

/** What the p column means, and the level a configuration leaves the race at. */
export function raceLegend(k: RaceKeyView, v: Pick<RaceView, 'alpha' | 'rope'>): string {
  const level = k.threshold
    ? `; a configuration leaves at p ≤ ${sci(k.threshold, 2)} (α = ${v.alpha} over every look and pair)`
    : '';
  const tost = v.rope === null ? '' : ` (TOST's within ±${v.rope} for an equivalent one)`;
  return `p: against the best at the round it left${tost}, at the last round for the others${level}`;
}
