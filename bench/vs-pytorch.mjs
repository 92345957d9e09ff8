// Speed against PyTorch on this machine, in one run: each workload trained by `mosaic run` and by
// a plain PyTorch loop like the original's (bench/pytorch_baseline.py, Debian's python3-torch with
// OpenBLAS, installed here if missing: bench only, never a test or CI dependency; see ensureTorch
// for the BLAS kernels and threads it is given).
// Run: npm run build && node bench/vs-pytorch.mjs [--tutorial-epochs 400] [--image-epochs 2] [--only tutorial,mlp,cnn] [--repeat 1] (--help)
// --repeat N measures the MLP and CNN rows N times, the two sides alternately, and prints medians
// and the range of the ratios (this machine's speed drifts by ±15% between runs).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nativeKernelsInWords } from '../dist/tfjs/wasm/native-kernels.js';
import { imageConfig } from './workloads/image-config.mjs';
import { benchOptions } from './options.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const USAGE = `Usage: node bench/vs-pytorch.mjs [options]   (after npm run build; several minutes)
  --only LIST             workloads to measure, of tutorial,mlp,cnn (default: all)
  --tutorial-epochs N     epochs of the tutorial's 24 runs (default 400)
  --image-epochs N        epochs of the MLP and CNN runs (default 2)
  --repeat N              measure the MLP and CNN rows N times, alternately, and print medians (default 1)`;
const options = benchOptions(
  {
    only: { type: 'string', default: 'tutorial,mlp,cnn' },
    'tutorial-epochs': { type: 'string', default: '400' },
    'image-epochs': { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
  },
  USAGE,
);
const tutorialEpochs = Number(options['tutorial-epochs']);
const imageEpochs = Number(options['image-epochs']);
const only = options.only.split(',');
const repeat = Number(options.repeat);
const unknown = only.filter((w) => !['tutorial', 'mlp', 'cnn'].includes(w));
if (unknown.length || ![tutorialEpochs, imageEpochs, repeat].every((n) => Number.isInteger(n) && n > 0)) {
  console.error(
    `${unknown.length ? `unknown workload ${unknown.join(', ')}` : 'epochs and --repeat must be positive integers'}\n${USAGE}`,
  );
  process.exit(2);
}
const PYTHON = '/usr/bin/python3';

/**
 * PyTorch as a researcher's install gives it: Debian's python3-torch with OpenBLAS (its package
 * brings only the reference BLAS, ~10x slower on these products), OpenBLAS's kernels for this CPU's
 * vector extensions (it picks them by CPU model, and a virtual machine that hides the model gets
 * its generic SSE3 kernels: ~5x slower here) and as many BLAS threads as PyTorch's own (as MKL,
 * which pip's PyTorch uses, follows torch's thread count; OpenBLAS's pool would take every core).
 * What the user set in OPENBLAS_CORETYPE or OPENBLAS_NUM_THREADS is kept.
 */
function ensureTorch() {
  const packages = [];
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    packages.push('python3-torch');
  }
  if (
    !fs.existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread') &&
    !fs.existsSync('/usr/lib/aarch64-linux-gnu/openblas-pthread')
  )
    packages.push('libopenblas0-pthread');
  if (packages.length === 0) return;
  console.log(`installing ${packages.join(' and ')} (Debian) for the PyTorch side of the bench…`);
  execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit' });
}

/** OpenBLAS's kernels for this CPU's flags, as it would pick them on the bare machine. */
function openBlasCore(flags) {
  if (['avx512f', 'avx512bw', 'avx512vl'].every((f) => flags.has(f))) return 'SKYLAKEX';
  if (flags.has('avx2') && flags.has('fma')) return 'HASWELL';
  return undefined;
}

/** The environment of the PyTorch processes, and PyTorch's threads and BLAS in words. */
function pytorchSetting() {
  const threads = execFileSync(PYTHON, ['-c', 'import torch; print(torch.get_num_threads())']).toString().trim();
  const core = process.env.OPENBLAS_CORETYPE ?? openBlasCore(cpuFlags());
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? threads,
    ...(core ? { OPENBLAS_CORETYPE: core } : {}),
  };
  const blas = execFileSync(
    PYTHON,
    [
      '-c',
      "import torch; torch.ones(8, 8) @ torch.ones(8, 8); print(next((l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower()), 'none'))",
    ],
    { env },
  )
    .toString()
    .trim();
  const name = blas.includes('openblas') ? 'OpenBLAS' : blas.includes('/blas/') ? 'the reference BLAS (slow)' : blas;
  return {
    env,
    words: `PyTorch threads: ${threads}, BLAS: ${name}${blas.includes('openblas') ? ` (${env.OPENBLAS_CORETYPE ?? 'its own choice of'} kernels, ${env.OPENBLAS_NUM_THREADS} thread${env.OPENBLAS_NUM_THREADS === '1' ? '' : 's'})` : ''}`,
  };
}

function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${out}\n${err}`)),
    );
  });
}

/** PyTorch: `workers` processes share `runs` runs; wall seconds and the mean seconds per epoch. */
async function pytorch(workload, runs, epochs, workers) {
  const started = performance.now();
  const per = Math.ceil(runs / workers);
  const outputs = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      run(
        PYTHON,
        [
          path.join(ROOT, 'bench/pytorch_baseline.py'),
          workload,
          String(Math.min(per, runs - w * per)),
          String(epochs),
          String(w * per),
        ],
        { env: torchSetting.env },
      ),
    ),
  );
  const lines = outputs
    .join('')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return {
    wall: (performance.now() - started) / 1000,
    epoch: lines.reduce((a, l) => a + l.seconds_per_epoch, 0) / lines.length,
    steps: lines[0].steps_per_epoch,
  };
}

/** Mosaic: `mosaic run` of a config; wall seconds, mean seconds per epoch and per run, backends. */
async function mosaic(configText, name) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mosaic-bench-${name}-`));
  fs.writeFileSync(path.join(dir, 'config.ini'), configText);
  const db = path.join(dir, 'bench.db');
  const started = performance.now();
  await run(
    process.execPath,
    [path.join(ROOT, 'dist/cli/main.js'), 'run', path.join(dir, 'config.ini'), db, '--progress', 'lines'],
    { cwd: dir },
  );
  const wall = (performance.now() - started) / 1000;
  const d = new Database(db, { readonly: true });
  const epoch = d.prepare(`SELECT AVG("duration(s)") s FROM history`).get().s;
  const backends = d
    .prepare(`SELECT param_value v, COUNT(*) n FROM params WHERE param_name = 'backend_used' GROUP BY v`)
    .all();
  const results = d
    .prepare(
      `SELECT k.param_value model, AVG(r.test_loss) loss, COUNT(*) n FROM run_results r JOIN params k ON k.run_id = r.run_id AND k.param_name = 'mlp_key' GROUP BY model`,
    )
    .all();
  d.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { wall, epoch, backends, results };
}

function tutorialConfig(epochs) {
  return fs
    .readFileSync(path.join(ROOT, 'examples/tutorial/config.ini'), 'utf8')
    .replaceAll('path_to_class = ./', `path_to_class = ${path.join(ROOT, 'examples/tutorial')}/`)
    .replace('epochs = 400', `epochs = ${epochs}`)
    .replace('cache_database_path = ./cache.db\ncache_size = 1M\n', '');
}

const rows = [];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Both sides `repeat` times, alternately: medians of `field`, the ratios' range, the steps and backends seen. */
async function alternately(oursOnce, theirsOnce, field) {
  const [ours, theirs] = [[], []];
  let steps;
  let backends;
  for (let i = 0; i < repeat; i++) {
    const o = await oursOnce();
    const t = await theirsOnce();
    ours.push(o[field]);
    theirs.push(t[field]);
    steps = t.steps;
    backends = o.backends.map((b) => b.v).join('; ');
  }
  const ratios = ours.map((o, i) => o / theirs[i]);
  return {
    ours: median(ours),
    theirs: median(theirs),
    low: Math.min(...ratios),
    high: Math.max(...ratios),
    steps,
    backends,
  };
}
const ratio = (m) =>
  `${fmt(m.ours / m.theirs)}x${repeat > 1 ? ` (${fmt(m.low)}–${fmt(m.high)}x over ${repeat} runs)` : ''}`;
const fmt = (x, d = 2) => (x >= 100 ? x.toFixed(0) : x.toFixed(d));
ensureTorch();
const torchSetting = pytorchSetting();
console.log(
  `machine: ${os.cpus().length} cores, ${os.cpus()[0].model}; vector extensions: ${vectorExtensions()}; ${torchSetting.words}; Mosaic: ${nativeKernelsInWords()}`,
);

/**
 * The CPU's vector extensions that decide both sides' kernels (PyTorch's oneDNN uses AVX-512 and
 * AMX where they are; wasm SIMD is 128-bit everywhere), from /proc/cpuinfo's flags.
 */
function vectorExtensions() {
  const WANTED = [
    'sse4_2',
    'avx',
    'avx2',
    'fma',
    'avx512f',
    'avx512bw',
    'avx512vl',
    'avx512_vnni',
    'avx512_bf16',
    'amx_tile',
    'amx_bf16',
    'amx_int8',
  ];
  const flags = cpuFlags();
  if (flags.size === 0) return 'unknown (no /proc/cpuinfo)';
  const have = WANTED.filter((f) => flags.has(f));
  const amx = WANTED.filter((f) => f.startsWith('amx')).some((f) => flags.has(f));
  return `${have.join(', ') || 'none of SSE4.2/AVX'}${have.includes('avx512f') ? '' : ' (no AVX-512)'}${amx ? '' : ' (no AMX)'}`;
}

/** /proc/cpuinfo's flags (none where it is absent). */
function cpuFlags() {
  try {
    return new Set((fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:\s*(.*)$/m)?.[1] ?? '').split(/\s+/));
  } catch {
    return new Set();
  }
}

if (only.includes('tutorial')) {
  const ours = await mosaic(tutorialConfig(tutorialEpochs), 'tutorial');
  const theirs = await pytorch('tutorial', 24, tutorialEpochs, 2);
  rows.push([
    `tutorial, 24 runs x ${tutorialEpochs} epochs, 2 workers (wall)`,
    `${fmt(theirs.wall)} s`,
    `${fmt(ours.wall)} s`,
    `${fmt(theirs.wall / ours.wall)}x faster`,
  ]);
  rows.push([
    'tutorial, seconds per run-epoch',
    `${fmt(theirs.epoch, 4)} s`,
    `${fmt(ours.epoch, 4)} s`,
    `${fmt(theirs.epoch / ours.epoch)}x faster`,
  ]);
  console.log(`tutorial backends: ${ours.backends.map((b) => `${b.n} x ${b.v}`).join('; ')}`);
  console.log(
    `tutorial mean final test loss: ${ours.results.map((r) => `${r.model} ${r.loss.toExponential(3)} (n = ${r.n})`).join(', ')}`,
  );
}
for (const [workload, model] of [
  ['mlp', 'mlp_784'],
  ['cnn', 'small_cnn'],
]) {
  if (!only.includes(workload)) continue;
  for (const backend of [undefined, 'cpu', 'wasm']) {
    if (backend === 'cpu' && workload === 'cnn') continue; // minutes per epoch: measured once in the issue, not worth repeating
    const label = `${workload}, backend ${backend ?? 'auto (default)'}`;
    try {
      const one = await alternately(
        () => mosaic(imageConfig(model, imageEpochs, 1, 1, backend), workload),
        () => pytorch(workload, 1, imageEpochs, 1),
        'epoch',
      );
      rows.push([
        `${label}, 1 worker, seconds per epoch`,
        `${fmt(one.theirs)} s`,
        `${fmt(one.ours)} s`,
        `${ratio(one)} PyTorch's time`,
      ]);
      if (backend === undefined) {
        const four = await alternately(
          () => mosaic(imageConfig(model, imageEpochs, 2, 4, backend), workload),
          () => pytorch(workload, 4, imageEpochs, 2),
          'wall',
        );
        rows.push([
          `${label}, multiplicity 4, 2 workers (wall)`,
          `${fmt(four.theirs)} s`,
          `${fmt(four.ours)} s`,
          `${ratio(four)} PyTorch's time`,
        ]);
        rows.push([
          `${workload}: ms per step (1 worker)`,
          `${fmt((one.theirs / one.steps) * 1000)} ms`,
          `${fmt((one.ours / one.steps) * 1000)} ms`,
          one.backends,
        ]);
      }
    } catch (e) {
      rows.push([
        label,
        '',
        'failed',
        String(e.message)
          .split('\n')
          .find((l) => /Error|error/.test(l))
          ?.slice(0, 120) ?? 'failed',
      ]);
    }
  }
}
const head = ['workload', 'PyTorch (plain loop)', 'Mosaic', 'ratio'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
for (const r of [head, widths.map((w) => '-'.repeat(w)), ...rows])
  console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
