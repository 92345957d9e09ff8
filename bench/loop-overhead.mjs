// The training loop's cost around the model's step (not a test): `mosaic run` of a bench model
// (bench/workloads: random_images, mlp_784 or small_cnn, batch 64, 51 train and 12 test batches,
// Adam, MSE), one worker, against the same model stepped bare (bench/workloads/bare-loop.mjs: its
// layers fused as Mosaic steps them, no loop around them) for as many epochs, alternately. For
// each epoch after the first: the run's whole epoch (from one checkpoint renamed into place to the
// next: train and test passes, weights checked, checkpoint, row; bench/workloads/epoch-clock.mjs)
// over the bare loop's train steps at the same epoch of its process (the step speeds up over a
// process's first epochs, so both are taken at the same point). Also the epoch's duration as the
// database has it (train and test passes) and ms per train step as bench/vs-pytorch.mjs counts it.
// Run: npm run build && node bench/loop-overhead.mjs [--model mlp_784] [--epochs 8] [--repeat 3]
//   [--backend wasm] [--dist DIR[::NODE FLAGS] …] (several builds or node flags, measured
//   alternately: A, B, bare, A, B, bare…; the worker processes inherit the flags)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { imageConfig } from './workloads/image-config.mjs';
import { benchOptions } from './options.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLOCK = path.join(import.meta.dirname, 'workloads/epoch-clock.mjs');
const BARE = path.join(import.meta.dirname, 'workloads/bare-loop.mjs');
const USAGE = `Usage: node bench/loop-overhead.mjs [options]   (after npm run build)
  --model NAME            mlp_784 or small_cnn (default mlp_784)
  --epochs N              epochs of the run (default 8)
  --repeat N              measurements of each variant (default 3)
  --backend NAME          [PROCESS] backend (default: auto; the bare loop: wasm unless cpu)
  --dist DIR[::FLAGS]     a build to measure, with node flags for its processes; repeat the option to
                          compare builds or flags, measured alternately (default: dist/)
  --no-bare               without the bare loop
  -h, --help              this help`;
const options = benchOptions(
  {
    model: { type: 'string', default: 'mlp_784' },
    epochs: { type: 'string', default: '8' },
    repeat: { type: 'string', default: '3' },
    backend: { type: 'string', default: '' },
    dist: { type: 'string', multiple: true, default: [path.join(ROOT, 'dist')] },
    'no-bare': { type: 'boolean', default: false },
  },
  USAGE,
);
const epochs = Number(options.epochs);
const repeat = Number(options.repeat);
if (!['mlp_784', 'small_cnn'].includes(options.model) || !(epochs >= 2) || !(repeat >= 1)) {
  console.error(`loop-overhead: --model mlp_784|small_cnn, --epochs ≥ 2, --repeat ≥ 1\n${USAGE}`);
  process.exit(2);
}
const STEPS = Math.floor(3276 / 64);

const config = (backend) => imageConfig(options.model, epochs, 1, 1, backend);

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

const range = (xs, d = 2) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percent = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

async function once(variant) {
  const [dist, flagText = ''] = variant.split('::');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-loop-'));
  fs.writeFileSync(path.join(dir, 'config.ini'), config(options.backend));
  const db = path.join(dir, 'bench.db');
  const clock = path.join(dir, 'clock');
  const flags = [...flagText.split(' ').filter(Boolean), '--import', CLOCK];
  const started = performance.now();
  await run(
    process.execPath,
    [...flags, path.join(dist, 'cli/main.js'), 'run', 'config.ini', db, '--progress', 'lines'],
    {
      cwd: dir,
      env: { ...process.env, MOSAIC_BENCH_CLOCK: clock },
    },
  );
  const wall = (performance.now() - started) / 1000;
  const d = new Database(db, { readonly: true });
  const rows = d.prepare(`SELECT epoch, "duration(s)" s FROM history ORDER BY epoch`).all();
  const backend = d.prepare(`SELECT param_value v FROM params WHERE param_name = 'backend_used'`).get()?.v;
  const { claimed, finished } = d.prepare(`SELECT claimed_at claimed, finished_at finished FROM mosaic_queue`).get();
  d.close();
  const ticks = fs
    .readFileSync(clock, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [, time, train, trainSteps, test] = line.split(' ').map(Number);
      return { time, train, trainSteps, test };
    });
  fs.rmSync(dir, { recursive: true, force: true });
  const later = rows.slice(1).map((r) => r.s);
  const mean = later.reduce((a, b) => a + b, 0) / later.length;
  // The run's time outside its epochs' durations (its build before the first, each epoch's end:
  // the weights checked, the checkpoint, the row), per epoch.
  const outside = ((finished - claimed - rows.reduce((a, r) => a + r.s, 0)) / rows.length) * 1000;
  // Epochs 2…N whole: from the previous epoch's checkpoint to this one's.
  const periods = ticks.slice(1).map((t, i) => t.time - ticks[i].time);
  // The same epochs against the model's own steps inside the run, where they are timed (the MLP).
  const timed = ticks.slice(1).every((t) => t.trainSteps === STEPS);
  const inside = timed
    ? {
        loop: median(ticks.slice(1).map((t, i) => periods[i] / t.train - 1)),
        test: median(ticks.slice(1).map((t) => t.test / t.train)),
        step: median(ticks.slice(1).map((t) => t.train / STEPS)),
      }
    : undefined;
  return { first: rows[0].s, later: mean, ms: (mean / STEPS) * 1000, outside, wall, backend, periods, inside };
}

/** The bare loop's ms of train steps and of test batches, epoch by epoch. */
async function bare() {
  const backend = options.backend === 'cpu' ? 'cpu' : 'wasm';
  const out = await run(process.execPath, [
    BARE,
    '--model',
    options.model,
    '--epochs',
    String(epochs),
    '--backend',
    backend,
  ]);
  const { epochs: rows } = JSON.parse(out.trim().split('\n').at(-1));
  return { train: rows.map((r) => r.train * 1000), test: rows.map((r) => r.test * 1000) };
}

const results = new Map(options.dist.map((d) => [d, []]));
const bares = [];
for (let i = 0; i < repeat; i++) {
  const now = options.dist.map(() => undefined);
  for (const [k, dist] of options.dist.entries()) {
    const r = await once(dist);
    results.get(dist).push(r);
    now[k] = r;
    console.log(
      `${dist}: wall ${r.wall.toFixed(2)} s, first epoch ${r.first.toFixed(3)} s, later ${r.later.toFixed(3)} s, ${r.ms.toFixed(2)} ms/step, ${r.outside.toFixed(1)} ms per epoch outside the epochs, whole epochs 2–${epochs} median ${median(r.periods).toFixed(1)} ms (${r.backend})`,
    );
    if (r.inside)
      console.log(
        `  inside the run: its model's steps ${r.inside.step.toFixed(3)} ms; the loop (test pass and epoch end included) ${percent(r.inside.loop)} over them, of which the test batches' forward passes ${percent(r.inside.test)} (medians of epochs 2–${epochs})`,
      );
  }
  if (options['no-bare']) continue;
  const b = await bare();
  bares.push(b);
  const train = b.train.slice(1);
  console.log(
    `bare loop: train steps of epochs 2–${epochs} median ${median(train).toFixed(1)} ms (${(median(train) / STEPS).toFixed(2)} ms a step), test batches ${median(b.test.slice(1)).toFixed(1)} ms`,
  );
  // Each epoch of the run over the bare train steps of the same epoch.
  for (const r of now) r.loop = median(r.periods.map((p, e) => p / train[e] - 1));
}
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
  if (rs.every((r) => r.inside)) {
    const loop = rs.map((r) => r.inside.loop);
    console.log(
      `${dist}: the loop over the model's steps inside the run, same epochs: median ${percent(median(loop))} (${loop.map(percent).join(', ')}), of which the test batches' forward passes ${percent(median(rs.map((r) => r.inside.test)))}`,
    );
  }
  if (!options['no-bare']) {
    const loop = rs.map((r) => r.loop);
    console.log(
      `${dist}: the loop (test pass and epoch end included) over the bare train steps, epoch by epoch: median ${percent(median(loop))} (${loop.map(percent).join(', ')})`,
    );
  }
}
if (bares.length > 0) {
  const share = bares.map((b) => median(b.test.slice(1).map((t, e) => t / b.train[e + 1])));
  console.log(
    `bare loop: its test batches' forward passes alone are ${percent(median(share))} of its train steps (model work the loop above includes)`,
  );
}
