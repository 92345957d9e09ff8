import type * as tf from '@tensorflow/tfjs';
import { tfjs } from '../tfjs.js';
import type { DataType, KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's backend that give direct access to its heap. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): tf.TypedArray;
}

/** Explicit [before, after] padding of each axis of an NHWC tensor (batch and channels: [0, 0]). */
export type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Runs a backend's own registered kernels on `TensorInfo`s, as the backends compose kernels
 * internally: no engine `Tensor`s, no tape, no scope. Every output it makes is an intermediate
 * that `composeKernels` frees, except the result handed back to the engine.
 */
export class KernelScope {
  private readonly made: TensorInfo[] = [];

  constructor(
    private readonly backend: KernelBackend,
    private readonly backendName: string,
  ) {}

  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tfjs.getKernel(kernelName, this.backendName);
    if (!kernel) throw new Error(`kernel '${kernelName}' is not registered for backend '${this.backendName}'`);
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs });
    if (Array.isArray(out)) {
      this.made.push(...out);
      throw new Error(`kernel '${kernelName}' returned ${out.length} outputs where one was expected`);
    }
    this.made.push(out);
    return out;
  }

  /** Makes `t`, created outside the scope, one of its intermediates. */
  adopt(t: TensorInfo): TensorInfo {
    this.made.push(t);
    return t;
  }

  /** A new int32 vector of `values`. */
  int32(values: Int32Array): TensorInfo {
    return this.adopt({
      dataId: this.backend.write(values, [values.length], 'int32'),
      shape: [values.length],
      dtype: 'int32',
    });
  }

  /** A new float32 tensor of `values`. */
  float32(values: Float32Array, shape: number[]): TensorInfo {
    return this.adopt({ dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' });
  }

  /** A new tensor of `shape` whose values are not written yet (on wasm, in its heap: written through `float32View`). */
  output(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    return this.adopt(this.heap().makeOutput(shape, dtype));
  }

  /**
   * A float32 tensor's values where the backend keeps them: a view of wasm's heap, valid until the
   * heap grows (take it after making the outputs it is written with).
   */
  float32View(t: TensorInfo): Float32Array {
    if (t.dtype !== 'float32') throw new Error(`a float32 view of a ${t.dtype} tensor`);
    return this.heap().typedArrayFromHeap(t) as Float32Array;
  }

  private heap(): WasmHeap {
    const heap = this.backend as unknown as Partial<WasmHeap>;
    if (!heap.typedArrayFromHeap || !heap.makeOutput)
      throw new Error(`backend '${this.backendName}' keeps no heap of tensor values`);
    return heap as WasmHeap;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * A copy of `x[begin : begin + size]`; the identity when nothing is cut. On wasm, copied here
   * between views of its heap, one contiguous run at a time (the trailing axes taken whole and
   * the last cut one): wasm 4.22's Slice first copies all of x out of the heap (readSync), then
   * copies one run of the innermost axis at a time, ~10× slower for a cut of NHWC rows.
   */
  slice(x: TensorInfo, begin: number[], size: number[]): TensorInfo {
    if (size.every((s, i) => s === x.shape[i])) return x;
    if (size.length !== x.shape.length || size.some((s, i) => begin[i]! < 0 || s < 0 || begin[i]! + s > x.shape[i]!)) {
      throw new Error(
        `slice of [${size.join(', ')}] at [${begin.join(', ')}] is outside a tensor of shape [${x.shape.join(', ')}]`,
      );
    }
    const heap = this.backend as unknown as Partial<WasmHeap>;
    if (
      !heap.typedArrayFromHeap ||
      !heap.makeOutput ||
      x.dtype === 'string' ||
      x.dtype === 'complex64' ||
      size.includes(0)
    ) {
      return this.run('Slice', { x }, { begin, size });
    }
    const out = this.adopt(heap.makeOutput(size, x.dtype));
    // Views after makeOutput: it may grow the heap, which detaches earlier views.
    const [from, to] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
    const strides = tfjs.util.computeStrides(x.shape);
    let cutAxis = size.length - 1;
    while (cutAxis > 0 && size[cutAxis] === x.shape[cutAxis]) cutAxis--;
    const run = size[cutAxis]! * (strides[cutAxis] ?? 1);
    const index = new Array<number>(cutAxis).fill(0);
    const base = begin.reduce((sum, b, i) => sum + b * (strides[i] ?? 1), 0);
    for (let written = 0; written < to.length; written += run) {
      let offset = base;
      for (let i = 0; i < cutAxis; i++) offset += index[i]! * strides[i]!;
      to.set(from.subarray(offset, offset + run), written);
      for (let i = cutAxis - 1; i >= 0 && ++index[i]! === size[i]; i--) index[i] = 0;
    }
    return out;
  }

  sum(x: TensorInfo, axis: number): TensorInfo {
    return this.run('Sum', { x }, { axis: [axis], keepDims: false });
  }

  /** Padding of every axis by [before, after] counts, with zeros unless told. */
  pad(x: TensorInfo, paddings: [number, number][], constantValue = 0): TensorInfo {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue });
  }

  concat(xs: TensorInfo[], axis: number): TensorInfo {
    if (xs.length === 1) return xs[0]!;
    return this.run('Concat', xs as unknown as NamedTensorInfoMap, { axis });
  }

  binary(kernelName: 'Add' | 'Sub' | 'Multiply' | 'Minimum' | 'Equal', a: TensorInfo, b: TensorInfo): TensorInfo {
    return this.run(kernelName, { a, b });
  }

  cast(x: TensorInfo, dtype: 'float32' | 'int32' | 'bool'): TensorInfo {
    return this.run('Cast', { x }, { dtype });
  }

  maxPool(
    x: TensorInfo,
    filterSize: [number, number],
    strides: [number, number],
    pad: ExplicitPadding,
    dimRoundingMode?: string,
  ): TensorInfo {
    return this.run('MaxPool', { x }, { filterSize, strides, pad, ...(dimRoundingMode ? { dimRoundingMode } : {}) });
  }

  reverse(x: TensorInfo, dims: number[]): TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: ExplicitPadding,
  ): TensorInfo {
    return this.run('Conv2D', { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  }

  depthwiseConv2d(
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pad: ExplicitPadding,
  ): TensorInfo {
    return this.run('DepthwiseConv2dNative', { x, filter }, { strides, dilations, pad, dataFormat: 'NHWC' });
  }

  /** Frees intermediates no longer needed, before the scope ends (keeps peak memory down in loops). */
  free(...ts: TensorInfo[]): void {
    for (const t of ts) {
      const i = this.made.indexOf(t);
      if (i < 0) continue;
      this.made.splice(i, 1);
      this.backend.disposeData(t.dataId);
    }
  }

  /** Frees every intermediate but `keep` (an intermediate sharing `keep`'s data only drops its own reference). */
  release(keep?: TensorInfo): void {
    for (const t of this.made) if (t !== keep) this.backend.disposeData(t.dataId);
    this.made.length = 0;
  }
}

/**
 * Runs `body` with a fresh scope and returns its result for the engine to adopt; whatever else
 * the body made is freed, on success and on failure. A result that is one of the kernel's inputs
 * is handed back through Identity so that the engine owns a reference of its own.
 */
export function composeKernels(
  backend: KernelBackend,
  backendName: string,
  inputs: NamedTensorInfoMap,
  body: (k: KernelScope) => TensorInfo,
): TensorInfo {
  const scope = new KernelScope(backend, backendName);
  let result: TensorInfo | undefined;
  try {
    result = body(scope);
    if (Object.values(inputs).includes(result)) result = scope.run('Identity', { x: result });
    return result;
  } finally {
    scope.release(result);
  }
}
