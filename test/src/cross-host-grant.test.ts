// A grant across host processes over the link: host A (child process: hypervisor, page-server, a
// guest domain) grants a page to dom0; host B (this process: page-server, dom0's XenCtrl with the
// hypervisor in A) maps it writable — a REQUEST on the link, the page's bytes before the reply —
// writes a request, kicks (a SEND record); A's guest sees exactly those bytes after its event,
// answers and kicks back; B's receiver (its shadow shared_info) sees the answer after its event.
// 200 rounds, then 150 more with every link fault on both page-servers (drop, duplicate, reorder,
// stall frames; seeded); grant copies requested from B (the copy sees B's writes, B sees its
// result on return); the unmap leaves no pin (endForeignAccess succeeds).
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GNTCOPY_dest_gref, GNTCOPY_source_gref, GNTMAP_host_map, GNTST_okay } from "@xensim/abi";
import { connectNatsBus, createGrpcCallClient } from "@xensim/bus";
import { LINK_SUBJECTS } from "@xensim/subjects";
import { loadHypervisorProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { spawnJsonLinesChild, startNatsServer, testSeed, waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { REPO_ROOT } from "./harness.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("grant mapped across host processes over the link", () => {
  it("request/response through the mapping; every link fault both ways (seeded)", async () => {
    const seed = testSeed();
    console.log(`cross-host grant: link fault seed ${seed} (XENSIM_SEED=${seed} to replay)`);
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
          config: { retransmitMs: 50 },
        },
      ],
      logLevel: "warn",
    });
    const bus = await connectNatsBus({ servers: nats.url, name: "hostB-test" });
    const cleanups: Array<() => unknown> = [];
    try {
      await host.ready;
      const a = (await next("hv")) as { hv: string; domid: number; ref: number; port: number };
      const hv = createGrpcCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, a.hv);
      cleanups.push(() => hv.close());
      const dom0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, hypervisorHost: "hostA" });
      cleanups.push(() => dom0.close());
      const bound = await dom0.evtchnBindInterdomain(a.domid, a.port);
      assert.equal(bound.rc, 0);
      assert.equal(await dom0.evtchnBindVcpu(bound.port, 5), 0);
      const m = await dom0.gnttabMapGrantRefs(a.domid, [a.ref], GNTMAP_host_map);
      assert.equal(m.results[0]!.status, GNTST_okay);
      const view = m.view!;
      // Local grant checks: what B's replica of A's grant table shows invalid is refused in B once
      // the hypervisor refused it for that entry, with the GNTST_* it gives (asked directly here,
      // over gRPC); a map asking no mapping at all is refused in B at once.
      for (const [ref, flags, firstAsked] of [
        [a.ref + 1, GNTMAP_host_map, true], // never granted
        [a.ref, 0, false], // neither host nor device mapping
      ] as const) {
        const before = dom0.localGrantRefusals;
        const first = await dom0.gnttabMapGrantRefs(a.domid, [ref], flags);
        assert.equal(dom0.localGrantRefusals, before + (firstAsked ? 0 : 1), `ref ${ref}: first map`);
        const again = await dom0.gnttabMapGrantRefs(a.domid, [ref], flags);
        assert.equal(dom0.localGrantRefusals, before + (firstAsked ? 1 : 2), `ref ${ref} refused in host B`);
        const authority = await hv.call<object, { results: Array<{ status: number }> }>("GnttabMapGrantRef", {
          caller: 0,
          ops: [{ dom: a.domid, ref, flags }],
        });
        assert.equal(first.results[0]!.status, authority.results[0]!.status, "the authority's GNTST_*");
        assert.equal(again.results[0]!.status, authority.results[0]!.status, "the authority's GNTST_*");
        assert.notEqual(again.results[0]!.status, GNTST_okay);
      }
      // The response sequence number the handler saw at each event: A answers round k only after
      // it saw round k's bytes, and its kick follows its answer on the link, so an event for round k
      // sees at least k.
      const observed: number[] = [];
      const rx = dom0.waitForEvents(0, () => observed.push(view.getU32(2048)), { vcpu: 5, slowScanMs: 50 });
      cleanups.push(() => rx.close());

      let seq = 0;
      const rounds = async (n: number) => {
        for (let r = 0; r < n; r++) {
          seq++;
          for (let i = 0; i < 64; i++) view.setU8(8 + i, (seq * 7 + i) & 255);
          view.setU32(0, seq);
          view.markWritten(0, 72);
          const from = observed.length;
          assert.equal(dom0.kick(bound.port), 0);
          await waitFor(() => observed.slice(from).includes(seq), {
            timeoutMs: 20_000,
            message: `an event that sees response ${seq}`,
          });
          assert.equal(view.getU32(2052), 1, `A saw exactly round ${seq}'s bytes`);
        }
      };
      await rounds(200);

      const setFaults = async (h: string, rules: object | null) => {
        const r = await bus.request(LINK_SUBJECTS.faults(h), enc.encode(JSON.stringify({ rules })), {
          timeoutMs: 5000,
        });
        assert.deepEqual(JSON.parse(dec.decode(r.data)), { ok: true });
      };
      const counts = async (h: string) => {
        const r = await bus.request(LINK_SUBJECTS.faultRecords(h), new Uint8Array(0), { timeoutMs: 5000 });
        const x = JSON.parse(dec.decode(r.data)) as {
          peers: Record<string, { counts: Record<string, number> }>;
        };
        return Object.values(x.peers).map((p) => p.counts);
      };
      const rules = { seed, drop: 0.1, duplicate: 0.1, reorder: 0.1, stall: 0.03, stallMs: [5, 40] };
      await setFaults("hostA", rules);
      await setFaults("hostB", { ...rules, seed: seed + 1 });
      try {
        await rounds(150);
      } finally {
        const all = [...(await counts("hostA")), ...(await counts("hostB"))];
        await setFaults("hostA", null);
        await setFaults("hostB", null);
        for (const kind of ["drop", "duplicate", "reorder", "stall"])
          assert.ok(
            all.some((c) => (c[kind] ?? 0) > 0),
            `link faults injected: ${JSON.stringify(all)}`,
          );
      }

      // A grant copy from this host (GNTTABOP_copy on the link): the hypervisor's host copies the
      // bytes this host just wrote, and the result is here when the call returns.
      for (let k = 1; k <= 20; k++) {
        for (let i = 0; i < 64; i++) view.setU8(3000 + i, (k * 13 + i) & 255);
        view.markWritten(3000, 64);
        const st = await dom0.gnttabCopy([
          {
            source: { ref: a.ref, domid: a.domid, offset: 3000 },
            dest: { ref: a.ref, domid: a.domid, offset: 3500 + k },
            len: 64,
            flags: GNTCOPY_source_gref | GNTCOPY_dest_gref,
          },
        ]);
        assert.deepEqual(st, [GNTST_okay]);
        for (let i = 0; i < 64; i++)
          assert.equal(view.getU8(3500 + k + i), (k * 13 + i) & 255, `copy ${k}, byte ${i}`);
      }

      assert.deepEqual(await dom0.gnttabUnmap([m.results[0]!.handle]), [GNTST_okay]);
      hostA.send("end");
      const end = (await next("ended")) as { ended: boolean; destroyed: number; stale: number; last: number };
      assert.deepEqual(end, { ended: true, destroyed: 0, stale: 0, last: seq });
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
