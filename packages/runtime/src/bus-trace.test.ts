import assert from "node:assert/strict";
import { test } from "node:test";
import { createInProcessBus } from "@xensim/bus";
import { TRACE_SUBJECTS } from "@xensim/subjects";
import { TRACE_EVTCHN, TRACE_RING, type TraceEvent, tracer } from "@xensim/trace";
import { serveBusTrace } from "./bus-trace.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the trace switch: on over the bus with a domain filter, batches out, off by mask 0 and by lease", async () => {
  const name = `bus-trace-${process.pid}`;
  const svcBus = createInProcessBus({ name });
  const listener = createInProcessBus({ name });
  const served = serveBusTrace(svcBus, "blkback", "host.a");
  const got: TraceEvent[] = [];
  const sub = listener.subscribe(TRACE_SUBJECTS.eventsAll, {
    callback: (m) => {
      assert.equal(m.subject, "xensim.trace.events.host_a.blkback");
      got.push(...(JSON.parse(dec.decode(m.data)) as { events: TraceEvent[] }).events);
    },
  });
  const control = (c: object) => listener.publish(TRACE_SUBJECTS.control, enc.encode(JSON.stringify(c)));
  try {
    assert.equal(tracer.mask, 0);
    control({ mask: TRACE_RING, domains: [3], leaseMs: 600 });
    await listener.flush();
    await sleep(50);
    assert.equal(tracer.mask, TRACE_RING);
    tracer.emit({ kind: "ring", op: "response", domid: 0, peer: 3, id: 1 });
    tracer.emit({ kind: "ring", op: "response", domid: 0, peer: 4, id: 2 }); // another domain
    tracer.emit({ kind: "ring", op: "completion", domid: 3, peer: 0, id: 1 });
    await sleep(100);
    assert.deepEqual(
      got.map((e) => [e.op, e.id, e.host, e.svc, e.seq]),
      [
        ["response", 1, "host.a", "blkback", 1],
        ["completion", 1, "host.a", "blkback", 2],
      ],
    );
    assert.ok(got[0]!.t <= got[1]!.t && got[0]!.wall > 0);
    control({ mask: 0, leaseMs: 600 });
    await listener.flush();
    await sleep(50);
    assert.equal(tracer.mask, 0, "off when asked");
    control({ mask: TRACE_EVTCHN, leaseMs: 500 });
    await listener.flush();
    await sleep(50);
    assert.equal(tracer.mask, TRACE_EVTCHN);
    await sleep(700);
    assert.equal(tracer.mask, 0, "off when the lease ran out without a renewal");
  } finally {
    sub.unsubscribe();
    served.stop();
    await svcBus.close();
    await listener.close();
  }
});
