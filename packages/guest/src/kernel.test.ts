// A guest kernel on an embedded host (hypervisor + xenstored in worker threads): built by dom0,
// xenstore through its ring page, events dispatched per port, pages from its RAM.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from "@xensim/abi";
import { startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore } from "@xensim/xenstore-client";
import { buildGuest, GuestKernel } from "./index.js";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");

describe("GuestKernel", () => {
  it("boots on a store page built by dom0, dispatches events per port, allocates its RAM", async () => {
    const host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
      ],
      logLevel: "warn",
    });
    const closers: Array<() => unknown> = [() => host.stop()];
    try {
      await host.ready;
      const bus = createInProcessBus({ name: host.busName });
      const hv = createInProcessCallClient(
        loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
        "hypervisor",
      );
      const xsCalls = createInProcessCallClient(
        loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
        "xenstored",
      );
      closers.unshift(
        () => bus.close(),
        () => hv.close(),
        () => xsCalls.close(),
      );
      const xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
      const xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
      closers.unshift(() => xs0.close());

      const g = await buildGuest(xc0, xs0, { name: "g1", memoryMib: 4 });
      const xc = new XenCtrl({ domid: g.domid, calls: hv, store: host.sharedMemory, bus });
      const kernel = new GuestKernel({ domid: g.domid, xc, ramPages: g.ramPages });
      closers.unshift(() => kernel.close());
      const xs = await kernel.connectXenstore(g.storeGfn, g.storePort);
      assert.equal(await xs.read("name"), "g1");
      // What the toolstack published: the store page and channel as HVM params, the VM directory.
      const pfn = await xc.hvmParamGet(g.domid, HVM_PARAM_STORE_PFN);
      const evtchn = await xc.hvmParamGet(g.domid, HVM_PARAM_STORE_EVTCHN);
      assert.deepEqual([pfn.rc, Number(pfn.value)], [0, g.storeGfn]);
      assert.deepEqual([evtchn.rc, Number(evtchn.value)], [0, g.storePort]);
      assert.equal(await xs.read("vm"), g.vmPath);
      assert.equal(await xs.read(`${g.vmPath}/name`), "g1");
      await xs.write("control/feature-poweroff", "1");
      await assert.rejects(xs.write("control/other", "1"), { code: "EACCES" }, "control/ is dom0's");
      await assert.rejects(xs.write("vm", "/vm/x"), { code: "EACCES" });
      assert.equal(await xs.read("domid"), String(g.domid));
      await xs.write("data/hello", "world");
      assert.equal(await xs0.read(`${g.home}/data/hello`), "world");
      await assert.rejects(xs.write("name", "renamed"), { code: "EACCES" }, "the name is dom0's");

      // A second port of the same domain: its events go to its own handler, not to xenstore's.
      const p = await xc.evtchnAllocUnbound(g.domid, 0);
      const b = await xc0.evtchnBindInterdomain(g.domid, p.port);
      let hits = 0;
      kernel.events.on(p.port, () => hits++);
      for (let i = 0; i < 3; i++) {
        assert.equal(await xc0.evtchnSend(b.port), 0);
        await waitFor(() => hits >= i + 1, { message: `event ${i}` });
      }
      assert.equal(await xs.read("name"), "g1", "xenstore still served");

      // Pages of RAM: a contiguous run is one view; freed pages are reused.
      const run = await kernel.memory.allocPages(4, true);
      assert.ok(typeof run !== "number");
      assert.equal(run.view.byteLength, 4 * 4096);
      run.view.setU32(4096, 0xfeedface);
      const again = await xc.mapForeignPages(g.domid, [run.gfns[1]!]);
      assert.ok(typeof again !== "number" && again.getU32(0) === 0xfeedface);
      const before = kernel.memory.freePageCount;
      kernel.memory.freePages(run.gfns);
      const reuse = await kernel.memory.allocPages(4, true);
      assert.ok(typeof reuse !== "number");
      assert.deepEqual(reuse.gfns, run.gfns);
      assert.equal(kernel.memory.freePageCount, before);
      assert.equal(await kernel.memory.allocPages(g.ramPages, false), -12, "ENOMEM past the RAM");
    } finally {
      for (const c of closers) await c();
    }
  });
});
