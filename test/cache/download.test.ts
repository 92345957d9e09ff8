import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultyModel, FIXTURES, openDb, ROOT, startCli, tmpDir } from '../support/helpers.js';

/** A local HTTP server that counts requests per path. */
const hits = new Map<string, number>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url === '/slow.bin') {
      setTimeout(() => res.end(Buffer.alloc(4096, 7)), 400);
    } else if (url.startsWith('/kb/')) {
      res.end(Buffer.alloc(1024, url.charCodeAt(4)));
    } else if (url === '/broken.bin') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write(Buffer.alloc(10));
      setTimeout(() => res.destroy(), 50);
    } else if (url === '/or.json') {
      const x = Array.from({ length: 32 }, (_, i) => [i & 1, (i >> 1) & 1]);
      res.end(JSON.stringify({ x, y: x.map(([a, b]) => [a! | b!]) }));
    } else {
      res.writeHead(404).end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/**
 * Calls downloadFile in a separate Node process, as a worker would; with `startAt` (ms since the
 * epoch), not before that moment, so that several processes call it in the same millisecond.
 */
function download(
  url: string,
  dest: string,
  cacheDb: string,
  cacheSize?: number,
  startAt = 0,
): Promise<{ code: number | null; stderr: string }> {
  const script = `import { downloadFile } from ${JSON.stringify(path.join(ROOT, 'dist/index.js'))};
    while (Date.now() < Number(process.argv[3]));
    await downloadFile(process.argv[1], process.argv[2]);`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, url, dest, String(startAt)], {
      env: { ...process.env, MOSAIC_CACHE_DB: cacheDb, ...(cacheSize ? { MOSAIC_CACHE_SIZE: String(cacheSize) } : {}) },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const cachedUrls = (cacheDb: string) => {
  const d = openDb(cacheDb);
  const rows = (d.prepare(`SELECT url FROM files WHERE state = 'ready' ORDER BY url`).all() as { url: string }[]).map(
    (r) => r.url.replace(base, ''),
  );
  d.close();
  return rows;
};

describe('download cache', () => {
  it('fetches a URL once even when several processes ask at the same time', async () => {
    const dir = tmpDir();
    const cacheDb = path.join(dir, 'cache.db');
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) => download(`${base}/slow.bin`, path.join(dir, `out-${i}/slow.bin`), cacheDb)),
    );
    for (const r of results) expect(r).toEqual({ code: 0, stderr: '' });
    expect(hits.get('/slow.bin')).toBe(1);
    for (const i of [1, 2, 3, 4])
      expect(fs.readFileSync(path.join(dir, `out-${i}/slow.bin`)).equals(Buffer.alloc(4096, 7))).toBe(true);
    // and later calls come from the cache
    expect((await download(`${base}/slow.bin`, path.join(dir, 'again.bin'), cacheDb)).code).toBe(0);
    expect(hits.get('/slow.bin')).toBe(1);
  });

  it('opens a new cache while another process holds its write lock, as one switching it to WAL does', async () => {
    // SQLite refuses the switch of a new file to WAL at once while another process holds its
    // write lock, busy timeout or not: what several workers opening a new cache together meet.
    const dir = tmpDir();
    const cacheDb = path.join(dir, 'cache.db');
    const startAt = Date.now() + 1500;
    const lock = `const db = new (require(${JSON.stringify(path.join(ROOT, 'node_modules/better-sqlite3'))}))(process.argv[1]);
      db.exec('BEGIN IMMEDIATE'); console.log(Date.now());
      setTimeout(() => db.exec('COMMIT'), Number(process.argv[2]) - Date.now());`;
    const holder = spawn(process.execPath, ['-e', lock, cacheDb, String(startAt + 300)]);
    const lockedAt = await new Promise<number>((resolve) =>
      holder.stdout.once('data', (d) => resolve(Number(String(d)))),
    );
    expect(lockedAt).toBeLessThan(startAt);
    const r = await download(`${base}/kb/l`, path.join(dir, 'out'), cacheDb, undefined, startAt);
    expect(r).toEqual({ code: 0, stderr: '' });
    expect(fs.readFileSync(path.join(dir, 'out')).equals(Buffer.alloc(1024, 'l'.charCodeAt(0)))).toBe(true);
  });

  it('evicts the least recently used files to stay under cache_size', async () => {
    const dir = tmpDir();
    const cacheDb = path.join(dir, 'cache.db');
    const get = (name: string) => download(`${base}/kb/${name}`, path.join(dir, name), cacheDb, 2500);
    await get('a');
    await get('b');
    await get('a'); // a is now more recent than b
    await get('c'); // 3 KB > 2.5 KB: b goes
    expect(cachedUrls(cacheDb)).toEqual(['/kb/a', '/kb/c']);
    expect(fs.readdirSync(`${cacheDb}.files`)).toHaveLength(2);
    await get('b');
    expect(hits.get('/kb/b')).toBe(2);
    expect(hits.get('/kb/a')).toBe(1);
  });

  it('a failed download leaves no partial file and says why', async () => {
    const dir = tmpDir();
    const cacheDb = path.join(dir, 'cache.db');
    const missing = await download(`${base}/missing.bin`, path.join(dir, 'm.bin'), cacheDb);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(
      /DownloadError: downloadFile: http:\/\/127\.0\.0\.1:\d+\/missing\.bin answered 404 Not Found/,
    );
    const broken = await download(`${base}/broken.bin`, path.join(dir, 'b.bin'), cacheDb);
    expect(broken.code).not.toBe(0);
    expect(broken.stderr).toMatch(
      /DownloadError: downloadFile: (the download of .*broken\.bin broke off|.*broken\.bin sent \d+ of 1000 bytes)/,
    );
    expect(fs.readdirSync(dir).sort()).toEqual(
      ['cache.db', 'cache.db-shm', 'cache.db-wal', 'cache.db.files'].filter((f) => fs.existsSync(path.join(dir, f))),
    );
    expect(fs.readdirSync(`${cacheDb}.files`)).toEqual([]);
    expect(cachedUrls(cacheDb)).toEqual([]);
  });

  // spawnSync would block this process and its HTTP server: the CLI runs asynchronously here.
  it("serves data classes in runs, the cache set by [MONITOR]; a failing URL is in the run's trace", async () => {
    const dir = tmpDir();
    const config = (url: string) => `[PROCESS]
epochs = 2
data_scheme = data
pipeline_scheme = model
loss_function = BCELoss
[MONITOR]
nb_processus = 2
multiplicity = 2
cache_database_path = ./downloads.db
cache_size = 1M
[remote]
type = data
class = remote_data
path_to_class = ${FIXTURES}/download-data.mjs
key = remote
url = ${url}
batch_size = 4
${faultyModel('2')}`;
    fs.writeFileSync(path.join(dir, 'ok.ini'), config(`${base}/or.json`));
    const okRun = await startCli(['run', 'ok.ini', 'ok.db'], dir).done;
    expect(okRun.code, JSON.stringify(okRun)).toBe(0);
    expect(hits.get('/or.json')).toBe(1);
    expect(cachedUrls(path.join(dir, 'downloads.db'))).toEqual(['/or.json']);

    fs.writeFileSync(path.join(dir, 'bad.ini'), config(`${base}/gone.json`));
    // refused before queueing (the check prepares the data), or with --no-check in the run's trace
    const refused = await startCli(['run', 'bad.ini', 'bad.db'], dir).done;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/\[remote\]: remote_data fails preparing the data: .*gone\.json answered 404/);
    expect(fs.existsSync(path.join(dir, 'bad.db'))).toBe(false);
    expect((await startCli(['run', 'bad.ini', 'bad.db', '--no-check'], dir).done).code).toBe(3);
    const d = openDb(path.join(dir, 'bad.db'));
    const trace = (
      d.prepare(`SELECT param_value FROM params WHERE run_id = 1 AND param_name = 'traceback'`).get() as {
        param_value: string;
      }
    ).param_value;
    d.close();
    expect(trace).toMatch(/DownloadError: downloadFile: .*\/gone\.json answered 404 Not Found\n\s+at /);
  });
});
