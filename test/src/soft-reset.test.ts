// libxl's soft reset end to end (embedded host: hypervisor and xenstored): an HVM guest with an
// interdomain channel to dom0 and a page granted to dom0 shuts down with SHUTDOWN_soft_reset; dom0
// pauses it, soft-resets it and unpauses it. The guest keeps its domid, memory and dom0's grant
// mapping; its old channel is gone (dom0's end unbound again, re-bindable) and a new channel works
// on the fresh shared_info; xenstored does not take the soft reset for a death.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_unbound,
  GNTMAP_host_map,
  GNTST_okay,
  SHUTDOWN_soft_reset,
  XenErrno,
} from "@xensim/abi";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { waitFor } from "@xensim/testkit";
import { decodeDomainExc, type DomainExcEvent, XenCtrl } from "@xensim/xenctrl";
import { HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { connectXenstore, type WatchEvent } from "@xensim/xenstore-client";
import { startHypervisorHost } from "./harness.js";

describe("soft reset, embedded host", () => {
  it("keeps domid, memory and grant mappings; closes channels; xenstored keeps the domain", async () => {
    const host = await startHypervisorHost();
    const bus = createInProcessBus({ name: host.busName });
    const hvCalls = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    const ctls: XenCtrl[] = [];
    try {
      await host.ready;
      const excs: DomainExcEvent[] = [];
      bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
        callback: (m) => excs.push(decodeDomainExc(m.data)),
      });
      await bus.flush();
      const xs = await connectXenstore({ calls: xsCalls, bus, clientName: "dom0-test" });
      const releases: WatchEvent[] = [];
      const w = await xs.watch("@releaseDomain");
      void (async () => {
        for await (const e of w) releases.push(e);
      })();
      await waitFor(() => releases.length === 1, { message: "initial @releaseDomain event" });

      const dom0 = new XenCtrl({ domid: 0, calls: hvCalls, store: host.sharedMemory, bus });
      ctls.push(dom0);
      const { rc, domid } = await dom0.domainCreate({ memoryMib: 4, vcpus: 2, hvm: true });
      assert.equal(rc, 0);
      assert.equal(await dom0.domainUnpause(domid), 0);
      const guest = new XenCtrl({ domid, calls: hvCalls, store: host.sharedMemory, bus });
      ctls.push(guest);
      // Introduced to xenstored as libxl does: the store ring at gfn 1000, a store port for dom0.
      const storePort = await guest.evtchnAllocUnbound(domid, 0);
      assert.equal(storePort.rc, 0);
      await xs.write(`/local/domain/${domid}/name`, "guest");
      await xs.introduceDomain(domid, 1000, storePort.port);
      assert.equal(await xs.isDomainIntroduced(domid), true);
      await waitFor(
        async () => (await dom0.evtchnStatus(domid, storePort.port)).status === EVTCHNSTAT_interdomain,
        { timeoutMs: 5000, message: "xenstored bound the store port" },
      );

      // The guest's memory: a marker at gfn 5 (granted to dom0) and one at gfn 700.
      const own = await guest.mapForeignPages(domid, [5, 700]);
      assert.ok(typeof own !== "number");
      own.setU32(0, 0xdeadbeef);
      own.setU32(4096 + 12, 0x5eed);

      // Interdomain channel guest ← dom0, used once.
      const gPort = await guest.evtchnAllocUnbound(domid, 0);
      assert.equal(gPort.rc, 0);
      const d0Port = await dom0.evtchnBindInterdomain(domid, gPort.port);
      assert.equal(d0Port.rc, 0);
      const got: number[] = [];
      const rx = guest.waitForEvents(domid, (p) => got.push(p), { slowScanMs: 60_000 });
      await rx.ready();
      assert.equal(await dom0.evtchnSend(d0Port.port), 0);
      await waitFor(() => got.includes(gPort.port), { timeoutMs: 5000, message: "event before soft reset" });
      rx.close();

      // The guest grants gfn 5 to dom0; dom0 maps it.
      assert.equal(await guest.gnttabGrantAccess(8, 0, 5, false), 0);
      const m = await dom0.gnttabMapGrantRefs(domid, [8], GNTMAP_host_map);
      assert.equal(m.results[0]!.status, GNTST_okay);
      assert.equal(m.view!.getU32(0), 0xdeadbeef);
      const si0 = (await dom0.domainInfo(domid)).info!.sharedInfoFrame;

      // SCHEDOP_shutdown(soft_reset) by the guest: @releaseDomain fires, the domain stays introduced.
      assert.equal(await guest.domainShutdown(domid, SHUTDOWN_soft_reset), 0);
      await waitFor(() => releases.length === 2, { timeoutMs: 5000, message: "@releaseDomain on shutdown" });
      assert.equal((await dom0.domainInfo(domid)).info?.state, "shutdown");

      // The toolstack: refused while running and to the guest itself; pause → soft_reset → unpause.
      assert.equal(await dom0.domainSoftReset(domid), -XenErrno.EINVAL);
      assert.equal(await guest.domainSoftReset(domid), -XenErrno.EPERM);
      assert.equal(await dom0.domainPause(domid), 0);
      assert.equal(await dom0.domainSoftReset(domid), 0);
      await waitFor(() => excs.some((e) => e.domid === domid && e.state === "soft_reset"), {
        timeoutMs: 5000,
        message: "soft_reset exc event",
      });
      const mid = (await dom0.domainInfo(domid)).info!;
      assert.deepEqual([mid.domid, mid.state, mid.shutdownReason], [domid, "paused", -1]);
      assert.equal(await dom0.domainUnpause(domid), 0);
      const after = (await dom0.domainInfo(domid)).info!;
      assert.equal(after.state, "running");
      assert.notEqual(after.sharedInfoFrame, si0);

      // Memory intact, and dom0's grant mapping still maps the guest's page both ways.
      const own2 = await guest.mapForeignPages(domid, [5, 700]);
      assert.ok(typeof own2 !== "number");
      assert.equal(own2.getU32(0), 0xdeadbeef);
      assert.equal(own2.getU32(4096 + 12), 0x5eed);
      assert.equal(m.view!.getU32(0), 0xdeadbeef);
      m.view!.setU32(16, 0xabcd);
      assert.equal(own2.getU32(16), 0xabcd);

      // The old channel: gone on the guest's side, unbound (accepting the guest) on dom0's.
      assert.equal((await dom0.evtchnStatus(domid, gPort.port)).status, EVTCHNSTAT_closed);
      assert.equal((await dom0.evtchnStatus(domid, storePort.port)).status, EVTCHNSTAT_closed);
      const d0s = await dom0.evtchnStatus(0, d0Port.port);
      assert.deepEqual([d0s.status, d0s.dom], [EVTCHNSTAT_unbound, domid]);
      assert.equal(await guest.evtchnSend(gPort.port), -XenErrno.EINVAL);

      // A new channel: the guest re-binds dom0's port and receives on its fresh shared_info.
      const nPort = await guest.evtchnBindInterdomain(0, d0Port.port);
      assert.equal(nPort.rc, 0);
      assert.equal((await dom0.evtchnStatus(0, d0Port.port)).status, EVTCHNSTAT_interdomain);
      const got2: number[] = [];
      const rx2 = guest.waitForEvents(domid, (p) => got2.push(p), { slowScanMs: 60_000 });
      await waitFor(() => got2.includes(nPort.port), { timeoutMs: 5000, message: "new bind's event" });
      const n0 = got2.length;
      assert.equal(await dom0.evtchnSend(d0Port.port), 0);
      await waitFor(() => got2.length > n0, { timeoutMs: 5000, message: "event after soft reset" });
      assert.ok(got2.every((p) => p === nPort.port)); // nothing on the old ports
      rx2.close();

      // xenstored did not take the soft reset for a death: no release, still introduced.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(releases.length, 2);
      assert.equal(await xs.isDomainIntroduced(domid), true);
      assert.equal(await xs.read(`/local/domain/${domid}/name`), "guest");

      assert.deepEqual(await dom0.gnttabUnmap([m.results[0]!.handle]), [GNTST_okay]);
      assert.equal(await dom0.domainDestroy(domid), 0);
      await waitFor(async () => !(await xs.isDomainIntroduced(domid)), {
        timeoutMs: 5000,
        message: "domain released in xenstored after destroy",
      });
      await w.close();
      await xs.close();
    } finally {
      for (const c of ctls) c.close();
      xsCalls.close();
      hvCalls.close();
      await bus.close();
      await host.stop();
    }
  });
});
