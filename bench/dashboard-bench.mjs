// Prints the dashboard's figures (not a test): first paint of the runs view for 10,000 runs in
// chromium (cold: the server reads the database; warm: it has it), the server's answer times,
// and the server's CPU while a page stays open on an experiment that does not change.
// Run with: npm run build && node bench/dashboard-bench.mjs [--runs 10000 | --db FILE (an existing database)]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { parseConfig } from '../dist/config/load.js';
import { newRuns } from '../dist/pipelines/facts.js';
import { generatePipelines } from '../dist/pipelines/generate.js';
import { openStore } from '../dist/store/open.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const at = process.argv.indexOf('--runs');
const RUNS = at > 0 ? Number(process.argv[at + 1]) : 10_000;
const EPOCHS = 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-dash-bench-'));

/** RUNS runs (4 model keys x widths x repeats), each with EPOCHS epochs of history and results, through the store API. */
async function makeDatabase(file) {
  const repeats = Math.ceil(RUNS / 40);
  const ini = `[PROCESS]
epochs = ${EPOCHS}
lr = 1e-3, 1e-2
data_scheme = data
pipeline_scheme = mlp
loss_function = MSELoss
[MONITOR]
multiplicity = ${repeats}
[d]
type = data
class = D
path_to_class = d.ts
key = toy
${['a', 'b', 'c', 'd'].map((m) => `[model_${m}]\ntype = mlp\nclass = M${m}\npath_to_class = m.ts\nkey = model_${m}\nwidth = {1-5}\n`).join('')}`;
  const config = parseConfig(ini, path.join(tmp, 'c.ini'));
  const runs = newRuns(config, generatePipelines(config)).slice(0, RUNS);
  const store = await openStore(file, 'create');
  await store.enqueue(runs);
  let done = 0;
  for (;;) {
    const claimed = await store.claimPack({ id: 'bench', pid: process.pid, host: 'bench' }, 64);
    if (claimed.length === 0) break;
    for (const run of claimed) {
      const base = 1 + (run.runId % 7) / 10;
      for (let e = 1; e <= EPOCHS; e++) {
        const loss = base / e;
        await store.recordEpoch(run, {
          epoch: e,
          train_loss: loss,
          test_loss: loss * 1.1,
          train_acc: null,
          test_acc: null,
          duration_s: 0.01,
        });
      }
      await store.finishRun(run, {
        train_loss: base / EPOCHS,
        test_loss: (base * 1.1) / EPOCHS,
        train_acc: null,
        test_acc: null,
        nb_params: 10 * (1 + (run.runId % 5)),
        duration_s: 0.2,
        epochs: EPOCHS,
        overfit: 0.1,
        trainability: base / 3,
        slope: -0.01,
        slope_std_plus: 0,
        slope_std_minus: 0,
        best_test_loss: (base * 1.1) / EPOCHS,
        best_epoch: EPOCHS,
      });
      done++;
    }
  }
  await store.close();
  return done;
}

function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s (getconf CLK_TCK)
}

const given = process.argv.indexOf('--db');
const db = given > 0 ? path.resolve(process.argv[given + 1]) : path.join(tmp, 'bench.db');
if (given < 0) {
  const t = performance.now();
  const made = await makeDatabase(db);
  console.log(
    `database: ${made} runs x ${EPOCHS} epochs through the store API in ${((performance.now() - t) / 1000).toFixed(1)} s (${(fs.statSync(db).size / 1e6).toFixed(1)} MB)`,
  );
}

const server = spawn(process.execPath, [CLI, 'dashboard', db, '--port', '0'], {
  cwd: tmp,
  env: { ...process.env, XDG_CACHE_HOME: tmp },
});
const url = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
    if (m) resolve(m[0]);
  });
  server.on('exit', (code) => reject(new Error(`dashboard exited ${code}`)));
});

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  for (const label of ['first page after start', 'again']) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url);
    await page.waitForSelector('table.runs tbody tr');
    // the page marks the moment its table of runs is in the document (the next frame paints it)
    const paint = await page.evaluate(() => performance.getEntriesByName('mosaic:runs-painted')[0].startTime);
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
    const rows = await page.locator('table.runs tbody tr').count();
    const matched = await page.locator('.range').getAttribute('data-matched');
    console.log(
      `first paint of the runs view, ${label}: table in the page ${paint.toFixed(0)} ms after navigation start (first contentful paint ${fcp.toFixed(0)} ms; ${rows} rows shown of ${matched})`,
    );
    await page.close();
  }
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector('.live.on');
  await page.waitForTimeout(40_000); // the first pages' garbage is collected (V8 keeps collecting for a while after activity)
  const seconds = 20;
  const before = cpuSeconds(server.pid);
  await page.waitForTimeout(seconds * 1000);
  const used = cpuSeconds(server.pid) - before;
  console.log(
    `server CPU with a page open on an unchanging experiment: ${((100 * used) / seconds).toFixed(2)}% of a core (${(used * 1000).toFixed(0)} ms over ${seconds} s: a cheap poll each second)`,
  );
  await page.close();
  for (const [name, q] of [
    ['page of 100 rows', '/api/runs?limit=100'],
    ['sorted by test_loss, filtered by width', '/api/runs?sort=test_loss&dir=desc&param=width%3E%3D3'],
    ['search', '/api/runs?q=model_c'],
    ['CSV of every run', '/api/runs.csv'],
    ['compare', '/api/compare'],
    ['run page', '/api/runs/5000'],
  ]) {
    const started = performance.now();
    const res = await fetch(url.replace(/\/$/, '') + q);
    const body = await res.text();
    console.log(
      `${name}: ${(performance.now() - started).toFixed(0)} ms (${res.status}, ${(body.length / 1e3).toFixed(0)} kB)`,
    );
  }
  await new Promise((r) => setTimeout(r, 40_000)); // the garbage of the requests above is collected (V8 keeps collecting for a while)
  const idle0 = cpuSeconds(server.pid);
  await new Promise((r) => setTimeout(r, 20_000));
  console.log(`server CPU with no page open: ${((100 * (cpuSeconds(server.pid) - idle0)) / 20).toFixed(2)}% of a core`);
} finally {
  await browser.close();
  server.kill('SIGINT');
}
