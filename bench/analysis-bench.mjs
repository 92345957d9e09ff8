// Prints the speed of the analysis commands (not a test): plotloss on 1,000 runs x 400 epochs,
// compare on 10,000 runs. Databases are filled with synthetic curves through Mosaic's own store.
// Run with: npm run build && node bench/analysis-bench.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { newRuns } from '../dist/pipelines/facts.js';
import { generatePipelines } from '../dist/pipelines/generate.js';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../dist/store/sqlite.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-abench-'));

async function syntheticDb(name, runs, epochs) {
  const multiplicity = runs / 20;
  const config = parseConfig(
    `[PROCESS]
epochs = ${epochs}
data_scheme = data
pipeline_scheme = mlp
loss_function = MSELoss
[MONITOR]
multiplicity = ${multiplicity}
[d]
type = data
class = D
path_to_class = d.ts
key = toy
[funnel]
type = mlp
class = mlp_funnel
path_to_class = m.ts
key = mlp_funnel
width = {1-10}
[brick]
type = mlp
class = mlp_brick
path_to_class = m.ts
key = mlp_brick
width = {1-10}
`,
    path.join(tmp, 'c.ini'),
  );
  const file = path.join(tmp, `${name}.db`);
  const store = openSqliteStore(file, { create: true });
  const ids = await store.enqueue(newRuns(config, generatePipelines(config)));
  await store.close();
  // The curves and results written straight into the tables, as a finished experiment has them.
  const db = new Database(file);
  const insert = db.prepare(
    `INSERT INTO history (run_id, epoch, train_loss, test_loss, "duration(s)") VALUES (?, ?, ?, ?, 0.1)`,
  );
  const result = db.prepare(
    `INSERT INTO run_results (run_id, train_loss, test_loss, nb_params, "duration(s)", epochs, overfit, trainability, slope, slope_std_plus, slope_std_minus, best_test_loss, best_epoch)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?)`,
  );
  db.transaction(() => {
    for (const id of ids) {
      const rate = 0.01 + (id % 7) / 100;
      let train = 0;
      let test = 0;
      for (let e = 1; e <= epochs; e++) {
        train = Math.exp(-rate * e) + Math.random() * 0.01;
        test = train * 1.1 + Math.random() * 0.01;
        insert.run(id, e, train, test);
      }
      result.run(id, train, test, 10 * ((id % 10) + 1), epochs * 0.1, epochs, 0.1, test, -rate, test, epochs);
    }
    db.prepare(`UPDATE runs SET status = 'done'`).run();
  })();
  db.close();
  return file;
}

function time(args) {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return (performance.now() - started) / 1000;
}

const loss = await syntheticDb('loss', 1000, 400);
const out = path.join(tmp, 'loss.pdf');
const t1 = time(['plotloss', loss, out, '-id', 'all', '-plot_size', '3']);
console.log(
  `plotloss, 1,000 runs x 400 epochs, 3x3 a page: ${t1.toFixed(1)} s, ${(fs.statSync(out).size / 1e6).toFixed(1)} MB PDF   [target < 30 s]`,
);

const many = await syntheticDb('many', 10000, 2);
const t2 = time(['compare', many, '--at', 'width']);
console.log(
  `compare, 10,000 runs, 40 groups, 20 pairs: ${t2.toFixed(2)} s (whole command, node start included)   [target < 2 s]`,
);
fs.rmSync(tmp, { recursive: true, force: true });
