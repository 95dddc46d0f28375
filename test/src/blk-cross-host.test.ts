// blkfront and blkback in different host processes over real NATS and gRPC: host A (a child
// process) runs the hypervisor, xenstored, a page-server and the guest with its blkfronts; host B
// (this process) runs a page-server and blkback with `hypervisorHost: "hostA"` — ring and data pages
// travel on the link between the two page-servers, kicks and grant maps are link records. Feature
// combinations (16), each disk checked by a crc32c write-verify job; then the same under every link
// fault on both page-servers (drop, duplicate, reorder, stall frames; seeded, printed): no
// acknowledged write lost, no stale byte read after a notification.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { connectNatsBus } from "@xensim/bus";
import { LINK_SUBJECTS } from "@xensim/subjects";
import { startHost } from "@xensim/runtime";
import { findNatsServer, spawnJsonLinesChild, startNatsServer, testSeed } from "@xensim/testkit";
import { REPO_ROOT, serviceEntryPath } from "./harness.js";

describe("block I/O across host processes (NATS + gRPC)", () => {
  it(
    "pages × queues × persistent × indirect, blkfront in host A and blkback in host B",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const nats = await startNatsServer();
      const a = spawnJsonLinesChild(join(REPO_ROOT, "test", "dist", "fixtures", "blk-cross-host-a.js"), [
        nats.url,
      ]);
      let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
      try {
        const addr = (await a.next("hv")) as { hv: string; xs: string };
        hostB = await startHost({
          hostId: "hostB",
          nats: nats.url,
          services: [
            { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
            {
              name: "blkback",
              entry: serviceEntryPath("blkback"),
              config: { hypervisor: addr.hv, xenstored: addr.xs, hypervisorHost: "hostA" },
            },
          ],
          sharedMemoryBytes: 256 << 20,
          logLevel: "warn",
        });
        await hostB.ready;
        // Every feature on and off in combination: pages 1/64 × queues 1/4 × persistent × indirect.
        const combos: Array<{ order: number; queues: number; persistent: boolean; indirect: number }> = [];
        for (const order of [0, 6])
          for (const queues of [1, 4])
            for (const persistent of [true, false])
              for (const indirect of [0, 64]) combos.push({ order, queues, persistent, indirect });
        const check = async (combo: (typeof combos)[number] & { ios?: number }) => {
          a.send(`run ${JSON.stringify(combo)}`);
          const { result } = (await a.next("combo", 120_000)) as { result: Record<string, unknown> };
          const label = JSON.stringify(combo);
          assert.equal(result.error, undefined, `${label}: ${String(result.error)}`);
          assert.deepEqual(
            { pages: result.pages, queues: result.queues },
            { pages: 1 << combo.order, queues: combo.queues },
            label,
          );
          assert.equal(result.errors, 0, `${label}: ${JSON.stringify(result)}`);
          assert.equal(result.verifyFailures, 0, `${label}: ${JSON.stringify(result)}`);
          assert.equal(result.protocolErrors, 0, label);
          assert.equal(result.submitted, result.completed, `${label}: every I/O completed once`);
          assert.ok((result.checked as number) > 0, label);
        };
        for (const combo of combos) await check(combo);

        // Every link fault, both ways, seeded: the job's crc32c verify reads back every write.
        const seed = testSeed();
        console.log(`block I/O under link faults: seed ${seed} (XENSIM_SEED=${seed} to replay)`);
        const bus = await connectNatsBus({ servers: nats.url, name: "faults" });
        const enc = new TextEncoder();
        const dec = new TextDecoder();
        const setFaults = async (h: string, rules: object | null) => {
          const r = await bus.request(LINK_SUBJECTS.faults(h), enc.encode(JSON.stringify({ rules })), {
            timeoutMs: 5000,
          });
          assert.deepEqual(JSON.parse(dec.decode(r.data)), { ok: true });
        };
        const rules = { seed, drop: 0.05, duplicate: 0.05, reorder: 0.05, stall: 0.02, stallMs: [5, 40] };
        try {
          await setFaults("hostA", rules);
          await setFaults("hostB", { ...rules, seed: seed + 1 });
          for (const combo of [
            { order: 0, queues: 1, persistent: true, indirect: 0, ios: 400 },
            { order: 6, queues: 4, persistent: false, indirect: 64, ios: 400 },
          ])
            await check(combo);
          const kinds = new Set<string>();
          for (const h of ["hostA", "hostB"]) {
            const r = await bus.request(LINK_SUBJECTS.faultRecords(h), new Uint8Array(0), {
              timeoutMs: 5000,
            });
            const x = JSON.parse(dec.decode(r.data)) as {
              peers: Record<string, { counts: Record<string, number> }>;
            };
            for (const p of Object.values(x.peers))
              for (const [k, n] of Object.entries(p.counts)) if (n > 0) kinds.add(k);
          }
          assert.deepEqual(
            [...kinds].sort(),
            ["drop", "duplicate", "reorder", "stall"],
            "every fault injected",
          );
        } finally {
          await setFaults("hostA", null);
          await setFaults("hostB", null);
          await bus.close();
        }
        assert.equal((await hostB.health()).status, "ok");
      } finally {
        await hostB?.stop(); // B first: blkback unmaps and unbinds through A's hypervisor
        await a.stop("stop");
        await nats.stop();
      }
    },
  );
});
