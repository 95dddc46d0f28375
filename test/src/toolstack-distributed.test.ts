// Create → I/O → destroy in the distributed placement: host A (this process) runs the hypervisor,
// xenstored, a page-server, the guest runtime and the toolstack; host B is `xensim up --nats URL
// --services page-server,blkback` in its own process, its blkback mapping the guest's pages over the
// link between the two page-servers. The domain is created from an xl.cfg over the toolstack's HTTP
// API, its workload's I/O flows through blkback in host B, and destroy leaves nothing behind. With the
// credentials of `xensim keys init` (issue 14): gRPC with mutual TLS, NATS nkeys under per-service
// permissions, the API behind its token — and not one call or subject refused along the way.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { connectNatsBus } from "@xensim/bus";
import { startHost } from "@xensim/runtime";
import { inboxPrefix, initKeys, loadApiToken, loadCredentials } from "@xensim/security";
import { findNatsServer, freePort, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { serviceEntryPath, spawnXensim } from "./harness.js";
import { GUEST_SUBJECTS } from "@xensim/subjects";

describe("toolstack create → I/O → destroy, blkback in another host process (NATS + gRPC)", () => {
  const dir = tempDir("xensim-dist-");
  after(() => dir.cleanup());

  it(
    "a domain from xl.cfg does I/O through a blkback in host B, and destroy leaves nothing",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const keys = join(dir.path, "keys");
      await initKeys(keys, {
        hosts: {
          hostA: ["hypervisor", "xenstored", "page-server", "guest", "toolstack"],
          hostB: ["page-server", "blkback"],
        },
      });
      const nats = await startNatsServer({ args: ["-c", join(keys, "nats-server.conf")] });
      const apiPort = await freePort();
      const token = loadApiToken(keys);
      const auth = { authorization: `Bearer ${token}` };
      const hostA = await startHost({
        hostId: "hostA",
        nats: nats.url,
        keysDir: keys,
        services: [
          { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
          { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
          { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
          {
            name: "guest",
            entry: serviceEntryPath("guest"),
            config: { stateDir: join(dir.path, "guest") },
          },
          {
            name: "toolstack",
            entry: serviceEntryPath("toolstack"),
            config: {
              guest: "guest",
              api: { host: "127.0.0.1", port: apiPort, tokenFile: join(keys, "api-token") },
            },
          },
        ],
        sharedMemoryBytes: 512 << 20,
        logLevel: "warn",
      });
      const admin = loadCredentials(keys, { client: "admin" });
      const bus = await connectNatsBus({
        servers: nats.url,
        name: "test",
        nkeySeed: admin.natsSeed,
        inboxPrefix: inboxPrefix(admin.identity),
      });
      let hostB: ReturnType<typeof spawnXensim> | undefined;
      try {
        await hostA.ready;
        const hv = hostA.services.get("hypervisor")!.grpcAddress!;
        const xs = hostA.services.get("xenstored")!.grpcAddress!;
        hostB = spawnXensim([
          "up",
          "--nats",
          nats.url,
          "--services",
          "page-server,blkback",
          "--host-id",
          "hostB",
          "--state-dir",
          join(dir.path, "hostB"),
          "--keys",
          keys,
          "--set",
          "blkback.hypervisorHost=hostA",
          "--set",
          `blkback.hypervisor=${hv}`,
          "--set",
          `blkback.xenstored=${xs}`,
        ]);
        await waitFor(() => hostB!.output().includes("services: page-server, blkback"), {
          timeoutMs: 30_000,
          message: `host B up: ${hostB.output()}`,
        });
        const statuses: Array<{ domid: number; workload?: { ios: number | string } }> = [];
        bus.subscribe(GUEST_SUBJECTS.statusAll, {
          callback: (m) =>
            statuses.push(JSON.parse(new TextDecoder().decode(m.data)) as (typeof statuses)[0]),
        });
        await bus.flush();

        const api = `http://127.0.0.1:${apiPort}`;
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
