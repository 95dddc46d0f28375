// A guest talks to xenstored through its xenstore ring page and store event channel, like a real
// domU: the toolstack creates the domain, the guest allocates an unbound port for dom0, dom0
// introduces the domain (INTRODUCE domid gfn port), xenstored maps the page and binds the port.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type WatchEvent, XenstoreClient, XsRingTransport } from "@xensim/xenstore-client";
import { startHypervisorHost } from "./harness.js";

const RING_GFN = 0x3f0; // inside the guest's 4 MiB

describe("xenstore over a guest's ring page", () => {
  it("serves a guest's requests, relative paths and watches through the ring and event channel", async () => {
    const host = await startHypervisorHost();
    const closers: Array<() => unknown> = [];
    try {
      await host.ready;
      const bus = createInProcessBus({ name: host.busName });
      const hvDef = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
      const xsCalls = createInProcessCallClient(
        loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
        "xenstored",
      );
      const hv0 = createInProcessCallClient(hvDef, "hypervisor");
      closers.push(
        () => xsCalls.close(),
        () => hv0.close(),
        () => bus.close(),
      );
      const dom0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
      closers.unshift(() => dom0.close());
      const xc0 = new XenCtrl({ domid: 0, calls: hv0, store: host.sharedMemory, bus });

      // The toolstack builds the domain and its xenstore home.
      const { rc, domid } = await xc0.domainCreate({ memoryMib: 4 });
      assert.equal(rc, 0);
      const home = `/local/domain/${domid}`;
      // As libxl does: the home first, owned by the guest with dom0 reading; children inherit.
      await dom0.mkdir(home);
      await dom0.setPerms(home, [`n${domid}`, "r0"]);
      await dom0.write(`${home}/name`, "guest-ring");
      await dom0.mkdir(`${home}/data`);

      // The guest: its own XenCtrl, an unbound port for dom0, its store page.
      const hvU = createInProcessCallClient(hvDef, "hypervisor");
      closers.push(() => hvU.close());
      const xcU = new XenCtrl({ domid, calls: hvU, store: host.sharedMemory, bus });
      const port = await xcU.evtchnAllocUnbound(domid, 0);
      assert.equal(port.rc, 0);
      const page = await xcU.mapForeignPages(domid, [RING_GFN]);
      assert.notEqual(typeof page, "number", `store page mapped (rc ${String(page)})`);
      if (typeof page === "number") return;

      // A second dom0 service's receiver (blkback's vCPU 2), scanning continuously in another
      // thread than xenstored's: it must neither take xenstored's store events nor lose its own.
      const other: number[] = [];
      const rx2 = xc0.waitForEvents(0, (p) => other.push(p), { vcpu: 2, slowScanMs: 1 });
      closers.unshift(() => rx2.close());
      const spin = setInterval(() => rx2.scan(true), 0);
      closers.unshift(() => clearInterval(spin));
      const mine = await xcU.evtchnAllocUnbound(domid, 0);
      const mineLocal = await xc0.evtchnBindInterdomain(domid, mine.port);
      assert.equal(mineLocal.rc, 0);
      assert.equal(await xc0.evtchnBindVcpu(mineLocal.port, 2), 0);

      await dom0.introduceDomain(domid, RING_GFN, port.port);
      assert.equal(await dom0.isDomainIntroduced(domid), true);

      const transport = new XsRingTransport({
        page,
        notify: () => xcU.evtchnNotify(port.port),
        subscribe: (kick) => {
          const p = xcU.waitForEvents(domid, (ev) => {
            if (ev === port.port) kick();
          });
          return () => p.close();
        },
      });
      const guest = new XenstoreClient(transport);
      closers.unshift(() => guest.close());

      // Relative paths are relative to the guest's home.
      assert.equal(await guest.read("name"), "guest-ring");
      // xenstored bound its end of the store channel to its dom0 vCPU (1) before serving the ring.
      const guestEnd = await xcU.evtchnStatus(domid, port.port);
      assert.equal(guestEnd.dom, 0);
      assert.equal((await xc0.evtchnStatus(0, guestEnd.port)).vcpu, 1, "xenstored's port is on vCPU 1");
      assert.equal(await guest.getDomainPath(domid), home);
      await guest.write("data/state", "4");
      assert.equal(await dom0.read(`${home}/data/state`), "4");
      // Permissions hold for the guest: dom0's own tree is not its to read.
      await dom0.write("/vm/secret", "x");
      await assert.rejects(guest.read("/vm/secret"), { code: "EACCES" });

      // A watch through the ring; events reported relative, as the guest registered it.
      const events: WatchEvent[] = [];
      const w = await guest.watch("data");
      void (async () => {
        for await (const e of w) events.push(e);
      })();
      await waitFor(() => events.length >= 1, { message: "initial watch event over the ring" });
      await dom0.write(`${home}/data/backend-state`, "2");
      await waitFor(() => events.some((e) => e.path === "data/backend-state"), {
        timeoutMs: 5000,
        message: "watch event over the ring",
      });

      // A transaction through the ring.
      await guest.transaction(async (tx) => {
        const n = Number((await tx.tryRead("data/counter")) ?? "0");
        await tx.write("data/counter", String(n + 1));
      });
      assert.equal(await dom0.read(`${home}/data/counter`), "1");

      // Many requests in flight at once: more bytes than the 1 KiB ring holds.
      const big = "v".repeat(300);
      await Promise.all(Array.from({ length: 20 }, (_, i) => guest.write(`data/k${i}`, big)));
      assert.equal((await dom0.ls(`${home}/data`)).filter((k) => k.startsWith("k")).length, 20);
      await w.close();

      // The vCPU 2 receiver got its own events (the bind-time one, then one per send) and never
      // one of xenstored's.
      for (let i = 0; i < 5; i++) {
        const before = other.length;
        assert.equal(xcU.evtchnNotify(mine.port), 0);
        await waitFor(() => other.length > before, { message: `vCPU 2 event ${i}` });
      }
      assert.ok(
        other.every((p) => p === mineLocal.port),
        `vCPU 2 saw only its own port: ${other.join(",")}`,
      );
      assert.ok(other.length >= 5 && other.length <= 6, `${other.length} events on vCPU 2`);
    } finally {
      for (const c of closers) await c();
      await host.stop();
    }
  });
});
