// BlkbackRing on its own, over real page-store memory and a small grant table of the test's own
// (ref → frame, read-only flag, map counts; testing/ring-rig.ts): the data path's ordering and bookkeeping without a
// hypervisor. The end-to-end tests with the real hypervisor and xenstored are in services/blkback.
import { NULL_LOGGER } from "@xensim/xenbus";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp, DOMID_XEN } from "@xensim/abi";
import { PageStore } from "@xensim/memory";
import { FrontRing, REQ_PROD, RingError, RSP_PROD } from "@xensim/ring";
import { BlkbackRing } from "./blkif-ring.js";
import {
  Disk,
  FRONT,
  LIMITS,
  type RingRig,
  ringRig,
  type RingRigOptions,
  TestHv,
} from "./testing/ring-rig.js";

/** The ring rig with the ring tests' layout (ring frames granted as refs 100…, ref 207 read-only). */
const rig = (options: RingRigOptions = {}): RingRig => ringRig(options);

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("BlkbackRing", () => {
  for (const [abi, paged, zeroCopy] of [
    ["x86_64", false, true],
    ["x86_32", true, true],
    ["x86_32", true, false],
    ["x86_64", false, false],
  ] as const) {
    it(`writes and reads segment byte ranges (${abi}, ${paged ? "paged" : "contiguous"} ring, ${zeroCopy ? "zero-copy" : "bounce"})`, async () => {
      const r = rig({ abi, pages: 2, paged, zeroCopy });
      r.data[0]!.write(0, new Uint8Array(4096).fill(0xa1));
      r.data[1]!.write(0, new Uint8Array(4096).fill(0xb2));
      // Sectors 2..3 of page 0 and 0..0 of page 1 → 3 sectors at sector 10.
      r.send(BlkifOp.WRITE, 10, [
        [200, 2, 3],
        [201, 0, 0],
      ]);
      await tick();
      assert.deepEqual(r.responses(), [{ id: 1, status: BLKIF_RSP_OKAY }]);
      assert.deepEqual(r.disk.bytes.subarray(10 * 512, 12 * 512), new Uint8Array(1024).fill(0xa1));
      assert.deepEqual(r.disk.bytes.subarray(12 * 512, 13 * 512), new Uint8Array(512).fill(0xb2));
      // The write mapped its pages read-only, in one batch, and unmapped them before answering.
      assert.deepEqual(r.hv.events.slice(0, 3), ["map 200,201 ro", "unmap 200,201", "notify"]);
      // Read them back into page 2 at sectors 5..7.
      r.send(BlkifOp.READ, 10, [[202, 5, 7]]);
      await tick();
      assert.deepEqual(r.responses(), [{ id: 2, status: BLKIF_RSP_OKAY }]);
      assert.deepEqual(r.data[2]!.read(5 * 512, 1024), new Uint8Array(1024).fill(0xa1));
      assert.deepEqual(r.data[2]!.read(7 * 512, 512), new Uint8Array(512).fill(0xb2));
      assert.deepEqual(r.data[2]!.read(0, 5 * 512), new Uint8Array(5 * 512));
      assert.equal(r.hv.events[3], "map 202"); // writable for a read
      assert.equal(r.hv.mapped.size, 0);
    });
  }

  it("answers bad refs and a read into a read-only grant with ERROR, unmapping the good ones", async () => {
    const r = rig();
    r.send(BlkifOp.READ, 0, [
      [200, 0, 7],
      [999, 0, 7],
    ]);
    r.send(BlkifOp.READ, 0, [[207, 0, 7]]); // granted read-only: a read must write it
    r.send(BlkifOp.WRITE, 0, [[207, 0, 7]]); // but a write only reads it
    await tick();
    assert.deepEqual(r.responses(), [
      { id: 1, status: BLKIF_RSP_ERROR },
      { id: 2, status: BLKIF_RSP_ERROR },
      { id: 3, status: BLKIF_RSP_OKAY },
    ]);
    assert.equal(r.hv.mapped.size, 0);
    assert.equal(r.back.stats.errors, 2);
  });

  it("keeps requests in flight up to the ring size and notifies only when the ring says so", async () => {
    const r = rig({ pages: 1 });
    r.disk.hold = true;
    for (let i = 0; i < 32; i++) r.send(BlkifOp.READ, i * 8, [[200 + (i % 6), 0, 7]]);
    await tick();
    assert.equal(r.back.stats.outstanding, 32);
    assert.equal(r.hv.mapped.size, 32);
    // A 33rd request does not fit before a response frees a slot.
    assert.throws(() => r.send(BlkifOp.READ, 0, [[200, 0, 7]]), RingError);
    r.disk.release();
    await tick();
    const got = r.responses();
    assert.equal(got.length, 32);
    assert.ok(got.every((x) => x.status === BLKIF_RSP_OKAY));
    // The frontend was waiting for the first response only (rsp_event = 1): one kick for 32. (The 32
    // completions of one turn are pushed together: one push, which kicks.)
    assert.equal(r.back.stats.notificationsSent, 1);
    assert.equal(r.back.stats.notificationsSuppressed, 0);
    assert.equal(r.hv.notifies, 1);
    assert.equal(r.back.stats.outstanding, 0);
  });

  it("backend.response-duplicated writes the answered request's own response twice, only while another awaits its answer", async () => {
    // Regression (chaos soak seed 4015713610): the duplicate was a second store completion, which a
    // loaded event loop delivered after the request's Pending served a newer request, so it answered
    // that newer, in-flight id early (blkfront rightly took it) instead of repeating the old id.
    const asked: string[] = [];
    const r = rig({
      duplicateResponse: (target) => {
        asked.push(target);
        return true;
      },
    });
    r.send(BlkifOp.READ, 0, [[200, 0, 7]]);
    await tick();
    assert.deepEqual(
      r.responses(),
      [{ id: 1, status: BLKIF_RSP_OKAY }],
      "alone: no slot for a second answer",
    );
    assert.deepEqual(asked, []);
    r.disk.hold = true;
    r.send(BlkifOp.READ, 0, [[200, 0, 7]]);
    r.send(BlkifOp.READ, 8, [[201, 0, 7]]);
    await tick();
    r.disk.release();
    await tick();
    assert.deepEqual(r.responses(), [
      { id: 2, status: BLKIF_RSP_OKAY },
      { id: 2, status: BLKIF_RSP_OKAY },
    ]);
    assert.deepEqual(asked, [`dom ${FRONT} id 2`]);
    // the duplicate took request 3's slot: its own answer finds none, and the ring halts
    assert.equal(r.halts.length, 1);
  });

  it("across host processes (no kick suppression) pushes and kicks for every response", async () => {
    const r = rig({ zeroCopy: false });
    r.hv.kickSuppression = false;
    r.hv.rspProdAt = () => r.front.view.atomicLoad32(RSP_PROD);
    r.disk.hold = true;
    for (let i = 0; i < 4; i++) r.send(BlkifOp.READ, 0, [[200, 0, 7]]);
    await tick();
    r.disk.release();
    await tick();
    await tick();
    assert.equal(r.responses().length, 4);
    const st = r.back.stats;
    assert.equal(st.notificationsSent, 4, "one kick per response");
    assert.equal(st.notificationsSuppressed, 0, "never suppressed across hosts");
    assert.equal(r.hv.notifies, 4);
    // Each kick came after the push of its response.
    assert.deepEqual(r.hv.kickedAt, [1, 2, 3, 4]);
    assert.equal(r.front.view.atomicLoad32(RSP_PROD), 4);
  });

  it("with poll: takes requests pushed without a kick while it polls, then asks for an event and sleeps", async () => {
    let now = 0;
    const turn = () => new Promise<void>((r) => setImmediate(r));
    const r = rig({ clock: () => now, poll: { ms: 1, defer: (fn) => setImmediate(fn) } });
    r.send(BlkifOp.READ, 0, [[200, 0, 7]]);
    await tick();
    assert.deepEqual(r.responses(), [{ id: 1, status: BLKIF_RSP_OKAY }]);
    // Polling: req_event was not moved past the consumed request, so this push needs no event.
    r.send(BlkifOp.READ, 8, [[201, 0, 7]]);
    assert.equal(r.hv.notifies, 1, "the first response's event only");
    for (let i = 0; i < 4; i++) await turn();
    assert.deepEqual(r.responses(), [{ id: 2, status: BLKIF_RSP_OKAY }], "found by a poll, no kick");
    // The time runs out and at least 32 empty looks pass: the ring sets req_event and sleeps.
    now = 10;
    for (let i = 0; i < 40; i++) await turn();
    assert.equal(r.front.pushWouldNotify(), false, "nothing new pushed yet");
    r.front.nextRequest();
    assert.equal(r.front.pushWouldNotify(), true, "a new request must wake it");
    await r.back.stop();
  });

  it("halts on a req_prod overflow, once, and still finishes what was in flight", async () => {
    const r = rig();
    r.disk.hold = true;
    r.send(BlkifOp.READ, 0, [[200, 0, 7]]);
    await tick();
    r.front.view.atomicStore32(REQ_PROD, r.front.reqProdPvt + 100);
    r.back.kick();
    r.back.kick();
    await tick();
    assert.equal(r.halts.length, 1);
    assert.match(r.halts[0]!, /req_prod overflow/);
    assert.equal(r.back.isHalted, true);
    r.disk.release();
    await r.back.drain();
    assert.equal(r.back.stats.outstanding, 0);
    assert.equal(r.hv.mapped.size, 0);
  });

  it("refuses to attach over impossible indices", () => {
    const ps = PageStore.create({ frames: 64 });
    const v = ps.viewOfFrames(ps.allocFrames(DOMID_XEN, 1, true)!);
    FrontRing.init(v, 112);
    v.atomicStore32(REQ_PROD, 1000);
    const hv = new TestHv(ps, true);
    assert.throws(
      () =>
        new BlkbackRing({
          hv,
          frontend: FRONT,
          view: v,
          nrPages: 1,
          abi: "x86_64",
          port: 1,
          store: new Disk(8),
          limits: LIMITS,
          persistent: false,
          clock: () => 0,
          log: NULL_LOGGER,
          onHalt: () => {},
        }),
      RingError,
    );
  });
});
