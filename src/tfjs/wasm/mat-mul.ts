import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import { composeKernels } from './kernel-scope.js';
import { SimdKernels } from './simd-kernels.js';
import { biasAndActivation, type FusedInputs, type MatMulAttrs, untransposedMatMul } from './untransposed-mat-mul.js';

/**
 * BatchMatMul and _FusedMatMul on wasm by the SIMD product (simd/kernels.ts `gemm`): it reads
 * either operand as the layer gives it, where XNNPACK's product repacks its right operand on
 * every call and takes neither transposed (a dense layer's weights change every step; both its
 * gradients are products with a transposed operand). The bias and a ReLU are added as each tile
 * is finished; another activation, a bias of another shape, batches that broadcast otherwise,
 * or where the SIMD kernels cannot run: `untransposedMatMul`, by wasm's own kernels.
 */
export function matMul(backendName: string, original: KernelFunc, fused: boolean): KernelFunc {
  const fallback = untransposedMatMul(backendName, original, fused);
  return (args) => {
    const backend = args.backend as KernelBackend;
    const kernels = SimdKernels.of(backend);
    const { a, b, bias, preluActivationWeights } = args.inputs as unknown as {
      a: TensorInfo;
      b: TensorInfo;
    } & FusedInputs;
    const attrs = args.attrs as MatMulAttrs;
    const outShape = kernels ? productShape(a, b, attrs) : undefined;
    const operands = bias ? [a, b, bias] : [a, b];
    if (!kernels || !outShape || operands.some((t) => t.dtype !== 'float32' || !kernels.inHeap(t)))
      return fallback(args);
    const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
    const n = outShape[outShape.length - 1]!;
    const ownBias = bias && isRowVector(bias, n) ? bias : undefined;
    const finished = (!bias || ownBias !== undefined) && (activation === 'linear' || activation === 'relu');
    const product = kernels.matMul(a, b, {
      transposeA: attrs.transposeA ?? false,
      transposeB: attrs.transposeB ?? false,
      outShape,
      bias: ownBias,
      relu: finished && activation === 'relu',
    });
    if (finished) return product;
    return composeKernels(backend, backendName, args.inputs, (k) =>
      biasAndActivation(
        k,
        k.adopt(product),
        { bias: ownBias ? undefined : bias, preluActivationWeights },
        { ...args.attrs, activation },
      ),
    );
  };
}

/**
 * The product's shape where the SIMD product takes it: both operands of rank ≥ 2 with matching
 * inner axes, their leading axes one matrix or the same matrices on both sides. Undefined otherwise.
 */
function productShape(a: TensorInfo, b: TensorInfo, attrs: MatMulAttrs): number[] | undefined {
  if (a.shape.length < 2 || b.shape.length < 2) return undefined;
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [m, k] = attrs.transposeA ? [ca, ra] : [ra, ca];
  const [kb, n] = attrs.transposeB ? [cb, rb] : [rb, cb];
  if (k !== kb) return undefined;
  const [outerA, outerB] = [a.shape.slice(0, -2), b.shape.slice(0, -2)];
  const [sizeA, sizeB] = [outerA, outerB].map((s) => tfjs.util.sizeFromShape(s));
  const same = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!same && sizeA !== 1 && sizeB !== 1) return undefined;
  return [...tfjs.backend_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
}

/** Whether a bias holds one value per column of the product: shape [n], or [1, …, 1, n]. */
const isRowVector = (bias: TensorInfo, n: number) =>
  bias.shape[bias.shape.length - 1] === n && bias.shape.slice(0, -1).every((d) => d === 1);
