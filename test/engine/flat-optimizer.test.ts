import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { disposeStateCopies, optimizerState } from '../../dist/engine/optimizers/optimizer-state.js';
import { FlatOptimizer } from '../../dist/engine/optimizers/flat-optimizer.js';
import { OPTIMIZER_NAMES } from '../../dist/core/names.js';
import { decayFactor, makeOptimizer } from '../../dist/engine/optimizers/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { useBackend } from '../../dist/tfjs/backends.js';

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
  it.each(OPTIMIZER_NAMES)(
    '%s: the same variables and state, bit for bit, as the TF.js optimizer variable by variable',
    async (name) => {
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
    },
  );

  /** One step in JavaScript: the gradients from TF.js, flat, then `stepPlain`. */
  function plainStep(flat: FlatOptimizer, vars: tf.Variable[], step: number): void {
    const { grads, value } = tf.variableGrads(() => loss(vars, step), vars);
    flat.stepPlain(Float32Array.from(tf.concat(vars.map((v) => grads[v.name]!.reshape([-1]))).dataSync()));
    flat.writeBack();
    tf.dispose([value, ...Object.values(grads)]);
  }

  it.each(['adam', 'sgd'] as const)(
    '%s stepped in JavaScript (plain-optimizer.ts): the same variables and state, bit for bit, across a checkpoint',
    async (name) => {
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
    },
  );

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
    const big = () => [
      tf.variable(tf.randomUniform([3, Math.ceil(FUSE_BELOW / 3)], -1, 1, 'float32', 7)),
      tf.variable(tf.randomUniform([Math.ceil(FUSE_BELOW / 3), 1], -1, 1, 'float32', 8)),
    ];
    const bigLoss = (vars: tf.Variable[], step: number) =>
      tf.tidy(
        () =>
          tf.losses.meanSquaredError(
            tf.randomNormal([4, 1], 0, 1, 'float32', 100 + step),
            tf
              .randomNormal([4, 3], 0, 1, 'float32', 50 + step)
              .matMul(vars[0]!)
              .sigmoid()
              .matMul(vars[1]!),
          ) as tf.Scalar,
      );
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
    expect(await values(state.map((t) => t.tensor))).toEqual(
      await values((await optimizerState(reference)).map((t) => t.tensor)),
    );
    const again = runOptimizer(makeOptimizer('adam', 0.05), stepped);
    await again.restore(state);
    disposeStateCopies(state);
    reference.minimize(() => bigLoss(plain, 4), false, plain);
    again.minimize(() => bigLoss(stepped, 4)).dispose();
    expect(await values(stepped)).toEqual(await values(plain));
  });
});

describe('decoupled weight decay ([PROCESS] weight_decay)', () => {
  const lr = 0.05;
  const factor = decayFactor({ lr, weight_decay: 0.3 })!;

  /** By hand: every parameter times the float32 factor 1 − lr·weight_decay, then the TF.js optimizer's own step from the gradient taken before. */
  function referenceStep(optimizer: tf.Optimizer, vars: tf.Variable[], f: () => tf.Scalar): void {
    const { value, grads } = tf.variableGrads(f, vars);
    for (const v of vars)
      v.assign(
        tf.tensor(
          Float32Array.from(v.dataSync(), (x) => Math.fround(x * Math.fround(1 - lr * 0.3))),
          v.shape,
        ),
      );
    optimizer.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
    tf.dispose([value, ...Object.values(grads)]);
  }

  it('is none when weight_decay is 0 or absent, else the float32 factor 1 − lr·weight_decay', () => {
    expect(decayFactor({ lr, weight_decay: 0 })).toBeUndefined();
    expect(decayFactor({ lr })).toBeUndefined();
    expect(factor).toBe(Math.fround(1 - lr * 0.3));
  });

  it.each(OPTIMIZER_NAMES)(
    '%s: one step over all variables decays then steps as by hand, bit for bit',
    async (name) => {
      await useBackend('cpu');
      const [plain, fused] = [variables(), variables()];
      const reference = makeOptimizer(name, lr);
      const flat = new FlatOptimizer(makeOptimizer(name, lr), fused, undefined, factor);
      for (let step = 0; step < 5; step++) {
        referenceStep(reference, plain, () => loss(plain, step));
        flat.minimize(() => loss(fused, step)).dispose();
      }
      expect(await values(fused)).toEqual(await values(plain));
      // the decay did something: without it, the weights differ
      const undecayed = variables();
      const noDecay = new FlatOptimizer(makeOptimizer(name, lr), undecayed);
      for (let step = 0; step < 5; step++) noDecay.minimize(() => loss(undecayed, step)).dispose();
      expect(await values(undecayed)).not.toEqual(await values(plain));
      tf.dispose([...plain, ...fused, ...undecayed]);
    },
  );

  it.each(['adam', 'sgd'] as const)(
    '%s stepped in JavaScript decays as TF.js does, bit for bit; padding held at zero stays zero',
    async (name) => {
      await useBackend('cpu');
      const [plain, stepped] = [variables(), variables()];
      const reference = makeOptimizer(name, lr);
      // the last parameter masked, as a pack's padding: zero, its gradient taken as zero
      const mask = tf.tensor1d([...new Array(3 * 4 + 4 + 4 - 1).fill(1), 0]);
      for (const v of [plain[2]!, stepped[2]!]) v.assign(tf.tensor2d([...v.dataSync().slice(0, 3), 0], [4, 1]));
      const flat = new FlatOptimizer(makeOptimizer(name, lr), stepped, mask, factor);
      expect(await flat.plainParameters()).toBeInstanceOf(Float32Array);
      for (let step = 0; step < 6; step++) {
        const { grads, value } = tf.variableGrads(() => loss(plain, step), plain);
        const masked = tf
          .concat(plain.map((v) => grads[v.name]!.reshape([-1])))
          .mul(mask)
          .dataSync() as Float32Array;
        tf.dispose([value, ...Object.values(grads)]);
        const sizes = plain.map((v) => v.size);
        const ends = sizes.map((_, k) => sizes.slice(0, k + 1).reduce((a, b) => a + b, 0));
        const parts = sizes.map((n, k) => tf.tensor(masked.slice(ends[k]! - n, ends[k]!), plain[k]!.shape));
        referenceStep(
          reference,
          plain,
          () => plain.map((v, k) => v.mul(parts[k]!).sum()).reduce((a, b) => a.add(b)) as tf.Scalar,
        );
        tf.dispose(parts);
        plainStep(flat, stepped, step);
      }
      expect(await values(stepped)).toEqual(await values(plain));
      expect(stepped[2]!.dataSync()[3]).toBe(0);
      tf.dispose([...plain, ...stepped, mask]);
    },
  );

  /** One step in JavaScript: the gradients from TF.js, flat, then `stepPlain`. */
  function plainStep(flat: FlatOptimizer, vars: tf.Variable[], step: number): void {
    const { grads, value } = tf.variableGrads(() => loss(vars, step), vars);
    flat.stepPlain(Float32Array.from(tf.concat(vars.map((v) => grads[v.name]!.reshape([-1]))).dataSync()));
    flat.writeBack();
    tf.dispose([value, ...Object.values(grads)]);
  }

  it('a run of FUSE_BELOW parameters or more, stepped variable by variable, decays as by hand', async () => {
    await useBackend('cpu');
    const big = () => [
      tf.variable(tf.randomUniform([3, Math.ceil(FUSE_BELOW / 3)], -1, 1, 'float32', 7)),
      tf.variable(tf.randomUniform([Math.ceil(FUSE_BELOW / 3), 1], -1, 1, 'float32', 8)),
    ];
    const bigLoss = (vars: tf.Variable[], step: number) =>
      tf.tidy(
        () =>
          tf.losses.meanSquaredError(
            tf.randomNormal([4, 1], 0, 1, 'float32', 100 + step),
            tf
              .randomNormal([4, 3], 0, 1, 'float32', 50 + step)
              .matMul(vars[0]!)
              .sigmoid()
              .matMul(vars[1]!),
          ) as tf.Scalar,
      );
    const [plain, stepped] = [big(), big()];
    const reference = makeOptimizer('adam', lr);
    const optimizer = runOptimizer(makeOptimizer('adam', lr), stepped, factor);
    expect(optimizer).not.toBeInstanceOf(FlatOptimizer);
    for (let step = 0; step < 3; step++) {
      referenceStep(reference, plain, () => bigLoss(plain, step));
      optimizer.minimize(() => bigLoss(stepped, step)).dispose();
    }
    expect(await values(stepped)).toEqual(await values(plain));
    tf.dispose([...plain, ...stepped]);
  });
});
