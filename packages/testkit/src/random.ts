import { Mulberry32 } from "@xensim/random";

/** Reproducible sequences for tests and fault schedules, drawn from @xensim/random's mulberry32. */
export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Uniform integer in [min, max] (inclusive). */
  range(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[];
}

export function seededRandom(seed: number): SeededRandom {
  const rng = new Mulberry32(seed);
  const s0 = rng.seed;
  const next = (): number => rng.next();
  const int = (n: number): number => Math.floor(next() * n);
  return {
    seed: s0,
    next,
    int,
    range: (min, max) => min + int(max - min + 1),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[int(items.length)] as T;
    },
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = int(i + 1);
        const tmp = items[i] as T;
        items[i] = items[j] as T;
        items[j] = tmp;
      }
      return items;
    },
  };
}

/** A seed for a test run: XENSIM_SEED if set, else derived from the clock. Print it on failure. */
export function testSeed(): number {
  const env = process.env.XENSIM_SEED;
  if (env !== undefined && env !== "") return Number(env) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}
