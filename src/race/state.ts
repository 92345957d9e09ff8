/**
 * Where a race stands, from the database: its recorded rounds (`mosaic_race`) and its runs, by
 * data key — the configurations, those still racing, those eliminated or equivalent (with their
 * round and p), the repeats spent against max_repeats × configurations, and why it ended. Pure:
 * the race's next step (`advance.ts`), `mosaic status`, `compare` and the dashboard read it.
 */
import type { RaceSettings } from '../core/race-settings.js';
import { plural } from '../core/wording.js';
import type { RaceRoundRow } from '../store/types.js';
import type { AnalysisRun } from '../analysis/runs.js';
import { plannedLooks, raceSummary, type RaceTally } from '../analysis/race.js';

/** A configuration that left the race: at which round, with which p (TOST's for an equivalent one). */
export interface RaceExit {
  group: string;
  round: number;
  p: number | null;
}

export interface RaceKeyState {
  dataKey: string;
  /** Every configuration of the data key (its runs' pipeline), in the order of their first run. */
  configurations: string[];
  /** How a configuration is shown: its pipeline without the data chain all share. */
  labels: Map<string, string>;
  /** Still racing: neither eliminated nor equivalent to the best. */
  racing: string[];
  eliminated: RaceExit[];
  equivalent: RaceExit[];
  /** The best at the last recorded round. */
  best: string | null;
  rounds: number;
  /** Why the race ended in this data key, once it has. */
  over: string | null;
  /** Runs queued in this data key, and how many are pending or running (the round in progress). */
  runs: number;
  open: number;
}

export interface RaceState {
  settings: RaceSettings;
  keys: RaceKeyState[];
  /** Runs of every data key, and what a fixed multiplicity = max_repeats would have queued. */
  runs: number;
  budget: number;
  /** Every data key's race has ended. */
  over: boolean;
}

/** The pipelines of a data key share its data chain: shown without it (`mlp(64) | adam`, not `blobs(2) | mlp(64) | adam`). */
function labelsOf(configurations: string[]): Map<string, string> {
  const parts = configurations.map((c) => c.split(' | '));
  let common = 0;
  while (parts.every((p) => p.length > common + 1 && p[common] === parts[0]![common]) && parts.length > 1) common++;
  return new Map(configurations.map((c, i) => [c, parts[i]!.slice(common).join(' | ')]));
}

export function raceState(
  settings: RaceSettings,
  rows: readonly RaceRoundRow[],
  runs: readonly AnalysisRun[],
): RaceState {
  const byKey = new Map<string, AnalysisRun[]>();
  for (const run of [...runs].sort((a, b) => a.runId - b.runId)) {
    const mine = byKey.get(run.dataKey);
    if (mine) mine.push(run);
    else byKey.set(run.dataKey, [run]);
  }
  const keys = [...byKey].map(([dataKey, keyRuns]): RaceKeyState => {
    const configurations = [...new Set(keyRuns.map((r) => r.pipeline))];
    const mine = rows.filter((r) => r.dataKey === dataKey);
    const out = (decision: RaceRoundRow['decision']) =>
      mine
        .filter((r) => r.decision === decision)
        .map((r) => ({ group: r.group, round: r.round, p: decision === 'equivalent' ? r.equivalenceP : r.p }));
    const eliminated = out('eliminated');
    const equivalent = out('equivalent');
    const gone = new Set([...eliminated, ...equivalent].map((e) => e.group));
    const rounds = Math.max(0, ...mine.map((r) => r.round));
    const last = mine.filter((r) => r.round === rounds);
    return {
      dataKey,
      configurations,
      labels: labelsOf(configurations),
      racing: configurations.filter((c) => !gone.has(c)),
      eliminated,
      equivalent,
      best: last.find((r) => r.decision === 'best')?.group ?? null,
      rounds,
      over: last.find((r) => r.over !== null)?.over ?? null,
      runs: keyRuns.length,
      open: keyRuns.filter((r) => r.status === 'pending' || r.status === 'running').length,
    };
  });
  const configurations = keys.reduce((s, k) => s + k.configurations.length, 0);
  return {
    settings,
    keys,
    runs: runs.length,
    budget: configurations * settings.maxRepeats,
    over: keys.length > 0 && keys.every((k) => k.over !== null),
  };
}

/** Why a race ended in a data key, said (`over` holds the reason: decided, max-repeats, budget, no-criterion). */
export function overText(over: string, settings: RaceSettings): string {
  switch (over) {
    case 'decided':
      return 'every configuration decided';
    case 'max-repeats':
      return `max_repeats (${settings.maxRepeats}) reached`;
    case 'budget':
      return `max_runs (${settings.maxRuns}) reached`;
    case 'no-criterion':
      return `no run has a value of race_criterion ${settings.criterion}`;
    default:
      return over;
  }
}

/** The race's one line (`raceSummary`): "8 configurations, 2 left after 5 rounds; 46 runs instead of 160". */
export function raceLine(state: RaceState): string {
  const tallies: RaceTally[] = state.keys.map((k) => ({
    configurations: k.configurations.length,
    left: k.racing.length + k.equivalent.length,
    rounds: k.rounds,
    runs: k.runs,
  }));
  const line = raceSummary(tallies, state.settings.maxRepeats);
  const ended = state.keys
    .map((k) => k.over)
    .filter((o): o is string => o !== null && o !== 'decided')
    .map((o) => overText(o, state.settings));
  const open = state.keys.filter((k) => k.over === null).length;
  const still = open ? `; still racing in ${plural(open, 'data key')}` : '';
  return `${line}${ended.length ? ` (stopped: ${[...new Set(ended)].join('; ')})` : ''}${still}`;
}

/** A configuration's line in the race's table (status, compare's JSON, the dashboard). */
export interface RaceEntry {
  /** The configuration: its runs' pipeline. */
  group: string;
  /** As shown: without the data chain all share. */
  label: string;
  /** `racing` while the race in its data key goes on, `undecided` once it ended without deciding it. */
  state: 'best' | 'racing' | 'undecided' | 'equivalent' | 'eliminated';
  /** The round it left the race at (eliminated, equivalent); null while it races. */
  round: number | null;
  /**
   * Against the best: at the round it left (TOST's p for an equivalent one), or at the last round
   * for one racing or undecided; null for the best and before the first round.
   */
  p: number | null;
  /** Its mean of the criterion at its last decision. */
  mean: number | null;
  /** Its runs queued so far (the round in progress included). */
  runs: number;
}

/** The race in one data key, as shown. */
export interface RaceKeyView {
  dataKey: string;
  /** Rounds recorded, and the most there can be (one look per repeat from min_repeats to max_repeats). */
  rounds: number;
  plannedRounds: number;
  /** Why it ended (`overText`'s code), or null while it goes on. */
  over: string | null;
  /** `over at round 6 of 6: max_repeats (8) reached`, `round 3 of at most 6 in progress (5 runs open)`. */
  progress: string;
  /** Runs of this data key; what max_repeats × configurations would have queued. */
  runs: number;
  budget: number;
  configurations: number;
  /** The level p is held to in this data key: α / (looks · pairs); null before the first round. */
  threshold: number | null;
  /** Best, racing or undecided (closest to the best first), equivalent, eliminated (the last to leave first). */
  entries: RaceEntry[];
}

/** Everything shown of a race, plain data (JSON as it is): `mosaic status`, `compare --format json`, the dashboard. */
export interface RaceView {
  criterion: string;
  alpha: number;
  minRepeats: number;
  maxRepeats: number;
  maxRuns: number | null;
  rope: number | null;
  /** `raceLine`: "6 configurations, 3 left after 6 rounds; 45 runs instead of 48 …". */
  line: string;
  runs: number;
  budget: number;
  over: boolean;
  keys: RaceKeyView[];
}

/** Where a data key's race stands, said: its end, or the round in progress. */
function progressText(key: RaceKeyState, settings: RaceSettings, planned: number): string {
  if (key.over !== null) return `over at round ${key.rounds} of ${planned}: ${overText(key.over, settings)}`;
  const round = key.rounds + 1;
  return key.open > 0
    ? `round ${round} of at most ${planned} in progress (${plural(key.open, 'run')} open)`
    : `round ${round} of at most ${planned} finished, its decision not yet recorded`;
}

/** The race as shown, from the same rows and runs as `raceState` (which it calls). */
export function raceView(
  settings: RaceSettings,
  rows: readonly RaceRoundRow[],
  runs: readonly AnalysisRun[],
): RaceView {
  const state = raceState(settings, rows, runs);
  const planned = plannedLooks(settings);
  const keys = state.keys.map((key): RaceKeyView => {
    const mine = rows.filter((r) => r.dataKey === key.dataKey);
    /** Each configuration's row at its last decision. */
    const last = new Map<string, RaceRoundRow>();
    for (const r of mine) if ((last.get(r.group)?.round ?? 0) <= r.round) last.set(r.group, r);
    const runsOf = new Map<string, number>();
    for (const r of runs) if (r.dataKey === key.dataKey) runsOf.set(r.pipeline, (runsOf.get(r.pipeline) ?? 0) + 1);
    const entry = (group: string, standing: RaceEntry['state'], exit?: RaceExit): RaceEntry => {
      const row = last.get(group);
      return {
        group,
        label: key.labels.get(group) ?? group,
        state: standing,
        round: exit?.round ?? null,
        p: exit ? exit.p : standing === 'best' ? null : (row?.p ?? null),
        mean: row?.mean ?? null,
        runs: runsOf.get(group) ?? 0,
      };
    };
    const distance = (g: string) => Math.abs(last.get(g)?.diff ?? Number.POSITIVE_INFINITY);
    const best = key.best !== null && key.racing.includes(key.best) ? key.best : null;
    const racing = key.racing.filter((g) => g !== best).sort((a, b) => distance(a) - distance(b));
    const entries = [
      ...(best !== null ? [entry(best, 'best')] : []),
      ...racing.map((g) => entry(g, key.over === null ? 'racing' : 'undecided')),
      ...key.equivalent.map((e) => entry(e.group, 'equivalent', e)),
      ...[...key.eliminated].sort((a, b) => b.round - a.round).map((e) => entry(e.group, 'eliminated', e)),
    ];
    const latest = mine.find((r) => r.round === key.rounds);
    return {
      dataKey: key.dataKey,
      rounds: key.rounds,
      plannedRounds: planned,
      over: key.over,
      progress: progressText(key, settings, planned),
      runs: key.runs,
      budget: key.configurations.length * settings.maxRepeats,
      configurations: key.configurations.length,
      threshold: latest?.threshold ?? null,
      entries,
    };
  });
  return {
    criterion: settings.criterion,
    alpha: settings.alpha,
    minRepeats: settings.minRepeats,
    maxRepeats: settings.maxRepeats,
    maxRuns: settings.maxRuns ?? null,
    rope: settings.rope ?? null,
    line: raceLine(state),
    runs: state.runs,
    budget: state.budget,
    over: state.over,
    keys,
  };
}
