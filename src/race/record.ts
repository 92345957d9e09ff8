/**
 * A database's race as recorded: its settings (the experiment's `[MONITOR]`, when it is a race) and
 * its rounds. Read before the runs by every reader — the next step, status, compare, the dashboard —
 * so that a round recorded meanwhile shows as its new runs, pending, never as a round without them.
 */
import type { MonitorSettings } from '../config/types.js';
import type { RaceSettings } from '../core/race-settings.js';
import type { RaceRoundRow, StoreReader } from '../store/types.js';

/** The race's settings and whether the design is paired, when the database's experiment is a race (`multiplicity = auto`). */
export async function raceSettingsOf(
  store: Pick<StoreReader, 'getSetting'>,
): Promise<(RaceSettings & { paired: boolean }) | undefined> {
  const monitor = await store.getSetting<MonitorSettings>('monitor');
  return monitor?.race ? { ...monitor.race, paired: monitor.paired } : undefined;
}

/** The race's settings and the rounds recorded so far. */
export interface RaceRecord {
  settings: RaceSettings & { paired: boolean };
  rows: RaceRoundRow[];
}

/** The race's settings and recorded rounds, or undefined when the experiment is not a race; read the runs after this. */
export async function readRaceRecord(
  store: Pick<StoreReader, 'getSetting' | 'raceRounds'>,
): Promise<RaceRecord | undefined> {
  const settings = await raceSettingsOf(store);
  return settings ? { settings, rows: await store.raceRounds() } : undefined;
}
