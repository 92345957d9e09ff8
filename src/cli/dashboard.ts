import { MosaicError } from '../core/errors.js';
import { displayLocation } from '../store/location.js';
import { chooseDatabase } from './recent.js';

export interface DashboardCommandOptions {
  db?: string;
  port: string;
  host: string;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new MosaicError(`--port must be a port number from 0 to 65535, got "${value}"`);
  return n;
}

/**
 * `mosaic dashboard [DB]`: serves the live dashboard until Ctrl-C. Prints the address (with the
 * token when the address is not the loopback) and opens nothing. fastify is loaded here only.
 */
export async function dashboardCommand(dbArg: string | undefined, options: DashboardCommandOptions): Promise<void> {
  const db = chooseDatabase(options.db ?? dbArg);
  const port = portNumber(options.port);
  if (!options.host || options.host.length > 255)
    throw new MosaicError('--host must name an address, e.g. 127.0.0.1 or 0.0.0.0');
  const { startDashboard } = await import('../dashboard/server.js');
  const dashboard = await startDashboard({ db, host: options.host, port });
  console.log(`mosaic dashboard of ${displayLocation(db)}: ${dashboard.url}`);
  if (dashboard.notice) console.log(`note: ${dashboard.notice}`);
  if (dashboard.tokenForReads)
    console.log(
      'The address holds a token, shown once: anyone with it can read this experiment and pause it. Ctrl-C stops.',
    );
  else console.log('Only this machine can open it (127.0.0.1). Ctrl-C stops.');
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void dashboard.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log('mosaic dashboard stopped');
}
