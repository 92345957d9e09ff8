// TF.js's Adam on wasm as one SIMD pass per variable (src/engine/optimizers/simd-adam.ts): bit for
// bit TF.js's own Adam on wasm (variables, moments, bias corrections; subnormal moments +0), its state the same, tensors
// sharing a buffer with a variable or a moment untouched, and TF.js's path on cpu and for other optimizers.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disposeStateCopies, optimizerState } from '../../dist/engine/optimizers/optimizer-state.js';
import { decayFactor, makeOptimizer } from '../../dist/engine/optimizers/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { simdAdamStep } from '../../dist/engine/optimizers/simd-adam.js';
import { useBackend } from '../../dist/tfjs/backends.js';
import { bits, spreadValues, subnormal } from '../support/float-values.js';

/** Sizes around the SIMD width (4) and its tail, and larger ones. */
const SHAPES = [[1], [3], [4], [5, 7], [1000], [97, 13], [64, 65]];

const tensors = (seed: number) => SHAPES.map((s, i) => tf.tensor(spreadValues(tf.util.sizeFromShape(s), seed + i), s));
const variables = (seed: number) => tf.tidy(() => tensors(seed).map((t) => tf.variable(t)));

type Adam = {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
};
const moments = (o: tf.Optimizer) => {
  const a = o as unknown as Adam;
  return [...a.accumulatedFirstMoment, ...a.accumulatedSecondMoment].map((m) => m.variable);
};
const corrections = (o: tf.Optimizer) => [(o as unknown as Adam).accBeta1, (o as unknown as Adam).accBeta2];

/** The names of the kernels `f` runs. */
async function kernelsOf(f: () => tf.Tensor): Promise<string[]> {
  return (
    await tf.profile(() => {
      f().dispose();
    })
  ).kernelNames;
}

/** TF.js's step as VariableOptimizer takes it: the decay (a product by the float32 scalar), then Adam. */
function tfjsStep(o: tf.Optimizer, vars: tf.Variable[], grads: tf.Tensor[], decay?: number): void {
  if (decay !== undefined) {
    tf.tidy(() => {
      for (const v of vars) v.assign(v.mul(tf.scalar(decay)));
    });
  }
  o.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
}

describe('Adam on wasm in one SIMD pass per variable', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each([
    ['without decay', undefined],
    ['with decoupled weight decay', decayFactor({ lr: 0.01, weight_decay: 0.3 })],
  ])('%s: 25 steps give bit for bit the variables, moments and bias corrections of TF.js', (_, decay) => {
    const [reference, simd] = [variables(1), variables(1)];
    const [a, b] = [tf.train.adam(0.01), tf.train.adam(0.01)];
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const held = () => [tf.memory().numTensors, backend.numDataIds()];
    let passes = 0;
    let after1: number[] = [];
    for (let step = 0; step < 25; step++) {
      const grads = tensors(100 * (step + 1));
      tfjsStep(a, reference, grads, decay);
      if (simdAdamStep(b, simd, grads, decay)) passes++;
      else tfjsStep(b, simd, grads, decay);
      tf.dispose(grads);
      if (step === 1) after1 = held();
    }
    // The first step creates the moments with TF.js; every later one is the SIMD pass, which keeps no tensor.
    expect(passes).toBe(24);
    expect(held()).toEqual(after1);
    expect(bits(simd)).toEqual(bits(reference));
    expect(bits(moments(b))).toEqual(bits(moments(a)));
    expect(bits(corrections(b))).toEqual(bits(corrections(a)));
    expect(b.iterations).toBe(a.iterations);
    tf.dispose([...reference, ...simd]);
    a.dispose();
    b.dispose();
  });

  it.each([
    ['in new buffers', false],
    ['in place (as a dense stack steps)', true],
  ])(
    '%s: leaves every tensor that shares a buffer with a variable or a moment as it was (a clone, a state read)',
    (_, inPlace) => {
      const [reference, simd] = [variables(2), variables(2)];
      const [a, b] = [tf.train.adam(0.02), tf.train.adam(0.02)];
      const grads = () => tensors(7);
      for (const vars of [reference, simd]) {
        const g = grads();
        tfjsStep(vars === reference ? a : b, vars, g);
        tf.dispose(g);
      }
      // A clone shares the buffer (src/tfjs/wasm/shared-buffer.ts), as the state a checkpoint writes does.
      const held = [
        simd[3]!.clone(),
        simd[6]!.reshape([-1]),
        moments(b)[0]!.clone(),
        moments(b)[SHAPES.length + 5]!.clone(),
      ];
      const kept = bits(held);
      const buffers = () => [...simd, ...moments(b)].map((t) => (t as unknown as { dataId: object }).dataId);
      const before = buffers();
      for (let step = 0; step < 3; step++) {
        const g = grads();
        expect(simdAdamStep(b, simd, g, undefined, inPlace)).toBe(true);
        tfjsStep(a, reference, g);
        tf.dispose(g);
      }
      expect(bits(held)).toEqual(kept);
      // In place, a variable and its moments are written over (the same buffers after the steps)
      // unless one of the three is shared: variables 3 and 6, the first moment of 0, the second of 5.
      const after = buffers();
      const n = SHAPES.length;
      for (const [i, id] of before.entries())
        expect(after[i] === id, `buffer ${i}`).toBe(inPlace && ![0, 3, 5, 6].includes(i % n));
      expect(bits(simd)).toEqual(bits(reference));
      expect(bits(moments(b))).toEqual(bits(moments(a)));
      tf.dispose([...reference, ...simd, ...held]);
    },
  );

  it("moments that decay into the subnormals are stored as +0, TF.js's kept; the variables are the same bits", () => {
    // Gradients of 1e-36 at the first step, then 0 (a unit that died): TF.js's first moments decay
    // by 0.9 a step, below the smallest normal float (1.2e-38) after 22 steps, and stick among the
    // smallest subnormals; the rest of each variable gets ordinary gradients. (A weight moves by
    // less than 1e-30 · lr for such a moment: the same float32 unless its magnitude is below 1e-22.)
    const dying = (i: number) => i % 3 === 0;
    const tensorsWith = (seed: number, special: (x: number) => number) =>
      SHAPES.map((shape, k) =>
        tf.tensor(
          spreadValues(tf.util.sizeFromShape(shape), seed + k).map((x, i) => (dying(i) ? special(x) : x)),
          shape,
        ),
      );
    const start = () => tf.tidy(() => tensorsWith(4, (x) => 0.5 + Math.abs(x)).map((t) => tf.variable(t)));
    const [reference, simd] = [start(), start()];
    const [a, b] = [tf.train.adam(0.01), tf.train.adam(0.01)];
    for (let step = 0; step < 300; step++) {
      const g = tensorsWith(100 * step, () => (step === 0 ? 1e-36 : 0));
      tfjsStep(a, reference, g);
      if (!simdAdamStep(b, simd, g)) tfjsStep(b, simd, g);
      tf.dispose(g);
    }
    expect(bits(simd)).toEqual(bits(reference));
    const [theirs, ours] = [moments(a), moments(b)].map((ms) => ms.map((m) => m.dataSync() as Float32Array));
    let dead = 0;
    for (const [k, m] of theirs.entries()) {
      for (const [i, x] of m.entries()) {
        if (k < SHAPES.length && dying(i)) {
          // The first moment of a dead unit: TF.js's stuck in the subnormals (0.9 · x rounds back to
          // x below 5 · 2⁻¹⁴⁹), ours +0.
          expect([subnormal(x), Object.is(ours[k]![i], 0)]).toEqual([true, true]);
          dead++;
        } else if (!subnormal(x)) expect(Object.is(ours[k]![i], x), `moment ${k}[${i}]`).toBe(true);
      }
    }
    expect(dead).toBeGreaterThan(1000);
    tf.dispose([...reference, ...simd]);
    a.dispose();
    b.dispose();
  });

  it('leaves optimizers other than Adam, and the cpu backend, to TF.js', async () => {
    const vars = variables(3);
    const sgd = tf.train.sgd(0.1);
    const g = tensors(4);
    expect(simdAdamStep(sgd, vars, g)).toBe(false);
    const adam = tf.train.adam(0.1);
    tfjsStep(adam, vars, g);
    expect(simdAdamStep(adam, vars, g)).toBe(true);
    tf.dispose([...vars, ...g]);
    await useBackend('cpu');
    const [cpuVars, cpuGrads] = [variables(3), tensors(4)];
    const cpuAdam = tf.train.adam(0.1);
    tfjsStep(cpuAdam, cpuVars, cpuGrads);
    expect(simdAdamStep(cpuAdam, cpuVars, cpuGrads)).toBe(false);
    tf.dispose([...cpuVars, ...cpuGrads]);
    await useBackend('wasm');
  });

  it("runOptimizer above FUSE_BELOW: TF.js's minimize bit for bit, the same state, restored to continue exactly", async () => {
    // Weights within ±1: the sigmoids do not saturate, so no moment becomes subnormal (where
    // Mosaic's pass stores +0: tested above).
    const moderate = (size: number, seed: number) => spreadValues(size, seed).map(Math.tanh);
    const big = (seed: number) => [
      tf.variable(tf.tensor(moderate(3 * 6667, seed), [3, 6667])),
      tf.variable(tf.tensor(moderate(6667, seed + 1), [6667, 1])),
      tf.variable(tf.tensor(moderate(3, seed + 2), [3])),
    ];
    const loss = (vars: tf.Variable[], step: number) =>
      tf.tidy(
        () =>
          tf.losses.meanSquaredError(
            tf.randomNormal([4, 1], 0, 1, 'float32', 100 + step),
            tf
              .randomNormal([4, 3], 0, 1, 'float32', 50 + step)
              .matMul(vars[0]!)
              .sigmoid()
              .matMul(vars[1]!)
              .add(vars[2]!.sum()),
          ) as tf.Scalar,
      );
    const [plain, stepped] = [big(5), big(5)];
    const reference = makeOptimizer('adam', 0.01);
    const optimizer = runOptimizer(makeOptimizer('adam', 0.01), stepped);
    expect(stepped.reduce((n, v) => n + v.size, 0)).toBeGreaterThan(FUSE_BELOW);
    // Steps that multiply by the variables: a variable rewritten in place would be multiplied by the
    // weights XNNPACK packed for its buffer before (cached until the buffer is freed).
    for (let step = 0; step < 5; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      const kernels = await kernelsOf(() => optimizer.minimize(() => loss(stepped, step)));
      // The SIMD pass from the second step on (the first creates the moments with TF.js): no Sqrt kernel.
      expect(kernels.includes('Sqrt')).toBe(step === 0);
    }
    expect(bits(stepped)).toEqual(bits(plain));
    const [want, got] = [await optimizerState(reference), await optimizer.state()];
    expect(got.map((t) => [t.name.replace(/^\d+/, ''), t.tensor.dtype, t.tensor.shape])).toEqual(
      want.map((t) => [t.name.replace(/^\d+/, ''), t.tensor.dtype, t.tensor.shape]),
    );
    expect(want.some((t) => [...t.tensor.dataSync()].some(subnormal))).toBe(false);
    expect(bits(got.map((t) => t.tensor))).toEqual(bits(want.map((t) => t.tensor)));

    // Copies of the moments held (sharing their buffers) while training goes on: untouched.
    const held = got.filter((t) => t.tensor.rank > 0).map((t) => t.tensor.clone());
    const kept = bits(held);
    reference.minimize(() => loss(plain, 5), false, plain);
    optimizer.minimize(() => loss(stepped, 5)).dispose();
    expect(bits(held)).toEqual(kept);
    expect(bits(stepped)).toEqual(bits(plain));

    // A fresh optimizer restored from a saved state continues bit for bit, with the SIMD pass.
    const saved = await optimizer.state();
    const again = runOptimizer(makeOptimizer('adam', 0.01), stepped);
    await again.restore(saved);
    tf.dispose(held);
    disposeStateCopies([...got, ...saved]);
    optimizer.dispose();
    for (let step = 6; step < 9; step++) {
      reference.minimize(() => loss(plain, step), false, plain);
      expect(await kernelsOf(() => again.minimize(() => loss(stepped, step)))).not.toContain('Sqrt');
    }
    expect(bits(stepped)).toEqual(bits(plain));
    const restored = await again.state();
    expect(bits(restored.map((t) => t.tensor))).toEqual(bits((await optimizerState(reference)).map((t) => t.tensor)));
    disposeStateCopies(restored);
    again.dispose();
    tf.dispose([...plain, ...stepped]);
  });
});
