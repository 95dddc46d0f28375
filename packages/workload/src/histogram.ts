// A log-linear latency histogram (HDR-like): values in nanoseconds, 2^SUB_BITS linear sub-buckets per
// power of two, so any recorded value is off by at most 1/2^SUB_BITS of itself. Recording allocates
// nothing; percentiles come out in fio's shape ("99.000000": ns).

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 44; // 2^44 ns ≈ 4.9 hours: anything longer lands in the last bucket

/** fio's default completion-latency percentile list. */
export const FIO_PERCENTILES: readonly number[] = Object.freeze([
  1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
]);

export class LatencyHistogram {
  private readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  private sum = 0;

  /** Records one latency in nanoseconds (negative values count as 0). */
  record(ns: number): void {
    const v = ns > 0 ? Math.floor(ns) : 0;
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  /** The value at percentile p (0 < p ≤ 100): the upper edge of the bucket holding it, capped at max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.max);
    }
    return this.max;
  }

  /** fio's `clat_ns.percentile` object: keys like "99.900000". */
  fioPercentiles(list: readonly number[] = FIO_PERCENTILES): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of list) out[p.toFixed(6)] = this.percentile(p);
    return out;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Number.POSITIVE_INFINITY;
    this.max = 0;
  }
}

function bucketOf(v: number): number {
  if (v < SUB) return v;
  if (v < 0x8000_0000) {
    // Below 2^31 ns (2.1 s, every I/O latency in practice): integer bit arithmetic, no log2.
    const e = 31 - Math.clz32(v);
    return (e - SUB_BITS + 1) * SUB + (v >>> (e - SUB_BITS)) - SUB;
  }
  const exp = Math.min(MAX_EXP, Math.floor(Math.log2(v)));
  if (exp >= MAX_EXP) return (MAX_EXP + 1) * SUB - 1;
  // v in [2^exp, 2^(exp+1)): SUB sub-buckets of width 2^(exp-SUB_BITS)
  const sub = Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB;
  return (exp - SUB_BITS + 1) * SUB + sub;
}

function upperEdge(i: number): number {
  if (i < SUB) return i;
  const exp = Math.floor(i / SUB) + SUB_BITS - 1;
  const sub = i % SUB;
  return (SUB + sub + 1) * 2 ** (exp - SUB_BITS) - 1;
}
