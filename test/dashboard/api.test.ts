import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../../dist/dashboard/server.js';
import { openStore } from '../../dist/store/open.js';
import { LiveFeed } from '../../dist/dashboard/live.js';
import { analysisDb, iniText, TWO_MODELS } from '../support/analysis-db.js';
import { cli, startCli, tmpDir } from '../support/helpers.js';

// Two model keys at two widths, four repeats; model_a better. Runs 15 and 16 end in error, run 8 stays pending.

async function database(dir: string): Promise<string> {
  return analysisDb(dir, iniText({ multiplicity: 4, models: TWO_MODELS }), (facts, i) => {
    if (i === 7) return { status: 'pending' };
    if (i >= 14) return { status: 'error' };
    const width = Number(facts.A_width ?? facts.B_width);
    return {
      status: 'done',
      value: (facts.mlp_key === 'model_a' ? 1 : 2) + (i % 4) * 0.1 + width / 100,
      nb_params: width * 10,
      acc: 0.5,
    };
  });
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => any;
}

/** A raw HTTP request: the path is sent exactly as given (no URL normalisation, unlike fetch). */
function request(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) }),
        );
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

describe('dashboard server on the loopback', () => {
  let dir: string;
  let db: string;
  let dash: Dashboard;
  let get: (path: string, headers?: Record<string, string>) => Promise<Answer>;
  let cookie: string;

  beforeAll(async () => {
    dir = tmpDir();
    db = await database(dir);
    dash = await startDashboard({ db, host: '127.0.0.1', port: 0 });
    get = (path, headers) => request(dash.port, path, { headers: headers ?? {} });
    const page = await get('/');
    cookie = String(page.headers['set-cookie']).split(';')[0]!;
  });
  afterAll(async () => {
    await dash?.close();
  });

  it('serves the page with a strict Content-Security-Policy and its token in an HttpOnly, same-site cookie', async () => {
    expect(dash.url).toBe(`http://127.0.0.1:${dash.port}/`);
    expect(dash.tokenForReads).toBe(false);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<script type="module" src="\/static\/main\.js"><\/script>/);
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]/); // no inline script
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline/);
    expect(csp).toMatch(/default-src 'none'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(String(page.headers['set-cookie'])).toMatch(
      new RegExp(`^mosaic_token=${dash.token}; Path=/; HttpOnly; SameSite=Strict$`),
    );
    const script = await get('/static/main.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.body).not.toMatch(/cdn\.|https:\/\/unpkg|jsdelivr/);
  });

  it('summarises counts, progress and pause', async () => {
    const s = (await get('/api/summary')).json();
    expect(s.counts).toEqual({ pending: 1, running: 0, done: 13, error: 2, failed: 0, diverged: 0 });
    expect(s.total).toBe(16);
    expect(s.progress).toBeCloseTo(15 / 16, 5);
    expect(s.paused).toBe(false);
    expect(s.hint).toMatch(/1 pending run wait for a worker: start one with mosaic resume .*a\.db/);
  });

  it('pages, sorts, filters and searches the runs table', async () => {
    const all = (await get('/api/runs?limit=5')).json();
    expect(all.total).toBe(16);
    expect(all.matched).toBe(16);
    expect(all.rows.map((r: any) => r.runId)).toEqual([1, 2, 3, 4, 5]);
    expect(all.columns).toEqual(expect.arrayContaining(['A_width', 'B_width']));
    const second = (await get('/api/runs?limit=5&offset=5')).json();
    expect(second.rows.map((r: any) => r.runId)).toEqual([6, 7, 8, 9, 10]);
    const byLoss = (await get('/api/runs?sort=test_loss&dir=desc&limit=500')).json();
    const losses = byLoss.rows.map((r: any) => r.test_loss);
    const finite = losses.filter((x: any) => x !== null);
    expect(finite).toEqual([...finite].sort((a: number, b: number) => b - a));
    expect(losses.slice(finite.length).every((x: any) => x === null)).toBe(true); // runs without results last
    const errors = (await get('/api/runs?status=error')).json();
    expect(errors.rows.map((r: any) => [r.runId, r.status])).toEqual([
      [15, 'error'],
      [16, 'error'],
    ]);
    const two = (await get('/api/runs?status=error&status=pending')).json();
    expect(two.matched).toBe(3);
    const b = (await get('/api/runs?model=model_b&status=done')).json();
    expect(b.matched).toBe(6);
    expect(b.rows.every((r: any) => r.modelKey === 'model_b')).toBe(true);
    const wide = (await get(`/api/runs?param=${encodeURIComponent('width>=3')}`)).json();
    expect(wide.matched).toBe(8);
    expect(wide.rows.every((r: any) => (r.params.A_width ?? r.params.B_width) === '3')).toBe(true);
    const exact = (await get(`/api/runs?param=${encodeURIComponent('B_width=2.0')}`)).json();
    expect(exact.matched).toBe(4);
    const search = (await get('/api/runs?q=MODEL_A')).json();
    expect(search.matched).toBe(8);
  });

  it('downloads the filtered table as CSV', async () => {
    const csv = await get('/api/runs.csv?status=done&model=model_a');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-disposition']).toMatch(/attachment; filename="mosaic-runs\.csv"/);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toMatch(
      /^run_id,status,pipeline,dataset_key,model_key,epochs_done,epochs_target,train_loss,test_loss,/,
    );
    expect(lines).toHaveLength(1 + 7);
    expect(lines.slice(1).every((l) => /^\d+,done,/.test(l) && l.includes(',model_a,'))).toBe(true);
  });

  it('shows a run: facts, seed, checkpoint folder, history; the trace of an error', async () => {
    const run = (await get('/api/runs/1')).json();
    expect(run.runId).toBe(1);
    expect(run.status).toBe('done');
    expect(run.seed).toMatch(/^\d+$/);
    expect(run.runDir).toMatch(/run_1$/);
    expect(run.history).toHaveLength(1);
    expect(run.facts.mlp_key).toBe('model_a');
    const failed = (await get('/api/runs/15')).json();
    expect(failed.traceback).toBe('error on purpose');
    expect((await get('/api/runs/1/history')).json()).toHaveLength(1);
    const overlay = (await get('/api/histories?ids=1,2,9')).json();
    expect(overlay.map((r: any) => [r.runId, r.history.length])).toEqual([
      [1, 1],
      [2, 1],
      [9, 1],
    ]);
  });

  it('gives the same verdict as mosaic compare, and the specs of metaplot and perfanalysis', async () => {
    for (const query of ['', '?at=width', '?criterion=test_acc&by=mlp']) {
      const page = (await get(`/api/compare${query}`)).json();
      const args = ['compare', db, ...new URLSearchParams(query).entries()].flatMap((x) =>
        Array.isArray(x) ? [`--${x[0]}`, x[1]] : [x],
      );
      const printed = cli(args, dir);
      expect(printed.code, printed.stderr).toBe(0);
      const verdicts = printed.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('toy: ') && !l.includes(': ranking by '));
      expect(verdicts.length).toBeGreaterThan(0);
      expect(page.verdictLines).toEqual(verdicts);
    }
    // --rope as a field: the same equivalence tests, and the same refusal
    const roped = (await get('/api/compare?rope=0.5')).json();
    const printedRope = JSON.parse(cli(['compare', db, '--rope', '0.5', '--format', 'json'], dir).stdout);
    expect(roped.rope).toBe(0.5);
    expect(roped.pairs.map((p: { equivalence: unknown }) => p.equivalence)).toEqual(
      printedRope.pairs.map((p: { equivalence: unknown }) => p.equivalence),
    );
    const badRope = await get('/api/compare?rope=-1');
    expect([badRope.status, badRope.json().error]).toEqual([
      400,
      `--rope must be a positive number in the criterion's units (e.g. 0.005 for accuracy), not "-1"`,
    ]);
    // one entry per parameter: width designates A_width and B_width, each in its own runs
    expect((await get('/api/choices')).json().at).toEqual(['nb_params', 'width']);
    // the table's titles: A_width and B_width would both be "width", so they stay in full
    expect((await get('/api/runs?limit=1')).json().labels).toEqual({ A_width: 'A_width', B_width: 'B_width' });
    const meta = (await get('/api/figures/metaplot?dataset=toy&criterion=test_loss')).json();
    expect(meta.spec.title.text).toBe('test_loss against model size on toy');
    expect(meta.spec.layer[meta.spec.layer.length - 1].params[0].bind).toBe('scales');
    expect(meta.spec.config.font).toBe('DejaVu Sans');
    const perf = (await get('/api/figures/perfanalysis?dataset=toy&criterion=test_loss')).json();
    expect(perf.spec.hconcat).toHaveLength(2);
    expect((await get('/api/figures/metaplot?dataset=nope&criterion=test_loss')).json().error).toMatch(
      /no finished run has dataset key "nope"/,
    );
  });

  it('answers hostile and malformed requests with 4xx JSON, never a crash', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/runs/999999', 404, /no run 999999/],
      ['/api/runs/abc', 400, /positive integer/],
      ['/api/runs/-1', 400, /positive integer/],
      ['/api/runs/1e3', 400, /positive integer/],
      ['/api/runs/99999999999999999999', 400, /positive integer/],
      ['/api/runs/999999/history', 404, /no run/],
      ['/api/runs?limit=501', 400, /between 1 and 500/],
      ['/api/runs?limit=0', 400, /between/],
      ['/api/runs?limit=abc', 400, /integer/],
      ['/api/runs?offset=-5', 400, /between/],
      ['/api/runs?limit=1&limit=2', 400, /once/],
      ['/api/runs?status=bogus', 400, /unknown status/],
      ['/api/runs?sort=__proto__', 400, /cannot sort/],
      ['/api/runs?sort=constructor', 400, /cannot sort/],
      ['/api/runs?dir=sideways', 400, /asc or desc/],
      ['/api/runs?param=nonsense', 400, /NAME=VALUE/],
      [`/api/runs?q=${'x'.repeat(300)}`, 400, /too long/],
      [`/api/runs?${Array.from({ length: 30 }, () => 'param=a%3D1').join('&')}`, 400, /at most 10/],
      ['/api/histories', 400, /required/],
      [`/api/histories?ids=${Array.from({ length: 51 }, (_, i) => i + 1).join(',')}`, 400, /at most 50/],
      ['/api/histories?ids=1,424242', 404, /no run 424242/],
      ['/api/histories?ids=1;DROP%20TABLE%20runs', 400, /positive integer/],
      ['/api/compare?criterion=nonsense', 400, /unknown criterion "nonsense"/],
      ['/api/compare?at=nosuchparam', 400, /./],
      ['/api/compare?by=nosuchtype', 400, /./],
      [
        '/api/across-datasets',
        400,
        /^the view across datasets needs at least two data keys; this database has one: toy$/,
      ],
      ['/api/across-datasets?criterion=nonsense', 400, /unknown criterion "nonsense"/],
      ['/api/figures/metaplot', 400, /"dataset" is required/],
      ['/api/figures/perfanalysis?dataset=toy&criterion=%00', 400, /unknown criterion/],
      ['/api/sql?query=SELECT%201', 404, /nothing at/],
      ['/api/nothing', 404, /nothing at/],
    ];
    for (const [path, status, message] of cases) {
      const r = await get(path);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.headers['content-type'], path).toMatch(/application\/json/);
      expect(r.json().error, path).toMatch(message);
    }
    // the server still answers
    expect((await get('/api/summary')).status).toBe(200);
    const store = await openStore(db, 'read');
    expect((await store.counts()).done).toBe(13);
    await store.close();
  });

  it('serves only the built files: no path traversal, encoded or not', async () => {
    const attempts = [
      '/static/../../package.json',
      '/static/..%2f..%2fpackage.json',
      '/static/%2e%2e/%2e%2e/package.json',
      '/static/%2e%2e%2f%2e%2e%2fpackage.json',
      '/static/..%5c..%5cpackage.json',
      '/static/%252e%252e%252fpackage.json',
      '/static/....//....//package.json',
      '/static//etc/passwd',
      '/static/%2fetc%2fpasswd',
      '/../../../../etc/passwd',
      '/static/..%00/package.json',
      '/static/.hidden',
      '/static/',
      '/static/../server.js',
      '/static/%2e%2e/server.js',
    ];
    for (const path of attempts) {
      const r = await get(path);
      expect([path, r.status >= 400 && r.status < 500]).toEqual([path, true]);
      expect(r.body).not.toMatch(/"name": "mosaic-ml"|root:x:0|startDashboard/);
    }
  });

  it('refuses a Host that is not the loopback (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8080', '127.0.0.1.evil.example', '10.0.0.1']) {
      const r = await get('/api/summary', { host });
      expect([host, r.status]).toEqual([host, 403]);
      expect(r.json().error).toMatch(/answers to 127\.0\.0\.1 or localhost only/);
    }
    expect((await get('/api/summary', { host: `localhost:${dash.port}` })).status).toBe(200);
  });

  it('pauses and resumes only with the token and a same-origin JSON request', async () => {
    const origin = `http://127.0.0.1:${dash.port}`;
    const post = (headers: Record<string, string>, body = '{"paused":true}') =>
      request(dash.port, '/api/control/pause', { method: 'POST', headers, body });
    const json = { 'content-type': 'application/json' };
    const refused: [Record<string, string>, number, RegExp][] = [
      [{ ...json, origin }, 403, /need the dashboard token/],
      [{ ...json, origin, cookie: 'mosaic_token=wrong' }, 403, /need the dashboard token/],
      [{ ...json, cookie }, 403, /same-origin request \(no Origin/],
      [{ ...json, cookie, origin: 'http://evil.example' }, 403, /Origin differs/],
      [{ ...json, cookie, origin, 'sec-fetch-site': 'cross-site' }, 403, /same-origin/],
      [{ ...json, cookie, origin: 'null' }, 403, /Origin differs/],
      [{ 'content-type': 'text/plain', cookie, origin }, 415, /application\/json/],
      [
        { 'content-type': 'application/x-www-form-urlencoded', cookie, origin, 'sec-fetch-site': 'same-origin' },
        415,
        /application\/json/,
      ],
    ];
    for (const [headers, status, message] of refused) {
      const r = await post(headers);
      expect([headers, r.status]).toEqual([headers, status]);
      expect(r.json().error).toMatch(message);
    }
    expect((await post({ ...json, cookie, origin }, '{"paused":"yes"}')).status).toBe(400);
    expect((await post({ ...json, cookie, origin }, '{not json')).status).toBe(400);
    expect(
      (await post({ ...json, cookie, origin }, JSON.stringify({ paused: true, pad: 'x'.repeat(5000) }))).status,
    ).toBe(413);
    expect(
      (await request(dash.port, '/api/runs', { method: 'DELETE', headers: { cookie, origin } })).status,
    ).toBeGreaterThanOrEqual(400);
    const isPaused = async () => {
      const store = await openStore(db, 'read');
      try {
        return await store.isPaused();
      } finally {
        await store.close();
      }
    };
    expect(await isPaused()).toBe(false);
    const paused = await post({ ...json, cookie, origin, 'sec-fetch-site': 'same-origin' });
    expect(paused.status).toBe(200);
    expect(paused.json().paused).toBe(true);
    expect(await isPaused()).toBe(true);
    const header = await post({ ...json, 'x-mosaic-token': dash.token, origin }, '{"paused":false}');
    expect(header.status).toBe(200);
    expect(header.json().paused).toBe(false);
    expect(header.json().hint).toMatch(/wait for a worker/);
    expect(await isPaused()).toBe(false);
  });

  it('polls the store only while a page listens to the live feed, about once a second', async () => {
    const before = dash.live.polls;
    await new Promise((r) => setTimeout(r, 1500));
    expect(dash.live.polls).toBe(before); // nobody listens: no polling
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${dash.port}/api/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: summary')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toMatch(/"counts":\{"pending":1,"running":0,"done":13/);
    await new Promise((r) => setTimeout(r, 3200));
    const during = dash.live.polls - before;
    expect(during).toBeGreaterThanOrEqual(3);
    expect(during).toBeLessThanOrEqual(5);
    controller.abort();
    await new Promise((r) => setTimeout(r, 300));
    expect(dash.live.listeners).toBe(0);
    const after = dash.live.polls;
    await new Promise((r) => setTimeout(r, 1500));
    expect(dash.live.polls).toBe(after);
  });
});

describe('dashboard across datasets', () => {
  it('ranks the models over two data keys as mosaic compare --across-datasets does, with the CD diagram of mosaic cdplot', async () => {
    const dir = tmpDir();
    const second = '[e]\ntype = data\nclass = D\npath_to_class = d.ts\nkey = toy2\n';
    const db = await analysisDb(dir, iniText({ multiplicity: 2, models: second + TWO_MODELS }), (facts, i) => {
      const base = facts.data_key === 'toy' ? 1 : 5;
      return {
        status: 'done',
        value:
          base + (facts.mlp_key === 'model_a' ? 0 : 1) + Number(facts.A_width ?? facts.B_width) / 10 + (i % 2) / 100,
      };
    });
    const dash = await startDashboard({ db, host: '127.0.0.1', port: 0 });
    try {
      const get = (path: string) => request(dash.port, path);
      expect((await get('/api/choices')).json().doneDatasetKeys).toEqual(['toy', 'toy2']);
      const page = await get('/api/across-datasets?criterion=test_loss');
      expect(page.status, page.body).toBe(200);
      const r = page.json();
      expect(r.datasets).toEqual(['toy', 'toy2']);
      expect(r.models).toEqual(['model_a · width=2', 'model_a · width=3', 'model_b · width=2', 'model_b · width=3']);
      expect(r.avgRanks).toEqual([1, 2, 3, 4]);
      const printed = cli(['compare', db, '--across-datasets'], dir);
      expect(printed.code, printed.stderr).toBe(0);
      expect(printed.stdout.trim().split('\n').pop()).toBe(`across 2 datasets: ${r.verdict}`);
      expect(r.figure.title.text).toBe('Critical difference diagram: test_loss over 2 datasets');
      expect(JSON.stringify(r.figure)).toContain('CD = ');
      // the page offers the view (its tab is shown once two data keys have finished runs)
      expect((await get('/')).body).toContain('id="cd-tab"');
      expect((await get('/static/main.js')).body).toContain('/api/across-datasets');
    } finally {
      await dash.close();
    }
  });
});

describe('the store reader for live views', () => {
  it("openRuns gives pending and running runs with their epochs; runDir a run's checkpoint folder", async () => {
    const dir = tmpDir();
    const db = await analysisDb(dir, iniText({ multiplicity: 2, models: TWO_MODELS }), (_f, i) =>
      i === 0 ? { status: 'running' } : i === 1 ? { status: 'pending' } : { status: 'done', value: 1 },
    );
    const store = await openStore(db, 'read');
    try {
      const open = await store.openRuns();
      expect(open.map((o) => [o.runId, o.status, o.epochsDone, o.epochsTarget, o.last])).toEqual([
        [1, 'running', 0, 1, null],
        [2, 'pending', 0, 1, null],
      ]);
      expect(open[0]!.heartbeatAt).toBeGreaterThan(1.7e9);
      expect(open[1]!.heartbeatAt).toBeNull();
      expect(open[0]!.pipeline).toBe('D() | A(2)');
      expect(await store.runDir(3)).toMatch(/run_3$/);
      expect(await store.runDir(424242)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('the live summary gives each running run its host and heartbeat age, and the timeout that takes it back', async () => {
    const dir = tmpDir();
    const db = await analysisDb(dir, iniText({ multiplicity: 2, models: TWO_MODELS }), (_f, i) =>
      i === 0 ? { status: 'running' } : { status: 'done', value: 1 },
    );
    const store = await openStore(db, 'read');
    try {
      const feed = new LiveFeed(store, 'a.db');
      const first = await feed.summary();
      expect(first.running.map((r) => [r.runId, r.host])).toEqual([[1, 'h']]);
      expect(first.running[0]!.heartbeatAgeSeconds).toBeGreaterThanOrEqual(0);
      expect(first.heartbeatTimeout).toBe(600);
      await new Promise((r) => setTimeout(r, 1100));
      // nothing changed but time: the same summary (no new heartbeat to show)
      expect(await feed.summary()).toBe(first);
    } finally {
      await store.close();
    }
  });
});

describe('dashboard server on another address', () => {
  it('needs the token on every request: ?token= once becomes a cookie, or a header', async () => {
    const dir = tmpDir();
    const db = await database(dir);
    const dash = await startDashboard({ db, host: '0.0.0.0', port: 0 });
    try {
      expect(dash.tokenForReads).toBe(true);
      expect(dash.url).toBe(`http://0.0.0.0:${dash.port}/?token=${dash.token}`);
      const get = (path: string, headers: Record<string, string> = {}) => request(dash.port, path, { headers });
      for (const path of [
        '/',
        '/api/summary',
        '/api/runs',
        '/static/main.js',
        '/api/runs/1',
        `/api/summary?token=${'a'.repeat(dash.token.length)}`,
        '/api/summary?token=short',
      ]) {
        const r = await get(path);
        expect([path, r.status]).toEqual([path, 401]);
        expect(r.json().error).toMatch(/needs its token/);
      }
      expect((await get('/api/summary', { cookie: 'mosaic_token=nope' })).status).toBe(401);
      const first = await get(`/?token=${dash.token}`);
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe('/');
      const cookie = String(first.headers['set-cookie']).split(';')[0]!;
      expect(cookie).toBe(`mosaic_token=${dash.token}`);
      expect((await get('/api/summary', { cookie })).status).toBe(200);
      expect((await get('/', { cookie })).status).toBe(200);
      expect((await get('/api/runs', { 'x-mosaic-token': dash.token })).status).toBe(200);
      expect((await get('/api/runs', { authorization: `Bearer ${dash.token}` })).status).toBe(200);
      // any Host is fine here: the token is what counts
      expect((await get('/api/summary', { cookie, host: 'my-workstation.lab:8080' })).status).toBe(200);
      // never in the database
      const store = await openStore(db, 'read');
      const copy = `${dir}/copy.db`;
      await store.copyTo(copy);
      await store.close();
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(db).includes(dash.token)).toBe(false);
      expect(readFileSync(copy).includes(dash.token)).toBe(false);
    } finally {
      await dash.close();
    }
  });
});

describe('mosaic dashboard', () => {
  it('prints its address, opens nothing, and stops cleanly on Ctrl-C', async () => {
    const dir = tmpDir();
    const db = await database(dir);
    const proc = startCli(['dashboard', db, '--port', '0'], dir);
    await proc.waitFor(/Ctrl-C stops/, 20_000);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(proc.output())![0];
    expect(proc.output()).toMatch(/Only this machine can open it/);
    expect(proc.output()).not.toMatch(/token=/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    proc.child.kill('SIGINT');
    const end = await proc.done;
    expect(end.code).toBe(0);
    expect(end.stdout).toMatch(/mosaic dashboard stopped/);
    expect(end.stderr).toBe('');
  });

  it('refuses bad options in one line', () => {
    const dir = tmpDir();
    expect(cli(['dashboard', `${dir}/missing.db`], dir).stderr).toMatch(
      /^mosaic: error: database .*missing\.db does not exist\n$/,
    );
    const r = cli(['dashboard', `${dir}/x.db`, '--port', '99999'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be a port number from 0 to 65535, got "99999"/);
  });
});
