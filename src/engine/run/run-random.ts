import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunRandom } from '../../user/random.js';

/**
 * `Math.random` while a run's own code runs (building its chain, its epochs, its hooks) draws from
 * the run's generator (`runInfo.random`): TF.js seeds every unseeded draw — dropout masks,
 * `tf.random*` and initialisers without a `seed` — with `Math.random()`, and so does user code
 * that shuffles or augments with it. The generator is found through the async context rather than
 * set for the whole process: what the worker does between a run's awaits (heartbeats, the
 * database's retries with jitter) keeps the process's own generator and takes nothing from the
 * run's sequence, and a run's draws do not depend on the timing of the rest.
 */
const current = new AsyncLocalStorage<RunRandom>();
let active = 0;
let processRandom: () => number = Math.random;

function contextRandom(): number {
  const random = current.getStore();
  return random ? random.next() : processRandom();
}

/** Runs `work` with `Math.random` drawing from `random`; the process's `Math.random` is back once no run's work is under way. */
export async function withRunRandom<T>(random: RunRandom, work: () => Promise<T> | T): Promise<T> {
  if (active++ === 0) {
    processRandom = Math.random;
    Math.random = contextRandom;
  }
  try {
    return await current.run(random, work);
  } finally {
    if (--active === 0) {
      Math.random = processRandom;
      // Async hooks cost a little on every promise: off while no run needs them.
      current.disable();
    }
  }
}
