// XenstoredCore: journal before reply, and a restart from snapshot + journal reproduces the live tree.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { XsType } from "@xensim/abi";
import { tempDir, testSeed } from "@xensim/testkit";
import {
  parseXsStrings,
  XenstoreEngine,
  type XenstoreSnapshot,
  type XsMessage,
  xsStrings,
} from "@xensim/xenstore";
import fc from "fast-check";
import { pino } from "pino";
import {
  ChaosPoints,
  WATCH_FIRST_EVENT,
  checkSerializability,
  type SerializabilityEvidence,
  type XsHistoryEvent,
} from "@xensim/chaos";
import { type ConnectionSink, XenstoredCore } from "./xenstored.js";
import { StateStore } from "./persistence.js";

const log = pino({ level: "silent" });
const rethrow = (e: unknown) => {
  throw e;
};

function journalRecords(dir: string): { seq: number; m: { op: string; path?: string }[] }[] {
  const p = join(dir, "journal.jsonl");
  if (!existsSync(p)) return [];
  return readFileSync(p, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

/** A sink that remembers what it got; `onSend` runs at the moment a message leaves. */
function fakeSink(onSend: (m: XsMessage) => void = () => {}): ConnectionSink & {
  got: XsMessage[];
  dropped: string[];
} {
  const got: XsMessage[] = [];
  const dropped: string[] = [];
  return {
    kind: "local",
    got,
    dropped,
    send(m) {
      got.push(m);
      onSend(m);
    },
    drop(reason) {
      dropped.push(reason);
    },
  };
}

function req(type: number, txId: number, ...parts: (string | Uint8Array)[]): XsMessage {
  return { type, reqId: 1, txId, payload: xsStrings(...parts) };
}

/** Tree and domains without generation counts and shutdown flags (a journal carries neither). */
function shape(s: XenstoreSnapshot): unknown {
  return {
    nodes: s.nodes.map(({ generation: _g, ...n }) => n),
    domains: s.domains.map(({ shutdown: _s, ...d }) => d),
  };
}

function restoreFrom(dir: string): XenstoreEngine {
  const store = new StateStore({ dir });
  const loaded = store.load();
  const engine = loaded.snapshot ? XenstoreEngine.restore(loaded.snapshot) : new XenstoreEngine();
  engine.applyMutations(loaded.journal);
  assert.equal(loaded.tornRecords, 0);
  return engine;
}

describe("XenstoredCore", () => {
  it("appends a mutation to the journal before its reply (and watch events) leave", () => {
    using tmp = tempDir("xs-core-");
    const state = new StateStore({ dir: tmp.path });
    const engine = new XenstoreEngine({ onInternalError: rethrow });
    state.load();
    state.open(() => engine.snapshot(), false);
    const core = new XenstoredCore(engine, state, log);

    const order: string[] = [];
    const seen = (who: string) => (m: XsMessage) => {
      // What is on disk at the moment the message leaves.
      const onDisk = journalRecords(tmp.path).flatMap((r) => r.m.map((x) => `${x.op} ${x.path ?? ""}`));
      order.push(`${who} type=${m.type} disk=[${onDisk.join(",")}]`);
    };
    const writer = core.connect(0, fakeSink(seen("writer")));
    const watcher = core.connect(0, fakeSink(seen("watcher")));
    core.request(watcher, req(XsType.WATCH, 0, "/w", "tok"));
    order.length = 0;

    const reply = core.request(writer, { type: XsType.WRITE, reqId: 9, txId: 0, payload: xsStrings("/w/x") });
    assert.equal(reply?.type, XsType.WRITE);
    assert.deepEqual(order, [
      "writer type=11 disk=[set /w,set /w/x]",
      "watcher type=15 disk=[set /w,set /w/x]",
    ]);

    // A transaction: nothing is journalled before the commit, everything before its reply.
    order.length = 0;
    const start = core.request(writer, req(XsType.TRANSACTION_START, 0, ""));
    const tx = Number(parseXsStrings(start!.payload)[0]);
    core.request(writer, req(XsType.WRITE, tx, "/w/t", "v"));
    assert.equal(journalRecords(tmp.path).length, 1);
    core.request(writer, req(XsType.TRANSACTION_END, tx, "T"));
    assert.deepEqual(order.slice(2), [
      "writer type=7 disk=[set /w,set /w/x,set /w/t]",
      "watcher type=15 disk=[set /w,set /w/x,set /w/t]",
    ]);
    // Failed requests and reads journal nothing.
    core.request(writer, req(XsType.RM, 0, "/nope/deeper"));
    core.request(writer, req(XsType.READ, 0, "/w/x"));
    assert.equal(journalRecords(tmp.path).length, 2);
    assert.deepEqual(
      journalRecords(tmp.path).map((r) => r.seq),
      [1, 2],
    );
    core.close();
  });

  it("counts requests, errors, events and connections; disconnect drops the sink", () => {
    const core = new XenstoredCore(new XenstoreEngine({ onInternalError: rethrow }), null, log);
    const a = fakeSink();
    const b = fakeSink();
    const ca = core.connect(0, a);
    const cb = core.connect(0, b);
    assert.equal(core.stats.connections, 2);
    core.request(ca, req(XsType.WATCH, 0, "/p", "t"));
    core.request(cb, req(XsType.WRITE, 0, "/p", "1"));
    core.request(cb, req(XsType.READ, 0, "/missing"));
    assert.deepEqual(core.stats, { requests: 3, errors: 1, watchEvents: 2, connections: 2 });
    core.disconnect(ca);
    core.disconnect(ca); // twice is fine
    assert.equal(core.stats.connections, 1);
    assert.equal(core.request(ca, req(XsType.READ, 0, "/p")), null);
    const before = a.got.length;
    core.request(cb, req(XsType.WRITE, 0, "/p", "2"));
    assert.equal(a.got.length, before, "a disconnected connection's watch fired");
    assert.equal(core.engine.quotaUsage(0).watches, 0);
    core.close();
  });

  it("property: an engine restored from snapshot + journal equals the live one", (t: TestContext) => {
    const seed = testSeed();
    t.diagnostic(`fast-check seed ${seed} (XENSIM_SEED=${seed} to replay)`);
    const d0Paths = ["/a", "/a/b", "/a/b/c", "/x", "/local/domain/1/data", "/local/domain/1/data/y", "/@bad"];
    const d1Paths = ["data", "data/y", "data/z", "/local/domain/1/q", "/a"];
    const valueArb = fc.uint8Array({ maxLength: 8 });
    const plainOp = (paths: string[]) =>
      fc.oneof(
        fc.record({ k: fc.constant("write" as const), p: fc.constantFrom(...paths), v: valueArb }),
        fc.record({ k: fc.constant("mkdir" as const), p: fc.constantFrom(...paths) }),
        fc.record({ k: fc.constant("rm" as const), p: fc.constantFrom(...paths) }),
        fc.record({
          k: fc.constant("perms" as const),
          p: fc.constantFrom(...paths),
          perms: fc.constantFrom(["n0"], ["n1", "r0"], ["b0"], ["n1"]),
        }),
        fc.record({ k: fc.constant("read" as const), p: fc.constantFrom(...paths) }),
      );
    const d0Op = fc.oneof(
      { weight: 5, arbitrary: plainOp(d0Paths) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant("introduce" as const),
          dom: fc.integer({ min: 2, max: 4 }),
          port: fc.integer({ min: 1, max: 9 }),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ k: fc.constant("release" as const), dom: fc.integer({ min: 2, max: 4 }) }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ k: fc.constant("gone" as const), dom: fc.integer({ min: 2, max: 4 }) }),
      },
    );
    const stepArb = fc.oneof(
      fc.record({ who: fc.constant("d0" as const), op: d0Op, tx: fc.constant("none" as const) }),
      fc.record({ who: fc.constant("d1" as const), op: plainOp(d1Paths), tx: fc.constant("none" as const) }),
      fc.record({
        who: fc.constantFrom("d0" as const, "d1" as const),
        ops: fc.array(plainOp(d1Paths), { maxLength: 4 }),
        tx: fc.constantFrom("commit" as const, "abort" as const),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(stepArb, { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        (steps, compactEvery) => {
          using tmp = tempDir("xs-core-");
          const state = new StateStore({ dir: tmp.path, compactEvery });
          const engine = new XenstoreEngine({ onInternalError: rethrow });
          state.load();
          state.open(() => engine.snapshot(), false);
          const core = new XenstoredCore(engine, state, log);
          const d0 = core.connect(0, fakeSink());
          core.request(d0, req(XsType.MKDIR, 0, "/local/domain/1"));
          core.request(d0, req(XsType.SET_PERMS, 0, "/local/domain/1", "n1"));
          const d1 = core.connect(1, fakeSink());
          type Plain = {
            k: "write" | "mkdir" | "rm" | "perms" | "read";
            p: string;
            v?: Uint8Array;
            perms?: readonly string[];
          };
          const plain = (conn: number, tx: number, op: Plain) => {
            switch (op.k) {
              case "write":
                return core.request(conn, req(XsType.WRITE, tx, op.p, op.v!));
              case "mkdir":
                return core.request(conn, req(XsType.MKDIR, tx, op.p));
              case "rm":
                return core.request(conn, req(XsType.RM, tx, op.p));
              case "perms":
                return core.request(conn, req(XsType.SET_PERMS, tx, op.p, ...op.perms!));
              case "read":
                return core.request(conn, req(XsType.READ, tx, op.p));
            }
          };
          for (const s of steps) {
            const conn = s.who === "d0" ? d0 : d1;
            if (s.tx === "none") {
              const op = s.op;
              if (op.k === "introduce")
                core.request(d0, req(XsType.INTRODUCE, 0, String(op.dom), "4096", String(op.port)));
              else if (op.k === "release") core.request(d0, req(XsType.RELEASE, 0, String(op.dom)));
              else if (op.k === "gone") core.domainGone(op.dom);
              else plain(conn, 0, op);
            } else {
              const r = core.request(conn, req(XsType.TRANSACTION_START, 0, ""));
              assert.equal(r?.type, XsType.TRANSACTION_START);
              const tx = Number(parseXsStrings(r!.payload)[0]);
              for (const op of s.ops) plain(conn, tx, op);
              core.request(conn, req(XsType.TRANSACTION_END, tx, s.tx === "commit" ? "T" : "F"));
            }
            assert.deepEqual(engine.checkStore(), []);
          }
          // A kill -9 now: whatever was acknowledged is on disk.
          assert.deepEqual(shape(restoreFrom(tmp.path).snapshot()), shape(engine.snapshot()));
          // An orderly stop compacts; the result is the same.
          const live = engine.snapshot();
          core.close();
          assert.deepEqual(journalRecords(tmp.path), []);
          assert.deepEqual(shape(restoreFrom(tmp.path).snapshot()), shape(live));
        },
      ),
      { seed, numRuns: 80 },
    );
  });
});

describe("serializability: xenstored's transaction history, and a broken xenstored caught", () => {
  // Two connections increment one counter in transactions, interleaved: both read, A commits,
  // B writes and commits. A sound xenstored answers B's end EAGAIN; with the conflict check
  // skipped (chaos kind xenstore.conflict-check-skipped) B commits and A's update is lost.
  const run = (broken: boolean) => {
    const chaos = new ChaosPoints({ service: "xenstored", now: () => 0, seed: 1 });
    const core = new XenstoredCore(
      new XenstoreEngine({
        onInternalError: (e) => {
          throw e;
        },
      }),
      null,
      pino({ level: "silent" }),
      { chaos },
    );
    chaos.observation("xenstore-history", "start");
    if (broken) chaos.set({ kind: "xenstore.conflict-check-skipped" });
    const a = core.connect(0, fakeSink());
    const b = core.connect(0, fakeSink());
    const one = (conn: number, m: XsMessage) => core.request(conn, m)!;
    assert.equal(one(a, req(XsType.WRITE, 0, "/counter", "0")).type, XsType.WRITE);
    const ta = Number(parseXsStrings(one(a, req(XsType.TRANSACTION_START, 0, "")).payload)[0]);
    const tb = Number(parseXsStrings(one(b, req(XsType.TRANSACTION_START, 0, "")).payload)[0]);
    const va = Number(parseXsStrings(one(a, req(XsType.READ, ta, "/counter")).payload)[0]);
    const vb = Number(parseXsStrings(one(b, req(XsType.READ, tb, "/counter")).payload)[0]);
    one(a, req(XsType.WRITE, ta, "/counter", String(va + 1)));
    assert.equal(one(a, req(XsType.TRANSACTION_END, ta, "T")).type, XsType.TRANSACTION_END);
    one(b, req(XsType.WRITE, tb, "/counter", String(vb + 1)));
    const endB = one(b, req(XsType.TRANSACTION_END, tb, "T"));
    const history = chaos.observation("xenstore-history", "take") as XsHistoryEvent[];
    return { endB, history, check: checkSerializability(history) };
  };

  it("sound: the second end is EAGAIN, the history says so, and it is serializable", () => {
    const { endB, history, check } = run(false);
    assert.equal(endB.type, XsType.ERROR);
    assert.deepEqual(parseXsStrings(endB.payload), ["EAGAIN"]);
    assert.deepEqual(
      history.map((e) => `${e.op}${"path" in e ? ` ${e.path}` : ""}${e.op === "end" ? ` ${e.result}` : ""}`),
      [
        "write /counter",
        "start",
        "start",
        "read /counter",
        "read /counter",
        "write /counter",
        "end ok",
        "write /counter",
        "end EAGAIN",
      ],
    );
    assert.equal(check.pass, true, check.summary);
  });

  it("broken (conflict check skipped): both commit, a lost update, and the check fails with the cycle", () => {
    const { endB, check } = run(true);
    assert.equal(endB.type, XsType.TRANSACTION_END, "the broken xenstored let it commit");
    assert.equal(check.pass, false);
    const cycle = (check.evidence[0] as SerializabilityEvidence).cycle;
    assert.equal(cycle.length, 2);
    assert.ok(
      cycle.every((x) => / \/counter → /.test(x.then)),
      JSON.stringify(cycle),
    );
  });
});

describe("xenstore.request-delayed", () => {
  it("holds a connection's next request back delayMs (canRead false), then resumes its sink and reads it", async () => {
    const chaos = new ChaosPoints({ service: "xenstored", now: () => 0, seed: 1 });
    const core = new XenstoredCore(new XenstoreEngine({ onInternalError: rethrow }), null, log, { chaos });
    let resumed = 0;
    const conn = core.connect(0, { ...fakeSink(), resume: () => void resumed++ });
    const other = core.connect(0, fakeSink());
    chaos.set({ kind: "xenstore.request-delayed", delayMs: 40, count: 1 });
    assert.equal(core.canRead(conn), false, "its next request waits");
    assert.equal(core.canRead(other), true, "count 1: only one request is delayed");
    assert.equal(core.canRead(conn), false, "still waiting");
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(resumed, 1, "its sink was resumed after the delay");
    assert.equal(core.canRead(conn), true);
    assert.equal(core.request(conn, req(XsType.WRITE, 0, "/d", "1"))!.type, XsType.WRITE);
    assert.deepEqual(
      chaos.records.map((r) => [r.kind, r.delayMs]),
      [["xenstore.request-delayed", 40]],
    );
  });
});

describe("xenstore.watch-lost", () => {
  it("names the loss of XS_WATCH's first event apart from a lost change (the checkers classify on it)", () => {
    const chaos = new ChaosPoints({ service: "xenstored", now: () => 0, seed: 1 });
    const core = new XenstoredCore(new XenstoreEngine({ onInternalError: rethrow }), null, log, { chaos });
    const sink = fakeSink();
    const conn = core.connect(0, sink);
    assert.equal(core.request(conn, req(XsType.WRITE, 0, "/fe/state", "4"))!.type, XsType.WRITE);
    chaos.set({ kind: "xenstore.watch-lost" });
    assert.equal(core.request(conn, req(XsType.WATCH, 0, "/fe/state", "tok"))!.type, XsType.WATCH);
    assert.equal(core.request(conn, req(XsType.WRITE, 0, "/fe/state", "5"))!.type, XsType.WRITE);
    assert.equal(sink.got.filter((m) => m.type === XsType.WATCH_EVENT).length, 0, "both events lost");
    assert.deepEqual(
      chaos.records.map((r) => r.target),
      [`conn ${conn} /fe/state ${WATCH_FIRST_EVENT}`, `conn ${conn} /fe/state`],
    );
  });
});
