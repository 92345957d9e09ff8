/*
 * Node-API glue. gemm(heap, a, aRow, aCol, b, bRow, bCol, c, m, k, n, bias, relu): byte offsets
 * into an ArrayBuffer (the wasm backend's memory; bias 0 for none), strides in floats. Returns
 * true when it computed c, false when the product is too narrow for its tiles (the caller then
 * uses its own kernel); throws a RangeError for an operand outside the heap.
 */
#include <node_api.h>
#include <stdint.h>

#include "adam.h"
#include "conv.h"
#include "gemm.h"

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* The last byte read at offset + 4·((rows − 1)·rowStride + (cols − 1)·colStride) lies within the heap. */
static int within(int64_t offset, int64_t rows, int64_t rowStride, int64_t cols, int64_t colStride, int64_t size) {
  if (rows == 0 || cols == 0) return 1;
  return offset >= 0 && offset % 4 == 0 && offset + 4 * ((rows - 1) * rowStride + (cols - 1) * colStride) + 4 <= size;
}

/* The heap and `count` integers from argv[0 …], then one more argument into `last` where it is not NULL; false (a RangeError thrown) where they are not. */
static int heapAndInts(napi_env env, napi_callback_info info, size_t count, napi_value *last, char **heap, int64_t *size, int64_t *v) {
  const size_t expected = count + 1 + (last ? 1 : 0);
  size_t argc = expected;
  napi_value argv[32];
  void *data;
  size_t bytes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != expected || napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    fail(env, "a native kernel takes the heap, offsets and sizes");
    return 0;
  }
  for (size_t i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[i + 1], &v[i]) != napi_ok || v[i] < 0 || v[i] > UINT32_MAX) {
      fail(env, "a native kernel's offsets and sizes are integers in [0, 2^32)");
      return 0;
    }
  if (last) *last = argv[count + 1];
  *heap = data;
  *size = (int64_t)bytes;
  return 1;
}

/* The geometry from 15 integers (n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, padTop, padLeft); false where one is 2^31 or more, or a stride or dilation is 0. */
static int shapeOf(const int64_t *v, ConvShape *s) {
  for (int i = 0; i < 15; i++)
    if (v[i] > INT32_MAX) return 0;
  *s = (ConvShape){(int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4], (int)v[5], (int)v[6], (int)v[7], (int)v[8], (int)v[9], (int)v[10], (int)v[11], (int)v[12], (int)v[13], (int)v[14]};
  return s->sh > 0 && s->sw > 0 && s->dh > 0 && s->dw > 0;
}

/* Whether `floats` floats from byte `offset` lie within the heap. */
static int fits(int64_t offset, int64_t floats, int64_t size) { return floats == 0 || (offset % 4 == 0 && offset + 4 * floats <= size); }

static napi_value Gemm(napi_env env, napi_callback_info info) {
  int64_t v[11];
  napi_value last;
  char *base;
  int64_t size;
  if (!heapAndInts(env, info, 11, &last, &base, &size, v)) return NULL;
  bool relu;
  if (napi_get_value_bool(env, last, &relu) != napi_ok) return fail(env, "gemm: relu must be a boolean");
  const int64_t a = v[0], aRow = v[1], aCol = v[2], b = v[3], bRow = v[4], bCol = v[5], c = v[6], m = v[7], k = v[8], n = v[9], bias = v[10];
  const int64_t limit = INT32_MAX;
  if (m > limit || k > limit || n > limit || aRow > limit || aCol > limit || bRow > limit || bCol > limit) return fail(env, "gemm: sizes and strides under 2^31");
  if (!within(a, m, aRow, k, aCol, size) || !within(b, k, bRow, n, bCol, size) || !within(c, m, n, n, 1, size) || !(bias == 0 || within(bias, 1, 0, n, 1, size)))
    return fail(env, "gemm: an operand lies outside the heap");
  const int done = gemm((const float *)(base + a), aRow, aCol, (const float *)(base + b), bRow, bCol, (float *)(base + c), (int)m, (int)k, (int)n, bias ? (const float *)(base + bias) : NULL, relu);
  if (done < 0) return fail(env, "gemm: no kernel for this CPU, or out of memory");
  napi_value result;
  napi_get_boolean(env, done == 0, &result);
  return result;
}

/* conv2d(heap, x, f, bias, y, n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, padTop, padLeft, relu): true, or false where it declines. */
static napi_value Conv2d(napi_env env, napi_callback_info info) {
  int64_t v[19];
  napi_value last;
  char *heap;
  int64_t size;
  if (!heapAndInts(env, info, 19, &last, &heap, &size, v)) return NULL;
  bool relu;
  ConvShape s;
  if (napi_get_value_bool(env, last, &relu) != napi_ok || !shapeOf(v + 4, &s)) return fail(env, "conv2d: relu a boolean, sizes under 2^31, strides and dilations at least 1");
  const int64_t x = v[0], f = v[1], bias = v[2], y = v[3];
  if (!fits(x, (int64_t)s.n * s.h * s.w * s.ci, size) || !fits(f, (int64_t)s.kh * s.kw * s.ci * s.co, size) || !fits(y, (int64_t)s.n * s.oh * s.ow * s.co, size) || !(bias == 0 || fits(bias, s.co, size)))
    return fail(env, "conv2d: an operand lies outside the heap");
  const int done = conv2d((const float *)(heap + x), (const float *)(heap + f), bias ? (const float *)(heap + bias) : NULL, (float *)(heap + y), &s, relu);
  if (done < 0) return fail(env, "conv2d: out of memory");
  napi_value result;
  napi_get_boolean(env, done == 0, &result);
  return result;
}

/* convFilterGrad(heap, x, dy, dw, n, h, w, ci, oh, ow, co, kh, kw, sh, sw, dh, dw, padTop, padLeft): true, or false where it declines. */
static napi_value ConvFilterGrad(napi_env env, napi_callback_info info) {
  int64_t v[18];
  char *heap;
  int64_t size;
  if (!heapAndInts(env, info, 18, NULL, &heap, &size, v)) return NULL;
  ConvShape s;
  if (!shapeOf(v + 3, &s)) return fail(env, "convFilterGrad: sizes under 2^31, strides and dilations at least 1");
  const int64_t x = v[0], dy = v[1], dw = v[2];
  if (!fits(x, (int64_t)s.n * s.h * s.w * s.ci, size) || !fits(dy, (int64_t)s.n * s.oh * s.ow * s.co, size) || !fits(dw, (int64_t)s.kh * s.kw * s.ci * s.co, size))
    return fail(env, "convFilterGrad: an operand lies outside the heap");
  napi_value result;
  napi_get_boolean(env, conv_filter_grad((const float *)(heap + x), (const float *)(heap + dy), (float *)(heap + dw), &s) == 0, &result);
  return result;
}

/* adam(heap, p, g, m, v, pOut, mOut, vOut, n, b1, c1, b2, c2, d1, d2, eps, rate, decay): true, or false where it declines. */
static napi_value Adam(napi_env env, napi_callback_info info) {
  size_t argc = 18;
  napi_value argv[18];
  void *data;
  size_t bytes;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 18 || napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok)
    return fail(env, "adam takes the heap, 7 offsets, a size and 9 scalars");
  int64_t v[8];
  for (int i = 0; i < 8; i++)
    if (napi_get_value_int64(env, argv[i + 1], &v[i]) != napi_ok || v[i] < 0 || v[i] > UINT32_MAX) return fail(env, "adam: offsets and size are integers in [0, 2^32)");
  double d[9];
  for (int i = 0; i < 9; i++)
    if (napi_get_value_double(env, argv[i + 9], &d[i]) != napi_ok) return fail(env, "adam: the scalars must be numbers");
  const int64_t n = v[7], size = (int64_t)bytes;
  if (n > INT32_MAX) return fail(env, "adam: more than 2^31 values");
  for (int i = 0; i < 7; i++)
    if (!fits(v[i], n, size)) return fail(env, "adam: an operand lies outside the heap");
  char *heap = data;
  const AdamScalars s = {(float)d[0], (float)d[1], (float)d[2], (float)d[3], (float)d[4], (float)d[5], (float)d[6], (float)d[7], (float)d[8]};
  const int done = adam((const float *)(heap + v[0]), (const float *)(heap + v[1]), (const float *)(heap + v[2]), (const float *)(heap + v[3]), (float *)(heap + v[4]), (float *)(heap + v[5]), (float *)(heap + v[6]), (int)n, &s);
  napi_value result;
  napi_get_boolean(env, done == 0, &result);
  return result;
}

/* limitLevel(max): the kernels of this thread use at most that level (tests); returns the level in effect. */
static napi_value LimitLevel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t limit;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 || napi_get_value_int32(env, argv[0], &limit) != napi_ok)
    return fail(env, "limitLevel takes a level, 0 to 2");
  napi_value result;
  napi_create_int32(env, gemm_limit_level(limit), &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn, level;
  napi_create_function(env, "limitLevel", NAPI_AUTO_LENGTH, LimitLevel, NULL, &fn);
  napi_set_named_property(env, exports, "limitLevel", fn);
  napi_create_function(env, "adam", NAPI_AUTO_LENGTH, Adam, NULL, &fn);
  napi_set_named_property(env, exports, "adam", fn);
  napi_create_function(env, "gemm", NAPI_AUTO_LENGTH, Gemm, NULL, &fn);
  napi_set_named_property(env, exports, "gemm", fn);
  napi_create_function(env, "conv2d", NAPI_AUTO_LENGTH, Conv2d, NULL, &fn);
  napi_set_named_property(env, exports, "conv2d", fn);
  napi_create_function(env, "convFilterGrad", NAPI_AUTO_LENGTH, ConvFilterGrad, NULL, &fn);
  napi_set_named_property(env, exports, "convFilterGrad", fn);
  napi_create_int32(env, gemm_level(), &level);
  napi_set_named_property(env, exports, "level", level);
  return exports;
}
