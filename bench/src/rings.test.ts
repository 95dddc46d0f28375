// Unit tests of the ring-page benchmark's pieces that need no host: ring geometry, the raw ring
// ceiling (a short run), the terminal table and the SVG plot of a synthetic result.
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ringsSvg } from "./plot.js";
import { blkifRingSlots, runRingCeiling } from "./ring-ceiling.js";
import { defaultIodepth, type RingsBenchResult, type RingsJob, ringsTable, runRingsBench } from "./rings.js";

// bench/dist/ → services/<name>/dist/main.js (paths, not imports: bench imports no service)
const entry = (name: string) =>
  join(dirname(fileURLToPath(import.meta.url)), "..", "..", "services", name, "dist", "main.js");

function job(pages: number, iops: number, extra: Partial<RingsJob> = {}): RingsJob {
  const io = {
    io_bytes: iops * 4096,
    bw_bytes: iops * 4096,
    iops,
    runtime: 1000,
    total_ios: iops,
    short_ios: 0,
    clat_ns: { min: 1, max: 2, mean: 1.5, percentile: { "99.000000": 2000 } },
  };
  return {
    jobname: `${pages}-pages`,
    groupid: 0,
    error: 0,
    job_runtime: 1000,
    read: io,
    write: { ...io, iops: 0, total_ios: 0 },
    pages,
    ring_slots: blkifRingSlots(pages),
    queues: 1,
    iodepth: 2048,
    iops,
    mb_s: 1,
    clat_us: { p50: 1, p90: 2, p99: 3, p99_9: 4, mean: 2 },
    avg_outstanding: 2048,
    notifications_per_io: 0.1,
    notifications: { front_to_back: 0.05, back_to_front: 0.05, total: 0.1 },
    predicted_outstanding: null,
    predicted_iops: null,
    predicted_clat_ms: null,
    predicted_store_ms: null,
    ratio_to_prediction: null,
    ...extra,
  };
}

function result(profile: RingsBenchResult["profile"], jobs: RingsJob[]): RingsBenchResult {
  return {
    "fio version": "xensim-rings-1",
    bench: "rings",
    timestamp: 0,
    placement: "embedded",
    profile,
    machine: {},
    "global options": {
      rw: "randread",
      bs: "4096",
      iodepth: "2048",
      runtime: "1",
      ioengine: "xensim-blkfront",
    },
    params: {
      pages: jobs.map((j) => j.pages),
      profile,
      placement: "embedded",
      queues: 1,
      iodepth: 2048,
      bs: 4096,
      rw: "randread",
      durationMs: 1000,
    },
    jobs,
  };
}

describe("bench rings", () => {
  it("knows the blkif ring sizes and fills the largest by default", () => {
    assert.deepEqual([1, 2, 4, 8, 16, 32, 64].map(blkifRingSlots), [32, 64, 128, 256, 512, 1024, 2048]);
    assert.equal(defaultIodepth([1, 64], 1), 2048);
    assert.equal(defaultIodepth([1, 4], 2), 256);
  });

  it("measures the raw ring ceiling between two threads", async () => {
    const c = await runRingCeiling({ pages: 1, depth: 64, durationMs: 200, rampMs: 50 });
    assert.equal(c.ring_slots, 32);
    assert.equal(c.depth, 32); // clamped to the ring
    assert.ok(c.completed > 0 && c.iops > 0, JSON.stringify(c));
  });

  it("renders the table and a well-formed SVG with both series", () => {
    const r = result("iscsi-array", [
      job(1, 4000, { predicted_iops: 4525, predicted_clat_ms: 452, ratio_to_prediction: 0.88 }),
      job(64, 70000, { predicted_iops: 75377, predicted_clat_ms: 27, ratio_to_prediction: 0.93 }),
    ]);
    const t = ringsTable(r);
    assert.match(t, /pred\. IOPS/);
    assert.match(t, /64 pages ÷ 1 page: 17\.5 × IOPS/);
    const svg = ringsSvg(r);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /MVA prediction \(iscsi-array\)/);
    assert.equal((svg.match(/<svg/g) ?? []).length, (svg.match(/<\/svg>/g) ?? []).length);
    assert.ok(!svg.includes("NaN"));
    const n = ringsSvg(
      result("null", [
        job(1, 100000, {
          ceiling: {
            pages: 1,
            ring_slots: 32,
            depth: 32,
            iops: 900000,
            mean_latency_us: 35,
            notifications_per_io: 0.05,
            completed: 1,
            seconds: 1,
          },
          ratio_to_ceiling: 0.11,
        }),
      ]),
    );
    assert.match(n, /raw ring ceiling/);
    assert.ok(!n.includes("NaN"));
  });

  it("runs the null store end to end: one fio-shaped job per ring size, beside the ceiling", async () => {
    const r = await runRingsBench({
      entries: { hypervisor: entry("hypervisor"), xenstored: entry("xenstored"), blkback: entry("blkback") },
      pages: [1, 2],
      profile: "null",
      placement: "embedded",
      queues: 1,
      bs: 4096,
      rw: "randread",
      durationMs: 300,
      rampMs: 100,
    });
    assert.equal(r.params.iodepth, 64);
    assert.deepEqual(
      r.jobs.map((j) => [j.jobname, j.ring_slots]),
      [
        ["1-page", 32],
        ["2-pages", 64],
      ],
    );
    for (const j of r.jobs) {
      assert.equal(j.error, 0);
      assert.ok(j.read.iops > 0 && j.read.bw_bytes > 0, JSON.stringify(j.read));
      assert.ok((j.read.clat_ns.percentile["99.000000"] ?? 0) > 0);
      assert.ok(j.ceiling && j.ceiling.iops > 0 && j.ratio_to_ceiling! > 0);
      assert.equal(j.predicted_iops, null);
    }
  });
});
