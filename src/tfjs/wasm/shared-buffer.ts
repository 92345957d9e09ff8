import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/**
 * wasm 4.22 copies the tensor for Identity (`tf.clone`, and every tensor the tape saves for a
 * gradient) and for a Cast to the tensor's own dtype. Tensors are immutable, so the output can
 * share the input's buffer, as the cpu backend does and as wasm's own Reshape does (one reference
 * more; the buffer is freed with its last tensor): ~0.8 ms of the bench CNN's 11 ms step.
 */
export function sharedIdentity(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    return x.dtype === 'string' ? original(args) : share(x, args.backend as KernelBackend);
  };
}

/** A Cast to the tensor's own dtype shares its buffer; every other Cast is wasm's own, `original`. */
export function sharedCast(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { dtype } = args.attrs as { dtype: string };
    return x.dtype === dtype && dtype !== 'string' ? share(x, args.backend as KernelBackend) : original(args);
  };
}

function share(x: TensorInfo, backend: KernelBackend): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}
