/**
 * A throw-away PostgreSQL cluster for one test file: initdb in a temporary folder, a server on a
 * free loopback port, a fresh database per test, and everything removed afterwards.
 *
 * Where the server's binaries are missing the suites are skipped (`pgSkipReason` says why) — but
 * on CI, which must test both backends, importing this file fails instead.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

function findBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')));
  } catch {
    return undefined;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], 'bin');
}

export const pgBinDir = findBinaries();

export const pgSkipReason = pgBinDir
  ? undefined
  : 'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql to run these tests';

if (pgSkipReason && process.env.CI) throw new Error(`CI must test the PostgreSQL store: ${pgSkipReason}`);

export interface PgServer {
  /** The cluster's `postgres` database, as superuser `mosaic` (no password: trust). */
  readonly url: string;
  readonly port: number;
  /** A new empty database; its URL. */
  freshDatabase(): Promise<string>;
  /**
   * A role that must give its password over TCP (scram-sha-256), owning a new database: the
   * database's URL with the password in it. The other roles keep trust.
   */
  passwordDatabase(user: string, password: string): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and removes every file. */
  destroy(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user. */
function runPg(binary: string, args: string[]): string {
  const file = path.join(pgBinDir!, binary);
  const [cmd, cmdArgs] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    return execFileSync(cmd, cmdArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${binary} ${args.join(' ')} failed: ${err.stderr || err.stdout || err.message}`);
  }
}

/**
 * A free port below Linux's ephemeral range (32768-60999): while the test server restarts, no
 * outgoing connection of this machine (a client reconnecting to it, even) can take its port.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.unref();
      server.on('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const live = new Set<PgServer>();
const OWNER_FILE = 'owner.pid';

// If the test process ends without its afterAll (failure in a hook, interrupt), still stop the
// servers; destroy() is synchronous in all but name, so it completes in an exit handler.
const stopAll = () => {
  for (const server of live) void server.destroy();
};
process.on('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopAll();
    process.kill(process.pid, signal);
  });
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Stops and removes the clusters of test processes that were killed before they could. */
function sweepOrphans(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('mosaic-pg-')) continue;
    const root = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(root, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (!owner || isAlive(owner)) continue;
    try {
      if (fs.existsSync(path.join(root, 'data', 'postmaster.pid')))
        runPg('pg_ctl', ['-D', path.join(root, 'data'), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already stopped.
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
}

let databases = 0;

export async function startPgServer(): Promise<PgServer> {
  if (!pgBinDir) throw new Error(pgSkipReason);
  sweepOrphans();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-pg-'));
  fs.writeFileSync(path.join(root, OWNER_FILE), String(process.pid));
  const data = path.join(root, 'data');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(root, uid, gid);
  }
  const port = await freePort();
  const url = `postgres://mosaic@127.0.0.1:${port}/postgres`;
  let running = false;
  // The crash test needs a transaction that never reached the log. Its own record stays in the
  // server's memory until something else asks for the log to be written: autovacuum's
  // transactions and, at wal_level replica, the snapshot of running transactions logged every
  // 15 s would, at moments of their own; hence no autovacuum and wal_level minimal.
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c autovacuum=off -c wal_level=minimal -c max_wal_senders=0`;

  const server: PgServer = {
    url,
    port,
    async freshDatabase() {
      const name = `mosaic_test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://mosaic@127.0.0.1:${port}/${name}`;
    },
    async passwordDatabase(user: string, password: string) {
      const name = `mosaic_pw_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`SET password_encryption = 'scram-sha-256'`);
        await client.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
        await client.query(`CREATE DATABASE ${name} OWNER ${user}`);
      } finally {
        await client.end();
      }
      const hba = path.join(data, 'pg_hba.conf');
      fs.writeFileSync(hba, `host all ${user} 127.0.0.1/32 scram-sha-256\n${fs.readFileSync(hba, 'utf8')}`);
      runPg('pg_ctl', ['-D', data, 'reload']);
      return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
    },
    async start() {
      runPg('pg_ctl', ['-D', data, '-o', options, '-l', path.join(root, 'server.log'), '-w', 'start']);
      running = true;
    },
    async stop() {
      if (!running) return;
      // Immediate: connections are cut as a crash would cut them (fsync=off loses nothing committed:
      // the files stay in the page cache of the machine, which keeps running).
      runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      running = false;
    },
    async restart() {
      await server.stop();
      await server.start();
    },
    async destroy() {
      live.delete(server);
      try {
        if (running) runPg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        running = false;
        fs.rmSync(root, { recursive: true, force: true });
      }
    },
  };
  live.add(server);
  try {
    runPg('initdb', ['-D', data, '-A', 'trust', '-U', 'mosaic', '--no-sync', '-E', 'UTF8', '--locale=C']);
    await server.start();
  } catch (e) {
    await server.destroy();
    throw e;
  }
  return server;
}
