// The arguments of the kernels that both builds take alike, the WebAssembly one (simd/kernels.ts)
// and the C one (native/): byte offsets into the wasm heap, then sizes and scalars.

/** A convolution window as the kernels take it: filter, strides, dilations, padding before (rows, then columns). */
export type WindowArgs = [
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  dh: number,
  dwd: number,
  padTop: number,
  padLeft: number,
];

/** An NHWC convolution's sizes: x [n, h, w, ci], y [n, oh, ow, co], then its window. */
type ConvSizes = [
  n: number,
  h: number,
  w: number,
  ci: number,
  oh: number,
  ow: number,
  co: number,
  ...window: WindowArgs,
];

/** `conv2d`: y = conv(x, f) + bias (0: none), then max(·, 0) with relu. */
export type Conv2dArgs = [x: number, f: number, bias: number, y: number, ...sizes: ConvSizes, relu: boolean];

/** `convFilterGrad`: dw of x by dy. */
export type ConvFilterGradArgs = [x: number, dy: number, dw: number, ...sizes: ConvSizes];

/** `adam`: one step on n floats, then its float32 scalars (see simd/kernels.ts). */
export type AdamArgs = [
  p: number,
  g: number,
  m: number,
  v: number,
  pOut: number,
  mOut: number,
  vOut: number,
  n: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  d1: number,
  d2: number,
  eps: number,
  rate: number,
  decay: number,
];
