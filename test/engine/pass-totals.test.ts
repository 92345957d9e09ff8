import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/tfjs/backends.js';
import type { AccuracyRule } from '../../src/engine/run/accuracy.js';
import { type PassTotals, passTotals } from '../../src/engine/run/pass-totals.js';

// The sums of a pass read back at each batch (cpu, wasm) must give the numbers the device's sums
// give, bit for bit: the same float32 loss, the same right decisions (ties, NaN, class indices,
// shapes that broadcast).

interface Batch {
  prediction: number[];
  predictionShape: number[];
  target: number[];
  targetShape: number[];
  cost: number[];
  costShape: number[];
}

/** A small generator, so that the cases are the same on every run. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Predictions with ties (values from a few levels) and a NaN now and then. */
function values(next: () => number, n: number, nan = 0.05): number[] {
  return Array.from({ length: n }, () => (next() < nan ? Number.NaN : Math.floor(next() * 4) / 4 - 0.3));
}

function batches(kind: 'one-hot' | 'index' | 'index-column' | 'binary' | 'broadcast', seed: number): Batch[] {
  const next = generator(seed);
  return Array.from({ length: 7 }, (_, i) => {
    const rows = 5 + i;
    const classes = kind === 'binary' || kind === 'broadcast' ? 1 : 4;
    const prediction = values(next, rows * classes);
    const cost = i % 2 === 0 ? [next() * 3 + 1e-3] : Array.from({ length: rows }, () => next() / 7);
    const costShape = cost.length === 1 ? [] : [rows];
    const base = { prediction, predictionShape: [rows, classes], cost, costShape };
    switch (kind) {
      case 'one-hot': {
        const target = Array.from({ length: rows * classes }, () => 0);
        for (let r = 0; r < rows; r++) target[r * classes + Math.floor(next() * classes)] = 1;
        return { ...base, target, targetShape: [rows, classes] };
      }
      case 'index':
      case 'index-column':
        // integers, and values toInt truncates (2.7 → 2, −0.5 → 0)
        return {
          ...base,
          target: Array.from({ length: rows }, () => (next() < 0.2 ? next() * 4 - 0.5 : Math.floor(next() * 4))),
          targetShape: kind === 'index' ? [rows] : [rows, 1],
        };
      case 'binary':
        return { ...base, target: Array.from({ length: rows }, () => Math.round(next())), targetShape: [rows, 1] };
      default: // broadcast: [rows, 1] against [rows]
        return { ...base, target: Array.from({ length: rows }, () => Math.round(next())), targetShape: [rows] };
    }
  });
}

function pass(totals: PassTotals, data: Batch[]) {
  for (const b of data) {
    const [p, t, cost] = [
      tf.tensor(b.prediction, b.predictionShape),
      tf.tensor(b.target, b.targetShape),
      tf.tensor(b.cost, b.costShape),
    ];
    totals.addDecisions(p, t);
    totals.addLoss(cost);
    tf.dispose([p, t, cost]);
  }
  return totals.read();
}

const CASES: [string, AccuracyRule, Parameters<typeof batches>[0]][] = [
  ['argmax, one-hot targets', { kind: 'argmax' }, 'one-hot'],
  ['argmax, class indices', { kind: 'argmax' }, 'index'],
  ['argmax, class indices in a column', { kind: 'argmax' }, 'index-column'],
  ['threshold 0.5', { kind: 'binary', threshold: 0.5 }, 'binary'],
  ['threshold 0', { kind: 'binary', threshold: 0 }, 'binary'],
  ['threshold, shapes that broadcast', { kind: 'binary', threshold: 0 }, 'broadcast'],
  ['no accuracy', { kind: 'none' }, 'one-hot'],
];

describe.each(['cpu', 'wasm'] as const)('the sums of a pass on %s', (backend) => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(CASES)('read back at each batch equal the device sums: %s', async (_, rule, kind) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    for (const seed of [1, 2, 3]) {
      const data = batches(kind, seed);
      const host = await pass(passTotals(rule, backend), data);
      const device = await pass(passTotals(rule, 'webgl'), data);
      expect(host).toEqual(device);
      expect(Object.is(host.loss, device.loss)).toBe(true);
      if (rule.kind === 'none') expect(host.accuracy).toBeNull();
      else expect(host.accuracy).toBeGreaterThan(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('targets counted again, pass after pass (their answers remembered), count as the device counts them', async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    /** Passes over the same target tensors with new predictions, read back and on the device. */
    const passes = async (rule: AccuracyRule, data: Batch[], targets: tf.Tensor[], classes?: number) => {
      for (const seed of [5, 6, 7]) {
        const next = generator(seed);
        const [host, device] = [passTotals(rule, backend), passTotals(rule, 'webgl')];
        for (const [i, b] of data.entries()) {
          const shape = classes ? [b.predictionShape[0]!, classes] : b.predictionShape;
          const p = tf.tensor(values(next, shape[0]! * shape[1]!), shape);
          for (const totals of [host, device]) totals.addDecisions(p, targets[i]!);
          p.dispose();
        }
        const [h, d] = [await host.read(), await device.read()];
        expect(h).toEqual(d);
        expect(h.accuracy).toBeGreaterThan(0);
      }
    };
    for (const [, rule, kind] of CASES.filter(([, r]) => r.kind !== 'none')) {
      const data = batches(kind, 4);
      const targets = data.map((b) => tf.tensor(b.target, b.targetShape));
      await passes(rule, data, targets);
      tf.dispose(targets);
    }
    // The same column of targets (2.7, −0.5, 3…) under a threshold, then as class indices of 4 classes.
    const data = batches('index-column', 8);
    const targets = data.map((b) => tf.tensor(b.target, b.targetShape));
    await passes({ kind: 'binary', threshold: 0.5 }, data, targets, 1);
    await passes({ kind: 'argmax' }, data, targets, 4);
    tf.dispose(targets);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the loss is float32 sums, not float64', async () => {
    await useBackend(backend);
    const data = batches('one-hot', 9).map((b) => ({ ...b, cost: [0.1], costShape: [] }));
    const { loss } = await pass(passTotals({ kind: 'none' }, backend), data);
    let sum = 0;
    for (let i = 0; i < data.length; i++) sum = Math.fround(sum + Math.fround(0.1));
    expect(loss).toBe(sum / data.length);
    expect(loss).not.toBe((0.1 * data.length) / data.length);
  });
});
