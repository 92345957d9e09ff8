// The training loop's cost around the model's step (not a test): `mosaic run` of the bench MLP
// (bench/workloads: random_images, mlp_784, batch 64, 51 train and 12 test batches, Adam, MSE),
// one worker, and the seconds of its first epoch and of the later ones, and ms per train step
// (a later epoch's seconds over its 51 steps, as bench/vs-pytorch.mjs counts them). Compare with
// the bare step of the same model in bench/wasm-layers.mjs.
// Run: npm run build && node bench/loop-overhead.mjs [--epochs 8] [--repeat 3] [--backend wasm]
//   [--dist DIR[::NODE FLAGS] …] (several builds or node flags, measured alternately: A, B, A, B…;
//   the worker processes inherit the flags)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { imageConfig } from './workloads/image-config.mjs';
import { benchOptions } from './options.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const USAGE = `Usage: node bench/loop-overhead.mjs [options]   (after npm run build)
  --epochs N              epochs of the run (default 8)
  --repeat N              measurements of each variant (default 3)
  --backend NAME          [PROCESS] backend (default: auto)
  --dist DIR[::FLAGS]     a build to measure, with node flags for its processes; repeat the option to
                          compare builds or flags, measured alternately (default: dist/)
  -h, --help              this help`;
const options = benchOptions(
  {
    epochs: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    backend: { type: 'string', default: '' },
    dist: { type: 'string', multiple: true, default: [path.join(ROOT, 'dist')] },
  },
  USAGE,
);
const epochs = Number(options.epochs);
const repeat = Number(options.repeat);
const STEPS = Math.floor(3276 / 64);

const config = (backend) => imageConfig('mlp_784', epochs, 1, 1, backend);

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited ${code}\n${out}`)),
    );
  });
}

async function once(variant) {
  const [dist, flagText = ''] = variant.split('::');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-loop-'));
  fs.writeFileSync(path.join(dir, 'config.ini'), config(options.backend));
  const db = path.join(dir, 'bench.db');
  const flags = flagText.split(' ').filter(Boolean);
  const started = performance.now();
  await run(
    process.execPath,
    [...flags, path.join(dist, 'cli/main.js'), 'run', 'config.ini', db, '--progress', 'lines'],
    {
      cwd: dir,
    },
  );
  const wall = (performance.now() - started) / 1000;
  const d = new Database(db, { readonly: true });
  const rows = d.prepare(`SELECT epoch, "duration(s)" s FROM history ORDER BY epoch`).all();
  const backend = d.prepare(`SELECT param_value v FROM params WHERE param_name = 'backend_used'`).get()?.v;
  const { claimed, finished } = d.prepare(`SELECT claimed_at claimed, finished_at finished FROM mosaic_queue`).get();
  d.close();
  fs.rmSync(dir, { recursive: true, force: true });
  const later = rows.slice(1).map((r) => r.s);
  const mean = later.reduce((a, b) => a + b, 0) / later.length;
  // The run's time outside its epochs' durations (its build before the first, each epoch's end:
  // the weights checked, the checkpoint, the row), per epoch.
  const outside = ((finished - claimed - rows.reduce((a, r) => a + r.s, 0)) / rows.length) * 1000;
  return { first: rows[0].s, later: mean, ms: (mean / STEPS) * 1000, outside, wall, backend };
}

const results = new Map(options.dist.map((d) => [d, []]));
for (let i = 0; i < repeat; i++) {
  for (const dist of options.dist) {
    const r = await once(dist);
    results.get(dist).push(r);
    console.log(
      `${dist}: wall ${r.wall.toFixed(2)} s, first epoch ${r.first.toFixed(3)} s, later ${r.later.toFixed(3)} s, ${r.ms.toFixed(2)} ms/step, ${r.outside.toFixed(1)} ms per epoch outside the epochs (${r.backend})`,
    );
  }
}
const range = (xs, d = 2) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [dist, rs] of results) {
  const ms = rs.map((r) => r.ms);
  console.log(
    `${dist}: ms/step median ${median(ms).toFixed(2)} (${range(ms)}), first epoch ${range(
      rs.map((r) => r.first),
      3,
    )} s, later epochs ${range(
      rs.map((r) => r.later),
      3,
    )} s, outside the epochs ${range(
      rs.map((r) => r.outside),
      1,
    )} ms per epoch, wall ${range(
      rs.map((r) => r.wall),
      2,
    )} s`,
  );
}
