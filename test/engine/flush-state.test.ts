// The state of TF.js's own optimizers on wasm with its subnormal values stored as +0 after each
// step (src/engine/optimizers/flush-state.ts, simd/kernels.ts `flushSubnormals`): the kernel in
// each build, and momentum, RMSprop and Adadelta stepped by a run's optimizer (variable by variable
// and flat) against TF.js's own, for units whose gradient dies: the same weights to the bit, their
// state +0 where TF.js's is stuck among the subnormals, the same bits elsewhere.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushOptimizerState } from '../../dist/engine/optimizers/flush-state.js';
import { makeOptimizer } from '../../dist/engine/optimizers/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { useBackend } from '../../dist/tfjs/backends.js';
import { SimdKernels } from '../../dist/tfjs/wasm/simd-kernels.js';
import { optimizerStateOf, subnormal } from '../support/float-values.js';

const bitsOf = (values: ArrayLike<number>) => [...new Uint32Array(Float32Array.from(values).buffer)];

describe('subnormal optimizer state on wasm', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('flushSubnormals makes subnormals and −0 +0 and keeps every other float, in vectors and tails, in each build', () => {
    const special = [
      2 ** -149,
      -(2 ** -149),
      2 ** -127,
      -(2 ** -126) * 0.75,
      -0,
      0,
      2 ** -126,
      -(2 ** -126),
      1.5,
      -3e38,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
    ];
    for (const build of ['relaxed', 'simd'] as const) {
      const kernels = SimdKernels.built(tf.backend(), build)!;
      for (const n of [1, 3, 4, 7, 13, 26, 1031]) {
        const values = Float32Array.from({ length: n }, (_, i) => special[(i * 5 + n) % special.length]!);
        const t = tf.tensor(values);
        kernels.flushSubnormals(t);
        const want = bitsOf(values.map((x) => (subnormal(x) || Object.is(x, -0) ? 0 : x)));
        expect(bitsOf(t.dataSync()), `${build}, ${n} values`).toEqual(want);
        t.dispose();
      }
    }
  });

  it('a state variable whose buffer another tensor shares (a clone held for a checkpoint) is left as it is', () => {
    const w = tf.variable(tf.ones([8]));
    const o = tf.train.momentum(0.1, 0.9);
    o.applyGradients([{ name: w.name, tensor: tf.fill([8], 2 ** -140) }]);
    const [state] = optimizerStateOf(o);
    const held = state!.clone();
    flushOptimizerState(o);
    expect([...state!.dataSync()].every(subnormal)).toBe(true);
    held.dispose();
    flushOptimizerState(o);
    expect([...state!.dataSync()].every((x) => Object.is(x, 0))).toBe(true);
    tf.dispose(w);
    o.dispose();
  });

  // A unit dies: a third of each variable gets a tiny gradient at the first step, then 0, and its
  // state decays below the smallest normal float (RMSprop's mean square from g² = 1e-36, momentum's
  // velocity from 1e-36, Adadelta's from 1e-36 too) and sticks there in TF.js; the rest trains.
  const CASES = [
    ['momentum', (lr: number) => tf.train.momentum(lr, 0.9), 1e-36],
    ['rmsprop', (lr: number) => makeOptimizer('rmsprop', lr), 1e-18],
    ['adadelta', (lr: number) => makeOptimizer('adadelta', lr), 1e-18],
  ] as const;
  it.each(
    CASES.flatMap(([name, make, tiny]) => [
      [name, 'variable by variable', make, tiny, [FUSE_BELOW, 3] as const],
      [name, 'flat (a small model)', make, tiny, [97, 13] as const],
    ]),
  )(
    "%s, %s: the weights are TF.js's own to the bit; its stuck subnormal state is +0 here",
    (_, __, make, tiny, shape) => {
      const dying = (i: number) => i % 3 === 0;
      const size = shape[0] * shape[1];
      const start = () => [
        tf.variable(
          tf.tensor2d(
            Float32Array.from({ length: size }, (_, i) => 0.5 + (i % 7) / 10),
            [...shape],
          ),
        ),
      ];
      const [reference, ours] = [start(), start()];
      const [theirs, mine] = [make(0.01), make(0.01)];
      const run = runOptimizer(mine, ours);
      for (let step = 0; step < 200; step++) {
        const g = tf.tensor2d(
          Float32Array.from({ length: size }, (_, i) => (dying(i) ? (step === 0 ? tiny : 0) : Math.sin(step + i) / 10)),
          [...shape],
        );
        theirs.applyGradients([{ name: reference[0]!.name, tensor: g }]);
        run.step([g]);
        g.dispose();
      }
      run.sync?.();
      expect(bitsOf(ours[0]!.dataSync())).toEqual(bitsOf(reference[0]!.dataSync()));
      // The flat optimizer keeps its state for the concatenated parameters: the same layout here (one variable).
      const [a, b] = [optimizerStateOf(theirs), optimizerStateOf(mine)].map((vs) =>
        vs.map((v) => v.dataSync() as Float32Array),
      );
      expect(a.length).toBe(b.length);
      let stuck = 0;
      for (const [k, values] of a.entries())
        for (const [i, x] of values.entries()) {
          if (subnormal(x)) {
            expect(Object.is(b[k]![i], 0), `state ${k}[${i}]`).toBe(true);
            stuck++;
          } else expect(Object.is(b[k]![i], x), `state ${k}[${i}]`).toBe(true);
        }
      expect(stuck).toBeGreaterThan(size / 4);
      expect(b.some((values) => values.some(subnormal))).toBe(false);
      tf.dispose([...reference, ...ours]);
      run.dispose();
      theirs.dispose();
    },
  );
});
