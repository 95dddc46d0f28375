// XenbusDevice against the real xenstore engine (XenstoreClient over an in-memory transport):
// otherend details and state tracking, switchState idempotence and its "don't resurrect" rule,
// the error node of devError/devFatal, transactions retried on EAGAIN, typed reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenErrno, XenbusState, XsType } from "@xensim/abi";
import type { XenstoreClient } from "@xensim/xenstore-client";
import { waitFor } from "@xensim/testkit";
import fc from "fast-check";
import { XenbusDevice } from "./device.js";
import { XenbusError } from "./errors.js";
import { scanInt, scanUnsigned, xbFormat } from "./format.js";
import type { XenbusStore, XenbusStoreOps } from "./store.js";
import { EngineHub } from "@xensim/xenstore-client";
import { createVbd } from "./testing/vbd.js";

const BACK = 0;
const FRONT = 7;

/** A client whose own transaction() does not retry, so EAGAIN reaches the xenbus loop. */
function noClientRetry(c: XenstoreClient): XenbusStore {
  return {
    read: (p) => c.read(p),
    tryRead: (p) => c.tryRead(p),
    write: (p, v) => c.write(p, v),
    ls: (p) => c.ls(p),
    mkdir: (p) => c.mkdir(p),
    rm: (p) => c.rm(p),
    setPerms: (p, perms) => c.setPerms(p, perms),
    watch: (p, t) => c.watch(p, t),
    transaction: (fn) => c.transaction(fn, { maxRetries: 0 }),
  };
}

async function setup(devid = 51712) {
  const hub = new EngineHub();
  const { client, transport } = hub.connect();
  const { client: toolstack } = hub.connect();
  const paths = await createVbd(toolstack, BACK, FRONT, devid);
  // XenstoreClient satisfies XenbusStore as it is (checked by the compiler here).
  const store: XenbusStore = client;
  const front = await XenbusDevice.open({ store, self: FRONT, side: "frontend", nodename: paths.front });
  const back = await XenbusDevice.open({ store, self: BACK, side: "backend", nodename: paths.back });
  return { hub, client, transport, toolstack, paths, front, back };
}

describe("XenbusDevice: otherend details", () => {
  it("reads backend/backend-id on the front and frontend/frontend-id on the back", async () => {
    const { paths, front, back } = await setup();
    assert.deepEqual(
      [front.type, front.devid, front.otherend, front.otherendId, front.state],
      ["vbd", "51712", paths.back, BACK, XenbusState.Initialising],
    );
    assert.deepEqual(
      [back.type, back.devid, back.otherend, back.otherendId, back.state],
      ["vbd", "51712", paths.front, FRONT, XenbusState.Initialising],
    );
    assert.equal(front.nodename, "/local/domain/7/device/vbd/51712");
    assert.equal(back.nodename, "/local/domain/0/backend/vbd/7/51712");
  });

  it("rejects a directory without the other end's keys (ENOENT) or with a bad id (EINVAL)", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const p = await createVbd(client, BACK, FRONT, 1, { omit: ["backend-id"] });
    await assert.rejects(
      XenbusDevice.open({ store: client, self: FRONT, side: "frontend", nodename: p.front }),
      (e: unknown) => e instanceof XenbusError && e.code === "ENOENT",
    );
    await client.write(`${p.back}/frontend-id`, "domU");
    await assert.rejects(
      XenbusDevice.open({ store: client, self: BACK, side: "backend", nodename: p.back }),
      (e: unknown) => e instanceof XenbusError && e.code === "EINVAL",
    );
    await client.rm(`${p.back}/state`);
    await client.write(`${p.back}/frontend-id`, "7");
    await assert.rejects(
      XenbusDevice.open({ store: client, self: BACK, side: "backend", nodename: p.back }),
      (e: unknown) => e instanceof XenbusError && e.code === "ENOENT",
    );
  });
});

describe("XenbusDevice: otherend state tracking", () => {
  it("follows the backend through a full connect / close sequence, then its removal", async () => {
    const { front, toolstack, paths } = await setup();
    const seenByHandler: XenbusState[] = [];
    front.onOtherendChanged = (s) => {
      seenByHandler.push(s);
    };
    const it = front.otherendStates();
    const next = async () => {
      const r = await it.next();
      assert.equal(r.done, false);
      return r.value as XenbusState;
    };
    // The watch's first event gives the current state.
    assert.equal(await next(), XenbusState.Initialising);
    const sequence = [
      XenbusState.InitWait,
      XenbusState.Connected,
      XenbusState.Connected, // re-written while connected: delivered again (online resize)
      XenbusState.Closing,
      XenbusState.Closed,
    ];
    for (const s of sequence) {
      await toolstack.write(`${paths.back}/state`, String(s));
      assert.equal(await next(), s);
      assert.equal(front.otherendState, s);
    }
    await toolstack.rm(paths.back);
    assert.equal(await next(), XenbusState.Unknown);
    await waitFor(() => seenByHandler.length === sequence.length + 2, { message: "handler calls" });
    assert.deepEqual(seenByHandler, [XenbusState.Initialising, ...sequence, XenbusState.Unknown]);
    await front.close();
    assert.deepEqual(await it.next(), { value: undefined, done: true });
  });

  it("under any burst of writes, the states seen are a subsequence ending in the last one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
        async (writes) => {
          const { front, toolstack, paths } = await setup();
          const seen: XenbusState[] = [];
          front.onOtherendChanged = (s) => seen.push(s);
          await front.watchOtherend();
          await waitFor(() => seen.length === 1, { message: "initial state" });
          // Written back to back, without waiting for the watch.
          for (const w of writes) await toolstack.write(`${paths.back}/state`, String(w));
          const last = writes[writes.length - 1]!;
          await waitFor(() => front.otherendState === last && seen.length >= 2, { message: `state ${last}` });
          await new Promise((r) => setTimeout(r, 5));
          assert.equal(seen.at(-1), last);
          // Every state seen was written, in the order written (reads may skip, never reorder).
          let i = 0;
          for (const s of seen.slice(1)) {
            while (i < writes.length && writes[i] !== s) i++;
            assert.ok(i < writes.length, `seen ${seen.join(",")} not a subsequence of ${writes.join(",")}`);
          }
          await front.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it("readOtherendState / readState read the nodes; garbage reads as Unknown", async () => {
    const { front, back, toolstack, paths } = await setup();
    await toolstack.write(`${paths.back}/state`, "4");
    assert.equal(await front.readOtherendState(), XenbusState.Connected);
    assert.equal(await back.readState(), XenbusState.Connected);
    await toolstack.write(`${paths.back}/state`, "x4");
    assert.equal(await front.readOtherendState(), XenbusState.Unknown);
    await toolstack.write(`${paths.back}/state`, "9");
    assert.equal(await front.readOtherendState(), XenbusState.Unknown);
  });

  it("waitForOtherend resolves on the awaited state", async () => {
    const { front, toolstack, paths } = await setup();
    const w = front.waitForOtherend([XenbusState.Connected]);
    await toolstack.write(`${paths.back}/state`, "2");
    await toolstack.write(`${paths.back}/state`, "4");
    assert.equal(await w, XenbusState.Connected);
    await front.close();
  });
});

describe("XenbusDevice: switchState", () => {
  it("writes a new state once; the same state again writes nothing and fires no watch", async () => {
    const { hub, front, paths, transport } = await setup();
    const { client: watcher } = hub.connect();
    const w = await watcher.watch(`${paths.front}/state`);
    const events: string[] = [];
    void (async () => {
      for await (const ev of w) events.push(ev.path);
    })();
    await waitFor(() => events.length === 1, { message: "initial watch event" });

    // Initialising is what open() read: no-op.
    const writes = () => transport.sent.filter((t) => t === XsType.WRITE).length;
    const before = writes();
    assert.equal(await front.switchState(XenbusState.Initialising), false);
    assert.equal(writes(), before);
    assert.equal(await front.switchState(XenbusState.Initialised), true);
    assert.equal(await front.switchState(XenbusState.Initialised), false);
    assert.equal(writes(), before + 1);
    assert.equal(await front.readState(), XenbusState.Initialised);
    assert.equal(front.state, XenbusState.Initialised);
    await waitFor(() => events.length >= 2, { message: "state watch event" });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(events.length, 2);
    await w.close();
  });

  it("concurrent switches to one state write it once", async () => {
    const { front, transport } = await setup();
    const before = transport.sent.filter((t) => t === XsType.WRITE).length;
    const r = await Promise.all([1, 2, 3].map(() => front.switchState(XenbusState.Connected)));
    assert.deepEqual(r.sort(), [false, false, true]);
    assert.equal(transport.sent.filter((t) => t === XsType.WRITE).length, before + 1);
  });

  it("does not resurrect a removed device directory", async () => {
    const { back, toolstack, paths } = await setup();
    await toolstack.rm(paths.back);
    assert.equal(await back.switchState(XenbusState.Closed), false);
    assert.equal(await toolstack.tryRead(paths.back), undefined);
    assert.equal(back.state, XenbusState.Initialising);
  });

  it("a failed write goes to the error node and the device moves to Closing", async () => {
    const { back, transport, toolstack, paths } = await setup();
    let failed = 0;
    transport.fault = (type, _tx, payload) => {
      const text = new TextDecoder().decode(payload);
      if (type === XsType.WRITE && text === `${paths.back}/state\0${XenbusState.Connected}`) {
        failed++;
        return "EACCES";
      }
      return undefined;
    };
    assert.equal(await back.switchState(XenbusState.Connected), false);
    assert.equal(failed, 1);
    assert.equal(
      await toolstack.read(`/local/domain/0/error/backend/vbd/${FRONT}/51712/error`),
      "13 writing new state",
    );
    assert.equal(await toolstack.read(`${paths.back}/state`), String(XenbusState.Closing));
    assert.equal(back.state, XenbusState.Closing);
  });
});

describe("XenbusDevice: error node", () => {
  it("devFatal writes error/<nodename>/error under the domain's home and switches to Closing", async () => {
    const { front, back, toolstack, paths } = await setup();
    await front.devFatal(-XenErrno.EINVAL, "bad %s %d at %x", "ring-ref", 7, 255);
    assert.equal(front.errorPath, `/local/domain/${FRONT}/error/device/vbd/51712/error`);
    assert.equal(await toolstack.read(front.errorPath), "22 bad ring-ref 7 at ff");
    assert.equal(await toolstack.read(`${paths.front}/state`), "5");
    assert.equal(front.state, XenbusState.Closing);

    const lines: string[] = [];
    const back2 = await XenbusDevice.open({
      store: back.store,
      self: BACK,
      side: "backend",
      nodename: paths.back,
      log: (l) => lines.push(l),
    });
    await back2.devError(-XenErrno.ENOMEM, "allocating %u pages", 16);
    assert.equal(
      await toolstack.read(`/local/domain/0/error/backend/vbd/${FRONT}/51712/error`),
      "12 allocating 16 pages",
    );
    assert.equal(await back2.readError(), "12 allocating 16 pages");
    assert.deepEqual(lines, [`${paths.back}: 12 allocating 16 pages`]);
    // devError alone leaves the state alone.
    assert.equal(await toolstack.read(`${paths.back}/state`), "1");
  });
});

describe("XenbusDevice: transactions retried on EAGAIN", () => {
  it("runs the body again after real conflicts, up to the injected bound", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const { client: other } = hub.connect();
    const paths = await createVbd(client, BACK, FRONT, 3);
    const dev = await XenbusDevice.open({
      store: noClientRetry(client),
      self: BACK,
      side: "backend",
      nodename: paths.back,
      transactionRetries: 3,
    });
    // Each attempt reads a node another connection then changes: the commit fails with EAGAIN.
    let attempts = 0;
    const conflicting = (conflicts: number) => async (tx: XenbusStoreOps) => {
      attempts++;
      const n = Number((await tx.tryRead(`${paths.back}/counter`)) ?? "0");
      if (attempts <= conflicts) await other.write(`${paths.back}/counter`, String(n + 100));
      await tx.write(`${paths.back}/counter`, String(n + 1));
      return attempts;
    };
    await client.write(`${paths.back}/counter`, "0");
    assert.equal(await dev.transaction(conflicting(3)), 4);
    assert.equal(await client.read(`${paths.back}/counter`), "301");

    attempts = 0;
    await assert.rejects(
      dev.transaction(conflicting(100)),
      (e: unknown) => (e as { code?: string }).code === "EAGAIN",
    );
    assert.equal(attempts, 4); // the first run and 3 retries
  });

  it("switchState survives EAGAIN storms on TRANSACTION_END", async () => {
    const hub = new EngineHub();
    const { client, transport } = hub.connect();
    const paths = await createVbd(client, BACK, FRONT, 4);
    const dev = await XenbusDevice.open({
      store: noClientRetry(client),
      self: FRONT,
      side: "frontend",
      nodename: paths.front,
    });
    let storms = 5;
    transport.fault = (type) => (type === XsType.TRANSACTION_END && storms-- > 0 ? "EAGAIN" : undefined);
    assert.equal(await dev.switchState(XenbusState.Initialised), true);
    assert.equal(storms, -1);
    assert.equal(await client.read(`${paths.front}/state`), "3");
    assert.equal(await client.tryRead(dev.errorPath), undefined);
  });
});

describe("XenbusDevice: typed reads", () => {
  it("readInt / readUnsigned / readFeature / gather convert like scanf", async () => {
    const { back, toolstack, paths } = await setup();
    await toolstack.write(`${paths.front}/ring-ref`, "8");
    await toolstack.write(`${paths.front}/event-channel`, " 5\n");
    await toolstack.write(`${paths.front}/protocol`, "x86_64-abi");
    await toolstack.write(`${paths.front}/feature-persistent`, "1");
    await toolstack.write(`${paths.front}/feature-x`, "0");
    await toolstack.write(`${paths.front}/bad`, "zz");
    assert.equal(await back.readInt(back.otherendPath("ring-ref")), 8);
    assert.equal(await back.readInt(back.otherendPath("event-channel")), 5);
    assert.equal(await back.readInt(back.otherendPath("absent")), undefined);
    assert.equal(await back.readInt(back.otherendPath("bad")), undefined);
    assert.equal(await back.readUnsigned(back.otherendPath("absent"), 4), 4);
    assert.equal(await back.readUnsigned(back.otherendPath("bad"), 4), 4);
    assert.equal(await back.readFeature(back.otherendPath("feature-persistent")), true);
    assert.equal(await back.readFeature(back.otherendPath("feature-x")), false);
    assert.equal(await back.readFeature(back.otherendPath("feature-absent")), false);
    const g = await back.gather(back.otherend, {
      "ring-ref": "uint",
      "event-channel": "int",
      protocol: "string",
    });
    assert.deepEqual(g, { "ring-ref": 8, "event-channel": 5, protocol: "x86_64-abi" });
    await assert.rejects(back.gather(back.otherend, { "ring-ref": "uint", nope: "int" }), (e: unknown) => {
      return e instanceof XenbusError && e.code === "ENOENT" && e.message.includes("nope");
    });
    await assert.rejects(back.gather(back.otherend, { bad: "int" }), (e: unknown) => {
      return e instanceof XenbusError && e.code === "EINVAL";
    });
    await back.printf(back.store, "sectors", "%u", 2 ** 31 + 5);
    assert.equal(await toolstack.read(`${paths.back}/sectors`), "2147483653");
  });

  it("scanInt / scanUnsigned invert xbFormat over their ranges", () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), (n) => {
        assert.equal(scanInt(xbFormat("%d", [n])), n);
        assert.equal(scanInt(`0x${xbFormat("%x", [n >= 0 ? n : 0])}`, "i"), n >= 0 ? n : 0);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.string(), (n, tail) => {
        // sscanf stops at the first non-digit.
        assert.equal(scanUnsigned(`${xbFormat("%u", [n])}${/^[0-9]/.test(tail) ? "" : tail}`), n);
      }),
    );
    assert.equal(scanInt("2147483648"), undefined);
    assert.equal(scanInt("-"), undefined);
    assert.equal(scanInt("010", "i"), 8);
    assert.equal(xbFormat("100%% %s %d", ["x"]), "100% x %d");
  });
});
