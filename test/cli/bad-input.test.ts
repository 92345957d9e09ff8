import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cli,
  expectCleanFailure,
  faultyModel,
  FIXTURES,
  fixtureConfig,
  openDb,
  tmpDir,
  tutorialConfig,
} from '../support/helpers.js';

const CASES: [string, [string, string], RegExp][] = [
  ['missing section', ['[MONITOR]', '[MONITORING]'], /config\.ini: missing section \[MONITOR\]/],
  [
    'missing key',
    ['path_to_class = ', 'path_to_klass = '],
    /config\.ini:\d+ \[dataset_OR\]: missing key "path_to_class"/,
  ],
  [
    'unknown type in a scheme',
    ['pipeline_scheme = mlp', 'pipeline_scheme = mlp, head'],
    /config\.ini:\d+ \[PROCESS\] pipeline_scheme: no section has type = head/,
  ],
  [
    'reversed range',
    ['width = {2-4}', 'width = {5-2}'],
    /config\.ini:\d+ \[mlp_funnel\] width: range "\{5-2\}" is empty/,
  ],
  [
    'letters in a range',
    ['width = {2-4}', 'width = {a-b}'],
    /config\.ini:\d+ \[mlp_funnel\] width: "\{a-b\}" is not a range/,
  ],
  [
    'unreadable path_to_class',
    ['dataset.ts', 'no-such-file.ts'],
    /config\.ini:\d+ \[dataset_OR\] path_to_class: file .*no-such-file\.ts does not exist/,
  ],
  [
    'class not exported',
    ['class = mlp_brick', 'class = mlp_bricks'],
    /config\.ini:\d+ \[mlp_brick\] class: .*mlp\.ts exports no class "mlp_bricks" \(it exports: mlp_brick, mlp_funnel\)/,
  ],
  [
    'unknown loss',
    ['loss_function = MSELoss', 'loss_function = MSError'],
    /config\.ini:\d+ \[PROCESS\] loss_function: unknown loss; known: MSELoss/,
  ],
  [
    'unknown optimizer',
    ['optimizer = adam', 'optimizer = lion'],
    /config\.ini:\d+ \[PROCESS\] optimizer: unknown optimizer; known: adam/,
  ],
  [
    'non-numeric epochs',
    ['epochs = 400', 'epochs = 4OO'],
    /config\.ini:\d+ \[PROCESS\] epochs: must be a positive integer, found "4OO"/,
  ],
  [
    'tensorflow backend without tfjs-node',
    ['optimizer = adam', 'optimizer = adam\nbackend = tensorflow'],
    /backend = tensorflow needs @tensorflow\/tfjs-node/,
  ],
  ['syntax error in a class file', ['dataset.ts', 'broken.ts'], /cannot load .*broken\.ts/],
];

describe('bad input: one clear line, non-zero exit, no database', () => {
  for (const [name, [from, to], message] of CASES) {
    it(name, () => {
      const dir = tmpDir();
      const config = tutorialConfig(dir);
      let text = fs.readFileSync(config, 'utf8').replace(from, to);
      if (to === 'broken.ts') {
        fs.writeFileSync(path.join(dir, 'broken.ts'), 'export class dataset_OR { constructor( }\n');
        text = text.replace(/path_to_class = .*broken\.ts/, 'path_to_class = ./broken.ts');
      }
      fs.writeFileSync(config, text);
      const db = path.join(dir, 'x.db');
      expectCleanFailure(cli(['run', config, db], dir), message);
      expect(fs.existsSync(db)).toBe(false);
      expect(fs.existsSync(path.join(dir, '.runs'))).toBe(false);
    });
  }

  it('a check that fails stops the workers started ahead of it: none is left, none opened the database', async () => {
    const dir = tmpDir();
    const config = tutorialConfig(dir);
    fs.writeFileSync(path.join(dir, 'broken.ts'), 'export class dataset_OR { constructor( }\n');
    fs.writeFileSync(
      config,
      fs.readFileSync(config, 'utf8').replace(/path_to_class = .*dataset\.ts/, 'path_to_class = ./broken.ts'),
    );
    // Every process of this run carries the tag in its environment (workers inherit it).
    const tag = `mosaic-test-${process.pid}-${Date.now()}`;
    const db = path.join(dir, 'x.db');
    expectCleanFailure(cli(['run', config, db], dir, { MOSAIC_TEST_TAG: tag }), /cannot load .*broken\.ts/);
    const tagged = () =>
      fs.readdirSync('/proc').filter((pid) => {
        try {
          return (
            /^\d+$/.test(pid) && fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`MOSAIC_TEST_TAG=${tag}`)
          );
        } catch {
          return false; // gone meanwhile, or not ours to read
        }
      });
    for (let waited = 0; tagged().length > 0 && waited < 3000; waited += 100)
      await new Promise((r) => setTimeout(r, 100));
    expect(tagged()).toEqual([]);
    expect(fs.existsSync(db)).toBe(false);
    expect(fs.existsSync(path.join(dir, '.runs'))).toBe(false);
  });

  it('a missing config file', () => {
    expectCleanFailure(
      cli(['run', '/nonexistent/config.ini', path.join(tmpDir(), 'x.db')]),
      /cannot read config file \/nonexistent\/config\.ini/,
    );
  });

  it('an unknown option or a missing argument exits 2 as --help says; --help itself exits 0', () => {
    const dir = tmpDir();
    for (const args of [['run', tutorialConfig(dir), path.join(dir, 'x.db'), '--no-such-option'], ['run']]) {
      const r = cli(args, dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: (unknown option '--no-such-option'|missing required argument)/);
    }
    const help = cli(['run', '--help'], dir);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/2 on bad input|bad input/);
    expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
  });

  it('a directory as database', () => {
    const dir = tmpDir();
    fs.mkdirSync(path.join(dir, 'db'));
    expectCleanFailure(cli(['run', tutorialConfig(dir), path.join(dir, 'db')], dir), /database .*db is a directory/);
  });

  it('a read-only database file is left untouched', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'ro.db');
    fs.copyFileSync(path.join(FIXTURES, 'or-data.mjs'), db); // any content: must not be rewritten
    fs.chmodSync(db, 0o444);
    const before = fs.readFileSync(db);
    expectCleanFailure(cli(['run', tutorialConfig(dir), db], dir), /database .*ro\.db is read-only/);
    expect(fs.readFileSync(db).equals(before)).toBe(true);
    expect(fs.existsSync(`${db}-wal`)).toBe(false);
  });

  it('a file that is not a database is left untouched', () => {
    const dir = tmpDir();
    const db = path.join(dir, 'notes.db');
    fs.writeFileSync(db, 'my notes');
    expectCleanFailure(cli(['run', tutorialConfig(dir), db], dir), /notes\.db is not a SQLite database/);
    expect(fs.readFileSync(db, 'utf8')).toBe('my notes');
  });

  it('a database in a missing folder', () => {
    const dir = tmpDir();
    expectCleanFailure(
      cli(['run', tutorialConfig(dir), path.join(dir, 'no/such/dir/x.db')], dir),
      /folder .*no\/such\/dir does not exist/,
    );
  });

  it('status of a missing database', () => {
    expectCleanFailure(cli(['status', '--db', '/nonexistent.db']), /database \/nonexistent\.db does not exist/);
  });

  it('output piped into a command that stops reading (| head) ends quietly', () => {
    // `true` exits at once, long before node writes: the write meets a closed pipe (EPIPE).
    const r = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" dist/cli/main.js help run | true; exit \${PIPESTATUS[0]}`],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the original command names and single-dash options are understood', () => {
    const dir = tmpDir();
    const out = path.join(dir, 'p.json');
    const link = path.join(dir, 'mosaic_generate');
    fs.symlinkSync(path.resolve('dist/cli/main.js'), link);
    const r = cli(['--help'], dir);
    expect(r.stdout).toContain('mosaic_run');
    const g = spawnSync(process.execPath, [link, tutorialConfig(dir), out], { encoding: 'utf8' });
    expect(g.stdout).toContain('24 pipelines');
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))).toHaveLength(24);
  });
});

/** A model section of `dropout_mlp` (dropout defaults to 0; `output` is read in its first forward pass only). */
const dropoutModel = (extra: string) => `
[mlp]
type = model
class = dropout_mlp
path_to_class = ${FIXTURES}/unread-keys.ts
key = mlp
width = 8
output = sigmoid
${extra}
`;

describe('a key its class never reads is refused before anything is queued', () => {
  it('a misspelt key in a model section, its class reading the right name from its defaults', () => {
    const dir = tmpDir();
    // `output` is read in the first forward pass only; `scale` only for its second value
    const config = fixtureConfig(dir, {
      models: dropoutModel('dropuot = 0.3').replace('output = sigmoid', 'output = sigmoid, scaled\nscale = 0.5'),
      epochs: 1,
    });
    const db = path.join(dir, 'x.db');
    const r = cli(['run', config, db], dir);
    expectCleanFailure(
      r,
      /config\.ini:\d+ \[mlp\] dropuot: dropout_mlp never reads it; did you mean dropout\? .*ignore_unread/,
    );
    expect(r.stderr).not.toMatch(/output|scale/);
    expect(fs.existsSync(db)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'runs'))).toBe(false);
  });

  it('a misspelt key in a data class section', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: faultyModel('2'), epochs: 1 });
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('repeats = 16', 'repaets = 16'));
    const db = path.join(dir, 'x.db');
    expectCleanFailure(
      cli(['run', config, db], dir),
      /config\.ini:\d+ \[or_data\] repaets: or_data never reads it.*; did you mean repeats\?/,
    );
    expect(fs.existsSync(db)).toBe(false);
  });

  it('keys listed in ignore_unread are accepted, and ignore_unread is no parameter', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, {
      models: dropoutModel('dropout = 0.25\nnote = for the dashboard\nignore_unread = note'),
      epochs: 1,
    });
    const db = path.join(dir, 'x.db');
    const r = cli(['run', config, db], dir);
    expect(r.code, r.stderr).toBe(0);
    const d = openDb(db);
    const facts = d
      .prepare(
        `SELECT param_name, param_value FROM params WHERE run_id = 1 AND param_name LIKE 'dropout_mlp_%' ORDER BY param_name`,
      )
      .all();
    d.close();
    expect(facts).toEqual([
      { param_name: 'dropout_mlp_dropout', param_value: '0.25' },
      { param_name: 'dropout_mlp_note', param_value: 'for the dashboard' },
      { param_name: 'dropout_mlp_output', param_value: 'sigmoid' },
      { param_name: 'dropout_mlp_width', param_value: '8' },
    ]);
  });

  it('keys inherited from [DEFAULT] may go unread; keys written in the section may not', () => {
    const dir = tmpDir();
    const config = fixtureConfig(dir, { models: dropoutModel('colour = red'), epochs: 1 });
    fs.writeFileSync(config, `[DEFAULT]\nowner = alice\n\n${fs.readFileSync(config, 'utf8')}`);
    const out = path.join(dir, 'p.json');
    const refused = cli(['generate', config, out], dir);
    expectCleanFailure(refused, /\[mlp\] colour: dropout_mlp never reads it \(a key/);
    expect(refused.stderr).not.toContain('owner');
    expect(fs.existsSync(out)).toBe(false);
    fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace('colour = red', ''));
    const r = cli(['generate', config, out], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8'))[0][1]).toMatchObject({ name: 'mlp', owner: 'alice' });
  });

  it('the tutorial passes; a key its MLP does not take is refused', () => {
    const dir = tmpDir();
    const config = tutorialConfig(dir);
    const out = path.join(dir, 'p.json');
    const r = cli(['generate', config, out], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    fs.rmSync(out);
    fs.writeFileSync(
      config,
      fs.readFileSync(config, 'utf8').replace('key = mlp_brick', 'key = mlp_brick\ndropout = 0.2'),
    );
    expectCleanFailure(
      cli(['generate', config, out], dir),
      /config\.ini:\d+ \[mlp_brick\] dropout: mlp_brick never reads it \(/,
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});
