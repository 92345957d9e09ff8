import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';
import { composeKernels, type KernelScope } from './kernel-scope.js';

/** The inputs a fused product or convolution has besides its operands. */
export interface FusedInputs {
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/** The attributes of a fused kernel's activation. */
export interface FusedAttrs {
  activation?: 'linear' | 'relu' | 'prelu' | 'elu' | 'relu6' | 'leakyrelu' | 'sigmoid';
  leakyreluAlpha?: number;
}

/**
 * Where a fused kernel's bias and activation are done: in the SIMD kernel as it finishes each tile
 * (`inKernel`: a bias of one value per output channel, `channels` of them, or none; linear or
 * ReLU), or else after it, by `finishFused`. `bias` is what the kernel adds, `relu` whether it
 * applies the ReLU.
 */
export function fusedEpilogue(
  bias: TensorInfo | undefined,
  channels: number,
  activation: FusedAttrs['activation'],
): { bias?: TensorInfo; relu: boolean; inKernel: boolean } {
  const own =
    bias &&
    bias.shape[bias.shape.length - 1] === channels &&
    bias.shape.every((d, i, s) => i === s.length - 1 || d === 1);
  const inKernel =
    (!bias || own === true) && (activation === undefined || activation === 'linear' || activation === 'relu');
  return { bias: own ? bias : undefined, relu: inKernel && activation === 'relu', inKernel };
}

/** The kernel's output y finished after it: the bias it did not add and the activation, by wasm's kernels. */
export function finishFused(
  backend: KernelBackend,
  backendName: string,
  inputs: NamedTensorInfoMap,
  y: TensorInfo,
  added: TensorInfo | undefined,
  attrs: NamedAttrMap & FusedAttrs,
): TensorInfo {
  const { bias, preluActivationWeights } = inputs as FusedInputs;
  return composeKernels(backend, backendName, inputs, (k) =>
    biasAndActivation(k, k.adopt(y), { bias: added ? undefined : bias, preluActivationWeights }, attrs),
  );
}

/** A product's or convolution's bias added and its activation, each by wasm's own kernels. */
export function biasAndActivation(
  k: KernelScope,
  product: TensorInfo,
  { bias, preluActivationWeights }: FusedInputs,
  attrs: NamedAttrMap & FusedAttrs,
): TensorInfo {
  let y = product;
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
