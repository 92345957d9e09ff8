import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AdamArgs, Conv2dArgs, ConvFilterGradArgs } from './kernel-args.js';

/**
 * native/ (C, built by node-gyp with Mosaic): matrix products at the CPU's own vector width
 * (AVX-512, or AVX2 with FMA), convolutions (forward and filter gradient; AVX-512) and Adam's
 * step, on the wasm backend's heap, the same bits as the relaxed-SIMD kernels' (the same fused
 * multiply-adds in the same order). Optional: where it was not built, the CPU has no FMA, or
 * MOSAIC_NATIVE=0, the WebAssembly kernels do the work, and the numbers are the same.
 */
export interface NativeKernels {
  /** 1 AVX2 with FMA, 2 AVX-512 (0: none; then the addon is not used). */
  readonly level: number;
  /**
   * c [m, n] = a'·b' (+ bias, then max(·, 0) with relu) on byte offsets into `heap`; a'(i, p) at
   * a + 4·(i·aRow + p·aCol), b'(p, j) at b + 4·(p·bRow + j·bCol), c row-major; bias 0: none.
   * False (nothing written) where n is narrower than one of its tiles.
   */
  gemm(
    heap: ArrayBuffer,
    a: number,
    aRow: number,
    aCol: number,
    b: number,
    bRow: number,
    bCol: number,
    c: number,
    m: number,
    k: number,
    n: number,
    bias: number,
    relu: boolean,
  ): boolean;
  /**
   * The NHWC convolution as simd/kernels.ts's `conv2d` takes it (byte offsets x, f, bias (0: none),
   * y, then n, h, w, ci, oh, ow, co and the window), the same bits; false (nothing written) where it
   * declines: no AVX-512, fewer than 16 output channels, or a tap row (kw · ci) of fewer than 16 floats.
   */
  conv2d(heap: ArrayBuffer, ...args: Conv2dArgs): boolean;
  /**
   * The filter gradient as simd/kernels.ts's `convFilterGrad` takes it (x, dy, dw, n, h, w, ci, oh,
   * ow, co and the window), the same bits; false where it declines: no AVX-512, ci not a multiple
   * of 8, or fewer than 32 output channels.
   */
  convFilterGrad(heap: ArrayBuffer, ...args: ConvFilterGradArgs): boolean;
  /**
   * One step of Adam as simd/kernels.ts's `adam` takes it (p, g, m, v, pOut, mOut, vOut, n, then
   * its float32 scalars), the same bits, 16 or 8 floats at a time; false where it declines (no AVX2).
   */
  adam(heap: ArrayBuffer, ...args: AdamArgs): boolean;
  /** Caps the level this thread's kernels use (the tests run the AVX2 ones on an AVX-512 CPU); the level then in effect. */
  limitLevel(max: number): number;
}

// Built by scripts/build-native.mjs; this path reaches it from src/ (tests) and dist/ alike.
const ADDON = new URL('../../../native/build/Release/mosaic_kernels.node', import.meta.url);

let loaded: NativeKernels | null | undefined;

/** The native kernels where they were built and run on this CPU, else undefined (once per process). */
export function nativeKernels(): NativeKernels | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

function load(): NativeKernels | null {
  if (process.env.MOSAIC_NATIVE === '0' || !fs.existsSync(ADDON)) return null;
  const addon = createRequire(import.meta.url)(ADDON.pathname) as NativeKernels;
  return addon.level > 0 ? addon : null;
}

/** What runs the products here, in words (the benches print it beside the machine). */
export function nativeKernelsInWords(): string {
  const native = nativeKernels();
  if (native?.level === 2) return 'matrix products, convolutions and Adam in C with AVX-512 (native/)';
  if (native) return 'matrix products and Adam in C with AVX2 and FMA (native/)';
  if (process.env.MOSAIC_NATIVE === '0') return 'matrix products in WebAssembly (native/ off: MOSAIC_NATIVE=0)';
  if (!fs.existsSync(ADDON)) return 'matrix products in WebAssembly (native/ not built)';
  return 'matrix products in WebAssembly (native/ built, but this CPU has no FMA)';
}
