// Per-ring counters and a latency histogram, plain numbers the service exports as Prometheus
// metrics at scrape time (the package itself reads no clock: latencies come from the injected one).

/** Upper bounds (seconds) of the latency buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
]);

/** A fixed-bucket histogram in Prometheus' shape (cumulative on export). */
export class LatencyHistogram {
  readonly bounds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; counts[bounds.length]: above the last. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    this.bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && seconds > b[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Cumulative counts per bound (le), as Prometheus exposes them; the last entry is +Inf. */
  cumulative(): number[] {
    const out: number[] = [];
    let acc = 0;
    for (const c of this.counts) {
      acc += c;
      out.push(acc);
    }
    return out;
  }
}

/** One ring's (one queue's) statistics. */
export class RingStats {
  /** Requests consumed and not yet answered. */
  outstanding = 0;
  /** Most requests outstanding at once. */
  maxOutstanding = 0;
  /** Requests consumed from the ring. */
  requests = 0;
  /** Responses pushed (every consumed request gets exactly one). */
  responses = 0;
  /** Responses with BLKIF_RSP_OKAY for read/write/flush/barrier/discard. */
  completed = 0;
  /** Responses with BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP. */
  errors = 0;
  /** Pushes that required a notification (an event was sent) and those the frontend did not need. */
  notificationsSent = 0;
  notificationsSuppressed = 0;
  /** Events received for this ring. */
  eventsReceived = 0;
  readSectors = 0;
  writeSectors = 0;
  /** Persistent grants currently mapped. */
  persistentGrants = 0;
  /** Data and indirect grants mapped / unmapped (not counting persistent reuse). */
  grantsMapped = 0;
  grantsUnmapped = 0;
  persistentHits = 0;
  readonly latency = new LatencyHistogram();
}

/** RingStats' counters, in the order of a shared mirror (RingStatsMirror). */
export const RING_STATS_COUNTERS = Object.freeze([
  "outstanding",
  "maxOutstanding",
  "requests",
  "responses",
  "completed",
  "errors",
  "notificationsSent",
  "notificationsSuppressed",
  "eventsReceived",
  "readSectors",
  "writeSectors",
  "persistentGrants",
  "grantsMapped",
  "grantsUnmapped",
  "persistentHits",
] as const satisfies readonly (keyof RingStats)[]);

/** Counters that are levels (copied as they are), not totals (added as deltas). */
const LEVELS: ReadonlySet<string> = new Set(["outstanding", "maxOutstanding", "persistentGrants"]);

/**
 * A ring's statistics in a shared Float64Array, for a ring served on another thread (a blkback
 * thread per queue): the serving thread `publish`es its RingStats (plain stores, no lock: a reader
 * may see one counter a batch older than another, as a scrape of Linux's per-ring sysfs counters
 * does), the service's thread `collect`s the changes into its own RingStats — totals as deltas, so
 * the service's counters stay monotonic across reconnects, levels as they are.
 */
export class RingStatsMirror {
  static readonly words = RING_STATS_COUNTERS.length + 3 + LATENCY_BUCKETS_SECONDS.length + 1;
  readonly f64: Float64Array;
  private readonly seen: Float64Array;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(RingStatsMirror.words * 8)) {
    this.f64 = new Float64Array(buffer);
    this.seen = new Float64Array(RingStatsMirror.words);
  }

  get buffer(): SharedArrayBuffer {
    return this.f64.buffer as SharedArrayBuffer;
  }

  /** The serving thread: its counters and latency buckets into the shared words. */
  publish(s: RingStats): void {
    const f = this.f64;
    let i = 0;
    for (const k of RING_STATS_COUNTERS) f[i++] = s[k];
    f[i++] = s.latency.sum;
    f[i++] = s.latency.count;
    i++;
    for (const c of s.latency.counts) f[i++] = c;
  }

  /** The service's thread: what changed since the last collect, into `into`. */
  collect(into: RingStats): void {
    const f = this.f64;
    const seen = this.seen;
    let i = 0;
    for (const k of RING_STATS_COUNTERS) {
      const v = f[i]!;
      if (LEVELS.has(k)) into[k] = v;
      else into[k] += v - seen[i]!;
      seen[i++] = v;
    }
    const h = into.latency;
    h.sum += f[i]! - seen[i]!;
    seen[i] = f[i]!;
    i++;
    h.count += f[i]! - seen[i]!;
    seen[i] = f[i]!;
    i += 2;
    for (let b = 0; b < h.counts.length; b++, i++) {
      h.counts[b]! += f[i]! - seen[i]!;
      seen[i] = f[i]!;
    }
  }
}
