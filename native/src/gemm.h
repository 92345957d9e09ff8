#ifndef MOSAIC_GEMM_H
#define MOSAIC_GEMM_H
#include <stdint.h>

/* Which multiply-add kernels this CPU runs: 0 none (no FMA, or not x86-64), 1 AVX2 + FMA, 2 AVX-512. */
int gemm_level(void);

/* Caps the level every kernel of this thread uses (0–2); returns the level then in effect. */
int gemm_limit_level(int limit);

/*
 * c [m, n] (row-major) = a' · b' + bias, then max(·, 0) with relu; a'(i, p) = a[i·aRow + p·aCol],
 * b'(p, j) = b[p·bRow + j·bCol] (strides in floats), bias n floats or NULL. See gemm.c. Returns 0;
 * 1 when n is narrower than one tile (nothing written: the caller's kernel does better); −1 when
 * no kernel runs on this CPU or scratch memory is short.
 */
int gemm(const float *a, int64_t aRow, int64_t aCol, const float *b, int64_t bRow, int64_t bCol, float *c, int m, int k, int n, const float *bias, int relu);

#endif
