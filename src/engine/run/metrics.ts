import type { EpochRecord } from '../../core/run-records.js';
import type { RunResults } from '../../core/result-fields.js';

export interface CurveMetrics {
  overfit: number;
  trainability: number;
  slope: number;
  slope_std_plus: number;
  slope_std_minus: number;
}

/**
 * The end-of-run figures of SPEC.md, from the train and test loss curves:
 * - overfit = |test − train| at the last epoch ÷ (max − min over both curves), 0 when flat;
 * - trainability = mean of the test-loss curve;
 * - slope = mean epoch-to-epoch change of the train loss over the last 10% of epochs (at least
 *   two epochs, so one change); slope_std_plus / slope_std_minus = root mean square distance to
 *   that mean of the changes above / below it (0 when there are none).
 */
export function curveMetrics(train: number[], test: number[]): CurveMetrics {
  const n = train.length;
  if (n === 0 || test.length !== n) throw new Error(`curveMetrics: curves of ${n} and ${test.length} points`);
  const all = [...train, ...test];
  const range = Math.max(...all) - Math.min(...all);
  const overfit = range > 0 ? Math.abs(test[n - 1]! - train[n - 1]!) / range : 0;
  const trainability = test.reduce((a, b) => a + b, 0) / n;

  const window = Math.min(n, Math.max(2, Math.ceil(0.1 * n)));
  const tail = train.slice(n - window);
  const changes = tail.slice(1).map((v, i) => v - tail[i]!);
  if (changes.length === 0) return { overfit, trainability, slope: 0, slope_std_plus: 0, slope_std_minus: 0 };
  const slope = changes.reduce((a, b) => a + b, 0) / changes.length;
  const spread = (side: number[]) =>
    side.length ? Math.sqrt(side.reduce((a, d) => a + (d - slope) ** 2, 0) / side.length) : 0;
  return {
    overfit,
    trainability,
    slope,
    slope_std_plus: spread(changes.filter((d) => d > slope)),
    slope_std_minus: spread(changes.filter((d) => d < slope)),
  };
}

/**
 * The best epoch on the test loss, as early stopping sees it: an epoch improves when its test loss
 * is below the best so far by more than `minDelta` (with 0: the lowest loss, the first on ties);
 * `waited` counts the epochs since. Replayed over the whole history, so a continued run (resume
 * after a crash, rerun) stops exactly where an uninterrupted one would.
 */
export function bestEpoch(history: EpochRecord[], minDelta = 0): { epoch: number; testLoss: number; waited: number } {
  let best = { epoch: 0, testLoss: Infinity };
  let waited = 0;
  for (const e of history) {
    if (e.test_loss < best.testLoss - minDelta) {
      best = { epoch: e.epoch, testLoss: e.test_loss };
      waited = 0;
    } else {
      waited++;
    }
  }
  return { ...best, waited };
}

export function runResults(history: EpochRecord[], nbParams: number, minDelta = 0): RunResults {
  const last = history[history.length - 1]!;
  const best = bestEpoch(history, minDelta);
  return {
    best_test_loss: best.testLoss,
    best_epoch: best.epoch,
    train_loss: last.train_loss,
    test_loss: last.test_loss,
    train_acc: last.train_acc,
    test_acc: last.test_acc,
    nb_params: nbParams,
    duration_s: history.reduce((a, e) => a + e.duration_s, 0),
    epochs: history.length,
    ...curveMetrics(
      history.map((e) => e.train_loss),
      history.map((e) => e.test_loss),
    ),
  };
}
