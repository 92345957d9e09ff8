import type { ServerResponse } from 'node:http';
import { isWorkerAlive } from '../core/host.js';
import { MONITOR_DEFAULTS } from '../core/defaults.js';
import type { OpenRun, StoreReader } from '../store/types.js';
import type { RunStatus } from '../core/run-records.js';
import type { Summary } from './api-types.js';
import type { MonitorSettings } from '../config/types.js';

export type { Summary };

const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
/** The pace is measured over this window. */
const PACE_WINDOW_MS = 60_000;

/**
 * A cheap mark of the store's state: counts, pause, open runs' epochs, and in a race the decisions
 * recorded (a race's last round ends it without queueing a run: no count changes).
 */
export async function readMark(
  store: StoreReader,
): Promise<{ mark: string; open: OpenRun[]; counts: Record<RunStatus, number>; paused: boolean }> {
  const [counts, paused, open, monitor] = await Promise.all([
    store.counts(),
    store.isPaused(),
    store.openRuns(),
    store.getSetting<MonitorSettings>('monitor'),
  ]);
  const openPart = open
    .filter((o) => o.status === 'running' || o.epochsDone > 0)
    .map((o) => `${o.runId}${o.status[0]}${o.epochsDone}`)
    .join(',');
  const racePart = monitor?.race ? `|race ${(await store.raceRounds()).length}` : '';
  return { mark: `${JSON.stringify(counts)}|${paused}|${openPart}${racePart}`, open, counts, paused };
}

/**
 * The live feed: polls the store once a second while at least one page listens (server-sent
 * events), and not at all otherwise; sends the summary when the mark changes.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private timer?: NodeJS.Timeout;
  private keepalive?: NodeJS.Timeout;
  private last?: Summary;
  /** The running runs' last heartbeats when `last` was made: a new one (or none) makes the summary again. */
  private lastBeats?: string;
  private pace: { at: number; remaining: number }[] = [];
  private polling = false;
  /** Polls done (for tests and the bench). */
  polls = 0;

  constructor(
    private readonly store: StoreReader,
    private readonly dbName: string,
  ) {}

  get listeners(): number {
    return this.clients.size;
  }

  async summary(): Promise<Summary> {
    const { mark, open, counts, paused } = await readMark(this.store);
    // Heartbeats are not part of the mark (the page reloads its views when the mark changes), but
    // the running runs' heartbeat ages are shown: a heartbeat landing sends the summary again.
    const beats = open
      .filter((o) => o.status === 'running')
      .map((o) => `${o.runId}@${o.heartbeatAt}`)
      .join(',');
    if (this.last && this.last.mark === mark && this.lastBeats === beats) return this.last;
    this.lastBeats = beats;
    const monitor = await this.store.getSetting<{ heartbeat_timeout?: number }>('monitor');
    const claims = await this.store.runningClaims();
    const alive = new Set(
      claims
        .filter((c) => c.host !== null && c.pid !== null && isWorkerAlive(c.host, c.pid))
        .map((c) => `${c.host}:${c.pid}`),
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const finished = total - counts.pending - counts.running;
    const share = open.reduce((s, o) => s + (o.epochsTarget > 0 ? Math.min(1, o.epochsDone / o.epochsTarget) : 0), 0);
    const remainingEpochs = open.reduce((s, o) => s + Math.max(0, o.epochsTarget - o.epochsDone), 0);
    const running = open.filter((o) => o.status === 'running');
    this.last = {
      db: this.dbName,
      counts,
      total,
      paused,
      workersAlive: alive.size,
      progress: total ? (finished + share) / total : 0,
      remainingEpochs,
      etaSeconds: this.eta(remainingEpochs, running),
      running: running.map(({ runId, pipeline, epochsDone, epochsTarget, device, last, host, silentSeconds }) => ({
        runId,
        pipeline,
        epochsDone,
        epochsTarget,
        device,
        last,
        host,
        heartbeatAgeSeconds: silentSeconds,
      })),
      heartbeatTimeout: monitor?.heartbeat_timeout ?? MONITOR_DEFAULTS.heartbeat_timeout,
      epochs: Object.fromEntries(
        open.filter((o) => o.status === 'running' || o.epochsDone > 0).map((o) => [o.runId, o.epochsDone]),
      ),
      hint: hint(counts, paused, alive.size, this.dbName),
      mark,
    };
    return this.last;
  }

  /** Remaining epochs at the pace seen over the last minute, or from the running runs' last epoch times. */
  private eta(remaining: number, running: OpenRun[]): number | null {
    if (remaining === 0) return 0;
    const now = Date.now();
    this.pace.push({ at: now, remaining });
    this.pace = this.pace.filter((p) => now - p.at <= PACE_WINDOW_MS);
    const first = this.pace[0]!;
    const done = first.remaining - remaining;
    if (now - first.at >= 5000 && done > 0) return (remaining * (now - first.at)) / done / 1000;
    const rate = running.reduce((s, o) => s + (o.last && o.last.duration_s > 0 ? 1 / o.last.duration_s : 0), 0);
    return rate > 0 ? remaining / rate : null;
  }

  /** Adds a page: it gets the summary now and on every change. */
  subscribe(res: ServerResponse): void {
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (this.last) this.send(res, this.last);
    if (!this.timer) this.schedule(0);
    this.keepalive ??= setInterval(() => {
      for (const c of this.clients) c.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0 || this.polling) return;
    this.polling = true;
    const before = this.last;
    try {
      this.polls++;
      const s = await this.summary();
      if (s !== before) for (const c of this.clients) this.send(c, s);
    } catch (e) {
      for (const c of this.clients)
        c.write(`event: problem\ndata: ${JSON.stringify({ error: (e as Error).message })}\n\n`);
    } finally {
      this.polling = false;
      if (this.clients.size > 0) this.schedule(POLL_MS);
    }
  }

  private send(res: ServerResponse, s: Summary): void {
    res.write(`event: summary\ndata: ${JSON.stringify(s)}\n\n`);
  }

  private stop(): void {
    clearTimeout(this.timer);
    clearInterval(this.keepalive);
    this.timer = undefined;
    this.keepalive = undefined;
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.stop();
  }
}

function hint(counts: Record<RunStatus, number>, paused: boolean, workersAlive: number, db: string): string | null {
  const waiting = counts.pending;
  if (paused) {
    return counts.running > 0
      ? `Paused: ${counts.running} running run${counts.running === 1 ? '' : 's'} finish, ${waiting} pending wait.`
      : waiting > 0
        ? `Paused: ${waiting} pending run${waiting === 1 ? '' : 's'} wait. Resume here, then start a worker: mosaic resume ${db}`
        : 'Paused.';
  }
  if (waiting > 0 && workersAlive === 0 && counts.running === 0)
    return `${waiting} pending run${waiting === 1 ? '' : 's'} wait for a worker: start one with mosaic resume ${db}`;
  return null;
}
