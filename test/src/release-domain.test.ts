// VIRQ_DOM_EXC end to end: the hypervisor publishes a domain's shutdown and death, xenstored fires
// @releaseDomain to dom0's watch and forgets the domain, as C xenstored does on the VIRQ.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type WatchEvent } from "@xensim/xenstore-client";
import { startHypervisorHost } from "./harness.js";

const SHUTDOWN_poweroff = 0;

describe("@releaseDomain from the hypervisor's domain exceptions", () => {
  it("fires on shutdown and on destroy, and the domain is no longer introduced", async () => {
    const host = await startHypervisorHost();
    try {
      await host.ready;
      const bus = createInProcessBus({ name: host.busName });
      const xsCalls = createInProcessCallClient(
        loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
        "xenstored",
      );
      const hvCalls = createInProcessCallClient(
        loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
        "hypervisor",
      );
      const xs = await connectXenstore({ calls: xsCalls, bus, clientName: "dom0-test" });
      const xc = new XenCtrl({ domid: 0, calls: hvCalls, store: host.sharedMemory, bus });

      const events: WatchEvent[] = [];
      const w = await xs.watch("@releaseDomain");
      void (async () => {
        for await (const e of w) events.push(e);
      })();
      await waitFor(() => events.length === 1, { message: "initial @releaseDomain event" });

      const { rc, domid } = await xc.domainCreate({ memoryMib: 4 });
      assert.equal(rc, 0);
      await xs.write(`/local/domain/${domid}/name`, "guest");
      await xs.introduceDomain(domid, 1, 1);
      assert.equal(await xs.isDomainIntroduced(domid), true);

      assert.equal(await xc.domainShutdown(domid, SHUTDOWN_poweroff), 0);
      await waitFor(() => events.length === 2, { timeoutMs: 5000, message: "@releaseDomain on shutdown" });
      assert.equal(events[1]!.path, "@releaseDomain");

      assert.equal(await xc.domainDestroy(domid), 0);
      await waitFor(async () => !(await xs.isDomainIntroduced(domid)), {
        timeoutMs: 5000,
        message: "domain released in xenstored",
      });
      await w.close();
      await xs.close();
      xsCalls.close();
      hvCalls.close();
      await bus.close();
    } finally {
      await host.stop();
    }
  });
});
