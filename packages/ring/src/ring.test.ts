// Unit tests of the shared ring: SHARED_RING_INIT, sizes, notify decisions, final-check races,
// overflow checks, write-log marks, slot copies across page boundaries, index wrap at 2^32.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BLKIF_RING_ENTRY_BYTES, SRING_HEADER_BYTES } from "@xensim/abi";
import type { MemView, WriteLog } from "@xensim/memory";
import { BackRing } from "./back.js";
import { FrontRing } from "./front.js";
import {
  REQ_EVENT,
  REQ_PROD,
  readSringIndices,
  RingError,
  RSP_EVENT,
  RSP_PROD,
  sharedRingInit,
} from "./sring.js";
import { initAt, ringView, type ViewKind } from "./testing/views.js";

const E64 = BLKIF_RING_ENTRY_BYTES.x86_64;
const E32 = BLKIF_RING_ENTRY_BYTES.x86_32;
const KINDS: ViewKind[] = ["contiguous", "paged"];

function code(c: string) {
  return (e: unknown) => e instanceof RingError && e.code === c;
}

describe("SHARED_RING_INIT and attach", () => {
  for (const kind of KINDS)
    test(`init values (${kind})`, () => {
      const v = ringView(2, kind);
      for (let off = 0; off < 2 * 4096; off += 4) v.setU32(off, 0xa5a5a5a5);
      const f = FrontRing.init(v, E64);
      assert.deepEqual(readSringIndices(v), { reqProd: 0, reqEvent: 1, rspProd: 0, rspEvent: 1 });
      for (let off = 16; off < SRING_HEADER_BYTES; off++) assert.equal(v.getU8(off), 0, `byte ${off}`);
      assert.equal(v.getU8(SRING_HEADER_BYTES), 0xa5, "entries are not touched");
      assert.equal(f.reqProdPvt, 0);
      assert.equal(f.rspCons, 0);
      assert.equal(f.size, 64);
      assert.equal(f.freeRequests(), 64);
      const b = BackRing.attach(v, E64);
      assert.equal(b.reqCons, 0);
      assert.equal(b.rspProdPvt, 0);
      assert.equal(b.unconsumedRequests(), 0);
    });

  test("back attaches at the rsp_prod on the page (reconnect), front and back at an explicit start", () => {
    const v = ringView(1, "contiguous");
    initAt(v, 1000);
    v.atomicStore32(REQ_PROD, 1003); // three requests published, not yet consumed
    const b = BackRing.attach(v, E64);
    assert.equal(b.reqCons, 1000);
    assert.equal(b.rspProdPvt, 1000);
    assert.equal(b.unconsumedRequests(), 3);
    const f = FrontRing.attach(v, E64, { start: 1003 });
    assert.equal(f.reqProdPvt, 1003);
    assert.equal(f.rspCons, 1003);
    const b2 = BackRing.attach(v, E64, { start: 1003 });
    assert.equal(b2.unconsumedRequests(), 0);
  });

  test("back attach refuses a req_prod more than a ring ahead (RING_REQUEST_PROD_OVERFLOW)", () => {
    const v = ringView(1, "contiguous");
    sharedRingInit(v);
    v.atomicStore32(REQ_PROD, 32);
    assert.equal(BackRing.attach(v, E64).unconsumedRequests(), 32);
    v.atomicStore32(REQ_PROD, 33);
    assert.throws(() => BackRing.attach(v, E64), code("request_prod_overflow"));
    v.atomicStore32(REQ_PROD, 0xffffffff); // "behind": also more than a ring ahead mod 2^32
    assert.throws(() => BackRing.attach(v, E64), code("request_prod_overflow"));
  });
});

describe("ring size (fact sheet §1.2)", () => {
  const table: [number, number][] = [
    [1, 32],
    [2, 64],
    [3, 64],
    [4, 128],
    [8, 256],
    [16, 512],
    [32, 1024],
    [64, 2048],
  ];
  for (const [pages, slots] of table)
    test(`blkif ${pages} page(s) → ${slots} slots, x86_64 and x86_32`, () => {
      const v = ringView(pages, pages <= 4 ? "paged" : "contiguous");
      sharedRingInit(v);
      assert.equal(new FrontRing(v, E64).size, slots);
      assert.equal(new FrontRing(v, E32).size, slots);
      assert.equal(new BackRing(v, E64).size, slots);
    });

  test("explicit nrPages sizes from the negotiated pages, not the view", () => {
    const v = ringView(8, "contiguous");
    sharedRingInit(v);
    assert.equal(new FrontRing(v, E64, { nrPages: 4 }).size, 128);
    assert.equal(new BackRing(v, E64, { nrPages: 1 }).size, 32);
    assert.throws(() => new FrontRing(v, E64, { nrPages: 9 }), code("bad_size"));
    assert.throws(() => new FrontRing(v, E64, { nrPages: 0 }), code("bad_size"));
    assert.throws(() => new FrontRing(v.slice(0, 100), E64), code("bad_size"));
    // displif-like entries (64 bytes): 63 → 32 slots
    assert.equal(new FrontRing(v, 64, { nrPages: 1 }).size, 32);
  });
});

describe("notify decisions (req_event / rsp_event window (old, new])", () => {
  test("fresh ring: the first push notifies, later pushes do not until the back re-arms", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), true); // req_event 1 ∈ (0, 1]
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), false); // 1 ∉ (1, 2]
    b.consumeRequests(2);
    assert.equal(b.finalCheckForRequests(), false);
    assert.equal(v.atomicLoad32(REQ_EVENT), 3);
    f.nextRequest();
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), true); // 3 ∈ (2, 4]
    assert.equal(f.pushRequestsAndCheckNotify(), false, "nothing new: never notify");
  });

  test("event positions relative to the window, also across 2^32", () => {
    for (const base of [0, 100, 2 ** 32 - 3]) {
      const cases: [number, boolean][] = [
        [0, false], // event == old
        [1, true], // old + 1
        [3, true], // == new
        [4, false], // beyond new
        [-5, false], // long ago
        [2 ** 31, false],
      ];
      for (const [rel, want] of cases) {
        const v = ringView(1, "contiguous");
        initAt(v, base);
        const f = FrontRing.attach(v, E64);
        const b = BackRing.attach(v, E64);
        v.atomicStore32(REQ_EVENT, (base + rel) >>> 0);
        v.atomicStore32(RSP_EVENT, (base + rel) >>> 0);
        for (let i = 0; i < 3; i++) f.nextRequest();
        assert.equal(f.pushRequestsAndCheckNotify(), want, `req base ${base} rel ${rel}`);
        b.consumeRequests(3);
        for (let i = 0; i < 3; i++) b.nextResponse();
        assert.equal(b.pushResponsesAndCheckNotify(), want, `rsp base ${base} rel ${rel}`);
      }
    }
  });

  test("plain pushes publish without a decision", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    f.nextRequest();
    f.pushRequests();
    assert.equal(v.atomicLoad32(REQ_PROD), 1);
    b.consumeRequests();
    b.nextResponse();
    b.pushResponses();
    assert.equal(v.atomicLoad32(RSP_PROD), 1);
    assert.equal(f.unconsumedResponses(), 1);
  });
});

/** A view that runs `hook` right after an atomic store to `watch` (to interleave inside a call). */
function hooked(view: MemView, watch: number, hook: () => void): MemView {
  let armed = true;
  return new Proxy(view, {
    get(target, prop) {
      if (prop === "atomicStore32")
        return (off: number, val: number) => {
          target.atomicStore32(off, val);
          if (off === watch && armed) {
            armed = false;
            hook();
          }
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("final-check races", () => {
  test("request published after the first check and before req_event is set: push notifies", () => {
    const v = ringView(1, "paged");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), true);
    b.consumeRequests();
    // front pushes with the stale req_event (1): no notify; the back has not re-armed yet
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), false);
    assert.equal(b.finalCheckForRequests(), true, "the first check sees the work");
  });

  test("request published between setting req_event and the recheck: both sides see it", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    let notify: boolean | undefined;
    const b = BackRing.attach(
      hooked(v, REQ_EVENT, () => {
        f.nextRequest();
        notify = f.pushRequestsAndCheckNotify();
      }),
      E64,
    );
    assert.equal(b.finalCheckForRequests(), true, "the recheck sees the request");
    assert.equal(notify, true, "and the push saw req_event = req_cons + 1");
  });

  test("response published between setting rsp_event and the recheck", () => {
    const v = ringView(4, "paged");
    const b0 = { ring: undefined as BackRing | undefined };
    let notify: boolean | undefined;
    sharedRingInit(v);
    const f = FrontRing.attach(
      hooked(v, RSP_EVENT, () => {
        const b = b0.ring!;
        b.nextResponse();
        notify = b.pushResponsesAndCheckNotify();
      }),
      E64,
    );
    const b = BackRing.attach(v, E64);
    b0.ring = b;
    f.nextRequest();
    f.pushRequests();
    b.consumeRequests();
    assert.equal(f.finalCheckForResponses(), true);
    assert.equal(notify, true);
    assert.equal(v.atomicLoad32(RSP_EVENT), 1);
    f.consumeResponses();
    assert.equal(f.finalCheckForResponses(), false);
    assert.equal(v.atomicLoad32(RSP_EVENT), 2);
  });

  test("idle consumer: final check re-arms and says no work", () => {
    const v = ringView(1, "contiguous");
    initAt(v, 2 ** 32 - 1);
    const f = FrontRing.attach(v, E64);
    const b = BackRing.attach(v, E64);
    assert.equal(b.finalCheckForRequests(), false);
    assert.equal(v.atomicLoad32(REQ_EVENT), 0, "req_cons + 1 wraps to 0");
    assert.equal(f.finalCheckForResponses(), false);
    assert.equal(v.atomicLoad32(RSP_EVENT), 0);
    f.nextRequest();
    assert.equal(f.pushRequestsAndCheckNotify(), true);
  });
});

describe("overflow checks", () => {
  test("RING_REQUEST_CONS_OVERFLOW / PROD_OVERFLOW / RESPONSE_PROD_OVERFLOW arithmetic", () => {
    for (const start of [0, 2 ** 32 - 10]) {
      const v = ringView(1, "contiguous");
      initAt(v, start);
      const f = FrontRing.attach(v, E64);
      const b = BackRing.attach(v, E64);
      const at = (d: number) => (start + d) >>> 0;
      assert.equal(b.requestConsOverflow(at(31)), false);
      assert.equal(b.requestConsOverflow(at(32)), true);
      assert.equal(b.requestConsOverflow(at(-1)), true);
      assert.equal(b.requestProdOverflow(at(32)), false);
      assert.equal(b.requestProdOverflow(at(33)), true);
      assert.equal(f.responseProdOverflow(at(32)), false);
      assert.equal(f.responseProdOverflow(at(33)), true);
      assert.equal(f.responseProdOverflow(at(-1)), true);
    }
  });

  test("a frontend publishing an impossible req_prod is detected by the back", () => {
    const v = ringView(1, "paged");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    for (let i = 0; i < 32; i++) f.nextRequest();
    assert.throws(() => f.nextRequest(), code("ring_full"));
    assert.equal(f.full(), true);
    f.pushRequests();
    assert.equal(b.unconsumedRequests(), 32);
    v.atomicStore32(REQ_PROD, 40); // malicious
    assert.throws(() => b.unconsumedRequests(), code("request_prod_overflow"));
    assert.throws(() => b.finalCheckForRequests(), code("request_prod_overflow"));
  });

  test("the min() form: the back cannot consume past a ring of unanswered requests", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    for (let i = 0; i < 32; i++) f.nextRequest();
    f.pushRequests();
    b.consumeRequests(32);
    assert.equal(b.requestConsOverflow(b.reqCons), true);
    assert.equal(b.unconsumedRequests(), 0);
    b.nextResponse();
    b.pushResponses();
    f.consumeResponses();
    f.nextRequest();
    f.pushRequests();
    assert.equal(b.unconsumedRequests(), 1);
    // a lying front that pushes one more than it may: req_prod - rsp_prod_pvt = 33 > 32
    v.atomicStore32(REQ_PROD, 34);
    assert.throws(() => b.unconsumedRequests(), code("request_prod_overflow"));
  });

  test("a backend publishing an impossible rsp_prod is detected by the front", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    v.atomicStore32(RSP_PROD, 33);
    assert.equal(f.responseProdOverflow(f.responseProd()), true);
    assert.throws(() => f.unconsumedResponses(), code("response_prod_overflow"));
    assert.throws(() => f.finalCheckForResponses(), code("response_prod_overflow"));
    assert.throws(() => f.consumeResponses(), code("response_prod_overflow"));
  });

  test("consuming what is not there and responding to what was not consumed throw", () => {
    const v = ringView(1, "contiguous");
    const f = FrontRing.init(v, E64);
    const b = BackRing.attach(v, E64);
    assert.throws(() => b.consumeRequests(), code("nothing_to_consume"));
    assert.throws(() => f.consumeResponses(), code("nothing_to_consume"));
    assert.throws(() => b.nextResponse(), code("request_cons_overflow"));
  });
});

describe("slots", () => {
  test("copies straddle a page boundary in a paged view (x86_32 entries)", () => {
    const v = ringView(2, "paged");
    const f = FrontRing.init(v, E32);
    const b = BackRing.attach(v, E32);
    // slot 37 of 108-byte entries starts at 64 + 37·108 = 4060 and crosses into page 1
    assert.equal(f.requestOffset(37), 4060);
    assert.equal(f.requestOffset(37 + 64), 4060);
    const src = Uint8Array.from({ length: E32 }, (_, i) => (i * 13 + 7) & 0xff);
    for (let i = 0; i < 38; i++) {
      f.writeRequest(f.reqProdPvt, src);
      f.nextRequest();
    }
    f.pushRequests();
    const dst = new Uint8Array(E32);
    b.copyRequest(37, dst);
    assert.deepEqual(dst, src);
    assert.deepEqual(v.read(4060, E32), src);
    assert.throws(() => b.copyRequest(1, new Uint8Array(10), 20), code("short_buffer"));
  });

  test("push marks exactly the new slots and the index, in two ranges when wrapping", () => {
    const marks: [number, number, number][] = [];
    const log: WriteLog = { written: (fr, off, len) => void marks.push([fr, off, len]) };
    const v = ringView(1, "contiguous", log);
    const frame = v.frames[0]!;
    initAt(v, 30);
    const f = FrontRing.attach(v, E64);
    marks.length = 0;
    for (let i = 0; i < 4; i++) f.nextRequest(); // indices 30..33 → slots 30, 31, 0, 1
    assert.equal(f.pushRequestsAndCheckNotify(), true);
    assert.deepEqual(marks, [
      [frame, 64 + 30 * E64, 2 * E64],
      [frame, 64, 2 * E64],
      [frame, REQ_PROD, 4],
    ]);
    marks.length = 0;
    const b = BackRing.attach(v, E64, { start: 30 });
    b.consumeRequests(4);
    assert.equal(b.finalCheckForRequests(), false);
    assert.deepEqual(marks, [[frame, REQ_EVENT, 4]]);
  });

  test("indices wrap at 2^32", () => {
    const v = ringView(1, "paged");
    initAt(v, 2 ** 32 - 2);
    const f = FrontRing.attach(v, E64);
    const b = BackRing.attach(v, E64);
    for (let i = 0; i < 5; i++) f.nextRequest();
    assert.equal(f.reqProdPvt, 3);
    assert.equal(f.freeRequests(), 27);
    assert.equal(f.pushRequestsAndCheckNotify(), true);
    assert.equal(b.unconsumedRequests(), 5);
    b.consumeRequests(5);
    assert.equal(b.reqCons, 3);
    for (let i = 0; i < 5; i++) b.nextResponse();
    assert.equal(b.pushResponsesAndCheckNotify(), true);
    assert.equal(f.unconsumedResponses(), 5);
    f.consumeResponses(5);
    assert.equal(f.rspCons, 3);
    assert.equal(f.freeRequests(), 32);
    f.rspCons = 2 ** 32 + 7;
    assert.equal(f.rspCons, 7, "setters keep u32");
  });
});
