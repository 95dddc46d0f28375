// Output queues and flow control (XSA-326): outstanding requests, events keeping their cause
// outstanding, coalescing, memory quota, stall and drop limits, the watch-event timeout, and that a
// closed connection leaves nothing behind. With the real engine (pure) as the accounting.
// fast-check prints the seed and the shrunk counterexample on failure.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XsType } from "@xensim/abi";
import fc from "fast-check";
import { binaryStrings } from "./bytes.js";
import { XenstoreEngine } from "./engine.js";
import { wireBytes, XsOutputQueues } from "./output-queue.js";
import type { ConnId } from "./types.js";
import type { XsMessage } from "./wire.js";

let reqId = 1;
function req(type: number, ...args: string[]): XsMessage {
  const payload = binaryStrings(args);
  // WRITE: the value has no trailing nul.
  return {
    type,
    reqId: reqId++,
    txId: 0,
    payload: type === XsType.WRITE ? payload.subarray(0, -1) : payload,
  };
}

/** An engine with dom0 and a guest (domid 1, home owned by it, readable by dom0) and the queues. */
function setup(limits: ConstructorParameters<typeof XsOutputQueues>[1] = {}, quotas = {}) {
  const engine = new XenstoreEngine({
    quotas,
    onInternalError: (e) => {
      throw e;
    },
  });
  const queues = new XsOutputQueues(engine, limits);
  const open = (domid: number): ConnId => {
    const conn = engine.connect({ domid });
    queues.open(conn, domid, domid === 0);
    return conn;
  };
  const admin = open(0);
  const send = (conn: ConnId, msg: XsMessage, now = 0) => queues.queue(conn, engine.request(conn, msg), now);
  send(admin, req(XsType.MKDIR, "/local/domain/1"));
  send(admin, req(XsType.SET_PERMS, "/local/domain/1", "b1", "r0"));
  drain(queues, admin);
  return { engine, queues, open, admin, send };
}

/** The transport takes and writes everything queued for `conn`; returns the messages. */
function drain(queues: XsOutputQueues, conn: ConnId): XsMessage[] {
  const got: XsMessage[] = [];
  for (;;) {
    const msg = queues.next(conn);
    if (!msg) break;
    got.push(msg);
    queues.written(conn);
  }
  return got;
}

describe("XsOutputQueues", () => {
  it("an unprivileged domain stalls at `outstanding` unwritten replies, and reads again as they drain", () => {
    const { queues, open, send, engine } = setup({}, { outstanding: 3 });
    const guest = open(1);
    for (let i = 0; i < 3; i++) {
      assert.equal(queues.canRead(guest), true, `request ${i} may be read`);
      send(guest, req(XsType.READ, "/local/domain/1"));
    }
    assert.equal(queues.outstandingOf(1), 3);
    assert.equal(queues.canRead(guest), false, "stalled at the outstanding quota");
    assert.ok(queues.next(guest));
    assert.equal(queues.canRead(guest), false, "a reply handed over is still outstanding");
    queues.written(guest);
    assert.equal(queues.canRead(guest), true);
    assert.equal(drain(queues, guest).length, 2);
    assert.equal(queues.outstandingOf(1), 0);
    assert.equal(engine.quotaUsage(1).output, 0);
  });

  it("watch events keep the request that caused them outstanding until they are out (the watcher never reads)", () => {
    const { queues, open, send, admin } = setup({}, { outstanding: 2 });
    const guest = open(1);
    send(admin, req(XsType.WATCH, "/local/domain/1", "w"));
    drain(queues, admin); // OK and the first event
    send(guest, req(XsType.WRITE, "a", "1"));
    send(guest, req(XsType.WRITE, "b", "1"));
    assert.equal(drain(queues, guest).length, 2, "both replies written");
    assert.equal(queues.outstandingOf(1), 2, "the events for dom0 are still queued");
    assert.equal(queues.canRead(guest), false, "the writer stalls, not only the watcher");
    const events = drain(queues, admin);
    assert.deepEqual(
      events.map((m) => m.type),
      [XsType.WATCH_EVENT, XsType.WATCH_EVENT],
    );
    assert.equal(queues.outstandingOf(1), 0);
    assert.equal(queues.canRead(guest), true);
  });

  it("coalesces identical waiting watch events, not special ones, and not after they were handed over", () => {
    const { queues, send, admin } = setup();
    send(admin, req(XsType.WATCH, "/x", "t"));
    drain(queues, admin);
    for (let i = 0; i < 5; i++) send(admin, req(XsType.WRITE, "/x", String(i)));
    // Five replies and one event (four coalesced).
    const msgs = drain(queues, admin);
    assert.equal(msgs.filter((m) => m.type === XsType.WATCH_EVENT).length, 1);
    assert.equal(queues.stats.eventsCoalesced, 4);
    send(admin, req(XsType.WRITE, "/x", "again"));
    assert.equal(drain(queues, admin).filter((m) => m.type === XsType.WATCH_EVENT).length, 1);
  });

  it("drops watch events for an unprivileged receiver at its memory quota; dom0 receives them all", () => {
    const { engine, queues, open, send, admin } = setup({}, { memory: 4096 });
    const guest = open(1);
    // Nodes dom0 owns and the guest may read: their memory is dom0's, the events' the guest's.
    send(admin, req(XsType.MKDIR, "/shared"));
    send(admin, req(XsType.SET_PERMS, "/shared", "n0", "r1"));
    send(guest, req(XsType.WATCH, "/shared", "g"));
    drain(queues, guest);
    send(admin, req(XsType.WATCH, "/shared", "d"));
    drain(queues, admin);
    for (let i = 0; i < 200; i++) send(admin, req(XsType.WRITE, `/shared/n${i}`, ""));
    const toAdmin = drain(queues, admin).filter((m) => m.type === XsType.WATCH_EVENT);
    assert.equal(toAdmin.length, 200, "dom0 is not limited");
    assert.ok(queues.stats.eventsDroppedForMemory > 0, "events for the guest were dropped");
    assert.ok(engine.domainMemory(1) < 4096, `guest memory ${engine.domainMemory(1)} under its quota`);
    assert.equal(queues.canRead(guest), true, "dom0 cannot push the guest to its quota with events");
    assert.ok(queues.queuedMessages(guest) < 200);
  });

  it("stops reading any connection at stallBytes and drops one past dropBytes (a dom0 watcher that never reads)", () => {
    const { queues, open, send, admin } = setup({ stallBytes: 1000, dropBytes: 5000 });
    const watcher = open(0);
    send(watcher, req(XsType.WATCH, "/w", "t"));
    let dropped: ConnId[] = [];
    let i = 0;
    for (; i < 1000 && dropped.length === 0; i++) {
      dropped = send(admin, req(XsType.WRITE, `/w/${i}`, ""));
      drain(queues, admin);
      if (queues.queuedBytes(watcher) >= 1000) assert.equal(queues.canRead(watcher), false);
    }
    assert.deepEqual(dropped, [watcher]);
    assert.ok(queues.queuedBytes(watcher) > 5000 && queues.queuedBytes(watcher) < 5200);
    assert.equal(queues.stats.connectionsDropped, 1);
    queues.close(watcher);
    assert.equal(queues.queuedBytes(watcher), 0);
  });

  it("discards watch events an unprivileged connection leaves waiting past the timeout", () => {
    const { queues, open, send, admin, engine } = setup({ watchEventTimeoutMs: 1000 });
    const guest = open(1);
    send(guest, req(XsType.WATCH, "/local/domain/1", "g"), 0);
    drain(queues, guest);
    send(admin, req(XsType.WRITE, "/local/domain/1/a", ""), 100);
    send(admin, req(XsType.WRITE, "/local/domain/1/b", ""), 900);
    assert.equal(queues.expire(1099), 0);
    assert.equal(queues.expire(1100), 1);
    assert.equal(queues.queuedMessages(guest), 1);
    assert.equal(queues.expire(1900), 1);
    assert.equal(queues.queuedMessages(guest), 0);
    assert.equal(engine.quotaUsage(1).output, 0);
    assert.equal(queues.stats.eventsExpired, 2);
  });

  it("property: bytes and outstanding always match the engine; closing every connection returns all", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            who: fc.integer({ min: 0, max: 3 }),
            op: fc.constantFrom("write", "watch", "take", "written", "close", "expire"),
            n: fc.integer({ min: 0, max: 7 }),
          }),
          { maxLength: 120 },
        ),
        (steps) => {
          const { engine, queues, admin } = setup(
            { stallBytes: 300, dropBytes: 2000, watchEventTimeoutMs: 50 },
            {
              outstanding: 4,
              memory: 3000,
            },
          );
          const conns: { conn: ConnId; domid: number }[] = [{ conn: admin, domid: 0 }];
          for (const domid of [1, 1, 0]) {
            const conn = engine.connect({ domid });
            queues.open(conn, domid, domid === 0);
            conns.push({ conn, domid });
          }
          let now = 0;
          for (const step of steps) {
            now += 10;
            const c = conns[step.who]!;
            switch (step.op) {
              case "write":
                if (!queues.canRead(c.conn)) break;
                for (const d of queues.queue(
                  c.conn,
                  engine.request(c.conn, req(XsType.WRITE, `/local/domain/1/${step.n}`, "v")),
                  now,
                )) {
                  queues.close(d);
                  engine.disconnect(d);
                }
                break;
              case "watch":
                if (!queues.canRead(c.conn)) break;
                queues.queue(
                  c.conn,
                  engine.request(c.conn, req(XsType.WATCH, "/local/domain/1", `t${step.n}`)),
                  now,
                );
                break;
              case "take":
                queues.next(c.conn);
                break;
              case "written":
                queues.written(c.conn);
                break;
              case "close":
                queues.close(c.conn);
                engine.disconnect(c.conn);
                break;
              case "expire":
                queues.expire(now);
                break;
            }
            for (const domid of [0, 1]) {
              let bytes = 0;
              for (const x of conns) if (x.domid === domid) bytes += queues.queuedBytes(x.conn);
              assert.equal(engine.quotaUsage(domid).output, bytes, `output bytes of dom${domid}`);
            }
          }
          for (const c of conns) {
            queues.close(c.conn);
            engine.disconnect(c.conn);
          }
          assert.equal(queues.outstandingOf(0), 0);
          assert.equal(queues.outstandingOf(1), 0);
          assert.equal(engine.quotaUsage(0).output, 0);
          assert.equal(engine.quotaUsage(1).output, 0);
          assert.equal(queues.connectionCount, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("wireBytes is the header plus the payload", () => {
    assert.equal(wireBytes({ type: 2, reqId: 0, txId: 0, payload: new Uint8Array(10) }), 26);
  });
});
