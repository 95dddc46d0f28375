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
import { readFileSync } from "node:fs";
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

  // As in compose (docker-compose.yml): the guests' host process (hypervisor, page-server, guest
  // runtime) is not xenstored's nor the toolstack's. It is killed and started again: its guests are
  // lost with it, the toolstack (in its own host process) re-creates the guest (on_crash), and the new
  // guest's xenstore ring must work through the xenstored that never restarted.
  for (const signal of ["SIGKILL", "SIGTERM"] as const)
    it(
      `the guests' host process stopped (${signal}) and restarted: a re-created guest's xenstore ring works`,
      { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 300_000 },
      async () => {
        const nats = await startNatsServer();
        const [hvPort, xsPort, guestPort, apiPort] = [
          await freePort(),
          await freePort(),
          await freePort(),
          await freePort(),
        ];
        const xDir = join(dir.path, `restartA-${signal}-X`);
        const tDir = join(dir.path, `restartA-${signal}-T`);
        const socket = join(xDir, "xenstored.sock");
        const common = ["--nats", nats.url, "--insecure", "--no-examples"];
        const hostX = spawnXensim([
          "up",
          ...common,
          "--services",
          "page-server,xenstored",
          "--host-id",
          "hostX",
          "--state-dir",
          xDir,
          "--grpc",
          `xenstored=127.0.0.1:${xsPort}`,
          "--set",
          "page-server.hypervisorHost=hostA",
          "--set",
          "xenstored.hypervisorHost=hostA",
          "--set",
          `xenstored.hypervisor=127.0.0.1:${hvPort}`,
        ]);
        const upA = (): XensimProcess =>
          spawnXensim([
            "up",
            ...common,
            "--services",
            "hypervisor,page-server,guest",
            "--host-id",
            "hostA",
            "--state-dir",
            join(dir.path, `restartA-${signal}-A`),
            "--grpc",
            `hypervisor=127.0.0.1:${hvPort}`,
            "--grpc",
            `guest=127.0.0.1:${guestPort}`,
            // No domain table, as in compose: the new run knows nothing of the old run's domains
            // (no "dead" reports) and hands their domids out again, while xenstored still holds
            // the old run's rings, ports and mapping handles.
            "--set",
            "hypervisor.stateDir=",
          ]);
        let hostA: XensimProcess | undefined;
        let hostT: XensimProcess | undefined;
        const api = `http://127.0.0.1:${apiPort}`;
        const auth = (): Record<string, string> => ({
          authorization: `Bearer ${readFileSync(join(tDir, "api-token"), "utf8").trim()}`,
        });
        let lastApiError = "";
        const domidOf = async (name: string): Promise<number | undefined> => {
          try {
            const list = (await (
              await fetch(`${api}/domains`, { headers: auth(), signal: AbortSignal.timeout(10_000) })
            ).json()) as {
              domains: Array<{ id: number; name: string }>;
            };
            lastApiError = JSON.stringify(list).slice(0, 500);
            return list.domains.find((d) => d.name === name)?.id;
          } catch (e) {
            lastApiError = String(e);
            return undefined;
          }
        };
        const ringWorks = (domid: number): boolean => {
          const r = xenstoreTool(socket, "xenstore-read", [
            `/local/domain/${domid}/control/feature-poweroff`,
          ]);
          return r.status === 0 && r.stdout.trim() === "1";
        };
        const logs = () =>
          `host X: ${hostX.output().slice(-6000)}\nhost A: ${hostA?.output().slice(-6000)}\ntoolstack: ${hostT?.output().slice(-6000)}`;
        try {
          await waitFor(() => hostX.output().includes("services: page-server, xenstored"), {
            timeoutMs: 60_000,
            message: `host X up: ${hostX.output()}`,
          });
          hostA = upA();
          await waitFor(() => hostA!.output().includes("services: hypervisor"), {
            timeoutMs: 60_000,
            message: `host A up: ${hostA.output()}`,
          });
          hostT = spawnXensim([
            "up",
            ...common,
            "--services",
            "toolstack",
            "--host-id",
            "hostT",
            "--state-dir",
            tDir,
            "--api-port",
            String(apiPort),
            "--set",
            `toolstack.hypervisor=127.0.0.1:${hvPort}`,
            "--set",
            `toolstack.xenstored=127.0.0.1:${xsPort}`,
            "--set",
            `toolstack.guest=127.0.0.1:${guestPort}`,
          ]);
          await waitFor(() => hostT!.output().includes("services: toolstack"), {
            timeoutMs: 60_000,
            message: `toolstack up: ${hostT.output()}`,
          });
          const cfg = ['name = "xslost"', "memory = 32", "disk = [ ]", 'on_crash = "restart"'].join("\n");
          const res = await fetch(`${api}/domains`, {
            method: "POST",
            headers: { "content-type": "application/json", ...auth() },
            body: JSON.stringify({ config: cfg, filename: "xslost.cfg" }),
          });
          const created = (await res.json()) as { domid: number; error?: string };
          assert.equal(res.status, 201, JSON.stringify(created));
          await waitFor(() => ringWorks(created.domid), {
            timeoutMs: 60_000,
            message: `the first guest's ring write (${logs()})`,
          });

          // The guests' host process dies (its guest with it) and comes back as a new link epoch.
          if (signal === "SIGKILL") await hostA.kill9();
          else await hostA.stop(); // docker-compose restart: a clean stop first
          hostA = upA();
          await waitFor(() => hostA!.output().includes("services: hypervisor"), {
            timeoutMs: 60_000,
            message: `host A up again: ${hostA.output()}`,
          });
          // The toolstack notices the lost domain and creates it again (on_crash = "restart"); the new
          // guest writes its feature nodes over its ring, which xenstored maps through the new epoch.
          let again: number | undefined;
          await waitFor(
            async () => {
              again = await domidOf("xslost");
              return again !== undefined && ringWorks(again);
            },
            { timeoutMs: 120_000 },
          ).catch((err: Error) => {
            // (the state when it timed out, not when it started waiting)
            throw new Error(
              `${err.message}: the re-created guest's ring write (domid ${again}; API: ${lastApiError}; ${logs()})`,
            );
          });
          // and the ring carries a request the other way: xl shutdown (control/shutdown, read by the guest).
          const sd = await fetch(`${api}/domains/${again}/shutdown?timeoutMs=60000`, {
            method: "POST",
            headers: auth(),
          });
          assert.equal(sd.status, 200, await sd.text());
          await waitFor(async () => (await domidOf("xslost")) === undefined, {
            timeoutMs: 30_000,
            message: "the re-created domain is gone after its shutdown",
          });
        } finally {
          if (hostT) await hostT.stop();
          if (hostA) await hostA.stop();
          await hostX.stop();
          await nats.stop();
        }
      },
    );
});
