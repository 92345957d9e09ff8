import { describe, expect, it } from 'vitest';
import { RowBuffer } from '../../src/user/row-buffer.js';

describe('RowBuffer', () => {
  it('hands out rows as views on chunks, a new chunk when one is full, never moving earlier rows', () => {
    const buffer = new RowBuffer(3, 10); // 3 rows of 3 a chunk
    for (let i = 0; i < 7; i++) buffer.next().set([i, i + 0.5, -i]);
    expect(buffer.rows.map((r) => Array.from(r))).toEqual(Array.from({ length: 7 }, (_, i) => [i, i + 0.5, -i]));
    expect(new Set(buffer.rows.map((r) => r.buffer)).size).toBe(3);
    expect(buffer.rows[3]!.byteOffset).toBe(0);
  });
});
