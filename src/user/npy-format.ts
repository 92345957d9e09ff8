import { MosaicError } from '../core/errors.js';

/** The typed arrays a .npy file's values are read into (64-bit integers become float64: exact below 2⁵³). */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** What the header of a .npy file says (format versions 1 to 3, numpy's `np.save`). */
export interface NpyHeader {
  /** numpy's name of the type: `float32`, `int64`, … */
  dtype: string;
  shape: number[];
  itemSize: number;
  /** Where the values start, in bytes from the beginning of the file. */
  dataOffset: number;
  /** The values of `bytes` (a whole number of items, starting at item boundary) as numbers. */
  decode(bytes: ArrayBuffer, byteOffset: number, count: number): NpyData;
}

const MAGIC = '\x93NUMPY';

interface Kind {
  name: string;
  size: number;
  decode: (bytes: ArrayBuffer, byteOffset: number, count: number) => NpyData;
}

const view =
  <T extends NpyData>(Typed: new (b: ArrayBuffer, offset: number, count: number) => T) =>
  (b: ArrayBuffer, offset: number, count: number) =>
    new Typed(b, offset, count);

/** 64-bit integers rewritten in place as float64 (same size, same offsets). */
const wide =
  (Ints: BigInt64ArrayConstructor | BigUint64ArrayConstructor) => (b: ArrayBuffer, offset: number, count: number) => {
    const ints = new Ints(b, offset, count);
    const floats = new Float64Array(b, offset, count);
    for (let i = 0; i < count; i++) floats[i] = Number(ints[i]!);
    return floats;
  };

const KINDS: Record<string, Kind> = {
  f4: { name: 'float32', size: 4, decode: view(Float32Array) },
  f8: { name: 'float64', size: 8, decode: view(Float64Array) },
  i1: { name: 'int8', size: 1, decode: view(Int8Array) },
  u1: { name: 'uint8', size: 1, decode: view(Uint8Array) },
  b1: { name: 'bool', size: 1, decode: view(Uint8Array) },
  i2: { name: 'int16', size: 2, decode: view(Int16Array) },
  u2: { name: 'uint16', size: 2, decode: view(Uint16Array) },
  i4: { name: 'int32', size: 4, decode: view(Int32Array) },
  u4: { name: 'uint32', size: 4, decode: view(Uint32Array) },
  i8: { name: 'int64', size: 8, decode: wide(BigInt64Array) },
  u8: { name: 'uint64', size: 8, decode: wide(BigUint64Array) },
};

const SUPPORTED = 'float32, float64, int8 to int64, uint8 to uint64, bool';

/** Reads the header from the first bytes of the file (`start` holds at least the first 12). */
export function npyHeaderLength(file: string, start: Uint8Array): { headerStart: number; headerLength: number } {
  if (start.length < 12 || String.fromCharCode(...start.subarray(0, 6)) !== MAGIC) {
    throw new MosaicError(`${file}: not a .npy file (no \\x93NUMPY signature)`);
  }
  const major = start[6]!;
  const bytes = new DataView(start.buffer, start.byteOffset, start.byteLength);
  if (major === 1) return { headerStart: 10, headerLength: bytes.getUint16(8, true) };
  if (major === 2 || major === 3) return { headerStart: 12, headerLength: bytes.getUint32(8, true) };
  throw new MosaicError(`${file}: .npy format version ${major} is not supported (1 to 3 are)`);
}

/** Parses the header's Python dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }`. */
export function parseNpyHeader(file: string, text: string, dataOffset: number): NpyHeader {
  const descr = /'descr':\s*'([<>|=])([a-zA-Z]\d+)'/.exec(text);
  const fortran = /'fortran_order':\s*(True|False)/.exec(text);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(text);
  if (!fortran || !shape) throw new MosaicError(`${file}: unreadable .npy header ${text.trim()}`);
  if (!descr) {
    const what = /'descr':\s*([^,]*(?:\[.*\])?)/.exec(text)?.[1] ?? '?';
    throw new MosaicError(`${file}: dtype ${what} is not supported (${SUPPORTED})`);
  }
  const [, order, code] = descr;
  const kind = KINDS[code!];
  if (!kind) throw new MosaicError(`${file}: dtype '${order}${code}' is not supported (${SUPPORTED})`);
  if (order === '>' && kind.size > 1) {
    throw new MosaicError(
      `${file}: big-endian ${kind.name} is not supported; save it little-endian (a.astype('<${code}'))`,
    );
  }
  if (fortran[1] === 'True') {
    throw new MosaicError(
      `${file}: the array is stored in Fortran order; save it in C order (np.save(file, np.ascontiguousarray(a)))`,
    );
  }
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (dims.length === 0) throw new MosaicError(`${file}: a single number (shape ()), not an array of samples`);
  return { dtype: kind.name, shape: dims, itemSize: kind.size, dataOffset, decode: kind.decode };
}

/** Values per sample: the product of the shape after the first axis. */
export function sampleWidth(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}
