import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MosaicError } from '../core/errors.js';
import { idRanges, plural } from '../core/wording.js';
import { MOSAIC_VERSION } from '../experiment/provenance.js';
import { displayLocation, isUrl } from '../store/location.js';
import { checkStoreLocation, openStore } from '../store/open.js';
import type { ExperimentRecord, ImportedRun } from '../store/types.js';

/**
 * `mosaic import ORIGINAL.db DB|URL`: copies a database written by the original Mosaic (Python)
 * into a Mosaic database that holds no run yet: run ids, statuses, pipelines, facts and results,
 * with an experiment saying where they came from. The original is only read.
 */
export async function importCommand(originalArg: string, targetArg: string): Promise<string> {
  if (isUrl(originalArg))
    throw new MosaicError(`the original Mosaic wrote SQLite files: ${displayLocation(originalArg)} is a URL`);
  if (!isUrl(targetArg) && fs.existsSync(targetArg) && path.resolve(targetArg) === path.resolve(originalArg))
    throw new MosaicError(`import into a new database, not into ${originalArg} itself`);
  const source = await openStore(originalArg, 'read');
  let runs: ImportedRun[];
  const notes: string[] = [];
  try {
    if (source.notice === undefined)
      throw new MosaicError(
        `${originalArg} is already a Mosaic database: nothing to import (mosaic savedb ${originalArg} COPY.db copies it)`,
      );
    const facts = await source.allFacts();
    const unfinished: number[] = [];
    runs = (await source.overview()).map((r) => {
      const common = { runId: r.runId, pipeline: r.pipeline, facts: facts.get(r.runId) ?? {}, results: r.results };
      if (r.status !== 'running' && r.status !== 'pending')
        return { ...common, status: r.status, returnStatus: r.returnStatus };
      // Mosaic cannot continue a run it has no spec of: one the original left unfinished is an error.
      unfinished.push(r.runId);
      return {
        ...common,
        status: 'error',
        returnStatus: `${r.status} in the original Mosaic when imported: it never finished there${r.returnStatus ? ` (${r.returnStatus})` : ''}`,
      };
    });
    if (unfinished.length)
      notes.push(
        `${plural(unfinished.length, 'run')} ${idRanges(unfinished)} had not finished in the original: imported as error`,
      );
  } finally {
    await source.close();
  }
  await checkStoreLocation(targetArg, 'create');
  const target = await openStore(targetArg, 'create');
  try {
    await target.importRuns(runs, provenanceOf(originalArg, runs));
  } finally {
    await target.close();
  }
  const ids = runs.map((r) => r.runId);
  const count = (s: string) => runs.filter((r) => r.status === s).length;
  const summary = ['done', 'error', 'failed', 'diverged']
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${s}`)
    .join(', ');
  return [
    ...notes,
    `${plural(runs.length, 'run')}${ids.length ? ` (ids ${idRanges(ids)}${summary ? `; ${summary}` : ''})` : ''} imported from ${originalArg} into ${displayLocation(targetArg)}, with their parameters and results; ` +
      'the original kept no per-epoch history in its database, so the imported runs have no loss curves and cannot be continued',
  ].join('\n');
}

/** Where the runs came from: the original's file, its hash and when it was imported. */
function provenanceOf(original: string, runs: ImportedRun[]): ExperimentRecord {
  const file = path.resolve(original);
  const hash = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  return {
    configFile: file,
    configText: `imported by mosaic import from ${file} (a database of the original Mosaic, sha256 ${hash}), ${plural(runs.length, 'run')}, at ${new Date().toISOString()}`,
    configHash: hash,
    userFiles: {},
    mosaicVersion: MOSAIC_VERSION,
    gitCommit: null,
  };
}
