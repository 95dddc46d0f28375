import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GuestConfigError, parseBlkfrontSettings, parseDurationMs, parseSize, parseWorkload } from "./job.js";

describe("guest config strings", () => {
  it("parses sizes and durations as fio does", () => {
    assert.equal(parseSize("4k"), 4096);
    assert.equal(parseSize("64m"), 64 << 20);
    assert.equal(parseSize("1G"), 1 << 30);
    assert.equal(parseSize("512"), 512);
    assert.equal(parseDurationMs("30"), 30_000);
    assert.equal(parseDurationMs("500ms"), 500);
    assert.equal(parseDurationMs("2m"), 120_000);
    assert.throws(() => parseSize("lots"), GuestConfigError);
  });
  it("parses a workload job string", () => {
    assert.deepEqual(parseWorkload("idle"), { kind: "idle" });
    assert.deepEqual(parseWorkload(""), { kind: "idle" });
    const w = parseWorkload("rw=randrw,bs=4k,iodepth=16,size=64m,runtime=30,verify=crc32c");
    assert.deepEqual(w, {
      kind: "job",
      text: "rw=randrw,bs=4k,iodepth=16,size=64m,runtime=30,verify=crc32c",
      spec: { rw: "randrw", bs: 4096, iodepth: 16, size: 64 << 20, runtimeMs: 30_000, verify: "crc32c" },
    });
    const v = parseWorkload("rw=write bs=64k number_ios=100 vdev=/dev/xvdb rwmixread=30 seed=7");
    assert.ok(v.kind === "job");
    assert.equal(v.vdev, "xvdb");
    assert.equal(v.spec.ioLimit, 100);
    assert.equal(v.spec.runtimeMs, undefined);
    assert.equal(v.spec.seed, 7);
    const d = parseWorkload("rw=read");
    assert.ok(d.kind === "job" && d.spec.runtimeMs === 30_000 && d.spec.bs === 4096);
    assert.throws(() => parseWorkload("rw=sideways"), GuestConfigError);
    assert.throws(() => parseWorkload("bs=1000"), GuestConfigError);
    assert.throws(() => parseWorkload("colour=blue"), GuestConfigError);
  });
  it("parses blkfront settings", () => {
    assert.deepEqual(parseBlkfrontSettings(""), {});
    assert.deepEqual(parseBlkfrontSettings("ring-page-order=2,queues=4,indirect-segments=64,persistent=0"), {
      maxRingPageOrder: 2,
      maxQueues: 4,
      maxIndirectSegments: 64,
      persistent: false,
    });
    assert.throws(() => parseBlkfrontSettings("ring-page-order=9"), GuestConfigError);
    assert.throws(() => parseBlkfrontSettings("bogus=1"), GuestConfigError);
  });
});
