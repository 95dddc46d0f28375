// How the integrator wires a Blkfront: XenCtrl is the hypervisor and the memory source as it is
// (checked by the compiler here), a probe drives every vbd of the guest, one event receiver per
// domain feeds the PortDispatcher. Plus: a backend that dies without unmapping leaks grants that are
// counted, never reused, and I/O still completes after it comes back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XenbusState } from "@xensim/abi";
import type { XenCtrl } from "@xensim/xenctrl";
import type { Blkfront } from "./blkfront.js";
import { type BlkfrontHypervisor, type PhysmapHypervisor, physmapMemory } from "./environment.js";
import { probeBlkfronts } from "./probe.js";
import { createVbd } from "./testing/host.js";
import { GUEST, pattern, Rig, waitUntil } from "./testing/rig.js";

// Compile-time: a XenCtrl satisfies both interfaces structurally.
export type XenCtrlIsBlkfrontHypervisor = XenCtrl extends BlkfrontHypervisor ? true : never;
export type XenCtrlIsPhysmapHypervisor = XenCtrl extends PhysmapHypervisor ? true : never;
const checks: [XenCtrlIsBlkfrontHypervisor, XenCtrlIsPhysmapHypervisor] = [true, true];

describe("wiring", () => {
  it("XenCtrl is a BlkfrontHypervisor and a PhysmapHypervisor (compile-time check)", () => {
    assert.deepEqual(checks, [true, true]);
  });

  it("probeBlkfronts drives every vbd found in the guest's device/vbd directory", async () => {
    const r = new Rig({ sectors: 1024 });
    r.paths = await createVbd(r.xs, 0, GUEST, 51712);
    const found: Blkfront[] = [];
    const probe = await probeBlkfronts({
      store: r.guestXs,
      self: GUEST,
      hypervisor: r.xc,
      memory: physmapMemory(r.xc, GUEST, { firstGfn: 0x1000 }),
      events: r.dispatcher,
      onBlkfront: (b) => void found.push(b),
    });
    assert.equal(found.length, 1);
    r.front = found[0]!;
    await r.startBackend();
    await r.front.whenConnected();
    assert.equal(await r.write(16, pattern(5, 8192)), 0);
    const got = await r.read(16, 16);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(5, 8192))));
    assert.equal(probe.devices.get(r.paths.front), r.front);
    await r.front.close();
    await probe.close();
  });

  it("a backend that dies still mapping the pages: grant ends deferred, retried on the timer, all returned", async () => {
    let tick: (() => void) | undefined;
    const timer = {
      setTimeout: (fn: () => void) => {
        tick = fn;
        return 1;
      },
      clearTimeout: () => {
        tick = undefined;
      },
    };
    const r = await Rig.start({
      sectors: 1024,
      front: { maxQueues: 1, persistent: true },
      blkfront: { timer },
    });
    await r.front.whenConnected();
    assert.equal(await r.write(0, pattern(1, 4096 * 4)), 0);
    // Die without unmapping: forget the mappings, write Closed.
    r.backend.hold = true;
    const pending = r.write(64, pattern(2, 4096));
    await waitUntil(() => r.backend.held.length === 1, "held");
    const old = r.backend;
    const handles = old.forgetMappings();
    assert.ok(handles.length > 0);
    await old.stop("crash");
    await r.startBackend();
    assert.equal(await pending, 0);
    const s = r.front.stats;
    assert.ok(s.grantsLeaked > 0, "grants still mapped cannot be ended");
    assert.equal(
      s.grantsDeferred,
      handles.length,
      "one deferred end per mapped ref (ring + persistent pages)",
    );
    assert.equal(r.front.handshake.state, XenbusState.Connected);
    const got = await r.read(64, 8);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(2, 4096))));
    // A retry while still mapped changes nothing; once Xen released the mappings, the next one ends them.
    assert.ok(tick);
    tick();
    await new Promise((res) => setTimeout(res, 5));
    assert.equal(s.grantsDeferred, handles.length);
    old.unmapHandles(handles);
    assert.ok(tick, "re-armed");
    tick();
    await waitUntil(() => s.grantsDeferred === 0, "deferred grants ended");
    await r.front.close();
    await r.assertNoLeaks();
  });

  it("close() with a backend that never follows: gives up after closeTimeoutMs, ring grants deferred", async () => {
    const r = await Rig.start({
      sectors: 256,
      front: { maxQueues: 2 },
      blkfront: { timer: { setTimeout, clearTimeout }, closeTimeoutMs: 50, deferredRetryMs: 60_000 },
    });
    await r.front.whenConnected();
    assert.equal(await r.write(0, pattern(3, 4096)), 0);
    r.backend.freeze();
    const t0 = Date.now();
    await r.front.close();
    assert.ok(Date.now() - t0 >= 40);
    assert.equal(await r.xs.tryRead(`${r.paths.front}/state`), String(XenbusState.Closing));
    assert.ok(r.front.stats.grantsDeferred >= 2, "the frozen backend still maps both rings");
    await assert.rejects(r.front.whenConnected());
  });
});
