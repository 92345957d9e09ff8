// Prints the figures of the run path (not a test): per-epoch and per-step time of the tutorial
// MLP per backend, per-run overhead in a warm worker, generation time of 100,000 pipelines and,
// unless --quick, the wall time of the full tutorial (400 epochs, 2 workers).
// Run with: npm run bench [-- --quick]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const TUTORIAL = path.join(ROOT, 'examples/tutorial');
const quick = process.argv.includes('--quick');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-bench-'));

function config(name, changes) {
  let text = fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`);
  for (const [k, v] of Object.entries(changes)) {
    // A key the tutorial's config does not have goes into [PROCESS].
    const line = new RegExp(`^${k} = .*$`, 'm');
    text = line.test(text)
      ? text.replace(new RegExp(line.source, 'gm'), `${k} = ${v}`)
      : text.replace('[PROCESS]\n', `[PROCESS]\n${k} = ${v}\n`);
  }
  const file = path.join(tmp, `${name}.ini`);
  fs.writeFileSync(file, text);
  return file;
}

function run(name, changes) {
  const db = path.join(tmp, `${name}.db`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'run', config(name, changes), db, '--progress', 'lines'], {
    cwd: tmp,
    encoding: 'utf8',
  });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  return { db: new Database(db, { readonly: true }), wall };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x, d = 3) => x.toFixed(d);

console.log(`Mosaic bench — ${os.cpus().length} cores, node ${process.version}\n`);

// 1. Per-epoch and per-step time, tutorial MLP (batch 1, 160 train + 40 test samples), one worker, runs alone.
for (const backend of ['cpu', 'wasm']) {
  const { db } = run(`epoch-${backend}`, {
    backend,
    epochs: '30',
    nb_processus: '1',
    multiplicity: '1\npack_size = 1',
    width: '3',
  });
  const rows = db
    .prepare(`SELECT "duration(s)" d FROM history WHERE epoch > 1`)
    .all()
    .map((r) => r.d);
  const perEpoch = median(rows);
  console.log(
    `per epoch, ${backend.padEnd(4)}: ${fmt(perEpoch, 4)} s median of ${rows.length} epochs (2 runs alone, first epochs left out) ` +
      `(${fmt((perEpoch / 200) * 1000, 2)} ms per sample step; 160 train steps + 40 test batches; checkpoint included)   [original PyTorch: ~0.18 s]`,
  );
  db.close();
}

// 2. Per-run overhead in a warm worker: 1-epoch runs, wall time of a run minus its epoch.
{
  // runs alone (pack_size = 1): a pack would claim the ten runs at once
  const { db } = run('overhead', {
    epochs: '1',
    nb_processus: '1',
    multiplicity: '10\npack_size = 1',
    data_size: '20',
  });
  const rows = db
    .prepare(
      `SELECT q.finished_at - q.claimed_at AS wall, h."duration(s)" AS epoch FROM mosaic_queue q JOIN history h ON h.run_id = q.run_id ORDER BY q.run_id`,
    )
    .all();
  const warm = rows.slice(1).map((r) => (r.wall - r.epoch) * 1000);
  const gaps = db
    .prepare(
      `SELECT q2.claimed_at - q1.finished_at AS gap FROM mosaic_queue q1 JOIN mosaic_queue q2 ON q2.run_id = q1.run_id + 1`,
    )
    .all()
    .map((r) => r.gap * 1000);
  console.log(
    `per-run overhead, warm worker: ${fmt(median(warm), 1)} ms median (build chain, checkpoint, results) + ${fmt(median(gaps), 1)} ms between runs (claim)   [target < 50 ms]`,
  );
  console.log(
    `  first (cold) run overhead: ${fmt((rows[0].wall - rows[0].epoch) * 1000, 0)} ms (tfjs + user modules loaded once per worker)`,
  );
  db.close();
}

// 3. Generation of 100,000 pipelines (parse, expand, JSON written).
{
  const file = path.join(tmp, 'gen.ini');
  const text = fs
    .readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8')
    .replace(/^multiplicity = .*$/m, 'multiplicity = 10')
    .replace(
      /\[mlp_funnel\][\s\S]*?width = \{2-4\}/,
      '[mlp_funnel]\ntype = mlp\nclass = mlp_funnel\npath_to_class = ./mlp.ts\nkey = mlp_funnel_{length}_{width}\nlength = {1-100}\nwidth = {1-50}',
    )
    .replace(
      /\[mlp_brick\][\s\S]*?width = \{2-4\}/,
      '[mlp_brick]\ntype = mlp\nclass = mlp_brick\npath_to_class = ./mlp.ts\nkey = mlp_brick\nlength = {1-100}\nwidth = {1-50}',
    );
  fs.writeFileSync(file, text);
  const out = path.join(tmp, 'gen.json');
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'generate', file, out, '--no-check'], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `generate: ${r.stdout.trim()} in ${fmt(seconds, 2)} s (whole command, node start included; ${(fs.statSync(out).size / 1e6).toFixed(0)} MB)   [target < 2 s]`,
  );
}

// 4. The full tutorial: 24 runs x 400 epochs, 2 workers.
if (!quick) {
  const { db, wall } = run('full', {});
  const n = db.prepare(`SELECT COUNT(*) n FROM runs WHERE status = 'done'`).get().n;
  const epoch = db.prepare(`SELECT AVG("duration(s)") a FROM history`).get().a;
  console.log(
    `full tutorial (24 runs x 400 epochs, 2 workers): ${fmt(wall, 1)} s wall, ${n}/24 done, ${fmt(epoch)} s per epoch with 2 workers busy   [original: 70-90 s per run]`,
  );
  db.close();
} else {
  console.log('full tutorial: skipped (--quick)');
}
fs.rmSync(tmp, { recursive: true, force: true });
