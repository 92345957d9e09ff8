// Racing against a fixed multiplicity on real runs (issue 22's target, not a test): "on a sweep of
// 8 configurations where 2 are clearly best and 2 close seconds, the race reaches the same top
// group as a fixed multiplicity = 20 with at most 40% of its runs".
//
// The workload (bench/workloads/race-classes.ts): a linear regression with 8 inputs and 8 outputs
// (y = A·x + noise, noise sd 0.5), learned by a linear model without biases whose predictions are
// all off by a known `shift`, the swept parameter. Its true mean test_loss is about
// 0.25 + estimation + shift², and +s and −s are equally good, so with the shifts
// ±0.02, ±0.06, ±0.2, ±0.3 the two of ±0.02 are the best (equal), ±0.06 are close seconds (0.0032
// behind: about 2.7 and 5.5 standard deviations of the paired differences, 0.5 of a run's spread
// over seeds) and ±0.2, ±0.3 are clearly worse (0.04 and 0.09 behind). The train and test sets,
// their noise and the initial weights come from each run's seed: the loss of one configuration
// varies by ~0.007 (sd) from seed to seed, more than the seconds' gap; the paired design cancels
// most of it. Runs, rounds and top groups are the same on every invocation (seeded); wall times
// are not (other processes on this machine).
//
// For each pair (seed N): the fixed design (multiplicity = 20, paired = True) into one database
// and the race (multiplicity = auto, max_repeats = 20, on the same seeds) into another, once per
// --ropes entry (a race_rope, or none); then the runs each used, the race's top group (the
// configurations it did not eliminate: `compare --format json`'s race entries, checked against
// table mosaic_race) against the fixed design's (the groups sharing a letter with the best group in
// `compare --format json`), whether they agree, and the wall times.
// Run: npm run build && node bench/race-bench.mjs [--pairs 3] [--ropes 0.002,none] (--help)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { benchOptions } from './options.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist/cli/main.js');
const CLASSES = path.join(ROOT, 'bench/workloads/race-classes.ts');
const SHIFTS = [-0.3, -0.2, -0.06, -0.02, 0.02, 0.06, 0.2, 0.3];
/** What the workload is built to give: the two smallest |shift| best, then ±0.06, then the rest. */
const TRUE_TOP = ['shift_-0.02', 'shift_0.02'];
const SECONDS = ['shift_-0.06', 'shift_0.06'];

const USAGE = `Usage: node bench/race-bench.mjs [options]   (after npm run build; ~25 s a pair here)
  --pairs N        fixed design + race(s) pairs, each on its own seeds (default 3)
  --seed N         [PROCESS] seed of the first pair; pair i uses seed + 1000·i (default 1)
  --ropes LIST     the races run against each fixed design: race_rope values, "none" for no rope
                   (default 0.002,none; the workload's seconds are 0.0032 behind the best)
  --epochs N       epochs of every run (default 20)
  --workers N      [MONITOR] nb_processus (default 2)
  --keep           keep the databases and configs (their folder is printed)`;
const options = benchOptions(
  {
    pairs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    ropes: { type: 'string', default: '0.002,none' },
    epochs: { type: 'string', default: '20' },
    workers: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
  USAGE,
);
const [pairs, baseSeed, epochs, workers] = ['pairs', 'seed', 'epochs', 'workers'].map((k) => Number(options[k]));
const ropes = options.ropes.split(',').map((r) => (r.trim() === 'none' ? null : Number(r)));
if (
  ![pairs, epochs, workers].every((n) => Number.isInteger(n) && n > 0) ||
  !Number.isInteger(baseSeed) ||
  ropes.some((r) => r !== null && !(r > 0))
) {
  console.error(
    `--pairs, --epochs, --workers must be positive integers, --seed an integer, --ropes positive numbers or none\n${USAGE}`,
  );
  process.exit(2);
}
if (!fs.existsSync(CLI)) {
  console.error(`${CLI} is missing: run npm run build first`);
  process.exit(2);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-race-bench-'));

/** The experiment's INI: the fixed design (race undefined) or a race (race.rope a number or null). */
function configText({ seed, race }) {
  const monitor = race
    ? ['multiplicity = auto', 'max_repeats = 20', ...(race.rope !== null ? [`race_rope = ${race.rope}`] : [])]
    : ['multiplicity = 20', 'paired = True'];
  return `[PROCESS]
lr = 0.05
epochs = ${epochs}
data_scheme = data
pipeline_scheme = model
run_files_path = ${path.join(tmp, 'runs')}
loss_function = MSELoss
optimizer = adam
backend = cpu
seed = ${seed}

[MONITOR]
nb_processus = ${workers}
${monitor.join('\n')}

[linear_task]
type = data
class = linear_task
path_to_class = ${CLASSES}
key = linear
batch_size = 32
n_train = 256
n_test = 512
noise = 0.5
task_seed = 1

[shifted_linear]
type = model
class = shifted_linear
path_to_class = ${CLASSES}
key = shift_{shift}
shift = ${SHIFTS.join(', ')}
`;
}

function mosaic(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: tmp, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`mosaic ${args.join(' ')}: exit ${r.status}\n${r.stderr}\n${r.stdout.slice(-3000)}`);
  return r.stdout;
}

/** Runs one experiment into a new database: its wall time, its runs, and compare's JSON report. */
function experiment(name, text) {
  const config = path.join(tmp, `${name}.ini`);
  const db = path.join(tmp, `${name}.db`);
  fs.writeFileSync(config, text);
  const started = performance.now();
  mosaic(['run', config, db, '--progress', 'lines']);
  const wall = (performance.now() - started) / 1000;
  const report = JSON.parse(mosaic(['compare', db, '--format', 'json']));
  const sql = new Database(db, { readonly: true });
  const runs = sql.prepare(`SELECT status, COUNT(*) n FROM runs GROUP BY status`).all();
  // a pipeline's model key (compare's group names), for the race's entries, which name pipelines
  const keyOf = new Map(
    sql
      .prepare(
        `SELECT DISTINCT r.pipeline, p.param_value AS key FROM runs r JOIN params p ON p.run_id = r.run_id AND p.param_name = 'model_key'`,
      )
      .all()
      .map((r) => [r.pipeline, r.key]),
  );
  const raceRows = report.race ? sql.prepare(`SELECT * FROM mosaic_race ORDER BY round, position`).all() : [];
  sql.close();
  const count = runs.reduce((s, r) => s + r.n, 0);
  const notDone = runs.filter((r) => r.status !== 'done');
  if (notDone.length)
    console.log(`  note: ${name} has runs not done: ${notDone.map((r) => `${r.n} ${r.status}`).join(', ')}`);
  return { wall, runs: count, report, keyOf, raceRows };
}

/** The fixed design's top group: the groups sharing a letter with the group of the best mean. */
function fixedTop(report) {
  const groups = report.groups;
  const lower = report.direction === 'lower';
  const best = groups.reduce((a, b) => ((lower ? b.mean < a.mean : b.mean > a.mean) ? b : a));
  const letters = new Set(best.letters);
  return groups
    .filter((g) => [...g.letters].some((l) => letters.has(l)))
    .map((g) => g.group)
    .sort();
}

/** The race's top group (never eliminated), from compare's JSON and from mosaic_race, which must agree. */
function raceOutcome({ report, keyOf, raceRows }) {
  const key = report.race.keys[0];
  const named = (pipeline) => keyOf.get(pipeline) ?? pipeline;
  const top = key.entries
    .filter((e) => e.state !== 'eliminated')
    .map((e) => named(e.group))
    .sort();
  const eliminated = new Set(raceRows.filter((r) => r.decision === 'eliminated').map((r) => r.grp));
  const fromTable = [...keyOf.keys()]
    .filter((p) => !eliminated.has(p))
    .map(named)
    .sort();
  if (top.join() !== fromTable.join())
    console.log(
      `  warning: compare's race entries (${top.join(', ')}) and mosaic_race (${fromTable.join(', ')}) disagree`,
    );
  const exits = key.entries
    .filter((e) => e.state === 'eliminated' || e.state === 'equivalent')
    .map((e) => `${named(e.group).replace('shift_', '')} ${e.state === 'eliminated' ? 'out' : '≡'} r${e.round}`);
  return { top, rounds: key.rounds, over: key.over, exits, line: report.race.line };
}

const ropeName = (r) => (r === null ? 'no rope' : `rope ${r}`);
const fmtSet = (xs) => `{${xs.map((x) => x.replace('shift_', '')).join(', ')}}`;
const pct = (x) => `${(100 * x).toFixed(1)}%`;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const cpu = os.cpus()[0]?.model?.trim() ?? 'unknown CPU';
console.log(
  `Race bench — ${cpu}, ${os.cpus().length} cores, node ${process.version}; ${workers} workers, ${epochs} epochs a run`,
);
console.log(
  `8 configurations (shift ${SHIFTS.join(', ')}): true top group ${fmtSet(TRUE_TOP)}, close seconds ${fmtSet(SECONDS)}; ` +
    `race: min_repeats 3, max_repeats 20, alpha 0.05; fixed: multiplicity = 20, paired = True; work folder ${tmp}\n`,
);

const results = new Map(ropes.map((r) => [r, []]));
const fixedResults = [];
for (let i = 0; i < pairs; i++) {
  const seed = baseSeed + 1000 * i;
  console.log(`pair ${i + 1}/${pairs} (seed ${seed})`);
  const fixed = experiment(`fixed-${seed}`, configText({ seed }));
  const top = fixedTop(fixed.report);
  const fixedOk = top.join() === TRUE_TOP.join();
  fixedResults.push({ ...fixed, top, ok: fixedOk });
  console.log(
    `  fixed, multiplicity = 20: ${fixed.runs} runs, ${fixed.wall.toFixed(1)} s; top group ${fmtSet(top)}${fixedOk ? '' : ' (not the true top group)'}`,
  );
  for (const rope of ropes) {
    const race = experiment(`race-${seed}-${rope ?? 'none'}`, configText({ seed, race: { rope } }));
    const outcome = raceOutcome(race);
    const agree = outcome.top.join() === top.join();
    const lostBest = TRUE_TOP.filter((g) => !outcome.top.includes(g));
    results
      .get(rope)
      .push({ ...race, ...outcome, agree, share: race.runs / fixed.runs, lostBest, fixedWall: fixed.wall });
    console.log(
      `  race, ${ropeName(rope).padEnd(10)}: ${race.runs} runs (${pct(race.runs / fixed.runs)} of the fixed design's), ` +
        `${outcome.rounds} rounds (${outcome.over ?? 'not over'}), ${race.wall.toFixed(1)} s; top group ${fmtSet(outcome.top)}; ` +
        `${agree ? 'agrees' : 'DISAGREES'}${lostBest.length ? `; a true best eliminated: ${lostBest.join(', ')}` : ''}`,
    );
    console.log(`      ${outcome.exits.join(', ')}`);
  }
}

console.log(`\nSummary over ${pairs} pair${pairs === 1 ? '' : 's'} (${cpu}):`);
console.log(
  `  fixed design: true top group in ${fixedResults.filter((f) => f.ok).length}/${pairs}; ` +
    `${mean(fixedResults.map((f) => f.runs)).toFixed(0)} runs, ${mean(fixedResults.map((f) => f.wall)).toFixed(1)} s wall on average`,
);
for (const [rope, rs] of results) {
  const shares = rs.map((r) => r.share);
  console.log(
    `  race, ${ropeName(rope).padEnd(10)}: same top group in ${rs.filter((r) => r.agree).length}/${rs.length}; ` +
      `runs ${mean(rs.map((r) => r.runs)).toFixed(1)} on average (${pct(mean(shares))} of the fixed design's, ${pct(Math.min(...shares))}–${pct(Math.max(...shares))}); ` +
      `≤ 40% in ${shares.filter((s) => s <= 0.4).length}/${rs.length}; rounds ${mean(rs.map((r) => r.rounds)).toFixed(1)}; ` +
      `wall ${mean(rs.map((r) => r.wall)).toFixed(1)} s (${pct(mean(rs.map((r) => r.wall / r.fixedWall)))} of the fixed design's); ` +
      `a true best eliminated in ${rs.filter((r) => r.lostBest.length).length}/${rs.length}`,
  );
}
if (options.keep) console.log(`\ndatabases and configs kept in ${tmp}`);
else fs.rmSync(tmp, { recursive: true, force: true });
