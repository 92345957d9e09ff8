import fs from 'node:fs';
import v8 from 'node:v8';
import { tfjs } from '../tfjs.js';
import type * as TF from '@tensorflow/tfjs';
import type { DataType, KernelBackend, TensorInfo } from '@tensorflow/tfjs';
import type { AdamArgs, Conv2dArgs, ConvFilterGradArgs, WindowArgs } from './kernel-args.js';
import { type NativeKernels, nativeKernels } from './native-kernels.js';

/** The parts of tfjs-backend-wasm's backend these kernels use: its heap, allocation and buffers. */
interface WasmBackend {
  wasm: { asm: { memory: WebAssembly.Memory }; _malloc(bytes: number): number; _free(pointer: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  refCount(dataId: object): number;
}

/** The exports of simd/kernels.ts (documented there); every pointer is a byte offset in the backend's heap. */
interface KernelExports {
  maxPoolGrad(
    x: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    padTop: number,
    padLeft: number,
    scratch: number,
  ): void;
  maxPool(
    x: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    padTop: number,
    padLeft: number,
  ): void;
  addRows(x: number, v: number, out: number, rows: number, cols: number): void;
  sumLeading(x: number, out: number, rows: number, cols: number): void;
  col2im(
    ...args: [
      cols: number,
      dx: number,
      n: number,
      h: number,
      w: number,
      ci: number,
      oh: number,
      ow: number,
      ...window: WindowArgs,
    ]
  ): void;
  convFilterGrad(...args: ConvFilterGradArgs): void;
  adam(...args: AdamArgs): void;
  gemm(
    a: number,
    aRow: number,
    aCol: number,
    b: number,
    c: number,
    m: number,
    k: number,
    n: number,
    bias: number,
    relu: boolean,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  reluGrad(dy: number, y: number, out: number, n: number): void;
  anyNonFinite(x: number, n: number): number;
  flushSubnormals(x: number, n: number): void;
  rmsprop(...args: number[]): void;
  adagrad(...args: number[]): void;
  momentum(...args: number[]): void;
  adadelta(...args: number[]): void;
  adamax(...args: number[]): void;
  conv2d(...args: Conv2dArgs): void;
}

/**
 * The scalars of one step of TF.js's Adam, each rounded to float32 as tfjs-core rounds it (a number
 * made a scalar tensor, or a float32 kernel's output): β1, 1 − β1, β2, 1 − β2, one minus the
 * accumulated β1ᵗ and β2ᵗ, ε, −lr, and the factor of decoupled weight decay (1: none).
 */
export interface AdamScalars {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  epsilon: number;
  rate: number;
  decay: number;
}

/**
 * The optimizers whose step simd/kernels.ts has as one pass (TF.js's operations in order, then the
 * state's subnormals made +0): each takes (p, g, its states…, pOut, statesOut…, n, its scalars…).
 */
export type StateKernel = 'rmsprop' | 'adagrad' | 'momentum' | 'adadelta' | 'adamax';

/** 2-D geometry of a pooling or convolution window over NHWC data, as tfjs resolved it. */
export interface WindowGeometry {
  filter: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** Padding before rows and before columns. */
  padBefore: [number, number];
}

const windowArgs = (g: WindowGeometry): WindowArgs => [...g.filter, ...g.stride, ...g.dilation, ...g.padBefore];

/** The window geometry of a convolution or pooling tfjs resolved (a pooling's dilation is 1). */
export function windowGeometry(info: TF.backend_util.Conv2DInfo): WindowGeometry {
  return {
    filter: [info.filterHeight, info.filterWidth],
    stride: [info.strideHeight, info.strideWidth],
    dilation: [info.dilationHeight, info.dilationWidth],
    padBefore: [info.padInfo.top, info.padInfo.left],
  };
}

// Built by scripts/build-kernels.mjs into dist/; this path reaches it from src/ (tests) and dist/ alike.
const KERNELS_DIR = new URL('../../../dist/tfjs/wasm/simd/', import.meta.url);

/** The two builds of simd/kernels.ts: `relaxed` fuses the matrix products' multiply-adds (relaxed SIMD). */
export type KernelBuild = 'relaxed' | 'simd';
const compiled = new Map<KernelBuild, WebAssembly.Module | null>();

/** The compiled kernels of `build`, or null where this engine does not validate it (no SIMD, or no relaxed SIMD). */
function kernelsModule(build: KernelBuild): WebAssembly.Module | null {
  const known = compiled.get(build);
  if (known !== undefined) return known;
  const file = new URL(build === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm', KERNELS_DIR);
  if (!fs.existsSync(file)) throw new Error(`${file.pathname} is missing: build Mosaic (npm run build)`);
  const bytes = fs.readFileSync(file);
  // Node 20's V8 has relaxed SIMD behind a flag (on by default from V8 11.4); set before validating.
  if (build === 'relaxed' && !WebAssembly.validate(bytes)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  const module = WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  compiled.set(build, module);
  return module;
}

/**
 * The build every process on this engine uses, so that a run's numbers do not depend on which
 * process trains it: relaxed SIMD where it validates, else plain SIMD, else none.
 */
export function kernelBuild(): KernelBuild | null {
  if (kernelsModule('relaxed')) return 'relaxed';
  return kernelsModule('simd') ? 'simd' : null;
}

const bound = new WeakMap<object, SimdKernels | null>();

/**
 * Kernels written for the wasm backend's heap (simd/kernels.ts, WebAssembly SIMD) where no
 * composition of wasm's kernels is fast: they read and write the backend's buffers in place.
 * `of` gives them for a backend, or undefined where its memory cannot be reached (another
 * backend, another build of tfjs-backend-wasm): the callers then compose wasm's own kernels.
 */
export class SimdKernels {
  private constructor(
    private readonly backend: WasmBackend,
    private readonly exports: KernelExports,
    /** The C products and convolutions (native-kernels.ts), the same bits as the relaxed build's: only beside it. */
    private readonly native: NativeKernels | undefined,
  ) {}

  static of(backend: KernelBackend): SimdKernels | undefined {
    const known = bound.get(backend);
    if (known !== undefined) return known ?? undefined;
    const build = kernelBuild();
    const kernels = build ? SimdKernels.built(backend, build) : undefined;
    bound.set(backend, kernels ?? null);
    return kernels;
  }

  /**
   * The kernels of one build for a backend (tests compare the builds), or undefined where it cannot
   * run; the relaxed build's products in C where the native kernels load, unless `native` is false.
   */
  static built(backend: KernelBackend, build: KernelBuild, native = true): SimdKernels | undefined {
    const wasm = backend as unknown as Partial<WasmBackend>;
    const memory = (wasm.wasm as { asm?: { memory?: unknown } } | undefined)?.asm?.memory;
    const reachable =
      memory instanceof WebAssembly.Memory && wasm.dataIdMap !== undefined && wasm.makeOutput !== undefined;
    const module = reachable ? kernelsModule(build) : null;
    if (!module) return undefined;
    const instance = new WebAssembly.Instance(module, { env: { memory: memory as WebAssembly.Memory } });
    const products = native && build === 'relaxed' ? nativeKernels() : undefined;
    return new SimdKernels(wasm as WasmBackend, instance.exports as unknown as KernelExports, products);
  }

  /** MaxPoolGrad of x [N,H,W,C] for dy [N,OH,OW,C]: the first maximum of each window gets its dy, as on cpu. */
  maxPoolGrad(x: TensorInfo, dy: TensorInfo, g: WindowGeometry): TensorInfo {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [, oh, ow] = dy.shape as [number, number, number, number];
    const dx = this.backend.makeOutput(x.shape, 'float32');
    this.withScratch(c * 8, (scratch) =>
      this.exports.maxPoolGrad(
        this.at(x),
        this.at(dy),
        this.at(dx),
        n,
        h,
        w,
        c,
        oh,
        ow,
        ...g.filter,
        ...g.stride,
        ...g.padBefore,
        scratch,
      ),
    );
    return dx;
  }

  /** 2-D max pooling of x [N,H,W,C] into [N,OH,OW,C] (`outShape`), as on cpu: NaN skipped, −∞ for an empty window. */
  maxPool(x: TensorInfo, outShape: number[], g: WindowGeometry): TensorInfo {
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const [, oh, ow] = outShape as [number, number, number, number];
    const out = this.backend.makeOutput(outShape, 'float32');
    this.exports.maxPool(this.at(x), this.at(out), n, h, w, c, oh, ow, ...g.filter, ...g.stride, ...g.padBefore);
    return out;
  }

  /** x + v, v holding one value per element of x's last axis (a bias). */
  addRows(x: TensorInfo, v: TensorInfo): TensorInfo {
    const cols = x.shape[x.shape.length - 1]!;
    const out = this.backend.makeOutput(x.shape, 'float32');
    this.exports.addRows(
      this.at(x),
      this.at(v),
      this.at(out),
      cols === 0 ? 0 : tfjs.util.sizeFromShape(x.shape) / cols,
      cols,
    );
    return out;
  }

  /** The sum of x over its first `leading` axes (float32, summed in float64 in order, as on cpu). */
  sumLeading(x: TensorInfo, leading: number): TensorInfo {
    const outShape = x.shape.slice(leading);
    const cols = tfjs.util.sizeFromShape(outShape);
    const rows = tfjs.util.sizeFromShape(x.shape.slice(0, leading));
    const out = this.backend.makeOutput(outShape, 'float32');
    this.exports.sumLeading(this.at(x), this.at(out), rows, cols);
    return out;
  }

  /** The input gradient [N,H,W,Cin] (`inputShape`) of an NHWC convolution with output [OH, OW] from its columns [N·OH·OW, KH·KW·Cin] = dy · Wᵀ. */
  col2im(
    cols: TensorInfo,
    inputShape: [number, number, number, number],
    [oh, ow]: [number, number],
    g: WindowGeometry,
  ): TensorInfo {
    const [n, h, w, ci] = inputShape;
    const dx = this.backend.makeOutput(inputShape, 'float32');
    this.exports.col2im(this.at(cols), this.at(dx), n, h, w, ci, oh, ow, ...windowArgs(g));
    return dx;
  }

  /** The filter gradient [KH,KW,Cin,Cout] of an NHWC convolution of x by dy (image by image: one pass over its dy per filter tap and pair of input channels). */
  convFilterGrad(x: TensorInfo, dy: TensorInfo, g: WindowGeometry): TensorInfo {
    const [n, h, w, ci] = x.shape as [number, number, number, number];
    const [, oh, ow, co] = dy.shape as [number, number, number, number];
    const dw = this.backend.makeOutput([...g.filter, ci, co], 'float32');
    const args = [this.at(x), this.at(dy), this.at(dw), n, h, w, ci, oh, ow, co, ...windowArgs(g)] as const;
    if (!this.native?.convFilterGrad(this.heap(), ...args)) this.exports.convFilterGrad(...args);
    return dw;
  }

  /**
   * The product a'·b' of float32 matrices over the last two axes, a' = a or aᵀ, b' = b or bᵀ, into
   * a new tensor of `outShape` (the leading axes: one matrix of a or b for all, or the same
   * number of each, paired); plus `bias` (n values, the last axis) and max(·, 0) with `relu`.
   * The C products read both operands in place; the WebAssembly kernel reads a transposed a in
   * place and a transposed b from a transposed copy (it reads b's rows).
   */
  matMul(
    a: TensorInfo,
    b: TensorInfo,
    p: { transposeA: boolean; transposeB: boolean; outShape: number[]; bias?: TensorInfo; relu: boolean },
  ): TensorInfo {
    const [ra, ca] = a.shape.slice(-2) as [number, number];
    const [rb, cb] = b.shape.slice(-2) as [number, number];
    const [m, k] = p.transposeA ? [ca, ra] : [ra, ca];
    const n = p.transposeB ? rb : cb;
    const matrices = tfjs.util.sizeFromShape(p.outShape.slice(0, -2));
    const [aMatrices, bMatrices] = [a, b].map((t) => tfjs.util.sizeFromShape(t.shape.slice(0, -2)));
    const [aRow, aCol] = p.transposeA ? [1, m] : [k, 1];
    const [bRow, bCol] = p.transposeB ? [1, k] : [n, 1];
    const out = this.backend.makeOutput(p.outShape, 'float32');
    const operands = (t: number) => {
      const [pa, pb, pc] = [this.at(a), this.at(b), this.at(out)];
      return {
        aAt: pa + (aMatrices === 1 ? 0 : t) * m * k * 4,
        bAt: pb + (bMatrices === 1 ? 0 : t) * k * n * 4,
        cAt: pc + t * m * n * 4,
        bias: p.bias ? this.at(p.bias) : 0,
      };
    };
    const native = this.native;
    const heap = this.heap();
    if (native && matrices > 0 && m > 0) {
      const { aAt, bAt, cAt, bias } = operands(0);
      if (native.gemm(heap, aAt, aRow, aCol, bAt, bRow, bCol, cAt, m, k, n, bias, p.relu)) {
        for (let t = 1; t < matrices; t++) {
          const o = operands(t);
          native.gemm(heap, o.aAt, aRow, aCol, o.bAt, bRow, bCol, o.cAt, m, k, n, o.bias, p.relu);
        }
        return out;
      }
    }
    const multiply = (bTransposed: number) => {
      for (let t = 0; t < matrices; t++) {
        const o = operands(t);
        let bAt = o.bAt;
        if (p.transposeB) {
          if (t === 0 || bMatrices > 1) this.exports.transpose(bAt, bTransposed, n, k);
          bAt = bTransposed;
        }
        this.exports.gemm(o.aAt, aRow, aCol, bAt, o.cAt, m, k, n, o.bias, p.relu);
      }
    };
    if (p.transposeB) this.withScratch(k * n * 4, multiply);
    else multiply(0);
    return out;
  }

  /** The NHWC convolution of x [N,H,W,Cin] by filter [KH,KW,Cin,Cout] into `outShape` [N,OH,OW,Cout]; plus `bias` (Cout values) and max(·, 0) with `relu`. */
  conv2d(
    x: TensorInfo,
    filter: TensorInfo,
    outShape: number[],
    g: WindowGeometry,
    bias: TensorInfo | undefined,
    relu: boolean,
  ): TensorInfo {
    const [n, h, w, ci] = x.shape as [number, number, number, number];
    const [, oh, ow, co] = outShape as [number, number, number, number];
    const y = this.backend.makeOutput(outShape, 'float32');
    const at = [this.at(x), this.at(filter), bias ? this.at(bias) : 0, this.at(y)] as const;
    const args = [...at, n, h, w, ci, oh, ow, co, ...windowArgs(g), relu] as const;
    if (!this.native?.conv2d(this.heap(), ...args)) this.exports.conv2d(...args);
    return y;
  }

  /** dy · step(y), elementwise (tensors of one shape): a ReLU's gradient from its output y, as tfjs-core computes it. */
  reluGrad(dy: TensorInfo, y: TensorInfo): TensorInfo {
    const out = this.backend.makeOutput(dy.shape, 'float32');
    this.exports.reluGrad(this.at(dy), this.at(y), this.at(out), tfjs.util.sizeFromShape(dy.shape));
    return out;
  }

  /** Whether one of a float32 tensor's values is NaN or ±∞ (a scan at memory speed, no output). */
  anyNonFinite(t: TensorInfo): boolean {
    return this.exports.anyNonFinite(this.at(t), tfjs.util.sizeFromShape(t.shape)) !== 0;
  }

  /**
   * A float32 tensor's subnormal values (and −0) made +0, in place (simd/kernels.ts
   * `flushSubnormals`): the caller guarantees that nothing else shares its buffer (`owns`).
   */
  flushSubnormals(t: TensorInfo): void {
    this.exports.flushSubnormals(this.at(t), tfjs.util.sizeFromShape(t.shape));
  }

  /** Whether `t`'s data is in this backend's heap (a tensor made on another backend may not be yet). */
  inHeap(t: TensorInfo): boolean {
    const data = this.backend.dataIdMap.get(t.dataId);
    return data !== undefined && data.memoryOffset !== null;
  }

  /** Whether `t`'s buffer is its own, shared with no other tensor. */
  owns(t: TensorInfo): boolean {
    return this.backend.refCount(t.dataId) === 1;
  }

  /**
   * `variable.assign(value)` for a float32 scalar variable and a float32 `value`: written over its
   * buffer where that is its own, else a new buffer assigned. An optimizer's counters (Adam's
   * powers of β) take this rather than TF.js's ops: the bookkeeping of one op on a scalar cost a
   * worker ~30 µs, two a step of every model.
   */
  assignScalar(variable: TF.Variable, value: number): void {
    if (variable.size === 1 && variable.dtype === 'float32' && this.owns(variable) && this.inHeap(variable)) {
      new Float32Array(this.heap(), this.at(variable), 1)[0] = value;
      return;
    }
    const next = tfjs.scalar(value, 'float32');
    variable.assign(next);
    next.dispose();
  }

  /**
   * One step of TF.js's Adam on a float32 variable (simd/kernels.ts `adam`, bit for bit tfjs-core's
   * ops on wasm but for subnormal moments, stored as +0), in one pass: its new value, first and
   * second moments, in new buffers as TF.js's own ops give them. With `inPlace`, written over value, m and v instead, which the caller
   * guarantees safe: no other tensor shares their buffers (a clone, a state read for a
   * checkpoint), and no kernel keeps anything made from them (XNNPACK keeps the weights it packed
   * for a tensor until that tensor's buffer is freed: a variable rewritten in place would be
   * multiplied by its old values).
   */
  adam(
    value: TensorInfo,
    gradient: TensorInfo,
    m: TensorInfo,
    v: TensorInfo,
    s: AdamScalars,
    inPlace = false,
  ): [TensorInfo, TensorInfo, TensorInfo] {
    const [pOut, mOut, vOut] = inPlace
      ? [value, m, v]
      : ([0, 1, 2].map(() => this.backend.makeOutput(value.shape, 'float32')) as [TensorInfo, TensorInfo, TensorInfo]);
    const args = [
      ...[value, gradient, m, v, pOut, mOut, vOut].map((t) => this.at(t)),
      tfjs.util.sizeFromShape(value.shape),
      s.beta1,
      s.oneMinusBeta1,
      s.beta2,
      s.oneMinusBeta2,
      s.oneMinusAccBeta1,
      s.oneMinusAccBeta2,
      s.epsilon,
      s.rate,
      s.decay,
    ] as AdamArgs;
    if (!this.native?.adam(this.heap(), ...args)) this.exports.adam(...args);
    return [pOut, mOut, vOut];
  }

  /**
   * One step of an optimizer of `StateKernel` on a float32 variable, bit for bit tfjs-core's ops on
   * wasm followed by flush-state.ts: its new value and states, in new buffers, or with `inPlace`
   * written over value and states (the caller guarantees it safe, as for `adam`). `scalars`: the
   * kernel's, float32 as tfjs-core rounds a number made a scalar tensor.
   */
  stateStep(
    kernel: StateKernel,
    value: TensorInfo,
    gradient: TensorInfo,
    states: TensorInfo[],
    scalars: number[],
    inPlace = false,
  ): TensorInfo[] {
    const outs = inPlace
      ? [value, ...states]
      : [value, ...states].map(() => this.backend.makeOutput(value.shape, 'float32'));
    const pointers = [value, gradient, ...states, ...outs].map((t) => this.at(t));
    this.exports[kernel](...pointers, tfjs.util.sizeFromShape(value.shape), ...scalars);
    return outs;
  }

  /** Runs `use` with `bytes` of the heap for a kernel's own bookkeeping, freed after. */
  private withScratch(bytes: number, use: (pointer: number) => void): void {
    const pointer = this.backend.wasm._malloc(Math.max(bytes, 8));
    try {
      use(pointer);
    } finally {
      this.backend.wasm._free(pointer);
    }
  }

  /** The backend's memory as it is now (a new ArrayBuffer after the heap grows): the native kernels' operand. */
  private heap(): ArrayBuffer {
    return this.backend.wasm.asm.memory.buffer;
  }

  /** The byte offset of a tensor's data in the heap (looked up after every allocation: none moves, the heap may grow). */
  private at(t: TensorInfo): number {
    const data = this.backend.dataIdMap.get(t.dataId);
    if (!data || data.memoryOffset === null) throw new Error('SIMD kernel: a tensor has no buffer in the wasm heap');
    return data.memoryOffset;
  }
}
