// blkback_io_latency_seconds: the rings' own latency histograms (RingStats.latency, counted by the
// ring with no per-I/O work beyond one bucket increment) exposed in Prometheus' histogram shape at
// scrape time. Observing a prom-client Histogram per response cost a label hash and an object
// lookup per I/O on the backend's hot path; the ring already keeps the same buckets. As the
// prom-client histogram did, a series outlives its ring: a device that goes keeps its counts, and
// one that comes back under the same labels continues from them (the series never goes backwards).
import type { BlkbackRingInfo, LatencyHistogram } from "@xensim/blkback";
import type { Metric, Registry } from "prom-client";

export interface RingLatencySource {
  /** The rings to expose (their stats outlive reconnects). */
  rings(): readonly BlkbackRingInfo[];
  /** Rings of devices that went since the last scrape (counted once more, then retired). */
  takeGoneRings?(): readonly BlkbackRingInfo[];
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

interface Series {
  labels: { domid: number; devid: string; queue: number };
  bounds: readonly number[];
  /** The histogram of the ring now under these labels. */
  current: LatencyHistogram | undefined;
  /** What earlier rings under these labels counted (their histograms stop when the ring goes). */
  counts: number[];
  sum: number;
  count: number;
}

/** Registers a histogram metric `name` whose series are the rings' latency histograms. */
export function registerRingLatencyHistogram(
  registry: Registry,
  name: string,
  help: string,
  source: RingLatencySource,
): void {
  const series = new Map<string, Series>();
  const retire = (s: Series) => {
    const h = s.current;
    if (!h) return;
    for (let i = 0; i < h.counts.length; i++) s.counts[i] = (s.counts[i] ?? 0) + h.counts[i]!;
    s.sum += h.sum;
    s.count += h.count;
    s.current = undefined;
  };
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    collect() {},
    reset() {},
    async get() {
      const seen = new Set<string>();
      // Rings of devices gone since the last scrape first: their final counts join their series
      // (retired below unless a ring under the same labels is back).
      const gone = source.takeGoneRings?.() ?? [];
      for (const r of [...gone, ...source.rings()]) {
        const key = `${r.frontend}/${r.devid}/${r.queue}`;
        if (!gone.includes(r)) seen.add(key);
        let s = series.get(key);
        if (!s) {
          s = {
            labels: { domid: r.frontend, devid: r.devid, queue: r.queue },
            bounds: r.stats.latency.bounds,
            current: undefined,
            counts: [],
            sum: 0,
            count: 0,
          };
          series.set(key, s);
        }
        if (s.current !== r.stats.latency) {
          retire(s);
          s.current = r.stats.latency;
        }
      }
      for (const [key, s] of series) if (!seen.has(key)) retire(s);
      const values: Sample[] = [];
      for (const s of series.values()) {
        const h = s.current;
        const bounds = s.bounds;
        let acc = 0;
        for (let i = 0; i < bounds.length; i++) {
          acc += (s.counts[i] ?? 0) + (h?.counts[i] ?? 0);
          values.push({ value: acc, labels: { ...s.labels, le: bounds[i]! }, metricName: `${name}_bucket` });
        }
        const count = s.count + (h?.count ?? 0);
        values.push({ value: count, labels: { ...s.labels, le: "+Inf" }, metricName: `${name}_bucket` });
        values.push({ value: s.sum + (h?.sum ?? 0), labels: s.labels, metricName: `${name}_sum` });
        values.push({ value: count, labels: s.labels, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
