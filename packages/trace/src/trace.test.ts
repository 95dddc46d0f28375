import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  compareTraceEvents,
  formatTraceEvent,
  onTraceSwitch,
  parseTraceKinds,
  setTracer,
  TRACE_ALL,
  TRACE_EVTCHN,
  TRACE_RING,
  traceKindNames,
  traceMatches,
  tracer,
  type TraceEvent,
  TraceOrderBuffer,
  type TraceRecord,
} from "./index.js";

const ev = (t: number, over: Partial<TraceEvent> = {}): TraceEvent => ({
  kind: "ring",
  op: "request",
  domid: 1,
  peer: 0,
  t,
  wall: 1_700_000_000_000,
  host: "vm",
  svc: "guest",
  seq: 1,
  ...over,
});

describe("trace switch", () => {
  it("is off by default and after setTracer(0); on only for the kinds asked", () => {
    assert.equal(tracer.mask, 0);
    const got: TraceRecord[] = [];
    setTracer(TRACE_RING, (r) => got.push(r));
    assert.ok(tracer.mask & TRACE_RING);
    assert.equal(tracer.mask & TRACE_EVTCHN, 0);
    if (tracer.mask & TRACE_RING) tracer.emit({ kind: "ring", op: "request", domid: 1 });
    setTracer(0);
    assert.equal(tracer.mask, 0);
    tracer.emit({ kind: "ring", op: "request", domid: 2 }); // goes nowhere
    assert.deepEqual(
      got.map((r) => r.domid),
      [1],
    );
  });

  it("tells switch listeners each new mask until they unsubscribe", () => {
    const masks: number[] = [];
    const unsubscribe = onTraceSwitch((m) => masks.push(m));
    setTracer(TRACE_RING | TRACE_EVTCHN, () => {});
    setTracer(TRACE_RING); // no sink: off
    setTracer(0);
    unsubscribe();
    setTracer(TRACE_RING, () => {});
    setTracer(0);
    assert.deepEqual(masks, [TRACE_RING | TRACE_EVTCHN, 0, 0]);
  });

  it("parses kinds and refuses unknown ones naming the valid kinds", () => {
    assert.equal(parseTraceKinds(undefined), TRACE_ALL);
    assert.equal(parseTraceKinds(""), TRACE_ALL);
    assert.equal(parseTraceKinds("ring,evtchn"), TRACE_RING | TRACE_EVTCHN);
    assert.equal(parseTraceKinds(["ring", "evtchn"]), TRACE_RING | TRACE_EVTCHN);
    assert.equal(parseTraceKinds("all"), TRACE_ALL);
    assert.deepEqual(traceKindNames(TRACE_RING | TRACE_EVTCHN), ["ring", "evtchn"]);
    assert.throws(
      () => parseTraceKinds("ring,bogus"),
      /unknown trace kind 'bogus' \(kinds: xs, ring, evtchn, grant/,
    );
  });

  it("matches a domain filter on the acting domain or the other end", () => {
    const e = ev(1, { domid: 0, peer: 3 });
    assert.ok(traceMatches(e, TRACE_ALL, undefined));
    assert.ok(traceMatches(e, TRACE_ALL, new Set([3])));
    assert.ok(traceMatches(e, TRACE_ALL, new Set([0])));
    assert.ok(!traceMatches(e, TRACE_ALL, new Set([4])));
    assert.ok(!traceMatches(e, TRACE_EVTCHN, undefined));
  });

  it("formats one line with the decoded fields", () => {
    const line = formatTraceEvent(
      ev(5, { operation: "write", grefs: [8, 9], id: 3, payload: ["a b", "x"] } as Partial<TraceEvent>),
    );
    assert.match(
      line,
      /^\d\d:\d\d:\d\d\.\d{3} vm\/guest +ring +request +d1>d0 +operation=write grefs=\[8,9\] id=3 payload=\["a b",x\]$/,
    );
  });
});

describe("TraceOrderBuffer", () => {
  it("releases events from interleaved per-thread streams in clock order (property; seed printed on failure)", () => {
    const streams = fc.array(fc.array(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 30 }), {
      minLength: 1,
      maxLength: 5,
    });
    fc.assert(
      fc.property(streams, fc.array(fc.nat(), { maxLength: 200 }), (raw, picks) => {
        // each stream is FIFO (one thread's clock only goes forward); arrival interleaves them
        const queues = raw.map((ts, s) =>
          [...ts].sort((a, b) => a - b).map((t, i) => ev(t, { svc: `s${s}`, seq: i + 1 })),
        );
        const total = queues.reduce((n, q) => n + q.length, 0);
        const buf = new TraceOrderBuffer({ windowNs: 2_000_000 }); // wider than any skew here
        const out: TraceEvent[] = [];
        let k = 0;
        while (queues.some((q) => q.length > 0)) {
          const live = queues.filter((q) => q.length > 0);
          const q = live[(picks[k++] ?? 0) % live.length]!;
          out.push(...buf.add([q.shift()!]));
        }
        out.push(...buf.flush());
        assert.equal(out.length, total);
        for (let i = 1; i < out.length; i++) assert.ok(compareTraceEvents(out[i - 1]!, out[i]!) <= 0);
        assert.ok(out.every((e) => e.late === undefined));
      }),
    );
  });

  it("holds events for the window by the listener's clock, then releases them; a late one is passed on marked", () => {
    const buf = new TraceOrderBuffer({ windowNs: 100 });
    assert.deepEqual(buf.add([ev(1000), ev(950)]), []);
    assert.deepEqual(buf.add([ev(5000)]), [], "a newer event does not push the older ones out");
    assert.deepEqual(
      buf.tick(1060).map((e) => e.t),
      [950],
    );
    assert.deepEqual(
      buf.tick(1101).map((e) => e.t),
      [1000],
    );
    const late = buf.add([ev(900)]);
    assert.deepEqual(
      late.map((e) => [e.t, e.late]),
      [[900, true]],
    );
    assert.deepEqual(
      buf.flush().map((e) => e.t),
      [5000],
    );
    assert.equal(buf.size, 0);
  });
});
