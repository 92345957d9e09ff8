// Prints the store's figures on SQLite and PostgreSQL (not a test): claim-to-start latency with
// 8 worker processes, per-run overhead of `mosaic run`, and status/compare on 10,000 runs.
// Starts a throw-away PostgreSQL server (as the tests do). Run with: npm run build && node bench/store-bench.mjs
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { createJiti } from 'jiti';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const jiti = createJiti(import.meta.url);
const { startPgServer } = await jiti.import('../test/support/pg-server.ts');
const { analysisDb, iniText } = await jiti.import('../test/support/analysis-db.ts');
const { faultyModel, fixtureConfig } = await jiti.import('../test/support/helpers.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-store-bench-'));

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const ms = (x) => `${x.toFixed(1)} ms`;

function mosaic(args) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`mosaic ${args.join(' ')}: exit ${r.status}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return (performance.now() - started) / 1000;
}

/** 8 processes claim, record an epoch and finish 2,000 queued runs as fast as they can. */
async function claimLatency(location) {
  const config = fixtureConfig(fs.mkdtempSync(path.join(tmp, 'claims-')), {
    models: faultyModel('2, 5'),
    epochs: 1,
    monitor: 'multiplicity = 1000',
  });
  mosaic(['run', config, location, '--queue-only']);
  const child = path.join(ROOT, 'bench/store-claimer.mjs');
  const results = await Promise.all(
    Array.from(
      { length: 8 },
      (_, i) =>
        new Promise((resolve, reject) => {
          const p = fork(child, [location, `w${i}`], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
          p.on('message', resolve);
          p.on('exit', (code) => code !== 0 && reject(new Error(`claimer exited ${code}`)));
        }),
    ),
  );
  const latencies = results.flat();
  return { n: latencies.length, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** `mosaic run` of 20 one-epoch runs alone, one worker: wall time of a run minus its epoch. */
function perRunOverhead(location) {
  const dir = fs.mkdtempSync(path.join(tmp, 'overhead-'));
  const config = fixtureConfig(dir, {
    models: faultyModel('2'),
    epochs: 1,
    monitor: 'nb_processus = 1\nmultiplicity = 20\npack_size = 1',
  });
  mosaic(['run', config, location, '--progress', 'lines']);
  const copy = path.join(dir, 'copy.db');
  mosaic(['savedb', location, copy]);
  const db = new Database(copy, { readonly: true });
  const rows = db
    .prepare(
      `SELECT q.finished_at - q.claimed_at AS wall, h."duration(s)" AS epoch FROM mosaic_queue q JOIN history h ON h.run_id = q.run_id ORDER BY q.run_id`,
    )
    .all();
  const gaps = db
    .prepare(
      `SELECT q2.claimed_at - q1.finished_at AS gap FROM mosaic_queue q1 JOIN mosaic_queue q2 ON q2.run_id = q1.run_id + 1`,
    )
    .all();
  db.close();
  return {
    overhead: quantile(
      rows.slice(1).map((r) => (r.wall - r.epoch) * 1000),
      0.5,
    ),
    gap: quantile(
      gaps.map((r) => r.gap * 1000),
      0.5,
    ),
  };
}

/** 10,000 finished runs (5 models × 2 widths × 1,000 repeats), then `status` and `compare` timed. */
async function analysisOn(location) {
  const dir = fs.mkdtempSync(path.join(tmp, 'analysis-'));
  const models = ['m1', 'm2', 'm3', 'm4', 'm5']
    .map((m) => `[${m}]\ntype = mlp\nclass = M\npath_to_class = m.ts\nkey = ${m}\nwidth = 2, 3\n`)
    .join('\n');
  const built = performance.now();
  await analysisDb(
    dir,
    iniText({ multiplicity: 1000, models, scheme: 'mlp' }),
    (_f, i) => ({ status: 'done', value: 1 + (i % 7) / 10 }),
    location,
  );
  const buildS = (performance.now() - built) / 1000;
  return { buildS, status: mosaic(['status', location]), compare: mosaic(['compare', location]) };
}

const server = await startPgServer();
try {
  console.log(
    `Mosaic store bench — ${os.cpus().length} cores, node ${process.version}, PostgreSQL on loopback (fsync off)\n`,
  );
  const backends = [
    ['SQLite', (name) => path.join(tmp, `${name}.db`)],
    ['PostgreSQL', () => server.freshDatabase()],
  ];
  const figures = {};
  for (const [backend, location] of backends) {
    const claims = await claimLatency(await location('claims'));
    const overhead = perRunOverhead(await location('overhead'));
    const analysis = await analysisOn(await location('analysis'));
    figures[backend] = overhead;
    console.log(`${backend}:`);
    console.log(
      `  claim latency, 8 worker processes, ${claims.n} claims: p50 ${ms(claims.p50)}, p99 ${ms(claims.p99)}   [target p99 < 50 ms on PostgreSQL]`,
    );
    console.log(`  per-run overhead, warm worker: ${ms(overhead.overhead)} + ${ms(overhead.gap)} between runs (claim)`);
    console.log(
      `  10,000 runs: status ${analysis.status.toFixed(2)} s, compare ${analysis.compare.toFixed(2)} s (whole commands; building the database took ${analysis.buildS.toFixed(0)} s)   [target < 2 s on PostgreSQL]`,
    );
  }
  const ratio = (figures.PostgreSQL.overhead + figures.PostgreSQL.gap) / (figures.SQLite.overhead + figures.SQLite.gap);
  console.log(`\nper-run overhead, PostgreSQL / SQLite: ${ratio.toFixed(2)}×   [target ≤ 2×]`);
} finally {
  await server.destroy();
  fs.rmSync(tmp, { recursive: true, force: true });
}
