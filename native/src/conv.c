/*
 * Convolutions for the wasm backend's heap with AVX-512: the same bits as the relaxed-SIMD build of
 * src/tfjs/wasm/simd/kernels.ts (`conv2d`, `convFilterGrad`) on a CPU with FMA. Each output is one
 * chain of fused multiply-adds in that build's order, taps in the padding skipped (not multiplied
 * by zero: a masked multiply-add leaves the sum as it is), then the bias and ReLU; the last
 * co mod 4 output channels, which that build sums one at a time, are products then sums.
 * Built with -ffp-contract=off.
 */
#include "conv.h"

#include <stdlib.h>
#include <string.h>

#include "gemm.h"

static inline int min(int a, int b) { return a < b ? a : b; }
static inline int max(int a, int b) { return a > b ? a : b; }

/* The smallest o ≥ 0 with o·stride ≥ from. */
static inline int firstInside(int from, int stride) { return from <= 0 ? 0 : (from + stride - 1) / stride; }

static void finishRow(float *row, int co, const float *bias, int relu) {
  if (!bias && !relu) return;
  for (int j = 0; j < co; j++) {
    float v = row[j];
    if (bias) v = v + bias[j];
    if (relu && !(v != v)) v = v > 0.0f ? v : 0.0f;
    row[j] = v;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

/* ci zeros: where a pixel's tap lies in the padding, its x is read here (and masked off). */
static _Thread_local float *zeros;
static _Thread_local int zerosFloats;

static const float *zerosOf(int floats) {
  if (floats > zerosFloats) {
    free(zeros);
    zeros = calloc((size_t)floats, sizeof(float));
    zerosFloats = zeros ? floats : 0;
  }
  return zeros;
}

/*
 * 8 output pixels (i0 … i0 + 7 in output order, fewer at the end) × output channels j0 … j0 + 16·nv − 1
 * (nv vectors a pixel, 1 or 2, a constant once inlined; `lanes` mask the last panel's): Σ over taps
 * (ky, kx) in order, then input channels, of x · f, each pixel's taps outside x masked off. Where
 * every pixel's tap row lies wholly inside x or wholly outside it (undilated columns), the row's
 * columns and channels are one run.
 */
__attribute__((target("avx512f,fma"), always_inline)) static inline void convTileOf(const float *x, const float *f, float *y, const ConvShape *s, int i0, int pixels, int j0, __mmask16 lanes0, __mmask16 lanes1, const float *zero, const int nv) {
  int iy[8], ix[8];
  const float *base[8];
  int colsInside = s->dw == 1;
  for (int r = 0; r < 8; r++) {
    const int i = min(i0 + r, i0 + pixels - 1);
    const int b = i / (s->oh * s->ow), rest = i % (s->oh * s->ow);
    iy[r] = (rest / s->ow) * s->sh - s->padTop;
    ix[r] = (rest % s->ow) * s->sw - s->padLeft;
    base[r] = x + (int64_t)b * s->h * s->w * s->ci;
    colsInside &= ix[r] >= 0 && ix[r] + (s->kw - 1) * s->dw < s->w;
  }
  __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  const int64_t ldf = s->co;
  for (int ky = 0; ky < s->kh; ky++) {
    const int merged = colsInside;
    const int taps = merged ? 1 : s->kw;
    const int run = merged ? s->kw * s->ci : s->ci;
    for (int kx = 0; kx < taps; kx++) {
      const float *p[8];
      __mmask16 m[8];
      int any = 0;
      for (int r = 0; r < 8; r++) {
        const int yy = iy[r] + ky * s->dh, xx = ix[r] + kx * s->dw;
        const int inside = r < pixels && yy >= 0 && yy < s->h && xx >= 0 && xx < s->w;
        p[r] = inside ? base[r] + ((int64_t)yy * s->w + xx) * s->ci : zero;
        m[r] = inside ? 0xFFFF : 0;
        any |= inside;
      }
      if (!any) continue;
      const float *pf = f + ((int64_t)(ky * s->kw + kx) * s->ci) * ldf + j0;
      for (int c = 0; c < run; c++, pf += ldf) {
        const __m512 b0 = _mm512_maskz_loadu_ps(lanes0, pf);
        const __m512 b1 = nv == 2 ? _mm512_maskz_loadu_ps(lanes1, pf + 16) : b0;
#define ROW(r)                                                                  \
  {                                                                             \
    const __m512 xr = _mm512_set1_ps(p[r][c]);                                  \
    c##r##0 = _mm512_mask3_fmadd_ps(xr, b0, c##r##0, m[r]);                     \
    if (nv == 2) c##r##1 = _mm512_mask3_fmadd_ps(xr, b1, c##r##1, m[r]);        \
  }
        ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
      }
    }
  }
  const __m512 out[16] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71};
  for (int r = 0; r < pixels; r++) {
    float *row = y + (int64_t)(i0 + r) * s->co + j0;
    _mm512_mask_storeu_ps(row, lanes0, out[2 * r]);
    if (nv == 2) _mm512_mask_storeu_ps(row + 16, lanes1, out[2 * r + 1]);
  }
}

__attribute__((target("avx512f,fma"))) static void convTile16(const float *x, const float *f, float *y, const ConvShape *s, int i0, int pixels, int j0, __mmask16 lanes0, const float *zero) {
  convTileOf(x, f, y, s, i0, pixels, j0, lanes0, 0, zero, 1);
}

__attribute__((target("avx512f,fma"))) static void convTile32(const float *x, const float *f, float *y, const ConvShape *s, int i0, int pixels, int j0, __mmask16 lanes0, __mmask16 lanes1, const float *zero) {
  convTileOf(x, f, y, s, i0, pixels, j0, lanes0, lanes1, zero, 2);
}

/*
 * dw rows tap·ci + c0 … c0 + 7 (8 input channels of one tap) × channels j0 … j0 + 31: Σ over the
 * positions of image b whose tap lies inside x, in order, after the sums already in dw.
 */
__attribute__((target("avx512f,fma"))) static void filterTile(const float *x, const float *dy, float *dw, const ConvShape *s, int b, int ky, int kx, int c0, int j0, __mmask16 lanes0, __mmask16 lanes1) {
  const int oy0 = firstInside(s->padTop - ky * s->dh, s->sh);
  const int oy1 = min(s->oh, firstInside(s->padTop - ky * s->dh + s->h, s->sh));
  const int ox0 = firstInside(s->padLeft - kx * s->dw, s->sw);
  const int ox1 = min(s->ow, firstInside(s->padLeft - kx * s->dw + s->w, s->sw));
  const int64_t ldw = s->co;
  float *out = dw + ((int64_t)(ky * s->kw + kx) * s->ci + c0) * ldw + j0;
  __m512 c[16];
  for (int r = 0; r < 8; r++) {
    c[2 * r] = _mm512_maskz_loadu_ps(lanes0, out + r * ldw);
    c[2 * r + 1] = _mm512_maskz_loadu_ps(lanes1, out + r * ldw + 16);
  }
  __m512 c00 = c[0], c01 = c[1], c10 = c[2], c11 = c[3], c20 = c[4], c21 = c[5], c30 = c[6], c31 = c[7];
  __m512 c40 = c[8], c41 = c[9], c50 = c[10], c51 = c[11], c60 = c[12], c61 = c[13], c70 = c[14], c71 = c[15];
  const float *xb = x + (int64_t)b * s->h * s->w * s->ci + c0;
  const float *gb = dy + (int64_t)b * s->oh * s->ow * s->co + j0;
  for (int oy = oy0; oy < oy1; oy++) {
    const float *xp = xb + ((int64_t)(oy * s->sh + ky * s->dh - s->padTop) * s->w + ox0 * s->sw + kx * s->dw - s->padLeft) * s->ci;
    const float *gp = gb + ((int64_t)oy * s->ow + ox0) * s->co;
    for (int ox = ox0; ox < ox1; ox++, xp += (int64_t)s->sw * s->ci, gp += s->co) {
      const __m512 b0 = _mm512_maskz_loadu_ps(lanes0, gp), b1 = _mm512_maskz_loadu_ps(lanes1, gp + 16);
#define ROW(r)                                         \
  {                                                    \
    const __m512 xr = _mm512_set1_ps(xp[r]);           \
    c##r##0 = _mm512_fmadd_ps(xr, b0, c##r##0);        \
    c##r##1 = _mm512_fmadd_ps(xr, b1, c##r##1);        \
  }
      ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
    }
  }
  const __m512 res[16] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71};
  for (int r = 0; r < 8; r++) {
    _mm512_mask_storeu_ps(out + r * ldw, lanes0, res[2 * r]);
    _mm512_mask_storeu_ps(out + r * ldw + 16, lanes1, res[2 * r + 1]);
  }
}

/* The masks of the fused channels of the panel from j0: channels below co & ~3 (the others are summed unfused after). */
static void panelLanes(int co, int j0, __mmask16 *lanes0, __mmask16 *lanes1) {
  const int fused = (co & ~3) - j0;
  const int n0 = min(16, max(0, fused)), n1 = min(16, max(0, fused - 16));
  *lanes0 = (__mmask16)((1u << n0) - 1);
  *lanes1 = (__mmask16)((1u << n1) - 1);
}
#endif

int conv2d(const float *x, const float *f, const float *bias, float *y, const ConvShape *s, int relu) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  /* Fewer than 16 output channels would not fill a vector; a tap row of fewer than 16 floats (the first layer of an image model: 3 taps × 1 channel) spends more on finding its pixels' taps than on their multiply-adds: the WebAssembly kernel is as fast there. */
  if (gemm_level() < 2 || s->co < 16 || s->kw * s->ci < 16) return 1;
  const float *zero = zerosOf(s->kw * s->ci);
  if (!zero) return -1;
  const int pixels = s->n * s->oh * s->ow;
  for (int i0 = 0; i0 < pixels; i0 += 8)
    for (int j0 = 0; j0 < (s->co & ~3); j0 += 32) {
      __mmask16 lanes0, lanes1;
      panelLanes(s->co, j0, &lanes0, &lanes1);
      if (lanes1) convTile32(x, f, y, s, i0, min(8, pixels - i0), j0, lanes0, lanes1, zero);
      else convTile16(x, f, y, s, i0, min(8, pixels - i0), j0, lanes0, zero);
    }
  /* The last co mod 4 channels: products, then sums, taps in the padding skipped. */
  for (int j = s->co & ~3; j < s->co; j++)
    for (int i = 0; i < pixels; i++) {
      const int b = i / (s->oh * s->ow), rest = i % (s->oh * s->ow);
      const int top = (rest / s->ow) * s->sh - s->padTop, left = (rest % s->ow) * s->sw - s->padLeft;
      float sum = 0.0f;
      for (int ky = 0; ky < s->kh; ky++)
        for (int kx = 0; kx < s->kw; kx++) {
          const int yy = top + ky * s->dh, xx = left + kx * s->dw;
          if (yy < 0 || yy >= s->h || xx < 0 || xx >= s->w) continue;
          const float *xp = x + (((int64_t)b * s->h + yy) * s->w + xx) * s->ci;
          const float *fp = f + ((int64_t)(ky * s->kw + kx) * s->ci) * s->co + j;
          for (int c = 0; c < s->ci; c++) {
            const float product = xp[c] * fp[(int64_t)c * s->co];
            sum = sum + product;
          }
        }
      y[(int64_t)i * s->co + j] = sum;
    }
  for (int i = 0; i < pixels; i++) finishRow(y + (int64_t)i * s->co, s->co, bias, relu);
  return 0;
#else
  (void)x, (void)f, (void)bias, (void)y, (void)s, (void)relu;
  return 1;
#endif
}

int conv_filter_grad(const float *x, const float *dy, float *dw, const ConvShape *s) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (gemm_level() < 2 || s->co < 32 || s->ci % 8 != 0) return 1;
  memset(dw, 0, sizeof(float) * (size_t)s->kh * s->kw * s->ci * s->co);
  for (int b = 0; b < s->n; b++)
    for (int ky = 0; ky < s->kh; ky++)
      for (int kx = 0; kx < s->kw; kx++)
        for (int c0 = 0; c0 < s->ci; c0 += 8)
          for (int j0 = 0; j0 < (s->co & ~3); j0 += 32) {
            __mmask16 lanes0, lanes1;
            panelLanes(s->co, j0, &lanes0, &lanes1);
            filterTile(x, dy, dw, s, b, ky, kx, c0, j0, lanes0, lanes1);
          }
  /* The last co mod 4 channels: products, then sums, image by image, positions in order. */
  for (int ky = 0; ky < s->kh; ky++)
    for (int kx = 0; kx < s->kw; kx++) {
      const int oy0 = firstInside(s->padTop - ky * s->dh, s->sh);
      const int oy1 = min(s->oh, firstInside(s->padTop - ky * s->dh + s->h, s->sh));
      const int ox0 = firstInside(s->padLeft - kx * s->dw, s->sw);
      const int ox1 = min(s->ow, firstInside(s->padLeft - kx * s->dw + s->w, s->sw));
      for (int c = 0; c < s->ci; c++)
        for (int j = s->co & ~3; j < s->co; j++) {
          float sum = 0.0f;
          for (int b = 0; b < s->n; b++)
            for (int oy = oy0; oy < oy1; oy++)
              for (int ox = ox0; ox < ox1; ox++) {
                const int yy = oy * s->sh + ky * s->dh - s->padTop, xx = ox * s->sw + kx * s->dw - s->padLeft;
                const float product = x[(((int64_t)b * s->h + yy) * s->w + xx) * s->ci + c] * dy[(((int64_t)b * s->oh + oy) * s->ow + ox) * s->co + j];
                sum = sum + product;
              }
          dw[((int64_t)(ky * s->kw + kx) * s->ci + c) * s->co + j] = sum;
        }
    }
  return 0;
#else
  (void)x, (void)dy, (void)dw, (void)s;
  return 1;
#endif
}
