// The gradient kernels Mosaic registers for the wasm backend (src/engine/wasm/), against the cpu
// backend: (a) each kernel on random inputs over a grid of cases; (b) Layers models of every
// common layer type, whose gradients and first training steps on wasm must match cpu's.
import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../src/tfjs/backends.js';
import { forwardGeometry } from '../../src/tfjs/wasm/conv-geometry.js';
import { filterGradientByConvolution } from '../../src/tfjs/wasm/conv2d-backprop-filter.js';
import { inputGradientByConvolution } from '../../src/tfjs/wasm/conv2d-backprop-input.js';
import { composeKernels } from '../../src/tfjs/wasm/kernel-scope.js';
import { fuseLayerActivations } from '../../src/engine/run/fused-layers.js';
import { kernelBuild, SimdKernels } from '../../src/tfjs/wasm/simd-kernels.js';
import { ownWasmKernel } from '../../src/tfjs/wasm/register.js';
import { untransposedMatMul } from '../../src/tfjs/wasm/untransposed-mat-mul.js';

type Backend = 'cpu' | 'wasm';
type Shape = number[];
interface Values {
  shape: Shape;
  values: Float32Array | Int32Array;
}

/** Deterministic values in [-1, 1) (mulberry32), so that a failure can be replayed. */
function random(shape: Shape, seed: number): Values {
  let a = seed >>> 0;
  const values = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
  return { shape, values };
}

const tensor = (v: Values) => tf.tensor(v.values, v.shape, v.values instanceof Int32Array ? 'int32' : 'float32');

/** Runs `f` on one backend and brings its tensors' values back as plain arrays. */
async function on<T extends tf.Tensor | tf.Tensor[]>(backend: Backend, f: () => T): Promise<Values[]> {
  await useBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
  tf.dispose(list);
  return values;
}

/** Largest |a − b| over all elements (0 for equal infinities, NaN for any NaN), after checking the shapes agree. */
function maxDiff(a: Values, b: Values): number {
  expect(a.shape).toEqual(b.shape);
  let d = 0;
  for (let i = 0; i < a.values.length; i++)
    d = Math.max(d, a.values[i] === b.values[i] ? 0 : Math.abs(a.values[i]! - b.values[i]!));
  return d;
}

const maxAbs = (v: Values) => Array.from(v.values).reduce((m, x) => Math.max(m, Math.abs(x)), 0);

/** Runs a kernel on the active wasm backend and checks it leaves no buffer behind but its output. */
function runWasmKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  const backend = tf.engine().backend as unknown as { numDataIds(): number };
  const before = backend.numDataIds();
  const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  expect(backend.numDataIds(), `${name} leaked intermediate buffers`).toBe(before + 1);
  return out;
}

// ───────────────────────────── (a) the kernels ─────────────────────────────

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  batch: number;
  height: number;
  width: number;
  channels: number;
  filter: [number, number];
  stride: number;
  dilation: number;
  pad: Pad;
}

const explicitPad: Pad = [
  [0, 0],
  [2, 1],
  [0, 3],
  [0, 0],
];
const GRID: ConvCase[] = [];
for (const batch of [1, 3])
  for (const stride of [1, 2])
    for (const dilation of [1, 2])
      for (const pad of ['same', 'valid', explicitPad] as Pad[])
        GRID.push({
          batch,
          height: 9,
          width: 7,
          channels: batch === 1 ? 3 : 2,
          filter: batch === 1 ? [3, 3] : [3, 2],
          stride,
          dilation,
          pad,
        });
// Edge cases of the padding arithmetic: a stride larger than the filter (trailing input unused,
// dy spread past the input), padding larger than the filter's reach, even filters with 'same'.
GRID.push(
  { batch: 2, height: 10, width: 10, channels: 3, filter: [3, 3], stride: 3, dilation: 1, pad: 'same' },
  { batch: 2, height: 5, width: 6, channels: 2, filter: [1, 1], stride: 2, dilation: 1, pad: 'valid' },
  {
    batch: 1,
    height: 6,
    width: 5,
    channels: 2,
    filter: [2, 2],
    stride: 1,
    dilation: 1,
    pad: [
      [0, 0],
      [3, 2],
      [1, 4],
      [0, 0],
    ],
  },
  { batch: 3, height: 8, width: 8, channels: 4, filter: [4, 2], stride: 2, dilation: 1, pad: 'same' },
  // 4 channels or more at stride 1: the input gradient is one SIMD convolution of dy.
  { batch: 2, height: 9, width: 8, channels: 5, filter: [3, 3], stride: 1, dilation: 1, pad: 'valid' },
  { batch: 2, height: 7, width: 9, channels: 6, filter: [3, 2], stride: 1, dilation: 2, pad: 'same' },
);
const label = (c: ConvCase) =>
  `x ${c.batch}×${c.height}×${c.width}×${c.channels}, filter ${c.filter.join('×')}, stride ${c.stride}, dilation ${c.dilation}, pad ${JSON.stringify(c.pad)}`;

/** A dilated filter as the undilated filter of its effective size, zeros between the taps. */
function spreadFilter(f: Values, dilation: number): Values {
  const [kh, kw, c, m] = f.shape as [number, number, number, number];
  const eh = (kh - 1) * dilation + 1;
  const ew = (kw - 1) * dilation + 1;
  const values = new Float32Array(eh * ew * c * m);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < c * m; k++)
        values[(i * dilation * ew + j * dilation) * c * m + k] = f.values[(i * kw + j) * c * m + k]!;
  return { shape: [eh, ew, c, m], values };
}

/**
 * Float32 tolerance for one output element summing `terms` products of values in [-1, 1): two
 * summation orders (XNNPACK's blocked sums, the cpu backend's loops) each round at most once per
 * addition to partial sums of size ~√terms, so they differ by about terms · 2⁻²⁴ typically; 16×
 * that leaves margin, while a wrong index or padding changes results by whole terms (~0.1–1).
 */
const sumTolerance = (terms: number) => 16 * terms * 2 ** -24;

describe('(a) wasm gradient kernels equal the cpu backend on random inputs', () => {
  // The SIMD kernel's paths: 4 output channels (blocks of 4); 21 (a block of 16, of 4, one alone)
  // from one input channel and from three (a pair of input channels, then one); and the
  // composition used where wasm's heap cannot be reached, one XNNPACK convolution.
  it.each(
    GRID.flatMap((c) => [
      { ...c, cout: 4 },
      { ...c, channels: 1, cout: 21 },
      { ...c, channels: 3, cout: 21 },
    ]),
  )(
    'Conv2DBackpropFilter: $batch×$height×$width×$channels → $cout, stride $stride, dilation $dilation, pad $pad',
    async (c) => {
      const cout = c.cout;
      const xv = random([c.batch, c.height, c.width, c.channels], 1);
      const info = tf.backend_util.computeConv2DInfo(
        xv.shape as [number, number, number, number],
        [...c.filter, c.channels, cout],
        c.stride,
        c.dilation,
        c.pad,
      );
      const dyv = random(info.outShape, 2);
      const attrs = {
        strides: c.stride,
        pad: c.pad,
        dataFormat: 'NHWC',
        filterShape: [...c.filter, c.channels, cout],
        dilations: c.dilation,
      };
      const [wasm] = await on('wasm', () =>
        runWasmKernel('Conv2DBackpropFilter', { x: tensor(xv), dy: tensor(dyv) }, attrs),
      );
      const [composed] = await on('wasm', () => {
        const [x, dy] = [tensor(xv), tensor(dyv)];
        const wasmInfo = forwardGeometry(x.shape, attrs.filterShape, {
          strides: c.stride,
          dilations: c.dilation,
          pad: c.pad,
        });
        const out = composeKernels(tf.backend(), 'wasm', { x, dy }, (k) =>
          filterGradientByConvolution(k, x, dy, wasmInfo),
        );
        return tf.engine().makeTensorFromTensorInfo(out);
      });
      // The cpu kernel ignores dilations: it gets the dilated filter's effective size (same output,
      // same padding) and every d-th tap of its gradient is the dilated filter's gradient.
      const [eh, ew] = [info.effectiveFilterHeight, info.effectiveFilterWidth];
      const [cpu] = await on('cpu', () => {
        const full = tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tensor(xv), dy: tensor(dyv) },
            { ...attrs, dilations: 1, filterShape: [eh, ew, c.channels, cout] },
          ) as tf.Tensor4D;
        return tf.stridedSlice(full, [0, 0, 0, 0], [eh, ew, c.channels, cout], [c.dilation, c.dilation, 1, 1]);
      });
      expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
      expect(maxDiff(wasm!, cpu!), label(c)).toBeLessThan(sumTolerance(c.batch * info.outHeight * info.outWidth));
      expect(maxDiff(composed!, cpu!), `composed: ${label(c)}`).toBeLessThan(
        sumTolerance(c.batch * info.outHeight * info.outWidth),
      );
    },
  );

  // The forward convolution (simd/kernels.ts `conv2d`): tiles of 4 pixels × 8 output channels,
  // then 4, then one (13 and 19 channels take all three); the border's pixels skip the taps in the
  // padding. Plain, and fused with a bias and ReLU (in the kernel) or ELU (composed after).
  it.each(
    [
      ...GRID,
      { batch: 2, height: 12, width: 14, channels: 3, filter: [3, 3], stride: 1, dilation: 1, pad: 'same' } as ConvCase,
    ].flatMap((c) => [13, 19].map((cout) => ({ ...c, cout }))),
  )('Conv2D and FusedConv2D (bias, relu / elu) into $cout channels: %o', async (c) => {
    const xv = random([c.batch, c.height, c.width, c.channels], 81);
    const fv = random([...c.filter, c.channels, c.cout], 82);
    const biasv = random([c.cout], 83);
    // The kernels themselves: tfjs-core's ops refuse a stride and a dilation both above 1.
    const convs = () => {
      const [x, filter, bias] = [tensor(xv), tensor(fv), tensor(biasv)];
      const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilation };
      const run = (name: string, inputs: tf.NamedTensorMap, a: object) =>
        tf.engine().runKernel(name, inputs, a as tf.NamedAttrMap) as tf.Tensor;
      return [
        run('Conv2D', { x, filter }, attrs),
        run('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'relu' }),
        run('FusedConv2D', { x, filter, bias }, { ...attrs, activation: 'elu' }),
      ];
    };
    const [wasm, cpu] = [await on('wasm', convs), await on('cpu', convs)];
    for (const i of [0, 1, 2]) {
      expect(maxAbs(cpu[i]!)).toBeGreaterThan(0.1);
      expect(maxDiff(wasm[i]!, cpu[i]!), label(c)).toBeLessThan(sumTolerance(c.filter[0] * c.filter[1] * c.channels));
    }
  });

  it.each(GRID.flatMap((c) => [1, 2].map((multiplier) => ({ ...c, multiplier }))))(
    'DepthwiseConv2dNativeBackpropFilter: $batch×$height×$width, multiplier $multiplier, stride $stride, dilation $dilation, pad $pad',
    async (c) => {
      const xv = random([c.batch, c.height, c.width, c.channels], 3);
      const info = tf.backend_util.computeConv2DInfo(
        xv.shape as [number, number, number, number],
        [...c.filter, c.channels, c.multiplier],
        c.stride,
        c.dilation,
        c.pad,
        undefined,
        true,
      );
      const dyv = random(info.outShape, 4);
      const attrs = {
        strides: c.stride,
        pad: c.pad,
        dilations: c.dilation,
        filterShape: [...c.filter, c.channels, c.multiplier],
      };
      const [wasm] = await on('wasm', () =>
        runWasmKernel('DepthwiseConv2dNativeBackpropFilter', { x: tensor(xv), dy: tensor(dyv) }, attrs),
      );
      const [eh, ew] = [info.effectiveFilterHeight, info.effectiveFilterWidth];
      const [cpu] = await on('cpu', () => {
        const full = tf
          .engine()
          .runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: tensor(xv), dy: tensor(dyv) },
            { ...attrs, dilations: 1, filterShape: [eh, ew, c.channels, c.multiplier] },
          ) as tf.Tensor4D;
        return tf.stridedSlice(full, [0, 0, 0, 0], [eh, ew, c.channels, c.multiplier], [c.dilation, c.dilation, 1, 1]);
      });
      expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
      expect(maxDiff(wasm!, cpu!), label(c)).toBeLessThan(sumTolerance(c.batch * info.outHeight * info.outWidth));
    },
  );

  it.each(GRID.flatMap((c) => [1, 2].map((multiplier) => ({ ...c, multiplier }))))(
    'DepthwiseConv2dNativeBackpropInput: $batch×$height×$width, multiplier $multiplier, stride $stride, dilation $dilation, pad $pad',
    async (c) => {
      const inputShape = [c.batch, c.height, c.width, c.channels] as [number, number, number, number];
      const fv = random([...c.filter, c.channels, c.multiplier], 5);
      const info = tf.backend_util.computeConv2DInfo(
        inputShape,
        fv.shape as [number, number, number, number],
        c.stride,
        c.dilation,
        c.pad,
        undefined,
        true,
      );
      const dyv = random(info.outShape, 6);
      const attrs = { strides: c.stride, pad: c.pad, dilations: c.dilation, inputShape };
      const [wasm] = await on('wasm', () =>
        runWasmKernel('DepthwiseConv2dNativeBackpropInput', { dy: tensor(dyv), filter: tensor(fv) }, attrs),
      );
      // The cpu kernel ignores dilations: it gets the filter spread to its effective size.
      const [cpu] = await on(
        'cpu',
        () =>
          tf
            .engine()
            .runKernel(
              'DepthwiseConv2dNativeBackpropInput',
              { dy: tensor(dyv), filter: tensor(spreadFilter(fv, c.dilation)) },
              { ...attrs, dilations: 1 },
            ) as tf.Tensor,
      );
      expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
      expect(maxDiff(wasm!, cpu!), label(c)).toBeLessThan(sumTolerance(c.filter[0] * c.filter[1] * c.multiplier));
    },
  );

  // Every case of the grid with 4 output channels in both layouts (wasm's own kernel took NCHW
  // too), and channel counts of the bench CNN's second convolution (XNNPACK tiles channels in
  // blocks: these take its full-tile paths).
  const BACKPROP_INPUT = [
    ...GRID.flatMap((c) => (['NHWC', 'NCHW'] as const).map((dataFormat) => ({ ...c, outChannels: 4, dataFormat }))),
    {
      batch: 2,
      height: 13,
      width: 13,
      channels: 16,
      filter: [3, 3] as [number, number],
      stride: 1,
      dilation: 1,
      pad: 'valid' as Pad,
      outChannels: 32,
      dataFormat: 'NHWC' as const,
    },
    {
      batch: 2,
      height: 14,
      width: 13,
      channels: 16,
      filter: [3, 3] as [number, number],
      stride: 2,
      dilation: 1,
      pad: 'same' as Pad,
      outChannels: 32,
      dataFormat: 'NHWC' as const,
    },
  ];
  it.each(BACKPROP_INPUT)(
    'Conv2DBackpropInput: $batch×$height×$width×$channels → $outChannels, $dataFormat, stride $stride, dilation $dilation, pad $pad',
    async (c) => {
      const nhwc = [c.batch, c.height, c.width, c.channels] as [number, number, number, number];
      const toFormat = (s: number[]) =>
        (c.dataFormat === 'NCHW' ? [s[0]!, s[3]!, s[1]!, s[2]!] : s) as [number, number, number, number];
      const inputShape = toFormat(nhwc);
      const fv = random([...c.filter, c.channels, c.outChannels], 13);
      const info = tf.backend_util.computeConv2DInfo(
        nhwc,
        fv.shape as [number, number, number, number],
        c.stride,
        c.dilation,
        c.pad,
      );
      // The values are those of an NHWC dy, laid out as NCHW's shape: any values do.
      const dyv = random(toFormat(info.outShape), 14);
      // Explicit padding lists the axes in the layout's order.
      const pad = Array.isArray(c.pad) && c.dataFormat === 'NCHW' ? [c.pad[0], c.pad[3], c.pad[1], c.pad[2]] : c.pad;
      const attrs = { strides: c.stride, pad, dilations: c.dilation, dataFormat: c.dataFormat, inputShape };
      const [wasm] = await on('wasm', () =>
        runWasmKernel('Conv2DBackpropInput', { dy: tensor(dyv), filter: tensor(fv) }, attrs),
      );
      // The cpu kernel ignores dilations: it gets the filter spread to its effective size.
      const [cpu] = await on(
        'cpu',
        () =>
          tf
            .engine()
            .runKernel(
              'Conv2DBackpropInput',
              { dy: tensor(dyv), filter: tensor(spreadFilter(fv, c.dilation)) },
              { ...attrs, dilations: 1 },
            ) as tf.Tensor,
      );
      expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
      expect(maxDiff(wasm!, cpu!), label(c)).toBeLessThan(sumTolerance(c.filter[0] * c.filter[1] * c.outChannels));
      if (c.dataFormat === 'NHWC') {
        // The composition used where wasm's heap cannot be reached: one XNNPACK convolution.
        const [composed] = await on('wasm', () => {
          const [dy, filter] = [tensor(dyv), tensor(fv)];
          const wasmInfo = forwardGeometry(nhwc, fv.shape, { strides: c.stride, dilations: c.dilation, pad: c.pad });
          return tf
            .engine()
            .makeTensorFromTensorInfo(
              composeKernels(tf.backend(), 'wasm', { dy, filter }, (k) =>
                inputGradientByConvolution(k, dy, filter, wasmInfo),
              ),
            );
        });
        expect(maxDiff(composed!, cpu!), `composed: ${label(c)}`).toBeLessThan(
          sumTolerance(c.filter[0] * c.filter[1] * c.outChannels),
        );
      }
    },
  );

  const segmentCases = [
    { name: 'ids in range, repeated, one segment empty', x: [7, 3, 2], ids: [0, 2, 2, 4, 1, 0, 2], segments: 5 },
    { name: 'ids out of range are dropped', x: [6, 4], ids: [0, -1, 3, 3, 7, 1], segments: 4 },
    { name: 'batch 1, vector rows', x: [1, 5], ids: [2], segments: 3 },
    { name: 'int32 values', x: [5, 2], ids: [1, 1, 0, 2, 1], segments: 3, int: true },
  ];
  it.each(segmentCases)('UnsortedSegmentSum: $name', async (c) => {
    const xv: Values = c.int
      ? { shape: c.x, values: Int32Array.from(random(c.x, 7).values, (v) => Math.round(v * 50)) }
      : random(c.x, 7);
    const ids: Values = { shape: [c.ids.length], values: Int32Array.from(c.ids) };
    const run = () =>
      runWasmKernel('UnsortedSegmentSum', { x: tensor(xv), segmentIds: tensor(ids) }, { numSegments: c.segments });
    const [wasm] = await on('wasm', run);
    const [cpu] = await on('cpu', () => tf.unsortedSegmentSum(tensor(xv), tensor(ids) as tf.Tensor1D, c.segments));
    // At most 3 terms per sum: only rounding of the last bit can differ.
    expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(c.ids.length));
  });

  it('UnsortedSegmentSum: segment ids of any rank that starts the shape of x', async () => {
    const xv = random([2, 3, 4], 8);
    const ids: Values = { shape: [2, 3], values: Int32Array.from([0, 1, 1, 3, 0, 1]) };
    const [wasm] = await on('wasm', () =>
      runWasmKernel('UnsortedSegmentSum', { x: tensor(xv), segmentIds: tensor(ids) }, { numSegments: 4 }),
    );
    const [cpu] = await on('cpu', () =>
      tf.unsortedSegmentSum(tensor(xv).reshape([6, 4]), tensor(ids).reshape([6]) as tf.Tensor1D, 4),
    );
    expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(6));
  });

  // wasm 4.22's own: the input gradient wrong on every shape, the filter gradient at strides > 1.
  const CONV3D = (['same', 'valid'] as const).flatMap((pad) =>
    [
      [1, 1, 1],
      [2, 2, 2],
      [1, 2, 3],
      [3, 1, 2],
    ].flatMap((strides) =>
      [
        [3, 2, 3],
        [1, 1, 1],
        [2, 3, 1],
      ].map((filter) => ({ pad, strides, filter })),
    ),
  );
  it.each(CONV3D)(
    'Conv3DBackpropInputV2 and Conv3DBackpropFilterV2: filter $filter, strides $strides, $pad',
    async ({ pad, strides, filter }) => {
      const xv = random([2, 5, 6, 7, 2], 51);
      const fv = random([...filter, 2, 3], 52);
      const [outShape] = await on('cpu', () =>
        tf.conv3d(tensor(xv) as tf.Tensor5D, tensor(fv) as tf.Tensor5D, strides as [number, number, number], pad),
      );
      const dyv = random(outShape!.shape, 53);
      const kernels = () => [
        runWasmKernel(
          'Conv3DBackpropInputV2',
          { dy: tensor(dyv), filter: tensor(fv) },
          { pad, strides, inputShape: xv.shape },
        ),
        runWasmKernel(
          'Conv3DBackpropFilterV2',
          { x: tensor(xv), dy: tensor(dyv) },
          { pad, strides, filterShape: fv.shape },
        ),
      ];
      const wasm = await on('wasm', kernels);
      const cpu = await on('cpu', () => [
        tf
          .engine()
          .runKernel(
            'Conv3DBackpropInputV2',
            { dy: tensor(dyv), filter: tensor(fv) },
            { pad, strides, inputShape: xv.shape },
          ) as tf.Tensor,
        tf
          .engine()
          .runKernel(
            'Conv3DBackpropFilterV2',
            { x: tensor(xv), dy: tensor(dyv) },
            { pad, strides, filterShape: fv.shape },
          ) as tf.Tensor,
      ]);
      expect(maxDiff(wasm[0]!, cpu[0]!), 'input gradient').toBeLessThan(
        sumTolerance(filter.reduce((p, d) => p * d, 3)),
      );
      expect(maxDiff(wasm[1]!, cpu[1]!), 'filter gradient').toBeLessThan(
        sumTolerance(2 * outShape!.shape.slice(1, 4).reduce((p, d) => p * d, 1)),
      );
    },
  );

  // Values on a coarse grid so that windows hold several equal maxima (the backends' tie rules
  // must agree), and all-negative inputs (wasm 4.22's own max-pool kernels fail on those).
  // And +∞ among ties (y − x would be ∞ − ∞).
  const poolValues = (shape: Shape, seed: number, kind: 'ties' | 'negative' | 'infinite' | 'nan'): Values => {
    const v = random(shape, seed);
    const value = {
      ties: (x: number) => Math.round(x * 2) / 2,
      negative: (x: number) => -Math.abs(x) - 0.01,
      infinite: (x: number) => (x > 0.6 ? Infinity : Math.round(x * 2) / 2),
      nan: (x: number) => (x > 0.3 ? NaN : x < -0.9 ? -Infinity : x),
    }[kind];
    return { shape, values: v.values.map(value) };
  };
  const POOLS = (['same', 'valid'] as const).flatMap((pad) =>
    [
      { filter: [2, 2], stride: 2 },
      { filter: [3, 3], stride: 2 },
      { filter: [3, 2], stride: 1 },
      { filter: [2, 3], stride: 3 },
      { filter: [1, 1], stride: 2 },
    ].flatMap((p) =>
      (['ties', 'negative', 'infinite'] as const).map((values) => ({
        ...p,
        pad,
        values,
        batch: p.stride === 2 ? 3 : 1,
      })),
    ),
  );

  // 7 channels: the SIMD kernels' vectors of 4 and the 3 left one by one. NaN values are skipped
  // (a window of NaN and −∞ only is −∞ and gives its gradient to nobody), as on cpu.
  // And windows that tile the input exactly (8×6 by 2×2, stride 2): every element written once.
  const TILED = (['ties', 'negative', 'infinite', 'nan'] as const).map((values) => ({
    filter: [2, 2],
    stride: 2,
    pad: 'valid' as const,
    values,
    batch: 2,
    size: [8, 6],
  }));
  // Windows that do not overlap, 8 channels (vectors of 4 only); 9×7 leaves a row and a column
  // (2×2) or a column (3×3) outside every window: their gradient is 0.
  const DISJOINT = (['ties', 'negative', 'infinite', 'nan'] as const).flatMap((values) =>
    [
      { filter: [2, 2], stride: 2, size: [8, 6] },
      { filter: [2, 2], stride: 2, size: [9, 7] },
      { filter: [3, 3], stride: 3, size: [9, 7] },
    ].map((p) => ({ ...p, pad: 'valid' as const, values, batch: 2, channels: 8 })),
  );
  // 16 and 32 channels: the SIMD kernels' blocks of 16 channels, maxima and positions in registers.
  const WIDE = [...POOLS, ...POOLS.filter((c) => c.values === 'ties').map((c) => ({ ...c, values: 'nan' as const }))]
    .flatMap((c) => [16, 32].map((channels) => ({ ...c, channels })))
    .filter((c) => c.channels === 16 || c.values === 'nan' || c.values === 'ties');
  const POOLS_2D = [
    ...POOLS,
    ...POOLS.filter((c) => c.values === 'ties').map((c) => ({ ...c, values: 'nan' as const })),
    ...TILED,
    ...DISJOINT,
    ...WIDE,
  ];
  it.each(POOLS_2D)(
    'MaxPool and MaxPoolGrad: filter $filter, stride $stride, $pad, $values values, batch $batch, size $size, channels $channels',
    async (c) => {
      const xv = poolValues(
        [c.batch, ...('size' in c ? (c.size as number[]) : [9, 7]), 'channels' in c ? (c.channels as number) : 7],
        9,
        c.values,
      );
      const attrs = { filterSize: c.filter, strides: c.stride, pad: c.pad };
      const info = tf.backend_util.computePool2DInfo(
        xv.shape as [number, number, number, number],
        c.filter as [number, number],
        c.stride,
        1,
        c.pad,
      );
      const dyv = random(info.outShape, 10);
      const gradient = (backend: Backend) =>
        on(backend, () => {
          const x = tensor(xv);
          const y = tf.maxPool(x as tf.Tensor4D, c.filter as [number, number], c.stride, c.pad);
          return [
            y,
            backend === 'wasm'
              ? runWasmKernel('MaxPoolGrad', { dy: tensor(dyv), input: x, output: y }, attrs)
              : (tf.engine().runKernel('MaxPoolGrad', { dy: tensor(dyv), input: x, output: y }, attrs) as tf.Tensor),
          ];
        });
      const [[yWasm, wasm], [yCpu, cpu]] = [await gradient('wasm'), await gradient('cpu')];
      expect(maxDiff(yWasm!, yCpu!)).toBe(0);
      // Each input element sums dy over the windows that chose it: a few terms, exact up to rounding.
      expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(9));
    },
  );

  it.each(POOLS.filter((c) => c.filter[0] === c.filter[1]))(
    'MaxPool3D and MaxPool3DGrad: filter $filter, stride $stride, $pad, $values values, batch $batch',
    async (c) => {
      const filter = [c.filter[0]!, ...c.filter] as [number, number, number];
      const xv = poolValues([c.batch, 5, 6, 4, 2], 11, c.values);
      const attrs = { filterSize: filter, strides: c.stride, pad: c.pad, dataFormat: 'NDHWC' };
      const info = tf.backend_util.computePool3DInfo(
        xv.shape as [number, number, number, number, number],
        filter,
        c.stride,
        1,
        c.pad,
      );
      const dyv = random(info.outShape, 12);
      const pooled = (backend: Backend) =>
        on(backend, () => {
          const x = tensor(xv);
          const run = (name: string, inputs: tf.NamedTensorMap, a: object) =>
            backend === 'wasm'
              ? runWasmKernel(name, inputs, a)
              : (tf.engine().runKernel(name, inputs, a as tf.NamedAttrMap) as tf.Tensor);
          const y = run('MaxPool3D', { x }, attrs);
          return [
            y,
            run(
              'MaxPool3DGrad',
              { dy: tensor(dyv), input: x, output: y },
              { filterSize: filter, strides: c.stride, pad: c.pad },
            ),
          ];
        });
      const [[yWasm, wasm], [yCpu, cpu]] = [await pooled('wasm'), await pooled('cpu')];
      expect(maxDiff(yWasm!, yCpu!)).toBe(0);
      expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(27));
    },
  );

  // Shapes as given to the kernel (already transposed where the flag says so); batch axes that
  // broadcast (the last row: wasm's own kernels). The SIMD product (simd/kernels.ts `gemm`) works in
  // tiles of 4 rows × 8 columns over 256 steps of K at a time: 5 or 9 rows and 21 or 33 columns take
  // its partial tiles (4 columns, then single ones), K = 600 three passes. wasm's own _FusedMatMul
  // was wrong for a batch of matrices (rows 5 and 6).
  const MAT_MUL = [
    { a: [5, 70], b: [70, 33], transposeA: false, transposeB: false },
    { a: [70, 5], b: [70, 33], transposeA: true, transposeB: false },
    { a: [5, 70], b: [33, 70], transposeA: false, transposeB: true },
    { a: [70, 5], b: [33, 70], transposeA: true, transposeB: true },
    { a: [3, 70, 5], b: [1, 33, 70], transposeA: true, transposeB: true },
    { a: [3, 5, 70], b: [3, 70, 33], transposeA: false, transposeB: false },
    { a: [2, 1, 4, 6], b: [3, 4, 7], transposeA: true, transposeB: false },
    { a: [9, 600], b: [600, 21], transposeA: false, transposeB: false },
    { a: [600, 9], b: [21, 600], transposeA: true, transposeB: true },
    { a: [2, 9, 13], b: [1, 21, 13], transposeA: false, transposeB: true },
    { a: [3, 5, 13], b: [3, 21, 13], transposeA: false, transposeB: true },
    { a: [6, 200], b: [200, 100], transposeA: false, transposeB: false },
    { a: [200, 6], b: [100, 200], transposeA: true, transposeB: true },
  ];
  it.each(MAT_MUL)(
    'BatchMatMul and _FusedMatMul (bias, relu; rank 3): a [$a] transposeA $transposeA, b [$b] transposeB $transposeB',
    async (c) => {
      const [av, bv] = [random(c.a, 21), random(c.b, 22)];
      const outer = c.transposeB ? c.b.at(-2)! : c.b.at(-1)!;
      const biasv = random([outer], 23);
      const attrs = { transposeA: c.transposeA, transposeB: c.transposeB };
      const products = (wasm: boolean) => () => {
        const [a, b] = [tensor(av), tensor(bv)];
        const run = wasm
          ? runWasmKernel
          : (name: string, inputs: tf.NamedTensorMap, at: object) =>
              tf.engine().runKernel(name, inputs, at as tf.NamedAttrMap) as tf.Tensor;
        const product = run('BatchMatMul', { a, b }, attrs);
        if (c.a.length === 4) return [product];
        // tfjs-core hands _FusedMatMul rank-3 operands.
        const [a3, b3] = [a.reshape([1, ...c.a].slice(-3)), b.reshape([1, ...c.b].slice(-3))];
        return [product, run('_FusedMatMul', { a: a3, b: b3, bias: tensor(biasv) }, { ...attrs, activation: 'relu' })];
      };
      const wasm = await on('wasm', products(true));
      const cpu = await on('cpu', products(false));
      // Where the SIMD kernels cannot run: wasm's own product, untransposed (untransposed-mat-mul.ts).
      const [fallback] = await on('wasm', () => {
        const inputs = { a: tensor(av), b: tensor(bv) };
        const own = untransposedMatMul('wasm', ownWasmKernel('BatchMatMul')!, false);
        const info = own({ inputs, backend: tf.backend(), attrs }) as tf.TensorInfo;
        return tf.engine().makeTensorFromTensorInfo(info);
      });
      expect(wasm).toHaveLength(c.a.length === 4 ? 1 : 2);
      for (const [i, result] of [...wasm, ...(c.a.length === 4 ? [] : [fallback!])].entries()) {
        expect(maxAbs(cpu[i % 2]!)).toBeGreaterThan(0.1);
        expect(maxDiff(result, cpu[i % 2]!)).toBeLessThan(sumTolerance(c.transposeA ? c.a.at(-2)! : c.a.at(-1)!));
      }
    },
  );

  it('the SIMD product of each build equals cpu; the relaxed build, fused where the CPU has FMA, is the one used', async () => {
    const [av, bv, biasv] = [random([37, 300], 51), random([300, 45], 52), random([45], 53)];
    const [cpu] = await on('cpu', () => tf.relu(tf.add(tf.matMul(tensor(av), tensor(bv)), tensor(biasv))));
    await useBackend('wasm');
    const backend = tf.backend();
    expect(kernelBuild()).toBe('relaxed');
    const results: Values[] = [];
    for (const build of ['relaxed', 'simd'] as const) {
      const kernels = SimdKernels.built(backend, build)!;
      const [a, b, bias] = [tensor(av), tensor(bv), tensor(biasv)];
      const info = kernels.matMul(a, b, { transposeA: false, transposeB: false, outShape: [37, 45], bias, relu: true });
      const out = tf.engine().makeTensorFromTensorInfo(info);
      results.push({ shape: out.shape, values: out.dataSync() as Float32Array });
      tf.dispose([a, b, bias, out]);
      expect(maxDiff(results.at(-1)!, cpu!)).toBeLessThan(sumTolerance(300));
    }
    const fma = /\bfma\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (fma) expect(maxDiff(results[0]!, results[1]!)).toBeGreaterThan(0);
  });

  it("the SIMD product's last n mod 4 columns are each a chain of products then sums in order, bit for bit, in each build (and every column in the build without relaxed SIMD)", async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    // The chain one element of c takes where the kernel does not fuse: products rounded, then summed in order.
    const chain = (
      a: Values,
      b: Values,
      bias: Values | undefined,
      relu: boolean,
      m: number,
      k: number,
      n: number,
      transposeA: boolean,
    ) => {
      const c = new Float32Array(m * n);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++)
            s = Math.fround(s + Math.fround(a.values[transposeA ? p * m + i : i * k + p]! * b.values[p * n + j]!));
          if (bias) s = Math.fround(s + bias.values[j]!);
          c[i * n + j] = relu ? Math.max(s, 0) : s;
        }
      return c;
    };
    const same = (x: number, y: number) => Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y));
    let seed = 300;
    // Rows a multiple of the 4-row tile and not; columns with 1, 2 or 3 past the last 4-column tile; k over one block of 256.
    for (const [m, k, n] of [
      [4, 70, 10],
      [9, 70, 3],
      [64, 256, 10],
      [8, 600, 7],
      [5, 33, 1],
      [12, 300, 6],
      [8, 20, 13],
    ] as const)
      for (const transposeA of [false, true])
        for (const [withBias, relu] of [
          [false, false],
          [true, true],
        ] as const) {
          const av = random(transposeA ? [k, m] : [m, k], seed++);
          const bv = random([k, n], seed++);
          // Non-finite values pass through the chain as they do through the kernel's.
          av.values[3] = Number.NaN;
          av.values[av.values.length - 2] = Number.POSITIVE_INFINITY;
          const biasv = withBias ? random([n], seed++) : undefined;
          const expected = chain(av, bv, biasv, relu, m, k, n, transposeA);
          for (const build of ['relaxed', 'simd'] as const) {
            const kernels = SimdKernels.built(backend, build, false)!;
            const [a, b] = [tensor(av), tensor(bv)];
            const bias = biasv ? tensor(biasv) : undefined;
            const info = kernels.matMul(a, b, {
              transposeA,
              transposeB: false,
              outShape: [m, n],
              ...(bias ? { bias } : {}),
              relu,
            });
            const out = tf.engine().makeTensorFromTensorInfo(info);
            const got = out.dataSync() as Float32Array;
            tf.dispose([a, b, out, ...(bias ? [bias] : [])]);
            const from = build === 'simd' ? 0 : n - (n % 4);
            for (let i = 0; i < m; i++)
              for (let j = from; j < n; j++)
                expect(
                  same(got[i * n + j]!, expected[i * n + j]!),
                  `${build} [${m}, ${k}, ${n}] transposeA ${transposeA} at (${i}, ${j}): ${got[i * n + j]} ≠ ${expected[i * n + j]}`,
                ).toBe(true);
          }
        }
  });

  it('anyNonFinite finds a NaN or an infinity anywhere (vectors and tail), and nothing among finite extremes, in each build', async () => {
    await useBackend('wasm');
    const backend = tf.backend();
    const finite = [0, -0, 1e-45, -1.2e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1, -7.5];
    for (const build of ['relaxed', 'simd'] as const) {
      const kernels = SimdKernels.built(backend, build)!;
      const scan = (values: number[]) => {
        const t = tf.tensor(values, [values.length], 'float32');
        const found = kernels.anyNonFinite(t);
        t.dispose();
        return found;
      };
      for (const n of [1, 3, 4, 5, 8, 11, 1029]) {
        const values = Array.from({ length: n }, (_, i) => finite[i % finite.length]!);
        expect(scan(values)).toBe(false);
        for (const at of new Set([0, n >> 1, n - 1, (n & ~3) - 1, n & ~3].filter((i) => i >= 0 && i < n)))
          for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
            const withBad = [...values];
            withBad[at] = bad;
            expect(scan(withBad), `${build}: ${bad} at ${at} of ${n}`).toBe(true);
          }
      }
    }
  });

  it('the SIMD product keeps NaN and infinities where cpu has them, through the bias and ReLU', async () => {
    const av = random([6, 9], 61);
    const bv = random([9, 11], 62);
    av.values[2 * 9 + 4] = Number.NaN;
    bv.values[3 * 11 + 7] = Number.POSITIVE_INFINITY;
    const fused = () =>
      tf.fused.matMul({ a: tensor(av), b: tensor(bv), bias: tensor(random([11], 63)), activation: 'relu' });
    const [[wasm], [cpu]] = [await on('wasm', fused), await on('cpu', fused)];
    const nanAt = (v: Values) => Array.from(v.values, (x, i) => (Number.isNaN(x) ? i : -1)).filter((i) => i >= 0);
    expect(nanAt(wasm!)).toEqual(nanAt(cpu!));
    expect(nanAt(wasm!).length).toBeGreaterThan(10);
    expect(Array.from(wasm!.values).filter((x) => x === Number.POSITIVE_INFINITY).length).toBe(
      Array.from(cpu!.values).filter((x) => x === Number.POSITIVE_INFINITY).length,
    );
  });

  // Activations other than ReLU and biases that are not one row take the product, then wasm's kernels.
  const FUSED = [
    { activation: 'elu', bias: [7] },
    { activation: 'relu', bias: [5, 7] },
    { activation: 'linear', bias: [1, 7] },
    { activation: 'prelu', bias: [7] },
    { activation: 'sigmoid', bias: undefined },
  ] as const;
  it.each(FUSED)('_FusedMatMul with activation $activation and a bias of shape $bias', async (c) => {
    const [av, bv, alphav] = [random([5, 12], 71), random([12, 7], 72), random([7], 74)];
    const biasv = c.bias ? random([...c.bias], 73) : undefined;
    const fused = () =>
      tf.fused.matMul({
        a: tensor(av),
        b: tensor(bv),
        bias: biasv && tensor(biasv),
        activation: c.activation,
        preluActivationWeights: c.activation === 'prelu' ? tensor(alphav) : undefined,
      });
    const [[wasm], [cpu]] = [await on('wasm', fused), await on('cpu', fused)];
    expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
    expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(12));
  });

  // The gradient of a fused ReLU in one pass (relu-grad.ts): the same bits as tfjs-core's Step then
  // Multiply on cpu, NaN, infinities, ±0 and y ≤ 0 included; the last 1–3 elements take the scalar tail
  // (shape [3]: NaN among them).
  it.each([[7, 5, 3], [2, 9], [3]])('ReluGrad of shape %o equals dy · step(y) on cpu', async (...shape) => {
    const specials = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e-30, 1e-30];
    const withSpecials = (v: Values, seed: number): Values => ({
      shape: v.shape,
      values: v.values.map((x, i) => ((i * 7 + seed) % 11 < specials.length ? specials[(i * 7 + seed) % 11]! : x)),
    });
    const [dyv, yv] = [withSpecials(random(shape, 91), 1), withSpecials(random(shape, 92), 4)];
    const [wasm] = await on('wasm', () => runWasmKernel('ReluGrad', { dy: tensor(dyv), y: tensor(yv) }, {}));
    const [cpu] = await on('cpu', () => tf.mul(tensor(dyv), tf.step(tensor(yv))));
    expect(Array.from(wasm!.values, (x) => (Object.is(x, -0) ? '-0' : String(x)))).toEqual(
      Array.from(cpu!.values, (x) => (Object.is(x, -0) ? '-0' : String(x))),
    );
  });

  // A bias over the last axis takes the SIMD kernel (either operand, [C] or [1,…,1,C]; 7 columns:
  // its vector and scalar paths); other broadcasts and int32 are wasm's own Add. Same bits as cpu.
  const ADDS = [
    { a: [6, 5, 7], b: [7] },
    { a: [7], b: [6, 5, 7] },
    { a: [2, 3, 8], b: [1, 1, 8] },
    { a: [3, 4], b: [1, 4] },
    { a: [4, 5, 6], b: [5, 1] },
    { a: [4, 6], b: [4, 6] },
    { a: [1, 1, 7], b: [7] },
    { a: [9, 5], b: [5], int: true },
  ];
  it.each(ADDS)('Add of [$a] and [$b]', async (c) => {
    const values = (shape: Shape, seed: number): Values =>
      c.int
        ? { shape, values: Int32Array.from(random(shape, seed).values, (v) => Math.round(v * 50)) }
        : random(shape, seed);
    const [av, bv] = [values(c.a, 41), values(c.b, 42)];
    const [wasm] = await on('wasm', () => runWasmKernel('Add', { a: tensor(av), b: tensor(bv) }, {}));
    const [cpu] = await on('cpu', () => tf.add(tensor(av), tensor(bv)));
    expect(wasm!.shape).toEqual(cpu!.shape);
    expect(maxDiff(wasm!, cpu!)).toBe(0);
  });

  // Leading axes (bias gradients) take the SIMD kernel: float64 sums in order, as cpu's, so equal
  // to the last bit; 7 columns take its vector and scalar paths. Others are wasm's own Sum.
  const SUMS = [
    { shape: [6, 5, 4, 7], axis: [0, 1, 2], keepDims: false },
    { shape: [6, 5, 8], axis: [1, 0], keepDims: true },
    { shape: [300, 3], axis: 0, keepDims: false },
    { shape: [4, 5, 6], axis: [-3, -2], keepDims: false },
    { shape: [4, 5, 6], axis: [1], keepDims: false, own: true },
    { shape: [4, 5, 6], axis: [0, 1, 2], keepDims: false, own: true },
    { shape: [9, 5], axis: [0], keepDims: false, int: true, own: true },
  ];
  it.each(SUMS)('Sum of [$shape] over $axis, keepDims $keepDims', async (c) => {
    const xv: Values = c.int
      ? { shape: c.shape, values: Int32Array.from(random(c.shape, 31).values, (v) => Math.round(v * 50)) }
      : random(c.shape, 31);
    const sum = () => tf.sum(tensor(xv), c.axis, c.keepDims);
    const [wasm] = await on('wasm', sum);
    const [cpu] = await on('cpu', sum);
    expect(maxAbs(cpu!)).toBeGreaterThan(0.1);
    if (c.own) expect(maxDiff(wasm!, cpu!)).toBeLessThan(sumTolerance(xv.values.length));
    else expect(maxDiff(wasm!, cpu!)).toBe(0);
  });

  it('refuses what it does not support with an error naming the kernel and the argument', async () => {
    await useBackend('wasm');
    tf.tidy(() => refusals());
  });
});

function refusals(): void {
  const x = tf.zeros([1, 2, 5, 5]);
  const dy = tf.zeros([1, 2, 3, 3]);
  expect(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x, dy },
        { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] },
      ),
  ).toThrow(/Conv2DBackpropFilter \(wasm\): dataFormat 'NCHW' is not supported/);
  expect(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropFilter',
        { x: tf.zeros([1, 5, 5, 2]), dy: tf.zeros([1, 2, 2, 2]) },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 2] },
      ),
  ).toThrow(/Conv2DBackpropFilter \(wasm\): dy has shape \[1, 2, 2, 2\], expected \[1, 3, 3, 2\]/);
  const filter = tf.zeros([3, 3, 2, 4]);
  expect(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropInput',
        { dy: tf.zeros([1, 2, 2, 4]), filter },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 5, 5, 2] },
      ),
  ).toThrow(/Conv2DBackpropInput \(wasm\): dy has shape \[1, 2, 2, 4\], expected \[1, 3, 3, 4\]/);
  expect(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropInput',
        { dy: tf.zeros([1, 3, 3, 4]), filter },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 5, 5, 3] },
      ),
  ).toThrow(
    /Conv2DBackpropInput \(wasm\): filter of shape \[3, 3, 2, 4\] has 2 input channels, inputShape \[1, 5, 5, 3\] has 3/,
  );
  expect(() =>
    tf
      .engine()
      .runKernel(
        'Conv2DBackpropInput',
        { dy: tf.zeros([1, 3, 3, 4]), filter },
        { strides: 1, pad: 'valid', dataFormat: 'HWNC', inputShape: [1, 5, 5, 2] },
      ),
  ).toThrow(/Conv2DBackpropInput \(wasm\): dataFormat 'HWNC' is not supported, only 'NHWC' and 'NCHW'/);
  expect(() =>
    tf
      .engine()
      .runKernel(
        'UnsortedSegmentSum',
        { x: tf.zeros([4, 2]), segmentIds: tf.tensor1d([0, 1, 0], 'int32') },
        { numSegments: 2 },
      ),
  ).toThrow(/UnsortedSegmentSum \(wasm\): segmentIds of shape \[3\] must start the shape of x \[4, 2\]/);
}

// ───────────────────────────── (b) Layers models ─────────────────────────────

type Loss = (y: tf.Tensor, prediction: tf.Tensor) => tf.Tensor;
interface ModelCase {
  name: string;
  build: () => tf.LayersModel;
  /** Input shape without the batch; `vocabulary` makes integer inputs below it. */
  input: Shape;
  vocabulary?: number;
  loss?: Loss;
  /** Targets: one-hot classes of the output's width, else random values of the output's shape. */
  target?: 'one-hot' | 'binary';
}

const L = tf.layers;
const BATCH = 3;
const mse: Loss = (y, p) => tf.losses.meanSquaredError(y, p);
const seq = (...layers: tf.layers.Layer[]) => tf.sequential({ layers });
const act = (activation: string) => (): tf.LayersModel =>
  seq(L.dense({ inputShape: [6], units: 5, activation: activation as 'relu' }), L.dense({ units: 3 }));

/** Every layer type Mosaic users build; each behind or in front of weights so that its gradient matters. */
const MODELS: ModelCase[] = [
  {
    name: 'dense',
    input: [6],
    build: () => seq(L.dense({ inputShape: [6], units: 4 }), L.dense({ units: 2, useBias: false })),
  },
  ...(['same', 'valid'] as const).flatMap((padding) =>
    [1, 2].map((strides) => ({
      name: `conv1d kernel 3, strides ${strides}, ${padding}`,
      input: [11, 3],
      build: () =>
        seq(
          L.conv1d({ inputShape: [11, 3], filters: 4, kernelSize: 3, strides, padding, activation: 'relu' }),
          L.flatten(),
          L.dense({ units: 2 }),
        ),
    })),
  ),
  ...(['same', 'valid'] as const).flatMap((padding) =>
    [1, 2].map((strides) => ({
      name: `conv2d kernel 3×2, strides ${strides}, ${padding}`,
      input: [9, 7, 2],
      build: () =>
        seq(
          L.conv2d({ inputShape: [9, 7, 2], filters: 4, kernelSize: [3, 2], strides, padding, activation: 'relu' }),
          L.flatten(),
          L.dense({ units: 2 }),
        ),
    })),
  ),
  ...(['same', 'valid'] as const).map((padding) => ({
    name: `conv2d on one channel (filter gradient as a matrix product), strides 2, ${padding}`,
    input: [9, 8, 1],
    build: () =>
      seq(
        L.conv2d({ inputShape: [9, 8, 1], filters: 12, kernelSize: 3, strides: 2, padding, activation: 'relu' }),
        L.flatten(),
        L.dense({ units: 2 }),
      ),
  })),
  {
    name: 'conv2d stack (the bench CNN, smaller)',
    input: [12, 12, 1],
    target: 'one-hot',
    loss: (y, p) => tf.metrics.categoricalCrossentropy(y, p).mean(),
    build: () =>
      seq(
        L.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.flatten(),
        L.dense({ units: 3, activation: 'softmax' }),
      ),
  },
  {
    name: 'conv2dTranspose strides 2, same',
    input: [5, 5, 2],
    build: () =>
      seq(
        L.conv2dTranspose({ inputShape: [5, 5, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
        L.flatten(),
        L.dense({ units: 2 }),
      ),
  },
  {
    name: 'conv3d strides 2 behind a conv3d',
    input: [7, 6, 5, 2],
    build: () =>
      seq(
        L.conv3d({ inputShape: [7, 6, 5, 2], filters: 3, kernelSize: 2, activation: 'relu' }),
        L.conv3d({ filters: 2, kernelSize: [3, 2, 2], strides: 2, padding: 'same' }),
        L.flatten(),
        L.dense({ units: 2 }),
      ),
  },
  {
    name: 'conv3d + maxPooling3d + averagePooling3d',
    input: [6, 6, 6, 2],
    build: () =>
      seq(
        L.conv3d({ inputShape: [6, 6, 6, 2], filters: 3, kernelSize: 3, padding: 'same' }),
        L.maxPooling3d({ poolSize: 2 }),
        L.averagePooling3d({ poolSize: 3 }),
        L.flatten(),
        L.dense({ units: 2 }),
      ),
  },
  ...(['same', 'valid'] as const).flatMap((padding) =>
    [1, 2].flatMap((strides) =>
      [1, 2].map((depthMultiplier) => ({
        name: `depthwiseConv2d multiplier ${depthMultiplier}, strides ${strides}, ${padding}`,
        input: [9, 7, 3],
        build: () =>
          seq(
            L.depthwiseConv2d({
              inputShape: [9, 7, 3],
              kernelSize: 3,
              depthMultiplier,
              strides,
              padding,
              activation: 'relu',
            }),
            L.flatten(),
            L.dense({ units: 2 }),
          ),
      })),
    ),
  ),
  ...(['same', 'valid'] as const).flatMap((padding) =>
    [1, 2].map((strides) => ({
      name: `separableConv2d strides ${strides}, ${padding}`,
      input: [8, 9, 3],
      build: () =>
        seq(
          L.separableConv2d({ inputShape: [8, 9, 3], filters: 4, kernelSize: 3, depthMultiplier: 2, strides, padding }),
          L.flatten(),
          L.dense({ units: 2 }),
        ),
    })),
  ),
  ...(['same', 'valid'] as const).flatMap((padding) => [
    {
      name: `maxPooling1d + averagePooling1d, ${padding}`,
      input: [11, 3],
      build: () =>
        seq(
          L.dense({ inputShape: [11, 3], units: 4 }),
          L.maxPooling1d({ poolSize: 3, strides: 2, padding }),
          L.averagePooling1d({ poolSize: 2, padding }),
          L.flatten(),
          L.dense({ units: 2 }),
        ),
    },
    {
      name: `maxPooling2d + averagePooling2d, ${padding}`,
      input: [9, 7, 2],
      build: () =>
        seq(
          L.dense({ inputShape: [9, 7, 2], units: 3 }),
          L.maxPooling2d({ poolSize: 3, strides: 2, padding }),
          L.averagePooling2d({ poolSize: 2, padding }),
          L.flatten(),
          L.dense({ units: 2 }),
        ),
    },
  ]),
  { name: 'global pooling 1d and 2d', input: [6, 5, 2], build: () => functionalGlobalPooling() },
  {
    name: 'batchNormalization (dense and conv features)',
    input: [6, 6, 2],
    build: () =>
      seq(
        L.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }),
        L.batchNormalization(),
        L.flatten(),
        L.dense({ units: 4 }),
        L.batchNormalization(),
        L.dense({ units: 2 }),
      ),
  },
  {
    name: 'layerNormalization',
    input: [5, 4],
    build: () =>
      seq(L.dense({ inputShape: [5, 4], units: 6 }), L.layerNormalization(), L.flatten(), L.dense({ units: 2 })),
  },
  // A fixed seed gives the same mask on both backends (tfjs draws it in JS).
  {
    name: 'dropout (seeded)',
    input: [6],
    build: () =>
      seq(
        L.dense({ inputShape: [6], units: 8, activation: 'relu' }),
        L.dropout({ rate: 0.4, seed: 7 }),
        L.dense({ units: 2 }),
      ),
  },
  {
    name: 'embedding (repeated ids)',
    input: [7],
    vocabulary: 5,
    build: () => seq(L.embedding({ inputDim: 5, outputDim: 4, inputLength: 7 }), L.flatten(), L.dense({ units: 2 })),
  },
  {
    name: 'lstm',
    input: [5, 3],
    build: () => seq(L.lstm({ inputShape: [5, 3], units: 4, returnSequences: true }), L.lstm({ units: 3 })),
  },
  { name: 'gru', input: [5, 3], build: () => seq(L.gru({ inputShape: [5, 3], units: 4 }), L.dense({ units: 2 })) },
  {
    name: 'simpleRNN + bidirectional lstm',
    input: [5, 3],
    build: () =>
      seq(
        L.simpleRNN({ inputShape: [5, 3], units: 4, returnSequences: true }),
        L.bidirectional({ layer: L.lstm({ units: 2 }) as tf.RNN }),
      ),
  },
  { name: 'embedding → lstm, functional with two heads', input: [6], vocabulary: 9, build: () => functionalText() },
  ...lossCases(),
  ...[
    'relu',
    'relu6',
    'sigmoid',
    'tanh',
    'softmax',
    'elu',
    'selu',
    'softplus',
    'softsign',
    'hardSigmoid',
    'swish',
    'mish',
    'gelu',
    'linear',
  ].map((a) => ({ name: `activation ${a}`, input: [6], build: act(a) })),
  {
    name: 'leakyReLU, prelu, elu layers',
    input: [6],
    build: () =>
      seq(
        L.dense({ inputShape: [6], units: 5 }),
        L.leakyReLU({ alpha: 0.2 }),
        L.dense({ units: 5 }),
        L.prelu(),
        L.dense({ units: 4 }),
        L.elu(),
        L.dense({ units: 2 }),
      ),
  },
];

/** The losses on a small classifier or regressor: logits, probabilities or raw outputs as each expects. */
function lossCases(): ModelCase[] {
  const head = (activation: 'linear' | 'softmax' | 'sigmoid') => () =>
    seq(L.dense({ inputShape: [6], units: 5, activation: 'tanh' }), L.dense({ units: 3, activation }));
  const labels = (y: tf.Tensor) => y.argMax(-1);
  return [
    {
      name: 'loss meanSquaredError',
      input: [6],
      build: head('linear'),
      loss: (y, p) => tf.losses.meanSquaredError(y, p),
    },
    {
      name: 'loss categoricalCrossentropy',
      input: [6],
      target: 'one-hot',
      build: head('softmax'),
      loss: (y, p) => tf.metrics.categoricalCrossentropy(y, p).mean(),
    },
    {
      name: 'loss softmaxCrossEntropy (logits)',
      input: [6],
      target: 'one-hot',
      build: head('linear'),
      loss: (y, p) => tf.losses.softmaxCrossEntropy(y, p),
    },
    // Sparse: integer class targets, one-hot on the fly (as Mosaic's own loss does).
    {
      name: 'loss sparse categorical cross-entropy',
      input: [6],
      target: 'one-hot',
      build: head('softmax'),
      loss: (y, p) => tf.metrics.categoricalCrossentropy(tf.oneHot(labels(y), 3), p).mean(),
    },
    {
      name: 'loss sigmoidCrossEntropy (logits)',
      input: [6],
      target: 'binary',
      build: head('linear'),
      loss: (y, p) => tf.losses.sigmoidCrossEntropy(y, p),
    },
    {
      name: 'loss binaryCrossentropy',
      input: [6],
      target: 'binary',
      build: head('sigmoid'),
      loss: (y, p) => tf.metrics.binaryCrossentropy(y, p).mean(),
    },
    {
      name: 'loss logLoss',
      input: [6],
      target: 'binary',
      build: head('sigmoid'),
      loss: (y, p) => tf.losses.logLoss(y, p),
    },
    {
      name: 'loss absoluteDifference',
      input: [6],
      build: head('linear'),
      loss: (y, p) => tf.losses.absoluteDifference(y, p),
    },
    {
      name: 'loss huberLoss',
      input: [6],
      build: head('linear'),
      loss: (y, p) => tf.losses.huberLoss(y, p, undefined, 0.3),
    },
  ];
}

function functionalGlobalPooling(): tf.LayersModel {
  const input = tf.input({ shape: [6, 5, 2] });
  const features = L.conv2d({ filters: 3, kernelSize: 2 }).apply(input) as tf.SymbolicTensor;
  const rows = L.reshape({ targetShape: [5 * 4, 3] }).apply(features) as tf.SymbolicTensor;
  const pooled = [L.globalAveragePooling2d({}), L.globalMaxPooling2d({})].map(
    (l) => l.apply(features) as tf.SymbolicTensor,
  );
  const pooled1d = [L.globalAveragePooling1d(), L.globalMaxPooling1d()].map((l) => l.apply(rows) as tf.SymbolicTensor);
  const output = L.dense({ units: 2 }).apply(L.concatenate().apply([...pooled, ...pooled1d])) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function functionalText(): tf.LayersModel {
  const input = tf.input({ shape: [6], dtype: 'int32' });
  const embedded = L.embedding({ inputDim: 9, outputDim: 4 }).apply(input) as tf.SymbolicTensor;
  const recurrent = L.lstm({ units: 3 }).apply(embedded) as tf.SymbolicTensor;
  const averaged = L.globalAveragePooling1d().apply(embedded) as tf.SymbolicTensor;
  const output = L.dense({ units: 2 }).apply(
    L.add().apply([recurrent, L.dense({ units: 3 }).apply(averaged) as tf.SymbolicTensor]),
  ) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

interface Batch {
  x: Values;
  y: Values;
}

function batchFor(c: ModelCase, outputShape: Shape): Batch {
  const xShape = [BATCH, ...c.input];
  const x = c.vocabulary
    ? {
        shape: xShape,
        values: Int32Array.from(random(xShape, 11).values, (v) => Math.floor(((v + 1) / 2) * c.vocabulary!)),
      }
    : random(xShape, 11);
  const yShape = [BATCH, ...outputShape.slice(1)];
  const classes = yShape[yShape.length - 1]!;
  if (c.target === 'binary')
    return { x, y: { shape: yShape, values: random(yShape, 12).values.map((v) => (v > 0 ? 1 : 0)) } };
  if (c.target === 'one-hot') {
    return {
      x,
      y: {
        shape: yShape,
        values: Float32Array.from({ length: BATCH * classes }, (_, i) =>
          i % classes === (Math.floor(i / classes) * 2) % classes ? 1 : 0,
        ),
      },
    };
  }
  return { x, y: random(yShape, 12) };
}

interface Trained {
  loss: number;
  gradients: Values[];
  /** The gradient of the loss with respect to the (float) input, as a chain of models passes it back. */
  inputGradient: Values | null;
  /** Every weight, trainable or not, after the training steps. */
  weights: Values[];
  losses: number[];
}

const STEPS = 3;

/**
 * On one backend: the model from `initial` weights, the gradients of the loss on the batch, then
 * STEPS steps of SGD. The gradient comparison is exact in intent; the steps show it trains.
 */
async function trainOn(
  backend: Backend,
  c: ModelCase,
  initial: Values[] | null,
  batch: Batch | null,
  fuse = false,
): Promise<{ initial: Values[]; batch: Batch; result: Trained }> {
  await useBackend(backend);
  const model = c.build();
  if (fuse) fuseLayerActivations(model);
  if (initial) model.setWeights(initial.map(tensor));
  const weights0 = initial ?? model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  const data =
    batch ??
    batchFor(
      c,
      (model.outputs[0]!.shape as number[]).map((d) => d ?? BATCH),
    );
  const [x, y] = [tensor(data.x), tensor(data.y)];
  const lossOf = c.loss ?? mse;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const f = () => lossOf(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const { value, grads } = tf.variableGrads(f, variables);
  const gradients = variables.map((v) => ({
    shape: grads[v.name]!.shape,
    values: grads[v.name]!.dataSync() as Float32Array,
  }));
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  const dx = c.vocabulary
    ? null
    : tf.grad((input: tf.Tensor) => lossOf(y, model.apply(input, { training: true }) as tf.Tensor))(x);
  const inputGradient = dx && { shape: dx.shape, values: dx.dataSync() as Float32Array };
  dx?.dispose();
  const optimizer = tf.train.sgd(0.05);
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const cost = optimizer.minimize(f, true, variables)!;
    losses.push(cost.dataSync()[0]!);
    cost.dispose();
  }
  const weights = model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
  tf.dispose([x, y]);
  optimizer.dispose();
  model.layers.forEach((l) => {
    l.dispose();
  });
  return { initial: weights0, batch: data, result: { loss, gradients, inputGradient, weights, losses } };
}

/**
 * Gradient tolerance, relative to the largest element of each gradient: 1e-4. The backends agree
 * on the maths but not on float32 rounding: XNNPACK sums in blocks and SIMD lanes where the cpu
 * backend loops, and wasm's exp/log/tanh/sigmoid are its own approximations (a few ulps). Through
 * a few layers those ~1e-7 relative differences grow to ~1e-6 (measured: at most 2e-6 here), and
 * elements that are sums of cancelling terms carry the absolute error of the largest ones, hence
 * relative to the maximum. A wrong kernel is off by O(1) of that maximum.
 */
const GRAD_TOLERANCE = 1e-4;

function expectClose(actual: Values[], expected: Values[], what: string): void {
  expect(actual.length).toBe(expected.length);
  // A tensor whose true gradient is ~0 (a bias before batch normalisation: its terms cancel)
  // keeps the rounding noise of those terms, which are of the size of the model's other gradients.
  const floor = 1e-2 * Math.max(...expected.map(maxAbs));
  actual.forEach((a, i) => {
    const scale = Math.max(maxAbs(expected[i]!), floor, 1e-12);
    expect(maxDiff(a, expected[i]!) / scale, `${what} ${i} [${a.shape.join(', ')}]`).toBeLessThan(GRAD_TOLERANCE);
  });
}

describe("(b) Layers models train on wasm with the cpu backend's gradients", () => {
  it.each(MODELS)('$name', async (c) => {
    const cpu = await trainOn('cpu', c, null, null);
    const wasm = await trainOn('wasm', c, cpu.initial, cpu.batch);
    expect(cpu.result.gradients.some((g) => maxAbs(g) > 0)).toBe(true);
    expect(wasm.result.loss).toBeCloseTo(cpu.result.loss, 4);
    expectClose(wasm.result.gradients, cpu.result.gradients, 'gradient of weight');
    // What a chain of two models passes back to the first (wasm 4.22's conv3d got it wrong).
    if (cpu.result.inputGradient)
      expectClose([wasm.result.inputGradient!], [cpu.result.inputGradient], 'gradient of the input');
    expect(wasm.result.losses.every(Number.isFinite)).toBe(true);
    expectClose(wasm.result.weights, cpu.result.weights, `weight after ${STEPS} SGD steps`);
  });
});

describe("(c) Conv2D and Dense layers fused as the engine trains them: the layers' own gradients", () => {
  const fusable = MODELS.filter((c) => fuseLayerActivations(c.build()) > 0);

  it('fuses the layers of most models (dense and conv2d are in nearly all)', () => {
    expect(fusable.length).toBeGreaterThan(MODELS.length / 2);
  });

  it.each(fusable)('$name', async (c) => {
    const own = await trainOn('cpu', c, null, null);
    // cpu's fused kernels are its unfused ones in sequence: the same bits.
    const cpu = await trainOn('cpu', c, own.initial, own.batch, true);
    expect(cpu.result.gradients).toEqual(own.result.gradients);
    expect(cpu.result.inputGradient).toEqual(own.result.inputGradient);
    expect(cpu.result.weights).toEqual(own.result.weights);
    const wasm = await trainOn('wasm', c, own.initial, own.batch, true);
    expect(wasm.result.loss).toBeCloseTo(own.result.loss, 4);
    expectClose(wasm.result.gradients, own.result.gradients, 'gradient of weight');
    if (own.result.inputGradient)
      expectClose([wasm.result.inputGradient!], [own.result.inputGradient], 'gradient of the input');
    expectClose(wasm.result.weights, own.result.weights, `weight after ${STEPS} SGD steps`);
  });

  it('a training step of the bench CNN runs one fused kernel per layer, without Add or Relu', async () => {
    await useBackend('wasm');
    const model = seq(
      L.conv2d({ inputShape: [12, 12, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2 }),
      L.conv2d({ filters: 6, kernelSize: 3, activation: 'relu' }),
      L.flatten(),
      L.dense({ units: 3, activation: 'relu' }),
    );
    expect(fuseLayerActivations(model)).toBe(3);
    expect(fuseLayerActivations(model)).toBe(0); // once
    const x = tensor(random([BATCH, 12, 12, 1], 41));
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const profile = await tf.profile(() =>
      tf.dispose(
        Object.values(
          tf.variableGrads(() => (model.apply(x, { training: true }) as tf.Tensor).sum() as tf.Scalar, variables).grads,
        ),
      ),
    );
    const kernels = profile.kernels.map((k) => k.name);
    expect(kernels.filter((k) => k === 'FusedConv2D')).toHaveLength(2);
    expect(kernels.filter((k) => k === '_FusedMatMul')).toHaveLength(1);
    expect(kernels).not.toContain('Relu');
    expect(kernels).not.toContain('Add');
    // The data's own gradient is not computed: one input gradient, of the second convolution.
    expect(kernels.filter((k) => k === 'Conv2DBackpropInput')).toHaveLength(1);
    x.dispose();
    model.layers.forEach((l) => {
      l.dispose();
    });
  });
});

describe('(b) model.fit with the Layers loss names trains on wasm as on cpu', () => {
  const cases = [
    { loss: 'meanSquaredError', activation: 'linear', target: 'values' },
    { loss: 'categoricalCrossentropy', activation: 'softmax', target: 'one-hot' },
    { loss: 'sparseCategoricalCrossentropy', activation: 'softmax', target: 'labels' },
    { loss: 'binaryCrossentropy', activation: 'sigmoid', target: 'binary' },
    { loss: 'meanAbsoluteError', activation: 'linear', target: 'values' },
  ] as const;

  async function fitOn(backend: Backend, c: (typeof cases)[number], initial: Values[] | null) {
    await useBackend(backend);
    const model = seq(
      L.embedding({ inputDim: 6, outputDim: 3, inputLength: 4 }),
      L.conv1d({ filters: 4, kernelSize: 2, activation: 'relu' }),
      L.maxPooling1d({ poolSize: 2 }),
      L.flatten(),
      L.dense({ units: 3, activation: c.activation }),
    );
    if (initial) model.setWeights(initial.map(tensor));
    const weights0 =
      initial ?? model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
    const x = tensor({
      shape: [8, 4],
      values: Int32Array.from(random([32], 21).values, (v) => Math.floor((v + 1) * 3)),
    });
    const classes = Int32Array.from({ length: 8 }, (_, i) => (i * 5) % 3);
    const y = {
      values: () => tensor(random([8, 3], 22)),
      'one-hot': () => tf.oneHot(tf.tensor1d(classes, 'int32'), 3).toFloat(),
      labels: () => tf.tensor2d(Float32Array.from(classes), [8, 1]),
      binary: () => tensor({ shape: [8, 3], values: random([8, 3], 23).values.map((v) => (v > 0 ? 1 : 0)) }),
    }[c.target]();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: c.loss });
    const history = await model.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false, verbose: 0 });
    const weights = model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
    tf.dispose([x, y]);
    model.layers.forEach((l) => {
      l.dispose();
    });
    return { weights0, losses: history.history.loss as number[], weights };
  }

  it.each(cases)('$loss', async (c) => {
    const cpu = await fitOn('cpu', c, null);
    const wasm = await fitOn('wasm', c, cpu.weights0);
    expect(wasm.losses.every(Number.isFinite)).toBe(true);
    expect(wasm.losses[2]!).toBeLessThan(wasm.losses[0]!);
    wasm.losses.forEach((l, i) => {
      expect(l).toBeCloseTo(cpu.losses[i]!, 4);
    });
    expectClose(wasm.weights, cpu.weights, 'weight after fit');
  });
});

describe('dilated convolutions (a limit of tfjs-core, not of wasm)', () => {
  const dilated = [
    {
      name: 'conv1d dilation 2',
      input: [11, 3],
      build: () => seq(L.conv1d({ inputShape: [11, 3], filters: 2, kernelSize: 3, dilationRate: 2 })),
    },
    {
      name: 'conv2d dilation 2',
      input: [9, 7, 2],
      build: () =>
        seq(L.conv2d({ inputShape: [9, 7, 2], filters: 2, kernelSize: 3, dilationRate: 2, padding: 'same' })),
    },
    // (tfjs-layers' depthwiseConv2d ignores its dilationRate; separableConv2d applies it.)
    {
      name: 'separableConv2d dilation 2',
      input: [9, 7, 2],
      build: () => seq(L.separableConv2d({ inputShape: [9, 7, 2], filters: 2, kernelSize: 3, dilationRate: 2 })),
    },
  ];
  it.each(dilated)('$name: same output on both backends; tfjs-core refuses its gradient on both', async (c) => {
    const xv = random([BATCH, ...c.input], 31);
    let weights: Values[] | null = null;
    const outputs: Values[] = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      await useBackend(backend);
      const model = c.build();
      if (weights) model.setWeights(weights.map(tensor));
      weights ??= model.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
      const x = tensor(xv);
      outputs.push(...(await on(backend, () => model.predict(x) as tf.Tensor)));
      expect(() => tf.variableGrads(() => (model.apply(x) as tf.Tensor).sum() as tf.Scalar)).toThrow(
        /dilation rates greater than 1 are not yet supported/,
      );
      x.dispose();
      model.layers.forEach((l) => {
        l.dispose();
      });
    }
    expect(maxDiff(outputs[1]!, outputs[0]!)).toBeLessThan(sumTolerance(3 * 3 * 3));
  });
});
