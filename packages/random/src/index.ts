// @xensim/random: the one seeded PRNG of xensim (mulberry32, 32-bit state), pure. Every fault
// decision, schedule, store model and job draws from it with a seed that is printed, so a run can
// be repeated; nothing on those paths uses Math.random.

/** What a consumer of randomness needs: uniform in [0, 1). */
export interface Rng {
  next(): number;
}

export class Mulberry32 implements Rng {
  readonly seed: number;
  private state: number;
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.state = this.seed;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The seed of schedule `k` (0-based) of a run with base seed `seed`: k = 0 is the seed itself. */
export function deriveSeed(seed: number, k: number): number {
  if (k === 0) return seed >>> 0;
  let h = (seed ^ Math.imul(k, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
