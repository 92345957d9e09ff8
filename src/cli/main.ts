#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { MosaicError } from '../core/errors.js';
import { EXIT, EXIT_CODES_HELP } from '../core/exit-codes.js';
import { StoreUnavailableError } from '../store/errors.js';
import { normalizeArgv } from './argv.js';
import type { PlotlossOptions } from './plots.js';
import { CRITERIA_HELP } from '../analysis/runs.js';
import type { ProgressMode } from '../experiment/execute.js';
import type { RunSelector } from '../analysis/select.js';

const POOL_HELP =
  'comma-separated parameters to average over on purpose (e.g. lr or lr,width); by default runs that differ in a parameter are not pooled';
const SPLIT_HELP =
  'Runs that would be averaged together but differ in a parameter (an lr not in the key, epochs after a rerun) are shown apart, ' +
  'e.g. "mlp · lr=1e-3"; --pool NAME averages over NAME on purpose. Only runs with status done are used; the notes say what was left out.';

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new MosaicError(`${option} must be a positive integer, got "${value}"`);
  return n;
}

const program = new Command('mosaic')
  .description(
    'Compare machine-learning models: describe the comparison in one INI file, train every combination in parallel ' +
      'with TensorFlow.js, keep every parameter, curve and result in a database (a SQLite file; PostgreSQL for workers on many machines).\n' +
      'Every command also answers to its original name: mosaic_run, mosaic_generate, mosaic_status, mosaic_pause, ...',
  )
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nStart with: mosaic run examples/tutorial/config.ini tutorial.db, then mosaic status, mosaic compare, mosaic plotloss.\nmosaic help COMMAND explains each command.',
  )
  .exitOverride();

program
  .command('run')
  .description(
    'generate the pipelines of CONFIG and train them all, storing everything in DB (appended to if it exists)',
  )
  .argument('<config>', 'experiment INI file')
  .argument('<db>', 'SQLite database file (created if missing), or a postgres:// URL (tables created if missing)')
  .option('--progress <mode>', 'auto (bars on a terminal, lines otherwise), bar or lines', 'auto')
  .option('--force', 'queue the runs even if DB holds an unfinished experiment')
  .option(
    '--reuse-seeds',
    'when DB already has runs with the seeds of this config, use them again on purpose (by default new runs take unused seeds, so repeats stay independent)',
  )
  .option('--queue-only', 'only queue the runs; `mosaic worker DB` on any host trains them')
  .option(
    '--no-wait',
    "leave once nothing is pending, rather than wait for runs other workers hold (a silent host's runs are then left to the workers still working when its heartbeat_timeout passes)",
  )
  .option(
    '--no-check',
    'queue without building a run of each pipeline first (the data of every data chain prepared, each model built and run on one batch): for data too expensive to prepare twice; classes that fail and misspelt keys are then found by the runs',
  )
  .addHelpText(
    'after',
    `\nWith [MONITOR] multiplicity = auto the experiment is a race: min_repeats (3) repeats of every\nconfiguration; after each round, those significantly worse than the best stop (alpha over every\nlook and pair), the others get one more repeat, up to max_repeats (20) or max_runs; race_rope\nstops those equivalent to the best; race_criterion (test_loss) is what is raced on. The progress,\nmosaic status, compare and the dashboard show the race; README.md says more.\n\n${EXIT_CODES_HELP}\nExample: mosaic run examples/tutorial/config.ini tutorial.db`,
  )
  .action(
    async (
      config: string,
      db: string,
      opts: {
        progress: ProgressMode;
        force?: boolean;
        reuseSeeds?: boolean;
        queueOnly?: boolean;
        check: boolean;
        wait: boolean;
      },
    ) => {
      const { runCommand } = await import('./run.js');
      process.exitCode = await runCommand(config, db, {
        progress: opts.progress,
        force: opts.force ?? false,
        reuseSeeds: opts.reuseSeeds ?? false,
        queueOnly: opts.queueOnly ?? false,
        check: opts.check,
        wait: opts.wait,
      });
    },
  );

program
  .command('pause')
  .description(
    'stop starting runs: running runs finish, pending runs wait for `mosaic resume`; with FILE.json, also write what is left there',
  )
  .argument('[target]', 'FILE.json to write, or the database (default as for status)')
  .option('--db <file>', 'database')
  .action(async (target: string | undefined, opts: { db?: string }) =>
    (await import('./lifecycle.js')).pauseCommand(target, opts.db),
  );

program
  .command('resume')
  .description(
    'continue a paused or interrupted experiment: runs left by stopped workers continue from their last finished epoch',
  )
  .argument('[target]', 'the database, or the FILE.json written by pause (default as for status)')
  .option('--db <file>', 'database')
  .option('--workers <n>', "number of worker processes (default: the experiment's nb_processus)", (v) =>
    positiveInt(v, '--workers'),
  )
  .option('--progress <mode>', 'auto, bar or lines', 'auto')
  .addHelpText('after', `\n${EXIT_CODES_HELP}`)
  .action(async (target: string | undefined, opts: { db?: string; workers?: number; progress: ProgressMode }) => {
    const { resumeCommand } = await import('./lifecycle.js');
    process.exitCode = await resumeCommand(target, opts);
  });

program
  .command('worker')
  .description(
    'join an experiment from this host: start worker processes that claim its pending runs (runs of hosts that stop heart-beating are taken back and continue from their checkpoints)',
  )
  .argument('[db]', "the experiment's database: a postgres:// URL for workers on many hosts (default as for status)")
  .option('--db <location>', 'database')
  .option('--workers <n>', "worker processes on this host (default: the experiment's nb_processus)", (v) =>
    positiveInt(v, '--workers'),
  )
  .option(
    '--gpus <devices>',
    "devices of this host for need_gpu experiments, e.g. cuda:0,cuda:1 (default: the experiment's gpu_available)",
  )
  .option('--wait', 'when nothing is pending, wait for runs queued later instead of leaving')
  .option(
    '--no-wait',
    'leave once nothing is pending, even when runs of a silent host are left (by default it waits for their heartbeat_timeout and takes them back)',
  )
  .option('--progress <mode>', 'auto, bar or lines', 'auto')
  .addHelpText(
    'after',
    '\nQueue the experiment once (mosaic run CONFIG postgres://… --queue-only), then start workers on every host. Checkpoints (run_files_path) ' +
      'and the classes (path_to_class) must be on a file system every host sees: see docs/cluster.md.\n' +
      `${EXIT_CODES_HELP}\nExample: mosaic worker postgres://mosaic@db-host/experiment --workers 4`,
  )
  .action(
    async (
      db: string | undefined,
      opts: { db?: string; workers?: number; gpus?: string; wait?: boolean; progress: ProgressMode },
    ) => {
      const { workerCommand } = await import('./worker.js');
      process.exitCode = await workerCommand(db, opts);
    },
  );

program
  .command('rerun')
  .description(
    'continue selected runs from their saved model and optimizer for N more epochs (history extended, results updated)',
  )
  .argument('<config>', 'experiment INI file (its [MONITOR] sets the workers)')
  .argument('<db>', 'database')
  .requiredOption('--epochs <n>', 'how many more epochs')
  .option('--id <ids>', 'run ids: 1-3,7,10-12 or all')
  .option('--request <sql>', 'a read-only SQL query returning run ids')
  .option(
    '--param_name_value <name_value...>',
    'runs whose parameter NAME equals VALUE (width finds mlp_width; 0.001 equals 1e-3)',
  )
  .option('--param_name_value_low_threshold <name_value...>', 'runs whose parameter NAME is <= VALUE')
  .option('--param_name_value_high_threshold <name_value...>', 'runs whose parameter NAME is >= VALUE')
  .option(
    '--no-early-stopping',
    'train the N epochs even if the run stopped early (its patience is counted over its whole history, so it would stop again at once)',
  )
  .option('--progress <mode>', 'auto, bar or lines', 'auto')
  .addHelpText(
    'after',
    `\nSingle-dash forms work too: mosaic rerun config.ini results.db -id 1-3 -epochs 200\n${EXIT_CODES_HELP}`,
  )
  .action(
    async (
      config: string,
      db: string,
      opts: RunSelector & { epochs: string; progress: ProgressMode; earlyStopping: boolean },
    ) => {
      const { rerunCommand } = await import('./lifecycle.js');
      process.exitCode = await rerunCommand(config, db, opts);
    },
  );

program
  .command('savedb')
  .description('write a consistent copy of the database, even while an experiment writes to it')
  .argument('<first>', 'COPY (the database as for status), or DB when a second argument is given')
  .argument('[second]', 'COPY, when the first argument is the database')
  .option('--db <file>', 'database to copy')
  .option(
    '--with-checkpoints',
    "copy the runs' checkpoint folders too, so that the copy can continue its runs (rerun, resume)",
  )
  .addHelpText(
    'after',
    "\nThe copy is a database of its own (a new identity; `mosaic status` says whose copy it is). Its runs' checkpoints\n" +
      'stay with the original unless --with-checkpoints copies them; the copy never writes to, prunes or deletes the\n' +
      "original's run folders.",
  )
  .action(async (first: string, second: string | undefined, opts: { db?: string; withCheckpoints?: boolean }) =>
    (await import('./lifecycle.js')).savedbCommand(first, second, opts),
  );

program
  .command('import')
  .description(
    'copy a database written by the original Mosaic (Python) into a Mosaic database: runs with their ids and statuses, parameters, results, and where they came from; the original is only read',
  )
  .argument('<original>', "the original Mosaic's SQLite file")
  .argument('<db>', 'a new SQLite file, or a postgres:// URL of a database without runs')
  .addHelpText(
    'after',
    '\nstatus, compare, metaplot, perfanalysis and the dashboard also read the original as it is. Its per-epoch histories were in .pt files, not in the database: the imported runs have no loss curves and cannot be continued.\n' +
      'Example: mosaic import original.db results.db',
  )
  .action(async (original: string, db: string) =>
    console.log(await (await import('./import.js')).importCommand(original, db)),
  );

program
  .command('rekey')
  .description('after editing `key` templates and running generate again, update the stored keys of the matching runs')
  .argument('<pipelines>', 'JSON written by mosaic generate')
  .argument('<db>', 'database')
  .action(async (pipelines: string, db: string) => (await import('./rekey.js')).rekeyCommand(pipelines, db));

program
  .command('delete')
  .description(
    'remove the selected runs from the database (every table) and their checkpoint folders, after a confirmation',
  )
  .argument('<db>', 'database')
  .option('--id <ids>', 'run ids: 1-3,7,10-12 or all')
  .option('--request <sql>', 'a read-only SQL query returning run ids')
  .option('--param_name_value <name_value...>', 'runs whose parameter NAME equals VALUE')
  .option('--param_name_value_low_threshold <name_value...>', 'runs whose parameter NAME is <= VALUE')
  .option('--param_name_value_high_threshold <name_value...>', 'runs whose parameter NAME is >= VALUE')
  .option('--yes', 'do not ask for confirmation (needed when not on a terminal)')
  .addHelpText('after', '\nExample: mosaic delete results.db -id 25-48')
  .action(async (db: string, opts: RunSelector & { yes?: boolean }) => {
    const { deleteCommand } = await import('./delete.js');
    console.log(await deleteCommand(db, opts));
  });

program
  .command('generate')
  .description(
    'write the pipelines of CONFIG (multiplicity included) to OUT as JSON, without running them; the classes are checked as by run',
  )
  .argument('<config>', 'experiment INI file')
  .argument('<out>', 'JSON file to write')
  .option('--no-check', 'do not load the classes to check them')
  .action(async (config: string, out: string, opts: { check: boolean }) =>
    (await import('./generate.js')).generateCommand(config, out, { check: opts.check }),
  );

program
  .command('status')
  .description(
    'show the runs of a database: Done (keys, losses, accuracies, logged metrics, time), Diverged, Error (pipeline + trace), Running, Pending, and which backends trained them',
  )
  .argument('[db]', 'database (default: --db, $MOSAIC_DB, or the last one `mosaic run` used from this folder)')
  .option('--db <file>', 'database to read')
  .option('--all', 'list every pending run instead of a summary')
  .action(async (db: string | undefined, opts: { db?: string; all?: boolean }) => {
    const { statusCommand } = await import('./status.js');
    console.log(await statusCommand(opts.db ?? db, { all: opts.all ?? false }));
  });

program
  .command('plotloss')
  .description(
    'draw the loss curves of the selected runs (train solid, test dashed), plot_size x plot_size a page, each titled "id: pipeline : nb_params" with overfit, trainability and slope',
  )
  .argument('<db>', 'database')
  .argument('<out>', 'output file: .pdf (one page per grid), .png or .svg (one file per page)')
  .argument('[runs_dir]', 'accepted for compatibility with the original; curves come from the database')
  .option('--id <ids>', 'run ids: 1-3,7,10-12 or all (the default)')
  .option('--request <sql>', 'a read-only SQL query returning run ids')
  .option(
    '--param_name_value <name_value...>',
    'runs whose parameter NAME equals VALUE (width finds mlp_width; 0.001 equals 1e-3)',
  )
  .option('--param_name_value_low_threshold <name_value...>', 'runs whose parameter NAME is <= VALUE')
  .option('--param_name_value_high_threshold <name_value...>', 'runs whose parameter NAME is >= VALUE')
  .option('--plot_size <k>', 'k x k plots a page', '3')
  .option('--log', 'loss on a log scale')
  .addHelpText('after', '\nExample: mosaic plotloss tutorial.db losses.pdf .runs -id all -plot_size 3')
  .action(async (db: string, out: string, _runsDir: string | undefined, opts: PlotlossOptions) => {
    const { plotlossCommand } = await import('./plots.js');
    console.log(await plotlossCommand(db, out, opts));
  });

program
  .command('metaplot')
  .description(
    'a criterion against the number of parameters for the runs of one dataset key: one line per model key, mean over repeats with a ±1 std band',
  )
  .argument('<db>', 'database')
  .argument('<out>', 'output file: .png, .svg or .pdf')
  .argument('<dataset_key>', 'dataset key, e.g. data_dataset_OR')
  .argument('<criterion>', `one of ${CRITERIA_HELP}`)
  .option('--pool <names>', POOL_HELP)
  .addHelpText('after', `\n${SPLIT_HELP}\nExample: mosaic metaplot tutorial.db metaplot.png data_dataset_OR test_loss`)
  .action(async (db: string, out: string, dataset: string, criterion: string, opts: { pool?: string }) => {
    const { metaplotCommand } = await import('./plots.js');
    console.log(await metaplotCommand(db, out, dataset, criterion, opts));
  });

program
  .command('perfanalysis')
  .description(
    'for every dataset key and criterion, a page with the mean curve (±1 std) of each model key against nb_params and the distribution over repeats as violins',
  )
  .argument('<db>', 'database')
  .argument('<out>', 'output file: .pdf (one page each), .png or .svg (one file each)')
  .option('--criteria <names>', `comma-separated criteria (default: all but nb_params): ${CRITERIA_HELP}`)
  .option('--pool <names>', POOL_HELP)
  .addHelpText('after', `\n${SPLIT_HELP} A criterion with the same value in every run of a dataset key gets no page.`)
  .action(async (db: string, out: string, opts: { criteria?: string; pool?: string }) => {
    const { perfanalysisCommand } = await import('./plots.js');
    console.log(
      await perfanalysisCommand(db, out, {
        ...(opts.criteria ? { criteria: opts.criteria.split(',').map((c) => c.trim()) } : {}),
        pool: opts.pool,
      }),
    );
  });

program
  .command('perfanalysis_by_config')
  .description(
    'the plots a plot INI describes, one page per section: abscissae, ordinates, include_keys/include_values, excludes, plot_type line|point|violin, errorbars_style bars|fill_between, plot_scale',
  )
  .argument('<plot_ini>', 'plot description (see README)')
  .argument('<db>', 'database')
  .argument('<out>', 'output file: .pdf (one page per section), .png or .svg')
  .action(async (plotIni: string, db: string, out: string) => {
    const { perfanalysisByConfigCommand } = await import('./plots.js');
    console.log(await perfanalysisByConfigCommand(plotIni, db, out));
  });

program
  .command('compare')
  .description(
    'which model is better, by how much, and how sure: per group n, mean, std, 95% CI, median and letters (groups that share one do not differ significantly); per pair the difference with its CI, Welch and Mann-Whitney tests (Holm-corrected), effect sizes, the probability that one beats the other; a ranking and a verdict',
  )
  .argument('[db]', 'database (default as for status)')
  .option('--db <file>', 'database')
  .option('--criterion <name>', `one of ${CRITERIA_HELP}`, 'test_loss')
  .option('--by <type>', 'group runs by the key of this scheme type (default: the keys of the whole model chain)')
  .option('--at <what>', 'compare separately at each nb_params, or each value of a parameter (e.g. width)')
  .option('--pool <names>', POOL_HELP)
  .option('--format <format>', 'table, json, csv or markdown', 'table')
  .option('--plot <file>', "also draw each group's mean and 95% CI, best first, with its letters (.pdf, .png or .svg)")
  .option(
    '--rope <d>',
    "region of practical equivalence, ±d in the criterion's units: each pair also gets two one-sided tests, so a verdict can say 'practically equivalent'",
  )
  .option(
    '--across-datasets',
    'rank the models on each data key: average ranks, Friedman and Iman-Davenport tests, Nemenyi critical difference, Wilcoxon signed-rank over datasets with Holm (with --plot: the critical-difference diagram)',
  )
  .addHelpText('after', `\n${SPLIT_HELP}\nExample: mosaic compare tutorial.db --criterion test_loss --at width`)
  .action(
    async (
      db: string | undefined,
      opts: {
        db?: string;
        criterion: string;
        by?: string;
        at?: string;
        pool?: string;
        format: string;
        plot?: string;
        rope?: string;
        acrossDatasets?: boolean;
      },
    ) => {
      const { compareCommand } = await import('./compare.js');
      const { stdout, stderr } = await compareCommand(opts.db ?? db, opts);
      if (stderr) console.error(stderr);
      console.log(stdout);
    },
  );

program
  .command('cdplot')
  .description(
    'the critical-difference diagram of the models over the data keys (Demšar 2006): average ranks on an axis, bars joining models within the Nemenyi critical difference, the CD drawn',
  )
  .argument('<db>', 'database')
  .argument('<out>', 'output file: .pdf, .png or .svg')
  .option('--criterion <name>', `one of ${CRITERIA_HELP}`, 'test_loss')
  .option('--by <type>', 'group runs by the key of this scheme type (default: the keys of the whole model chain)')
  .option('--pool <names>', POOL_HELP)
  .addHelpText(
    'after',
    `\nEach model's value on a dataset is the mean of its runs there; mosaic compare DB --across-datasets prints the tests. ${SPLIT_HELP}\nExample: mosaic cdplot results.db cd.png --criterion test_acc`,
  )
  .action(async (db: string, out: string, opts: { criterion: string; by?: string; pool?: string }) => {
    const { cdplotCommand } = await import('./across-datasets.js');
    console.log(await cdplotCommand(db, out, opts));
  });

program
  .command('dashboard')
  .description(
    'serve a live web page of a database: statuses, progress and ETA, the runs table, curves growing as runs train, compare, metaplot and perfanalysis; pause and resume',
  )
  .argument('[db]', 'database (default as for status)')
  .option('--db <file>', 'database')
  .option('--port <n>', 'port to listen on (0: any free port)', '8080')
  .option(
    '--host <address>',
    'address to listen on; any other than 127.0.0.1/localhost needs the token printed at start',
    '127.0.0.1',
  )
  .addHelpText(
    'after',
    '\nThe page reads the database only (a writer is opened briefly to pause or resume) and keeps working while mosaic run writes. ' +
      'It opens nothing by itself: open the printed address. Ctrl-C stops it.\nExample: mosaic dashboard tutorial.db --port 8080',
  )
  .action(async (db: string | undefined, opts: { db?: string; port: string; host: string }) => {
    const { dashboardCommand } = await import('./dashboard.js');
    await dashboardCommand(db, opts);
  });

// `mosaic status | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok.code);
    throw e;
  });
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(normalizeArgv(process.argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander exits 0 after --help and --version, 1 on a usage mistake: that is bad input.
      process.exitCode = e.exitCode === 0 ? EXIT.ok.code : EXIT.badInput.code;
      return;
    }
    if (e instanceof StoreUnavailableError) {
      console.error(
        `mosaic: error: ${e.message}. Nothing recorded is lost: run the command again (or mosaic resume) once the database is back`,
      );
      process.exitCode = EXIT.storeUnavailable.code;
      return;
    }
    if (e instanceof MosaicError) {
      console.error(`mosaic: error: ${e.message}`);
      process.exitCode = EXIT.badInput.code;
      return;
    }
    throw e;
  }
}

await main();
