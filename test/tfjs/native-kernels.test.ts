// The C matrix products (native/, src/tfjs/wasm/native-kernels.ts) against the relaxed-SIMD
// WebAssembly product they stand in for: the same bits on a grid of shapes, layouts, biases and
// ReLU, NaN and infinities included; they decline what is narrower than a tile and refuse an
// operand outside the heap. Where the CPU has FMA and AVX2 (CI's machines), they must be built.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/tfjs/backends.js';
import { nativeKernels } from '../../src/tfjs/wasm/native-kernels.js';
import { SimdKernels, type WindowGeometry } from '../../src/tfjs/wasm/simd-kernels.js';

/** Deterministic values in [-1, 1) (mulberry32), a few of them NaN or ±∞ when `specials`. */
function values(size: number, seed: number, specials = false): Float32Array {
  let a = seed >>> 0;
  const out = Float32Array.from({ length: size }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
  if (specials && size > 20) [out[3], out[11], out[size - 2]] = [Number.NaN, Number.POSITIVE_INFINITY, -Infinity];
  return out;
}

const cpuFlags = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
const canRun = process.arch === 'x64' && /\bfma\b/.test(cpuFlags) && /\bavx2\b/.test(cpuFlags);

interface Case {
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  bias: boolean;
  relu: boolean;
  specials: boolean;
}

// [m, k, n]: the bench MLP's products, n mod 4 ≠ 0 (the unfused last columns), k over one block of
// 256 steps, k = 0, one row, rows not a multiple of a tile's, and one narrower than a tile (declined).
const SHAPES = [
  [64, 784, 256],
  [784, 64, 256],
  [37, 300, 45],
  [9, 600, 33],
  [5, 0, 40],
  [1, 1, 32],
  [13, 257, 64],
  [3, 7, 10],
];
const CASES: Case[] = [];
for (const [m, k, n] of SHAPES)
  for (const transposeA of [false, true])
    for (const transposeB of [false, true])
      for (const [bias, relu] of [
        [false, false],
        [true, true],
      ] as const)
        CASES.push({
          a: transposeA ? [k!, m!] : [m!, k!],
          b: transposeB ? [n!, k!] : [k!, n!],
          transposeA,
          transposeB,
          bias,
          relu,
          specials: m === 37 || m === 13,
        });
// Batches: paired matrices, and one b for every matrix of a.
CASES.push({
  a: [3, 6, 70],
  b: [3, 70, 40],
  transposeA: false,
  transposeB: false,
  bias: true,
  relu: true,
  specials: false,
});
CASES.push({
  a: [2, 70, 6],
  b: [1, 40, 70],
  transposeA: true,
  transposeB: true,
  bias: false,
  relu: false,
  specials: true,
});

/** matMul of one case by the kernels of the relaxed build, with or without the C products. */
function product(c: Case, native: boolean): Float32Array {
  const kernels = SimdKernels.built(tf.backend(), 'relaxed', native)!;
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const n = c.transposeB ? c.b.at(-2)! : c.b.at(-1)!;
  const m = c.transposeA ? c.a.at(-1)! : c.a.at(-2)!;
  const a = tf.tensor(values(size(c.a), 1, c.specials), c.a);
  const b = tf.tensor(values(size(c.b), 2, c.specials), c.b);
  const bias = c.bias ? tf.tensor(values(n, 3)) : undefined;
  const outShape = [...(c.a.length > c.b.length ? c.a : c.b).slice(0, -2), m, n];
  const info = kernels.matMul(a, b, { ...c, outShape, bias, relu: c.relu });
  const out = tf.engine().makeTensorFromTensorInfo(info);
  const result = out.dataSync() as Float32Array;
  tf.dispose([a, b, out, ...(bias ? [bias] : [])]);
  return result;
}

interface ConvCase {
  x: [number, number, number, number];
  co: number;
  filter: [number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: [number, number];
  bias: boolean;
  relu: boolean;
}

// The bench CNN's second layer (valid), 'same' padding, strides, dilation, an odd batch, output
// channels past one panel of 32 (40), with an unfused tail (35), under 32 (declined), and input
// channels not a multiple of 8 (the filter gradient declines).
const CONVS: ConvCase[] = [
  { x: [4, 13, 13, 16], co: 32, filter: [3, 3], stride: [1, 1], dilation: [1, 1], pad: [0, 0], bias: true, relu: true },
  { x: [3, 9, 11, 8], co: 40, filter: [3, 3], stride: [1, 1], dilation: [1, 1], pad: [1, 1], bias: true, relu: false },
  { x: [2, 10, 9, 16], co: 35, filter: [3, 2], stride: [2, 2], dilation: [1, 1], pad: [1, 0], bias: false, relu: true },
  { x: [2, 11, 12, 8], co: 64, filter: [3, 3], stride: [1, 2], dilation: [2, 1], pad: [2, 1], bias: true, relu: true },
  { x: [1, 7, 7, 32], co: 32, filter: [5, 5], stride: [1, 1], dilation: [1, 1], pad: [4, 4], bias: false, relu: false },
  { x: [2, 8, 8, 3], co: 33, filter: [3, 3], stride: [1, 1], dilation: [1, 1], pad: [1, 1], bias: true, relu: true },
  { x: [2, 8, 8, 8], co: 16, filter: [3, 3], stride: [1, 1], dilation: [1, 1], pad: [1, 1], bias: true, relu: true },
];

/** The forward convolution and filter gradient of one case, by the relaxed build's kernels with or without C. */
function convolutions(c: ConvCase, native: boolean): [Float32Array, Float32Array] {
  const kernels = SimdKernels.built(tf.backend(), 'relaxed', native)!;
  const [n, h, w, ci] = c.x;
  const span = (k: number, d: number) => (k - 1) * d + 1;
  const oh = Math.floor((h + 2 * c.pad[0] - span(c.filter[0], c.dilation[0])) / c.stride[0]) + 1;
  const ow = Math.floor((w + 2 * c.pad[1] - span(c.filter[1], c.dilation[1])) / c.stride[1]) + 1;
  const g: WindowGeometry = { filter: c.filter, stride: c.stride, dilation: c.dilation, padBefore: c.pad };
  const x = tf.tensor(values(n * h * w * ci, 4, true), c.x);
  const f = tf.tensor(values(c.filter[0] * c.filter[1] * ci * c.co, 5), [...c.filter, ci, c.co]);
  const dy = tf.tensor(values(n * oh * ow * c.co, 6), [n, oh, ow, c.co]);
  const bias = c.bias ? tf.tensor(values(c.co, 7)) : undefined;
  const y = tf.engine().makeTensorFromTensorInfo(kernels.conv2d(x, f, [n, oh, ow, c.co], g, bias, c.relu));
  const dw = tf.engine().makeTensorFromTensorInfo(kernels.convFilterGrad(x, dy, g));
  const result: [Float32Array, Float32Array] = [y.dataSync() as Float32Array, dw.dataSync() as Float32Array];
  tf.dispose([x, f, dy, y, dw, ...(bias ? [bias] : [])]);
  return result;
}

const sameBits = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let differ = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
  return differ;
};

// Adam's special cases, in the vectors and in the tails (1,013 = 63 · 16 + 5 = 253 · 4 + 1): moments
// that come out subnormal (stored as +0), moments at the smallest normal (1.4e-38 · 0.9 and · 0.999
// are normal), NaN gradients (NaN moments, kept).
const flushed = (i: number) => i % 11 === 3 || i === 1012 || i === 1009;
const smallestNormal = (i: number) => i % 11 === 5 || i === 1010;
const nanGradient = (i: number) => (i % 13 === 6 || i === 1011) && i % 7 !== 0 && !flushed(i) && !smallestNormal(i);

/** One Adam step of 1,013 values (a tail after the vectors) by the relaxed build's kernels, with or without C: the new value and moments. */
function adamStep(native: boolean, decay: number): Float32Array[] {
  const scalars = {
    beta1: Math.fround(0.9),
    oneMinusBeta1: Math.fround(0.1),
    beta2: Math.fround(0.999),
    oneMinusBeta2: Math.fround(0.001),
    oneMinusAccBeta1: Math.fround(1 - 0.9 ** 3),
    oneMinusAccBeta2: Math.fround(1 - 0.999 ** 3),
    epsilon: Math.fround(1e-7),
    rate: Math.fround(-1e-3),
    decay: Math.fround(decay),
  };
  const n = 1013;
  const kernels = SimdKernels.built(tf.backend(), 'relaxed', native)!;
  const [p0, g0, m0, v0] = [values(n, 11), values(n, 12), values(n, 13), values(n, 14)];
  const gradient = g0.map((x, i) =>
    i % 7 === 0 || flushed(i) || smallestNormal(i) ? 0 : nanGradient(i) ? Number.NaN : x * 10 ** ((i % 9) - 4),
  );
  const moment = (i: number, otherwise: number, tiny: number) =>
    flushed(i) ? (i % 2 ? -tiny : tiny) : smallestNormal(i) ? 1.4e-38 : otherwise;
  const inputs = [
    p0,
    gradient,
    m0.map((x, i) => moment(i, x * 0.01, 1.2e-38)),
    v0.map((x, i) => moment(i, x * x * 1e-4, 1e-39)),
  ];
  const [p, g, m, v] = inputs.map((a) => tf.tensor(a));
  const outs = kernels.adam(p!, g!, m!, v!, scalars).map((t) => tf.engine().makeTensorFromTensorInfo(t));
  const result = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([p!, g!, m!, v!, ...outs]);
  return result;
}

describe.runIf(canRun)('native matrix products', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('are built and load on this CPU (FMA and AVX2)', () => {
    const native = nativeKernels();
    expect(native?.level).toBeGreaterThanOrEqual(1);
    if (/\bavx512f\b/.test(cpuFlags)) expect(native?.level).toBe(2);
  });

  it.each(CASES)(
    'a $a · b $b (transposed $transposeA, $transposeB; bias $bias, relu $relu): the same bits as WebAssembly',
    (c) => {
      const [withNative, without] = [product(c, true), product(c, false)];
      expect(withNative.length).toBe(without.length);
      let differ = 0;
      for (let i = 0; i < without.length; i++) if (!Object.is(withNative[i], without[i])) differ++;
      expect(differ).toBe(0);
      if (c.specials) expect(without.some(Number.isNaN)).toBe(true);
      if (!c.specials && c.a.at(-1)! * c.a.at(-2)! > 0) expect(without.some((x) => x !== 0)).toBe(true);
    },
  );

  it.each(CONVS)(
    'convolution of x $x by $filter to $co channels (stride $stride, dilation $dilation, padding $pad): forward and filter gradient, the same bits as WebAssembly',
    (c) => {
      const [[y, dw], [y0, dw0]] = [convolutions(c, true), convolutions(c, false)];
      expect(sameBits(y, y0)).toBe(0);
      expect(sameBits(dw, dw0)).toBe(0);
      // x holds NaN and infinities: some outputs are NaN, and most are finite (the padding is skipped, not multiplied).
      expect(y0.some(Number.isNaN)).toBe(true);
      expect(y0.filter(Number.isFinite).length).toBeGreaterThan(y0.length / 2);
    },
  );

  it.each([1, 0.9995])("Adam's step of 1,013 values (decay %s): the same bits as WebAssembly", (decay) => {
    const [withNative, without] = [adamStep(true, decay), adamStep(false, decay)];
    for (let i = 0; i < 3; i++) expect(sameBits(withNative[i]!, without[i]!)).toBe(0);
    expect(without[0]!.some((x, i) => x !== values(1013, 11)[i])).toBe(true);
    const [, m, v] = without as [Float32Array, Float32Array, Float32Array];
    const where = (is: (i: number) => boolean) => [...m.keys()].filter(is);
    for (const i of where(flushed)) expect([Object.is(m[i], 0), Object.is(v[i], 0)]).toEqual([true, true]);
    for (const i of where(smallestNormal)) expect(m[i]! * v[i]!).not.toBe(0);
    const nan = where(nanGradient);
    expect(nan.length).toBeGreaterThan(50);
    for (const i of nan) expect([m[i], v[i]]).toEqual([Number.NaN, Number.NaN]);
  });

  it('decline a product narrower than one tile (nothing written), and refuse an operand outside the heap', () => {
    const native = nativeKernels()!;
    const heap = new ArrayBuffer(1 << 16);
    const f = new Float32Array(heap);
    f.set(values(200, 9));
    const c = 8192;
    f.fill(7, c / 4, c / 4 + 64);
    // [2, 3] · [3, 10]: 10 columns, narrower than a tile.
    expect(native.gemm(heap, 0, 3, 1, 64, 10, 1, c, 2, 3, 10, 0, false)).toBe(false);
    expect(Array.from(f.subarray(c / 4, c / 4 + 20))).toEqual(Array(20).fill(7));
    // [2, 3] · [3, 32]: computed; c[0][0] = a[0]·b[:,0] as fused multiply-adds of nearby values.
    expect(native.gemm(heap, 0, 3, 1, 64, 32, 1, c, 2, 3, 32, 0, false)).toBe(true);
    const expected = f[0]! * f[16]! + f[1]! * f[16 + 32]! + f[2]! * f[16 + 64]!;
    expect(f[c / 4]).toBeCloseTo(expected, 5);
    expect(() => native.gemm(heap, 0, 3, 1, 64, 32, 1, (1 << 16) - 64, 2, 3, 32, 0, false)).toThrow(RangeError);
    expect(() => native.gemm(heap, 0, 3, 1, 64, 32, 1, c, 2, 3, 32, (1 << 16) - 8, false)).toThrow(/outside the heap/);
  });

  it('stay unused with MOSAIC_NATIVE=0 (the built module)', () => {
    const script = `import { nativeKernels } from './dist/tfjs/wasm/native-kernels.js'; console.log(nativeKernels() === undefined);`;
    const run = (env: NodeJS.ProcessEnv) =>
      execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, ...env },
      })
        .toString()
        .trim();
    expect(run({ MOSAIC_NATIVE: '0' })).toBe('true');
    expect(run({ MOSAIC_NATIVE: '' })).toBe('false');
  });
});

// The AVX2 kernels (6 × 16 tiles; Adam 8 floats at a time), which a CPU without AVX-512 runs: the
// same grid, with the kernels capped at AVX2 (the convolutions then decline: WebAssembly).
describe.runIf(canRun)('native matrix products with AVX2 only', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    expect(nativeKernels()!.limitLevel(1)).toBe(1);
  });
  afterAll(() => {
    nativeKernels()!.limitLevel(2);
  });

  it.each(CASES)('a $a · b $b (transposed $transposeA, $transposeB; bias $bias, relu $relu): the same bits', (c) => {
    expect(sameBits(product(c, true), product(c, false))).toBe(0);
  });

  it.each([1, 0.9995])("Adam's step (decay %s): the same bits", (decay) => {
    const [withNative, without] = [adamStep(true, decay), adamStep(false, decay)];
    for (let i = 0; i < 3; i++) expect(sameBits(withNative[i]!, without[i]!)).toBe(0);
  });
});
