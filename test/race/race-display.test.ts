import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../../dist/dashboard/server.js';
import { sci } from '../../dist/core/format.js';
import type { RaceView } from '../../dist/race/state.js';
import { analysisDb, iniText, TWO_MODELS } from '../support/analysis-db.js';
import { cli, rows, tmpDir, tutorialConfig } from '../support/helpers.js';

/**
 * A race (`multiplicity = auto`) as status, compare and the dashboard show it, on a database made
 * by a real `mosaic run` of the tutorial (6 configurations, 3 to 8 repeats, 60 epochs; alpha = 0.2
 * so that the funnels of width 2 and 3, about 5 times worse than the best, are eliminated; seed 1,
 * with which 5 are): what they say is checked against the database's own rows (`mosaic_race`, `runs`).
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const SHOTS = process.env.MOSAIC_SHOTS ?? tmpDir('mosaic-shots-');

let dir: string;
let db: string;
/** The configurations eliminated, as the database recorded them. */
let eliminated: { group: string; label: string; round: number; p: number; runs: number }[];
let totalRuns: number;
let rounds: number;
let configurations: number;
/** Why the race ended (`over_reason` of the last round's best), and the level p was held to. */
let over: string;
let threshold: number;

/** A configuration as shown: its pipeline without the data chain every configuration shares. */
const labelOf = (group: string) => group.split(' | ').slice(1).join(' | ');

beforeAll(() => {
  dir = tmpDir('mosaic-race-');
  // A fixed seed: the same race every time (with seeds drawn per experiment, now and then no
  // configuration was eliminated within max_repeats, and the checks below had nothing to see).
  const config = tutorialConfig(dir, { multiplicity: 'auto\nmax_repeats = 8\nalpha = 0.2', epochs: '60\nseed = 1' });
  db = path.join(dir, 'race.db');
  const r = cli(['run', config, db], dir);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  const runsOf = new Map(
    rows(db, 'SELECT pipeline, COUNT(*) n FROM runs GROUP BY pipeline').map((x) => [
      x.pipeline as string,
      x.n as number,
    ]),
  );
  configurations = runsOf.size;
  totalRuns = [...runsOf.values()].reduce((a, b) => a + b, 0);
  rounds = rows(db, 'SELECT MAX(round) r FROM mosaic_race')[0]!.r as number;
  const end = rows(db, 'SELECT over_reason, threshold FROM mosaic_race WHERE over_reason IS NOT NULL');
  expect(end).toHaveLength(1);
  over = end[0]!.over_reason as string;
  threshold = end[0]!.threshold as number;
  eliminated = rows(db, `SELECT grp, round, p FROM mosaic_race WHERE decision = 'eliminated' ORDER BY round`).map(
    (x) => ({
      group: x.grp as string,
      label: labelOf(x.grp as string),
      round: x.round as number,
      p: x.p as number,
      runs: runsOf.get(x.grp as string)!,
    }),
  );
});

describe('a race in status and compare', () => {
  it('the race eliminated some configuration, ran fewer runs than max_repeats × configurations', () => {
    expect(configurations).toBe(6);
    expect(eliminated.length).toBeGreaterThan(0);
    expect(totalRuns).toBeLessThan(6 * 8);
    expect(rounds).toBeGreaterThan(1);
  });

  it('status: a table per data key, each eliminated configuration with its round, p and runs', () => {
    const s = cli(['status', db], dir);
    expect(s.code, s.stderr).toBe(0);
    const lines = s.stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith('Race on test_loss: '));
    expect(start, s.stdout).toBeGreaterThan(lines.indexOf('Pending'));
    const race = lines.slice(start);
    expect(race[1]).toMatch(
      new RegExp(
        `^\\tdata_dataset_OR: over at round ${rounds} of 6: .*; ${totalRuns} of 48 runs \\(max_repeats 8 × 6 configurations\\)$`,
      ),
    );
    expect(race[2]).toMatch(/^\t\tconfiguration\s+state\s+round\s+p\s+runs\s+mean test_loss$/);
    const table = race.slice(2, 9);
    for (const e of eliminated) {
      const row = table.find((l) => l.startsWith(`\t\t${e.label} `));
      expect(row, `${e.label} in\n${s.stdout}`).toBeDefined();
      expect(row!.trim().split(/\s+/).slice(0, 5)).toEqual([
        e.label,
        'eliminated',
        String(e.round),
        sci(e.p, 2),
        String(e.runs),
      ]);
    }
    // one row per configuration, the best first; those left undecided when the race ended
    expect(table.slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual([
      'best',
      ...Array(6 - 1 - eliminated.length).fill('undecided'),
      ...Array(eliminated.length).fill('eliminated'),
    ]);
    expect(race[9]).toMatch(/^\t\tp: against the best /);
    expect(race[9]).toContain(`a configuration leaves at p ≤ ${sci(threshold, 2)} (α = 0.2 over every look and pair)`);
  });

  it('compare ends with the race line (text, markdown), has the race in JSON, and CSV says it on stderr', () => {
    const left = configurations - eliminated.length;
    const line = `race: ${configurations} configurations, ${left} left after ${rounds} rounds; ${totalRuns} runs instead of 48`;
    const text = cli(['compare', db], dir);
    expect(text.code, text.stderr).toBe(0);
    const last = text.stdout.trimEnd().split('\n').at(-1)!;
    expect(last.startsWith(line), last).toBe(true);
    // the ordinary report is still there, before it
    expect(text.stdout).toMatch(/ranking by test_loss/);
    const md = cli(['compare', db, '--format', 'markdown'], dir);
    expect(
      md.stdout
        .trimEnd()
        .split('\n')
        .at(-1)!
        .startsWith(`**race**: ${line.slice('race: '.length)}`),
    ).toBe(true);
    const json = JSON.parse(cli(['compare', db, '--format', 'json'], dir).stdout) as {
      race: RaceView;
      groups: unknown[];
    };
    expect(json.groups.length).toBeGreaterThan(0);
    expect(json.race.runs).toBe(totalRuns);
    expect(json.race.budget).toBe(48);
    expect(`race: ${json.race.line}`).toBe(last);
    expect(
      json.race.keys[0]!.entries.filter((e) => e.state === 'eliminated')
        .map((e) => [e.label, e.round, e.p])
        .sort(),
    ).toEqual(eliminated.map((e) => [e.label, e.round, e.p]).sort());
    const csv = cli(['compare', db, '--format', 'csv'], dir);
    expect(csv.stdout).not.toMatch(/race/i);
    expect(csv.stderr).toContain(line);
  });

  it('says nothing of a race for an experiment that is not one', async () => {
    const other = await analysisDb(
      dir,
      iniText({ multiplicity: 3, models: TWO_MODELS }),
      (_f, i) => ({
        status: 'done',
        value: 1 + i / 10,
      }),
      'plain.db',
    );
    const s = cli(['status', other], dir);
    expect(s.code, s.stderr).toBe(0);
    // (the temporary folder's name holds "race": the database's path is in status's first line)
    expect(s.stdout.trimEnd()).toMatch(/\nPending$/);
    expect(s.stdout).not.toMatch(/^Race/m);
    const c = cli(['compare', other], dir);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).not.toMatch(/race/i);
    expect(JSON.parse(cli(['compare', other, '--format', 'json'], dir).stdout)).not.toHaveProperty('race');
    const dash = await startDashboard({ db: other, host: '127.0.0.1', port: 0 });
    try {
      expect(await (await fetch(`${dash.url}api/race`)).json()).toEqual({ race: null });
      expect((await (await fetch(`${dash.url}api/compare`)).json()).raceLine).toBeNull();
    } finally {
      await dash.close();
    }
  });
});

describe('a race in the dashboard', () => {
  let dash: Dashboard;
  let browser: Browser | undefined;
  beforeAll(async () => {
    dash = await startDashboard({ db, host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await browser?.close();
    await dash?.close();
  });

  it('the API answers the race as status shows it, and compare its line', async () => {
    const { race } = (await (await fetch(`${dash.url}api/race`)).json()) as { race: RaceView };
    expect(race.runs).toBe(totalRuns);
    expect(race.keys.map((k) => k.dataKey)).toEqual(['data_dataset_OR']);
    const k = race.keys[0]!;
    expect([k.rounds, k.runs, k.budget, k.over]).toEqual([rounds, totalRuns, 48, over]);
    const gone = k.entries.filter((e) => e.state === 'eliminated');
    expect(gone.map((e) => [e.group, e.round, e.p]).sort()).toEqual(
      eliminated.map((e) => [e.group, e.round, e.p]).sort(),
    );
    const compare = await (await fetch(`${dash.url}api/compare`)).json();
    expect(compare.raceLine).toBe(cli(['compare', db], dir).stdout.trimEnd().split('\n').at(-1));
  });

  it.skipIf(!fs.existsSync(CHROMIUM))('the page shows the race above the runs and its line under compare', async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(dash.url);
    await page.waitForSelector('#race:not([hidden]) tr[data-state=eliminated]');
    const expected = `race: ${(await (await fetch(`${dash.url}api/race`)).json()).race.line}`;
    expect(await page.locator('#race-line').textContent()).toBe(
      `${expected.slice('race: '.length)} (test_loss, α = 0.2)`,
    );
    expect(await page.locator('#race .race-title').textContent()).toMatch(
      new RegExp(`data_dataset_OR: over at round ${rounds} of 6: .*; ${totalRuns} of 48 runs`),
    );
    const cells = await page
      .locator('#race tr[data-state=eliminated]')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(cells.map((c) => c.slice(0, 5)).sort()).toEqual(
      eliminated.map((e) => [e.label, 'eliminated', String(e.round), sci(e.p, 2), String(e.runs)]).sort(),
    );
    expect(await page.locator('#race tr[data-state=best]').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'race-runs.png'), fullPage: true });

    await page.goto(`${dash.url}#/compare`);
    await page.waitForSelector('#compare-race');
    expect(await page.locator('#compare-race').textContent()).toBe(expected);
    // under the report: after its tables
    expect(
      await page.evaluate(() => {
        const race = document.getElementById('compare-race')!;
        return [...document.querySelectorAll('.report-out table')].every(
          (t) => t.compareDocumentPosition(race) & Node.DOCUMENT_POSITION_FOLLOWING,
        );
      }),
    ).toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'race-compare.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
