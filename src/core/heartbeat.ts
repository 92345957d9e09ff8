/**
 * Heartbeats: how often a worker marks its runs (and itself) alive, when a run counts as silent,
 * and how that is said — by `mosaic status`, the dashboard (whose page bundles this file) and the
 * workers waiting to take a silent host's runs back.
 */

/**
 * A worker marks its runs alive this often (or three times per timeout when that is shorter); a
 * run silent for `[MONITOR] heartbeat_timeout` seconds is taken back by any worker.
 */
export const HEARTBEAT_SECONDS = 10;

export const heartbeatSeconds = (timeout: number): number => Math.min(HEARTBEAT_SECONDS, timeout / 3);

/**
 * A run whose last heartbeat is older than a third of the timeout is silent: several beats were
 * missed, its host is likely dead or cut off (a busy worker beats between epochs and steps too).
 */
export const isSilent = (ageSeconds: number, timeout: number): boolean => ageSeconds > timeout / 3;

/**
 * Live workers are those seen within three beats: an idle worker beats on time (a busy one may
 * miss beats inside a long step, but it holds runs, so it is not counted among the idle anyway).
 */
export const workerLiveSeconds = (timeout: number): number => 3 * heartbeatSeconds(timeout);

const seconds = (s: number): string => `${Math.max(0, Math.round(s))} s`;

/** `last heartbeat 4 s ago`, or past a third of the timeout `silent for 85 s; taken back at 600 s`. */
export function heartbeatText(ageSeconds: number, timeout: number): string {
  return isSilent(ageSeconds, timeout)
    ? `silent for ${seconds(ageSeconds)}; taken back at ${seconds(timeout)}`
    : `last heartbeat ${seconds(ageSeconds)} ago`;
}
