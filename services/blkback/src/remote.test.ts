// blkback in another host process than the hypervisor and the guest (NATS + gRPC): host A (a child
// process) runs hypervisor, xenstored, page-server and a guest with the test frontend; host B (this
// process) runs a page-server and the blkback service with `hypervisorHost: "hostA"`, so ring and
// data pages are replicas carried by the link, and kicks and grant maps are link records.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { startHost } from "@xensim/runtime";
import { findNatsServer, spawnJsonLinesChild, startNatsServer } from "@xensim/testkit";

const svc = (name: string) => new URL(`../../${name}/dist/main.js`, import.meta.url);

describe("blkback across host processes", () => {
  it(
    "serves a guest whose memory and hypervisor live in another host process",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const nats = await startNatsServer();
      const hostA = spawnJsonLinesChild(
        fileURLToPath(new URL("./testing/remote-host-a.js", import.meta.url)),
        [nats.url],
      );
      const next = (key: string, timeoutMs = 60_000) => hostA.next(key, timeoutMs);
      let hostB: Awaited<ReturnType<typeof startHost>> | undefined;
      try {
        const a = (await next("hv")) as { hv: string; xs: string };
        hostB = await startHost({
          hostId: "hostB",
          nats: nats.url,
          services: [
            { name: "page-server", entry: svc("page-server"), config: {} },
            {
              name: "blkback",
              entry: svc("blkback"),
              config: { hypervisor: a.hv, xenstored: a.xs, hypervisorHost: "hostA" },
            },
          ],
          sharedMemoryBytes: 64 * 1024 * 1024,
          logLevel: "warn",
        });
        await hostB.ready;
        hostA.send("go");
        const r = (await next("done", 120_000)) as { ok: boolean; rounds: number; error?: string };
        const m = (await hostB.metrics()).body;
        if (!r.ok)
          console.log(
            m
              .split("\n")
              .filter((l) => l.startsWith("blkback_") && !l.includes("bucket"))
              .join("\n"),
          );
        assert.deepEqual(r, { done: true, ok: true, rounds: 20 });
        assert.match(m, /blkback_io_completed_total\{[^}]*queue="1"[^}]*\} [1-9]/);
        const h = await hostB.health();
        assert.equal(h.status, "ok");
      } finally {
        // B first: blkback's stop unmaps and unbinds through A's hypervisor.
        await hostB?.stop();
        await hostA.stop("stop");
        await nats.stop();
      }
    },
  );
});
