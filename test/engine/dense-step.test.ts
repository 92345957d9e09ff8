// A stack of dense layers stepped by its kernels directly (src/engine/run/dense-step.ts): bit for
// bit the taped step (the prediction, the loss, every variable and the optimizer's state after
// each step, and the test pass's prediction), with either run optimizer, with and without biases
// and decay; and no direct step where it does not apply.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinLoss } from '../../dist/engine/chain/loss.js';
import { decayFactor, makeOptimizer } from '../../dist/engine/optimizers/optimizer.js';
import { FUSE_BELOW, runOptimizer } from '../../dist/engine/optimizers/run-optimizer.js';
import { DenseStep } from '../../dist/engine/run/dense-step.js';
import { kernelLoss } from '../../dist/engine/run/kernel-loss.js';
import { KernelScope } from '../../dist/tfjs/wasm/kernel-scope.js';
import { disposeStateCopies } from '../../dist/engine/optimizers/optimizer-state.js';
import { fuseModuleLayers } from '../../dist/engine/run/fused-layers.js';
import { useBackend } from '../../dist/tfjs/backends.js';
import { LayersModule } from '../../dist/user/layers-module.js';
import type { RunInfo } from '../../dist/user/contracts.js';

class Stack extends LayersModule {
  constructor(public model: tf.LayersModel) {
    super();
  }
}

interface Layer {
  units: number;
  activation: 'relu' | 'linear';
  useBias?: boolean;
}

/** Two models of the same layers and the same weights (drawn from `seed`), their layers fused as a run's are. */
function twins(inputs: number, layers: Layer[], seed: number): [Stack, Stack] {
  const make = () =>
    new Stack(
      tf.sequential({
        layers: layers.map((l, i) =>
          tf.layers.dense({
            units: l.units,
            activation: l.activation,
            useBias: l.useBias ?? true,
            ...(i === 0 ? { inputShape: [inputs] } : {}),
            kernelInitializer: tf.initializers.randomUniform({ minval: -0.3, maxval: 0.3, seed: seed + i }),
            biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 100 + i }),
          }),
        ),
      }),
    );
  const pair: [Stack, Stack] = [make(), make()];
  fuseModuleLayers(pair);
  return pair;
}

const bits = (ts: tf.Tensor[]) => ts.map((t) => [...new Uint32Array(Float32Array.from(t.dataSync()).buffer)]);
const RUN_INFO = { training: true } as unknown as RunInfo;

/** Rows in [-1, 1) and one-hot targets, from a fixed generator. */
function batch(rows: number, inputs: number, classes: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomUniform([rows, inputs], -1, 1, 'float32', seed);
  const labels = Array.from({ length: rows }, (_, i) => (i * 7 + seed) % classes);
  return { x, y: tf.oneHot(labels, classes).toFloat() };
}

describe('a dense stack stepped by its kernels, without the tape', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each([
    [
      'ReLU, ReLU, linear, MSE, above FUSE_BELOW (Adam variable by variable)',
      20,
      [
        { units: 150, activation: 'relu' },
        { units: 120, activation: 'relu' },
        { units: 3, activation: 'linear' },
      ],
      'mse',
      undefined,
    ],
    [
      'a layer without bias, cross-entropy on logits, weight decay, below FUSE_BELOW (one flat step)',
      12,
      [
        { units: 9, activation: 'relu', useBias: false },
        { units: 4, activation: 'linear' },
      ],
      'cross_entropy_logits',
      decayFactor({ lr: 0.01, weight_decay: 0.2 }),
    ],
    ['one linear layer', 7, [{ units: 3, activation: 'linear' }], 'mse', undefined],
  ] as [string, number, Layer[], 'mse' | 'cross_entropy_logits', number | undefined][])(
    '%s: the same bits as the taped step, step after step',
    async (_, inputs, layers, lossName, decay) => {
      const [taped, direct] = twins(inputs, layers, 5);
      const loss = builtinLoss(lossName);
      const classes = layers.at(-1)!.units;
      const [ot, od] = [taped, direct].map((m) => runOptimizer(makeOptimizer('adam', 0.01), m.parameters(), decay));
      const step = DenseStep.of([direct], direct.parameters());
      expect(step).toBeDefined();
      const wide = taped.parameters().reduce((n, v) => n + v.size, 0) >= FUSE_BELOW;
      expect(wide).toBe(layers.length === 3);
      for (let i = 0; i < 6; i++) {
        const { x, y } = batch(16, inputs, classes, 40 + i);
        let tapedPrediction: number[][] = [];
        let directPrediction: number[][] = [];
        const a = ot!.minimize(() => {
          const p = taped.forward(x, RUN_INFO, {});
          tapedPrediction = bits([p]);
          return loss(p, y);
        });
        // The first step makes Adam's moments; a run takes it taped too.
        const b =
          i === 0
            ? od!.minimize(() => loss(direct.forward(x, RUN_INFO, {}), y))
            : step!.trainStep(x, y, loss, od!, (p) => {
                directPrediction = bits([p]);
              });
        if (i > 0) expect(directPrediction).toEqual(tapedPrediction);
        expect(bits([b])).toEqual(bits([a]));
        expect(bits(direct.parameters())).toEqual(bits(taped.parameters()));
        const [st, sd] = await Promise.all([ot!.state(), od!.state()]);
        expect(bits(sd.map((s) => s.tensor))).toEqual(bits(st.map((s) => s.tensor)));
        tf.dispose([a, b, x, y]);
        disposeStateCopies([...st, ...sd]);
      }
      // A test batch: the prediction and the loss of the layers' own calls.
      const { x, y } = batch(16, inputs, classes, 99);
      const p = taped.model.apply(x) as tf.Tensor;
      const want = loss(p, y);
      let seen: number[][] = [];
      let shape: number[] = [];
      const got = step!.evaluate(x, y, loss, (q) => {
        seen = bits([q]);
        shape = q.shape;
      });
      expect(seen).toEqual(bits([p]));
      expect(shape).toEqual([16, classes]);
      expect(bits([got])).toEqual(bits([want]));
      tf.dispose([p, want, got, x, y]);
      for (const o of [ot, od]) o!.dispose();
    },
  );

  // NaN as one value (its payload is the CPU's), every other value bit for bit.
  const sameValues = (a: Float32Array, b: Float32Array, what: string) =>
    expect(
      Array.from(a, (v) => (Number.isNaN(v) ? 'NaN' : v)),
      what,
    ).toEqual(Array.from(b, (v) => (Number.isNaN(v) ? 'NaN' : v)));

  /** The loss by kernel-loss.ts (value alone, then with its gradient) against the tape's, bit for bit. */
  function againstTape(lossName: 'mse' | 'cross_entropy_logits', what: string, p: tf.Tensor, t: tf.Tensor) {
    const loss = builtinLoss(lossName);
    const byKernels = kernelLoss(loss, p, t)!;
    const taped = tf.valueAndGrad((q: tf.Tensor) => loss(q, t))(p);
    const scope = new KernelScope(tf.backend(), 'wasm');
    const alone = scope.float32View(byKernels.value(scope, p, t)).slice();
    const [value, gradient] = byKernels.valueAndGradient(scope, p, t).map((v) => scope.float32View(v).slice());
    scope.release();
    expect(gradient!.length, what).toBe(p.size);
    sameValues(alone, taped.value.dataSync() as Float32Array, `${lossName}, ${what}: the value`);
    sameValues(value!, taped.value.dataSync() as Float32Array, `${lossName}, ${what}: the value with the gradient`);
    sameValues(gradient!, taped.grad.dataSync() as Float32Array, `${lossName}, ${what}: the gradient`);
    tf.dispose([taped.value, taped.grad]);
  }

  it("MSE and its gradient in one pass over the values: bit for bit the tape's kernels, non-finite, overflowing and subnormal values too", () => {
    const cases: [string, number, number, (p: Float32Array, t: Float32Array) => void][] = [
      ["the bench MLP's batch", 64, 10, () => {}],
      ['a few values', 7, 3, () => {}],
      ['12,341 values', 341, 41, () => {}],
      [
        'differences and squares past float32',
        16,
        5,
        (p, t) => ([p[0], t[0], p[1], t[1], p[7]] = [3e38, -3e38, 2e19, 0, -1.9e38]),
      ],
      [
        'subnormal products and sums',
        16,
        5,
        (p, t) => {
          for (let i = 0; i < p.length; i++) {
            p[i] = (i % 3) * 1e-39;
            t[i] = -(i % 5) * 3e-23;
          }
        },
      ],
      [
        'NaN and infinities',
        16,
        5,
        (p, t) => ([p[2], t[3], p[4], t[4]] = [Number.NaN, Number.POSITIVE_INFINITY, -Infinity, -Infinity]),
      ],
    ];
    for (const [what, rows, cols, edit] of cases) {
      const [pv, tv] = [1, 2].map(
        (s) => tf.randomNormal([rows, cols], 0, 3, 'float32', rows + s).dataSync() as Float32Array,
      );
      edit(pv!, tv!);
      const [p, t] = [tf.tensor(pv!, [rows, cols]), tf.tensor(tv!, [rows, cols])];
      againstTape('mse', what, p, t);
      tf.dispose([p, t]);
    }
  });

  it("softmax cross-entropy on logits and its gradient with wasm's Exp and Log only: bit for bit the tape's, for one-hot and soft labels, extreme and non-finite logits", () => {
    const oneHot = (rows: number, classes: number) =>
      Float32Array.from({ length: rows * classes }, (_, i) =>
        (Math.floor(i / classes) * 7) % classes === i % classes ? 1 : 0,
      );
    const cases: [string, number, number, (p: Float32Array, t: Float32Array) => void][] = [
      ["the bench MLP's batch", 64, 10, () => {}],
      ['two classes', 9, 2, () => {}],
      ['1,000 classes', 12, 1000, () => {}],
      [
        'soft labels (smoothed, summing to 1)',
        16,
        5,
        (_, t) => {
          for (let i = 0; i < t.length; i++) t[i] = t[i] === 1 ? 0.9 : 0.025;
        },
      ],
      [
        'logits far apart, ties for the max, past float32 when shifted',
        16,
        5,
        (p) => {
          [p[0], p[1], p[2], p[3], p[4]] = [80, 80, -80, 3e38, -3e38];
          [p[5], p[6], p[7], p[8], p[9]] = [1e-40, -1e-40, 0, -0, 1e-45];
        },
      ],
      [
        'NaN and infinite logits',
        16,
        5,
        (p) => {
          [p[1], p[5], p[6], p[12], p[13], p[14]] = [Number.NaN, Infinity, 2, -Infinity, -Infinity, -Infinity];
          [p[15], p[16], p[17], p[18], p[19]] = [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity];
          [p[20], p[21]] = [Number.NaN, Infinity];
        },
      ],
    ];
    // One class: the loss takes the targets as class indices (not by kernels); int32 targets likewise.
    const loss = builtinLoss('cross_entropy_logits');
    expect(kernelLoss(loss, tf.zeros([5, 1]), tf.zeros([5, 1]))).toBeUndefined();
    expect(kernelLoss(loss, tf.zeros([5, 3]), tf.zeros([5, 3], 'int32'))).toBeUndefined();
    expect(kernelLoss(loss, tf.zeros([5, 3]), tf.zeros([5]))).toBeUndefined();
    expect(kernelLoss(loss, tf.zeros([5, 3]), tf.zeros([5, 3]))).toBeDefined();
    for (const [what, rows, classes, edit] of cases) {
      const pv = tf.randomNormal([rows, classes], 0, 4, 'float32', rows + classes).dataSync() as Float32Array;
      const tv = oneHot(rows, classes);
      edit(pv, tv);
      const [p, t] = [tf.tensor(pv, [rows, classes]), tf.tensor(tv, [rows, classes])];
      againstTape('cross_entropy_logits', what, p, t);
      tf.dispose([p, t]);
    }
  });

  it('leaves no tensor behind, its loss by kernels or taped', () => {
    const [, model] = twins(
      10,
      [
        { units: 30, activation: 'relu' },
        { units: 2, activation: 'linear' },
      ],
      3,
    );
    const optimizer = runOptimizer(makeOptimizer('adam', 0.01), model.parameters());
    const step = DenseStep.of([model], model.parameters())!;
    const { x, y } = batch(8, 10, 2, 1);
    const first = optimizer.minimize(() => builtinLoss('mse')(model.forward(x, RUN_INFO, {}), y));
    first.dispose();
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 3; i++) {
      // MSE by kernels; cross-entropy taped.
      for (const loss of [builtinLoss('mse'), builtinLoss('cross_entropy_logits')]) {
        step.trainStep(x, y, loss, optimizer, () => {}).dispose();
        step.evaluate(x, y, loss, () => {}).dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
    expect(step.takes(x)).toBe(true);
    expect(step.takes(tf.zeros([8, 11]))).toBe(false);
    expect(step.takes(tf.zeros([8, 10], 'int32'))).toBe(false);
    optimizer.dispose();
  });

  it('does not apply to other models: another layer, an activation not fused, a regularizer, a forward of its own', () => {
    const dense = (config: Parameters<typeof tf.layers.dense>[0]) => tf.layers.dense({ inputShape: [4], ...config });
    const cases: [string, LayersModule][] = [
      [
        'a dropout layer',
        new Stack(tf.sequential({ layers: [dense({ units: 3 }), tf.layers.dropout({ rate: 0.5 })] })),
      ],
      ['a sigmoid', new Stack(tf.sequential({ layers: [dense({ units: 3, activation: 'sigmoid' })] }))],
      [
        'a kernel regularizer',
        new Stack(tf.sequential({ layers: [dense({ units: 3, kernelRegularizer: tf.regularizers.l2() })] })),
      ],
      [
        'a forward of its own',
        new (class extends Stack {
          override forward(x: tf.Tensor): tf.Tensor {
            return (this.model.apply(x) as tf.Tensor).mul(2);
          }
        })(tf.sequential({ layers: [dense({ units: 3 })] })),
      ],
    ];
    for (const [what, module] of cases) {
      fuseModuleLayers([module]);
      expect(DenseStep.of([module], module.parameters()), what).toBeUndefined();
    }
    const [plain] = twins(4, [{ units: 3, activation: 'relu' }], 1);
    expect(DenseStep.of([plain], plain.parameters())).toBeDefined();
    expect(DenseStep.of([plain, plain], plain.parameters())).toBeUndefined();
    expect(DenseStep.of([plain], plain.parameters().slice(1))).toBeUndefined();
  });

  it('is not taken on cpu, whose ReLU gradient is two kernels', async () => {
    await useBackend('cpu');
    try {
      const [model] = twins(4, [{ units: 3, activation: 'relu' }], 1);
      expect(DenseStep.of([model], model.parameters())).toBeUndefined();
    } finally {
      await useBackend('wasm');
    }
  });
});
