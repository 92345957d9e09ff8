import type { Chain } from './chain.js';
import { chainLayers } from './chain-layers.js';

/**
 * What is worth a warning in a run's chain once built, though it trains: a dropout layer given a
 * fixed `seed`. TF.js draws a dropout mask from a new generator on every call, seeded by the
 * layer's seed when it has one: the same mask at every step, so the same units are dropped all
 * through training. Without a seed the masks vary from step to step, drawn from `Math.random`, which
 * is the run's seeded generator while its code runs (engine/run/run-random.ts): reproducible.
 * Each warning names the model class and the layer by position (stable across runs and packs).
 */
export function chainWarnings(chain: Chain): string[] {
  const warnings: string[] = [];
  for (const { layer, position, owner } of chainLayers(chain)) {
    const seed = (layer.getConfig() as { seed?: unknown }).seed;
    if (!/dropout/i.test(layer.getClassName()) || seed === undefined || seed === null) continue;
    warnings.push(
      `${owner}: layer ${position} (${layer.getClassName()}) has a fixed seed (${String(seed)}): TF.js then draws the same dropout mask at every step, so the same units are dropped all through training; leave the seed out for a new mask at every step, drawn from the run's seed (reproducible all the same)`,
    );
  }
  return warnings;
}
