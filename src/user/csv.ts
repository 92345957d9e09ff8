import fs from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { MosaicError } from '../core/errors.js';
import { RowBuffer } from './row-buffer.js';

type ColumnRef = string | number;

export interface CsvOptions {
  /** The target column, or columns: by header name, or by index from 0. */
  target: ColumnRef | readonly ColumnRef[];
  /** The feature columns; by default every column that is not a target. */
  features?: readonly ColumnRef[];
  /** The first line names the columns. Default true. */
  header?: boolean;
  /** Default `,`. */
  delimiter?: string;
}

/** A CSV file's samples, ready for `trainTestBatches(x, y, …)`. */
export interface CsvTable {
  /** One row of feature values per sample (float32 views on a few large arrays). */
  x: Float32Array[];
  /** One value per sample for one target column (a class index when `classes` is set), else one row per sample. */
  y: number[] | Float32Array[];
  /** Names of the feature and target columns (their indices, without a header). */
  features: string[];
  targets: string[];
  /** With a target column of text: its distinct values, sorted; `y` holds indices into it. */
  classes?: string[];
}

/**
 * Reads a CSV file of numbers (and, in one target column, optionally class names), streaming: the
 * file's text is never held whole, the values are stored once as float32.
 */
export async function readCsv(file: string, options: CsvOptions): Promise<CsvTable> {
  const parser = parse({
    delimiter: options.delimiter ?? ',',
    trim: true,
    skip_empty_lines: true,
    bom: true,
    info: true,
  });
  const input = fs.createReadStream(file);
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  let layout: Layout | undefined;
  let buffer: RowBuffer | undefined;
  const targetRows: Float32Array[] = [];
  const labels: string[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!layout) {
        layout = columnLayout(file, record, options);
        buffer = new RowBuffer(layout.features.length);
        if (options.header ?? true) continue;
      }
      const where = `${file}:${info.lines}`;
      const row = buffer!.next();
      layout.features.forEach((column, j) => {
        row[j] = numberAt(record, column, layout!, where);
      });
      if (layout.targets.length === 1) labels.push(labelAt(record, layout.targets[0]!, layout, where));
      else targetRows.push(Float32Array.from(layout.targets, (column) => numberAt(record, column, layout!, where)));
    }
  } catch (e) {
    throw readError(file, e);
  }
  if (!layout || !buffer || buffer.rows.length === 0) throw new MosaicError(`${file}: no rows of data`);
  const names = {
    features: layout.features.map((c) => layout!.names[c]!),
    targets: layout.targets.map((c) => layout!.names[c]!),
  };
  if (layout.targets.length !== 1) return { x: buffer.rows, y: targetRows, ...names };
  return { x: buffer.rows, ...names, ...singleTarget(labels) };
}

interface Layout {
  names: string[];
  features: number[];
  targets: number[];
}

function columnLayout(file: string, first: string[], options: CsvOptions): Layout {
  const header = options.header ?? true;
  const names = header ? first : first.map((_, i) => String(i));
  const index = (ref: ColumnRef): number => {
    const i = typeof ref === 'number' ? ref : names.indexOf(ref);
    if (!(i >= 0 && i < names.length && Number.isInteger(i))) {
      const known = header ? `columns: ${names.join(', ')}` : `${names.length} columns, indices from 0`;
      throw new MosaicError(`${file}: no column ${typeof ref === 'number' ? ref : `"${ref}"`} (${known})`);
    }
    return i;
  };
  const targets = (Array.isArray(options.target) ? options.target : [options.target as ColumnRef]).map(index);
  const features = options.features
    ? options.features.map(index)
    : names.map((_, i) => i).filter((i) => !targets.includes(i));
  if (features.length === 0) throw new MosaicError(`${file}: no feature columns besides the target`);
  return { names, features, targets };
}

function numberAt(record: string[], column: number, layout: Layout, where: string): number {
  const text = record[column]!;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) {
    throw new MosaicError(`${where}: column "${layout.names[column]}" holds "${text}", not a number`);
  }
  return value;
}

function labelAt(record: string[], column: number, layout: Layout, where: string): string {
  const text = record[column]!;
  if (text === '') throw new MosaicError(`${where}: column "${layout.names[column]}" is empty`);
  return text;
}

/** Numbers as they are; any text makes the column one of classes, numbered in sorted order. */
function singleTarget(labels: string[]): { y: number[]; classes?: string[] } {
  const numbers = labels.map(Number);
  if (!numbers.some(Number.isNaN)) return { y: numbers };
  const classes = [...new Set(labels)].sort();
  const indexOf = new Map(classes.map((c, i) => [c, i]));
  return { y: labels.map((l) => indexOf.get(l)!), classes };
}

function readError(file: string, e: unknown): Error {
  if (e instanceof MosaicError) return e;
  if (e instanceof CsvError) return new MosaicError(`${file}: ${e.message}`);
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new MosaicError(`${file}: no such file`);
  if (code === 'EISDIR') return new MosaicError(`${file}: a folder, not a CSV file`);
  return new Error(`${file}: ${(e as Error).message}`, { cause: e });
}
