import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { optimizerState } from '../dist/engine/checkpoint.js';
import { FlatOptimizer } from '../dist/engine/flat-optimizer.js';
import { OPTIMIZER_NAMES } from '../dist/engine/names.js';
import { makeOptimizer } from '../dist/engine/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../dist/engine/run-optimizer.js';
import { useBackend } from '../dist/engine/tf.js';

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

  /** One step in JavaScript: the gradients from TF.js, flat, then `stepPlain`. */
  function plainStep(flat: FlatOptimizer, vars: tf.Variable[], step: number): void {
    const { grads, value } = tf.variableGrads(() => loss(vars, step), vars);
    flat.stepPlain(Float32Array.from(tf.concat(vars.map((v) => grads[v.name]!.reshape([-1]))).dataSync()));
    flat.writeBack();
    tf.dispose([value, ...Object.values(grads)]);
  }

  it.each(['adam', 'sgd'] as const)('%s stepped in JavaScript (plain-optimizer.ts): the same variables and state, bit for bit, across a checkpoint', async (name) => {
    await useBackend('cpu');
    const [plain, stepped] = [variables(), variables()];
    const reference = makeOptimizer(name, 0.05);
    const flat = new FlatOptimizer(makeOptimizer(name, 0.05), stepped);
    // Steps through TF.js first: the state moves over to JavaScript.
    for (let step = 0; step < 3; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      flat.minimize(() => loss(stepped, step)).dispose();
    }
    expect(await flat.plainParameters()).toBeInstanceOf(Float32Array);
    for (let step = 3; step < 9; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      plainStep(flat, stepped, step);
    }
    expect(await values(stepped)).toEqual(await values(plain));
    const [a, b] = [await optimizerState(reference), await flat.state()];
    expect(b.map((t) => t.tensor.shape)).toEqual(a.map((t) => t.tensor.shape));
    expect(await values(b.map((t) => t.tensor))).toEqual(await values(a.map((t) => t.tensor)));

    // Its state, restored in another, steps on in JavaScript as TF.js does.
    const again = new FlatOptimizer(makeOptimizer(name, 0.05), stepped);
    await again.restore(b);
    await again.plainParameters();
    for (let step = 9; step < 12; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      plainStep(again, stepped, step);
    }
    expect(await values(stepped)).toEqual(await values(plain));
    tf.dispose([...plain, ...stepped]);
  });

  it('has no plain form for the other optimizers, nor off the cpu backend', async () => {
    await useBackend('cpu');
    const vars = variables();
    expect(await new FlatOptimizer(makeOptimizer('rmsprop', 0.05), vars).plainParameters()).toBeUndefined();
    await useBackend('wasm');
    try {
      expect(await new FlatOptimizer(makeOptimizer('adam', 0.05), vars).plainParameters()).toBeUndefined();
    } finally {
      await useBackend('cpu');
    }
    tf.dispose(vars);
  });

  it('a run of FUSE_BELOW parameters or more steps variable by variable: the same variables and state, and its state restores', async () => {
    await useBackend('cpu');
    const big = () => [tf.variable(tf.randomUniform([3, Math.ceil(FUSE_BELOW / 3)], -1, 1, 'float32', 7)), tf.variable(tf.randomUniform([Math.ceil(FUSE_BELOW / 3), 1], -1, 1, 'float32', 8))];
    const bigLoss = (vars: tf.Variable[], step: number) => tf.tidy(() => tf.losses.meanSquaredError(tf.randomNormal([4, 1], 0, 1, 'float32', 100 + step), tf.randomNormal([4, 3], 0, 1, 'float32', 50 + step).matMul(vars[0]!).sigmoid().matMul(vars[1]!)) as tf.Scalar);
    const [plain, stepped] = [big(), big()];
    const reference = makeOptimizer('adam', 0.05);
    const optimizer = runOptimizer(makeOptimizer('adam', 0.05), stepped);
    expect(optimizer).not.toBeInstanceOf(FlatOptimizer);
    for (let step = 0; step < 4; step++) {
      reference.minimize(() => bigLoss(plain, step), false, plain);
      optimizer.minimize(() => bigLoss(stepped, step)).dispose();
    }
    expect(await values(stepped)).toEqual(await values(plain));
    const state = await optimizer.state();
    expect(await values(state.map((t) => t.tensor))).toEqual(await values((await optimizerState(reference)).map((t) => t.tensor)));
    const again = runOptimizer(makeOptimizer('adam', 0.05), stepped);
    await again.restore(state);
    tf.dispose(state.filter((t) => t.tensor.rank > 0).map((t) => t.tensor));
    reference.minimize(() => bigLoss(plain, 4), false, plain);
    again.minimize(() => bigLoss(stepped, 4)).dispose();
    expect(await values(stepped)).toEqual(await values(plain));
  });
});
