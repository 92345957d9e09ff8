import { openSqliteStore } from '../store/sqlite.js';
import type { RunOverview } from '../store/types.js';
import { idRanges, sci } from './format.js';
import { chooseDatabase } from './recent.js';

/** `mosaic status`: Done / Error / Running / Pending, read from the database (no server). */
export function statusCommand(dbArg: string | undefined, options: { all?: boolean } = {}): string {
  const db = chooseDatabase(dbArg);
  const store = openSqliteStore(db, { create: false, readonly: true });
  let runs: RunOverview[];
  try {
    runs = store.overview();
  } finally {
    store.close();
  }
  const by = (s: string) => runs.filter((r) => r.status === s);
  const lines: string[] = [];
  const count = (s: string) => `${by(s).length} ${s}`;
  lines.push(`${db}: ${runs.length} runs: ${['done', 'error', 'failed', 'running', 'pending'].map(count).join(', ')}`);
  lines.push('Done');
  for (const r of by('done')) {
    const res = r.results;
    lines.push(`\t[${r.runId}] train_loss=${sci(res?.train_loss)}\ttest_loss=${sci(res?.test_loss)}\texecution_time=${sci(res?.duration_s)}`);
  }
  lines.push('Error');
  for (const r of [...by('error'), ...by('failed')]) {
    lines.push(`\t[${r.runId}] ${r.pipeline}  (${r.status}: ${r.returnStatus ?? ''})`);
    if (r.traceback && r.traceback !== r.returnStatus) lines.push(...r.traceback.split('\n').map((l) => `\t\t${l}`));
  }
  lines.push('Running');
  for (const r of by('running')) {
    lines.push(`\t[${r.runId}] ${r.pipeline}  epoch ${r.epochsDone}/${r.epochsTarget}${r.device ? ` on ${r.device}` : ''}`);
  }
  const pending = by('pending');
  lines.push('Pending');
  if (options.all || pending.length <= 10) for (const r of pending) lines.push(`\t[${r.runId}] ${r.pipeline}`);
  else lines.push(`\t${pending.length} runs: ids ${idRanges(pending.map((r) => r.runId))} (--all lists them)`);
  return lines.join('\n');
}
