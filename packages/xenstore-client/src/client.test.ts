// XenstoreClient over an in-memory transport that wraps the pure engine: the xs message behind every
// method, error mapping, transactions retried on EAGAIN, watch iterators, and reconnects.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XsType } from "@xensim/abi";
import { type ConnId, XenstoreEngine, type XsMessage, xsStrings } from "@xensim/xenstore";
import { type WatchEvent, XenstoreClient, XenstoreError, type XsWatch } from "./client.js";
import type { XsTransport } from "./transport.js";

const rethrow = (e: unknown) => {
  throw e;
};
const show = (p: Uint8Array) => Buffer.from(p).toString("latin1").replace(/\0/g, "|");
const tick = () => new Promise((r) => setImmediate(r));

/** One engine and the connections on it; watch events go to whichever transport owns the connection. */
class Hub {
  readonly engine = new XenstoreEngine({ onInternalError: rethrow });
  readonly owners = new Map<ConnId, FakeTransport>();
  private reqId = 1;
  /** A plain engine connection for "someone else" (dom0). */
  readonly other = this.engine.connect({ domid: 0 });

  request(conn: ConnId, type: number, txId: number, payload: Uint8Array): XsMessage {
    const out = this.engine.request(conn, { type, reqId: this.reqId++, txId, payload });
    // Events leave after the reply, as xenstored sends them.
    for (const ev of out.events) {
      const owner = this.owners.get(ev.conn);
      if (owner) queueMicrotask(() => owner.conn === ev.conn && owner.onWatchEvent(ev.msg.payload));
    }
    assert.ok(out.reply, "the engine dropped a connection");
    return out.reply;
  }

  /** A WRITE from the other connection (the value without a trailing nul). */
  otherWrites(path: string, value: string): void {
    const payload = Buffer.concat([xsStrings(path), Buffer.from(value)]);
    assert.equal(show(this.request(this.other, XsType.WRITE, 0, payload).payload), "OK|");
  }

  /** A request from the other connection; returns the reply's payload as text. */
  otherDoes(type: number, ...parts: (string | Uint8Array)[]): string {
    return show(this.request(this.other, type, 0, xsStrings(...parts)).payload);
  }
}

/** An XsTransport in memory. `restart()` plays a reconnect: a new connection, generation + 1. */
class FakeTransport implements XsTransport {
  onWatchEvent: (payload: Uint8Array) => void = () => {};
  onReconnect: () => Promise<void> = async () => {};
  generation = 0;
  conn: ConnId;
  /** Every request that reached the transport, in order. */
  readonly sent: { type: number; txId: number; payload: string }[] = [];
  /** Replies to give instead of asking the engine (by request type), once each. */
  readonly canned = new Map<number, XsMessage>();
  /** Runs before a request is handed to the engine (to reconnect in the middle of one). */
  beforeApply: ((type: number) => Promise<void>) | null = null;
  closed = false;

  constructor(
    readonly hub: Hub,
    readonly domid = 0,
  ) {
    this.conn = this.connect();
  }

  private connect(): ConnId {
    const c = this.hub.engine.connect({ domid: this.domid });
    this.hub.owners.set(c, this);
    return c;
  }

  async request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage> {
    if (this.closed) throw new Error("closed");
    this.sent.push({ type, txId, payload: show(payload) });
    const hook = this.beforeApply;
    if (hook) {
      this.beforeApply = null;
      await hook(type);
    }
    const canned = this.canned.get(type);
    if (canned) {
      this.canned.delete(type);
      return canned;
    }
    await tick();
    return this.hub.request(this.conn, type, txId, payload);
  }

  /** xenstored went away and came back: watches and transactions of the old connection are gone. */
  async restart(): Promise<void> {
    this.hub.engine.disconnect(this.conn);
    this.hub.owners.delete(this.conn);
    this.conn = this.connect();
    this.generation++;
    await this.onReconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function setup(domid = 0): { hub: Hub; t: FakeTransport; client: XenstoreClient } {
  const hub = new Hub();
  const t = new FakeTransport(hub, domid);
  return { hub, t, client: new XenstoreClient(t) };
}

/** Collects a watch's events in the background; `done` resolves when the iterator ends. */
function collect(w: XsWatch): { events: WatchEvent[]; done: Promise<void> } {
  const events: WatchEvent[] = [];
  const done = (async () => {
    for await (const e of w) events.push(e);
  })();
  return { events, done };
}

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (pred()) return;
    await tick();
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("XenstoreClient", () => {
  it("maps every method to its xs message", async () => {
    const { t, client } = setup();
    const cases: [string, () => Promise<unknown>, number, string, unknown][] = [
      ["write", () => client.write("/m/a", "v1"), XsType.WRITE, "/m/a|v1", undefined],
      [
        "write bytes",
        () => client.write("/m/b", Uint8Array.of(0, 0xff)),
        XsType.WRITE,
        "/m/b||\xff",
        undefined,
      ],
      ["read", () => client.read("/m/a"), XsType.READ, "/m/a|", "v1"],
      ["readBytes", () => client.readBytes("/m/b"), XsType.READ, "/m/b|", Uint8Array.of(0, 0xff)],
      ["tryRead", () => client.tryRead("/m/none"), XsType.READ, "/m/none|", undefined],
      ["exists", () => client.exists("/m/a"), XsType.READ, "/m/a|", true],
      ["exists (no)", () => client.exists("/m/none"), XsType.READ, "/m/none|", false],
      ["mkdir", () => client.mkdir("/m/d"), XsType.MKDIR, "/m/d|", undefined],
      ["ls", () => client.ls("/m"), XsType.DIRECTORY, "/m|", ["a", "b", "d"]],
      ["rm", () => client.rm("/m/d"), XsType.RM, "/m/d|", undefined],
      ["setPerms", () => client.setPerms("/m/a", ["n0", "r5"]), XsType.SET_PERMS, "/m/a|n0|r5|", undefined],
      ["getPerms", () => client.getPerms("/m/a"), XsType.GET_PERMS, "/m/a|", ["n0", "r5"]],
      ["getDomainPath", () => client.getDomainPath(3), XsType.GET_DOMAIN_PATH, "3|", "/local/domain/3"],
      [
        "introduceDomain",
        () => client.introduceDomain(3, 0x1234n, 5),
        XsType.INTRODUCE,
        "3|4660|5|",
        undefined,
      ],
      ["introduceDomain 4", () => client.introduceDomain(4, "77", 6), XsType.INTRODUCE, "4|77|6|", undefined],
      ["isDomainIntroduced", () => client.isDomainIntroduced(3), XsType.IS_DOMAIN_INTRODUCED, "3|", true],
      ["setTarget", () => client.setTarget(3, 4), XsType.SET_TARGET, "3|4|", undefined],
      ["resumeDomain", () => client.resumeDomain(3), XsType.RESUME, "3|", undefined],
      ["releaseDomain", () => client.releaseDomain(3), XsType.RELEASE, "3|", undefined],
      [
        "isDomainIntroduced (no)",
        () => client.isDomainIntroduced(3),
        XsType.IS_DOMAIN_INTRODUCED,
        "3|",
        false,
      ],
      ["control", () => client.control("print", "hello"), XsType.CONTROL, "print|hello|", "OK"],
      ["resetWatches", () => client.resetWatches(), XsType.RESET_WATCHES, "|", undefined],
    ];
    for (const [name, call, type, payload, result] of cases) {
      t.sent.length = 0;
      assert.deepEqual(await call(), result, name);
      assert.deepEqual(t.sent, [{ type, txId: 0, payload }], name);
    }

    // Watches: WATCH with and without depth, UNWATCH on close.
    t.sent.length = 0;
    const w1 = await client.watch("/m/a", "tok1");
    const w2 = await client.watch("/m", "tok2", 1);
    await w1.close();
    await w2.close();
    assert.deepEqual(t.sent, [
      { type: XsType.WATCH, txId: 0, payload: "/m/a|tok1|" },
      { type: XsType.WATCH, txId: 0, payload: "/m|tok2|1|" },
      { type: XsType.UNWATCH, txId: 0, payload: "/m/a|tok1|" },
      { type: XsType.UNWATCH, txId: 0, payload: "/m|tok2|" },
    ]);

    // A transaction: START with tx_id 0, the operations and END "T" with its id.
    t.sent.length = 0;
    const got = await client.transaction(async (tx) => {
      await tx.write("/m/t", "1");
      return tx.read("/m/t");
    });
    assert.equal(got, "1");
    const id = t.sent[1]!.txId;
    assert.ok(id > 0);
    assert.deepEqual(t.sent, [
      { type: XsType.TRANSACTION_START, txId: 0, payload: "|" },
      { type: XsType.WRITE, txId: id, payload: "/m/t|1" },
      { type: XsType.READ, txId: id, payload: "/m/t|" },
      { type: XsType.TRANSACTION_END, txId: id, payload: "T|" },
    ]);
  });

  it("turns XS_ERROR replies into XenstoreError with code and errno", async () => {
    const { hub, t, client } = setup(5);
    hub.otherDoes(XsType.MKDIR, "/local/domain/5");
    hub.otherDoes(XsType.SET_PERMS, "/local/domain/5", "n5");
    await assert.rejects(client.read("/local/domain/5/none"), (e: unknown) => {
      assert.ok(e instanceof XenstoreError);
      assert.equal(e.code, "ENOENT");
      assert.equal(e.errno, 2);
      assert.equal(e.op, "read");
      assert.equal(e.path, "/local/domain/5/none");
      assert.equal(e.message, "xenstore read /local/domain/5/none: ENOENT");
      return true;
    });
    await assert.rejects(client.write("/tool/x", "1"), { code: "EACCES", errno: 13 });
    await assert.rejects(client.write("/bad//path", "1"), { code: "EINVAL", errno: 22 });
    await assert.rejects(client.control("print", "x"), { code: "EACCES", errno: 13 });
    // Strings outside Xen's table (oxenstored's EQUOTA) keep their name and have no errno.
    for (const name of ["EQUOTA", "constructor", "toString"]) {
      t.canned.set(XsType.READ, { type: XsType.ERROR, reqId: 1, txId: 0, payload: xsStrings(name) });
      await assert.rejects(client.read("/x"), (e: unknown) => {
        assert.ok(e instanceof XenstoreError);
        assert.equal(e.code, name);
        assert.equal(e.errno, undefined, name);
        return true;
      });
    }
    t.canned.set(XsType.READ, { type: XsType.ERROR, reqId: 1, txId: 0, payload: new Uint8Array(0) });
    await assert.rejects(client.read("/x"), { code: "EINVAL" });
    // tryRead maps ENOENT only.
    assert.equal(await client.tryRead("/local/domain/5/none"), undefined);
    await assert.rejects(client.tryRead("/tool"), { code: "EACCES" });
  });

  it("retries a transaction on EAGAIN until it commits", async () => {
    const { hub, client } = setup();
    await client.write("/cnt", "0");
    const ids: number[] = [];
    const result = await client.transaction(async (tx) => {
      ids.push(tx.id);
      const v = Number(await tx.read("/cnt"));
      // Someone else changes what this transaction read, the first time only.
      if (ids.length === 1) hub.otherWrites("/cnt", "10");
      await tx.write("/cnt", String(v + 1));
      return v + 1;
    });
    assert.equal(ids.length, 2);
    assert.equal(result, 11);
    assert.equal(await client.read("/cnt"), "11");
  });

  it("gives up after maxRetries with EAGAIN, and leaves no transaction open", async () => {
    const { hub, t, client } = setup();
    await client.write("/cnt", "0");
    let attempts = 0;
    await assert.rejects(
      client.transaction(
        async (tx) => {
          attempts++;
          await tx.read("/cnt");
          hub.otherWrites("/cnt", String(attempts));
          await tx.write("/cnt", "mine");
        },
        { maxRetries: 3 },
      ),
      { code: "EAGAIN", errno: 11, name: "XenstoreError" },
    );
    assert.equal(attempts, 4, "one try and three retries");
    assert.equal(await client.read("/cnt"), "4");
    assert.deepEqual(hub.engine.connectionInfo(t.conn)?.transactions, []);
  });

  it("aborts and does not retry when fn throws something else", async () => {
    const { hub, t, client } = setup();
    let attempts = 0;
    await assert.rejects(
      client.transaction(async (tx) => {
        attempts++;
        await tx.write("/aborted", "1");
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(attempts, 1);
    assert.equal(t.sent.at(-1)?.payload, "F|");
    assert.equal(hub.engine.peek("/aborted"), undefined);
    assert.deepEqual(hub.engine.connectionInfo(t.conn)?.transactions, []);
  });

  it("a watch iterator delivers events in order and ends on close()", async () => {
    const { hub, client } = setup();
    const w = await client.watch("/w", "tok");
    const { events, done } = collect(w);
    await until(() => events.length === 1, "initial event");
    hub.otherDoes(XsType.WRITE, "/w/a", "1");
    hub.otherDoes(XsType.WRITE, "/w/b", "2");
    hub.otherDoes(XsType.RM, "/w/a");
    hub.otherDoes(XsType.WRITE, "/elsewhere", "x");
    hub.otherDoes(XsType.RM, "/w");
    await until(() => events.length === 5, "five events");
    assert.deepEqual(
      events.map((e) => `${e.path} ${e.token}`),
      ["/w tok", "/w/a tok", "/w/b tok", "/w/a tok", "/w tok"],
    );
    await w.close();
    await done; // the for-await loop ended
    assert.equal(hub.engine.quotaUsage(0).watches, 0);
    hub.otherDoes(XsType.WRITE, "/w/c", "3");
    await tick();
    assert.equal(events.length, 5);
    // Events that arrived before anyone iterated are kept; a closed watch iterates to its end.
    const w2 = await client.watch("/q");
    await tick();
    hub.otherDoes(XsType.WRITE, "/q/1", "1");
    await tick();
    const it2 = w2[Symbol.asyncIterator]();
    assert.deepEqual((await it2.next()).value, { path: "/q", token: w2.token });
    assert.deepEqual((await it2.next()).value, { path: "/q/1", token: w2.token });
    const pending = it2.next();
    await w2.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    // The same (path, token) twice is EEXIST, before anything is sent.
    const w3 = await client.watch("/q", w2.token);
    await assert.rejects(client.watch("/q", w2.token), { code: "EEXIST" });
    await w3.close();
  });

  it("keeps watches that share a token apart by path", async () => {
    const { hub, client } = setup();
    const a = collect(await client.watch("/a", "same"));
    const b = collect(await client.watch("/b", "same"));
    await until(() => a.events.length === 1 && b.events.length === 1, "initial events");
    hub.otherDoes(XsType.WRITE, "/b/x", "1");
    hub.otherDoes(XsType.WRITE, "/ab", "1"); // a sibling with a common prefix
    await until(() => b.events.length === 2, "event on /b");
    await tick();
    assert.deepEqual(a.events, [{ path: "/a", token: "same" }]);
    assert.deepEqual(b.events, [
      { path: "/b", token: "same" },
      { path: "/b/x", token: "same" },
    ]);
    await client.close();
    await a.done;
    await b.done;
  });

  it("re-registers its watches (with their depth) after the transport reconnects", async () => {
    const { hub, t, client } = setup();
    const r = collect(await client.watch("/r", "t1"));
    const d = collect(await client.watch("/d", "t2", 0));
    const gone = await client.watch("/gone", "t3");
    await gone.close();
    await until(() => r.events.length === 1 && d.events.length === 1, "initial events");
    const oldConn = t.conn;

    t.sent.length = 0;
    await t.restart();
    assert.deepEqual(t.sent, [
      { type: XsType.WATCH, txId: 0, payload: "/r|t1|" },
      { type: XsType.WATCH, txId: 0, payload: "/d|t2|0|" },
    ]);
    assert.equal(hub.engine.connectionInfo(oldConn), undefined);
    assert.deepEqual(hub.engine.connectionInfo(t.conn)?.watches, [
      { path: "/r", token: "t1", depth: -1 },
      { path: "/d", token: "t2", depth: 0 },
    ]);
    // Re-registering fires the initial events again (as xenstored does for every new WATCH).
    await until(() => r.events.length === 2 && d.events.length === 2, "events of the re-registration");
    hub.otherDoes(XsType.WRITE, "/r/x", "1");
    hub.otherDoes(XsType.WRITE, "/d/deeper", "1"); // below depth 0: no event for t2
    hub.otherDoes(XsType.WRITE, "/d", "1");
    await until(() => r.events.length === 3 && d.events.length === 3, "events after the reconnect");
    await tick();
    assert.deepEqual(r.events.at(-1), { path: "/r/x", token: "t1" });
    assert.deepEqual(
      d.events.map((e) => e.path),
      ["/d", "/d", "/d"],
    );
    await client.close();
  });

  it("a WATCH in flight across a reconnect is not reported as EEXIST", async () => {
    const { hub, t, client } = setup();
    // The connection drops while the WATCH is on its way: the client re-registers it on the new
    // connection, then the transport sends the original request again, which finds it there.
    t.beforeApply = async () => {
      await t.restart();
    };
    const w = collect(await client.watch("/race", "tok"));
    await until(() => w.events.length >= 1, "initial event");
    hub.otherDoes(XsType.WRITE, "/race/x", "1");
    await until(() => w.events.some((e) => e.path === "/race/x"), "event after the race");
    assert.deepEqual(hub.engine.connectionInfo(t.conn)?.watches, [
      { path: "/race", token: "tok", depth: -1 },
    ]);
    await client.close();
  });

  it("answers EAGAIN, without sending, for a transaction begun in an older generation", async () => {
    const { t, client } = setup();
    let attempts = 0;
    const generations: number[] = [];
    await client.transaction(async (tx) => {
      attempts++;
      generations.push(tx.generation);
      if (attempts === 1) {
        await t.restart();
        t.sent.length = 0;
        await assert.rejects(tx.write("/stale", "1"), { code: "EAGAIN", op: "write" });
        await assert.rejects(tx.read("/stale"), { code: "EAGAIN" });
        assert.deepEqual(t.sent, [], "a stale transaction's request was sent");
        throw new XenstoreError("EAGAIN", "write", "/stale");
      }
      await tx.write("/stale", "2");
    });
    assert.equal(attempts, 2);
    assert.deepEqual(generations, [0, 1]);
    // The abort of the stale transaction was not sent either; the retry went out on the new one.
    assert.ok(!t.sent.some((m) => m.type === XsType.TRANSACTION_END && m.payload === "F|"));
    assert.equal(await client.read("/stale"), "2");
  });
});
