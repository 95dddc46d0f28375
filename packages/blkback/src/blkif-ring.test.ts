// BlkbackRing on its own, over real page-store memory and a small grant table of the test's own
// (ref → frame, read-only flag, map counts): the data path's ordering and bookkeeping without a
// hypervisor. The end-to-end tests with the real hypervisor and xenstored are in services/blkback.
import { NULL_LOGGER } from "@xensim/xenbus";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BlkifOp,
  DOMID_XEN,
  GNTMAP_readonly,
  GNTST_bad_gntref,
  GNTST_okay,
  GNTST_permission_denied,
  type XenAbi,
} from "@xensim/abi";
import {
  BLOCK_SECTOR_BYTES,
  type BlkifLimits,
  type BlockIo,
  type BlockStore,
  decodeResponse,
  encodeRequest,
  newBlkifRequest,
  newBlkifResponse,
  setRequestSector,
} from "@xensim/blkif";
import { type MemView, PageStore } from "@xensim/memory";
import { FrontRing, REQ_PROD, RingError, RSP_PROD } from "@xensim/ring";
import type { BlkbackHypervisor } from "./environment.js";
import { type BlkbackPoll, BlkbackRing } from "./blkif-ring.js";

const FRONT = 5;

/** Grants of the frontend as a table; maps are views of the page store. */
class TestHv implements BlkbackHypervisor {
  readonly grants = new Map<number, { frame: number; readonly: boolean }>();
  readonly mapped = new Map<number, number>(); // handle → ref
  readonly events: string[] = [];
  notifies = 0;
  /** rsp_prod on the page at each kick. */
  readonly kickedAt: number[] = [];
  private nextHandle = 1;
  /** One host process (true) or the link (false: every push kicks). */
  kickSuppression = true;
  mayElideKick(_port: number): boolean {
    return this.kickSuppression;
  }
  constructor(
    readonly ps: PageStore,
    zeroCopy: boolean,
  ) {
    this.store = zeroCopy ? ps : undefined;
  }
  readonly store: { readonly u8: Uint8Array } | undefined;
  async gnttabMapGrantRefs(dom: number, refs: readonly number[], flags: number) {
    const results = refs.map((ref) => {
      const g = this.grants.get(ref);
      if (dom !== FRONT || g === undefined) return { status: GNTST_bad_gntref, handle: -1 };
      if (g.readonly && (flags & GNTMAP_readonly) === 0)
        return { status: GNTST_permission_denied, handle: -1 };
      const handle = this.nextHandle++;
      this.mapped.set(handle, ref);
      return { status: GNTST_okay, handle };
    });
    this.events.push(`map ${refs.join(",")}${flags & GNTMAP_readonly ? " ro" : ""}`);
    const ok = results.every((r) => r.status === GNTST_okay);
    const view = ok
      ? this.ps.viewOfFrames(
          refs.map((r) => this.grants.get(r)!.frame),
          { readonly: (flags & GNTMAP_readonly) !== 0 },
        )
      : undefined;
    return { results, view };
  }
  async gnttabUnmap(handles: readonly number[]) {
    this.events.push(`unmap ${handles.map((h) => this.mapped.get(h)).join(",")}`);
    return handles.map((h) => (this.mapped.delete(h) ? GNTST_okay : -1));
  }
  kick(_port: number): number {
    this.notifies++;
    this.kickedAt.push(this.rspProdAt());
    this.events.push("notify");
    return 0;
  }
  rspProdAt: () => number = () => 0;
  waitForEvents() {
    return { close() {} };
  }
  async evtchnAllocUnbound() {
    return { rc: 0, port: 1 };
  }
  async evtchnBindInterdomain() {
    return { rc: 0, port: 1 };
  }
  async evtchnClose() {
    return 0;
  }
  async gnttabGrantAccess() {
    return 0;
  }
  async gnttabEndAccess() {
    return true;
  }
}

class Disk implements BlockStore {
  readonly bytes: Uint8Array;
  readonly info;
  pending: (() => void)[] = [];
  /** Hold completions until release() (to see in-flight behaviour). */
  hold = false;
  constructor(sectors: number) {
    this.bytes = new Uint8Array(sectors * BLOCK_SECTOR_BYTES);
    this.info = {
      sectors,
      sectorSize: 512,
      physicalSectorSize: 512,
      readonly: false,
      flush: true,
      discard: false,
      discardGranularity: 0,
      discardAlignment: 0,
      discardSecure: false,
    };
  }
  submit(io: BlockIo, done: (s: number) => void): void {
    const run = () => {
      let off = io.sector * 512;
      for (const s of io.segs) {
        if (io.op === "read") s.set(this.bytes.subarray(off, off + s.length));
        else if (io.op === "write") this.bytes.set(s, off);
        off += s.length;
      }
      done(0);
    };
    if (this.hold) this.pending.push(run);
    else run();
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }
  async close() {}
}

const LIMITS: BlkifLimits = {
  sectors: 2048,
  readonly: false,
  maxIndirectSegments: 0,
  flush: true,
  barrier: true,
  discard: false,
  discardSecure: false,
};

interface Rig {
  ps: PageStore;
  hv: TestHv;
  disk: Disk;
  front: FrontRing;
  back: BlkbackRing;
  data: MemView[];
  halts: string[];
  send(op: number, sector: number, segs: [number, number, number][]): void;
  responses(): { id: number; status: number }[];
}

function rig(
  opts: {
    abi?: XenAbi;
    pages?: number;
    zeroCopy?: boolean;
    paged?: boolean;
    poll?: BlkbackPoll;
    clock?: () => number;
  } = {},
): Rig {
  const abi = opts.abi ?? "x86_64";
  const pages = opts.pages ?? 1;
  const ps = PageStore.create({ frames: 512 });
  ps.createDomain(FRONT, { maxPages: 256 });
  // Ring frames: non-adjacent when `paged` (every other frame), so slots straddle pages in a PagedView.
  const all = ps.populatePhysmap(FRONT, 0x10, pages * 2, true)!;
  const ringFrames = opts.paged === true ? all.filter((_, i) => i % 2 === 0) : all.slice(0, pages);
  const dataFrames = ps.populatePhysmap(FRONT, 0x100, 8, false)!;
  const hv = new TestHv(ps, opts.zeroCopy ?? true);
  ringFrames.forEach((f, i) => hv.grants.set(100 + i, { frame: f, readonly: false }));
  dataFrames.forEach((f, i) => hv.grants.set(200 + i, { frame: f, readonly: i === 7 }));
  const frontView = ps.viewOfFrames(ringFrames);
  const E = BLKIF_RING_ENTRY_BYTES[abi];
  const front = FrontRing.init(frontView, E, { nrPages: pages });
  const backView = ps.viewOfFrames(ringFrames);
  const disk = new Disk(2048);
  const halts: string[] = [];
  const back = new BlkbackRing({
    hv,
    frontend: FRONT,
    view: backView,
    nrPages: pages,
    abi,
    port: 9,
    store: disk,
    limits: LIMITS,
    persistent: false,
    clock: opts.clock ?? (() => 0),
    ...(opts.poll ? { poll: opts.poll } : {}),
    log: NULL_LOGGER,
    onHalt: (_e, msg) => halts.push(msg),
  });
  const req = newBlkifRequest();
  const rsp = newBlkifResponse();
  let id = 1;
  return {
    ps,
    hv,
    disk,
    front,
    back,
    data: dataFrames.map((f) => ps.viewOfFrames([f])),
    halts,
    send(op, sector, segs) {
      req.operation = op;
      req.nrSegments = segs.length;
      req.idLo = id++;
      setRequestSector(req, sector);
      segs.forEach(([gref, first, last], i) => {
        req.segments[i]!.gref = gref;
        req.segments[i]!.firstSect = first;
        req.segments[i]!.lastSect = last;
      });
      encodeRequest(front.view, front.nextRequest(), abi, req);
      if (front.pushRequestsAndCheckNotify()) back.kick();
    },
    responses() {
      const out: { id: number; status: number }[] = [];
      while (front.unconsumedResponses() > 0) {
        decodeResponse(front.view.read(front.responseOffset(front.rspCons), 16), 0, abi, rsp);
        front.consumeResponses();
        out.push({ id: rsp.idLo, status: rsp.status });
      }
      front.finalCheckForResponses();
      return out;
    },
  };
}

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
