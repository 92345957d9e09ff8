import type { FastifyInstance } from 'fastify';
import type { Store, StoreReader } from '../store/types.js';
import { acrossDatasetsView, choices, compareView, metaplotView, perfanalysisView, raceAnswer } from './analysis.js';
import { HttpError, runId, runIds, type Query } from './http-errors.js';
import type { LiveFeed } from './live.js';
import { SECURITY_HEADERS } from './security.js';
import type { SnapshotSource } from './snapshot.js';
import { tableCsv, tablePage, tableQuery } from './table.js';

export interface RouteContext {
  /** The database as it may be shown (a URL without its password). */
  db: string;
  /** Opens the database for writing, as given on the command line (its password too): only to pause or resume. */
  openWriter: () => Promise<Store>;
  store: StoreReader;
  snapshots: SnapshotSource;
  live: LiveFeed;
}

/** At most this many runs' curves in one overlay. */
export const MAX_OVERLAY = 50;

/** The JSON API the page reads. Every route reads through the store's reader; only pause/resume writes. */
export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, snapshots, live } = ctx;

  app.get('/api/summary', () => live.summary());

  app.get('/api/events', (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    reply.raw.write('retry: 2000\n\n');
    live.subscribe(reply.raw);
    request.raw.on('close', () => reply.raw.end());
  });

  app.get('/api/choices', async () => choices(await snapshots.get()));

  app.get('/api/runs', async (request) => tablePage(await snapshots.get(), tableQuery(request.query as Query)));

  app.get('/api/runs.csv', async (request, reply) => {
    const csv = tableCsv(await snapshots.get(), tableQuery(request.query as Query));
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="mosaic-runs.csv"')
      .send(csv);
  });

  app.get('/api/runs/:id', async (request) => {
    const id = runId((request.params as { id: string }).id);
    const [overview] = await store.overview([id]);
    if (!overview) throw new HttpError(404, `no run ${id} in ${ctx.db}`);
    const [facts, runDir, history] = await Promise.all([store.facts(id), store.runDir(id), store.history(id)]);
    return { ...overview, facts, runDir, seed: facts.seed ?? null, history };
  });

  app.get('/api/runs/:id/history', async (request) => {
    const id = runId((request.params as { id: string }).id);
    const history = await store.history(id);
    if (history.length === 0 && !(await store.allRunIds()).includes(id))
      throw new HttpError(404, `no run ${id} in ${ctx.db}`);
    return history;
  });

  app.get('/api/histories', async (request) => {
    const ids = runIds(request.query as Query, 'ids', MAX_OVERLAY);
    if (ids.length === 0) throw new HttpError(400, '"ids" is required: run ids separated by commas');
    const known = new Set(await store.allRunIds());
    const unknown = ids.filter((id) => !known.has(id));
    if (unknown.length) throw new HttpError(404, `no run ${unknown.join(', ')} in ${ctx.db}`);
    const s = await snapshots.get();
    const all = await Promise.all(
      ids.map(async (id) => ({
        runId: id,
        pipeline: s.byId.get(id)?.pipeline ?? '',
        history: await store.history(id),
      })),
    );
    return all;
  });

  app.get('/api/race', async () => raceAnswer(await snapshots.get()));
  app.get('/api/compare', async (request) => compareView(await snapshots.get(), request.query as Query));
  app.get('/api/across-datasets', async (request) => acrossDatasetsView(await snapshots.get(), request.query as Query));
  app.get('/api/figures/metaplot', async (request) =>
    metaplotView(await snapshots.get(), request.query as Query, ctx.db),
  );
  app.get('/api/figures/perfanalysis', async (request) =>
    perfanalysisView(await snapshots.get(), request.query as Query, ctx.db),
  );

  /** Pause or resume: the only write, through a store opened for it and closed at once. */
  app.post('/api/control/pause', async (request) => {
    const body = request.body as { paused?: unknown } | null;
    if (typeof body !== 'object' || body === null || typeof body.paused !== 'boolean')
      throw new HttpError(400, 'send {"paused": true} or {"paused": false}');
    const writer = await ctx.openWriter();
    try {
      await writer.setPaused(body.paused);
    } finally {
      await writer.close();
    }
    return live.summary();
  });
}
