import fs from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { selectRuns, type RunSelector } from '../analysis/select.js';
import { MosaicError } from '../core/errors.js';
import { displayLocation } from '../store/location.js';
import { openStore } from '../store/open.js';
import { idRanges } from '../core/wording.js';
import { foreignReason } from '../engine/checkpoints/run-folder.js';

/** Asks on the terminal; a pipe or a script must say --yes. */
async function confirmed(question: string): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new MosaicError(
      `${question.replace(/\?.*$/, '')}: not confirmed (no terminal to ask on); pass --yes to delete without asking`,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `mosaic delete DB SELECTOR`: removes runs from every table and their checkpoint folders, after a confirmation. */
export async function deleteCommand(db: string, options: RunSelector & { yes?: boolean }): Promise<string> {
  const store = await openStore(db, 'write');
  try {
    const ids = await selectRuns(store, options);
    const running = (await store.overview(ids)).filter((r) => r.status === 'running');
    if (running.length)
      throw new MosaicError(
        `runs ${idRanges(running.map((r) => r.runId))} are running: pause the experiment and wait for them, then delete`,
      );
    const plural = ids.length === 1 ? 'run' : 'runs';
    if (
      !options.yes &&
      !(await confirmed(
        `delete ${ids.length} ${plural} (ids ${idRanges(ids)}) of ${displayLocation(db)} and their checkpoint folders? [y/N] `,
      ))
    ) {
      return 'nothing deleted';
    }
    const identity = await store.identity();
    const dirs = await store.deleteRuns(ids);
    let removed = 0;
    let absent = 0;
    const kept: string[] = [];
    for (const { runId, runDir } of dirs) {
      const foreign = await foreignReason(runDir, { ...identity, runId });
      if (foreign) kept.push(foreign);
      else if (fs.existsSync(runDir)) {
        fs.rmSync(runDir, { recursive: true, force: true });
        removed++;
      } else absent++;
    }
    const done = `deleted ${ids.length} ${plural} (ids ${idRanges(ids)}) and ${removed} checkpoint ${removed === 1 ? 'folder' : 'folders'}`;
    const stayed =
      identity.copyOf && absent
        ? `; the checkpoints of ${absent === 1 ? '1 run' : `${absent} runs`} stayed with the database this is a copy of, ${identity.copyOf}, and were not touched`
        : '';
    if (!kept.length) return done + stayed;
    const whose = identity.copyOf ? ` (${displayLocation(db)} is a copy of ${identity.copyOf})` : '';
    return `${done}${stayed}; left ${kept.length} ${kept.length === 1 ? 'folder' : 'folders'} that ${displayLocation(db)} does not own${whose}:\n  ${kept.join('\n  ')}`;
  } finally {
    await store.close();
  }
}
