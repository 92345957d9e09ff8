/*
 * Matrix products for the wasm backend's heap, with the CPU's own vector width: c [m, n] =
 * a' [m, k] · b [k, n], plus bias [n], then max(·, 0). The same bits as the relaxed-SIMD build of
 * src/tfjs/wasm/simd/kernels.ts (`gemm`) on a CPU with FMA: each c[i][j] is one chain of fused
 * multiply-adds over p = 0 … k−1 in order, from 0, then + bias[j], then max(·, 0) (NaN stays NaN);
 * the last n mod 4 columns, which that build sums one at a time, are products then sums (not
 * fused). Only how the chains are grouped differs: tiles of MR rows × NR columns in registers,
 * over blocks of at most KC steps of p (a tile resumed from c is the same chain), a packed, b read
 * in place where its rows are contiguous.
 * Built with -ffp-contract=off so that the compiler fuses nothing on its own.
 */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MOSAIC_X86 1
#endif

enum { KC = 256, MR_MAX = 8, NR_MAX = 32 };

/* Packed operands: per thread (a worker thread loads its own instance but shares this code). */
static _Thread_local float *scratch;
static _Thread_local size_t scratchFloats;

static float *scratchOf(size_t floats) {
  if (floats <= scratchFloats) return scratch;
  free(scratch);
  size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
  scratch = aligned_alloc(64, bytes);
  scratchFloats = scratch ? floats : 0;
  return scratch;
}

/* At most this level (the tests run the AVX2 kernels on a CPU with AVX-512): per thread, as the scratch. */
static _Thread_local int levelLimit = 2;

int gemm_limit_level(int limit) {
  levelLimit = limit < 0 ? 0 : limit > 2 ? 2 : limit;
  return gemm_level();
}

/* What the CPU has (read once: every kernel call asks). */
static int cpuLevel(void) {
  static int level = -1;
  if (level >= 0) return level;
  int found = 0;
#ifdef MOSAIC_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) found = 2;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) found = 1;
#endif
  level = found;
  return level;
}

int gemm_level(void) {
  const int level = cpuLevel();
  return level < levelLimit ? level : levelLimit;
}

typedef void TileFn(int kc, const float *pa, const float *pb, int64_t ldb, float *c, int64_t ldc, int first);

#ifdef MOSAIC_X86
/* 8 rows × 32 columns (two 16-float vectors a row): 16 sums in registers. */
#define ROW16(r)                                  \
  x = _mm512_set1_ps(pa[r]);                      \
  c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0);      \
  c##r##1 = _mm512_fmadd_ps(x, b1, c##r##1);
#define LOAD16(r)                                                          \
  c##r##0 = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + (r) * ldc);  \
  c##r##1 = first ? _mm512_setzero_ps() : _mm512_loadu_ps(c + (r) * ldc + 16);
#define STORE16(r)                           \
  _mm512_storeu_ps(c + (r) * ldc, c##r##0);  \
  _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1);

__attribute__((target("avx512f,fma"))) static void tile512(int kc, const float *pa, const float *pb, int64_t ldb, float *c, int64_t ldc, int first) {
  __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, x;
  LOAD16(0) LOAD16(1) LOAD16(2) LOAD16(3) LOAD16(4) LOAD16(5) LOAD16(6) LOAD16(7)
  for (int p = 0; p < kc; p++, pa += 8, pb += ldb) {
    const __m512 b0 = _mm512_loadu_ps(pb), b1 = _mm512_loadu_ps(pb + 16);
    ROW16(0) ROW16(1) ROW16(2) ROW16(3) ROW16(4) ROW16(5) ROW16(6) ROW16(7)
  }
  STORE16(0) STORE16(1) STORE16(2) STORE16(3) STORE16(4) STORE16(5) STORE16(6) STORE16(7)
}

/* 6 rows × 16 columns (two 8-float vectors a row): 12 sums in registers. */
#define ROW8(r)                                \
  x = _mm256_set1_ps(pa[r]);                   \
  c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0);   \
  c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1);
#define LOAD8(r)                                                           \
  c##r##0 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc);  \
  c##r##1 = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc + 8);
#define STORE8(r)                           \
  _mm256_storeu_ps(c + (r) * ldc, c##r##0); \
  _mm256_storeu_ps(c + (r) * ldc + 8, c##r##1);

__attribute__((target("avx2,fma"))) static void tile256(int kc, const float *pa, const float *pb, int64_t ldb, float *c, int64_t ldc, int first) {
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, x;
  LOAD8(0) LOAD8(1) LOAD8(2) LOAD8(3) LOAD8(4) LOAD8(5)
  for (int p = 0; p < kc; p++, pa += 6, pb += ldb) {
    const __m256 b0 = _mm256_loadu_ps(pb), b1 = _mm256_loadu_ps(pb + 8);
    ROW8(0) ROW8(1) ROW8(2) ROW8(3) ROW8(4) ROW8(5)
  }
  STORE8(0) STORE8(1) STORE8(2) STORE8(3) STORE8(4) STORE8(5)
}
#endif

static inline int min(int a, int b) { return a < b ? a : b; }

/*
 * a's rows i0 … i0 + rows − 1 over kc steps of p, interleaved as the tiles read them:
 * to[p·mr + r] = a'(i0 + r, p0 + p), zeros for the rows past `rows`. Along the layout of a: where
 * a' is a transposed (aRow 1), the mr values of one p are adjacent; else each row's kc values are.
 */
static void packRows(float *to, const float *from, int64_t aRow, int64_t aCol, int kc, int rows, int mr) {
  if (aRow == 1) {
    for (int p = 0; p < kc; p++) {
      const float *src = from + (int64_t)p * aCol;
      float *dst = to + p * mr;
      for (int r = 0; r < rows; r++) dst[r] = src[r];
      for (int r = rows; r < mr; r++) dst[r] = 0.0f;
    }
    return;
  }
  for (int r = 0; r < mr; r++) {
    float *dst = to + r;
    if (r >= rows) {
      for (int p = 0; p < kc; p++) dst[p * mr] = 0.0f;
      continue;
    }
    const float *src = from + (int64_t)r * aRow;
    if (aCol == 1)
      for (int p = 0; p < kc; p++) dst[p * mr] = src[p];
    else
      for (int p = 0; p < kc; p++) dst[p * mr] = src[(int64_t)p * aCol];
  }
}

int gemm(const float *a, int64_t aRow, int64_t aCol, const float *b, int64_t bRow, int64_t bCol, float *c, int m, int k, int n, const float *bias, int relu) {
  const int level = gemm_level();
  TileFn *tile = 0;
  int mr = 0, nr = 0;
#ifdef MOSAIC_X86
  if (level == 2) tile = tile512, mr = 8, nr = 32;
  else if (level == 1) tile = tile256, mr = 6, nr = 16;
#endif
  if (!tile) return -1;
  if (n < nr) return 1; /* a tile would be mostly padding: the wasm kernel does better */
  if (m == 0) return 0;
  const int panels = (n + nr - 1) / nr;
  /* Blocks of at most KC steps, as equal as they can be (784 = 3 × 262 − 2, not 3 × 256 + 16). */
  const int blocks = k > 0 ? (k + KC - 1) / KC : 1;
  const int kcMax = k > 0 ? (k + blocks - 1) / blocks : 1;
  float *packB = scratchOf((size_t)kcMax * panels * nr + (size_t)kcMax * mr + MR_MAX * NR_MAX);
  if (!packB) return -1;
  float *packA = packB + (size_t)kcMax * panels * nr;
  float *edge = packA + (size_t)kcMax * mr;

  if (k == 0)
    for (int i = 0; i < m; i++) memset(c + (int64_t)i * n, 0, sizeof(float) * n);
  for (int p0 = 0; p0 < k; p0 += kcMax) {
    const int kc = min(kcMax, k - p0);
    const int first = p0 == 0;
    /* b's rows in place where they are contiguous (no copy of b, which is new at every step: a
       layer's weights); else, and for a last panel narrower than a tile, packed, zeros after. */
    const int direct = bCol == 1;
    for (int q = direct ? n / nr : 0; q < panels; q++) {
      const int j0 = q * nr, cols = min(nr, n - j0);
      float *to = packB + (size_t)q * kc * nr;
      const float *from = b + (int64_t)p0 * bRow + (int64_t)j0 * bCol;
      if (bCol == 1)
        for (int p = 0; p < kc; p++) memcpy(to + p * nr, from + (int64_t)p * bRow, sizeof(float) * cols);
      else /* b transposed (bRow 1): read along its rows, write down the panel */
        for (int j = 0; j < cols; j++)
          for (int p = 0; p < kc; p++) to[p * nr + j] = from[(int64_t)j * bCol + (int64_t)p * bRow];
      if (cols < nr)
        for (int p = 0; p < kc; p++) memset(to + p * nr + cols, 0, sizeof(float) * (nr - cols));
    }
    for (int i0 = 0; i0 < m; i0 += mr) {
      const int rows = min(mr, m - i0);
      packRows(packA, a + (int64_t)i0 * aRow + (int64_t)p0 * aCol, aRow, aCol, kc, rows, mr);
      for (int q = 0; q < panels; q++) {
        const int j0 = q * nr, cols = min(nr, n - j0);
        float *at = c + (int64_t)i0 * n + j0;
        const int inPlace = direct && cols == nr;
        const float *pb = inPlace ? b + (int64_t)p0 * bRow + j0 : packB + (size_t)q * kc * nr;
        const int64_t ldb = inPlace ? bRow : nr;
        if (rows == mr && cols == nr) {
          tile(kc, packA, pb, ldb, at, n, first);
          continue;
        }
        for (int r = 0; r < mr; r++)
          for (int j = 0; j < nr; j++) edge[r * nr + j] = !first && r < rows && j < cols ? at[(int64_t)r * n + j] : 0.0f;
        tile(kc, packA, pb, ldb, edge, nr, first);
        for (int r = 0; r < rows; r++) memcpy(at + (int64_t)r * n, edge + r * nr, sizeof(float) * cols);
      }
    }
  }
  /* The last n mod 4 columns: products, then sums. */
  for (int j = n & ~3; j < n; j++)
    for (int i = 0; i < m; i++) {
      float s = 0.0f;
      const float *ai = a + (int64_t)i * aRow;
      for (int p = 0; p < k; p++) {
        const float product = ai[(int64_t)p * aCol] * b[(int64_t)p * bRow + (int64_t)j * bCol];
        s = s + product;
      }
      c[(int64_t)i * n + j] = s;
    }
  if (bias || relu)
    for (int i = 0; i < m; i++) {
      float *row = c + (int64_t)i * n;
      for (int j = 0; j < n; j++) {
        float v = row[j];
        if (bias) v = v + bias[j];
        if (relu && !(v != v)) v = v > 0.0f ? v : 0.0f;
        row[j] = v;
      }
    }
  return 0;
}
