/*
 * One step of TF.js's Adam on a variable, as src/tfjs/wasm/simd/kernels.ts's `adam` computes it,
 * float32 operation for operation (products and sums unfused: -ffp-contract=off; division and
 * square root are exact in IEEE arithmetic at any width), 16 or 8 floats at a time: the divisions
 * and square roots, which bound the WebAssembly kernel, at the CPU's own width.
 * m ← m·β1 + g·c1, v ← v·β2 + (g·g)·c2, p ← ((m/d1) / (√(v/d2) + ε))·rate + p·decay (no product
 * where decay is 1). Outputs may be the inputs they replace (each element is read before it is written).
 * Subnormal moments are stored as +0, as the WebAssembly kernel stores them (its comment says why).
 */
#include "adam.h"

#include <float.h>
#include <math.h>

#include "gemm.h"

static void adamTail(const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut, int from, int n, const AdamScalars *s) {
  for (int i = from; i < n; i++) {
    const float gi = g[i];
    float mi = m[i] * s->b1 + gi * s->c1;
    float vi = v[i] * s->b2 + gi * gi * s->c2;
    if (fabsf(mi) < FLT_MIN) mi = 0.0f;
    if (fabsf(vi) < FLT_MIN) vi = 0.0f;
    float pi = p[i];
    if (s->decay != 1.0f) pi = pi * s->decay;
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = ((mi / s->d1) / (sqrtf(vi / s->d2) + s->eps)) * s->rate + pi;
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx512f"))) static int adam512(const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut, int n, const AdamScalars *s) {
  const __m512 b1 = _mm512_set1_ps(s->b1), c1 = _mm512_set1_ps(s->c1), b2 = _mm512_set1_ps(s->b2), c2 = _mm512_set1_ps(s->c2);
  const __m512 d1 = _mm512_set1_ps(s->d1), d2 = _mm512_set1_ps(s->d2), eps = _mm512_set1_ps(s->eps), rate = _mm512_set1_ps(s->rate);
  const __m512 decay = _mm512_set1_ps(s->decay), normal = _mm512_set1_ps(FLT_MIN);
  const int decayed = s->decay != 1.0f;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 gi = _mm512_loadu_ps(g + i);
    const __m512 mRaw = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(m + i), b1), _mm512_mul_ps(gi, c1));
    const __m512 vRaw = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(v + i), b2), _mm512_mul_ps(_mm512_mul_ps(gi, gi), c2));
    const __m512 mi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(mRaw), normal, _CMP_NLT_UQ), mRaw);
    const __m512 vi = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_abs_ps(vRaw), normal, _CMP_NLT_UQ), vRaw);
    __m512 pi = _mm512_loadu_ps(p + i);
    if (decayed) pi = _mm512_mul_ps(pi, decay);
    _mm512_storeu_ps(mOut + i, mi);
    _mm512_storeu_ps(vOut + i, vi);
    const __m512 root = _mm512_add_ps(_mm512_sqrt_ps(_mm512_div_ps(vi, d2)), eps);
    _mm512_storeu_ps(pOut + i, _mm512_add_ps(_mm512_mul_ps(_mm512_div_ps(_mm512_div_ps(mi, d1), root), rate), pi));
  }
  adamTail(p, g, m, v, pOut, mOut, vOut, i, n, s);
  return 0;
}

__attribute__((target("avx2"))) static int adam256(const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut, int n, const AdamScalars *s) {
  const __m256 b1 = _mm256_set1_ps(s->b1), c1 = _mm256_set1_ps(s->c1), b2 = _mm256_set1_ps(s->b2), c2 = _mm256_set1_ps(s->c2);
  const __m256 d1 = _mm256_set1_ps(s->d1), d2 = _mm256_set1_ps(s->d2), eps = _mm256_set1_ps(s->eps), rate = _mm256_set1_ps(s->rate);
  const __m256 decay = _mm256_set1_ps(s->decay), normal = _mm256_set1_ps(FLT_MIN), sign = _mm256_set1_ps(-0.0f);
  const int decayed = s->decay != 1.0f;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 mRaw = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), b1), _mm256_mul_ps(gi, c1));
    const __m256 vRaw = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), b2), _mm256_mul_ps(_mm256_mul_ps(gi, gi), c2));
    const __m256 mi = _mm256_andnot_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, mRaw), normal, _CMP_LT_OQ), mRaw);
    const __m256 vi = _mm256_andnot_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, vRaw), normal, _CMP_LT_OQ), vRaw);
    __m256 pi = _mm256_loadu_ps(p + i);
    if (decayed) pi = _mm256_mul_ps(pi, decay);
    _mm256_storeu_ps(mOut + i, mi);
    _mm256_storeu_ps(vOut + i, vi);
    const __m256 root = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vi, d2)), eps);
    _mm256_storeu_ps(pOut + i, _mm256_add_ps(_mm256_mul_ps(_mm256_div_ps(_mm256_div_ps(mi, d1), root), rate), pi));
  }
  adamTail(p, g, m, v, pOut, mOut, vOut, i, n, s);
  return 0;
}
#endif

int adam(const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut, int n, const AdamScalars *s) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const int level = gemm_level();
  if (level == 2) return adam512(p, g, m, v, pOut, mOut, vOut, n, s);
  if (level == 1) return adam256(p, g, m, v, pOut, mOut, vOut, n, s);
#endif
  (void)p, (void)g, (void)m, (void)v, (void)pOut, (void)mOut, (void)vOut, (void)n, (void)s;
  return 1;
}
