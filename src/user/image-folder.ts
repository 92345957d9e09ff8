import fs from 'node:fs';
import path from 'node:path';
import { PNG, type PNGWithMetadata } from 'pngjs';
import { MosaicError } from '../core/errors.js';

export interface ImageFolderOptions {
  /** 1 (gray; color images by their luminance) or 3 (RGB; gray images repeated). Default: as the first image. */
  channels?: 1 | 3;
}

/** The images of a folder by class, ready for `trainTestBatches(x, y, …)`. */
export interface ImageSet {
  /** One row per image: its pixels in [0, 1], row by row, the channels of a pixel together (height × width × channels). */
  x: Float32Array[];
  /** The class of each image: its index in `classes`. */
  y: number[];
  /** The class folders' names, sorted. */
  classes: string[];
  /** [height, width, channels] of every image. */
  shape: [number, number, number];
}

/**
 * Reads `folder/<class>/*.png` (classes and files in sorted order), one image at a time into one
 * float32 array. Every image must have the size of the first; transparency is ignored.
 */
export function readImageFolder(folder: string, options: ImageFolderOptions = {}): ImageSet {
  const { classes, files } = listImages(folder);
  const first = decode(files[0]!.file);
  const channels = options.channels ?? (first.color ? 3 : 1);
  const shape: [number, number, number] = [first.height, first.width, channels];
  const size = first.height * first.width * channels;
  const pixels = new Float32Array(files.length * size);
  const x: Float32Array[] = [];
  files.forEach(({ file }, i) => {
    const image = i === 0 ? first : decode(file);
    if (image.width !== first.width || image.height !== first.height) {
      throw new MosaicError(
        `${file}: ${image.width}×${image.height} pixels, but ${files[0]!.file} has ${first.width}×${first.height}: the images of a folder must have one size`,
      );
    }
    const row = pixels.subarray(i * size, (i + 1) * size);
    copyPixels(image, channels, row);
    x.push(row);
  });
  return { x, y: files.map((f) => f.label), classes, shape };
}

function listImages(folder: string): { classes: string[]; files: { file: string; label: number }[] } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MosaicError(`${folder}: no such folder`);
    if (code === 'ENOTDIR') throw new MosaicError(`${folder}: a file, not a folder of class folders`);
    throw e;
  }
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (classes.length === 0) throw new MosaicError(`${folder}: no class folders (expected ${folder}/<class>/*.png)`);
  const files = classes.flatMap((name, label) => {
    const dir = path.join(folder, name);
    const pngs = fs
      .readdirSync(dir)
      .filter((f) => f.toLowerCase().endsWith('.png') && !f.startsWith('.'))
      .sort();
    if (pngs.length === 0) throw new MosaicError(`${dir}: no .png files in this class folder`);
    return pngs.map((f) => ({ file: path.join(dir, f), label }));
  });
  return { classes, files };
}

function decode(file: string): PNGWithMetadata {
  try {
    return PNG.sync.read(fs.readFileSync(file));
  } catch (e) {
    throw new MosaicError(`${file}: not a readable PNG image (${(e as Error).message})`);
  }
}

/** RGBA bytes (as pngjs gives every image) to `channels` values in [0, 1] per pixel. */
function copyPixels(image: PNGWithMetadata, channels: 1 | 3, into: Float32Array): void {
  const rgba = image.data;
  const pixels = image.width * image.height;
  for (let p = 0; p < pixels; p++) {
    const [r, g, b] = [rgba[4 * p]!, rgba[4 * p + 1]!, rgba[4 * p + 2]!];
    if (channels === 3) {
      into[3 * p] = r / 255;
      into[3 * p + 1] = g / 255;
      into[3 * p + 2] = b / 255;
    } else {
      // ITU-R 601-2 luminance, as PIL's convert('L') (without its rounding to integers).
      into[p] = image.color ? (0.299 * r + 0.587 * g + 0.114 * b) / 255 : r / 255;
    }
  }
}
