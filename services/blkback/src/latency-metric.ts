// blkback_io_latency_seconds: the rings' own latency histograms (RingStats.latency, counted by the
// ring with no per-I/O work beyond one bucket increment) exposed in Prometheus' histogram shape at
// scrape time. Observing a prom-client Histogram per response cost a label hash and an object
// lookup per I/O on the backend's hot path; the ring already keeps the same buckets.
import type { BlkbackRingInfo } from "@xensim/blkback";
import type { Metric, Registry } from "prom-client";

export interface RingLatencySource {
  /** The rings to expose (their stats outlive reconnects). */
  rings(): readonly BlkbackRingInfo[];
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/** Registers a histogram metric `name` whose series are the rings' latency histograms. */
export function registerRingLatencyHistogram(
  registry: Registry,
  name: string,
  help: string,
  source: RingLatencySource,
): void {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    collect() {},
    reset() {},
    async get() {
      const values: Sample[] = [];
      for (const r of source.rings()) {
        const h = r.stats.latency;
        const labels = { domid: r.frontend, devid: r.devid, queue: r.queue };
        const cumulative = h.cumulative();
        for (let i = 0; i < h.bounds.length; i++)
          values.push({
            value: cumulative[i]!,
            labels: { ...labels, le: h.bounds[i]! },
            metricName: `${name}_bucket`,
          });
        values.push({ value: h.count, labels: { ...labels, le: "+Inf" }, metricName: `${name}_bucket` });
        values.push({ value: h.sum, labels, metricName: `${name}_sum` });
        values.push({ value: h.count, labels, metricName: `${name}_count` });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
  };
  registry.registerMetric(metric as unknown as Metric);
}
