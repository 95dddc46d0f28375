// xenstored in its own host process, not the guests' (real processes, real nats-server, gRPC and link
// sockets). Host A (this process) runs the hypervisor, a page-server, the guest runtime and the
// toolstack; host X (`xensim up --services page-server,xenstored`, a child process) runs xenstored,
// which foreign-maps each guest's store page over the link between the two page-servers. A guest
// created through the toolstack talks xenstore over its ring (its feature nodes appear, read with the
// real xenstore-ls on host X's unix socket), host X is killed with SIGKILL and started again on the
// same state directory (its journal restores the tree, the ring is re-attached and the guest
// reconnects), and then `xl shutdown` — a control/shutdown the guest reads over its ring — completes.
// Nothing of the dead process's mapping is left at the hypervisor's host.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startHost } from "@xensim/runtime";
import { findNatsServer, freePort, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { haveBinary, serviceEntryPath, spawnXensim, xenstoreTool, type XensimProcess } from "./harness.js";

describe("xenstored in its own host process", () => {
  const dir = tempDir("xensim-xs-host-");
  after(() => dir.cleanup());

  it(
    "guests' xenstore rings over the link; xenstored's host killed and restarted keeps serving them",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 300_000 },
    async () => {
      const nats = await startNatsServer();
      const hvPort = await freePort();
      const xsPort = await freePort();
      const apiPort = await freePort();
      const xDir = join(dir.path, "hostX");
      const socket = join(xDir, "xenstored.sock");
      const upX = (): XensimProcess =>
        spawnXensim([
          "up",
          "--nats",
          nats.url,
          "--services",
          "page-server,xenstored",
          "--host-id",
          "hostX",
          "--state-dir",
          xDir,
          "--insecure", // credentials: test/src/link-auth.test.ts
          "--no-examples",
          "--grpc",
          `xenstored=127.0.0.1:${xsPort}`,
          "--set",
          "page-server.hypervisorHost=hostA", // dial host A at once (a new epoch is seen at start)
          "--set",
          "xenstored.hypervisorHost=hostA",
          "--set",
          `xenstored.hypervisor=127.0.0.1:${hvPort}`,
        ]);
      let hostX: XensimProcess | undefined = upX();
      await waitFor(() => hostX!.output().includes("services: page-server, xenstored"), {
        timeoutMs: 60_000,
        message: `host X up: ${hostX.output()}`,
      });
      const hostA = await startHost({
        hostId: "hostA",
        nats: nats.url,
        grpcListen: { hypervisor: `127.0.0.1:${hvPort}` },
        services: [
          { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
          { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
          {
            name: "guest",
            entry: serviceEntryPath("guest"),
            config: { stateDir: join(dir.path, "guest"), statusIntervalMs: 200 },
          },
          {
            name: "toolstack",
            entry: serviceEntryPath("toolstack"),
            config: {
              guest: "guest",
              // by address: the host's name → address table may not hold the hypervisor yet when the
              // toolstack's client is made (then it would be an in-process client, which fails)
              hypervisor: `127.0.0.1:${hvPort}`,
              xenstored: `127.0.0.1:${xsPort}`,
              api: { host: "127.0.0.1", port: apiPort, tokenFile: "" },
            },
          },
        ],
        sharedMemoryBytes: 256 << 20,
        logLevel: "warn",
      });
      const api = `http://127.0.0.1:${apiPort}`;
      const linkStat = async (name: string): Promise<number> => {
        const m = (await hostA.metrics()).body;
        const v = new RegExp(`^link_${name}(?:\\{[^}]*\\})? (\\d+)`, "m").exec(m);
        return v ? Number(v[1]) : 0;
      };
      try {
        await hostA.ready;
        const cfg = ['name = "xsremote"', "memory = 32", "disk = [ ]"].join("\n");
        const res = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ config: cfg, filename: "xsremote.cfg" }),
        });
        const created = (await res.json()) as { domid: number; error?: string };
        assert.equal(res.status, 201, JSON.stringify(created));
        const domid = created.domid;
        const feature = `/local/domain/${domid}/control/feature-poweroff`;
        // The guest wrote its feature nodes over its ring (xenstored maps the page over the link).
        await waitFor(
          () => {
            const r = xenstoreTool(socket, "xenstore-read", [feature]);
            return r.status === 0 && r.stdout.trim() === "1";
          },
          { timeoutMs: 60_000, message: `the guest's ring write (${hostX.output().slice(-2000)})` },
        );
        if (haveBinary("xenstore-ls")) {
          const ls = xenstoreTool(socket, "xenstore-ls", [`/local/domain/${domid}/control`]);
          assert.equal(ls.status, 0, ls.stderr);
          assert.match(ls.stdout, /feature-poweroff = "1"/);
        }
        assert.ok((await linkStat("foreign_maps_total")) >= 1, "xenstored's map went over the link");

        // Host X killed with SIGKILL, then up again on the same state directory.
        await hostX.kill9();
        hostX = upX();
        await waitFor(() => hostX!.output().includes("services: page-server, xenstored"), {
          timeoutMs: 60_000,
          message: `host X up again: ${hostX.output()}`,
        });
        // The dead process's mapping was released (its epoch), the new one maps again.
        await waitFor(async () => (await linkStat("foreign_released_total")) >= 1, {
          timeoutMs: 90_000,
          message: `the dead xenstored's foreign mapping released (${hostX.output().slice(-2000)})`,
        });
        await waitFor(async () => (await linkStat("foreign_maps_total")) >= 2, {
          timeoutMs: 90_000,
          message: `the restarted xenstored maps the store page again (${hostX.output().slice(-2000)})`,
        });
        const again = xenstoreTool(socket, "xenstore-read", [feature]);
        assert.equal(again.status, 0, again.stderr);
        assert.equal(again.stdout.trim(), "1", "the tree came back from the journal");

        // xl shutdown: control/shutdown, read by the guest over its (re-attached) ring.
        const sd = await fetch(`${api}/domains/${domid}/shutdown?timeoutMs=60000`, { method: "POST" });
        assert.equal(sd.status, 200, await sd.text());
        await waitFor(
          async () => {
            const list = (await (await fetch(`${api}/domains`)).json()) as { domains: Array<{ id: number }> };
            return !list.domains.some((d) => d.id === domid);
          },
          { timeoutMs: 30_000, message: "the domain is gone after its shutdown" },
        );
        // Nothing of xenstored's mappings is left at the hypervisor's host.
        await waitFor(async () => (await linkStat("foreign_maps_live")) === 0, {
          timeoutMs: 30_000,
          message: "no foreign mapping left",
        });
      } finally {
        await hostA.stop();
        if (hostX) await hostX.stop();
        await nats.stop();
      }
    },
  );
});
