// A grant across host processes: host A (child process: hypervisor, page-server, a guest domain)
// grants a page to dom0; host B (this process: page-server, dom0's backend through XenCtrl's
// `memory` placement) maps it writable as a local replica, writes a request, sends; A's guest sees
// exactly those bytes after its wake-up (the hypervisor sets the pending bit only after A applied
// B's fence), answers and sends back; B's receiver awaits A's fence before dispatching. 200 rounds,
// then 100 more with dropped/duplicated wake-ups and dropped/duplicated/delayed page batches; unmap leaves no pin (endForeignAccess).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import {
  connectNatsBus,
  createGrpcCallClient,
  createInProcessCallClient,
  collectFaultRecords,
  type EventBus,
  sendFaultRules,
} from "@xensim/bus";
import { loadHypervisorProto, loadPageServerProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { spawnJsonLinesChild, startNatsServer, waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { REPO_ROOT } from "./harness.js";

/** Fault records of every page-server (both hosts answer). */
function allFaultRecords(bus: EventBus): Promise<Array<{ kind: string }>> {
  return collectFaultRecords(bus, "page-server").then((replies) =>
    replies.flatMap((r) => Object.values(r).flatMap((c) => c.records)),
  );
}

describe("grant mapped across host processes (NATS + gRPC)", () => {
  it("request/response through the mapping with fenced notifications (faults: XENSIM_CROSS_HOST_FAULTS=1)", async () => {
    const nats = await startNatsServer();
    const hostA = spawnJsonLinesChild(join(REPO_ROOT, "test", "dist", "fixtures", "cross-host-a.js"), [
      nats.url,
    ]);
    const next = (key: string) => hostA.next(key, 30_000);
    const host = await startHost({
      hostId: "hostB",
      nats: nats.url,
      services: [
        {
          name: "page-server",
          entry: join(REPO_ROOT, "services", "page-server", "dist", "main.js"),
          config: {},
        },
      ],
      logLevel: "warn",
    });
    const bus = await connectNatsBus({ servers: nats.url, name: "hostB-backend" });
    // Closed on any outcome: a receiver's timer or an open client would keep this file running.
    const cleanups: Array<() => unknown> = [];
    try {
      await host.ready;
      const a = (await next("hv")) as { hv: string; domid: number; ref: number; port: number };
      const hv = createGrpcCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, a.hv);
      const ps = createInProcessCallClient(
        loadPageServerProto().xensim.pageserver.v1.PageServer.service,
        "page-server",
      );
      cleanups.push(
        () => hv.close(),
        () => ps.close(),
      );
      const dom0 = new XenCtrl({
        domid: 0,
        calls: hv,
        bus,
        memory: { store: host.sharedMemory, pageServer: ps, hypervisorHost: "hostA" },
      });
      cleanups.push(() => dom0.close());
      const bound = await dom0.evtchnBindInterdomain(a.domid, a.port);
      assert.equal(bound.rc, 0);
      const m = await dom0.gnttabMapGrantRefs(a.domid, [a.ref], GNTMAP_host_map);
      assert.equal(m.results[0]!.status, GNTST_okay);
      const view = m.view!;
      assert.ok(view);
      let seen = 0;
      // The response sequence number the handler saw at each event: dispatched only after A's fence,
      // so an event that A raised after writing response k sees at least k. (A send retried after a
      // fence timeout can raise one more event for the same round: events are not 1:1 with rounds.)
      const observed: number[] = [];
      const rx = dom0.waitForRemoteEvents(
        0,
        () => {
          seen++;
          observed.push(view.getU32(2048));
        },
        { slowScanMs: 50 },
      );
      cleanups.push(() => rx.close());
      await rx.ready();
      // EVTCHNOP_bind_interdomain marks the binder's new port pending (as Xen does): that event first.
      await waitFor(() => seen === 1, { timeoutMs: 10_000, message: "the bind's event" });

      let seq = 0;
      const rounds = async (n: number) => {
        for (let r = 0; r < n; r++) {
          seq++;
          for (let i = 0; i < 64; i++) view.setU8(8 + i, (seq * 7 + i) & 255);
          view.setU32(0, seq);
          view.markWritten(0, 72);
          const from = observed.length;
          assert.equal(await dom0.evtchnSend(bound.port), 0);
          // Some event of this round must see this round's response: had the fence not been awaited,
          // the event A raised for it could see the previous one, and no later event would come.
          await waitFor(() => observed.slice(from).includes(seq), {
            timeoutMs: 15_000,
            message: `an event that sees response ${seq}`,
          });
          assert.ok(
            observed.slice(from).every((k) => k === seq - 1 || k === seq),
            `events of round ${seq} saw only responses ${seq - 1} (a retried send) or ${seq}`,
          );
          assert.equal(view.getU32(2052), 1, `A saw exactly round ${seq}'s bytes`);
        }
      };
      await rounds(200);

      // The same rounds with wake-ups dropped and duplicated both ways, and page batches dropped,
      // duplicated and delayed (the replicas gap-fill): every round still sees exactly its bytes.
      {
        const rules = {
          seed: 3,
          events: [
            { subject: "pages.>", drop: 0.2, duplicate: 0.2, delayMs: [0, 3] as [number, number] },
            { subject: "evtchn.>", drop: 0.3, duplicate: 0.3 },
          ],
        };
        assert.ok((await sendFaultRules(bus, "page-server", rules, { component: "bus" })).ok);
        bus.faults.set({ seed: 9, events: [{ subject: "evtchn.>", drop: 0.3, duplicate: 0.3 }] });
        hostA.send("faults on");
        await next("faults");
        let childKinds: string[] = [];
        let psKinds = new Set<string>();
        try {
          await rounds(100);
          psKinds = new Set((await allFaultRecords(bus)).map((r) => r.kind));
        } finally {
          await sendFaultRules(bus, "page-server", null, { component: "bus" });
          bus.faults.set({});
          hostA.send("faults off");
          childKinds = ((await next("faults")) as { kinds: string[] }).kinds;
        }
        // The faults really happened: page batches (both page-servers) and wake-ups (both ways).
        assert.ok(
          psKinds.has("drop") && psKinds.has("duplicate") && psKinds.has("delay"),
          `page-server faults: ${[...psKinds]}`,
        );
        assert.ok(
          childKinds.includes("drop") && childKinds.includes("duplicate"),
          `A wake faults: ${childKinds}`,
        );
      }

      assert.deepEqual(await dom0.gnttabUnmap([m.results[0]!.handle]), [GNTST_okay]);
      rx.close();
      hostA.send("end");
      const end = (await next("ended")) as { ended: boolean; destroyed: number; stale: number; last: number };
      assert.deepEqual(end, { ended: true, destroyed: 0, stale: 0, last: seq });
      dom0.close();
      hv.close();
    } finally {
      for (const c of cleanups.reverse()) {
        try {
          await c();
        } catch {}
      }
      await hostA.stop("stop");
      await bus.close();
      await host.stop();
      await nats.stop();
    }
  });
});
