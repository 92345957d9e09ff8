import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { Chain } from './chain.js';

/** A layer of a run's model chain, as a user knows it: its model class and its position (stable across runs and packs). */
export interface ChainLayer {
  layer: tf.layers.Layer;
  /** `2`, or `3.1` for the first layer of a nested model in position 3. */
  position: string;
  /** `model class mlp [mlp]`. */
  owner: string;
}

/** Every layer of every LayersModel of the chain's model classes, nested models' layers after the model holding them. */
export function chainLayers(chain: Chain): ChainLayer[] {
  const out: ChainLayer[] = [];
  for (const { module, info } of chain.models) {
    const model = (module as { model?: unknown }).model;
    if (!(model instanceof tfjs.LayersModel)) continue;
    const owner = `model class ${String(info.class)} [${String(info.name)}]`;
    const walk = (layers: tf.layers.Layer[], prefix: string) =>
      layers.forEach((layer, i) => {
        const position = `${prefix}${i + 1}`;
        const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
        if (Array.isArray(nested) && nested.length > 0) walk(nested, `${position}.`);
        out.push({ layer, position, owner });
      });
    walk(model.layers, '');
  }
  return out;
}
