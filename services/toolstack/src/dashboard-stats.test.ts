import assert from "node:assert/strict";
import { test } from "node:test";
import { blkifRingSize } from "@xensim/abi";
import type { ServiceMetrics } from "@xensim/runtime";
import { diskCounters, diskFigures } from "./dashboard-stats.js";

/** A blkback scrape of one disk (dom 3, devid 51712) with two queues, in prom-client's JSON shape. */
function scrape(
  completed: [number, number],
  latencySum: number,
  buckets: Record<string, number>,
): ServiceMetrics[] {
  const labels = (queue: number) => ({ domid: 3, devid: 51712, queue, svc: "blkback", host: "h" });
  const perQueue = (name: string, v: [number, number]) => ({
    name,
    help: "",
    type: "counter",
    aggregator: "sum",
    values: [0, 1].map((q) => ({ value: v[q]!, labels: labels(q) })),
  });
  const count = completed[0] + completed[1];
  return [
    { svc: "guest", host: "h", metrics: [perQueue("blkback_io_completed_total", [999, 999])] as never },
    {
      svc: "blkback",
      host: "h",
      metrics: [
        perQueue("blkback_io_completed_total", completed),
        perQueue("blkback_ring_outstanding_requests", [16, 48]),
        perQueue("blkback_notifications_sent_total", [completed[0] / 2, completed[1] / 2]),
        perQueue("blkback_read_sectors_total", [completed[0] * 8, completed[1] * 8]),
        {
          name: "blkback_io_latency_seconds",
          help: "",
          type: "histogram",
          aggregator: "sum",
          values: [
            ...Object.entries(buckets).map(([le, v]) => ({
              metricName: "blkback_io_latency_seconds_bucket",
              value: v,
              labels: { ...labels(0), le },
            })),
            { metricName: "blkback_io_latency_seconds_sum", value: latencySum, labels: labels(0) },
            { metricName: "blkback_io_latency_seconds_count", value: count, labels: labels(0) },
          ],
        },
      ] as never,
    },
  ];
}

test("disk figures: rates between two scrapes, summed over queues; only blkback's metrics count", () => {
  const a = diskCounters(scrape([100, 100], 0.2, { "0.001": 150, "0.01": 200, "+Inf": 200 }));
  const b = diskCounters(scrape([600, 600], 1.2, { "0.001": 640, "0.01": 1200, "+Inf": 1200 }));
  assert.equal(b.get("3/51712")?.queues, 2);
  const [f] = diskFigures(a, b, 2, () => 4);
  assert.ok(f);
  assert.equal(f.iops, 500); // 1000 completions in 2 s
  assert.equal(f.latencyMeanMs, 1); // 1.0 s over 1000 completions
  assert.equal(f.latencyP99Ms, 10); // 490 of 1000 under 1 ms, all under 10 ms
  assert.equal(f.outstanding, 64);
  assert.equal(f.ringSlots, blkifRingSize(4));
  assert.equal(f.occupancy, 64 / (blkifRingSize(4) * 2));
  assert.equal(f.notificationsSentPerS, 250);
  assert.equal(f.readMBps, (500 * 8 * 512) / 1e6);
  // the first scrape has no rates yet; an unknown ring size leaves the occupancy out
  const [first] = diskFigures(undefined, a, 0, () => undefined);
  assert.equal(first?.iops, 0);
  assert.equal(first?.latencyMeanMs, null);
  assert.equal(first?.occupancy, null);
});
