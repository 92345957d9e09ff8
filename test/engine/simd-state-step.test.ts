// TF.js's RMSprop, Adagrad, Momentum, Adadelta and Adamax on wasm as one SIMD pass per variable
// (src/engine/optimizers/simd-state-step.ts): bit for bit TF.js's own step followed by
// flush-state.ts (variables and state), in new buffers and in place, with dying units (their
// decaying state made +0), through a run's optimizer with decoupled weight decay; TF.js's path
// where it cannot run.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushOptimizerState } from '../../dist/engine/optimizers/flush-state.js';
import { decayFactor } from '../../dist/engine/optimizers/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { simdStateStep } from '../../dist/engine/optimizers/simd-state-step.js';
import { useBackend } from '../../dist/tfjs/backends.js';
import { bits, optimizerStateOf, spreadValues, subnormal } from '../support/float-values.js';

/** Sizes around the SIMD width (4) and its tail, and larger ones. */
const SHAPES = [[1], [3], [4], [5, 7], [1000], [97, 13]];

/** A third of each variable's entries get a gradient of `tiny` at the first step, then 0: a unit that died. */
const dying = (i: number) => i % 3 === 0;
const gradients = (step: number, tiny = 1e-18) =>
  SHAPES.map((shape, k) =>
    tf.tensor(
      spreadValues(tf.util.sizeFromShape(shape), 1000 * step + k).map((x, i) =>
        dying(i) ? (step === 0 ? tiny : 0) : x,
      ),
      shape,
    ),
  );
const start = () =>
  tf.tidy(() =>
    SHAPES.map((shape, k) => tf.variable(tf.tensor(spreadValues(tf.util.sizeFromShape(shape), 7 + k), shape))),
  );

/** TF.js's own step, as the run's optimizer takes it where the SIMD pass cannot run. */
function tfjsStep(o: tf.Optimizer, vars: tf.Variable[], gs: tf.Tensor[]) {
  o.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: gs[i]! })));
  flushOptimizerState(o);
}

describe('RMSprop, Adagrad, Momentum, Adadelta and Adamax as one SIMD pass on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  // The tiny first gradient of a dying unit: its state decays below the smallest normal float within
  // 60 steps (g² = 1e-36 for the mean squares; 1e-36 for momentum's velocity); Adagrad's only grows.
  const CASES: [string, () => tf.Optimizer, number, boolean][] = [
    ['RMSprop', () => tf.train.rmsprop(0.01, 0.9), 1e-18, true],
    ['RMSprop with momentum 0.9', () => tf.train.rmsprop(0.01, 0.9, 0.9), 1e-18, true],
    ['Adagrad', () => tf.train.adagrad(0.01), 1e-18, false],
    ['Momentum', () => tf.train.momentum(0.01, 0.9), 1e-36, true],
    ['Momentum, Nesterov', () => tf.train.momentum(0.01, 0.9, true), 1e-36, true],
    ['Adadelta', () => tf.train.adadelta(0.5, 0.9), 1e-18, true],
    // Its first moment decays by β1 = 0.9 a step; with a decay of the rate, whose scalars change every step.
    ['Adamax', () => tf.train.adamax(0.01, 0.9, 0.999, undefined, 0.01), 1e-36, true],
  ];
  it.each(
    CASES.flatMap(([name, make, tiny, decays]) =>
      [false, true].map((inPlace) => [name, inPlace, make, tiny, decays] as const),
    ),
  )("%s (in place: %s): TF.js's own step and flush, bit for bit, over 60 steps", (_, inPlace, make, tiny, decays) => {
    const [reference, ours] = [start(), start()];
    const [a, b] = [make(), make()];
    let simdSteps = 0;
    for (let step = 0; step < 60; step++) {
      const g = gradients(step, tiny);
      tfjsStep(a, reference, g);
      if (simdStateStep(b, ours, g, inPlace)) simdSteps++;
      else tfjsStep(b, ours, g);
      tf.dispose(g);
    }
    // The first step makes the state (TF.js's), every later one is the SIMD pass.
    expect(simdSteps).toBe(59);
    expect(bits(ours)).toEqual(bits(reference));
    expect(bits(optimizerStateOf(b))).toEqual(bits(optimizerStateOf(a)));
    expect((b as unknown as { iterations_: number }).iterations_).toBe(60);
    // A dying unit's decaying state went below the smallest normal float: +0 in both.
    const zeros = optimizerStateOf(a).filter((s) => [...s.dataSync()].some((x, i) => dying(i) && Object.is(x, 0)));
    expect(zeros.length > 0).toBe(decays);
    expect(optimizerStateOf(b).some((s) => [...s.dataSync()].some(subnormal))).toBe(false);
    tf.dispose([...reference, ...ours]);
    a.dispose();
    b.dispose();
  });

  it.each([
    ['RMSprop', () => tf.train.rmsprop(0.01, 0.9, 0.5)],
    // Adamax's max(u·β2, |g|): wasm's Maximum keeps a NaN first operand, not a NaN second one.
    ['Adamax', () => tf.train.adamax(0.01)],
  ])('%s: NaN and infinite gradients give NaN and infinities where TF.js gives them', (_, make) => {
    const [reference, ours] = [start(), start()];
    const [a, b] = [make(), make()];
    for (let step = 0; step < 3; step++) {
      const g = gradients(step).map((t, k) =>
        tf.tidy(() => {
          const v = t.dataSync().slice();
          if (k >= 3) [v[1], v[2]] = [Number.NaN, step === 1 ? Number.POSITIVE_INFINITY : -1e30];
          return tf.tensor(v, t.shape);
        }),
      );
      tfjsStep(a, reference, g);
      if (!simdStateStep(b, ours, g)) tfjsStep(b, ours, g);
      tf.dispose(g);
    }
    const shapeOf = (ts: tf.Tensor[]) => ts.map((t) => [...t.dataSync()].map((x) => (Number.isNaN(x) ? 'NaN' : x)));
    expect(shapeOf(ours)).toEqual(shapeOf(reference));
    expect(shapeOf(optimizerStateOf(b))).toEqual(shapeOf(optimizerStateOf(a)));
    expect(shapeOf(ours).flat()).toContain('NaN');
    tf.dispose([...reference, ...ours]);
  });

  it("through a run optimizer, with decoupled weight decay: the decay then TF.js's step, bit for bit", () => {
    const shape = [FUSE_BELOW, 3];
    const size = shape[0]! * shape[1]!;
    const make = () => [tf.variable(tf.tensor(spreadValues(size, 3), shape))];
    const [reference, ours] = [make(), make()];
    const decay = decayFactor({ lr: 0.01, weight_decay: 0.1 });
    const [a, b] = [tf.train.rmsprop(0.01), tf.train.rmsprop(0.01)];
    const run = runOptimizer(b, ours, decay);
    for (let step = 0; step < 5; step++) {
      const g = tf.tensor(spreadValues(size, 50 + step), shape);
      tf.tidy(() => reference[0]!.assign(reference[0]!.mul(tf.scalar(decay!))));
      tfjsStep(a, reference, [g]);
      run.step([g]);
      g.dispose();
    }
    expect(bits(ours)).toEqual(bits(reference));
    expect(bits(optimizerStateOf(b))).toEqual(bits(optimizerStateOf(a)));
    tf.dispose([...reference, ...ours]);
    run.dispose();
    a.dispose();
  });

  it('leaves a centered RMSprop, SGD, Adam (its own pass) and the cpu backend to TF.js', async () => {
    const vars = start();
    const g = gradients(1);
    const centered = tf.train.rmsprop(0.01, 0.9, 0, undefined, true);
    tfjsStep(centered, vars, g);
    expect(simdStateStep(centered, vars, g)).toBe(false);
    for (const other of [tf.train.sgd(0.01), tf.train.adam(0.01)]) {
      tfjsStep(other, vars, g);
      expect(simdStateStep(other, vars, g)).toBe(false);
    }
    tf.dispose([...vars, ...g]);
    await useBackend('cpu');
    const onCpu = start();
    const g2 = gradients(1);
    const plain = tf.train.rmsprop(0.01);
    tfjsStep(plain, onCpu, g2);
    expect(simdStateStep(plain, onCpu, g2)).toBe(false);
    tf.dispose([...onCpu, ...g2]);
    await useBackend('wasm');
  });
});
