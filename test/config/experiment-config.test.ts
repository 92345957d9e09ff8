import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, readConfigFile } from '../../src/config/load.js';
import { expandSweep } from '../../src/config/sweep.js';
import { typedValue, parseSize } from '../../src/config/values.js';
import { ConfigError } from '../../src/core/errors.js';
import { generatePipelines, pipelinesToJson, shortForm } from '../../src/pipelines/generate.js';
import { runFacts } from '../../src/pipelines/facts.js';
import { raceConfigError } from '../../src/config/race.js';
import { tmpDir } from '../support/helpers.js';

const TUTORIAL = path.resolve('examples/tutorial/config.ini');

const base = (extra = '', process = '') => `
[PROCESS]
epochs = 3
data_scheme = data
pipeline_scheme = model
loss_function = MSELoss
${process}
[MONITOR]
multiplicity = 1

[d]
type = data
class = D
path_to_class = ./d.ts
key = d
size = 10

[m]
type = model
class = M
path_to_class = ./m.ts
key = m_{width}
${extra}
`;

describe('sweeps', () => {
  it.each([
    ['{2-5}', ['2', '3', '4', '5']],
    ['a, b, c', ['a', 'b', 'c']],
    ['1, 2, {4-10}', ['1', '2', '4', '5', '6', '7', '8', '9', '10']],
    ['{4-6}, 1', ['4', '5', '6', '1']],
    ['{-2-1}', ['-2', '-1', '0', '1']],
    ['{3-3}', ['3']],
    ['relu', ['relu']],
    ['1e-2', ['1e-2']],
    // brackets that each item closes are strings a class may read
    ['[64]', ['[64]']],
    ['x[0], x[1]', ['x[0]', 'x[1]']],
  ])('%s', (value, expected) => {
    expect(expandSweep(value)).toEqual(expected);
  });

  it.each([['{5-2}'], ['{a-b}'], ['{1.5-3}'], ['1,,2'], ['{2-}']])('rejects %s', (value) => {
    expect(() => expandSweep(value)).toThrow();
  });

  it.each([['[1, 2, 3]'], ['1, 2, 3]'], ['[1, 2, 3'], ['[{2-4}, 8]'], ['16]']])(
    'rejects the brackets of %s, saying how a list is written',
    (value) => {
      expect(() => expandSweep(value)).toThrow(/^a list is written without brackets: [\d{}\-, ]+, not /);
    },
  );
});

describe('values', () => {
  it('turns numbers into numbers and keeps words', () => {
    expect(typedValue('3')).toBe(3);
    expect(typedValue('1e-2')).toBe(0.01);
    expect(typedValue('0.8')).toBe(0.8);
    expect(typedValue('True')).toBe(true);
    expect(typedValue('None')).toBe(null);
    expect(typedValue('relu')).toBe('relu');
    expect(typedValue('3abc')).toBe('3abc');
  });
  it('reads sizes', () => {
    expect(parseSize('1M')).toBe(1024 ** 2);
    expect(parseSize('500M')).toBe(500 * 1024 ** 2);
    expect(parseSize('2T')).toBe(2 * 1024 ** 4);
    expect(parseSize('12 parsecs')).toBeUndefined();
  });
});

describe('pipelines', () => {
  it('the tutorial gives exactly 24 pipelines, repeats in a row', () => {
    const config = readConfigFile(TUTORIAL);
    const pipelines = generatePipelines(config);
    expect(pipelines).toHaveLength(24);
    expect(shortForm(pipelines[0]!)).toBe('dataset_OR(1,200,0.8) | mlp_funnel(4,2)');
    expect(shortForm(pipelines[3]!)).toBe('dataset_OR(1,200,0.8) | mlp_funnel(4,2)');
    expect(shortForm(pipelines[4]!)).toBe('dataset_OR(1,200,0.8) | mlp_funnel(4,3)');
    expect(shortForm(pipelines[23]!)).toBe('dataset_OR(1,200,0.8) | mlp_brick(4,4)');
    expect(new Set(pipelines.map(shortForm)).size).toBe(6);
  });

  it('writes the original JSON shape: lists of module objects with name', () => {
    const json = pipelinesToJson(generatePipelines(readConfigFile(TUTORIAL))) as Record<string, string>[][];
    expect(json).toHaveLength(24);
    expect(json[0]![0]).toEqual({
      type: 'dataset',
      class: 'dataset_OR',
      path_to_class: './dataset.ts',
      key: 'data_dataset_OR',
      batch_size: '1',
      data_size: '200',
      train_prop: '0.8',
      name: 'dataset_OR',
    });
    expect(json[0]![1]!.key).toBe('mlp_funnel');
  });

  it('fills key templates with the section values', () => {
    const config = parseConfig(base('width = {2-4}'), '/x/c.ini');
    expect(generatePipelines(config).map((p) => p.modules[1]!.key)).toEqual(['m_2', 'm_3', 'm_4']);
  });

  it('expands ranges inside lists (the original did not)', () => {
    const config = parseConfig(base('width = 1, 2, {4-6}'), '/x/c.ini');
    expect(generatePipelines(config).map((p) => p.modules[1]!.width)).toEqual(['1', '2', '4', '5', '6']);
  });

  it('sweeps in [PROCESS] multiply the pipelines and show in JSON and short form', () => {
    const config = parseConfig(base('width = {2-3}', 'lr = 1e-2, 1e-3'), '/x/c.ini');
    const pipelines = generatePipelines(config);
    expect(pipelines).toHaveLength(4);
    expect(pipelines.map((p) => p.process.lr)).toEqual([0.01, 0.01, 0.001, 0.001]);
    expect(shortForm(pipelines[2]!)).toBe('[lr=1e-3] D(10) | M(2)');
    expect((pipelinesToJson(pipelines)[2] as object[])[0]).toEqual({ name: 'PROCESS', lr: '1e-3' });
  });

  it('multiplicity repeats each pipeline', () => {
    const config = parseConfig(base('width = {2-3}').replace('multiplicity = 1', 'multiplicity = 3'), '/x/c.ini');
    expect(generatePipelines(config).map((p) => p.modules[1]!.width)).toEqual(['2', '2', '2', '3', '3', '3']);
  });

  it('records the facts of the original params table', () => {
    const config = parseConfig(base('width = 5'), '/x/c.ini');
    const facts = Object.fromEntries(runFacts(generatePipelines(config)[0]!, 42));
    expect(facts).toMatchObject({
      epochs: '3',
      loss_function: 'MSELoss',
      data_key: 'd',
      model_key: 'm_5',
      D_size: '10',
      M_width: '5',
      seed: '42',
    });
    expect(JSON.parse(facts.pipeline!)).toHaveLength(2);
  });

  it('warns about a section of a type in no scheme', () => {
    const config = parseConfig(
      `${base('width = 5')}\n[extra]\ntype = other\nclass = X\npath_to_class = x.ts\nkey = x\n`,
      '/x/c.ini',
    );
    expect(config.warnings.join()).toMatch(/\[extra\].*type "other" is in neither/);
  });

  it('ignore_unread is no parameter; keys inherited from [DEFAULT] are known as such', () => {
    const config = parseConfig(
      `[DEFAULT]\nowner = alice\n${base('width = 2, 3\nnote = x\nignore_unread = Note, other')}`,
      '/x/c.ini',
    );
    const m = config.modules[1]!;
    expect(m.params.map((p) => p.key)).toEqual(['width', 'note', 'owner']);
    expect(m.ignoreUnread).toEqual(['note', 'other']);
    expect(m.inheritedKeys).toEqual(['owner']);
    expect(config.modules[0]!.inheritedKeys).toEqual(['owner']);
    expect(generatePipelines(config).map((p) => p.modules[1]!.ignore_unread)).toEqual([undefined, undefined]);
  });

  it('resolves path_to_class and run_files_path against the config folder', () => {
    const config = parseConfig(base('width = 5'), '/x/y/c.ini');
    expect(config.modules[1]!.absolutePathToClass).toBe('/x/y/m.ts');
    expect(config.processVariants[0]!.run_files_path).toBe('/x/y/.runs');
  });
});

describe('[MONITOR] paired', () => {
  it('is False by default and read as a boolean', () => {
    expect(parseConfig(base('width = 1'), 'c.ini').monitor.paired).toBe(false);
    expect(
      parseConfig(base('width = 1').replace('multiplicity = 1', 'multiplicity = 3\npaired = True'), 'c.ini').monitor
        .paired,
    ).toBe(true);
  });
});

describe('config errors name file, line, section and key', () => {
  const expectError = (text: string, message: RegExp) => {
    expect(() => parseConfig(text, 'c.ini')).toThrow(ConfigError);
    expect(() => parseConfig(text, 'c.ini')).toThrow(message);
  };
  it.each([
    ['missing MONITOR', base('width = 1').replace('[MONITOR]', '[MONITORS]'), /^c\.ini: missing section \[MONITOR\]$/],
    ['missing epochs', base('width = 1').replace('epochs = 3', ''), /c\.ini:2 \[PROCESS\]: missing key "epochs"/],
    ['no loss', base('width = 1').replace('loss_function = MSELoss', ''), /\[PROCESS\]: missing key "loss_function"/],
    ['bad range', base('width = {5-2}'), /c\.ini:23 \[m\] width: range "\{5-2\}" is empty/],
    ['bad letters range', base('width = {a-b}'), /c\.ini:23 \[m\] width: "\{a-b\}" is not a range/],
    [
      'non-numeric epochs',
      base('width = 1').replace('epochs = 3', 'epochs = many'),
      /c\.ini:3 \[PROCESS\] epochs: must be a positive integer, found "many"/,
    ],
    [
      'unknown loss',
      base('width = 1').replace('MSELoss', 'MSELos'),
      /c\.ini:6 \[PROCESS\] loss_function: unknown loss; known: MSELoss/,
    ],
    [
      'unknown optimizer',
      base('width = 1', 'optimizer = adamw'),
      /\[PROCESS\] optimizer: unknown optimizer; known: adam, sgd/,
    ],
    [
      'bad lr in a sweep',
      base('width = 1', 'lr = 1e-2, fast'),
      /\[PROCESS\] lr: must be a positive number, found "fast"/,
    ],
    [
      'unknown scheme type',
      base('width = 1').replace('pipeline_scheme = model', 'pipeline_scheme = modle'),
      /c\.ini:5 \[PROCESS\] pipeline_scheme: no section has type = modle/,
    ],
    ['missing class', base('width = 1').replace('class = M\n', ''), /c\.ini:\d+ \[m\]: missing key "class"/],
    [
      'bad template',
      base('width = 1').replace('key = m_{width}', 'key = m_{depth}'),
      /\[m\] key: template "\{depth\}" names no key/,
    ],
    [
      'bad need_gpu',
      base('width = 1').replace('multiplicity = 1', 'need_gpu = maybe'),
      /\[MONITOR\] need_gpu: must be True or False/,
    ],
    [
      'gpu without devices',
      base('width = 1').replace('multiplicity = 1', 'need_gpu = True'),
      /gpu_available lists no device/,
    ],
    [
      'bad cache size',
      base('width = 1').replace('multiplicity = 1', 'cache_size = lots'),
      /\[MONITOR\] cache_size: must be a size/,
    ],
    [
      'a Python list in a class section',
      base('width = [1, 2, 3, 4, 6, 8, 12, 16]'),
      /^c\.ini:23 \[m\] width: a list is written without brackets: 1, 2, 3, 4, 6, 8, 12, 16, not \[1, 2, 3, 4, 6, 8, 12, 16\]$/,
    ],
    [
      'a Python list in [PROCESS]',
      base('width = 1', 'lr = [1e-2, 1e-3]'),
      /^c\.ini:7 \[PROCESS\] lr: a list is written without brackets: 1e-2, 1e-3, not \[1e-2, 1e-3\]$/,
    ],
    [
      'bad paired',
      base('width = 1').replace('multiplicity = 1', 'multiplicity = 2\npaired = yes please'),
      /c\.ini:10 \[MONITOR\] paired: must be True or False, found "yes please"/,
    ],
  ])('%s', (_, text, message) => expectError(text, message));
});

describe('[MONITOR] multiplicity = auto (a race)', () => {
  const race = (keys: string) => base('width = 1, 2').replace('multiplicity = 1', `multiplicity = auto\n${keys}`);

  it('reads the race with its defaults: min_repeats repeats queued first, paired', () => {
    const config = parseConfig(race(''), 'c.ini');
    expect(config.monitor.race).toEqual({ minRepeats: 3, maxRepeats: 20, alpha: 0.05, criterion: 'test_loss' });
    expect(config.monitor.multiplicity).toBe(3);
    expect(config.monitor.paired).toBe(true);
    expect(generatePipelines(config)).toHaveLength(6);
  });

  it('reads every key, and paired = False', () => {
    const config = parseConfig(
      race(
        'min_repeats = 4\nmax_repeats = 9\nmax_runs = 50\nalpha = 0.1\nrace_rope = 0.02\nrace_criterion = test_acc\npaired = False',
      ),
      'c.ini',
    );
    expect(config.monitor.race).toEqual({
      minRepeats: 4,
      maxRepeats: 9,
      maxRuns: 50,
      alpha: 0.1,
      rope: 0.02,
      criterion: 'test_acc',
    });
    expect(config.monitor).toMatchObject({ multiplicity: 4, paired: false });
  });

  it.each([
    [
      'min_repeats below 2',
      'min_repeats = 1',
      /^c\.ini:10 \[MONITOR\] min_repeats: min_repeats must be an integer of at least 2/,
    ],
    [
      'max_repeats below min_repeats',
      'min_repeats = 5\nmax_repeats = 4',
      /^c\.ini:11 \[MONITOR\] max_repeats: max_repeats \(4\) must be at least min_repeats \(5\)$/,
    ],
    ['alpha out of range', 'alpha = 1.5', /^c\.ini:10 \[MONITOR\] alpha: alpha must be a number between 0 and 1/],
    [
      'a word for a number',
      'max_repeats = many',
      /^c\.ini:10 \[MONITOR\] max_repeats: must be an integer, found "many"$/,
    ],
    ['a negative rope', 'race_rope = -1', /^c\.ini:10 \[MONITOR\] race_rope: must be a positive number/],
  ])('refuses %s in one line naming the key', (_, keys, message) => {
    expect(() => parseConfig(race(keys), 'c.ini')).toThrow(ConfigError);
    expect(() => parseConfig(race(keys), 'c.ini')).toThrow(message);
  });

  it('refuses a race key without multiplicity = auto, which would be ignored', () => {
    const text = base('width = 1').replace('multiplicity = 1', 'multiplicity = 3\nmax_repeats = 10');
    expect(() => parseConfig(text, 'c.ini')).toThrow(
      /^c\.ini:10 \[MONITOR\] max_repeats: max_repeats is a setting of a race, read only with multiplicity = auto \(multiplicity is 3\)$/,
    );
  });

  it('refuses a criterion that is no result field and that no class file names, before anything is queued', () => {
    const dir = tmpDir('mosaic-race-config-');
    fs.writeFileSync(path.join(dir, 'm.ts'), "export class M { epochEnd(info) { info.log('f1', 1, 'higher'); } }\n");
    fs.writeFileSync(path.join(dir, 'd.ts'), 'export class D {}\n');
    const file = path.join(dir, 'c.ini');
    const at = (criterion: string, maxRuns = '') =>
      raceConfigError(parseConfig(race(`race_criterion = ${criterion}\n${maxRuns}`), file), 2);
    expect(at('test_loss')).toBeUndefined();
    expect(at('f1')).toBeUndefined();
    expect(at('f2')).toMatch(
      /^race_criterion "f2" does not exist; valid: train_loss, .*, and no class file of this experiment names a metric "f2"/,
    );
    expect(at('test_loss', 'max_runs = 5')).toBe(
      'max_runs (5) is less than the first round needs: 2 configurations × min_repeats 3 = 6 runs',
    );
  });
});
