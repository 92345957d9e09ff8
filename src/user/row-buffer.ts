/**
 * Rows of `width` numbers appended one at a time into float32 chunks: the rows are views on the
 * chunks, so the data are held once, compactly, and never copied to grow.
 */
export class RowBuffer {
  readonly rows: Float32Array[] = [];
  private chunk = new Float32Array(0);
  private used = 0;

  private readonly rowsPerChunk: number;

  /** Chunks of about `chunkValues` numbers (4 MB by default): the last one is at most that much too large. */
  constructor(
    readonly width: number,
    chunkValues = 1 << 20,
  ) {
    this.rowsPerChunk = Math.max(1, Math.floor(chunkValues / Math.max(1, width)));
  }

  /** A new row, to be filled by the caller. */
  next(): Float32Array {
    if (this.used + this.width > this.chunk.length) {
      this.chunk = new Float32Array(this.width * this.rowsPerChunk);
      this.used = 0;
    }
    const row = this.chunk.subarray(this.used, this.used + this.width);
    this.used += this.width;
    this.rows.push(row);
    return row;
  }
}
