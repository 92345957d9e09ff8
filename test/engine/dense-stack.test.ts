import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DenseStackStep } from '../../dist/engine/pack/dense-stack.js';
import { builtinLoss, replicaLoss } from '../../dist/engine/chain/loss.js';
import { packForward, replicaOf, stackVariables, type PackModel } from '../../dist/engine/pack/pack-model.js';
import { useBackend } from '../../dist/tfjs/backends.js';

/** A member of a pack: a tfjs-layers dense stack, as a user's model builds it, with its own weights. */
function member(inputs: number, hidden: number[], outputs: number, activation: string, seed: number): tf.Sequential {
  const model = tf.sequential();
  [...hidden, outputs].forEach((units, i) => {
    const init = (s: number) => tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: seed * 100 + s });
    model.add(
      tf.layers.dense({
        units,
        activation: activation as 'relu',
        kernelInitializer: init(2 * i),
        biasInitializer: init(2 * i + 1),
        ...(i === 0 ? { inputShape: [inputs] } : {}),
      }),
    );
  });
  return model;
}

const bits = (t: tf.Tensor | Float32Array) =>
  Array.from(t instanceof Float32Array ? t : (t.dataSync() as Float32Array));

type Loss = 'mse' | 'cross_entropy_logits';

/** Three members of different widths (one wider than the cpu backend's 48-wide blocks), padded to the widest. */
function pack(activation: string, lossKind: Loss = 'mse') {
  const inputs = 50;
  const members = [
    member(inputs, [4, 3], 2, activation, 1),
    member(inputs, [2, 5], 2, activation, 2),
    member(inputs, [53, 1], 2, activation, 3),
  ];
  const variables = members.map((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
  const shapes = variables[0]!.map((v, j) =>
    v.shape.map((_, d) => Math.max(...variables.map((vs) => vs[j]!.shape[d]!))),
  );
  const model: PackModel = {
    layers: [0, 1, 2].map(() => ({
      dense: true,
      useBias: true,
      activation: tf.layers.activation({ activation: activation as 'relu' }) as never,
      activationName: activation,
    })),
    loss: replicaLoss(lossKind)!,
    lossKind,
    shapes,
  };
  const { weights, gradientMask } = stackVariables(variables.map((v) => ({ variables: v })) as never, model);
  return { members, variables, model, weights, gradientMask, inputs };
}

describe('the plain pack step (dense-stack.ts) computes what TF.js computes, bit for bit', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  /** Targets of a batch: values for the squared error, one-hot rows for the cross-entropy. */
  const targets = (loss: Loss, batch: number, seed: number) =>
    loss === 'mse'
      ? tf.randomUniform([batch, 2], -1, 1, 'float32', seed)
      : tf.oneHot(tf.randomUniform([batch], 0, 2, 'int32', seed), 2).toFloat();

  it.each(
    (['mse', 'cross_entropy_logits'] as const).flatMap((loss) =>
      ['sigmoid', 'relu', 'tanh', 'linear'].flatMap((a) => [1, 5, 50].map((b) => [loss, a, b] as const)),
    ),
  )(
    '%s, %s, batch %i: predictions, losses and gradients as each run alone and as the pack through TF.js',
    (loss, activation, batch) => {
      const p = pack(activation, loss);
      const R = p.members.length;
      const xs = p.members.map((_, r) => tf.randomNormal([batch, p.inputs], 0, 2, 'float32', 10 + r));
      const ys = p.members.map((_, r) => targets(loss, batch, 20 + r));
      const [x, y] = [tf.stack(xs), tf.stack(ys)];

      const step = DenseStackStep.of(p.model, R);
      if (typeof step === 'string') throw new Error(step);
      const params = tf.concat(p.weights.map((w) => w.reshape([-1]))).dataSync() as Float32Array;
      const trace = step.forward(params, x.dataSync() as Float32Array, batch);
      const prediction = trace[trace.length - 1]!;
      const { losses, dPrediction } = step.loss(prediction, y.dataSync() as Float32Array);
      const gradient = tf
        .split(
          tf.tensor1d(step.gradient(params, trace, dPrediction, batch)),
          p.weights.map((w) => w.size),
        )
        .map((g, j) => g.reshape(p.weights[j]!.shape));

      // Each run alone: its own model, loss and gradients.
      p.members.forEach((m, r) => {
        const { value, grads } = tf.variableGrads(
          () => builtinLoss(loss)(m.apply(xs[r]!) as tf.Tensor, ys[r]!),
          p.variables[r],
        );
        const per = prediction.length / R;
        expect(bits(prediction.subarray(r * per, (r + 1) * per))).toEqual(bits(m.apply(xs[r]!) as tf.Tensor));
        expect(losses[r]).toBe(value.dataSync()[0]);
        p.variables[r]!.forEach((v, j) => {
          expect(bits(replicaOf(gradient[j]!, r, v.shape)), `${v.name}`).toEqual(bits(grads[v.name]!));
        });
      });

      // The pack through TF.js's ops and tape (at batch 1 its bias gradient is the output's gradient
      // itself, not a sum as alone and here: a zero may keep its sign, which no optimizer sees).
      const unsigned = (t: tf.Tensor | Float32Array) => bits(t).map((v) => (v === 0 ? 0 : v));
      const { value, grads } = tf.variableGrads(
        () => p.model.loss(packForward(p.model, p.weights, x), y).sum() as tf.Scalar,
        p.weights,
      );
      expect(bits(losses).reduce((a, b) => a + b, 0)).toBeCloseTo(value.dataSync()[0]!, 4);
      expect(bits(p.model.loss(packForward(p.model, p.weights, x), y))).toEqual(bits(losses));
      p.weights.forEach((w, j) => {
        expect(unsigned(gradient[j]!)).toEqual(unsigned(grads[w.name]!));
      });
    },
  );

  it('says why not when an activation, the loss or the backend has no plain form', async () => {
    const p = pack('sigmoid');
    expect(DenseStackStep.of({ ...p.model, lossKind: 'bce' }, 3)).toBe('the loss is bce');
    expect(
      DenseStackStep.of({ ...p.model, layers: p.model.layers.map((l) => ({ ...l, activationName: 'softmax' })) }, 3),
    ).toBe('the activation softmax');
    await useBackend('wasm');
    try {
      expect(DenseStackStep.of(p.model, 3)).toBe('the backend is wasm');
    } finally {
      await useBackend('cpu');
    }
  });
});
