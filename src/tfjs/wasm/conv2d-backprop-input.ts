import type * as tf from '@tensorflow/tfjs';
import type { Conv2DBackpropInputAttrs, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { expectShape, forwardGeometry, inputGradientAxis, spatialAxes } from './conv-geometry.js';
import { composeKernels, type KernelScope } from './kernel-scope.js';
import { SimdKernels, windowGeometry } from './simd-kernels.js';
import { spreadForInputGradient } from './spread-gradient.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

const KERNEL = 'Conv2DBackpropInput';

/** tfjs never passes dilations to this kernel (its Conv2D gradient refuses them); we accept them. */
type Attrs = Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };

/**
 * The input gradient of an NHWC (or NCHW) convolution, instead of wasm 4.22's own kernel (a plain
 * C loop, ~10× slower than XNNPACK). At stride 1 (and 4 input channels or more),
 * `inputGradientByConvolution`: one convolution of dy, which the SIMD convolution computes with
 * exactly the layer's multiply-adds. At larger strides, its columns dy·Wᵀ [N·OH·OW, KH·KW·Cin] by one matrix product, summed back onto the
 * input positions by a SIMD kernel (col2im): every multiply-add is one of the layer's (4× faster
 * than the convolution at stride 2); where wasm's heap cannot be reached or past COLUMNS_MAX
 * floats of columns, the convolution again.
 */
export function conv2DBackpropInput(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, inputShape, dilations = 1 } = attrs as unknown as Attrs;
    if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
      throw new Error(`${KERNEL} (wasm): dataFormat '${dataFormat}' is not supported, only 'NHWC' and 'NCHW'`);
    }
    if (inputShape?.length !== 4)
      throw new Error(`${KERNEL} (wasm): inputShape [${inputShape?.join(', ')}] must have rank 4`);
    if (filter.shape.length !== 4)
      throw new Error(`${KERNEL} (wasm): filter of shape [${filter.shape.join(', ')}] must have rank 4`);
    const nchw = dataFormat === 'NCHW';
    const info = forwardGeometry(
      inputShape,
      filter.shape,
      { strides, dilations, pad, dimRoundingMode },
      { channelsFirst: nchw },
    );
    if (filter.shape[2] !== info.inChannels) {
      throw new Error(
        `${KERNEL} (wasm): filter of shape [${filter.shape.join(', ')}] has ${filter.shape[2]} input channels, inputShape [${inputShape.join(', ')}] has ${info.inChannels}`,
      );
    }
    expectShape(KERNEL, 'dy', dy.shape, info.outShape);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const taps = info.filterHeight * info.filterWidth * info.inChannels;
    // At stride 1 the convolution is the SIMD one (conv2d.ts), which skips the taps in the padding:
    // exactly the layer's multiply-adds, and less memory moved than the columns (the bench CNN's
    // second layer: 2.7 → 2.1 ms). At larger strides it would multiply the zeros between dy's
    // elements (4× the work at stride 2): the columns. So too for fewer than 4 input channels,
    // the convolution's output channels, which would not fill its vectors (28×28×1: 4.7 against 2.4 ms).
    const float32 = dy.dtype === 'float32' && filter.dtype === 'float32';
    const strided = info.strideHeight > 1 || info.strideWidth > 1;
    const fit = (strided || info.inChannels < 4) && rows * taps <= COLUMNS_MAX && float32;
    const simd = fit ? SimdKernels.of(backend as KernelBackend) : undefined;

    return composeKernels(backend as KernelBackend, backendName, inputs, (k) => {
      const dyNHWC = nchw ? k.transpose(dy, [0, 2, 3, 1]) : dy;
      const dx = simd ? byColumns(k, simd, dyNHWC, filter, info) : inputGradientByConvolution(k, dyNHWC, filter, info);
      return nchw ? k.transpose(dx, [0, 3, 1, 2]) : dx;
    });
  };
}

/** Above this many floats of columns (256 MB), the convolution, which needs none. */
const COLUMNS_MAX = 64 * 2 ** 20;

/** dx from the columns dy·Wᵀ, one per output position and filter tap, summed back by col2im. */
function byColumns(
  k: KernelScope,
  simd: SimdKernels,
  dy: TensorInfo,
  filter: TensorInfo,
  info: Conv2DInfo,
): TensorInfo {
  const [rows, taps, cout] = [
    info.batchSize * info.outHeight * info.outWidth,
    info.filterHeight * info.filterWidth * info.inChannels,
    info.outChannels,
  ];
  const weightsT = k.transpose(k.reshape(filter, [taps, cout]), [1, 0]);
  const cols = k.run(
    'BatchMatMul',
    { a: k.reshape(dy, [1, rows, cout]), b: k.reshape(weightsT, [1, cout, taps]) },
    { transposeA: false, transposeB: false },
  );
  return k.adopt(
    simd.col2im(
      cols,
      [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
      [info.outHeight, info.outWidth],
      windowGeometry(info),
    ),
  );
}

/**
 * The input gradient as one XNNPACK convolution:
 * dx[n,h,w,ci] = Σ_{kh,kw,co} z[n, h+pt−kh·d, w+pl−kw·d, co] · f[kh,kw,ci,co], z being dy with
 * s−1 zeros after each row and column. With the filter reversed in kh and kw and its channels
 * swapped ([KH,KW,Cout,Cin]) this is a stride-1 convolution, dilation d, of z padded (see
 * `inputGradientAxis`). Stride 1 needs no zeros: z is dy itself. (Its padding and zeros are
 * multiply-adds the layer does not have: 49.8 M for 35.7 M in the bench CNN's second layer.)
 */
export function inputGradientByConvolution(
  k: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  info: Conv2DInfo,
): TensorInfo {
  const [h, w] = spatialAxes(info).map(inputGradientAxis);
  const z = spreadForInputGradient(k, dy, [info.strideHeight, info.strideWidth], [h, w]);
  const reversed = k.transpose(k.reverse(filter, [0, 1]), [0, 1, 3, 2]);
  return k.conv2d(
    z,
    reversed,
    [1, 1],
    [info.dilationHeight, info.dilationWidth],
    [
      [0, 0],
      [Math.max(0, h.before), Math.max(0, h.after)],
      [Math.max(0, w.before), Math.max(0, w.after)],
      [0, 0],
    ],
  );
}

export function conv2DBackpropInputConfig(backendName: string): KernelConfig {
  return { kernelName: KERNEL, backendName, kernelFunc: conv2DBackpropInput(backendName) };
}
