import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import { SimdKernels } from './simd-kernels.js';
import { finishFused, type FusedInputs, fusedEpilogue } from './fused-epilogue.js';
import { type MatMulAttrs, untransposedMatMul } from './untransposed-mat-mul.js';

/**
 * BatchMatMul and _FusedMatMul on wasm by the SIMD product (simd/kernels.ts `gemm`): it reads
 * either operand as the layer gives it, where XNNPACK's product repacks its right operand on
 * every call and takes neither transposed (a dense layer's weights change every step; both its
 * gradients are products with a transposed operand). The bias and a ReLU are added as each tile
 * is finished, another activation or a bias of another shape after it (fused-epilogue.ts).
 * Batches that broadcast otherwise, other dtypes, or where the SIMD kernels cannot run:
 * `untransposedMatMul`, by wasm's own kernels.
 */
export function matMul(backendName: string, original: KernelFunc, fused: boolean): KernelFunc {
  const fallback = untransposedMatMul(backendName, original, fused);
  return (args) => {
    const backend = args.backend as KernelBackend;
    const kernels = SimdKernels.of(backend);
    const { a, b, bias } = args.inputs as unknown as {
      a: TensorInfo;
      b: TensorInfo;
    } & FusedInputs;
    const attrs = args.attrs as MatMulAttrs;
    const outShape = kernels ? productShape(a, b, attrs) : undefined;
    const operands = bias ? [a, b, bias] : [a, b];
    if (!kernels || !outShape || operands.some((t) => t.dtype !== 'float32' || !kernels.inHeap(t)))
      return fallback(args);
    const n = outShape[outShape.length - 1]!;
    const epilogue = fusedEpilogue(bias, n, fused ? attrs.activation : 'linear');
    const product = kernels.matMul(a, b, {
      transposeA: attrs.transposeA ?? false,
      transposeB: attrs.transposeB ?? false,
      outShape,
      bias: epilogue.bias,
      relu: epilogue.relu,
    });
    if (epilogue.inKernel) return product;
    return finishFused(
      backend,
      backendName,
      args.inputs,
      product,
      epilogue.bias,
      args.attrs as NamedAttrMap & MatMulAttrs,
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
