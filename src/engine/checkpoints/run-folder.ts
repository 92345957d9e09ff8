import fs from 'node:fs/promises';
import path from 'node:path';
import { databaseName } from '../../store/location.js';
import type { CheckpointOwner } from '../../store/types.js';
import { joinCheckpoint, splitCheckpoint } from './checkpoint-file.js';

/**
 * Whose a run folder is. Every run folder holds `owner.json`, written with its first checkpoint:
 * the database (its identity and name) and the run. A database writes, prunes and deletes only the
 * folders it owns, so a copy of a database (which gets an identity of its own) never touches the
 * folders of the database it was copied from.
 */
export interface FolderOwner {
  store_id: string;
  /** The database as it was named when the folder was made (for messages). */
  store: string;
  /** `databaseName(store)`: a file's name or a URL's database name. */
  database: string;
  run_id: number;
}

export const OWNER_FILE = 'owner.json';

const stampOf = (owner: CheckpointOwner): FolderOwner => ({
  store_id: owner.storeId,
  store: owner.store,
  database: databaseName(owner.store),
  run_id: owner.runId,
});

/** The folder's owner as its `owner.json` says; undefined when it has none (missing folder, or made by an older Mosaic). */
export async function readFolderOwner(runDir: string): Promise<FolderOwner | undefined> {
  const text = await fs.readFile(path.join(runDir, OWNER_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as FolderOwner;
    return typeof o?.store_id === 'string' && typeof o.run_id === 'number' ? o : undefined;
  } catch {
    return undefined;
  }
}

export const describeOwner = (o: FolderOwner) => `run ${o.run_id} of ${o.store} (database ${o.store_id})`;

/** A run folder that belongs to another database (or run): nothing is written to it or removed from it. */
export class ForeignFolderError extends Error {
  constructor(
    readonly runDir: string,
    readonly found: FolderOwner,
    expected: CheckpointOwner,
  ) {
    const renamedOrOldCopy =
      found.store_id === expected.storeId && found.database !== databaseName(expected.store)
        ? " (the same identity under another name: a copy made by an older Mosaic, which must not write to its original's folders — make it again with `mosaic savedb` — or a renamed database, which needs its old name back)"
        : '';
    super(
      `the run folder ${runDir} belongs to ${describeOwner(found)}, not to run ${expected.runId} of ${expected.store} (database ${expected.storeId})${renamedOrOldCopy}: ` +
        'refusing to write to it or remove anything from it',
    );
    this.name = 'ForeignFolderError';
  }
}

/** The name counts too: a copy made by an older Mosaic kept the identity of its original. */
const sameOwner = (found: FolderOwner, owner: CheckpointOwner) =>
  found.store_id === owner.storeId && found.run_id === owner.runId && found.database === databaseName(owner.store);

/** Why a run may not use its folder (owner.json names another database or run), or undefined. */
export async function foreignFolder(runDir: string, owner: CheckpointOwner): Promise<ForeignFolderError | undefined> {
  const found = await readFolderOwner(runDir);
  return found && !sameOwner(found, owner) ? new ForeignFolderError(runDir, found, owner) : undefined;
}

const owned = new Set<string>();
const ownedKey = (runDir: string, owner: CheckpointOwner) =>
  `${owner.storeId}\u0000${owner.runId}\u0000${path.resolve(runDir)}`;

/** Whether this process has claimed the folder for the run (`claimFolder`): it wrote or pruned there. */
export function claimedFolder(runDir: string, owner: CheckpointOwner): boolean {
  return owned.has(ownedKey(runDir, owner));
}

/**
 * Before a run writes to or prunes its folder: the folder is this run's, or new (then it is
 * stamped as this run's). Checked once per folder and process (a pack writes a checkpoint per
 * member per epoch; reading owner.json each time would cost more than the check is worth).
 */
export async function claimFolder(runDir: string, owner: CheckpointOwner): Promise<void> {
  const key = ownedKey(runDir, owner);
  if (owned.has(key)) return;
  const found = await readFolderOwner(runDir);
  if (found) {
    if (!sameOwner(found, owner)) throw new ForeignFolderError(runDir, found, owner);
  } else {
    await writeOwner(runDir, stampOf(owner)).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
      await fs.mkdir(runDir, { recursive: true });
      await writeOwner(runDir, stampOf(owner));
    });
  }
  owned.add(key);
}

async function writeOwner(runDir: string, stamp: FolderOwner): Promise<void> {
  const file = path.join(runDir, OWNER_FILE);
  await fs.writeFile(`${file}.tmp`, `${JSON.stringify(stamp)}\n`);
  await fs.rename(`${file}.tmp`, file);
}

/** Why a database may not delete a folder, or undefined when it may (its own, or nothing there). */
export async function foreignReason(runDir: string, owner: CheckpointOwner): Promise<string | undefined> {
  const entries = await fs.readdir(runDir).catch(() => undefined);
  if (!entries || entries.length === 0) return undefined;
  const found = (await readFolderOwner(runDir)) ?? (await ownerOfCheckpoints(runDir, entries));
  if (!found) return `${runDir} does not say whose it is (no ${OWNER_FILE})`;
  if (!sameOwner(found, owner)) {
    return `${runDir} belongs to ${describeOwner(found)}`;
  }
  return undefined;
}

/** The owner a folder's newest checkpoint names (folders written before owner.json). */
async function ownerOfCheckpoints(runDir: string, entries: string[]): Promise<FolderOwner | undefined> {
  const epochs = entries
    .map((e) => /^epoch-(\d+)\.ckpt$/.exec(e))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  if (!epochs.length) return undefined;
  const header = await readHeader(path.join(runDir, `epoch-${Math.max(...epochs)}.ckpt`)).catch(() => undefined);
  const o = header?.owner as { store_id?: string; store?: string; run_id?: number } | undefined;
  if (typeof o?.store_id !== 'string' || typeof o.store !== 'string' || typeof o.run_id !== 'number') return undefined;
  return { store_id: o.store_id, store: o.store, database: databaseName(o.store), run_id: o.run_id };
}

/** A checkpoint file's header, or undefined when the file is not a whole checkpoint. */
async function readHeader(
  file: string,
): Promise<(Record<string, unknown> & { owner?: Record<string, unknown> }) | undefined> {
  return splitCheckpoint(await fs.readFile(file))?.header as
    | (Record<string, unknown> & { owner?: Record<string, unknown> })
    | undefined;
}

/**
 * Copies a run folder for a copy of its database (`savedb --with-checkpoints`): every file, with
 * the checkpoints and `owner.json` stamped as the copy's, so that the copy can continue the run
 * and its checks of ownership hold. The folder appears whole or not at all (written beside, then renamed).
 */
export async function copyRunFolder(from: string, to: string, owner: CheckpointOwner): Promise<void> {
  const temp = `${to}.partial`;
  await fs.rm(temp, { recursive: true, force: true });
  await fs.mkdir(path.dirname(to), { recursive: true });
  await fs.cp(from, temp, { recursive: true, filter: (src) => !src.endsWith('.tmp') });
  for (const entry of await fs.readdir(temp)) {
    const file = path.join(temp, entry);
    if (/^epoch-\d+\.ckpt$/.test(entry)) {
      const split = splitCheckpoint(await fs.readFile(file));
      if (!split) continue; // not a whole checkpoint: the copy refuses it as the original would
      const header = split.header as { owner?: Record<string, unknown> };
      header.owner = { ...header.owner, store_id: owner.storeId, store: owner.store };
      await fs.writeFile(file, joinCheckpoint(header, [split.body]));
    } else if (/^epoch-\d+$/.test(entry)) {
      const legacy = path.join(file, OWNER_FILE);
      const stamp = JSON.parse(await fs.readFile(legacy, 'utf8').catch(() => 'null')) as Record<string, unknown> | null;
      if (stamp) await fs.writeFile(legacy, JSON.stringify({ ...stamp, store_id: owner.storeId, store: owner.store }));
    }
  }
  await writeOwner(temp, stampOf(owner));
  await fs.rename(temp, to);
}
