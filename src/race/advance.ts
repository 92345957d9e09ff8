/**
 * A race's next step on a database: each data key whose round has ended (none of its runs pending
 * or running) is decided (`raceRound`: eliminated, equivalent, undecided against the best), and
 * the round is recorded with the next round's repeats in one transaction of the store
 * (`recordRaceRound`), which records a round once: whoever finishes a round — any worker, on any
 * host — or finds nothing to claim calls this, and of two callers at once one records, the other
 * nothing. Idempotent, so a race resumed after a crash continues where it was.
 */
import type { RaceSettings } from '../core/race-settings.js';
import { plural } from '../core/wording.js';
import { sci } from '../core/format.js';
import { MosaicError } from '../core/errors.js';
import type { RaceRepeat, RaceRoundRecord, Store } from '../store/types.js';
import { criterionValue, loadRuns, type AnalysisRun, type Better, type Criteria } from '../analysis/runs.js';
import { raceRound, type RaceGroup } from '../analysis/race.js';
import { overText, raceState, type RaceKeyState } from './state.js';
import { type RaceRecord, readRaceRecord } from './record.js';

/** A round recorded by this call: what to say, and the runs it queued. */
export interface RaceStep {
  dataKey: string;
  round: number;
  queued: number[];
  /** `race in blobs, round 2: 3 eliminated (…); 5 left, 5 repeats queued`. */
  text: string;
}

/**
 * Decides every data key whose round has ended; returns the rounds this call recorded. `known`:
 * the race's record, read just before (`readRaceRecord`), else read here.
 */
export async function advanceRaces(store: Store, known?: RaceRecord): Promise<RaceStep[]> {
  const record = known ?? (await readRaceRecord(store));
  if (!record) return [];
  const { settings, rows } = record;
  const { runs, criteria } = await loadRuns(store);
  const state = raceState(settings, rows, runs);
  const steps: RaceStep[] = [];
  let queuedAll = runs.length;
  for (const key of state.keys) {
    if (key.over !== null || key.open > 0 || key.racing.length === 0) continue;
    const keyRuns = runs.filter((r) => r.dataKey === key.dataKey);
    const criterion = parsedCriterion(criteria, settings.criterion);
    const record = criterion
      ? decide(
          key,
          keyRuns,
          settings,
          criterion,
          settings.maxRuns === undefined ? undefined : settings.maxRuns - queuedAll,
        )
      : noCriterion(key, keyRuns);
    const repeats = record.next.map((group) =>
      nextRepeat(
        keyRuns.filter((r) => r.pipeline === group),
        settings.paired,
      ),
    );
    const queued = await store.recordRaceRound(record.rows, repeats);
    if (queued === null) continue; // another worker decided this round first
    queuedAll += queued.length;
    steps.push({
      dataKey: key.dataKey,
      round: record.rows[0]!.round,
      queued,
      text: said(key, record.rows, queued, settings),
    });
  }
  return steps;
}

/** The criterion as the runs know it (`duration` is `duration(s)`), or undefined when no run logged that metric. */
function parsedCriterion(criteria: Criteria, name: string): { name: string; better: Better } | undefined {
  try {
    const parsed = criteria.parse(name);
    return { name: parsed, better: criteria.better(parsed) };
  } catch (e) {
    if (e instanceof MosaicError) return undefined;
    throw e;
  }
}

interface Decided {
  rows: RaceRoundRecord[];
  /** The configurations that get one more repeat. */
  next: string[];
}

/** The values of a configuration's finished runs, with their seeds (the pairs of a paired race). */
function valuesOf(runs: AnalysisRun[], criterion: string): RaceGroup['values'] {
  return runs.flatMap((r) => {
    const value = r.status === 'done' ? criterionValue(r, criterion) : null;
    return value === null ? [] : [{ seed: Number(r.facts.seed), value }];
  });
}

function decide(
  key: RaceKeyState,
  keyRuns: AnalysisRun[],
  settings: RaceSettings,
  criterion: { name: string; better: Better },
  runsLeft: number | undefined,
): Decided {
  const better = criterion.better;
  const groups = key.racing.map((name) => ({
    name,
    values: valuesOf(
      keyRuns.filter((r) => r.pipeline === name),
      criterion.name,
    ),
  }));
  const round = key.rounds + 1;
  const decision = raceRound({
    groups,
    better,
    round,
    settings,
    startedWith: key.configurations.length,
    ...(runsLeft !== undefined ? { runsLeft } : {}),
  });
  const count = (name: string) => groups.find((g) => g.name === name)!.values.length;
  const meanOf = (name: string) => {
    const v = groups.find((g) => g.name === name)!.values;
    return v.length ? v.reduce((s, x) => s + x.value, 0) / v.length : null;
  };
  const base = { dataKey: key.dataKey, round, threshold: decision.threshold };
  const rows: RaceRoundRecord[] = [
    {
      ...base,
      group: decision.best,
      decision: 'best',
      n: count(decision.best),
      mean: Number.isFinite(decision.bestMean) ? decision.bestMean : null,
      diff: null,
      p: null,
      equivalenceP: null,
      over: decision.over?.reason ?? null,
    },
    ...decision.comparisons.map(
      (c): RaceRoundRecord => ({
        ...base,
        group: c.group,
        decision: c.decision,
        n: count(c.group),
        mean: meanOf(c.group),
        diff: Number.isFinite(c.diff) ? c.diff : null,
        p: c.p,
        equivalenceP: c.equivalence?.p ?? null,
        over: null,
      }),
    ),
  ];
  return { rows, next: decision.next };
}

/** No run has a value of the criterion (a metric never logged): the race in this data key ends, saying so. */
function noCriterion(key: RaceKeyState, keyRuns: AnalysisRun[]): Decided {
  const round = key.rounds + 1;
  const rows = key.racing.map(
    (group, i): RaceRoundRecord => ({
      dataKey: key.dataKey,
      round,
      group,
      decision: i === 0 ? 'best' : 'undecided',
      n: keyRuns.filter((r) => r.pipeline === group && r.status === 'done').length,
      mean: null,
      diff: null,
      p: null,
      equivalenceP: null,
      threshold: 0,
      over: i === 0 ? 'no-criterion' : null,
    }),
  );
  return { rows, next: [] };
}

/** One more repeat of a configuration, made like its latest run: the next repeat index, and in a paired race the seed every configuration's repeat of that index has. */
function nextRepeat(runs: AnalysisRun[], paired: boolean): RaceRepeat {
  const latest = runs.reduce((a, b) => (b.runId > a.runId ? b : a));
  const repeatOf = (r: AnalysisRun) => (r.facts.repeat !== undefined ? Number(r.facts.repeat) : NaN);
  const indexes = runs.map(repeatOf).filter(Number.isFinite);
  const repeat = indexes.length ? Math.max(...indexes) + 1 : runs.length;
  const withIndex = runs.find((r) => Number.isFinite(repeatOf(r)) && r.facts.seed !== undefined);
  const seed = paired && withIndex ? Number(withIndex.facts.seed) - repeatOf(withIndex) + repeat : undefined;
  return { templateRunId: latest.runId, repeat, ...(seed !== undefined ? { seed } : {}) };
}

/** `race in blobs, round 2: best mlp(64); 3 eliminated (linear p = 1.2E-04, …); 4 left; 5 repeats queued`. */
function said(key: RaceKeyState, rows: RaceRoundRecord[], queued: number[], settings: RaceSettings): string {
  const label = (g: string) => key.labels.get(g) ?? g;
  const list = (d: RaceRoundRecord['decision'], p: (r: RaceRoundRecord) => number | null) => {
    const these = rows.filter((r) => r.decision === d);
    return these.length
      ? `${these.length} ${d} (${these.map((r) => `${label(r.group)}${p(r) === null ? '' : ` p = ${sci(p(r)!, 2)}`}`).join(', ')})`
      : '';
  };
  const best = rows[0]!;
  const parts = [
    `best ${label(best.group)}`,
    list('eliminated', (r) => r.p),
    list('equivalent', (r) => r.equivalenceP),
    `${plural(rows.filter((r) => r.decision === 'undecided').length + 1, 'configuration')} racing on`,
  ].filter(Boolean);
  const end = best.over ? `race over: ${overText(best.over, settings)}` : `${plural(queued.length, 'repeat')} queued`;
  return `race in ${key.dataKey}, round ${best.round}: ${parts.join('; ')}; ${end}`;
}
