// The event page: 63 slots indexed counter % 63, the discontinuity at the u32 wrap (2^32 mod 63 =
// 4), a producer that refuses to overwrite, a consumer that survives a producer running ahead.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { XENDISPL_EVT_PG_FLIP } from "@xensim/abi";
import fc from "fast-check";
import { decodeEvent, encodeEvent } from "./codec.js";
import { EventPageConsumer, EventPageProducer, eventSlot, eventSlotBusy } from "./event-page.js";

/** One 4 KiB page as a pure in-memory stand-in for a MemView (unit test of the pure core). */
function page() {
  const u8 = new Uint8Array(4096);
  const v = new DataView(u8.buffer);
  return {
    u8,
    atomicLoad32: (o: number) => v.getUint32(o, true),
    atomicStore32: (o: number, x: number) => v.setUint32(o, x >>> 0, true),
    writeFrom: (o: number, src: Uint8Array, so = 0, len = src.length - so) =>
      u8.set(src.subarray(so, so + len), o),
    readInto: (o: number, dst: Uint8Array, d = 0, len = dst.length - d) =>
      dst.set(u8.subarray(o, o + len), d),
  };
}
const evt = (n: number) => encodeEvent({ id: n & 0xffff, type: XENDISPL_EVT_PG_FLIP, fbCookie: BigInt(n) });
const at = (p: ReturnType<typeof page>, c: number) => {
  p.atomicStore32(0, c);
  p.atomicStore32(4, c);
};

describe("event page", () => {
  test("slot = counter % 63, and the jump at the u32 wrap", () => {
    assert.equal(eventSlot(0), 0);
    assert.equal(eventSlot(63), 0);
    assert.equal(eventSlot(2 ** 32 - 1), 3);
    assert.equal(2 ** 32 % 63, 4);
    assert.equal(eventSlot(2 ** 32 - 4), 0);
    // Counters 2^32-4+i and i share slot i: 4 apart, not 63.
    for (let i = 0; i < 4; i++) assert.equal(eventSlot(2 ** 32 - 4 + i), eventSlot(i));
  });
  test("63 outstanding: the 64th is refused", () => {
    const p = page();
    const prod = new EventPageProducer(p);
    for (let i = 0; i < 63; i++) assert.equal(prod.push(evt(i)), "ok");
    assert.equal(prod.push(evt(63)), "full");
    const got: bigint[] = [];
    const r = new EventPageConsumer(p).consume((e) => got.push(decodeEvent(e).fbCookie));
    assert.deepEqual(r, { consumed: 63, overrun: 0 });
    assert.deepEqual(
      got,
      Array.from({ length: 63 }, (_, i) => BigInt(i)),
    );
    assert.equal(prod.push(evt(63)), "ok");
  });
  test("across the wrap the producer never overwrites an unconsumed event", () => {
    const p = page();
    at(p, 2 ** 32 - 6);
    const prod = new EventPageProducer(p);
    // cons = 2^32-6 (slot 61): 2^32-6 … 2^32-1 use slots 61,62,0,1,2,3; counter 0 wants slot 0, taken.
    let pushed = 0;
    while (prod.push(evt(pushed)) === "ok") pushed++;
    assert.equal(pushed, 6, "only up to the first colliding slot");
    assert.ok(eventSlotBusy(2 ** 32 - 6, 0));
    const got: bigint[] = [];
    new EventPageConsumer(p).consume((e) => got.push(decodeEvent(e).fbCookie));
    assert.deepEqual(got, [0n, 1n, 2n, 3n, 4n, 5n]);
    assert.equal(prod.push(evt(6)), "ok");
  });
  test("random interleavings across the wrap: every event once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2 ** 32 - 200, max: 2 ** 32 - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70 })), {
          maxLength: 40,
        }),
        (start, steps) => {
          const p = page();
          at(p, start);
          const prod = new EventPageProducer(p);
          const cons = new EventPageConsumer(p);
          let next = 0;
          let expect = 0;
          for (const [np, nc] of steps) {
            for (let i = 0; i < np; i++) if (prod.push(evt(next)) === "ok") next++;
            const r = cons.consume((e) => {
              assert.equal(decodeEvent(e).fbCookie, BigInt(expect));
              expect++;
            }, nc);
            assert.equal(r.overrun, 0);
          }
          cons.consume((e) => {
            assert.equal(decodeEvent(e).fbCookie, BigInt(expect));
            expect++;
          });
          assert.equal(expect, next);
        },
      ),
    );
  });
  test("a producer running more than 63 ahead: the consumer skips to the last 63 and counts the rest", () => {
    const p = page();
    p.atomicStore32(4, 100); // in_prod = 100, in_cons = 0
    const seen: number[] = [];
    const r = new EventPageConsumer(p).consume((_e, c) => seen.push(c));
    assert.deepEqual(r, { consumed: 63, overrun: 37 });
    assert.equal(seen[0], 37);
    assert.equal(p.atomicLoad32(0), 100);
  });
});
