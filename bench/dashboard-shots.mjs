// Makes the dashboard's screenshots in docs/ (not a test): the tutorial (150 epochs, packs of 4) trains while
// the page is open: the runs view and a run page during training, then compare, metaplot and an
// overlay once it is done. Run with: npm run build && node bench/dashboard-shots.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const TUTORIAL = path.join(ROOT, 'examples/tutorial');
const DOCS = path.join(ROOT, 'docs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-shots-'));
const config = path.join(tmp, 'config.ini');
fs.writeFileSync(
  config,
  fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`)
    .replace(/^epochs = .*$/m, 'epochs = 150')
    .replace(/^nb_processus = .*$/m, 'nb_processus = 2\npack_size = 4'),
);
const db = path.join(tmp, 'tutorial.db');

function start(args) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: tmp, env: { ...process.env, XDG_CACHE_HOME: tmp } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const done = new Promise((resolve) => child.on('exit', resolve));
  const waitFor = async (re) => {
    while (!re.test(out)) {
      if (child.exitCode !== null) throw new Error(out);
      await new Promise((r) => setTimeout(r, 50));
    }
    return re.exec(out)[0];
  };
  return { child, done, waitFor };
}

const run = start(['run', config, db, '--progress', 'lines']);
await run.waitFor(/ ---> launch/);
const dash = start(['dashboard', db, '--port', '0']);
const url = await dash.waitFor(/http:\/\/127\.0\.0\.1:\d+\//);
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
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  await page.goto(url);
  await page.waitForFunction(
    () =>
      Number(document.querySelector('[data-count=done] b')?.textContent) >= 4 && document.querySelector('.run-card'),
    null,
    { timeout: 300_000 },
  );
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(DOCS, 'dashboard-runs.png') });
  const epochs = await page.locator('.run-card .epoch').evaluateAll((els) => els.map((e) => Number(e.dataset.epoch)));
  await page
    .locator('.run-card')
    .nth(epochs.indexOf(Math.min(...epochs)))
    .click();
  await page.waitForSelector('#loss-chart[data-ready="1"] svg');
  await page.waitForTimeout(1200);
  await page.screenshot({ path: path.join(DOCS, 'dashboard-run.png') });
  await run.done;
  await page.goto(`${url}#/compare`);
  await page.selectOption('select[name=at]', 'width');
  await page.waitForSelector('#verdicts .verdict');
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(DOCS, 'dashboard-compare.png') });
  await page.goto(`${url}#/metaplot`);
  await page.waitForSelector('#metaplot-chart[data-ready="1"] svg');
  await page.screenshot({ path: path.join(DOCS, 'dashboard-metaplot.png') });
  await page.goto(`${url}#/overlay?ids=1,5,13,17`);
  await page.waitForSelector('#overlay-chart[data-ready="1"] svg');
  await page.screenshot({ path: path.join(DOCS, 'dashboard-overlay.png') });
  console.log(`screenshots written to ${DOCS}: dashboard-runs, -run, -compare, -metaplot, -overlay (.png)`);
} finally {
  await browser.close();
  dash.child.kill('SIGINT');
  if (run.child.exitCode === null) run.child.kill('SIGINT');
}
