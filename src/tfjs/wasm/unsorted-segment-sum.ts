import { tfjs } from '../tfjs.js';
import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs';
import { composeKernels } from './kernel-scope.js';

const KERNEL = 'UnsortedSegmentSum';

/**
 * out[s, …] = Σ_{i : ids[i] = s} x[i, …] is ScatterNd with the ids as [N, 1] indices, which adds
 * the updates of repeated indices. ScatterNd does not check its indices (it would write outside
 * its output), so the ids are read and checked first, as wasm's GatherV2 does; ids outside
 * [0, numSegments) are dropped, as on the cpu backend, by sending them to one extra segment that
 * is cut off. segmentIds may have any shape that starts x's shape.
 */
export function unsortedSegmentSum(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
    const idsRank = segmentIds.shape.length;
    if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
      throw new Error(
        `${KERNEL} (wasm): segmentIds of shape [${segmentIds.shape.join(', ')}] must start the shape of x [${x.shape.join(', ')}]`,
      );
    }
    if (segmentIds.dtype !== 'int32')
      throw new Error(`${KERNEL} (wasm): segmentIds must be int32, got ${segmentIds.dtype}`);
    const b = backend as KernelBackend;
    const count = tfjs.util.sizeFromShape(segmentIds.shape);
    const rest = x.shape.slice(idsRank);
    const ids = b.readSync(segmentIds.dataId) as Int32Array;
    const valid = ids.every((id) => id >= 0 && id < numSegments);

    return composeKernels(b, backendName, inputs, (k) => {
      const updates = k.reshape(x, [count, ...rest]);
      if (valid)
        return k.run(
          'ScatterNd',
          { indices: k.reshape(segmentIds, [count, 1]), updates },
          { shape: [numSegments, ...rest] },
        );
      const kept = Int32Array.from(ids, (id) => (id >= 0 && id < numSegments ? id : numSegments));
      const indices = k.reshape(k.int32(kept), [count, 1]);
      const scattered = k.run('ScatterNd', { indices, updates }, { shape: [numSegments + 1, ...rest] });
      return k.slice(scattered, [0, ...rest.map(() => 0)], [numSegments, ...rest]);
    });
  };
}

export function unsortedSegmentSumConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: unsortedSegmentSum(backendName) };
}
