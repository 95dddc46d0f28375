// blkback_io_latency_seconds from the rings' histograms: a series outlives its ring and continues
// when the same device comes back (never goes backwards), as the prom-client histogram did.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type BlkbackRingInfo, RingStats } from "@xensim/blkback";
import { Registry } from "prom-client";
import { registerRingLatencyHistogram } from "./latency-metric.js";

function ring(stats: RingStats): BlkbackRingInfo {
  return { frontend: 1, devid: "51712", nodename: "backend/vbd/1/51712", queue: 0, stats, ring: undefined };
}

const count = (text: string) => Number(/blkback_io_latency_seconds_count\{[^}]*\} (\d+)/.exec(text)?.[1]);

describe("blkback_io_latency_seconds", () => {
  it("keeps a gone ring's counts and continues them when the device comes back", async () => {
    const reg = new Registry();
    let rings: BlkbackRingInfo[] = [];
    registerRingLatencyHistogram(reg, "blkback_io_latency_seconds", "latency", { rings: () => rings });
    const first = new RingStats();
    for (let i = 0; i < 5; i++) first.latency.observe(0.0001);
    rings = [ring(first)];
    const a = await reg.metrics();
    assert.equal(count(a), 5);
    assert.match(a, /blkback_io_latency_seconds_bucket\{domid="1",devid="51712",queue="0",le="0\.0001"\} 5/);
    rings = [];
    assert.equal(count(await reg.metrics()), 5, "the series stays when the ring goes");
    const second = new RingStats();
    second.latency.observe(2);
    rings = [ring(second)];
    const c = await reg.metrics();
    assert.equal(count(c), 6, "and continues when it comes back");
    assert.match(c, /blkback_io_latency_seconds_bucket\{domid="1",devid="51712",queue="0",le="0\.0001"\} 5/);
    assert.match(c, /blkback_io_latency_seconds_bucket\{domid="1",devid="51712",queue="0",le="2\.5"\} 6/);
  });

  it("counts a device that came and went between two scrapes (the driver's gone rings)", async () => {
    const reg = new Registry();
    let gone: BlkbackRingInfo[] = [];
    registerRingLatencyHistogram(reg, "blkback_io_latency_seconds", "latency", {
      rings: () => [],
      takeGoneRings: () => {
        const out = gone;
        gone = [];
        return out;
      },
    });
    assert.ok(Number.isNaN(count(await reg.metrics())), "no series before any ring");
    const brief = new RingStats();
    for (let i = 0; i < 200; i++) brief.latency.observe(0.001);
    gone = [ring(brief)];
    assert.equal(count(await reg.metrics()), 200, "its final counts are exposed");
    assert.equal(
      count(await reg.metrics()),
      200,
      "once: the next scrape keeps them, does not add them again",
    );
  });
});
