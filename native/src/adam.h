#ifndef MOSAIC_ADAM_H
#define MOSAIC_ADAM_H

/* The scalars of one Adam step, float32 as tfjs-core rounds them (see adam.c). */
typedef struct {
  float b1, c1, b2, c2, d1, d2, eps, rate, decay;
} AdamScalars;

/* One step of Adam on n floats, as the relaxed build's `adam`; returns 0, or 1 where it declines (no AVX2). */
int adam(const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut, int n, const AdamScalars *s);

#endif
