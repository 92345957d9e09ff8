import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accuracyFn, chooseAccuracyRule } from '../../src/engine/run/accuracy.js';
import { constructorParams, MissingParameterError, recordingReads } from '../../src/engine/chain/inject.js';
import { closestName } from '../../src/engine/preflight/unread-keys.js';
import { builtinLoss } from '../../src/engine/chain/loss.js';
import { curveMetrics } from '../../src/engine/run/metrics.js';
import { lossKind } from '../../src/core/names.js';
import { trainTestBatches } from '../../src/user/batches.js';

describe('final metrics', () => {
  it('follow the definitions of SPEC.md on a hand-computed curve', () => {
    const train = [...Array.from({ length: 27 }, (_, i) => 3 - 0.05 * i), 1.0, 0.9, 0.7];
    const test = [...Array(29).fill(2), 1.2];
    const m = curveMetrics(train, test);
    expect(m.overfit).toBeCloseTo(0.5 / 2.3, 12);
    expect(m.trainability).toBeCloseTo(59.2 / 30, 12);
    // last 10% of 30 epochs = 3 points: changes -0.1 and -0.2
    expect(m.slope).toBeCloseTo(-0.15, 12);
    expect(m.slope_std_plus).toBeCloseTo(0.05, 12);
    expect(m.slope_std_minus).toBeCloseTo(0.05, 12);
  });

  it('use at least two epochs for the slope and are 0 on flat curves', () => {
    expect(curveMetrics([1, 0.5], [1, 1]).slope).toBeCloseTo(-0.5);
    expect(curveMetrics([1, 1, 1], [1, 1, 1])).toEqual({
      overfit: 0,
      trainability: 1,
      slope: 0,
      slope_std_plus: 0,
      slope_std_minus: 0,
    });
    expect(curveMetrics([2], [3]).slope).toBe(0);
  });
});

describe('losses by name', () => {
  const value = (name: string, p: number[][], t: number[][] | number[]) =>
    builtinLoss(lossKind(name)!)(tf.tensor(p), tf.tensor(t)).dataSync()[0]!;
  it('MSELoss, L1Loss, BCELoss, CrossEntropyLoss give textbook values', () => {
    expect(value('MSELoss', [[1], [2]], [[0], [0]])).toBeCloseTo(2.5, 6);
    expect(value('meanSquaredError', [[1], [2]], [[0], [0]])).toBeCloseTo(2.5, 6);
    expect(value('L1Loss', [[1], [-3]], [[0], [0]])).toBeCloseTo(2, 6);
    expect(value('BCELoss', [[0.8]], [[1]])).toBeCloseTo(-Math.log(0.8), 5);
    // softmax cross-entropy of logits [1,2,3] with class 2: log(e + e^2 + e^3) - 3
    expect(value('CrossEntropyLoss', [[1, 2, 3]], [2])).toBeCloseTo(
      Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3,
      5,
    );
    expect(value('CrossEntropyLoss', [[1, 2, 3]], [[0, 0, 1]])).toBeCloseTo(
      Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3,
      5,
    );
  });
  it('accept PyTorch, TF.js and Keras spellings', () => {
    for (const n of ['MSELoss', 'mse', 'meanSquaredError', 'mean_squared_error']) expect(lossKind(n)).toBe('mse');
    expect(lossKind('MSELos')).toBeUndefined();
  });
});

describe('accuracy rule', () => {
  const acc = (rule: ReturnType<typeof chooseAccuracyRule>, p: number[][], t: number[][] | number[]) => {
    const r = accuracyFn(rule)!(tf.tensor(p), tf.tensor(t));
    return r.correct.dataSync()[0]! / r.total;
  };
  it('binary 0/1 targets: threshold 0.5 on probabilities', () => {
    const rule = chooseAccuracyRule([tf.tensor([[0], [1], [1]])], false, false);
    expect(rule).toEqual({ kind: 'binary', threshold: 0.5 });
    expect(acc(rule, [[0.2], [0.7], [0.4]], [[0], [1], [1]])).toBeCloseTo(2 / 3);
  });
  it('binary targets with a logits loss: threshold 0', () => {
    expect(chooseAccuracyRule([tf.tensor([[0], [1]])], false, true)).toEqual({ kind: 'binary', threshold: 0 });
  });
  it('one-hot targets and classification losses: argmax', () => {
    const rule = chooseAccuracyRule(
      [
        tf.tensor([
          [0, 1, 0],
          [1, 0, 0],
        ]),
      ],
      false,
      false,
    );
    expect(rule).toEqual({ kind: 'argmax' });
    expect(
      acc(
        rule,
        [
          [0.1, 0.8, 0.1],
          [0.2, 0.7, 0.1],
        ],
        [
          [0, 1, 0],
          [1, 0, 0],
        ],
      ),
    ).toBe(0.5);
    expect(
      acc(
        { kind: 'argmax' },
        [
          [3, 1],
          [0, 2],
          [5, 1],
        ],
        [0, 1, 1],
      ),
    ).toBeCloseTo(2 / 3);
  });
  it('real-valued targets: none', () => {
    expect(chooseAccuracyRule([tf.tensor([[0.3], [1.7]])], false, false)).toEqual({ kind: 'none' });
    expect(accuracyFn({ kind: 'none' })).toBeUndefined();
  });
});

describe('constructor parameters by name', () => {
  it('come from the section, then run_info, then defaults', () => {
    const p = constructorParams('M', 'm', { width: 3 }, { width: 99, input_size: 2 }, { activation: 'relu' });
    expect([p.width, p.input_size, p.activation]).toEqual([3, 2, 'relu']);
    expect('width' in p).toBe(true);
  });
  it('a missing one names class, parameter and the places looked', () => {
    const p = constructorParams('mlp_funnel', 'mlp_funnel', { width: 3 }, { input_size: 2 });
    expect(() => p.length).toThrow(MissingParameterError);
    expect(() => p.length).toThrow(
      /mlp_funnel: required parameter "length" not found: not a key of config section \[mlp_funnel\], not in run_info \(which has: input_size\)/,
    );
    expect(() => p.length).toThrow(expect.objectContaining({ parameter: 'length', section: 'mlp_funnel' }));
  });
  it('with a set, record every name read, tested or enumerated, for as long as the object is kept', () => {
    const reads = new Set<string>();
    const p = constructorParams(
      'M',
      'm',
      { width: 3, dropout: 0.1 },
      { seed: 1, epochs: 2 },
      { activation: 'relu' },
      reads,
    );
    void p.width;
    void ('activation' in p);
    void ('missing' in p);
    expect(() => p.depth).toThrow(MissingParameterError);
    void p.toString;
    expect([...reads]).toEqual(['width', 'activation', 'missing', 'depth']);
    void { ...p };
    expect(reads).toEqual(new Set(['width', 'activation', 'missing', 'depth', 'dropout', 'seed', 'epochs']));
    const infoReads = new Set<string>();
    const info = recordingReads<Record<string, unknown>>({ name: 'm', width: 3 }, infoReads);
    expect([info.width, info.nothing]).toEqual([3, undefined]);
    expect([...infoReads]).toEqual(['width', 'nothing']);
  });
});

describe('the closest name, for "did you mean"', () => {
  it.each([
    ['dropuot', ['width', 'dropout', 'seed'], 'dropout'],
    ['lenght', ['length', 'input_size'], 'length'],
    ['batchsize', ['batch_size'], 'batch_size'],
    ['hidden', ['hiddenSize'], undefined],
    ['colour', ['width', 'seed', 'dropout'], undefined],
    ['lr', ['l2', 'lr_decay'], 'l2'],
    ['widht', ['width', 'widths'], 'width'],
  ])('%s among %j: %s', (key, names, expected) => expect(closestName(key, names)).toBe(expected));
});

describe('trainTestBatches', () => {
  it('splits, batches, drops the last short batch and is reproducible with a seed', () => {
    const x = Array.from({ length: 23 }, (_, i) => [i, -i]);
    const y = x.map(([a]) => a! % 2);
    const a = trainTestBatches(x, y, { batchSize: 4, trainProportion: 0.8, seed: 7, dropLast: true });
    const b = trainTestBatches(x, y, { batchSize: 4, trainProportion: 0.8, seed: 7, dropLast: true });
    expect(a.train).toHaveLength(4); // 18 train samples → 4 full batches
    expect(a.test).toHaveLength(1); // 5 test samples → 1 full batch
    expect(a.train[0]!.x.shape).toEqual([4, 2]);
    expect(a.train[0]!.y.shape).toEqual([4, 1]);
    expect(a.train[0]!.x.arraySync()).toEqual(b.train[0]!.x.arraySync());
    const c = trainTestBatches(x, y, { batchSize: 4, seed: 8 });
    expect(c.train[0]!.x.arraySync()).not.toEqual(a.train[0]!.x.arraySync());
    expect(c.test.map((t) => t.x.shape[0])).toEqual([4, 1]);
  });
});
