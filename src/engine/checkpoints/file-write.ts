import { closeSync, ftruncateSync, mkdirSync, openSync, renameSync, writevSync } from 'node:fs';
import path from 'node:path';

/**
 * How a checkpoint's file reaches the disk: under a temporary name (`<file>.tmp`), then renamed
 * into place, so that a file of that name is always whole. In one request (`writeFile` writes
 * 512 KiB at a time, and a model's checkpoint is megabytes: the bench MLP's 3.2 MB took 12–15 ms
 * an epoch that way). Into the run folder's spare file when it has one: a checkpoint pruned
 * (checkpoint.ts `pruneCheckpoints`), whose pages the file system holds already. For the bench
 * MLP on ext4, a 3.2 MB checkpoint written 60 ms after the last took 0.6–0.7 ms over the spare
 * against 1.0–1.1 ms as a new file, and 0.2 ms more to remove the old one. Written by libuv's
 * threads during the epoch's test pass instead (tried), it saved no more: the test pass slowed as much.
 */

/** A checkpoint no longer needed, kept to be written over. Not `epoch-…`: nothing reads it as a checkpoint. */
export const spareFile = (runDir: string) => path.join(runDir, 'spare.ckpt.tmp');

/** `file` made from `pieces`, synchronously: the run waits for it anyway (each asynchronous call's trip through libuv's threads cost 0.1–0.2 ms). */
export function writeWhole(file: string, runDir: string, pieces: Uint8Array[]): void {
  const temporary = `${file}.tmp`;
  const fd = openTemporary(runDir, temporary);
  try {
    ftruncateSync(fd, writeAllSync(fd, pieces, 0));
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/** `temporary` opened for writing: the folder's spare moved there, or a new file (the folder made if missing). */
function openTemporary(runDir: string, temporary: string): number {
  try {
    renameSync(spareFile(runDir), temporary);
    return openSync(temporary, 'r+');
  } catch {}
  try {
    return openSync(temporary, 'w');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(runDir, { recursive: true });
    return openSync(temporary, 'w');
  }
}

/** `pieces` written at `position` of `fd`, whatever part of a request the file system takes; the bytes written. */
function writeAllSync(fd: number, pieces: Uint8Array[], position: number): number {
  let rest = pieces;
  let written = 0;
  while (rest.length > 0) {
    const n = writevSync(fd, rest, position + written);
    if (n === 0) throw new Error('the file system took no byte');
    written += n;
    rest = remainder(rest, n);
  }
  return written;
}

/** What a write of `written` bytes left of `pieces`. */
function remainder(pieces: Uint8Array[], written: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  for (const piece of pieces) {
    if (written >= piece.length) written -= piece.length;
    else {
      rest.push(written > 0 ? piece.subarray(written) : piece);
      written = 0;
    }
  }
  return rest;
}
