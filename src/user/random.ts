import seedrandom from 'seedrandom';

/** A seeded generator of floats in [0, 1): the same seed gives the same sequence. */
export type Random = () => number;

export function seededRandom(seed: number | string): Random {
  const rng = seedrandom(String(seed));
  return () => rng.quick();
}

/** The state of a `RunRandom`: alea's four numbers, written in a checkpoint's JSON header. */
export interface RandomState {
  c: number;
  s0: number;
  s1: number;
  s2: number;
}

/**
 * A run's generator (`runInfo.random`, and `Math.random` while the run's code runs): seedrandom's
 * alea seeded with the run's seed, whose state can be saved and restored, so that a run continued
 * from a checkpoint draws what it would have drawn without stopping.
 */
export class RunRandom {
  private prng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;

  constructor(seed: number) {
    this.prng = seedrandom.alea(String(seed), { state: true });
  }

  /** A float in [0, 1) (32 random bits). */
  next = (): number => this.prng();

  state(): RandomState {
    return this.prng.state() as RandomState;
  }

  restore(state: RandomState): void {
    this.prng = seedrandom.alea('', { state });
  }
}

/** Whether `value` (read from a file) is a `RandomState`. */
export function isRandomState(value: unknown): value is RandomState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['c', 's0', 's1', 's2'].every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]));
}

/** Fisher–Yates shuffle of a copy. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A seed for a tf initialiser, derived from the run's seed and a counter (one per layer). */
export function derivedSeed(seed: number, index: number): number {
  return Math.floor(seededRandom(`${seed}:${index}`)() * 2 ** 31);
}
