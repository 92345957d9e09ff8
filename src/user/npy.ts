import fs from 'node:fs';
import { MosaicError } from '../core/errors.js';
import type { Rows } from './batches.js';
import { type NpyData, type NpyHeader, npyHeaderLength, parseNpyHeader, sampleWidth } from './npy-format.js';
import type { RowSource } from './streamed-batches.js';

/** The values of a .npy file in C order, with its shape and numpy's name of its type. */
export interface NpyArray {
  data: NpyData;
  shape: number[];
  dtype: string;
}

/** Reads a .npy file (written by `np.save`) whole: its values are a view on the file's bytes, not a copy. */
export function readNpy(file: string): NpyArray {
  return withFile(file, (fd) => {
    const header = readHeader(file, fd);
    const count = header.shape.reduce((a, b) => a * b, 1);
    const bytes = new ArrayBuffer(header.dataOffset + count * header.itemSize);
    readExactly(file, fd, new Uint8Array(bytes), 0);
    // numpy pads the header to a multiple of 64 bytes; another writer may not align the values.
    const aligned = header.dataOffset % header.itemSize === 0;
    const data = aligned
      ? header.decode(bytes, header.dataOffset, count)
      : header.decode(bytes.slice(header.dataOffset), 0, count);
    return { data, shape: header.shape, dtype: header.dtype };
  });
}

/**
 * The samples of an array along its first axis, for `trainTestBatches`: the numbers of a 1-D
 * array, or views of each sample's values (flattened) of an array of 2 or more dimensions.
 */
export function npyRows(array: NpyArray): Rows {
  if (array.shape.length === 1) return array.data;
  const width = sampleWidth(array.shape);
  return Array.from({ length: array.shape[0]! }, (_, i) => array.data.subarray(i * width, (i + 1) * width));
}

/**
 * A .npy file as a `RowSource` for `streamedTrainTestBatches`: only the header is read now; each
 * batch's samples are read from the file when the batch is made, so the data are never all in memory.
 */
export function openNpy(file: string): RowSource & { shape: number[]; dtype: string } {
  const header = withFile(file, (fd) => readHeader(file, fd));
  const width = sampleWidth(header.shape);
  const rowBytes = width * header.itemSize;
  return {
    length: header.shape[0]!,
    width,
    shape: header.shape,
    dtype: header.dtype,
    read(indices) {
      const out = new Float32Array(indices.length * width);
      const row = new ArrayBuffer(rowBytes);
      withFile(file, (fd) => {
        indices.forEach((i, r) => {
          readExactly(file, fd, new Uint8Array(row), header.dataOffset + i * rowBytes);
          out.set(header.decode(row, 0, width), r * width);
        });
      });
      return out;
    },
  };
}

function readHeader(file: string, fd: number): NpyHeader {
  const start = new Uint8Array(12);
  fs.readSync(fd, start, 0, 12, 0);
  const { headerStart, headerLength } = npyHeaderLength(file, start);
  const text = Buffer.alloc(headerLength);
  readExactly(file, fd, text, headerStart);
  const header = parseNpyHeader(file, text.toString('latin1'), headerStart + headerLength);
  const expected = header.dataOffset + header.shape.reduce((a, b) => a * b, 1) * header.itemSize;
  const size = fs.fstatSync(fd).size;
  if (size < expected) {
    throw new MosaicError(
      `${file}: truncated: shape (${header.shape.join(', ')}) needs ${expected} bytes, the file has ${size}`,
    );
  }
  return header;
}

function readExactly(file: string, fd: number, into: Uint8Array, position: number): void {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new MosaicError(`${file}: truncated`);
    done += n;
  }
}

function withFile<T>(file: string, use: (fd: number) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MosaicError(`${file}: no such file`);
    throw e;
  }
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}
