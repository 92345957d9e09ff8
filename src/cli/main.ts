#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { MosaicError } from '../errors.js';
import { normalizeArgv } from './argv.js';
import { generateCommand } from './generate.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

const program = new Command('mosaic')
  .description(
    'Compare machine-learning models: describe the comparison in one INI file, train every combination in parallel\n' +
      'with TensorFlow.js, keep every parameter, curve and result in a SQLite database.\n' +
      'Every command also answers to its original name: mosaic_run, mosaic_generate, mosaic_status, ...',
  )
  .showHelpAfterError()
  .exitOverride();

program
  .command('run')
  .description('generate the pipelines of CONFIG and train them all, storing everything in DB (appended to if it exists)')
  .argument('<config>', 'experiment INI file')
  .argument('<db>', 'SQLite database file (created if missing)')
  .option('--progress <mode>', 'auto (bars on a terminal, lines otherwise), bar or lines', 'auto')
  .addHelpText(
    'after',
    '\nExit code: 0 when every run is done, 3 when some ended in error (see mosaic status), 2 on bad input.\nExample: mosaic run examples/tutorial/config.ini tutorial.db',
  )
  .action(async (config: string, db: string, opts: { progress: 'auto' | 'bar' | 'lines' }) => {
    process.exitCode = await runCommand(config, db, { progress: opts.progress });
  });

program
  .command('generate')
  .description('write the pipelines of CONFIG (multiplicity included) to OUT as JSON, without running them')
  .argument('<config>', 'experiment INI file')
  .argument('<out>', 'JSON file to write')
  .action((config: string, out: string) => generateCommand(config, out));

program
  .command('status')
  .description('show the runs of a database: Done (losses, time), Error (pipeline + trace), Running, Pending')
  .argument('[db]', 'database (default: --db, $MOSAIC_DB, or the last one `mosaic run` used from this folder)')
  .option('--db <file>', 'database to read')
  .option('--all', 'list every pending run instead of a summary')
  .action((db: string | undefined, opts: { db?: string; all?: boolean }) => {
    console.log(statusCommand(opts.db ?? db, { all: opts.all ?? false }));
  });

async function main(): Promise<void> {
  try {
    await program.parseAsync(normalizeArgv(process.argv));
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof MosaicError) {
      console.error(`mosaic: error: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}

await main();
