// The session API on the call plane, in process and over real gRPC on loopback: sessions, xs replies,
// watch events on the bus, unknown sessions, and leases that run out.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { XsType } from "@xensim/abi";
import {
  type BusMsg,
  type CallClient,
  type CallServer,
  createGrpcCallClient,
  createGrpcCallServer,
  createInProcessBus,
  createInProcessCallClient,
  createInProcessCallServer,
  type EventBus,
} from "@xensim/bus";
import type { OpenSessionReply__Output, XsReply__Output } from "@xensim/proto";
import { loadXenstoreProto } from "@xensim/proto";
import { sleep, waitFor } from "@xensim/testkit";
import { parseXsStrings, XenstoreEngine, xsStrings } from "@xensim/xenstore";
import { pino } from "pino";
import { XenstoredCore } from "./xenstored.js";
import { XenstoreGrpcApi } from "./grpc-api.js";

const log = pino({ level: "silent" });
const def = () => loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
const DEFAULT_LEASE = 5000;
let unique = 0;

interface Plane {
  server: CallServer;
  /** After the service is added: listen, and return a client for it. */
  connect(): Promise<CallClient>;
}

const planes: Record<string, () => Plane> = {
  "in-process": () => {
    const name = `xs-api-test-${process.pid}-${++unique}`;
    const server = createInProcessCallServer({ name });
    return {
      server,
      connect: async () => {
        await server.listen();
        return createInProcessCallClient(def(), name);
      },
    };
  },
  "gRPC on 127.0.0.1:0": () => {
    const server = createGrpcCallServer({ address: "127.0.0.1:0" });
    return {
      server,
      connect: async () => createGrpcCallClient(def(), await server.listen()),
    };
  },
};

interface Fixture {
  engine: XenstoreEngine;
  core: XenstoredCore;
  bus: EventBus;
  api: XenstoreGrpcApi;
  server: CallServer;
  calls: CallClient;
  clock: { t: number };
}

async function startFixture(plane: Plane): Promise<Fixture> {
  const engine = new XenstoreEngine({
    onInternalError: (e) => {
      throw e;
    },
  });
  const core = new XenstoredCore(engine, null, log);
  const bus = createInProcessBus({ name: `xs-api-bus-${process.pid}-${++unique}` });
  const clock = { t: 1_000_000 };
  let sid = 0;
  const api = new XenstoreGrpcApi({
    core,
    bus,
    server: plane.server,
    log,
    epoch: "epoch-1",
    newSessionId: () => `s${++sid}`,
    now: () => clock.t,
    leaseMs: DEFAULT_LEASE,
    reapEveryMs: 5,
  });
  const calls = await plane.connect();
  return { engine, core, bus, api, server: plane.server, calls, clock };
}

async function stopFixture(f: Fixture): Promise<void> {
  f.calls.close();
  f.api.close();
  await f.server.close();
  f.core.close();
  await f.bus.close();
}

function open(f: Fixture, domid = 0, leaseMs = 0): Promise<OpenSessionReply__Output> {
  return f.calls.call<object, OpenSessionReply__Output>(
    "OpenSession",
    { domid, leaseMs, clientName: "test" },
    { deadlineMs: 5000 },
  );
}

function xs(
  f: Fixture,
  sessionId: string,
  type: number,
  txId: number,
  ...parts: (string | Uint8Array)[]
): Promise<XsReply__Output> {
  return f.calls.call<object, XsReply__Output>(
    "Request",
    { sessionId, type, reqId: 7, txId, payload: Buffer.from(xsStrings(...parts)) },
    { deadlineMs: 5000 },
  );
}

const text = (r: { payload: Uint8Array }) => Buffer.from(r.payload).toString("latin1");

/** Collects the watch events published on a session's subject, as [path, token]. */
async function watchSubject(f: Fixture, subject: string): Promise<string[][]> {
  const got: string[][] = [];
  f.bus.subscribe(subject, { callback: (m: BusMsg) => got.push(parseXsStrings(m.data)) });
  await f.bus.flush();
  return got;
}

for (const [planeName, makePlane] of Object.entries(planes)) {
  describe(`xenstore session API (${planeName})`, () => {
    let f: Fixture;
    beforeEach(async () => {
      f = await startFixture(makePlane());
    });
    afterEach(async () => {
      await stopFixture(f);
    });

    it("opens a session with the default or the requested lease", async () => {
      const s = await open(f);
      assert.deepEqual(
        { ...s },
        {
          sessionId: "s1",
          leaseMs: DEFAULT_LEASE,
          watchSubject: "xenstore.watch.s1",
          serverEpoch: "epoch-1",
        },
      );
      assert.equal((await open(f, 3, 250)).leaseMs, 250);
      assert.equal(f.api.sessionCount, 2);
      assert.equal(f.core.stats.connections, 2);
      await assert.rejects(open(f, 0x7ff0), { code: GRPC_INVALID_ARGUMENT });
    });

    it("answers xs requests with xs replies (errors included), as the session's domain", async () => {
      const s = await open(f);
      const w = await xs(f, s.sessionId, XsType.WRITE, 0, "/g/a", "v");
      assert.deepEqual(
        { type: w.type, reqId: w.reqId, txId: w.txId, text: text(w) },
        {
          type: XsType.WRITE,
          reqId: 7,
          txId: 0,
          text: "OK\0",
        },
      );
      assert.equal(text(await xs(f, s.sessionId, XsType.READ, 0, "/g/a")), "v\0");
      const miss = await xs(f, s.sessionId, XsType.READ, 0, "/g/none");
      assert.deepEqual([miss.type, text(miss)], [XsType.ERROR, "ENOENT\0"]);
      // A transaction carried in tx_id.
      const start = await xs(f, s.sessionId, XsType.TRANSACTION_START, 0, "");
      const tx = Number(parseXsStrings(start.payload)[0]);
      assert.ok(tx > 0);
      const inTx = await xs(f, s.sessionId, XsType.WRITE, tx, "/g/t", "1");
      assert.equal(inTx.txId, tx);
      assert.equal(f.engine.peek("/g/t"), undefined);
      assert.equal(text(await xs(f, s.sessionId, XsType.TRANSACTION_END, tx, "T")), "OK\0");
      assert.ok(f.engine.peek("/g/t"));
      // An unprivileged session: domain 5 may not read dom0's nodes.
      const d5 = await open(f, 5);
      const denied = await xs(f, d5.sessionId, XsType.READ, 0, "/g/a");
      assert.deepEqual([denied.type, text(denied)], [XsType.ERROR, "EACCES\0"]);
      const path = await xs(f, d5.sessionId, XsType.GET_DOMAIN_PATH, 0, "5");
      assert.equal(text(path), "/local/domain/5\0");
    });

    it("publishes watch events on the session's bus subject", async () => {
      const a = await open(f);
      const b = await open(f);
      const events = await watchSubject(f, a.watchSubject);
      const bEvents = await watchSubject(f, b.watchSubject);
      assert.equal(text(await xs(f, a.sessionId, XsType.WATCH, 0, "/ev", "tok")), "OK\0");
      await waitFor(() => events.length === 1, { message: "initial watch event" });
      await xs(f, b.sessionId, XsType.WRITE, 0, "/ev/x", "1");
      await xs(f, b.sessionId, XsType.RM, 0, "/ev/x");
      await waitFor(() => events.length === 3, { message: "watch events" });
      assert.deepEqual(events, [
        ["/ev", "tok"],
        ["/ev/x", "tok"],
        ["/ev/x", "tok"],
      ]);
      assert.deepEqual(bEvents, []);
    });

    it("answers NOT_FOUND for an unknown session", async () => {
      await assert.rejects(xs(f, "no-such-session", XsType.READ, 0, "/"), { code: GRPC_NOT_FOUND });
      await assert.rejects(
        f.calls.call("KeepAlive", { sessionId: "no-such-session" }, { deadlineMs: 5000 }),
        {
          code: GRPC_NOT_FOUND,
        },
      );
      // Closing an unknown session is not an error.
      await f.calls.call("CloseSession", { sessionId: "no-such-session" }, { deadlineMs: 5000 });
    });

    it("CloseSession drops the session's connection and watches", async () => {
      const a = await open(f, 4);
      await xs(f, a.sessionId, XsType.WATCH, 0, "/local/domain/4", "t");
      assert.equal(f.engine.quotaUsage(4).watches, 1);
      await f.calls.call("CloseSession", { sessionId: a.sessionId }, { deadlineMs: 5000 });
      assert.equal(f.api.sessionCount, 0);
      assert.equal(f.core.stats.connections, 0);
      assert.equal(f.engine.quotaUsage(4).watches, 0);
      await assert.rejects(xs(f, a.sessionId, XsType.READ, 0, "/"), { code: GRPC_NOT_FOUND });
    });

    it("reaps a session whose lease ran out, with its watches; KeepAlive and requests extend it", async () => {
      const lease = 1000;
      const a = await open(f, 0, lease);
      const other = await open(f, 0, 60_000);
      const events = await watchSubject(f, a.watchSubject);
      await xs(f, a.sessionId, XsType.WATCH, 0, "/lease", "t");
      await waitFor(() => events.length === 1);
      assert.equal(f.engine.quotaUsage(0).watches, 1);

      f.clock.t += 800;
      await f.calls.call("KeepAlive", { sessionId: a.sessionId }, { deadlineMs: 5000 });
      f.clock.t += 800; // 1600 since open, 800 since the keep-alive
      await xs(f, a.sessionId, XsType.READ, 0, "/tool"); // a request extends the lease too
      f.clock.t += 800;
      await sleep(30); // several reaper rounds
      assert.equal(f.api.sessionCount, 2, "reaped before its lease ran out");

      f.clock.t += 201; // 1001 since the last request
      await waitFor(() => f.api.sessionCount === 1, { message: "session reaped" });
      assert.equal(f.core.stats.connections, 1);
      assert.equal(f.engine.quotaUsage(0).watches, 0, "the reaped session's watch survived");
      await xs(f, other.sessionId, XsType.WRITE, 0, "/lease/x", "1");
      await sleep(30);
      assert.equal(events.length, 1, "an event for a reaped session");
      await assert.rejects(xs(f, a.sessionId, XsType.READ, 0, "/"), { code: GRPC_NOT_FOUND });
      assert.equal(f.api.sessionCount, 1);
    });
  });
}
