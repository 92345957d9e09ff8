import { isBookkeeping, moduleFacts, valueKey } from '../analysis/params.js';
import { loadRuns, runKeys } from '../analysis/runs.js';
import { hostName } from '../core/host.js';
import { displayLocation } from '../store/location.js';
import { openStore } from '../store/open.js';
import type { RunOverview, StoreReader } from '../store/types.js';
import { heartbeatText } from '../core/heartbeat.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import { sci } from '../core/format.js';
import { idRanges } from '../core/wording.js';
import { raceView, type RaceView } from '../race/state.js';
import { readRaceRecord } from '../race/record.js';
import { RACE_NUMERIC_FROM, raceCells, raceHead, raceKeyTitle, raceLegend } from '../race/table.js';
import { chooseDatabase } from './recent.js';

/** The dataset and model keys of a run, from its facts: `data_dataset_OR | mlp_brick`. */
function keysOf(facts: Record<string, string>): string {
  const { dataKey, modelKey } = runKeys(facts);
  return `${dataKey} | ${modelKey}`;
}

/** Facts that are parameters of a run: neither bookkeeping nor what its keys are made of. */
const isParameter = (fact: string) =>
  !isBookkeeping(fact) && !fact.endsWith('_key') && fact !== 'data_scheme' && fact !== 'pipeline_scheme';

/**
 * What tells each run apart from the other runs of its `dataset | model` key: the parameters whose
 * value differs among them (`lr=0.01 width=3`), a class parameter by its own name (`width` for
 * `mlp_brick_width`) unless another fact shown or held by the run has that name.
 */
function distinguishingParams(facts: Map<number, Record<string, string>>): Map<number, string> {
  const byKey = new Map<string, Record<string, string>[]>();
  for (const f of facts.values()) {
    const group = byKey.get(keysOf(f));
    if (group) group.push(f);
    else byKey.set(keysOf(f), [f]);
  }
  const varying = new Map<string, string[]>();
  for (const [key, group] of byKey) {
    const names = new Set(group.flatMap((f) => Object.keys(f)).filter(isParameter));
    varying.set(
      key,
      [...names].filter((n) => new Set(group.map((f) => valueKey(f[n]))).size > 1),
    );
  }
  const out = new Map<number, string>();
  for (const [runId, f] of facts) {
    const shown = varying.get(keysOf(f))!.filter((n) => f[n] !== undefined);
    const modules = moduleFacts(f);
    const own = (n: string) => modules.get(n)?.param;
    const name = (n: string) => {
      const param = own(n);
      const clash = param === undefined || f[param] !== undefined || shown.some((o) => o !== n && own(o) === param);
      return clash ? n : param;
    };
    const parts = shown.map((n) => `${name(n)}=${f[n]}`).sort();
    if (parts.length) out.set(runId, parts.join(' '));
  }
  return out;
}

/** `backends: 20 runs on wasm, 4 on cpu (24 chosen by backend = auto)`, from `backend_used` facts. */
function backendSummary(all: Record<string, string>[]): string | undefined {
  const used = all.map((f) => f.backend_used).filter((b): b is string => b !== undefined);
  if (used.length === 0) return undefined;
  const by = new Map<string, number>();
  for (const b of used) by.set(b.split(' ')[0]!, (by.get(b.split(' ')[0]!) ?? 0) + 1);
  const auto = used.filter((b) => b.includes('(auto')).length;
  const parts = [...by]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n], i) => `${n}${i === 0 ? (n === 1 ? ' run' : ' runs') : ''} on ${name}`);
  return `backends: ${parts.join(', ')}${auto ? ` (${auto} chosen by backend = auto)` : ''}`;
}

/** Seconds since each running run's last heartbeat (the database's clock), and the timeout that takes it back. */
async function heartbeatAges(store: StoreReader): Promise<{ ages: Map<number, number>; timeout: number }> {
  const monitor = await store.getSetting<{ heartbeat_timeout?: number }>('monitor');
  const ages = new Map<number, number>();
  for (const r of await store.openRuns()) if (r.silentSeconds !== null) ages.set(r.runId, r.silentSeconds);
  return { ages, timeout: monitor?.heartbeat_timeout ?? MONITOR_DEFAULTS.heartbeat_timeout };
}

/** The race of the database's experiment, when it is one (`[MONITOR] multiplicity = auto`): its rounds read before its runs. */
async function raceOf(store: StoreReader): Promise<RaceView | undefined> {
  const record = await readRaceRecord(store);
  return record && raceView(record.settings, record.rows, (await loadRuns(store)).runs);
}

/** Columns padded to their widest cell, numbers to the right. */
function columns(rows: string[][], numericFrom: number): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i >= numericFrom ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/**
 * The race, by data key: where it stands (the round in progress or why it ended), the runs spent
 * against max_repeats × configurations, and a row per configuration — the best, those racing, those
 * equivalent or eliminated with their round and p (`race/table.ts`, as the dashboard shows it).
 */
function raceLines(race: RaceView): string[] {
  const lines = [`Race on ${race.criterion}: ${race.line}`];
  for (const k of race.keys) {
    lines.push(`\t${raceKeyTitle(k, race)}`);
    lines.push(...columns([raceHead(race), ...k.entries.map(raceCells)], RACE_NUMERIC_FROM).map((l) => `\t\t${l}`));
    lines.push(`\t\t${raceLegend(k, race)}`);
  }
  return lines;
}

/** `mosaic status`: Done / Diverged / Error / Running / Pending, read from the database (no server). */
export async function statusCommand(dbArg: string | undefined, options: { all?: boolean } = {}): Promise<string> {
  const db = chooseDatabase(dbArg);
  const store = await openStore(db, 'read');
  let runs: RunOverview[];
  let facts: Map<number, Record<string, string>>;
  let paused: boolean;
  let silence: Awaited<ReturnType<typeof heartbeatAges>>;
  let copyOf: string | undefined;
  let race: RaceView | undefined;
  try {
    runs = await store.overview();
    facts = await store.allFacts();
    paused = await store.isPaused();
    copyOf = (await store.identity()).copyOf;
    silence = await heartbeatAges(store);
    race = await raceOf(store);
  } finally {
    await store.close();
  }
  const by = (s: string) => runs.filter((r) => r.status === s);
  const keys = (r: RunOverview) => keysOf(facts.get(r.runId) ?? {});
  const apart = distinguishingParams(facts);
  const lines: string[] = [];
  const count = (s: string) => `${by(s).length} ${s}`;
  lines.push(
    `${displayLocation(db)}: ${runs.length} runs: ${['done', 'error', 'failed', 'diverged', 'running', 'pending'].map(count).join(', ')}`,
  );
  if (copyOf) lines.push(`a copy of ${copyOf}`);
  if (store.notice) lines.push(`note: ${store.notice}`);
  if (paused) {
    const open = by('running').length + by('pending').length;
    lines.push(
      `paused: no worker starts a new run${by('running').length ? ' (the running runs finish)' : ''}${open ? '; `mosaic resume` continues' : ''}`,
    );
  }
  const backends = backendSummary([...facts.values()]);
  if (backends) lines.push(backends);
  lines.push('Done');
  for (const r of by('done')) {
    const res = r.results;
    const acc =
      res && (res.train_acc !== null || res.test_acc !== null)
        ? `\ttrain_acc=${sci(res.train_acc)}\ttest_acc=${sci(res.test_acc)}`
        : '';
    const own = Object.entries(r.metrics)
      .map(([name, v]) => `\t${name}=${sci(v)}`)
      .join('');
    lines.push(
      `\t[${r.runId}] ${keys(r)}${apart.has(r.runId) ? `  ${apart.get(r.runId)}` : ''}\ttrain_loss=${sci(res?.train_loss)}\ttest_loss=${sci(res?.test_loss)}${acc}${own}\texecution_time=${sci(res?.duration_s)}`,
    );
    if (r.returnStatus && r.returnStatus !== 'ok') lines.push(`\t\t${r.returnStatus}`);
    if (r.lastFailure)
      lines.push(
        `\t\tits last continuation failed at epoch ${r.lastFailure.epoch} (${r.lastFailure.status}): ${r.lastFailure.message}; the results above stand`,
      );
  }
  lines.push('Diverged');
  for (const r of by('diverged')) lines.push(`\t[${r.runId}] ${keys(r)}  ${r.pipeline}  (${r.returnStatus ?? ''})`);
  lines.push('Error');
  for (const r of [...by('error'), ...by('failed')]) {
    lines.push(`\t[${r.runId}] ${keys(r)}  ${r.pipeline}  (${r.status}: ${r.returnStatus ?? ''})`);
    if (r.traceback && r.traceback !== r.returnStatus) lines.push(...r.traceback.split('\n').map((l) => `\t\t${l}`));
  }
  lines.push('Running');
  // The host of each running run, once workers of other hosts hold some (a cluster).
  const hostOf = (r: RunOverview) => facts.get(r.runId)?.host;
  const showHosts = by('running').some((r) => hostOf(r) !== undefined && hostOf(r) !== hostName());
  for (const r of by('running')) {
    const backend = facts.get(r.runId)?.backend_used?.split(' ')[0];
    const where = `${backend ? ` on ${backend}` : ''}${r.device ? ` on ${r.device}` : ''}${showHosts && hostOf(r) ? ` @ ${hostOf(r)}` : ''}`;
    const age = silence.ages.get(r.runId);
    const beat = age === undefined ? '' : `, ${heartbeatText(age, silence.timeout)}`;
    lines.push(`\t[${r.runId}] ${keys(r)}  ${r.pipeline}  epoch ${r.epochsDone}/${r.epochsTarget}${where}${beat}`);
  }
  const pending = by('pending');
  lines.push('Pending');
  if (options.all || pending.length <= 10)
    for (const r of pending) lines.push(`\t[${r.runId}] ${keys(r)}  ${r.pipeline}`);
  else lines.push(`\t${pending.length} runs: ids ${idRanges(pending.map((r) => r.runId))} (--all lists them)`);
  if (race) lines.push(...raceLines(race));
  return lines.join('\n');
}
