import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError } from 'fastify';
import { MosaicError } from '../core/errors.js';
import { openStore } from '../store/open.js';
import { HttpError } from './http-errors.js';
import { LiveFeed, readMark } from './live.js';
import { registerRoutes } from './routes.js';
import { Guard, SECURITY_HEADERS } from './security.js';
import { SnapshotSource } from './snapshot.js';

/** The page's files, built by `npm run build` (scripts/build-dashboard.mjs) next to this module. */
export const PUBLIC_DIR = path.join(import.meta.dirname, 'public');

export interface DashboardOptions {
  db: string;
  host: string;
  /** 0: any free port. */
  port: number;
}

export interface Dashboard {
  /** The address to open (with the token when one is needed to read). */
  url: string;
  port: number;
  /** Needed on every request when not on the loopback; for controls always. */
  token: string;
  tokenForReads: boolean;
  live: LiveFeed;
  /** What the database lacks, when the original Mosaic wrote it (the store's notice). */
  notice?: string;
  close(): Promise<void>;
}

/**
 * Serves the dashboard of one database: the page (static files), a JSON API and a live feed, all
 * read through the store's reader role. The runs are read once at start, then only when a page asks
 * and the store has changed; the live feed polls only while a page listens.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  if (!fs.existsSync(path.join(PUBLIC_DIR, 'index.html')))
    throw new MosaicError(`the dashboard's page is missing from ${PUBLIC_DIR}: run npm run build`);
  const store = await openStore(options.db, 'read');
  const guard = new Guard(options.host);
  const live = new LiveFeed(store, store.location);
  const snapshots = new SnapshotSource(store, () => readMark(store));
  const app = Fastify({ logger: false, bodyLimit: 1024, return503OnClosing: true, forceCloseConnections: true });

  app.addHook('onRequest', async (request, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    reply.header('cache-control', 'no-store');
    if (await guard.check(request, reply)) return reply;
  });

  app.setErrorHandler((error: FastifyError | Error, _request, reply) => {
    if (error instanceof HttpError) return reply.status(error.status).send({ error: error.message });
    if (error instanceof MosaicError) return reply.status(400).send({ error: error.message });
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return reply.status(status).send({ error: error.message });
    console.error(`mosaic dashboard: ${error.stack ?? error.message}`);
    return reply.status(500).send({ error: 'internal error (see the dashboard terminal)' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `nothing at ${request.url.slice(0, 100)}` }),
  );

  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/static/',
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: false,
    serveDotFiles: false,
  } as never);
  app.get('/', (_request, reply) => reply.header('set-cookie', guard.tokenCookie()).sendFile('index.html'));
  registerRoutes(app, { db: store.location, openWriter: () => openStore(options.db, 'write'), store, snapshots, live });

  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (e) {
    await store.close();
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      throw new MosaicError(`port ${options.port} on ${options.host} is in use: choose another with --port`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND')
      throw new MosaicError(`cannot listen on ${options.host}: no such address on this machine`);
    throw e;
  }
  // Read the runs once now, so the first page paints without waiting for them (10,000 runs: ~0.5 s).
  void snapshots.get().catch(() => undefined);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${shownHost}:${port}/${guard.tokenForReads ? `?token=${guard.token}` : ''}`;
  return {
    url,
    port,
    token: guard.token,
    tokenForReads: guard.tokenForReads,
    live,
    ...(store.notice ? { notice: store.notice } : {}),
    async close() {
      live.close();
      await app.close();
      await store.close();
    },
  };
}
