import seedrandom from 'seedrandom';

/** A seeded generator of floats in [0, 1): the same seed gives the same sequence. */
export type Random = () => number;

export function seededRandom(seed: number | string): Random {
  const rng = seedrandom(String(seed));
  return () => rng.quick();
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
