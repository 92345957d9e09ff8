import { RUN_STATUSES } from '../core/run-records.js';
import { criterionValue, type AnalysisRun, type Criterion } from './runs.js';
import { idRanges, plural } from '../core/wording.js';

/**
 * Analysis uses finished runs only (status done), with a value of the criterion; everything
 * else is left out, and the notes say which runs and why.
 */
export function usableRuns(runs: AnalysisRun[], criterion?: Criterion): { runs: AnalysisRun[]; notes: string[] } {
  const notes: string[] = [];
  const unfinished = runs.filter((r) => r.status !== 'done');
  if (unfinished.length) {
    const parts = RUN_STATUSES.filter((s) => s !== 'done')
      .map((s) => unfinished.filter((r) => r.status === s))
      .filter((rs) => rs.length > 0)
      .map((rs) => `${rs.length} ${rs[0]!.status} (${idRanges(rs.map((r) => r.runId))})`);
    notes.push(
      `left out ${plural(unfinished.length, 'run')} that ${unfinished.length === 1 ? 'is' : 'are'} not done: ${parts.join(', ')}`,
    );
  }
  const done = runs.filter((r) => r.status === 'done');
  if (criterion === undefined) return { runs: done, notes };
  const valueless = done.filter((r) => criterionValue(r, criterion) === null);
  if (valueless.length) notes.push(leftOut(valueless, `without a value of ${criterion}`));
  return { runs: done.filter((r) => criterionValue(r, criterion) !== null), notes };
}

/** "left out 3 runs without a width: 1-3". */
export function leftOut(runs: AnalysisRun[], why: string): string {
  return `left out ${plural(runs.length, 'run')} ${why}: ${idRanges(runs.map((r) => r.runId))}`;
}
