import type * as tf from '@tensorflow/tfjs';
import { tfjs } from './tfjs.js';
import type { Chain } from './chain.js';

/**
 * What is worth a warning in a run's chain once built, though it trains: a dropout layer given a
 * fixed `seed`. TF.js draws a dropout mask from a new generator on every call, seeded by the
 * layer's seed when it has one: the same mask at every step, so the same units are dropped all
 * through training. Without a seed the masks vary, drawn from `Math.random` (not reproducible).
 * Each warning names the model class and the layer by position (stable across runs and packs).
 */
export function chainWarnings(chain: Chain): string[] {
  const warnings: string[] = [];
  for (const { module, info } of chain.models) {
    const model = (module as { model?: unknown }).model;
    if (!(model instanceof tfjs.LayersModel)) continue;
    const owner = `model class ${String(info.class)} [${String(info.name)}]`;
    const walk = (layers: tf.layers.Layer[], prefix: string) =>
      layers.forEach((layer, i) => {
        const position = `${prefix}${i + 1}`;
        const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
        if (Array.isArray(nested) && nested.length > 0) walk(nested, `${position}.`);
        const seed = (layer.getConfig() as { seed?: unknown }).seed;
        if (!/dropout/i.test(layer.getClassName()) || seed === undefined || seed === null) return;
        warnings.push(
          `${owner}: layer ${position} (${layer.getClassName()}) has a fixed seed (${String(seed)}): TF.js then draws the same dropout mask at every step, so the same units are dropped all through training; leave the seed out for a new mask at every step (drawn from Math.random: not reproducible)`,
        );
      });
    walk(model.layers, '');
  }
  return warnings;
}
