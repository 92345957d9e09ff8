import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../../tfjs/tfjs.js';
import type { NamedTensor } from './optimizer-state.js';

/**
 * TF.js's Adam and SGD stepping a flat Float32Array in place, float32 operation for float32
 * operation as tfjs-core's `applyGradients` computes them on the cpu backend (every scalar
 * hyper-parameter rounded to float32 as `scalar()` rounds it, every intermediate as its kernel
 * stores it). On the cpu backend a TF.js optimizer step over a small model's thousand parameters
 * costs ~0.25 ms in ops; this costs a few microseconds. The state comes from and goes back to the
 * TF.js optimizer's layout (`optimizerState`), so checkpoints do not know which one stepped.
 */
export interface PlainOptimizer {
  step(params: Float32Array, gradient: Float32Array): void;
  /** The state as `optimizerState` of the TF.js optimizer gives it (fresh tensors, the caller's). */
  state(): NamedTensor[];
}

type Hyper = { learningRate: number; beta1: number; beta2: number; epsilon: number };

/**
 * The plain form of `optimizer` for `size` flat parameters named `name`, from its state
 * (`optimizerState(optimizer)`), or undefined when it has none (the optimizers other than Adam and SGD).
 */
export function plainOptimizer(
  optimizer: tf.Optimizer,
  state: NamedTensor[],
  name: string,
  size: number,
): PlainOptimizer | undefined {
  let iterations = state.find((t) => t.name === 'iter')?.tensor.dataSync()[0] ?? 0;
  const iter = (): NamedTensor => ({ name: 'iter', tensor: tfjs.scalar(iterations, 'int32') });
  const f = Math.fround;
  switch (optimizer.getClassName()) {
    case 'SGD': {
      const c = f(-(optimizer as unknown as Hyper).learningRate);
      return {
        step(params, gradient) {
          for (let i = 0; i < params.length; i++) params[i] = f(c * gradient[i]!) + params[i]!;
          iterations++;
        },
        state: () => [iter()],
      };
    }
    case 'Adam': {
      const { learningRate, beta1, beta2, epsilon } = optimizer as unknown as Hyper;
      // Adam's state: the iterations, the first moments, the second moments (by position: a restored
      // optimizer keeps the names it was given), then the bias corrections.
      const moments = state.filter((t) => t.tensor.rank > 0);
      const [m, v] = [0, 1].map((k) =>
        moments[k] ? Float32Array.from(moments[k]!.tensor.dataSync()) : new Float32Array(size),
      );
      const [mName, vName] = [moments[0]?.name ?? `${name}/m`, moments[1]?.name ?? `${name}/v`];
      const correction = (k: string, initial: number) =>
        state.find((t) => t.name === `mosaic/${k}`)?.tensor.dataSync()[0] ?? Math.fround(initial);
      let accBeta1 = correction('accBeta1', beta1);
      let accBeta2 = correction('accBeta2', beta2);
      const [b1, b2, c1, c2, eps, rate] = [
        f(beta1),
        f(beta2),
        f(1 - beta1),
        f(1 - beta2),
        f(epsilon),
        f(-learningRate),
      ];
      return {
        step(params, gradient) {
          const [d1, d2] = [f(1 - accBeta1), f(1 - accBeta2)];
          for (let i = 0; i < params.length; i++) {
            const g = gradient[i]!;
            const m1 = f(f(m[i]! * b1) + f(g * c1));
            const v1 = f(f(v[i]! * b2) + f(f(g * g) * c2));
            m[i] = m1;
            v[i] = v1;
            const corrected = f(f(m1 / d1) / f(f(Math.sqrt(f(v1 / d2))) + eps));
            params[i] = f(corrected * rate) + params[i]!;
          }
          accBeta1 = f(accBeta1 * b1);
          accBeta2 = f(accBeta2 * b2);
          iterations++;
        },
        state: () => [
          iter(),
          { name: mName, tensor: tfjs.tensor1d(m.slice()) },
          { name: vName, tensor: tfjs.tensor1d(v.slice()) },
          { name: 'mosaic/accBeta1', tensor: tfjs.scalar(accBeta1) },
          { name: 'mosaic/accBeta2', tensor: tfjs.scalar(accBeta2) },
        ],
      };
    }
    default:
      return undefined;
  }
}
