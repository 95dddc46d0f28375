// Create → I/O → destroy in the distributed placement: host A (this process) runs the hypervisor,
// xenstored, a page-server, the guest runtime and the toolstack; host B is `xensim up --nats URL
// --services page-server,blkback` in its own process, its blkback mapping the guest's pages over the
// link between the two page-servers. The domain is created from an xl.cfg over the toolstack's HTTP
// API, its workload's I/O flows through blkback in host B, and destroy leaves nothing behind. With the
// credentials of `xensim keys init` (issue 14): gRPC with mutual TLS, NATS nkeys under per-service
// permissions, the API behind its token — and not one call or subject refused along the way.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { findNatsServer, tempDir, waitFor } from "@xensim/testkit";
import type { XensimProcess } from "./harness.js";
import { GUEST_SUBJECTS } from "@xensim/subjects";
import { connectAdminBus, startBackendHost, startCredentialedHostA } from "./two-hosts.js";

describe("toolstack create → I/O → destroy, blkback in another host process (NATS + gRPC)", () => {
  const dir = tempDir("xensim-dist-");
  after(() => dir.cleanup());

  it(
    "a domain from xl.cfg does I/O through a blkback in host B, and destroy leaves nothing",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const a = await startCredentialedHostA({ dir: dir.path, sharedMemoryBytes: 512 << 20 });
      const { nats, hostA, auth, api } = a;
      const bus = await connectAdminBus(a.keys, nats.url);
      let hostB: XensimProcess | undefined;
      try {
        hostB = await startBackendHost(a, 30_000);
        const statuses: Array<{ domid: number; workload?: { ios: number | string } }> = [];
        bus.subscribe(GUEST_SUBJECTS.statusAll, {
          callback: (m) =>
            statuses.push(JSON.parse(new TextDecoder().decode(m.data)) as (typeof statuses)[0]),
        });
        await bus.flush();

        const cfg = [
          'name = "dist"',
          "memory = 64",
          "disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=16M' ]",
          'xensim_workload = "rw=randrw,bs=4k,iodepth=4,size=4m,runtime=600,verify=crc32c"',
          'xensim_blkfront = "ring-page-order=1,queues=2"',
        ].join("\n");
        // no token, a wrong one: 401 before any route
        assert.equal((await fetch(`${api}/domains`)).status, 401);
        assert.equal(
          (await fetch(`${api}/domains`, { headers: { authorization: "Bearer nope" } })).status,
          401,
        );
        const res = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json", ...auth },
          body: JSON.stringify({ config: cfg, filename: "dist.cfg" }),
        });
        const created = (await res.json()) as { domid: number; error?: string };
        assert.equal(res.status, 201, JSON.stringify(created));
        const domid = created.domid;

        // The workload's I/O completes through blkback in host B.
        await waitFor(() => statuses.some((s) => s.domid === domid && Number(s.workload?.ios ?? 0) > 50), {
          timeoutMs: 60_000,
          message: "guest I/O through host B",
        });
        const disks = (await (await fetch(`${api}/domains/${domid}/disks`, { headers: auth })).json()) as {
          disks: Array<{ vdev: string; backendState: string; frontendState: string; ringPages: number }>;
        };
        assert.equal(disks.disks[0]?.frontendState, "Connected");
        assert.equal(disks.disks[0]?.backendState, "Connected");
        assert.equal(disks.disks[0]?.ringPages, 2);

        const del = await fetch(`${api}/domains/${domid}`, { method: "DELETE", headers: auth });
        assert.equal(del.status, 200, await del.text());
        const list = (await (await fetch(`${api}/domains`, { headers: auth })).json()) as {
          domains: Array<{ id: number }>;
        };
        assert.deepEqual(
          list.domains.map((d) => d.id),
          [0],
          "only dom0 is left",
        );
        // under the credentials nothing the services did was refused (calls or subjects)
        const m = (await hostA.metrics()).body;
        assert.doesNotMatch(m, /xensim_calls_refused_total\{[^}]*\} [1-9]/, "no call refused on host A");
        assert.doesNotMatch(m, /xensim_bus_refused_total\{[^}]*\} [1-9]/, "no subject refused on host A");
        assert.doesNotMatch(hostB.output(), /NATS refused|call refused/, "nothing refused on host B");
      } finally {
        if (hostB) assert.equal(await hostB.stop(), 0, hostB.output());
        await bus.close();
        await hostA.stop();
        await nats.stop();
      }
    },
  );
});
