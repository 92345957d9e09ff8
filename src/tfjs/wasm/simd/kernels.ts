// Kernels for tfjs-backend-wasm's heap, in AssemblyScript (compiled by scripts/build-kernels.mjs to
// dist/engine/wasm/simd/kernels.wasm). The module imports the backend's own memory: every argument
// named as a tensor is a byte offset of float32 data the backend allocated. Nothing is allocated
// here, and there are no globals and no data (the build refuses a binary with any: they would
// live in the backend's memory). Loops are vectorised over the innermost axis (channels), 4 floats
// at a time.

/**
 * The gradient of a 2-D max pooling of x [n, h, w, c] (NHWC) into dx (same shape), from dy
 * [n, oh, ow, c]: each window's dy goes to the first position (window row-major order) holding
 * its maximum, as the cpu backend chooses; a window of NaN or −∞ only gives nothing. Overlapping
 * windows add up. `scratch` holds c float32 maxima and c int32 positions.
 */
export function maxPoolGrad(x: usize, dy: usize, dx: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, scratch: usize): void {
  memory.fill(dx, 0, <usize>n * <usize>h * <usize>w * <usize>c * 4);
  const pixel = <usize>c << 2;
  const where = scratch + pixel;
  let g = dy;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, g += pixel) {
        windowMaxima(x, scratch, where, b, h, w, c, i * sh - padTop, j * sw - padLeft, fh, fw, true);
        for (let ch = 0; ch < c; ch++) {
          const chosen = load<i32>(where + (<usize>ch << 2));
          if (chosen < 0) continue;
          const at = dx + (<usize>(chosen + ch) << 2);
          store<f32>(at, load<f32>(at) + load<f32>(g + (<usize>ch << 2)));
        }
      }
    }
  }
}

/**
 * 2-D max pooling of x [n, h, w, c] (NHWC) into out [n, oh, ow, c], as the cpu backend computes it:
 * each window's largest value, NaN skipped, −∞ for a window with none (all padding or NaN).
 */
export function maxPool(x: usize, out: usize, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32): void {
  const pixel = <usize>c << 2;
  let o = out;
  if ((c & 15) == 0) {
    // 16 channels at a time over the whole window, their maxima in registers.
    for (let b = 0; b < n; b++) {
      for (let i = 0; i < oh; i++) {
        const r0 = max(i * sh - padTop, 0);
        const r1 = min(i * sh - padTop + fh, h);
        for (let j = 0; j < ow; j++, o += pixel) {
          const c0 = max(j * sw - padLeft, 0);
          const c1 = min(j * sw - padLeft + fw, w);
          for (let ch = 0; ch < c; ch += 16) {
            const at = <usize>ch << 2;
            let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
            for (let r = r0; r < r1; r++) {
              let p = x + <usize>(((b * h + r) * w + c0) * c) * 4 + at;
              for (let col = c0; col < c1; col++, p += pixel) {
                const v0 = v128.load(p);
                const v1 = v128.load(p, 16);
                const v2 = v128.load(p, 32);
                const v3 = v128.load(p, 48);
                m0 = v128.bitselect(v0, m0, f32x4.gt(v0, m0));
                m1 = v128.bitselect(v1, m1, f32x4.gt(v1, m1));
                m2 = v128.bitselect(v2, m2, f32x4.gt(v2, m2));
                m3 = v128.bitselect(v3, m3, f32x4.gt(v3, m3));
              }
            }
            v128.store(o + at, m0);
            v128.store(o + at, m1, 16);
            v128.store(o + at, m2, 32);
            v128.store(o + at, m3, 48);
          }
        }
      }
    }
    return;
  }
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++, o += pixel) windowMaxima(x, o, 0, b, h, w, c, i * sh - padTop, j * sw - padLeft, fh, fw, false);
    }
  }
}

/**
 * The maxima over one window (top-left corner (row0, col0), fh × fw, cut to x) of image b, into
 * best [c]: positions in row-major order, all channels at each, the first of equal values kept,
 * NaN skipped, −∞ where none. With `track` (a constant at each call: inlined, the other case
 * folds away), where [c] gets the index in x of the pixel holding each maximum, −1 where none.
 */
// @ts-ignore: decorator
@inline
function windowMaxima(x: usize, best: usize, where: usize, b: i32, h: i32, w: i32, c: i32, row0: i32, col0: i32, fh: i32, fw: i32, track: bool): void {
  const vectorEnd = c & ~3;
  const pixel = <usize>c << 2;
  let ch = 0;
  for (; ch < vectorEnd; ch += 4) {
    v128.store(best + (<usize>ch << 2), f32x4.splat(-Infinity));
    if (track) v128.store(where + (<usize>ch << 2), i32x4.splat(-1));
  }
  for (; ch < c; ch++) {
    store<f32>(best + (<usize>ch << 2), -Infinity);
    if (track) store<i32>(where + (<usize>ch << 2), -1);
  }
  const r0 = max(row0, 0);
  const r1 = min(row0 + fh, h);
  const c0 = max(col0, 0);
  const c1 = min(col0 + fw, w);
  for (let r = r0; r < r1; r++) {
    let index = ((b * h + r) * w + c0) * c;
    for (let col = c0; col < c1; col++, index += c) {
      const p = x + (<usize>index << 2);
      const here = i32x4.splat(index);
      for (ch = 0; ch < vectorEnd; ch += 4) {
        const at = <usize>ch << 2;
        const v = v128.load(p + at);
        const m = v128.load(best + at);
        const greater = f32x4.gt(v, m);
        v128.store(best + at, v128.bitselect(v, m, greater));
        if (track) v128.store(where + at, v128.bitselect(here, v128.load(where + at), greater));
      }
      for (; ch < c; ch++) {
        const at = <usize>ch << 2;
        const v = load<f32>(p + at);
        if (v > load<f32>(best + at)) {
          store<f32>(best + at, v);
          if (track) store<i32>(where + at, index);
        }
      }
    }
  }
}

/** out [rows, cols] = x [rows, cols] + v [cols] on every row (a bias added over the last axis). */
export function addRows(x: usize, v: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let i = 0; i < rows; i++, x += rowBytes, out += rowBytes) addFloats(out, x, v, cols);
}

/** out[0 … count) = a[0 … count) + b[0 … count) (out may be a). */
// @ts-ignore: decorator
@inline
function addFloats(out: usize, a: usize, b: usize, count: i32): void {
  const vectorEnd = count & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const at = <usize>j << 2;
    v128.store(out + at, f32x4.add(v128.load(a + at), v128.load(b + at)));
  }
  for (; j < count; j++) {
    const at = <usize>j << 2;
    store<f32>(out + at, load<f32>(a + at) + load<f32>(b + at));
  }
}


/**
 * out[j] = Σ_i x[i, j] over x [rows, cols]: a sum over the leading axes (a bias gradient), in
 * float64 in row order as the cpu backend sums, then rounded to float32. Blocks of 16 columns
 * (then 4, then one) go down all rows with their sums in registers.
 */
export function sumLeading(x: usize, out: usize, rows: i32, cols: i32): void {
  const ld = <usize>cols << 2;
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    const zero = f64x2.splat(0);
    let s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero, s7 = zero;
    let row = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++, row += ld) {
      const v0 = v128.load(row);
      const v1 = v128.load(row, 16);
      const v2 = v128.load(row, 32);
      const v3 = v128.load(row, 48);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v0));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v0, v0, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(v1));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(i32x4.shuffle(v1, v1, 2, 3, 0, 1)));
      s4 = f64x2.add(s4, f64x2.promote_low_f32x4(v2));
      s5 = f64x2.add(s5, f64x2.promote_low_f32x4(i32x4.shuffle(v2, v2, 2, 3, 0, 1)));
      s6 = f64x2.add(s6, f64x2.promote_low_f32x4(v3));
      s7 = f64x2.add(s7, f64x2.promote_low_f32x4(i32x4.shuffle(v3, v3, 2, 3, 0, 1)));
    }
    const o = out + (<usize>j << 2);
    storeSums(o, s0, s1);
    storeSums(o + 16, s2, s3);
    storeSums(o + 32, s4, s5);
    storeSums(o + 48, s6, s7);
  }
  for (; j + 4 <= cols; j += 4) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
    let row = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++, row += ld) {
      const v = v128.load(row);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(v));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
    storeSums(out + (<usize>j << 2), s0, s1);
  }
  for (; j < cols; j++) {
    let s: f64 = 0;
    let row = x + (<usize>j << 2);
    for (let i = 0; i < rows; i++, row += ld) s += <f64>load<f32>(row);
    store<f32>(out + (<usize>j << 2), <f32>s);
  }
}

/** 4 floats at `o`: the float64 sums (s0, s1) rounded to float32. */
// @ts-ignore: decorator
@inline
function storeSums(o: usize, s0: v128, s1: v128): void {
  v128.store(o, i32x4.shuffle(f32x4.demote_f64x2_zero(s0), f32x4.demote_f64x2_zero(s1), 0, 1, 4, 5));
}

/**
 * The input gradient of an NHWC convolution from its columns, cols [n, oh, ow, kh, kw, ci] =
 * dy · Wᵀ (each output position's share of each filter tap): dx [n, h, w, ci] is the sum, at
 * every input position, of the shares of the taps that read it (positions outside x dropped).
 */
export function col2im(cols: usize, dx: usize, n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dwd: i32, padTop: i32, padLeft: i32): void {
  memory.fill(dx, 0, <usize>n * <usize>h * <usize>w * <usize>ci * 4);
  const pixel = <usize>ci << 2;
  let share = cols;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const y = oy * sh + ky * dh - padTop;
          for (let kx = 0; kx < kw; kx++, share += pixel) {
            const x = ox * sw + kx * dwd - padLeft;
            if (y < 0 || y >= h || x < 0 || x >= w) continue;
            const d = dx + <usize>((b * h + y) * w + x) * pixel;
            addFloats(d, d, share, ci);
          }
        }
      }
    }
  }
}

/**
 * The filter gradient of an NHWC convolution, dw [kh, kw, ci, co] = Σ_{b,oy,ox} x[b, oy·sh + ky·dh − padTop,
 * ox·sw + kx·dwd − padLeft, ci] · dy[b, oy, ox, co] (positions outside x count 0), each element
 * summed in float32 in position order. One image at a time (its x and dy stay in cache; the
 * whole batch's would not), and for it one pass over dy per filter tap, two input channels and
 * 16 output channels, their 32 sums in registers, carried over from the previous images in dw;
 * XNNPACK would repack dy, large, as a filter on every call.
 */
export function convFilterGrad(x: usize, dy: usize, dw: usize, n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, co: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dwd: i32, padTop: i32, padLeft: i32): void {
  memory.fill(dw, 0, <usize>(kh * kw * ci * co) << 2);
  // Byte strides of x and dy per image, per output row and per output column; of dw per input channel.
  const xImage = <usize>(h * w * ci) << 2;
  const xRow = <usize>(sh * w * ci) << 2;
  const xCol = <usize>(sw * ci) << 2;
  const gImage = <usize>(oh * ow * co) << 2;
  const gRow = <usize>(ow * co) << 2;
  const gCol = <usize>co << 2;
  const channel = <usize>co << 2;
  const blocks = co & ~15;
  for (let b = 0; b < n; b++) {
    const xb = x + <usize>b * xImage;
    const gb = dy + <usize>b * gImage;
    for (let ky = 0; ky < kh; ky++) {
      // The outputs whose window's tap ky falls inside x: oy·sh + ky·dh − padTop in [0, h).
      const oy0 = firstInside(padTop - ky * dh, sh);
      const rows = min(oh, firstInside(padTop - ky * dh + h, sh)) - oy0;
      for (let kx = 0; kx < kw; kx++) {
        const ox0 = firstInside(padLeft - kx * dwd, sw);
        const cols = min(ow, firstInside(padLeft - kx * dwd + w, sw)) - ox0;
        const xTap = xb + (<usize>(((oy0 * sh + ky * dh - padTop) * w + ox0 * sw + kx * dwd - padLeft) * ci) << 2);
        const gTap = gb + (<usize>((oy0 * ow + ox0) * co) << 2);
        const out = dw + <usize>((ky * kw + kx) * ci) * channel;
        // One input channel, undilated: the next tap column reads the next float of x at the same
        // outputs, and its sums follow in dw, as a next input channel's would: two taps at once
        // where their outputs are the same (no padding between them).
        if (ci == 1 && dwd == 1 && blocks > 0 && kx + 1 < kw && firstInside(padLeft - kx - 1, sw) == ox0 && min(ow, firstInside(padLeft - kx - 1 + w, sw)) - ox0 == cols) {
          for (let k = 0; k < blocks; k += 16) tapSums(xTap, gTap + (<usize>k << 2), rows, cols, xRow, xCol, gRow, gCol, out + (<usize>k << 2), channel, 32);
          channelSums(xTap, gTap, rows, cols, xRow, xCol, gRow, gCol, out, channel, blocks, co);
          channelSums(xTap + 4, gTap, rows, cols, xRow, xCol, gRow, gCol, out + channel, channel, blocks, co);
          kx++;
          continue;
        }
        let i = 0;
        for (; i + 1 < ci && blocks > 0; i += 2) {
          const xFirst = xTap + (<usize>i << 2);
          const row = out + <usize>i * channel;
          for (let k = 0; k < blocks; k += 16) tapSums(xFirst, gTap + (<usize>k << 2), rows, cols, xRow, xCol, gRow, gCol, row + (<usize>k << 2), channel, 32);
          channelSums(xFirst, gTap, rows, cols, xRow, xCol, gRow, gCol, row, channel, blocks, co);
          channelSums(xFirst + 4, gTap, rows, cols, xRow, xCol, gRow, gCol, row + channel, channel, blocks, co);
        }
        for (; i < ci; i++) channelSums(xTap + (<usize>i << 2), gTap, rows, cols, xRow, xCol, gRow, gCol, out + <usize>i * channel, channel, 0, co);
      }
    }
  }
}

/** The smallest o ≥ 0 with o·stride ≥ from. */
// @ts-ignore: decorator
@inline
function firstInside(from: i32, stride: i32): i32 {
  return from <= 0 ? 0 : (from + stride - 1) / stride;
}

/** The sums of one input channel, output channels from `k0` on: blocks of 16, of 4, then one at a time. */
// @ts-ignore: decorator
@inline
function channelSums(xFirst: usize, gTap: usize, rows: i32, cols: i32, xRow: usize, xCol: usize, gRow: usize, gCol: usize, row: usize, channel: usize, k0: i32, co: i32): void {
  let k = k0;
  for (; k + 16 <= co; k += 16) tapSums(xFirst, gTap + (<usize>k << 2), rows, cols, xRow, xCol, gRow, gCol, row + (<usize>k << 2), channel, 16);
  for (; k + 4 <= co; k += 4) tapSums(xFirst, gTap + (<usize>k << 2), rows, cols, xRow, xCol, gRow, gCol, row + (<usize>k << 2), channel, 4);
  for (; k < co; k++) tapSums(xFirst, gTap + (<usize>k << 2), rows, cols, xRow, xCol, gRow, gCol, row + (<usize>k << 2), channel, 1);
}

/**
 * out[0 … lanes) += Σ over one image's rows × cols positions of x[xFirst + …] · dy[gFirst + …,
 * 0 … lanes) (byte strides given), in position order after the sums already in out; lanes 32 is
 * 16 output channels of two input channels, x's next one and its sums at out + channel. A
 * constant at each call: once inlined, the code of the other widths folds away and the sums stay
 * in registers. Multiply-adds fused in the relaxed build (`madd`).
 */
// @ts-ignore: decorator
@inline
function tapSums(xFirst: usize, gFirst: usize, rows: i32, cols: i32, xRow: usize, xCol: usize, gRow: usize, gCol: usize, out: usize, channel: usize, lanes: i32): void {
  const zero = f32x4.splat(0);
  let a0 = lanes >= 4 ? v128.load(out) : zero;
  let a1 = lanes >= 16 ? v128.load(out, 16) : zero;
  let a2 = lanes >= 16 ? v128.load(out, 32) : zero;
  let a3 = lanes >= 16 ? v128.load(out, 48) : zero;
  let b0 = lanes == 32 ? v128.load(out + channel) : zero;
  let b1 = lanes == 32 ? v128.load(out + channel, 16) : zero;
  let b2 = lanes == 32 ? v128.load(out + channel, 32) : zero;
  let b3 = lanes == 32 ? v128.load(out + channel, 48) : zero;
  let s: f32 = lanes == 1 ? load<f32>(out) : 0;
  for (let r = 0; r < rows; r++) {
    let xp = xFirst + <usize>r * xRow;
    let g = gFirst + <usize>r * gRow;
    for (let c = 0; c < cols; c++, xp += xCol, g += gCol) {
      if (lanes == 1) {
        s += load<f32>(xp) * load<f32>(g);
        continue;
      }
      const xs = f32x4.splat(load<f32>(xp));
      const g0 = v128.load(g);
      a0 = madd(xs, g0, a0);
      if (lanes >= 16) {
        const g1 = v128.load(g, 16);
        const g2 = v128.load(g, 32);
        const g3 = v128.load(g, 48);
        a1 = madd(xs, g1, a1);
        a2 = madd(xs, g2, a2);
        a3 = madd(xs, g3, a3);
        if (lanes == 32) {
          const xt = f32x4.splat(load<f32>(xp, 4));
          b0 = madd(xt, g0, b0);
          b1 = madd(xt, g1, b1);
          b2 = madd(xt, g2, b2);
          b3 = madd(xt, g3, b3);
        }
      }
    }
  }
  if (lanes == 1) {
    store<f32>(out, s);
    return;
  }
  v128.store(out, a0);
  if (lanes >= 16) {
    v128.store(out, a1, 16);
    v128.store(out, a2, 32);
    v128.store(out, a3, 48);
  }
  if (lanes == 32) {
    v128.store(out + channel, b0);
    v128.store(out + channel, b1, 16);
    v128.store(out + channel, b2, 32);
    v128.store(out + channel, b3, 48);
  }
}

/**
 * One step of TF.js's Adam on a variable of n float32 values: from p (its value), g (its gradient),
 * m and v (its first and second moments), its new value into pOut and new moments into mOut and
 * vOut. Each value is first multiplied by `decay` (decoupled weight decay; 1: none, and then no
 * product), then, every operation a float32 operation in tfjs-core's order
 * (`AdamOptimizer.applyGradients`, as wasm's kernels compute each): m ← m·β1 + g·c1,
 * v ← v·β2 + (g·g)·c2, p ← ((m/d1) / (√(v/d2) + ε))·rate + p, where c1 = 1 − β1, c2 = 1 − β2,
 * d1 and d2 one minus the accumulated β1ᵗ and β2ᵗ, rate = −lr: all rounded to float32 by the
 * caller. One pass; an output may be the input it replaces (each element is read before it is written).
 * A moment that comes out subnormal (|x| < 2⁻¹²⁶) is stored as +0, as CPUs that flush to zero
 * would: the moment of a unit whose gradient stays 0 otherwise decays into the subnormals and sticks
 * at the smallest (its product by β1 rounds back to it), and every operation on a subnormal costs
 * Intel CPUs a microcode assist (the step ran 10-15× slower). The weights are unchanged by it: such
 * a moment moves a weight by less than 10⁻³⁰.
 */
export function adam(p: usize, g: usize, m: usize, v: usize, pOut: usize, mOut: usize, vOut: usize, n: i32, b1: f32, c1: f32, b2: f32, c2: f32, d1: f32, d2: f32, eps: f32, rate: f32, decay: f32): void {
  if (decay == 1) adamSteps(p, g, m, v, pOut, mOut, vOut, n, b1, c1, b2, c2, d1, d2, eps, rate, decay, false);
  else adamSteps(p, g, m, v, pOut, mOut, vOut, n, b1, c1, b2, c2, d1, d2, eps, rate, decay, true);
}

/** The smallest normal float32, 2⁻¹²⁶. */
const MIN_NORMAL: f32 = 1.17549435e-38;

/**
 * One step of TF.js's RMSprop (not centered) over n floats, each operation of
 * `RMSPropOptimizer.applyGradients` in float32 in its order, then its state's subnormal values
 * (and −0) stored as +0 as engine/optimizers/flush-state.ts does after TF.js's step:
 * ms ← ms·decay + (g·g)·(1 − decay); mom ← mom·momentum + (g·lr) / √(ms + ε); p ← p − mom.
 * One pass; an output may be the input it replaces (each element is read before it is written).
 */
export function rmsprop(p: usize, g: usize, ms: usize, mom: usize, pOut: usize, msOut: usize, momOut: usize, n: i32, decay: f32, oneMinusDecay: f32, momentum: f32, rate: f32, eps: f32): void {
  const decayx = f32x4.splat(decay);
  const omdx = f32x4.splat(oneMinusDecay);
  const momentumx = f32x4.splat(momentum);
  const ratex = f32x4.splat(rate);
  const epsx = f32x4.splat(eps);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const msi = f32x4.add(f32x4.mul(v128.load(ms + at), decayx), f32x4.mul(f32x4.mul(gi, gi), omdx));
    const step = f32x4.div(f32x4.mul(gi, ratex), f32x4.sqrt(f32x4.add(msi, epsx)));
    const momi = f32x4.add(f32x4.mul(v128.load(mom + at), momentumx), step);
    v128.store(pOut + at, f32x4.sub(v128.load(p + at), momi));
    v128.store(msOut + at, flushLanes(msi));
    v128.store(momOut + at, flushLanes(momi));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const msi = load<f32>(ms + at) * decay + gi * gi * oneMinusDecay;
    const momi = load<f32>(mom + at) * momentum + (gi * rate) / sqrt<f32>(msi + eps);
    store<f32>(pOut + at, load<f32>(p + at) - momi);
    store<f32>(msOut + at, flushBits(msi));
    store<f32>(momOut + at, flushBits(momi));
  }
}

/** `v`'s subnormal lanes (and −0) made +0, by their bits. */
// @ts-ignore: decorator
@inline
function flushLanes(v: v128): v128 {
  return v128.andnot(v, i32x4.lt_s(v128.and(v, i32x4.splat(0x7fffffff)), i32x4.splat(0x00800000)));
}

/**
 * One step of TF.js's Adagrad over n floats, as `rmsprop` (its operations in order, then its state
 * flushed): acc ← acc + g·g; p ← (g / √(acc + ε))·rate + p, with rate = −lr.
 */
export function adagrad(p: usize, g: usize, acc: usize, pOut: usize, accOut: usize, n: i32, rate: f32, eps: f32): void {
  const ratex = f32x4.splat(rate);
  const epsx = f32x4.splat(eps);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const acci = f32x4.add(v128.load(acc + at), f32x4.mul(gi, gi));
    const step = f32x4.mul(f32x4.div(gi, f32x4.sqrt(f32x4.add(acci, epsx))), ratex);
    v128.store(pOut + at, f32x4.add(step, v128.load(p + at)));
    v128.store(accOut + at, flushLanes(acci));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const acci = load<f32>(acc + at) + gi * gi;
    store<f32>(pOut + at, (gi / sqrt<f32>(acci + eps)) * rate + load<f32>(p + at));
    store<f32>(accOut + at, flushBits(acci));
  }
}

/**
 * One step of TF.js's Momentum over n floats, as `rmsprop`: acc ← m·acc + g; p ← c·acc + p, or
 * with Nesterov (nesterov ≠ 0) p ← c·(g + acc·m) + p, with c = −lr.
 */
export function momentum(p: usize, g: usize, acc: usize, pOut: usize, accOut: usize, n: i32, m: f32, c: f32, nesterov: i32): void {
  const mx = f32x4.splat(m);
  const cx = f32x4.splat(c);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const acci = f32x4.add(f32x4.mul(mx, v128.load(acc + at)), gi);
    const along = nesterov ? f32x4.add(gi, f32x4.mul(acci, mx)) : acci;
    v128.store(pOut + at, f32x4.add(f32x4.mul(cx, along), v128.load(p + at)));
    v128.store(accOut + at, flushLanes(acci));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const acci = m * load<f32>(acc + at) + gi;
    const along = nesterov ? gi + acci * m : acci;
    store<f32>(pOut + at, c * along + load<f32>(p + at));
    store<f32>(accOut + at, flushBits(acci));
  }
}

/**
 * One step of TF.js's Adadelta over n floats, as `rmsprop`: ag' ← ag·ρ + (g·g)·(1 − ρ);
 * u ← (√(au + ε) / √(ag + ε))·g (the mean square of the gradients before this step);
 * au ← au·ρ + (u·u)·(1 − ρ); ag ← ag'; p ← u·rate + p, with rate = −lr.
 */
export function adadelta(p: usize, g: usize, ag: usize, au: usize, pOut: usize, agOut: usize, auOut: usize, n: i32, rho: f32, oneMinusRho: f32, eps: f32, rate: f32): void {
  const rhox = f32x4.splat(rho);
  const omrx = f32x4.splat(oneMinusRho);
  const epsx = f32x4.splat(eps);
  const ratex = f32x4.splat(rate);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const agOld = v128.load(ag + at);
    const auOld = v128.load(au + at);
    const agi = f32x4.add(f32x4.mul(agOld, rhox), f32x4.mul(f32x4.mul(gi, gi), omrx));
    const u = f32x4.mul(f32x4.div(f32x4.sqrt(f32x4.add(auOld, epsx)), f32x4.sqrt(f32x4.add(agOld, epsx))), gi);
    const aui = f32x4.add(f32x4.mul(auOld, rhox), f32x4.mul(f32x4.mul(u, u), omrx));
    v128.store(pOut + at, f32x4.add(f32x4.mul(u, ratex), v128.load(p + at)));
    v128.store(agOut + at, flushLanes(agi));
    v128.store(auOut + at, flushLanes(aui));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const agOld = load<f32>(ag + at);
    const auOld = load<f32>(au + at);
    const agi = agOld * rho + gi * gi * oneMinusRho;
    const u = (sqrt<f32>(auOld + eps) / sqrt<f32>(agOld + eps)) * gi;
    const aui = auOld * rho + u * u * oneMinusRho;
    store<f32>(pOut + at, u * rate + load<f32>(p + at));
    store<f32>(agOut + at, flushBits(agi));
    store<f32>(auOut + at, flushBits(aui));
  }
}

/**
 * One step of TF.js's Adamax over n floats, as `rmsprop`: m ← m·β1 + g·(1 − β1);
 * u ← max(u·β2, |g|) (wasm's Maximum: the second where the first is less, else the first, so a
 * NaN first stays and a NaN second does not); p ← rate·(m / (u + ε)) + p, with
 * rate = (−lr / (t·decay + 1)) / (1 − β1ᵗ) computed by the caller as tfjs-core does.
 */
export function adamax(p: usize, g: usize, m: usize, u: usize, pOut: usize, mOut: usize, uOut: usize, n: i32, beta1: f32, oneMinusBeta1: f32, beta2: f32, eps: f32, rate: f32): void {
  const beta1x = f32x4.splat(beta1);
  const omb1x = f32x4.splat(oneMinusBeta1);
  const beta2x = f32x4.splat(beta2);
  const epsx = f32x4.splat(eps);
  const ratex = f32x4.splat(rate);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const mi = f32x4.add(f32x4.mul(v128.load(m + at), beta1x), f32x4.mul(gi, omb1x));
    const ui = f32x4.pmax(f32x4.mul(v128.load(u + at), beta2x), f32x4.abs(gi));
    v128.store(pOut + at, f32x4.add(f32x4.mul(ratex, f32x4.div(mi, f32x4.add(ui, epsx))), v128.load(p + at)));
    v128.store(mOut + at, flushLanes(mi));
    v128.store(uOut + at, flushLanes(ui));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const mi = load<f32>(m + at) * beta1 + gi * oneMinusBeta1;
    const decayed = load<f32>(u + at) * beta2;
    const magnitude = abs<f32>(gi);
    const ui = decayed < magnitude ? magnitude : decayed;
    store<f32>(pOut + at, rate * (mi / (ui + eps)) + load<f32>(p + at));
    store<f32>(mOut + at, flushBits(mi));
    store<f32>(uOut + at, flushBits(ui));
  }
}

/** `x`, or +0 where it is subnormal or −0 (by its bits: no operation on a subnormal). */
// @ts-ignore: decorator
@inline
function flushBits(x: f32): f32 {
  return (reinterpret<u32>(x) & 0x7fffffff) < 0x00800000 ? 0 : x;
}

/**
 * Every subnormal float of x's n (|x| < 2⁻¹²⁶, ±0 among them) stored as +0, in place; normal
 * floats, ±∞ and NaN kept. By their bits (integer compares): no operation here takes a subnormal.
 * For the state of TF.js's own optimizers (momentum, RMSprop...), which decays into the
 * subnormals as Adam's moments do (see `adam`).
 */
export function flushSubnormals(x: usize, n: i32): void {
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = x + (<usize>i << 2);
    v128.store(at, flushLanes(v128.load(at)));
  }
  for (; i < n; i++) {
    const at = x + (<usize>i << 2);
    store<f32>(at, flushBits(load<f32>(at)));
  }
}

/** `x`, or +0 where it is subnormal. */
// @ts-ignore: decorator
@inline
function flushSubnormal(x: f32): f32 {
  return abs<f32>(x) < MIN_NORMAL ? 0 : x;
}

/** `adam`'s loop; `decayed` a constant at each call (inlined: the other case folds away). */
// @ts-ignore: decorator
@inline
function adamSteps(p: usize, g: usize, m: usize, v: usize, pOut: usize, mOut: usize, vOut: usize, n: i32, b1: f32, c1: f32, b2: f32, c2: f32, d1: f32, d2: f32, eps: f32, rate: f32, decay: f32, decayed: bool): void {
  const vectorEnd = n & ~3;
  const b1x = f32x4.splat(b1);
  const c1x = f32x4.splat(c1);
  const b2x = f32x4.splat(b2);
  const c2x = f32x4.splat(c2);
  const d1x = f32x4.splat(d1);
  const d2x = f32x4.splat(d2);
  const epsx = f32x4.splat(eps);
  const ratex = f32x4.splat(rate);
  const decayx = f32x4.splat(decay);
  const normal = f32x4.splat(MIN_NORMAL);
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const gi = v128.load(g + at);
    const mRaw = f32x4.add(f32x4.mul(v128.load(m + at), b1x), f32x4.mul(gi, c1x));
    const vRaw = f32x4.add(f32x4.mul(v128.load(v + at), b2x), f32x4.mul(f32x4.mul(gi, gi), c2x));
    const mi = v128.andnot(mRaw, f32x4.lt(f32x4.abs(mRaw), normal));
    const vi = v128.andnot(vRaw, f32x4.lt(f32x4.abs(vRaw), normal));
    v128.store(mOut + at, mi);
    v128.store(vOut + at, vi);
    const root = f32x4.add(f32x4.sqrt(f32x4.div(vi, d2x)), epsx);
    const step = f32x4.mul(f32x4.div(f32x4.div(mi, d1x), root), ratex);
    let pi = v128.load(p + at);
    if (decayed) pi = f32x4.mul(pi, decayx);
    v128.store(pOut + at, f32x4.add(step, pi));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const gi = load<f32>(g + at);
    const mi = flushSubnormal(load<f32>(m + at) * b1 + gi * c1);
    const vi = flushSubnormal(load<f32>(v + at) * b2 + gi * gi * c2);
    store<f32>(mOut + at, mi);
    store<f32>(vOut + at, vi);
    let pi = load<f32>(p + at);
    if (decayed) pi *= decay;
    store<f32>(pOut + at, ((mi / d1) / (sqrt<f32>(vi / d2) + eps)) * rate + pi);
  }
}

// Matrix products. A product c = a'·b is computed in tiles of 4 rows × 8 columns of c held in 8
// vectors, over at most GEMM_KC steps of the inner axis at a time (then resumed from c), and over
// column blocks whose part of b fits in L2. b is read as it is laid out (row-major, unpacked): the
// right operand of a layer's products changes every step, so packing it would be paid every call.
// Built twice (scripts/build-kernels.mjs): with relaxed SIMD, a multiply-add is fused where the CPU
// can (one rounding); without, a product then a sum. The sums run in the same order either way.

const GEMM_KC: i32 = 256;
const GEMM_BLOCK_FLOATS: i32 = 64 * 1024;

/** c + a·b per lane, fused where the module is built with relaxed SIMD and the CPU has FMA. */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** A finished tile's vector: its bias (4 floats at `bias`, none at 0) added, then max(·, 0) with `relu` (NaN stays NaN). */
// @ts-ignore: decorator
@inline
function finish(x: v128, bias: usize, relu: bool): v128 {
  let y = x;
  if (bias) y = f32x4.add(y, v128.load(bias));
  if (relu) y = f32x4.max(y, f32x4.splat(0));
  return y;
}

/**
 * c[0..rows) [0..lanes) (rows `ldc` bytes apart) gets Σ over kc steps of a'[r][p]·b[p][0..lanes),
 * a'[r][p] at pa + r·aRow + p·aCol bytes and b's rows `ldb` bytes apart; from 0 (`first`) or c's
 * values; with `last`, the bias and activation. rows 4 or 1, lanes 8, 4 or 1 (one row): constants
 * at each call, inlined, the other cases fold away and the sums stay in registers. The single
 * element is not fused.
 */
// @ts-ignore: decorator
@inline
function gemmTile(pa: usize, aRow: usize, aCol: usize, pb: usize, ldb: usize, pc: usize, ldc: usize, kc: i32, first: bool, last: bool, bias: usize, relu: bool, rows: i32, lanes: i32): void {
  if (lanes == 1) {
    let s: f32 = first ? 0 : load<f32>(pc);
    for (let p = 0; p < kc; p++, pb += ldb, pa += aCol) s += load<f32>(pa) * load<f32>(pb);
    if (last) {
      if (bias) s += load<f32>(bias);
      if (relu) s = max<f32>(s, 0);
    }
    store<f32>(pc, s);
    return;
  }
  const zero = f32x4.splat(0);
  let c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
  if (!first) {
    c00 = v128.load(pc);
    if (lanes == 8) c01 = v128.load(pc, 16);
    if (rows == 4) {
      c10 = v128.load(pc + ldc);
      c20 = v128.load(pc + 2 * ldc);
      c30 = v128.load(pc + 3 * ldc);
      if (lanes == 8) {
        c11 = v128.load(pc + ldc, 16);
        c21 = v128.load(pc + 2 * ldc, 16);
        c31 = v128.load(pc + 3 * ldc, 16);
      }
    }
  }
  const a1 = aRow, a2 = 2 * aRow, a3 = 3 * aRow;
  for (let p = 0; p < kc; p++, pb += ldb, pa += aCol) {
    const b0 = v128.load(pb);
    const b1 = lanes == 8 ? v128.load(pb, 16) : zero;
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    if (lanes == 8) c01 = madd(x, b1, c01);
    if (rows == 4) {
      x = v128.load32_splat(pa + a1);
      c10 = madd(x, b0, c10);
      if (lanes == 8) c11 = madd(x, b1, c11);
      x = v128.load32_splat(pa + a2);
      c20 = madd(x, b0, c20);
      if (lanes == 8) c21 = madd(x, b1, c21);
      x = v128.load32_splat(pa + a3);
      c30 = madd(x, b0, c30);
      if (lanes == 8) c31 = madd(x, b1, c31);
    }
  }
  const bias1 = bias ? bias + 16 : 0;
  v128.store(pc, last ? finish(c00, bias, relu) : c00);
  if (lanes == 8) v128.store(pc, last ? finish(c01, bias1, relu) : c01, 16);
  if (rows == 4) {
    v128.store(pc + ldc, last ? finish(c10, bias, relu) : c10);
    v128.store(pc + 2 * ldc, last ? finish(c20, bias, relu) : c20);
    v128.store(pc + 3 * ldc, last ? finish(c30, bias, relu) : c30);
    if (lanes == 8) {
      v128.store(pc + ldc, last ? finish(c11, bias1, relu) : c11, 16);
      v128.store(pc + 2 * ldc, last ? finish(c21, bias1, relu) : c21, 16);
      v128.store(pc + 3 * ldc, last ? finish(c31, bias1, relu) : c31, 16);
    }
  }
}

/** One block of `rows` rows (4 or 1, a constant) of c over columns j0 … j1: tiles of 8, of 4, then single columns. */
// @ts-ignore: decorator
@inline
function gemmRows(pa: usize, aRow: usize, aCol: usize, pbRow: usize, ldb: usize, pcRow: usize, ldc: usize, kc: i32, first: bool, last: bool, bias: usize, relu: bool, j0: i32, j1: i32, rows: i32): void {
  const j8 = j0 + ((j1 - j0) & ~7);
  const j4 = j8 + ((j1 - j8) & ~3);
  let j = j0;
  for (; j < j8; j += 8) {
    const at = <usize>j << 2;
    gemmTile(pa, aRow, aCol, pbRow + at, ldb, pcRow + at, ldc, kc, first, last, bias ? bias + at : 0, relu, rows, 8);
  }
  for (; j < j4; j += 4) {
    const at = <usize>j << 2;
    gemmTile(pa, aRow, aCol, pbRow + at, ldb, pcRow + at, ldc, kc, first, last, bias ? bias + at : 0, relu, rows, 4);
  }
  if (j == j1) return;
  const at = <usize>j << 2;
  if (rows == 4) {
    gemmTailColumns(pa, aRow, aCol, pbRow + at, ldb, pcRow + at, ldc, kc, first, last, bias ? bias + at : 0, relu, j1 - j);
    return;
  }
  for (; j < j1; j++) {
    const at = <usize>j << 2;
    gemmTile(pa, aRow, aCol, pbRow + at, ldb, pcRow + at, ldc, kc, first, last, bias ? bias + at : 0, relu, 1, 1);
  }
}

/**
 * The last `count` (1–3) columns of 4 rows of c, each element the single-column tile's chain (a
 * product then a sum, never fused, steps in order), 4 rows in the lanes of one vector per column:
 * the same bits as one element at a time, whose 256-step chains ran one after the other (a
 * 784-256-256-10 MLP's last layer spent ~3/4 of its time in its 2 last columns).
 */
function gemmTailColumns(pa: usize, aRow: usize, aCol: usize, pb: usize, ldb: usize, pc: usize, ldc: usize, kc: i32, first: bool, last: bool, bias: usize, relu: bool, count: i32): void {
  const zero = f32x4.splat(0);
  let c0 = zero, c1 = zero, c2 = zero;
  const r1 = ldc, r2 = 2 * ldc, r3 = 3 * ldc;
  if (!first) {
    c0 = v128.load32_lane(pc + r3, v128.load32_lane(pc + r2, v128.load32_lane(pc + r1, v128.load32_zero(pc), 1), 2), 3);
    if (count > 1) c1 = v128.load32_lane(pc + r3, v128.load32_lane(pc + r2, v128.load32_lane(pc + r1, v128.load32_zero(pc, 4), 1, 4), 2, 4), 3, 4);
    if (count > 2) c2 = v128.load32_lane(pc + r3, v128.load32_lane(pc + r2, v128.load32_lane(pc + r1, v128.load32_zero(pc, 8), 1, 8), 2, 8), 3, 8);
  }
  // a' of the 4 rows at step p: one vector load where they are adjacent (a used transposed).
  const adjacent = aRow == 4;
  const a1 = aRow, a2 = 2 * aRow, a3 = 3 * aRow;
  for (let p = 0; p < kc; p++, pb += ldb, pa += aCol) {
    const x = adjacent
      ? v128.load(pa)
      : v128.load32_lane(pa + a3, v128.load32_lane(pa + a2, v128.load32_lane(pa + a1, v128.load32_zero(pa), 1), 2), 3);
    c0 = f32x4.add(c0, f32x4.mul(x, v128.load32_splat(pb)));
    if (count > 1) c1 = f32x4.add(c1, f32x4.mul(x, v128.load32_splat(pb, 4)));
    if (count > 2) c2 = f32x4.add(c2, f32x4.mul(x, v128.load32_splat(pb, 8)));
  }
  if (last) {
    if (bias) {
      c0 = f32x4.add(c0, v128.load32_splat(bias));
      if (count > 1) c1 = f32x4.add(c1, v128.load32_splat(bias, 4));
      if (count > 2) c2 = f32x4.add(c2, v128.load32_splat(bias, 8));
    }
    if (relu) {
      c0 = f32x4.max(c0, zero);
      c1 = f32x4.max(c1, zero);
      c2 = f32x4.max(c2, zero);
    }
  }
  tailStore(pc, ldc, c0);
  if (count > 1) tailStore(pc + 4, ldc, c1);
  if (count > 2) tailStore(pc + 8, ldc, c2);
}

/** The 4 lanes of `v` to one column of 4 rows of c, `ldc` bytes apart. */
// @ts-ignore: decorator
@inline
function tailStore(pc: usize, ldc: usize, v: v128): void {
  v128.store32_lane(pc, v, 0);
  v128.store32_lane(pc + ldc, v, 1);
  v128.store32_lane(pc + 2 * ldc, v, 2);
  v128.store32_lane(pc + 3 * ldc, v, 3);
}

/**
 * c [m, n] = a' [m, k] · b [k, n], plus bias [n] (at `bias`; 0: none), then max(·, 0) with `relu`.
 * a' (i, p) is read at a + 4·(i·aRow + p·aCol): a [m, k] row-major is (k, 1), a [k, m] used
 * transposed is (1, m). b and c are row-major. With k = 0, c is the bias (or 0).
 */
export function gemm(a: usize, aRow: i32, aCol: i32, b: usize, c: usize, m: i32, k: i32, n: i32, bias: usize, relu: bool): void {
  const rowA = <usize>aRow << 2;
  const colA = <usize>aCol << 2;
  const ldb = <usize>n << 2;
  const ldc = ldb;
  const blockCols = max(8, (GEMM_BLOCK_FLOATS / max(1, min(k, GEMM_KC))) & ~7);
  let p0 = 0;
  do {
    const kc = min(GEMM_KC, k - p0);
    const first = p0 == 0;
    const last = p0 + GEMM_KC >= k;
    const pbRow = b + <usize>p0 * ldb;
    for (let j0 = 0; j0 < n; j0 += blockCols) {
      const j1 = min(n, j0 + blockCols);
      let i = 0;
      for (; i + 4 <= m; i += 4)
        gemmRows(a + <usize>i * rowA + <usize>p0 * colA, rowA, colA, pbRow, ldb, c + <usize>i * ldc, ldc, kc, first, last, bias, relu, j0, j1, 4);
      for (; i < m; i++)
        gemmRows(a + <usize>i * rowA + <usize>p0 * colA, rowA, colA, pbRow, ldb, c + <usize>i * ldc, ldc, kc, first, last, bias, relu, j0, j1, 1);
    }
    p0 += GEMM_KC;
  } while (p0 < k);
}

/** dst [cols, rows] = src [rows, cols]ᵀ, in blocks of 4 × 4 floats. */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  const srcRow = <usize>cols << 2;
  const dstRow = <usize>rows << 2;
  for (let i = 0; i < r4; i += 4) {
    const s = src + <usize>i * srcRow;
    let j = 0;
    for (; j < c4; j += 4) {
      const at = s + (<usize>j << 2);
      const r0 = v128.load(at);
      const r1 = v128.load(at + srcRow);
      const r2 = v128.load(at + 2 * srcRow);
      const r3 = v128.load(at + 3 * srcRow);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const d = dst + <usize>j * dstRow + (<usize>i << 2);
      v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(d + dstRow, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(d + 2 * dstRow, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(d + 3 * dstRow, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (; j < cols; j++)
      for (let r = 0; r < 4; r++) store<f32>(dst + <usize>j * dstRow + (<usize>(i + r) << 2), load<f32>(s + <usize>r * srcRow + (<usize>j << 2)));
  }
  for (let i = r4; i < rows; i++)
    for (let j = 0; j < cols; j++) store<f32>(dst + <usize>j * dstRow + (<usize>i << 2), load<f32>(src + <usize>i * srcRow + (<usize>j << 2)));
}

/**
 * y [n, oh, ow, co] = the 2-D convolution (cross-correlation, as tfjs) of x [n, h, w, ci] (NHWC)
 * by f [kh, kw, ci, co], strides (sh, sw), dilations (dh, dwd), padding before (padTop, padLeft);
 * plus bias [co] (at `bias`; 0: none), then max(·, 0) with `relu`. Read in place, as `gemm` reads
 * its operands, without forming the columns: each output pixel sums its taps in order (rows,
 * columns, input channels), 4 pixels × 8 output channels at a time in registers. Pixels whose
 * window lies inside x are taken 4 at a time in order (across rows); the others one at a time,
 * skipping the taps in the padding (never multiplied by zero). The filter is read as it is: it
 * changes every step, and XNNPACK's convolution repacks it on every call.
 */
export function conv2d(x: usize, f: usize, bias: usize, y: usize, n: i32, h: i32, w: i32, ci: i32, oh: i32, ow: i32, co: i32, kh: i32, kw: i32, sh: i32, sw: i32, dh: i32, dwd: i32, padTop: i32, padLeft: i32, relu: bool): void {
  const pixel = <usize>co << 2;
  const xPixel = <usize>ci << 2;
  const xRow = <usize>w * xPixel;
  // The rows and columns whose taps are all inside x: oy·sh − padTop ≥ 0 and oy·sh + (kh−1)·dh − padTop < h.
  const oyLo = min(oh, firstInside(padTop, sh));
  const oyHi = max(oyLo, min(oh, firstInside(h + padTop - (kh - 1) * dh, sh)));
  const oxLo = min(ow, firstInside(padLeft, sw));
  const oxHi = max(oxLo, min(ow, firstInside(w + padLeft - (kw - 1) * dwd, sw)));
  // Up to 3 whole-window pixels waiting for a fourth: their tap (0, 0) in x and their output.
  let x0: usize = 0, x1: usize = 0, x2: usize = 0, o0: usize = 0, o1: usize = 0, o2: usize = 0;
  let waiting = 0;
  for (let b = 0; b < n; b++) {
    const image = y + <usize>(b * oh * ow) * pixel;
    // Columns inside x, row by row: whole windows in the queue, across rows; the other rows'
    // (some tap rows in the padding) 4 at a time along the row.
    for (let oy = 0; oy < oh; oy++) {
      const top = oy * sh - padTop;
      const ky0 = firstInside(-top, dh);
      const ky1 = min(kh, firstInside(h - top, dh));
      const rowX = x + <usize>((b * h + top) * w) * xPixel;
      const rowOut = image + <usize>(oy * ow) * pixel;
      const stepX = <usize>sw * xPixel;
      let ox = oxLo;
      let xAt = rowX + <usize>(ox * sw - padLeft) * xPixel;
      let out = rowOut + <usize>ox * pixel;
      if (oy < oyLo || oy >= oyHi) {
        for (; ox + 4 <= oxHi; ox += 4, xAt += 4 * stepX, out += 4 * pixel)
          convPixels(xAt, xAt + stepX, xAt + 2 * stepX, xAt + 3 * stepX, out, out + pixel, out + 2 * pixel, out + 3 * pixel, f, w, ci, co, kw, dh, dwd, ky0, ky1, 0, bias, relu, 4, false);
        for (; ox < oxHi; ox++, xAt += stepX, out += pixel)
          convPixels(xAt, 0, 0, 0, out, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, 0, bias, relu, 1, false);
        continue;
      }
      for (; ox < oxHi; ox++, xAt += stepX, out += pixel) {
        if (waiting == 3) {
          convPixels(x0, x1, x2, xAt, o0, o1, o2, out, f, w, ci, co, kw, dh, dwd, 0, kh, 0, bias, relu, 4, false);
          waiting = 0;
        } else if (waiting == 2) {
          x2 = xAt; o2 = out; waiting = 3;
        } else if (waiting == 1) {
          x1 = xAt; o1 = out; waiting = 2;
        } else {
          x0 = xAt; o0 = out; waiting = 1;
        }
      }
    }
    // Columns with taps in the padding, column by column: their whole tap rows 4 at a time down
    // the column (the same tap columns skipped for all 4), the others one at a time.
    for (let ox = 0; ox < ow; ox++) {
      if (ox == oxLo) ox = oxHi;
      if (ox >= ow) break;
      const left = ox * sw - padLeft;
      const stepX = <usize>sh * xRow;
      for (let oy = 0; oy < oh; ) {
        const top = oy * sh - padTop;
        const xAt = x + <usize>((b * h + top) * w + left) * xPixel;
        const out = image + <usize>(oy * ow + ox) * pixel;
        if (oy >= oyLo && oy + 4 <= oyHi) {
          const down = <usize>ow * pixel;
          convPixels(xAt, xAt + stepX, xAt + 2 * stepX, xAt + 3 * stepX, out, out + down, out + 2 * down, out + 3 * down, f, w, ci, co, kw, dh, dwd, 0, kh, left, bias, relu, 4, true);
          oy += 4;
          continue;
        }
        const ky0 = firstInside(-top, dh);
        const ky1 = min(kh, firstInside(h - top, dh));
        convPixels(xAt, 0, 0, 0, out, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, bias, relu, 1, true);
        oy++;
      }
    }
  }
  if (waiting > 0) convPixels(x0, 0, 0, 0, o0, 0, 0, 0, f, w, ci, co, kw, dh, dwd, 0, kh, 0, bias, relu, 1, false);
  if (waiting > 1) convPixels(x1, 0, 0, 0, o1, 0, 0, 0, f, w, ci, co, kw, dh, dwd, 0, kh, 0, bias, relu, 1, false);
  if (waiting > 2) convPixels(x2, 0, 0, 0, o2, 0, 0, 0, f, w, ci, co, kw, dh, dwd, 0, kh, 0, bias, relu, 1, false);
}

/**
 * All output channels of `pixels` (4 or 1) pixels, xr the byte address in x of pixel r's tap
 * (0, 0) (outside x where it is in the padding) and or its output: 8 channels at a time, then 4,
 * then one. Tap rows ky0…ky1 only (the same for all); with `checked`, only the tap columns inside
 * x (`left` the column of tap column 0, the same for all: pixels of one column). `pixels`,
 * `checked` and the widths are constants at each call: inlined, the other cases fold away.
 */
// @ts-ignore: decorator
@inline
function convPixels(x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, f: usize, w: i32, ci: i32, co: i32, kw: i32, dh: i32, dwd: i32, ky0: i32, ky1: i32, left: i32, bias: usize, relu: bool, pixels: i32, checked: bool): void {
  let k = 0;
  for (; k + 8 <= co; k += 8) convTile(x0, x1, x2, x3, o0, o1, o2, o3, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, pixels, 8, checked);
  for (; k + 4 <= co; k += 4) convTile(x0, x1, x2, x3, o0, o1, o2, o3, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, pixels, 4, checked);
  for (; k < co; k++) {
    convTile(x0, 0, 0, 0, o0, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, 1, 1, checked);
    if (pixels == 4) {
      convTile(x1, 0, 0, 0, o1, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, 1, 1, checked);
      convTile(x2, 0, 0, 0, o2, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, 1, 1, checked);
      convTile(x3, 0, 0, 0, o3, 0, 0, 0, f, w, ci, co, kw, dh, dwd, ky0, ky1, left, k, bias, relu, 1, 1, checked);
    }
  }
}

/**
 * Output channels [k, k + lanes) of `pixels` pixels (lanes 8 or 4 with 4 pixels; 8, 4 or 1 with
 * one), as `convPixels` gives them: Σ over tap rows, tap columns and input channels of x · f, in
 * that order, then the bias and ReLU.
 */
// @ts-ignore: decorator
@inline
function convTile(x0: usize, x1: usize, x2: usize, x3: usize, o0: usize, o1: usize, o2: usize, o3: usize, f: usize, w: i32, ci: i32, co: i32, kw: i32, dh: i32, dwd: i32, ky0: i32, ky1: i32, left: i32, k: i32, bias: usize, relu: bool, pixels: i32, lanes: i32, checked: bool): void {
  const zero = f32x4.splat(0);
  let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero, d0 = zero, d1 = zero;
  let s: f32 = 0;
  const ldf = <usize>co << 2;
  const fk = f + (<usize>k << 2);
  // Undilated and unchecked, a tap row's columns and channels are one run of x and of f, and f's
  // runs follow each other: one loop over the runs of all tap rows (x skips to the next tap row
  // after each); otherwise a run is one tap column's channels (checked: skipped in the padding).
  const merged = !checked && dwd == 1;
  const run = merged ? kw * ci : ci;
  const runs = merged ? ky1 - ky0 : (ky1 - ky0) * kw;
  const tapRow = <usize>(dh * w * ci) << 2;
  let tap = <usize>ky0 * tapRow;
  let pf = fk + <usize>(ky0 * kw * ci) * ldf;
  let kx = 0;
  for (let r = 0; r < runs; r++) {
    const column = left + kx * dwd;
    if (checked && (column < 0 || column >= w)) {
      pf += <usize>ci * ldf;
    } else {
      let px = merged ? tap : tap + (<usize>(kx * dwd * ci) << 2);
      for (let c = 0; c < run; c++, px += 4, pf += ldf) {
        if (lanes == 1) {
          s += load<f32>(x0 + px) * load<f32>(pf);
          continue;
        }
        const f0 = v128.load(pf);
        const f1 = lanes == 8 ? v128.load(pf, 16) : zero;
        let xs = v128.load32_splat(x0 + px);
        a0 = madd(xs, f0, a0);
        if (lanes == 8) a1 = madd(xs, f1, a1);
        if (pixels == 4) {
          xs = v128.load32_splat(x1 + px);
          b0 = madd(xs, f0, b0);
          if (lanes == 8) b1 = madd(xs, f1, b1);
          xs = v128.load32_splat(x2 + px);
          c0 = madd(xs, f0, c0);
          if (lanes == 8) c1 = madd(xs, f1, c1);
          xs = v128.load32_splat(x3 + px);
          d0 = madd(xs, f0, d0);
          if (lanes == 8) d1 = madd(xs, f1, d1);
        }
      }
    }
    if (merged) {
      tap += tapRow;
    } else if (++kx == kw) {
      kx = 0;
      tap += tapRow;
    }
  }
  const at = <usize>k << 2;
  if (lanes == 1) {
    if (bias) s += load<f32>(bias + at);
    if (relu) s = max<f32>(s, 0);
    store<f32>(o0 + at, s);
    return;
  }
  const bias0 = bias ? bias + at : 0;
  const bias1 = bias ? bias + at + 16 : 0;
  v128.store(o0 + at, finish(a0, bias0, relu));
  if (lanes == 8) v128.store(o0 + at, finish(a1, bias1, relu), 16);
  if (pixels == 4) {
    v128.store(o1 + at, finish(b0, bias0, relu));
    if (lanes == 8) v128.store(o1 + at, finish(b1, bias1, relu), 16);
    v128.store(o2 + at, finish(c0, bias0, relu));
    if (lanes == 8) v128.store(o2 + at, finish(c1, bias1, relu), 16);
    v128.store(o3 + at, finish(d0, bias0, relu));
    if (lanes == 8) v128.store(o3 + at, finish(d1, bias1, relu), 16);
  }
}

/** 1 when one of x's n floats is NaN or ±∞, else 0 (v − v is 0 for a finite v, NaN otherwise). */
export function anyNonFinite(x: usize, n: i32): i32 {
  let bad = f32x4.splat(0);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    const d = f32x4.sub(v, v);
    bad = v128.or(bad, f32x4.ne(d, d));
  }
  let tail = false;
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v - v != v - v) tail = true;
  }
  return v128.any_true(bad) || tail ? 1 : 0;
}

/**
 * out = dy · step(y) over n floats, as tfjs-core computes a ReLU's gradient (Step, then Multiply)
 * in one pass: step(y) is 1 where y > 0, 0 where y ≤ 0, NaN where y is NaN; the product rounds
 * exactly as Multiply's (dy, ±0, or NaN).
 */
export function reluGrad(dy: usize, y: usize, out: usize, n: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const vectorEnd = n & ~3;
  let i = 0;
  for (; i < vectorEnd; i += 4) {
    const at = <usize>i << 2;
    const yv = v128.load(y + at);
    const step = v128.bitselect(yv, v128.bitselect(one, zero, f32x4.gt(yv, zero)), f32x4.ne(yv, yv));
    v128.store(out + at, f32x4.mul(v128.load(dy + at), step));
  }
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const yi = load<f32>(y + at);
    const step: f32 = yi != yi ? yi : yi > 0 ? 1 : 0;
    store<f32>(out + at, load<f32>(dy + at) * step);
  }
}
