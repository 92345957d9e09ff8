import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../dist/dashboard/server.js';
import { analysisDb, iniText } from '../support/analysis-db.js';
import {
  cli,
  faultyModel,
  fixtureConfig,
  historyCount,
  openDb,
  startCli,
  tmpDir,
  type RunningCli,
} from '../support/helpers.js';

/**
 * The dashboard in a real browser (Debian's chromium) while a real experiment trains: statuses
 * change and curves grow without reloading, pause from the page pauses the experiment, the
 * compare view says what `mosaic compare` says, filters, run pages and downloads work.
 * (The screenshots in docs/ are made by bench/dashboard-shots.mjs; these go to a temporary folder.)
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = process.env.MOSAIC_SHOTS ?? tmpDir('mosaic-shots-');
const EPOCHS = 120;

const children: RunningCli[] = [];
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGINT');
  await Promise.all(children.map((c) => c.done));
});

const count = async (page: Page, status: string) =>
  Number((await page.locator(`[data-count=${status}] b`).textContent())?.replace(/,/g, '') ?? 'NaN');

function dbCounts(db: string): Record<string, number> {
  const d = openDb(db);
  try {
    return Object.fromEntries(
      (d.prepare(`SELECT status, COUNT(*) n FROM runs GROUP BY status`).all() as { status: string; n: number }[]).map(
        (r) => [r.status, r.n],
      ),
    );
  } finally {
    d.close();
  }
}

// CI installs chromium and must run these; elsewhere they are skipped when it is missing.
if (!fs.existsSync(CHROMIUM) && process.env.CI)
  throw new Error(`CI must test the dashboard in a browser: ${CHROMIUM} is missing`);

describe.skipIf(!fs.existsSync(CHROMIUM))('dashboard in chromium', () => {
  it('follows a training experiment live, pauses it, and agrees with mosaic compare', async () => {
    const dir = tmpDir();
    const db = path.join(dir, 'live.db');
    // 12 runs that train (widths 2, 5 and 8) and 4 that fail at once (width 3), one at a time per
    // worker; each epoch lasts at least 20 ms, so that a run trains for a few seconds on any machine.
    const config = fixtureConfig(dir, {
      models: faultyModel('2, 3, 5, 8', 'net_{width}', 20),
      epochs: EPOCHS,
      monitor: 'nb_processus = 2\nmultiplicity = 4\npack_size = 1',
    });
    const run = startCli(['run', config, db, '--progress', 'lines'], dir);
    children.push(run);
    await run.waitFor(/ ---> launch/, 90_000);
    const dash = startCli(['dashboard', db, '--port', '0'], dir);
    children.push(dash);
    await dash.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(dash.output())![0];

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    const external: string[] = [];
    page.on(
      'request',
      (r) =>
        !r.url().startsWith(url) &&
        !r.url().startsWith('data:') &&
        !r.url().startsWith('blob:') &&
        external.push(r.url()),
    );

    await page.goto(url);
    await page.waitForSelector('.live.on');
    await page.waitForSelector('table.runs tbody tr');
    expect(await page.locator('table.runs tbody tr').count()).toBe(16);

    // statuses change while the page stays open
    const doneAtStart = await count(page, 'done');
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-count=done] b')?.textContent) > n,
      doneAtStart,
      { timeout: 60_000 },
    );
    expect(await count(page, 'done')).toBeGreaterThan(doneAtStart);
    await page.waitForSelector('.run-card');
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-runs.png') });

    // a running run's curve gains points, each epoch shown within ~2 s of its commit:
    // the running run with the fewest epochs done, once one has at least half of them to go
    await page.waitForFunction(
      (half) =>
        [...document.querySelectorAll<HTMLElement>('.run-card .epoch')].some((e) => Number(e.dataset.epoch) <= half),
      EPOCHS / 2,
      { timeout: 60_000 },
    );
    const epochs = await page
      .locator('.run-card .epoch')
      .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.epoch)));
    const card = page.locator('.run-card').nth(epochs.indexOf(Math.min(...epochs)));
    const runId = Number(await card.getAttribute('data-run'));
    await card.click();
    await page.waitForSelector('#loss-chart[data-ready="1"] svg');
    await page.evaluate(() => {
      const w = window as unknown as { seen: Record<string, number> };
      w.seen = {};
      // the chart's points, also when the page draws the run anew (when it ends, say)
      const look = () => {
        const points = document.getElementById('loss-chart')?.dataset.points;
        if (points) w.seen[points] ??= Date.now();
      };
      new MutationObserver(look).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-points'],
      });
    });
    const committed: Record<number, number> = {};
    const started = Number(await page.locator('#loss-chart').getAttribute('data-points'));
    const until = Date.now() + 8000;
    while (Date.now() < until && historyCount(db, runId) < EPOCHS) {
      const n = historyCount(db, runId);
      committed[n] ??= Date.now();
      await new Promise((r) => setTimeout(r, 20));
    }
    // until the page shows the last epoch seen committed
    const last = Math.max(...Object.keys(committed).map(Number));
    await page.waitForFunction((n) => Number(document.getElementById('loss-chart')!.dataset.points) >= n, last, {
      timeout: 10_000,
    });
    const seen = (await page.evaluate(() => (window as unknown as { seen: Record<string, number> }).seen)) as Record<
      string,
      number
    >;
    // every epoch committed while watching, from its commit to the first page update that shows it
    const shown = Object.keys(seen)
      .map(Number)
      .sort((a, b) => a - b);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown[shown.length - 1]).toBeGreaterThan(started);
    const latencies: number[] = [];
    for (const [k, at] of Object.entries(committed).map(([k, at]) => [Number(k), at] as const)) {
      if (k <= started) continue;
      const first = shown.find((n) => n >= k);
      expect(first, `epoch ${k} never shown`).toBeDefined();
      latencies.push(seen[first!]! - at);
    }
    expect(latencies.length).toBeGreaterThan(10);
    latencies.sort((a, b) => a - b);
    console.log(
      `epoch commit → visible on the run page: median ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies[latencies.length - 1]} ms over ${latencies.length} epochs, ${shown.length} page updates`,
    );
    expect(Math.max(...latencies)).toBeLessThan(2500);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-run.png') });

    // pause from the page: running runs finish, `mosaic run` stops with the pause code
    await page.click('#pause');
    await page.waitForSelector('#pause[data-paused="true"]');
    const ended = await run.done;
    expect(ended.code, ended.stdout + ended.stderr).toBe(4);
    const paused = dbCounts(db);
    expect(paused.running).toBeUndefined();
    expect(paused.pending).toBeGreaterThan(0);
    await page.waitForFunction(
      () => /Paused: \d+ pending runs? wait/.test(document.getElementById('hint')!.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );
    // resume from the page only unpauses: no worker is alive, the page says the runs wait for one
    await page.click('#pause');
    await page.waitForSelector('#pause[data-paused="false"]');
    await page.waitForFunction(
      () => /wait for a worker: start one with mosaic resume/.test(document.getElementById('hint')!.textContent ?? ''),
      null,
      { timeout: 10_000 },
    );
    const resumed = cli(['resume', db, '--progress', 'lines'], dir);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(3); // some runs ended in error
    const final = dbCounts(db);
    expect(final).toEqual({ done: 12, error: 4 });
    await page.waitForFunction(() => document.querySelector('[data-count=done] b')?.textContent === '12', null, {
      timeout: 10_000,
    });
    expect(await count(page, 'error')).toBe(4);
    await expect.poll(() => page.isHidden('#hint')).toBe(true);

    // the error run's page shows its full trace
    const d = openDb(db);
    const { run_id: errorRun } = d.prepare(`SELECT MIN(run_id) run_id FROM runs WHERE status = 'error'`).get() as {
      run_id: number;
    };
    d.close();
    await page.goto(`${url}#/run/${errorRun}`);
    await expect
      .poll(() => page.locator('[data-field=traceback]').textContent())
      .toMatch(/RangeError: width 3 is not supported by this model\n\s+at faulty\.forward/);

    // a run page's figure downloads as SVG and PNG
    await page.goto(`${url}#/run/1`);
    await page.waitForSelector('#loss-chart[data-ready="1"] svg');
    expect(await page.locator('#loss-chart').getAttribute('data-points')).toBe(String(EPOCHS));
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#loss-chart [data-download=svg]')]);
    expect(svg.suggestedFilename()).toBe('run-1-loss.svg');
    expect(fs.readFileSync((await svg.path())!, 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#loss-chart [data-download=png]')]);
    expect(
      fs
        .readFileSync((await png.path())!)
        .subarray(0, 8)
        .toString('hex'),
    ).toBe('89504e470d0a1a0a');

    // filters of the runs table
    await page.goto(`${url}#/runs`);
    await page.waitForSelector('table.runs tbody tr');
    await page.click('[data-status=error]');
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(4);
    expect(await page.locator('table.runs tbody tr .chip').allTextContents()).toEqual(Array(4).fill('error'));
    await page.click('[data-status=error]');
    await page.fill('input[name=q]', 'net_5');
    await expect.poll(() => page.locator('.range').getAttribute('data-matched')).toBe('4');
    await page.fill('input[name=q]', '');
    await page.selectOption('select[name=parameter]', 'faulty_width');
    await page.fill('input[name=param-value]', '2');
    await page.click('[data-action=add-param]');
    await expect.poll(() => page.locator('.range').getAttribute('data-matched')).toBe('4');
    await page.selectOption('select[name="model key"]', 'net_5');
    await expect.poll(() => page.locator('.range').getAttribute('data-matched')).toBe('0');
    await page.selectOption('select[name="model key"]', '');
    // sorting by test loss, then the CSV of what is shown
    await page.click('th[data-sort=test_loss]');
    await expect.poll(() => page.locator('th[data-sort=test_loss].active').count()).toBe(1);
    const losses = (await page.locator('table.runs tbody tr td[data-col=test_loss]').allTextContents()).map(Number);
    expect(losses).toEqual([...losses].sort((a, b) => a - b));
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-action=csv]')]);
    const lines = fs
      .readFileSync((await csv.path())!, 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).every((l) => /,net_2,/.test(l))).toBe(true);

    // overlay of selected runs
    await page.locator('table.runs tbody tr input[type=checkbox]').nth(0).check();
    await page.locator('table.runs tbody tr input[type=checkbox]').nth(1).check();
    await page.click('[data-action=overlay]');
    await page.waitForSelector('#overlay-chart[data-ready="1"] svg');
    expect(await page.locator('#overlay-chart').getAttribute('data-points')).toBe(String(2 * EPOCHS));

    // compare: the verdict of `mosaic compare`
    for (const criterion of ['test_loss', 'test_acc']) {
      const printed = cli(['compare', db, '--criterion', criterion], dir);
      expect(printed.code, printed.stderr).toBe(0);
      const verdicts = printed.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('or: ') && !l.includes(': ranking by '));
      expect(verdicts).toHaveLength(1);
      await page.goto(`${url}#/compare`);
      await page.selectOption('select[name=criterion]', criterion);
      await expect.poll(() => page.locator('#verdicts .verdict').allTextContents()).toEqual(verdicts);
      // the picture: each group's mean and CI with its letters, as `mosaic compare --plot` draws it
      await page.waitForSelector('#compare-figure[data-ready="1"] svg');
      const figure = await page.locator('#compare-figure svg').textContent();
      expect(figure).toContain(`Which is better on ${criterion}`);
      expect(figure).toContain('[a]');
      if (criterion === 'test_loss') await page.screenshot({ path: path.join(SHOTS, 'dashboard-compare.png') });
    }

    // metaplot and perfanalysis draw the commands' specs
    await page.goto(`${url}#/metaplot`);
    await page.waitForSelector('#metaplot-chart[data-ready="1"] svg');
    expect(await page.locator('#metaplot-chart svg').textContent()).toMatch(/test_loss against model size on or/);
    await page.screenshot({ path: path.join(SHOTS, 'dashboard-metaplot.png') });
    // tooltips on the points, zoom with the wheel
    const point = await page.locator('#metaplot-chart .mark-symbol.role-mark path').last().boundingBox();
    await page.mouse.move(point!.x + point!.width / 2, point!.y + point!.height / 2);
    await expect
      .poll(() => page.locator('#vg-tooltip-element.visible').textContent())
      .toMatch(/(test_loss|upper)[\d.e-]+/); // a point's values (an error bar's where it covers the point)
    const tick = () => page.locator('#metaplot-chart .role-axis-label text').first().textContent();
    const before = await tick();
    const chart = (await page.locator('#metaplot-chart svg').boundingBox())!;
    await page.mouse.move(chart.x + chart.width / 3, chart.y + chart.height / 2);
    await page.mouse.wheel(0, -400);
    await expect.poll(tick).not.toBe(before);
    await page.goto(`${url}#/perfanalysis`);
    await page.waitForSelector('#perfanalysis-chart[data-ready="1"] svg');
    expect(await page.locator('#perfanalysis-chart svg').textContent()).toMatch(/distribution over repeats/);

    expect(problems).toEqual([]);
    expect(external).toEqual([]);
  });

  it('names parameters in full, keeps the compare view in the address, and is calm before any run is done', async () => {
    const dir = tmpDir();
    // small_cnn has a dropout, both models a width; the key small_cnn_dropout holds underscores
    const models = `[s]\ntype = mlp\nclass = small_cnn\npath_to_class = m.ts\nkey = small_cnn_dropout\nwidth = 2, 4\ndropout = 0.1, 0.5\n[m]\ntype = mlp\nclass = mlp\npath_to_class = m.ts\nkey = mlp\nwidth = 2, 4\n`;
    const config = iniText({ multiplicity: 2, models });
    const done = await analysisDb(dir, config, (f, i) => ({
      status: 'done',
      value: 1 + (i % 2) * 0.1 + (f.mlp_key === 'mlp' ? 0.5 : 0),
      nb_params: 600 * Number(f.small_cnn_width ?? f.mlp_width),
      acc: 0.5,
    }));
    const waiting = await analysisDb(dir, config, () => ({ status: 'pending' }), 'waiting.db');
    const dashes = await Promise.all([done, waiting].map((db) => startDashboard({ db, host: '127.0.0.1', port: 0 })));
    try {
      browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
      const problems: string[] = [];
      // errors, and the warning of a chart drawn over no data
      page.on('console', (m) => (m.type() === 'error' || /Infinite extent/.test(m.text())) && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(e.message));
      const [url, waitingUrl] = dashes.map((d) => `http://127.0.0.1:${d.port}/`);

      // column titles: a class parameter by its own name, in full where two would share one; never cut at an underscore
      await page.goto(url!);
      await page.waitForSelector('table.runs tbody tr');
      expect(await page.locator('th[data-sort^="param:"]').allTextContents()).toEqual([
        'mlp_width',
        'dropout',
        'small_cnn_width',
      ]);
      expect(await page.locator('table.runs tbody tr td.key').allTextContents()).toContain('small_cnn_dropout');

      // the compare view: one "at" entry per parameter, its settings in the address and restored from it
      await page.goto(`${url}#/compare?criterion=test_acc&at=dropout&rope=0.05`);
      await page.waitForSelector('#compare-figure[data-ready="1"] svg');
      const at = await page.locator('select[name=at] option').allTextContents();
      expect(at).toEqual(['—', 'nb_params', 'dropout', 'width']);
      expect(await page.inputValue('select[name=criterion]')).toBe('test_acc');
      expect(await page.inputValue('select[name=at]')).toBe('dropout');
      expect(await page.inputValue('input[name=rope]')).toBe('0.05');
      expect(await page.locator('.report-title').textContent()).toBe(
        'test_acc (higher is better), groups by model key, compared at each dropout',
      );
      await page.selectOption('select[name=criterion]', 'train_loss');
      await expect
        .poll(() => page.evaluate(() => location.hash))
        .toBe('#/compare?criterion=train_loss&at=dropout&rope=0.05');
      await page.reload();
      await page.waitForSelector('#compare-figure[data-ready="1"] svg');
      expect(await page.inputValue('select[name=criterion]')).toBe('train_loss');
      await page.goto(`${url}#/metaplot?criterion=train_loss`);
      await page.waitForSelector('#metaplot-chart[data-ready="1"] svg');
      expect(await page.locator('#metaplot-chart svg').textContent()).toMatch(/train_loss against model size on toy/);
      expect(await page.evaluate(() => location.hash)).toBe('#/metaplot?dataset=toy&criterion=train_loss');

      // nothing done yet: a calm line, no error box; a pending run's page draws no empty axes
      await page.goto(`${waitingUrl}#/compare`);
      await expect
        .poll(() => page.locator('.report-out .notice').textContent())
        .toBe('No finished run yet: the report appears once runs are done.');
      expect(await page.locator('.notice.error').count()).toBe(0);
      await page.goto(`${waitingUrl}#/run/1`);
      await expect.poll(() => page.locator('#no-epoch').textContent()).toBe('No epoch recorded yet.');
      expect(await page.locator('#loss-chart svg').count()).toBe(0);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-pending-run.png') });
      expect(problems).toEqual([]);
    } finally {
      await Promise.all(dashes.map((d) => d.close()));
    }
  });
});
