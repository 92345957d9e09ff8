import type { backend_util, TensorInfo } from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope.js';

/**
 * The output gradient dy `[N, OH, OW, C]` made ready for an input gradient computed as a stride-1
 * convolution: s−1 zeros after each row and column (a rank-6 pad; nothing to do at stride 1),
 * then the positions that negative padding cuts removed (`h`, `w` from `inputGradientAxis`).
 * Negative padding happens only when the forward pass had more padding than its window reaches,
 * or a stride larger than the dilated filter.
 */
export function spreadForInputGradient(
  k: KernelScope,
  dy: TensorInfo,
  info: Pick<backend_util.Conv2DInfo, 'batchSize' | 'outHeight' | 'outWidth' | 'strideHeight' | 'strideWidth'>,
  h: { before: number; after: number },
  w: { before: number; after: number },
): TensorInfo {
  const { batchSize: n, outHeight, outWidth, strideHeight: sh, strideWidth: sw } = info;
  const channels = dy.shape[3]!;
  let z = dy;
  if (sh > 1 || sw > 1) {
    const spread = k.pad(k.reshape(dy, [n, outHeight, 1, outWidth, 1, channels]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
    z = k.reshape(spread, [n, outHeight * sh, outWidth * sw, channels]);
  }
  const cutTop = Math.max(0, -h.before);
  const cutLeft = Math.max(0, -w.before);
  const rows = z.shape[1]! - cutTop - Math.max(0, -h.after);
  const cols = z.shape[2]! - cutLeft - Math.max(0, -w.after);
  return k.slice(z, [0, cutTop, cutLeft, 0], [n, rows, cols, channels]);
}
