import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');
export const FIXTURES = path.join(ROOT, 'test/fixtures');
export const TUTORIAL = path.join(ROOT, 'examples/tutorial');

/** Tests keep the "recent databases" memory of `mosaic status` out of the real home. */
const CACHE_HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-cache-'));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tmpDir(prefix = 'mosaic-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs the real CLI in a child process. */
export function cli(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: CACHE_HOME, ...env },
    timeout: 170_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningCli {
  child: ChildProcess;
  /** Everything printed so far. */
  output: () => string;
  /** Resolves when the output matches. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
  done: Promise<CliResult>;
}

/** The same, without blocking (for tests that act while it runs). */
export function startCli(
  args: string[],
  cwd = ROOT,
  options: { env?: NodeJS.ProcessEnv; detached?: boolean } = {},
): RunningCli {
  // detached: its own process group, so that a test can kill it with its workers (a whole "host").
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, XDG_CACHE_HOME: CACHE_HOME, ...options.env },
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // 'close', not 'exit': the process may exit before its last output has been read
  let closed = false;
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      closed = true;
      resolve({ code: code ?? (signal ? -1 : null), stdout, stderr });
    }),
  );
  const waitFor = async (re: RegExp, timeoutMs = 60_000) => {
    const until = Date.now() + timeoutMs;
    while (!re.test(stdout)) {
      if (Date.now() > until || closed) throw new Error(`output never matched ${re}:\n${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { child, output: () => stdout + stderr, waitFor, done };
}

/** History rows of a SQLite database (of one run, if given); 0 before its file or tables exist. */
export function historyCount(file: string, runId?: number): number {
  if (!fs.existsSync(file)) return 0;
  let d: Database.Database | undefined;
  try {
    d = openDb(file);
    const where = runId === undefined ? '' : ' WHERE run_id = ?';
    return (
      d.prepare(`SELECT COUNT(*) n FROM history${where}`).get(...(runId === undefined ? [] : [runId])) as { n: number }
    ).n;
  } catch {
    return 0;
  } finally {
    d?.close();
  }
}

export function openDb(file: string): Database.Database {
  return new Database(file, { readonly: true });
}

/** The rows a query returns from a SQLite database, opened read-only for it. */
export function rows(db: string, sql: string, ...params: unknown[]): Record<string, unknown>[] {
  const d = openDb(db);
  try {
    return d.prepare(sql).all(...params) as Record<string, unknown>[];
  } finally {
    d.close();
  }
}

/** The tutorial config with absolute class paths and the given changes to its values. */
export function tutorialConfig(dir: string, changes: Record<string, string> = {}): string {
  let text = fs.readFileSync(path.join(TUTORIAL, 'config.ini'), 'utf8');
  text = text.replaceAll('path_to_class = ./', `path_to_class = ${TUTORIAL}/`);
  for (const [key, value] of Object.entries(changes)) {
    const re = new RegExp(`^${key} = .*$`, 'm');
    if (!re.test(text)) throw new Error(`tutorialConfig: no key ${key}`);
    text = text.replace(re, `${key} = ${value}`);
  }
  const file = path.join(dir, 'config.ini');
  fs.writeFileSync(file, text);
  return file;
}

/** A [faulty] model section (test/fixtures/faulty-models.ts): widths 3, 4 and 6 misbehave on purpose. */
/** The fixture model `faulty` of these widths; with `epochMs`, each epoch lasts at least that long. */
export function faultyModel(widths: string, key = 'net', epochMs = 0): string {
  return `
[faulty]
type = model
class = faulty
path_to_class = ${FIXTURES}/faulty-models.ts
key = ${key}
width = ${widths}
${epochMs ? `epoch_ms = ${epochMs}` : ''}
`;
}

/** A small experiment on the fixture classes. */
export function fixtureConfig(
  dir: string,
  opts: { models: string; monitor?: string; process?: string; epochs?: number },
): string {
  const file = path.join(dir, 'config.ini');
  fs.writeFileSync(
    file,
    `[PROCESS]
lr = 1e-2
epochs = ${opts.epochs ?? 3}
data_scheme = data
pipeline_scheme = model
loss_function = BCELoss
run_files_path = runs
${opts.process ?? ''}

[MONITOR]
${opts.monitor ?? 'nb_processus = 2\nmultiplicity = 1'}

[or_data]
type = data
class = or_data
path_to_class = ${FIXTURES}/or-data.mjs
key = or
batch_size = 4
repeats = 16

${opts.models}
`,
  );
  return file;
}

/** An experiment on three classes (test/fixtures/classes.ts). */
export function classesConfig(
  dir: string,
  o: { outputs?: number; onehot?: boolean; process?: string; model?: string; modelClass?: string } = {},
): string {
  const file = path.join(dir, 'classes.ini');
  fs.writeFileSync(
    file,
    `[PROCESS]
lr = 5e-2
epochs = 3
seed = 3
data_scheme = data
pipeline_scheme = model
${o.process ?? 'loss_function = CrossEntropyLoss'}
run_files_path = runs

[MONITOR]
nb_processus = 1

[three]
type = data
class = three_classes
path_to_class = ${FIXTURES}/classes.ts
key = three
batch_size = 8
onehot = ${o.onehot ? 'True' : 'False'}

[classifier]
type = model
class = ${o.modelClass ?? 'classifier'}
path_to_class = ${FIXTURES}/classes.ts
key = linear
outputs = ${o.outputs ?? 3}
${o.model ?? ''}
`,
  );
  return file;
}

/** A user mistake: one line on stderr naming what is wrong, exit code 2, no stack trace. */
export function expectCleanFailure(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^mosaic: error: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
