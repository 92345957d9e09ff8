import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { optimizerState } from '../dist/engine/checkpoint.js';
import { FlatOptimizer } from '../dist/engine/flat-optimizer.js';
import { OPTIMIZER_NAMES } from '../dist/engine/names.js';
import { makeOptimizer } from '../dist/engine/optimizer.js';

/** A small model's variables, the same values each call. */
function variables(): tf.Variable[] {
  return [
    tf.variable(tf.randomUniform([3, 4], -1, 1, 'float32', 1)),
    tf.variable(tf.randomUniform([4], -1, 1, 'float32', 2)),
    tf.variable(tf.randomUniform([4, 1], -1, 1, 'float32', 3)),
  ];
}

function loss(vars: tf.Variable[], step: number): tf.Scalar {
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 100 + step);
  const y = tf.randomNormal([5, 1], 0, 1, 'float32', 200 + step);
  const h = tf.sigmoid(x.matMul(vars[0]!).add(vars[1]!));
  return tf.losses.meanSquaredError(y, h.matMul(vars[2]!)) as tf.Scalar;
}

const values = async (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => [...(await t.data())]));

describe('one optimizer step over all variables (FlatOptimizer)', () => {
  it.each(OPTIMIZER_NAMES)('%s: the same variables and state, bit for bit, as the TF.js optimizer variable by variable', async (name) => {
    const [plain, fused] = [variables(), variables()];
    const reference = makeOptimizer(name, 0.05);
    const flat = new FlatOptimizer(makeOptimizer(name, 0.05), fused);
    for (let step = 0; step < 7; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      flat.minimize(() => loss(fused, step)).dispose();
    }
    expect(await values(fused)).toEqual(await values(plain));
    const [a, b] = [await optimizerState(reference), await flat.state()];
    expect(b.map((t) => t.tensor.shape)).toEqual(a.map((t) => t.tensor.shape));
    expect(await values(b.map((t) => t.tensor))).toEqual(await values(a.map((t) => t.tensor)));

    // A state saved one way restores the other way, and the next steps agree.
    const again = new FlatOptimizer(makeOptimizer(name, 0.05), fused);
    await again.restore(a);
    reference.minimize(() => loss(plain, 7), false, plain);
    again.minimize(() => loss(fused, 7)).dispose();
    expect(await values(fused)).toEqual(await values(plain));
    tf.dispose([...plain, ...fused]);
  });
});
