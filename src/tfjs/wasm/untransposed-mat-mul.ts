import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { biasAndActivation, type FusedInputs } from './fused-epilogue.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';

export interface MatMulAttrs {
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
    if (!byParts && swapPays(a, b, attrs))
      return composeKernels(args.backend as KernelBackend, backendName, args.inputs, (k) => {
        const rank = a.shape.length;
        // Cᵀ = B'ᵀ·A'ᵀ: an operand stored transposed is that operand already.
        const bT = attrs.transposeB ? b : k.transpose(b, swapLastTwo(rank));
        const aT = attrs.transposeA ? a : k.transpose(a, swapLastTwo(rank));
        const product = original({
          inputs: { a: bT, b: aT },
          backend: args.backend,
          attrs: { ...args.attrs, transposeA: false, transposeB: false, activation: 'linear' },
        }) as TensorInfo;
        const y = k.transpose(k.adopt(product), swapLastTwo(rank));
        return fused
          ? biasAndActivation(k, y, args.inputs as FusedInputs, args.attrs as NamedAttrMap & MatMulAttrs)
          : y;
      });
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

/**
 * Whether C = A'·B' (A' M×K and B' K×N, after the transposes) costs less as Cᵀ = B'ᵀ·A'ᵀ: XNNPACK
 * repacks the right operand (its "weights") on every call — a layer's weights change every step —
 * which costs several times a copy of it (measured: [64,784]·[784,256] with new weights each call
 * 1.5–1.9 ms, with the same weights 0.9 ms, transposing them 0.2 ms). Counted in floats moved: a
 * transpose 1 each, a repack 4 each; one matrix only (a batch of 1).
 */
function swapPays(a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs): boolean {
  const rank = a.shape.length;
  if (rank !== b.shape.length || rank < 2 || a.shape.slice(0, -2).some((d) => d !== 1)) return false;
  if (b.shape.slice(0, -2).some((d) => d !== 1)) return false;
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [m, k] = attrs.transposeA ? [ca, ra] : [ra, ca];
  const n = attrs.transposeB ? rb : cb;
  const REPACK = 4;
  const asIs = (attrs.transposeA ? m * k : 0) + (attrs.transposeB ? k * n : 0) + REPACK * k * n;
  const swapped = (attrs.transposeB ? 0 : k * n) + (attrs.transposeA ? 0 : m * k) + m * n + REPACK * m * k;
  return swapped < 0.75 * asIs && k * n >= 16_384;
}

/** _FusedMatMul as BatchMatMul (XNNPACK, untransposed), bias added, activation: as tfjs-core's unfused path. */
function fusedByParts(
  k: KernelScope,
  operands: { a: TensorInfo; b: TensorInfo },
  inputs: FusedInputs,
  attrs: NamedAttrMap & MatMulAttrs,
): TensorInfo {
  return biasAndActivation(k, k.run('BatchMatMul', operands, { transposeA: false, transposeB: false }), inputs, attrs);
}
