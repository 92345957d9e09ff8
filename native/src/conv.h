#ifndef MOSAIC_CONV_H
#define MOSAIC_CONV_H
#include <stdint.h>

/* A 2-D NHWC convolution's geometry: x [n, h, w, ci], y [n, oh, ow, co], filter [kh, kw, ci, co]. */
typedef struct {
  int n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, padTop, padLeft;
} ConvShape;

/*
 * y = conv(x, f) + bias, then max(·, 0) with relu; the same bits as the relaxed build's conv2d
 * (see conv.c). Returns 0; 1 where it declines (no AVX-512, fewer than 16 output channels, or a
 * tap row kw·ci of fewer than 16 floats: nothing written); −1 out of memory.
 */
int conv2d(const float *x, const float *f, const float *bias, float *y, const ConvShape *s, int relu);

/* dw = the filter gradient of x by dy, as the relaxed build's convFilterGrad. Returns 0; 1 where it declines (no AVX-512, ci not a multiple of 8, or co < 32). */
int conv_filter_grad(const float *x, const float *dy, float *dw, const ConvShape *s);

#endif
