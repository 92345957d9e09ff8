/**
 * The framing of a checkpoint file (`epoch-E.ckpt`): a first line `MOSAIC-CHECKPOINT 1`, a line of
 * JSON (whose checkpoint it is and the specs of its tensors), then the tensors' bytes. Read and
 * written here only; `checkpoint.ts` owns what the header holds, `run-folder.ts` re-stamps it.
 */
const MAGIC = 'MOSAIC-CHECKPOINT 1';

/** The header's JSON and the bytes after it, or undefined when `content` is not framed as a checkpoint (cut short, or something else). */
export function splitCheckpoint(content: Buffer): { header: unknown; body: Buffer } | undefined {
  const first = content.indexOf(10);
  const second = first < 0 ? -1 : content.indexOf(10, first + 1);
  if (second < 0 || content.subarray(0, first).toString() !== MAGIC) return undefined;
  try {
    return { header: JSON.parse(content.subarray(first + 1, second).toString()), body: content.subarray(second + 1) };
  } catch {
    return undefined;
  }
}

/** A checkpoint file's content from its header and the tensors' bytes, in pieces (written as they are, not joined: a copy the size of the model). */
export function checkpointPieces(header: unknown, body: Uint8Array[]): Uint8Array[] {
  return [Buffer.from(`${MAGIC}\n${JSON.stringify(header)}\n`), ...body];
}

/** A checkpoint file's content from its header and the tensors' bytes. */
export function joinCheckpoint(header: unknown, body: Uint8Array[]): Buffer {
  return Buffer.concat(checkpointPieces(header, body));
}
