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
