// Differential test against Xen's own ring.h macros (STYLE.md item 13): random scripts of front
// and back operations run by our FrontRing/BackRing and by a C program compiled against
// /usr/include/xen/io/ring.h + io/blkif.h, on the same bytes. Indices, event fields, slot bytes,
// counts and notify decisions must agree — whole scripts, our bytes continued by C, and C's bytes
// continued by us.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BLKIF_RING_ENTRY_BYTES } from "@xensim/abi";
import type { MemView } from "@xensim/memory";
import fc from "fast-check";
import { BackRing } from "./back.js";
import { FrontRing } from "./front.js";
import { REQ_EVENT, REQ_PROD, RSP_EVENT, RSP_PROD, sharedRingInit } from "./sring.js";
import { buildCRing, type CRing, cRingUnavailable, Op, type RingState } from "./testing/cring.js";
import { initAt, ringView, type ViewKind } from "./testing/views.js";

const E64 = BLKIF_RING_ENTRY_BYTES.x86_64;
const E32 = BLKIF_RING_ENTRY_BYTES.x86_32;
const unavailable = cRingUnavailable();

interface RawOp {
  readonly code: number;
  readonly n: number;
  readonly d: number;
}
type Script = [number, number][];

const CODES = [
  Op.PUT_REQ,
  Op.PUT_REQ,
  Op.PUT_REQ,
  Op.PUSH_REQ,
  Op.PUSH_REQ_NOTIFY,
  Op.PUSH_REQ_NOTIFY,
  Op.FINAL_RSP,
  Op.CONSUME_RSP,
  Op.CONSUME_RSP,
  Op.UNCONSUMED_RSP,
  Op.FREE_REQ,
  Op.FULL,
  Op.RSP_PROD_OVERFLOW,
  Op.CONSUME_REQ,
  Op.CONSUME_REQ,
  Op.PUT_RSP,
  Op.PUT_RSP,
  Op.PUSH_RSP,
  Op.PUSH_RSP_NOTIFY,
  Op.PUSH_RSP_NOTIFY,
  Op.FINAL_REQ,
  Op.FINAL_REQ,
  Op.UNCONSUMED_REQ,
  Op.REQ_CONS_OVERFLOW,
  Op.REQ_PROD_OVERFLOW,
  Op.POKE_REQ_EVENT,
  Op.POKE_RSP_EVENT,
];
const rawOpArb: fc.Arbitrary<RawOp> = fc.record({
  code: fc.constantFrom(...CODES),
  n: fc.nat({ max: 5000 }),
  d: fc.nat({ max: 0xffffffff }),
});
const startArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 3000 }).map((k) => 2 ** 32 - k),
  fc.nat({ max: 0xffffffff }),
);

/** The slot pattern the C program writes: byte j of the entry of index idx. */
function pattern(idx: number, salt: number, out: Uint8Array): Uint8Array {
  for (let j = 0; j < out.length; j++) out[j] = (idx * 31 + j * 7 + salt) & 0xff;
  return out;
}
function fnv(h: number, p: Uint8Array): number {
  for (const x of p) h = Math.imul(h ^ x, 16777619) >>> 0;
  return h;
}

class TsRing {
  readonly buf: Uint8Array;
  constructor(
    readonly view: MemView,
    readonly f: FrontRing,
    readonly b: BackRing,
  ) {
    this.buf = new Uint8Array(f.entryBytes);
  }

  static load(state: RingState, kind: ViewKind, entry: number): TsRing {
    const view = ringView(state.bytes.length / 4096, kind);
    view.write(0, state.bytes);
    const f = FrontRing.attach(view, entry, { start: state.reqProdPvt });
    f.rspCons = state.rspCons;
    const b = BackRing.attach(view, entry, { start: state.rspProdPvt });
    b.reqCons = state.reqCons;
    return new TsRing(view, f, b);
  }

  state(): RingState {
    const { f, b } = this;
    return {
      bytes: this.view.read(0, this.view.byteLength),
      reqProdPvt: f.reqProdPvt,
      rspCons: f.rspCons,
      rspProdPvt: b.rspProdPvt,
      reqCons: b.reqCons,
    };
  }

  /** A legal argument for `raw` in the current state (counts never exceed what is available). */
  legal(raw: RawOp): [number, number] {
    const { f, b } = this;
    const near = (base: number) => (raw.d & 1 ? raw.d : (base + f.size - 2 + (raw.n % 5)) >>> 0);
    switch (raw.code) {
      case Op.PUT_REQ:
        return [raw.code, raw.n % (f.freeRequests() + 1)];
      case Op.CONSUME_RSP:
        return [raw.code, raw.n % (f.unconsumedResponses() + 1)];
      case Op.CONSUME_REQ:
        return [raw.code, raw.n % (b.unconsumedRequests() + 1)];
      case Op.PUT_RSP:
        return [raw.code, raw.n % (((b.reqCons - b.rspProdPvt) >>> 0) + 1)];
      case Op.RSP_PROD_OVERFLOW:
        return [raw.code, near(f.rspCons)];
      case Op.REQ_CONS_OVERFLOW:
      case Op.REQ_PROD_OVERFLOW:
        return [raw.code, near(b.rspProdPvt)];
      case Op.POKE_REQ_EVENT:
        return [raw.code, raw.d & 1 ? raw.d : (this.view.atomicLoad32(REQ_PROD) + (raw.n % 8) - 2) >>> 0];
      case Op.POKE_RSP_EVENT:
        return [raw.code, raw.d & 1 ? raw.d : (this.view.atomicLoad32(RSP_PROD) + (raw.n % 8) - 2) >>> 0];
      default:
        return [raw.code, 0];
    }
  }

  apply(code: number, arg: number): number {
    const { f, b, buf } = this;
    switch (code) {
      case Op.PUT_REQ:
        for (let k = 0; k < arg; k++) {
          f.writeRequest(f.reqProdPvt, pattern(f.reqProdPvt, 0x11, buf));
          f.nextRequest();
        }
        return 0;
      case Op.PUSH_REQ:
        f.pushRequests();
        return 0;
      case Op.PUSH_REQ_NOTIFY:
        return +f.pushRequestsAndCheckNotify();
      case Op.FINAL_RSP:
        return +f.finalCheckForResponses();
      case Op.CONSUME_RSP: {
        let h = 2166136261;
        for (let k = 0; k < arg; k++) {
          f.copyResponse(f.rspCons, buf);
          h = fnv(h, buf);
          f.consumeResponses(1);
        }
        return h;
      }
      case Op.UNCONSUMED_RSP:
        return f.unconsumedResponses();
      case Op.FREE_REQ:
        return f.freeRequests();
      case Op.FULL:
        return +f.full();
      case Op.RSP_PROD_OVERFLOW:
        return +f.responseProdOverflow(arg);
      case Op.CONSUME_REQ: {
        let h = 2166136261;
        for (let k = 0; k < arg; k++) {
          b.copyRequest(b.reqCons, buf);
          h = fnv(h, buf);
          b.consumeRequests(1);
        }
        return h;
      }
      case Op.PUT_RSP:
        for (let k = 0; k < arg; k++) {
          b.writeResponse(b.rspProdPvt, pattern(b.rspProdPvt, 0x22, buf));
          b.nextResponse();
        }
        return 0;
      case Op.PUSH_RSP:
        b.pushResponses();
        return 0;
      case Op.PUSH_RSP_NOTIFY:
        return +b.pushResponsesAndCheckNotify();
      case Op.FINAL_REQ:
        return +b.finalCheckForRequests();
      case Op.UNCONSUMED_REQ:
        return b.unconsumedRequests();
      case Op.REQ_CONS_OVERFLOW:
        return +b.requestConsOverflow(arg);
      case Op.REQ_PROD_OVERFLOW:
        return +b.requestProdOverflow(arg);
      case Op.POKE_REQ_EVENT:
        this.view.atomicStore32(REQ_EVENT, arg);
        return 0;
      case Op.POKE_RSP_EVENT:
        this.view.atomicStore32(RSP_EVENT, arg);
        return 0;
    }
    throw new Error(`unknown op ${code}`);
  }

  /** Run raw ops, making each legal first; returns the script actually run and its results. */
  runRaw(raws: readonly RawOp[]): { script: Script; results: number[] } {
    const script: Script = [];
    const results: number[] = [];
    for (const raw of raws) {
      const [code, arg] = this.legal(raw);
      script.push([code, arg]);
      results.push(this.apply(code, arg));
    }
    return { script, results };
  }

  run(script: Script): number[] {
    return script.map(([code, arg]) => this.apply(code, arg));
  }
}

function sameState(actual: RingState, expected: RingState, what: string): void {
  assert.deepEqual(
    [actual.reqProdPvt, actual.rspCons, actual.rspProdPvt, actual.reqCons],
    [expected.reqProdPvt, expected.rspCons, expected.rspProdPvt, expected.reqCons],
    `${what}: private indices (req_prod_pvt, rsp_cons, rsp_prod_pvt, req_cons)`,
  );
  if (Buffer.compare(actual.bytes, expected.bytes) !== 0) {
    const i = actual.bytes.findIndex((x, j) => x !== expected.bytes[j]);
    assert.fail(
      `${what}: ring bytes differ first at offset ${i}: ${actual.bytes[i]} vs ${expected.bytes[i]}`,
    );
  }
}

function fresh(pages: number, kind: ViewKind, start: number, junk: number, entry: number): TsRing {
  const view = ringView(pages, kind);
  let x = junk | 1;
  for (let off = 64; off < view.byteLength; off += 4) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) >>> 0;
    view.setU32(off, x);
  }
  initAt(view, start);
  return new TsRing(view, FrontRing.attach(view, entry), BackRing.attach(view, entry));
}

describe("differential: our ring vs the ring.h macros (gcc, /usr/include/xen)", () => {
  const c = new Map<number, CRing>();
  before(() => {
    if (unavailable) return;
    c.set(E64, buildCRing());
    c.set(E32, buildCRing(true));
  });
  after(() => {
    for (const r of c.values()) r.dispose();
  });

  test("the compiled rings agree on entry sizes and ring sizes", (t) => {
    if (unavailable) return t.skip(unavailable);
    for (const [entry, cr] of c) {
      assert.equal(cr.entryBytes, entry);
      for (const pages of [1, 2, 3, 4, 16, 64]) {
        const ts = fresh(pages, "contiguous", 0, 1, entry);
        const r = cr.run(ts.state(), []);
        assert.equal(r.frontSize, ts.f.size, `${entry}-byte entries, ${pages} pages`);
        assert.equal(r.backSize, ts.b.size);
      }
    }
  });

  test("SHARED_RING_INIT writes the same header over junk", (t) => {
    if (unavailable) return t.skip(unavailable);
    const ts = fresh(2, "paged", 0x12345678, 99, E64);
    ts.view.setU32(16, 0xdeadbeef); // pvt
    ts.view.setU32(60, 0xdeadbeef); // __pad
    const before = ts.state();
    const r = c.get(E64)!.run(before, [[Op.SHARED_RING_INIT, 0]]);
    sharedRingInit(ts.view);
    sameState(ts.state(), r.state, "SHARED_RING_INIT");
  });

  const matrix: [number, number, ViewKind, number][] = [
    [E64, 1, "paged", 25],
    [E64, 1, "contiguous", 25],
    [E64, 4, "paged", 25],
    [E64, 4, "contiguous", 25],
    [E64, 64, "paged", 12],
    [E64, 64, "contiguous", 12],
    [E32, 1, "contiguous", 15],
    [E32, 2, "paged", 15],
    [E32, 64, "paged", 8],
  ];
  for (const [entry, pages, kind, numRuns] of matrix)
    test(`random scripts, ${entry}-byte entries, ${pages} page(s), ${kind} view: both directions`, (t) => {
      if (unavailable) return t.skip(unavailable);
      const cr = c.get(entry)!;
      fc.assert(
        fc.property(
          startArb,
          fc.nat(),
          fc.array(rawOpArb, { minLength: 10, maxLength: 100, size: "max" }),
          fc.nat(),
          (start, junk, raws, cut) => {
            const s0 = fresh(pages, kind, start, junk, entry).state();
            // our ring runs the whole script
            const ours = TsRing.load(s0, kind, entry);
            const { script, results } = ours.runRaw(raws);
            const end = ours.state();
            // C runs it from the same bytes
            const whole = cr.run(s0, script);
            assert.deepEqual(whole.results, results, "results (counts, notify, hashes)");
            sameState(whole.state, end, "whole script in C");
            // our bytes after a prefix, continued by C
            const m = cut % (script.length + 1);
            const prefix = script.slice(0, m);
            const suffix = script.slice(m);
            const mid = TsRing.load(s0, kind, entry);
            mid.run(prefix);
            const cSuffix = cr.run(mid.state(), suffix);
            assert.deepEqual(cSuffix.results, results.slice(m), "C continuing our bytes");
            sameState(cSuffix.state, end, "C continuing our bytes");
            // C's bytes after the prefix, continued by our ring (on the other kind of view)
            const cPrefix = cr.run(s0, prefix);
            const cont = TsRing.load(cPrefix.state, kind === "paged" ? "contiguous" : "paged", entry);
            assert.deepEqual(cont.run(suffix), results.slice(m), "our ring continuing C's bytes");
            sameState(cont.state(), end, "our ring continuing C's bytes");
          },
        ),
        { numRuns },
      );
    });
});
