// Property tests (fast-check): random producer/consumer interleavings of a FrontRing and a BackRing
// on one view against a reference model, with indices that wrap at 2^32, over contiguous and paged
// views; and event suppression never losing a wake-up.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { MemView } from "@xensim/memory";
import fc from "fast-check";
import { BackRing } from "./back.js";
import { FrontRing } from "./front.js";
import { initAt, ringView, type ViewKind } from "./testing/views.js";

const KINDS: ViewKind[] = ["contiguous", "paged"];

/** Starting indices: zero, just below 2^32 (so runs wrap), anywhere. */
const startArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 300 }).map((k) => 2 ** 32 - k),
  fc.nat({ max: 0xffffffff }),
);

type Op =
  | { t: "submit"; k: number }
  | { t: "backWork"; k: number }
  | { t: "backSleep" }
  | { t: "complete"; k: number; pick: number }
  | { t: "frontWork"; k: number }
  | { t: "frontSleep" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("submit" as const), k: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ t: fc.constant("backWork" as const), k: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ t: fc.constant("backSleep" as const) }),
  fc.record({
    t: fc.constant("complete" as const),
    k: fc.integer({ min: 1, max: 40 }),
    pick: fc.nat({ max: 1000 }),
  }),
  fc.record({ t: fc.constant("frontWork" as const), k: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ t: fc.constant("frontSleep" as const) }),
);

/** What a ring slot holds, from the model's point of view. */
const FREE = 0;
const REQ = 1; // request written, not yet consumed by the back
const BACK = 2; // request consumed; the slot may take a response
const RSP = 3; // response written, not yet consumed by the front

/**
 * Front and back on one view, with a model: every request gets exactly one response, requests are
 * consumed in order, responses read in the order pushed, no slot is written while it holds
 * something the peer has not consumed, and a sleeping side never has work it was not told about.
 */
class Harness {
  readonly f: FrontRing;
  readonly b: BackRing;
  readonly slots: Uint8Array;
  readonly slotId: Uint32Array;
  nextId = 1;
  readonly submitted: number[] = []; // request ids not yet consumed by the back, in order
  readonly pending: number[] = []; // consumed by the back, not answered
  readonly responded: number[] = []; // answered, not yet read by the front, in push order
  readonly outstanding = new Set<number>();
  answered = 0;
  backAwake = false;
  frontAwake = false;
  readonly buf: Uint8Array;

  constructor(view: MemView, entryBytes: number, start: number) {
    initAt(view, start);
    this.f = FrontRing.attach(view, entryBytes);
    this.b = BackRing.attach(view, entryBytes);
    this.slots = new Uint8Array(this.f.size);
    this.slotId = new Uint32Array(this.f.size);
    this.buf = new Uint8Array(entryBytes);
  }

  private slot(idx: number): number {
    return idx & (this.f.size - 1);
  }

  step(op: Op): void {
    const { f, b } = this;
    const v = f.view;
    switch (op.t) {
      case "submit": {
        const n = Math.min(op.k, f.freeRequests());
        for (let i = 0; i < n; i++) {
          const s = this.slot(f.reqProdPvt);
          assert.equal(this.slots[s], FREE, `front reuses slot ${s} before its response was consumed`);
          const id = this.nextId++;
          const off = f.nextRequest();
          v.setU32(off, id);
          v.setU32(off + 4, ~id >>> 0);
          v.setU32(off + f.entryBytes - 4, id ^ 0x5a5a5a5a);
          this.slots[s] = REQ;
          this.slotId[s] = id;
          this.submitted.push(id);
          this.outstanding.add(id);
        }
        if (f.pushRequestsAndCheckNotify()) this.backAwake = true;
        break;
      }
      case "backWork": {
        if (!this.backAwake) break;
        const n = Math.min(op.k, b.unconsumedRequests());
        for (let i = 0; i < n; i++) {
          assert.equal(b.requestConsOverflow(b.reqCons), false);
          b.copyRequest(b.reqCons, this.buf);
          const s = this.slot(b.reqCons);
          b.consumeRequests(1);
          const dv = new DataView(this.buf.buffer);
          const id = dv.getUint32(0, true);
          assert.equal(this.slots[s], REQ);
          assert.equal(id, this.submitted.shift(), "requests are consumed in order");
          assert.equal(id, this.slotId[s]);
          assert.equal(dv.getUint32(4, true), ~id >>> 0);
          assert.equal(dv.getUint32(b.entryBytes - 4, true), (id ^ 0x5a5a5a5a) >>> 0);
          this.slots[s] = BACK;
          this.pending.push(id);
        }
        break;
      }
      case "backSleep":
        if (this.backAwake) this.backAwake = b.finalCheckForRequests();
        break;
      case "complete": {
        const n = Math.min(op.k, this.pending.length);
        if (n === 0) break;
        for (let i = 0; i < n; i++) {
          const id = this.pending.splice((op.pick + i) % this.pending.length, 1)[0]!;
          const s = this.slot(b.rspProdPvt);
          assert.equal(this.slots[s], BACK, "a response slot must hold a consumed request");
          const off = b.nextResponse();
          v.setU32(off, id);
          v.setU32(off + 4, 0xfeed0000 | (id & 0xffff));
          this.slots[s] = RSP;
          this.slotId[s] = id;
          this.responded.push(id);
        }
        if (b.pushResponsesAndCheckNotify()) this.frontAwake = true;
        // blkback after answering: look for requests that waited for response space
        if (!this.backAwake) this.backAwake = b.finalCheckForRequests();
        break;
      }
      case "frontWork": {
        if (!this.frontAwake) break;
        const n = Math.min(op.k, f.unconsumedResponses());
        for (let i = 0; i < n; i++) {
          const s = this.slot(f.rspCons);
          f.copyResponse(f.rspCons, this.buf);
          f.consumeResponses(1);
          const dv = new DataView(this.buf.buffer);
          const id = dv.getUint32(0, true);
          assert.equal(this.slots[s], RSP);
          assert.equal(id, this.responded.shift(), "responses are read in the order pushed");
          assert.equal(dv.getUint32(4, true), (0xfeed0000 | (id & 0xffff)) >>> 0);
          assert.ok(this.outstanding.delete(id), `response ${id} answers no outstanding request`);
          this.answered++;
          this.slots[s] = FREE;
        }
        break;
      }
      case "frontSleep":
        if (this.frontAwake) this.frontAwake = f.finalCheckForResponses();
        break;
    }
    this.invariants();
  }

  invariants(): void {
    const { f, b } = this;
    if (!this.backAwake) assert.equal(b.unconsumedRequests(), 0, "back sleeps with requests to do");
    if (!this.frontAwake) assert.equal(f.unconsumedResponses(), 0, "front sleeps with responses");
    assert.equal(this.outstanding.size, this.submitted.length + this.pending.length + this.responded.length);
    assert.equal(f.freeRequests(), f.size - this.outstanding.size);
  }

  /** Everyone works until quiet; then every request has had exactly one response. */
  drain(): void {
    for (let round = 0; round < 10_000; round++) {
      const before = this.answered + this.pending.length + this.submitted.length;
      this.step({ t: "complete", k: 1 << 20, pick: round });
      this.step({ t: "backWork", k: 1 << 20 });
      this.step({ t: "backSleep" });
      this.step({ t: "frontWork", k: 1 << 20 });
      this.step({ t: "frontSleep" });
      const after = this.answered + this.pending.length + this.submitted.length;
      if (!this.backAwake && !this.frontAwake && this.pending.length === 0 && before === after) break;
    }
    assert.equal(this.outstanding.size, 0, "a request never got its response (lost wake-up)");
    assert.equal(this.answered, this.nextId - 1);
  }
}

describe("random interleavings against the model", () => {
  for (const kind of KINDS)
    test(`front and back on one ${kind} view, indices wrapping`, () => {
      fc.assert(
        fc.property(
          startArb,
          fc.constantFrom(kind === "paged" ? 2 : 1, 2),
          fc.constantFrom(112, 108),
          fc.array(opArb, { maxLength: 200, size: "max" }),
          (start, pages, entry, ops) => {
            const h = new Harness(ringView(pages, kind), entry, start);
            for (const op of ops) h.step(op);
            h.drain();
          },
        ),
        { numRuns: 300 },
      );
    });
});

/** A view that calls `hook` once, right after the `at`-th shared-word access (load or store). */
function interleaved(view: MemView, at: number, hook: () => void): MemView {
  let n = 0;
  const tick = () => {
    if (n++ === at) hook();
  };
  return new Proxy(view, {
    get(target, prop) {
      if (prop === "atomicLoad32")
        return (off: number) => {
          const r = target.atomicLoad32(off);
          tick();
          return r;
        };
      if (prop === "atomicStore32")
        return (off: number, val: number) => {
          target.atomicStore32(off, val);
          tick();
        };
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe("event suppression never loses a wake-up", () => {
  for (const kind of KINDS)
    test(`push at any point of the consumer's final check (${kind})`, () => {
      fc.assert(
        fc.property(
          startArb,
          fc.integer({ min: 0, max: 32 }),
          fc.integer({ min: 1, max: 32 }),
          fc.nat({ max: 6 }),
          fc.boolean(),
          (start, already, batch, at, requests) => {
            const v = ringView(kind === "paged" ? 2 : 1, kind); // one frame is always contiguous
            initAt(v, start);
            let notify: boolean | undefined;
            if (requests) {
              // consumer = back, producer = front
              const f = FrontRing.attach(v, 112);
              const bIdle = BackRing.attach(v, 112);
              for (let i = 0; i < already; i++) f.nextRequest();
              f.pushRequests();
              bIdle.consumeRequests(already);
              for (let i = 0; i < already; i++) bIdle.nextResponse();
              bIdle.pushResponses();
              f.consumeResponses(already);
              const n = Math.min(batch, f.freeRequests());
              const b = BackRing.attach(
                interleaved(v, at, () => {
                  for (let i = 0; i < n; i++) f.nextRequest();
                  notify = f.pushRequestsAndCheckNotify();
                }),
                112,
                { start: bIdle.reqCons },
              );
              const work = b.finalCheckForRequests();
              if (notify === undefined) {
                for (let i = 0; i < n; i++) f.nextRequest();
                notify = f.pushRequestsAndCheckNotify();
              }
              assert.ok(work || notify, "consumer slept and producer did not notify");
            } else {
              const f0 = FrontRing.attach(v, 112);
              const b = BackRing.attach(v, 112);
              const n = Math.min(batch, f0.size - already);
              fc.pre(n > 0);
              for (let i = 0; i < already + n; i++) f0.nextRequest();
              f0.pushRequests();
              b.consumeRequests(already + n);
              for (let i = 0; i < already; i++) b.nextResponse();
              b.pushResponses();
              f0.consumeResponses(already);
              const f = FrontRing.attach(
                interleaved(v, at, () => {
                  for (let i = 0; i < n; i++) b.nextResponse();
                  notify = b.pushResponsesAndCheckNotify();
                }),
                112,
                { start: f0.rspCons },
              );
              const work = f.finalCheckForResponses();
              if (notify === undefined) {
                for (let i = 0; i < n; i++) b.nextResponse();
                notify = b.pushResponsesAndCheckNotify();
              }
              assert.ok(work || notify, "consumer slept and producer did not notify");
            }
          },
        ),
        { numRuns: 300 },
      );
    });
});
