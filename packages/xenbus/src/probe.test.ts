// XenbusProbe against the real xenstore engine: devices appear when their directory holds state
// (Initialising) and the other end's keys, disappear when the directory goes; backend and frontend
// layouts; a random add/remove schedule converges to the store's contents.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenbusState } from "@xensim/abi";
import { waitFor } from "@xensim/testkit";
import fc from "fast-check";
import { backendRoot } from "./paths.js";
import { XenbusProbe, type XenbusProbeEvent } from "./probe.js";
import { EngineHub } from "@xensim/xenstore-client";
import { createVbd } from "./testing/vbd.js";

function collect<V>(probe: XenbusProbe<V>): XenbusProbeEvent<V>[] {
  const out: XenbusProbeEvent<V>[] = [];
  void (async () => {
    for await (const ev of probe.events()) out.push(ev);
  })();
  return out;
}
const summary = (evs: XenbusProbeEvent[]) =>
  evs.map(
    (e) =>
      `${e.kind} ${e.device.devid} fe=${e.device.side === "backend" ? e.device.otherendId : e.device.self}`,
  );

describe("XenbusProbe, backend side", () => {
  it("finds devices present at start and added later; removes them with their directory", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const { client: toolstack } = hub.connect();
    await createVbd(toolstack, 0, 5, 51712);
    const added: string[] = [];
    const removed: string[] = [];
    const probe = await XenbusProbe.start({
      store: client,
      self: 0,
      side: "backend",
      type: "vbd",
      onAdded: (d) => {
        added.push(d.nodename);
      },
      onRemoved: (d) => {
        removed.push(d.nodename);
      },
    });
    assert.equal(probe.root, "/local/domain/0/backend/vbd");
    assert.deepEqual(added, ["/local/domain/0/backend/vbd/5/51712"]);
    const events = collect(probe);

    await createVbd(toolstack, 0, 5, 51728);
    await createVbd(toolstack, 0, 6, 768);
    // Another class and another backend domain are not ours.
    await createVbd(toolstack, 0, 5, 0, { type: "vif" });
    await createVbd(toolstack, 3, 5, 1);
    await waitFor(() => events.length === 3, { message: "three added" });
    assert.deepEqual(summary(events), ["added 51712 fe=5", "added 51728 fe=5", "added 768 fe=6"]);
    const dev = probe.devices.get("/local/domain/0/backend/vbd/6/768");
    assert.ok(dev);
    assert.deepEqual([dev.otherendId, dev.otherend, dev.devid], [6, "/local/domain/6/device/vbd/768", "768"]);

    // Writes inside a known device change nothing.
    await dev.switchState(XenbusState.InitWait);
    await toolstack.write(`${dev.nodename}/physical-device`, "8:0");
    await probe.settled();
    // One device's directory goes; then the whole frontend domain 5's subtree.
    await toolstack.rm(dev.nodename);
    await waitFor(() => events.length === 4, { message: "removed 768" });
    await toolstack.rm(`${backendRoot(0, "vbd")}/5`);
    await waitFor(() => events.length === 6, { message: "removed fe 5" });
    assert.deepEqual(summary(events).slice(3), [
      "removed 768 fe=6",
      "removed 51712 fe=5",
      "removed 51728 fe=5",
    ]);
    assert.deepEqual([...probe.devices.keys()], []);
    assert.equal(removed.length, 3);
    await probe.close();
  });

  it("waits for the needed keys, and (as Linux) probes only Initialising devices unless told", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const { client: toolstack } = hub.connect();
    const probe = await XenbusProbe.start({ store: client, self: 0, side: "backend", type: "vbd" });
    const events = collect(probe);
    // Keys written one by one, no transaction: nothing until frontend and frontend-id are both there.
    const node = "/local/domain/0/backend/vbd/2/51712";
    await toolstack.write(`${node}/state`, "1");
    await toolstack.write(`${node}/frontend`, "/local/domain/2/device/vbd/51712");
    await probe.settled();
    await new Promise((r) => setTimeout(r, 10));
    await probe.settled();
    assert.equal(events.length, 0);
    await toolstack.write(`${node}/frontend-id`, "2");
    await waitFor(() => events.length === 1, { message: "added once keys complete" });

    // A leftover Closed device is not a new one...
    await createVbd(toolstack, 0, 3, 1, { state: XenbusState.Closed });
    await new Promise((r) => setTimeout(r, 10));
    await probe.settled();
    assert.equal(events.length, 1);
    // ... until it is re-initialised.
    await toolstack.write("/local/domain/0/backend/vbd/3/1/state", "1");
    await waitFor(() => events.length === 2, { message: "added after reset to Initialising" });
    await probe.close();

    const any = await XenbusProbe.start({
      store: client,
      self: 0,
      side: "backend",
      type: "vbd",
      onlyInitialising: false,
    });
    await createVbd(toolstack, 0, 4, 9, { state: XenbusState.Connected });
    await waitFor(() => any.devices.size === 3, { message: "every state" });
    assert.equal(any.devices.get("/local/domain/0/backend/vbd/4/9")?.state, XenbusState.Connected);
    await any.close();
  });

  it("closing the probe closes the devices and ends the iterators", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    await createVbd(client, 0, 5, 1);
    const probe = await XenbusProbe.start({ store: client, self: 0, side: "backend", type: "vbd" });
    const dev = probe.devices.get("/local/domain/0/backend/vbd/5/1");
    assert.ok(dev);
    const states = dev.otherendStates();
    const events = probe.events();
    assert.equal((await events.next()).value?.kind, "added");
    await probe.close();
    assert.equal((await events.next()).done, true);
    assert.equal((await states.next()).done, true);
  });
});

describe("XenbusProbe: otherendChanged", () => {
  it("a backend driver sees its frontend's states from the current one on", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const { client: toolstack } = hub.connect();
    const p = await createVbd(toolstack, 0, 5, 51712);
    await toolstack.write(`${p.front}/state`, "2");
    const seen: string[] = [];
    const probe = await XenbusProbe.start({
      store: client,
      self: 0,
      side: "backend",
      type: "vbd",
      otherendChanged: async (dev, state) => {
        seen.push(`${dev.devid}:${state}`);
        // A driver reacting: frontend Initialised -> backend Connected.
        if (state === XenbusState.Initialised) await dev.switchState(XenbusState.Connected);
      },
    });
    await waitFor(() => seen.length === 1, { message: "current state" });
    await toolstack.write(`${p.front}/state`, "3");
    await waitFor(async () => (await toolstack.read(`${p.back}/state`)) === "4", {
      message: "backend Connected",
    });
    assert.deepEqual(seen, ["51712:2", "51712:3"]);
    await probe.close();
  });
});

describe("XenbusProbe, frontend side", () => {
  it("watches /local/domain/<self>/device/<type>", async () => {
    const hub = new EngineHub();
    const { client } = hub.connect();
    const { client: toolstack } = hub.connect();
    const probe = await XenbusProbe.start({ store: client, self: 4, side: "frontend", type: "vbd" });
    const events = collect(probe);
    await createVbd(toolstack, 0, 4, 51712);
    await createVbd(toolstack, 0, 4, 51728);
    await createVbd(toolstack, 0, 9, 51712); // another guest's
    await waitFor(() => events.length === 2, { message: "two added" });
    const d = probe.devices.get("/local/domain/4/device/vbd/51728");
    assert.ok(d);
    assert.deepEqual([d.otherendId, d.otherend], [0, "/local/domain/0/backend/vbd/4/51728"]);
    await toolstack.rm("/local/domain/4/device/vbd");
    await waitFor(() => events.length === 4, { message: "both removed" });
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.device.devid}`),
      ["added 51712", "added 51728", "removed 51712", "removed 51728"],
    );
    await probe.close();
  });
});

describe("XenbusProbe: random schedules", () => {
  it("the probe's devices converge to the store's after any add/remove sequence", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            op: fc.constantFrom("add", "rm-dev", "rm-fe"),
            fe: fc.integer({ min: 1, max: 3 }),
            devid: fc.integer({ min: 1, max: 3 }),
          }),
          { maxLength: 12 },
        ),
        async (ops) => {
          const hub = new EngineHub();
          const { client } = hub.connect();
          const { client: toolstack } = hub.connect();
          const probe = await XenbusProbe.start({ store: client, self: 0, side: "backend", type: "vbd" });
          const expected = new Set<string>();
          // RM of a node whose parent is absent is ENOENT in xenstored: nothing to remove then.
          const rm = (p: string) =>
            toolstack.rm(p).catch((e: unknown) => assert.equal((e as { code?: string }).code, "ENOENT"));
          for (const o of ops) {
            const fePath = `/local/domain/0/backend/vbd/${o.fe}`;
            const node = `${fePath}/${o.devid}`;
            if (o.op === "add") {
              if (!expected.has(node)) await createVbd(toolstack, 0, o.fe, o.devid);
              expected.add(node);
            } else if (o.op === "rm-dev") {
              await rm(node);
              expected.delete(node);
            } else {
              await rm(fePath);
              for (const n of [...expected]) if (n.startsWith(`${fePath}/`)) expected.delete(n);
            }
          }
          const want = [...expected].sort().join(",");
          await waitFor(
            async () => (await probe.settled(), [...probe.devices.keys()].sort().join(",") === want),
            {
              timeoutMs: 2000,
              message: `devices = ${want}`,
            },
          );
          await probe.close();
        },
      ),
      { numRuns: 30 },
    );
  });
});
