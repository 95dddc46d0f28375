// Zero copy on one embedded host: a blkfront without persistent grants grants the job's own guest
// pages (BlockIo.frames, @xensim/guest's GuestBufferArea) per request, and blkback maps each one
// for its request — the data is never copied through a bounce page. Checked with crc32c
// write-verify (including a block overwritten behind the job's back: verify must catch it), the
// grants all ended afterwards, and `trusted: false` (XSA-403) keeping every request on bounce pages.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { submitIo } from "@xensim/blkif";
import type { Blkfront } from "@xensim/blkfront";
import { GuestBufferArea } from "@xensim/guest";
import { type JobEnv, type JobLedger, runJob } from "@xensim/workload";
import { type BlkHost, startBlkHost } from "./blk-harness.js";

const env: JobEnv = { nowNs: () => Number(process.hrtime.bigint()), defer: (fn) => setImmediate(fn) };

describe("zero copy: the job's guest pages granted per request", () => {
  let h: BlkHost;
  before(async () => {
    h = await startBlkHost({ maxRingPageOrder: 2, maxQueues: 2, persistent: true });
  });
  after(async () => {
    await h?.stop();
  });

  it("write-verify on the caller's own pages; a block changed behind the job's back is caught", async () => {
    const g = await h.guest("zero-copy", 64);
    const devid = await h.addVbd({ frontend: g.domid, vdev: "xvda", params: "memory:size=4M" });
    // The backend offers feature-persistent; this frontend does not ask for it.
    const front: Blkfront = await g.kernel.openBlkfront(g.xs, devid, {
      config: { maxRingPageOrder: 2, maxQueues: 2, persistent: false, maxIndirectSegments: 0 },
    });
    await front.whenConnected();
    assert.equal(front.negotiated?.persistent, false);
    const bs = 16384;
    const area = await GuestBufferArea.create(g.kernel.memory, 24, bs);
    assert.ok(area instanceof GuestBufferArea, `guest buffers: ${String(area)}`);
    const r = await runJob(
      front,
      { rw: "randrw", bs, iodepth: 16, ioLimit: 400, verify: "crc32c", seed: 7, size: 1 << 20 },
      { ...env, buffer: area.take },
    );
    assert.equal(r.error, 0, JSON.stringify(r.errors_by_status));
    assert.equal(r.verify.failures_total, 0, JSON.stringify(r.verify.failures));
    assert.ok(r.verify.blocks_checked > 0);
    const s = front.stats;
    assert.ok(s.zeroCopyRequests > 0);
    assert.equal(s.zeroCopyRequests, s.requests, "every request on the caller's pages");
    assert.equal(s.protocolErrors, 0);
    assert.equal(s.grantsLeaked, 0, "every caller grant ended at its response");
    assert.equal(s.grantsDeferred, 0);

    // A write job's ledger; then one of its acknowledged blocks overwritten behind its back.
    let snapshot: (() => JobLedger) | undefined;
    const written = await runJob(
      front,
      { rw: "randwrite", bs, iodepth: 4, ioLimit: 32, verify: "crc32c", seed: 8, size: 1 << 20 },
      { ...env, buffer: area.take },
      { expose: (snap) => (snapshot = snap) },
    );
    assert.equal(written.verify.failures_total, 0);
    const ledger = snapshot!();
    const [block] = ledger.acknowledged[0]!;
    const junk = area.take(bs)!;
    junk.bytes.fill(0xa5);
    junk.written();
    const st = await submitIo(front, {
      op: "write",
      sector: (block * bs) / 512,
      nrSectors: bs / 512,
      segs: [junk.bytes],
      frames: junk.frames,
    });
    assert.equal(st, 0);
    const check = await runJob(
      front,
      { rw: "randread", bs, iodepth: 2, ioLimit: 1, verify: "crc32c", seed: 9, size: 1 << 20 },
      { ...env, buffer: area.take },
      { ledger },
    );
    assert.ok(check.verify.failures_total >= 1, "verify caught the block overwritten behind its back");
    assert.ok(
      check.verify.failures.some((f) => f.offset === block * bs),
      JSON.stringify(check.verify.failures),
    );
    assert.equal(front.stats.zeroCopyRequests, front.stats.requests);
    area.release();
    await front.close();
    await h.removeVbd(g.domid, devid);
  });

  it("trusted: false (XSA-403) keeps every request on bounce pages, frames or not", async () => {
    const g = await h.guest("untrusted", 64);
    const devid = await h.addVbd({ frontend: g.domid, vdev: "xvda", params: "memory:size=4M" });
    const front: Blkfront = await g.kernel.openBlkfront(g.xs, devid, {
      config: { persistent: false, maxIndirectSegments: 0 },
      trusted: false,
    });
    await front.whenConnected();
    const area = await GuestBufferArea.create(g.kernel.memory, 8, 4096);
    assert.ok(area instanceof GuestBufferArea);
    const r = await runJob(
      front,
      { rw: "randrw", bs: 4096, iodepth: 8, ioLimit: 200, verify: "crc32c", seed: 3, size: 1 << 20 },
      { ...env, buffer: area.take },
    );
    assert.equal(r.error, 0);
    assert.equal(r.verify.failures_total, 0);
    assert.equal(front.stats.zeroCopyRequests, 0);
    assert.ok(front.stats.dataGrants >= front.stats.requests, "bounce pages granted per request");
    area.release();
    await front.close();
    await h.removeVbd(g.domid, devid);
  });
});
