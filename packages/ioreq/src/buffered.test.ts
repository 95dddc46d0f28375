// The buffered ring against a reference FIFO (fast-check prints the seed and the shrunk
// counterexample on failure): random interleavings of Xen's sends and the emulator's drains, from
// pointers at 0, just below 2^32 (u32 wrap) or anywhere; LEGACY and ATOMIC pointer handling; the
// LEGACY slot collision at the u32 wrap that ATOMIC exists to avoid; the sync fallback when full;
// pointers out of range.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  HVM_IOREQSRV_BUFIOREQ_LEGACY,
  IOREQ_BUFFER_SLOT_NUM,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_TIMEOFFSET,
  IOREQ_WRITE,
} from "@xensim/abi";
import fc from "fast-check";
import { type BufSendRequest, bufPending, dmDrainBuffered, xenBufSend } from "./buffered.js";
import { BUF_READ_POINTER_WORD, BUF_WRITE_POINTER_WORD, type BufIoreq } from "./codec.js";

const SLOTS = IOREQ_BUFFER_SLOT_NUM;
const BASE = 1024; // the page is the second frame of the buffer

function ring(start: number) {
  const i32 = new Int32Array(new SharedArrayBuffer(3 * 4096));
  i32[BASE + BUF_READ_POINTER_WORD] = start | 0;
  i32[BASE + BUF_WRITE_POINTER_WORD] = start | 0;
  return i32;
}
const rp = (i32: Int32Array) => i32[BASE + BUF_READ_POINTER_WORD]! >>> 0;
const wp = (i32: Int32Array) => i32[BASE + BUF_WRITE_POINTER_WORD]! >>> 0;

const startArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 1200 }).map((k) => 2 ** 32 - k),
  fc.nat({ max: 0xffffffff }),
);

const reqArb: fc.Arbitrary<BufSendRequest> = fc
  .record({
    size: fc.constantFrom(1, 2, 4, 8),
    addr: fc.nat({ max: 0xfffff }),
    data: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  })
  .map(({ size, addr, data }) => ({
    type: size === 8 ? IOREQ_TYPE_TIMEOFFSET : IOREQ_TYPE_COPY,
    addr: BigInt(addr),
    data: size === 8 ? data : data & ((1n << BigInt(size * 8)) - 1n) & 0xffff_ffffn,
    size,
    count: 1,
    dataIsPtr: false,
  }));

type Op = { t: "send"; reqs: BufSendRequest[] } | { t: "drain"; max: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("send" as const),
      reqs: fc.array(reqArb, { minLength: 1, maxLength: 120 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant("drain" as const), max: fc.integer({ min: 1, max: 300 }) }),
  },
);

/** Live slot indexes of the ring as the u32 pointers say (what a LEGACY writer could overwrite). */
function liveSlots(i32: Int32Array): Set<number> {
  const out = new Set<number>();
  for (let p = rp(i32), n = 0; p !== wp(i32) && n <= SLOTS; p = (p + 1) >>> 0, n++) out.add(p % SLOTS);
  return out;
}

function run(handling: number, start: number, ops: Op[]): { collided: boolean } {
  const i32 = ring(start);
  const model: BufIoreq[] = [];
  let used = 0; // slots in use
  let collided = false;
  for (const op of ops) {
    if (op.t === "send") {
      for (const r of op.reqs) {
        const qw = r.size === 8 ? 1 : 0;
        const full = used >= SLOTS - qw;
        if (handling === HVM_IOREQSRV_BUFIOREQ_LEGACY) {
          const live = liveSlots(i32);
          const target = [wp(i32) % SLOTS, ...(qw ? [((wp(i32) + 1) >>> 0) % SLOTS] : [])];
          if (!full && target.some((s) => live.has(s))) collided = true;
        }
        const res = xenBufSend(i32, BASE, r, handling);
        assert.equal(res, full ? "unhandled" : "handled", "full exactly when the model is");
        if (res === "handled") {
          model.push({ type: r.type, dir: IOREQ_WRITE, size: r.size, addr: Number(r.addr), data: r.data });
          used += qw + 1;
        }
        assert.equal(bufPending(i32, BASE), used, "write − read counts the slots in use");
        if (handling === HVM_IOREQSRV_BUFIOREQ_ATOMIC)
          assert.ok(rp(i32) < SLOTS, "ATOMIC rebases read below 511");
      }
    } else {
      const got: BufIoreq[] = [];
      const d = dmDrainBuffered(i32, BASE, (b) => got.push(b), op.max);
      assert.equal(d.status, "ok");
      if (!collided) {
        assert.equal(got.length, Math.min(op.max, model.length));
        assert.deepEqual(got, model.splice(0, got.length), "the emulator sees Xen's requests in order");
      } else model.splice(0, got.length); // a reused slot: the model no longer says what is there
      for (const g of got) used -= g.size === 8 ? 2 : 1;
    }
  }
  return { collided };
}

test("ATOMIC: any interleaving from any reachable start is the FIFO, never a collision", () => {
  // Xen starts both pointers at 0 and rebases them below 511 on every send once read ≥ 511, so
  // ATOMIC pointers never come near the u32 wrap (from 2^32 − 1 an 8-byte entry's second slot would
  // wrap to slot 0 and the rebase would look for it at slot 32 — the state is unreachable).
  fc.assert(
    fc.property(fc.nat({ max: 510 }), fc.array(opArb, { maxLength: 60 }), (start, ops) => {
      assert.equal(run(HVM_IOREQSRV_BUFIOREQ_ATOMIC, start, ops).collided, false);
    }),
  );
});

test("LEGACY: the FIFO wherever no live slot is reused — pointers run free through the u32 wrap", () => {
  fc.assert(
    fc.property(startArb, fc.array(opArb, { maxLength: 40 }), (start, ops) => {
      run(HVM_IOREQSRV_BUFIOREQ_LEGACY, start, ops);
    }),
  );
});

test("LEGACY at the u32 wrap: 2^32 ≡ 32 (mod 511), so the writer reuses the slot of the entry 32 back", () => {
  const i32 = ring(2 ** 32 - 32);
  const req = (n: number): BufSendRequest => ({
    type: IOREQ_TYPE_COPY,
    addr: 0xa0000n + BigInt(n),
    data: BigInt(n),
    size: 1,
    count: 1,
    dataIsPtr: false,
  });
  for (let n = 0; n < 33; n++)
    assert.equal(xenBufSend(i32, BASE, req(n), HVM_IOREQSRV_BUFIOREQ_LEGACY), "handled");
  const got: number[] = [];
  dmDrainBuffered(i32, BASE, (b) => got.push(Number(b.data)));
  assert.equal(got.length, 33);
  assert.equal(
    got[0],
    32,
    "entry 0 (pointer 2^32 − 32, slot 0) was overwritten by entry 32 (pointer 0, slot 0)",
  );
  // ATOMIC from the same pointers rebases on the first send and keeps every entry.
  const j32 = ring(2 ** 32 - 32);
  for (let n = 0; n < 33; n++) xenBufSend(j32, BASE, req(n), HVM_IOREQSRV_BUFIOREQ_ATOMIC);
  const ok: number[] = [];
  dmDrainBuffered(j32, BASE, (b) => ok.push(Number(b.data)));
  assert.deepEqual(
    ok,
    Array.from({ length: 33 }, (_, n) => n),
  );
});

test("an 8-byte request takes two slots, the second carrying the high half; needs 2 free slots", () => {
  const i32 = ring(0);
  const t: BufSendRequest = {
    type: IOREQ_TYPE_TIMEOFFSET,
    addr: 0n,
    data: 0x1234_5678_9abc_def0n,
    size: 8,
    count: 1,
    dataIsPtr: false,
  };
  assert.equal(xenBufSend(i32, BASE, t, HVM_IOREQSRV_BUFIOREQ_LEGACY), "handled");
  assert.equal(wp(i32), 2);
  const got: BufIoreq[] = [];
  dmDrainBuffered(i32, BASE, (b) => got.push(b));
  assert.deepEqual(got, [
    { type: IOREQ_TYPE_TIMEOFFSET, dir: IOREQ_WRITE, size: 8, addr: 0, data: 0x1234_5678_9abc_def0n },
  ]);
  // 510 slots used: an 8-byte request no longer fits (write − read ≥ 511 − 1), a 1-byte one does.
  const j32 = ring(0);
  const one: BufSendRequest = { ...t, type: IOREQ_TYPE_COPY, size: 1, data: 1n, addr: 0xa0000n };
  for (let n = 0; n < 510; n++)
    assert.equal(xenBufSend(j32, BASE, one, HVM_IOREQSRV_BUFIOREQ_LEGACY), "handled");
  assert.equal(xenBufSend(j32, BASE, t, HVM_IOREQSRV_BUFIOREQ_LEGACY), "unhandled");
  assert.equal(xenBufSend(j32, BASE, one, HVM_IOREQSRV_BUFIOREQ_LEGACY), "handled");
  assert.equal(
    xenBufSend(j32, BASE, one, HVM_IOREQSRV_BUFIOREQ_LEGACY),
    "unhandled",
    "511 slots in use: full",
  );
});

test("not bufferable (above 1 MiB, a guest-buffer pointer, count ≠ 1) is dropped as Xen does; odd sizes are unhandled", () => {
  const i32 = ring(0);
  const base: BufSendRequest = {
    type: IOREQ_TYPE_COPY,
    addr: 0xa0000n,
    data: 1n,
    size: 4,
    count: 1,
    dataIsPtr: false,
  };
  assert.equal(xenBufSend(i32, BASE, { ...base, addr: 0x100000n }, HVM_IOREQSRV_BUFIOREQ_LEGACY), "dropped");
  assert.equal(xenBufSend(i32, BASE, { ...base, dataIsPtr: true }, HVM_IOREQSRV_BUFIOREQ_LEGACY), "dropped");
  assert.equal(xenBufSend(i32, BASE, { ...base, count: 2 }, HVM_IOREQSRV_BUFIOREQ_LEGACY), "dropped");
  assert.equal(xenBufSend(i32, BASE, { ...base, size: 3 }, HVM_IOREQSRV_BUFIOREQ_LEGACY), "unhandled");
  assert.equal(wp(i32), 0, "nothing queued");
});

test("pointers out of range: a read_pointer past the write_pointer makes Xen see a full ring (sync fallback); the emulator refuses to walk it", () => {
  for (const handling of [HVM_IOREQSRV_BUFIOREQ_LEGACY, HVM_IOREQSRV_BUFIOREQ_ATOMIC]) {
    const i32 = ring(100);
    i32[BASE + BUF_READ_POINTER_WORD] = 105; // an emulator wrote garbage
    const r: BufSendRequest = {
      type: IOREQ_TYPE_COPY,
      addr: 0xa0000n,
      data: 7n,
      size: 1,
      count: 1,
      dataIsPtr: false,
    };
    assert.equal(xenBufSend(i32, BASE, r, handling), "unhandled", "write − read wraps to ~2^32: full");
    assert.equal(wp(i32), 100, "the page was not written");
    const d = dmDrainBuffered(i32, BASE, () => assert.fail("must not handle garbage"));
    assert.deepEqual(d, { status: "bad-pointers", handled: 0, read: 105, write: 100 });
  }
  const i32 = ring(0);
  i32[BASE + BUF_WRITE_POINTER_WORD] = 1; // an 8-byte request with only its first slot published
  i32[BASE + 2] = (3 << 10) | IOREQ_TYPE_TIMEOFFSET;
  assert.equal(dmDrainBuffered(i32, BASE, () => {}).status, "incomplete");
});
