/** mulberry32: the seeded PRNG behind every fault decision (no Math.random on fault paths). */
export class Prng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** A seed when none is given: from the clock and a counter (not from Math.random). */
let seedCounter = 0;
export function defaultSeed(): number {
  return (Date.now() * 1000 + process.pid * 7919 + ++seedCounter * 104729) >>> 0;
}
