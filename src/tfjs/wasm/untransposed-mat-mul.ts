import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { composeKernels, type KernelScope } from './kernel-scope.js';

interface MatMulAttrs {
  transposeA?: boolean;
  transposeB?: boolean;
  activation?: 'linear' | 'relu' | 'prelu' | 'elu' | 'relu6' | 'leakyrelu' | 'sigmoid';
  leakyreluAlpha?: number;
}

/** The permutation that swaps the last two axes of a tensor of `rank`. */
const swapLastTwo = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];

/**
 * wasm 4.22's matrix products run in XNNPACK only untransposed: with `transposeA` or `transposeB`
 * they fall back to plain C loops, ~10× slower (measured: [64,784]ᵀ·[64,256] 9 ms against 0.8 ms
 * for a transpose and the product). A dense layer's two gradients are such products. This one
 * transposes the operand first (wasm's Transpose is a fast copy) and hands the untransposed
 * product to wasm's own kernel, `original`.
 *
 * wasm's own _FusedMatMul is also wrong for more than one matrix (a batch axis > 1: results off
 * by whole units); tfjs-layers only gives it one, a user's `tf.fused.matMul` may give several.
 * Those become the product, the bias added and the activation, each by wasm's own kernels.
 */
export function untransposedMatMul(backendName: string, original: KernelFunc, fused: boolean): KernelFunc {
  return (args) => {
    const attrs = args.attrs as MatMulAttrs;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const byParts = fused && a.shape.length > 2 && Math.max(a.shape[0]!, b.shape[0]!) > 1;
    if (!attrs.transposeA && !attrs.transposeB && !byParts) return original(args);
    return composeKernels(args.backend as KernelBackend, backendName, args.inputs, (k) => {
      const operands = {
        a: attrs.transposeA ? k.transpose(a, swapLastTwo(a.shape.length)) : a,
        b: attrs.transposeB ? k.transpose(b, swapLastTwo(b.shape.length)) : b,
      };
      const untransposed = { ...args.attrs, transposeA: false, transposeB: false };
      if (byParts) return fusedByParts(k, operands, args.inputs as FusedInputs, untransposed);
      return k.adopt(
        original({ inputs: { ...args.inputs, ...operands }, backend: args.backend, attrs: untransposed }) as TensorInfo,
      );
    });
  };
}

interface FusedInputs {
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/** _FusedMatMul as BatchMatMul (XNNPACK, untransposed), bias added, activation: as tfjs-core's unfused path. */
function fusedByParts(
  k: KernelScope,
  operands: { a: TensorInfo; b: TensorInfo },
  { bias, preluActivationWeights }: FusedInputs,
  attrs: NamedAttrMap & MatMulAttrs,
): TensorInfo {
  let y = k.run('BatchMatMul', operands, { transposeA: false, transposeB: false });
  if (bias) y = k.binary('Add', y, bias);
  switch (attrs.activation ?? 'linear') {
    case 'linear':
      return y;
    case 'relu':
      return k.run('Relu', { x: y });
    case 'relu6':
      return k.run('Relu6', { x: y });
    case 'elu':
      return k.run('Elu', { x: y });
    case 'sigmoid':
      return k.run('Sigmoid', { x: y });
    case 'leakyrelu':
      return k.run('LeakyRelu', { x: y }, { alpha: attrs.leakyreluAlpha ?? 0.2 });
    case 'prelu':
      return k.run('Prelu', { x: y, alpha: preluActivationWeights! });
    default:
      throw new Error(`_FusedMatMul: activation '${String(attrs.activation)}' is not supported`);
  }
}
