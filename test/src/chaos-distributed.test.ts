// The chaos host plane in a distributed placement: host A (this process) runs the hypervisor,
// xenstored, a page-server, the guest runtime and the toolstack; host B is `xensim up --nats URL
// --services page-server,blkback` in its own process. Through the toolstack's one fault API,
// service.paused freezes blkback in host B and heals, service.killed crashes its worker and host B
// starts it again — with the credentials of `xensim keys init` (NATS nkeys under per-service
// permissions), not one subject refused.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startHost } from "@xensim/runtime";
import { initKeys, loadApiToken } from "@xensim/security";
import { findNatsServer, freePort, startNatsServer, tempDir, waitFor } from "@xensim/testkit";
import { serviceEntryPath, spawnXensim } from "./harness.js";

interface HostList {
  hosts: Array<{ hostId: string; services?: Array<{ name: string; state: string; paused: boolean }> }>;
}

describe("chaos: kill / pause / restart reach a worker in another host process", () => {
  const dir = tempDir("xensim-chaos-dist-");
  after(() => dir.cleanup());

  it(
    "blkback in host B paused and healed, then killed and started again, through the toolstack's API",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false, timeout: 240_000 },
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
      const auth = { authorization: `Bearer ${loadApiToken(keys)}` };
      const hostA = await startHost({
        hostId: "hostA",
        nats: nats.url,
        keysDir: keys,
        services: [
          { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
          { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
          { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
          { name: "guest", entry: serviceEntryPath("guest"), config: { stateDir: join(dir.path, "guest") } },
          {
            name: "toolstack",
            entry: serviceEntryPath("toolstack"),
            config: {
              guest: "guest",
              api: { host: "127.0.0.1", port: apiPort, tokenFile: join(keys, "api-token") },
            },
          },
        ],
        sharedMemoryBytes: 256 << 20,
        logLevel: "warn",
      });
      let hostB: ReturnType<typeof spawnXensim> | undefined;
      const api = `http://127.0.0.1:${apiPort}`;
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${api}${path}`, {
          method,
          headers: { ...auth, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      const blkbackOfB = async () =>
        ((await call("GET", "/chaos/hosts")).json as unknown as HostList).hosts
          .find((h) => h.hostId === "hostB")
          ?.services?.find((s) => s.name === "blkback");
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
          timeoutMs: 60_000,
          message: `host B up: ${hostB.output()}`,
        });
        // both host processes answer on the chaos plane
        await waitFor(async () => (await blkbackOfB())?.state === "ready", {
          timeoutMs: 30_000,
          message: "host B lists its blkback",
        });

        const paused = await call("POST", "/chaos/faults", { kind: "service.paused", service: "blkback" });
        assert.equal(paused.status, 200, JSON.stringify(paused.json));
        assert.equal((await blkbackOfB())?.paused, true);
        assert.equal((await call("DELETE", `/chaos/faults?id=${String(paused.json.id)}`)).status, 200);
        assert.equal((await blkbackOfB())?.paused, false);

        const killed = await call("POST", "/chaos/faults", { kind: "service.killed", service: "blkback" });
        assert.equal(killed.status, 200, JSON.stringify(killed.json));
        await waitFor(async () => (await blkbackOfB())?.state === "ready", {
          timeoutMs: 60_000,
          message: "host B started blkback again",
        });
        await waitFor(
          () => /service-restart/.test(hostB!.output()) || /restarting blkback/.test(hostB!.output()),
          {
            timeoutMs: 10_000,
            message: `host B logged the restart: ${hostB.output()}`,
          },
        );
        const m = (await hostA.metrics()).body;
        assert.doesNotMatch(m, /xensim_bus_refused_total\{[^}]*\} [1-9]/, "no subject refused on host A");
        assert.doesNotMatch(hostB.output(), /NATS refused/, "nothing refused on host B");
      } finally {
        if (hostB) await hostB.stop();
        await hostA.stop();
        await nats.stop();
      }
    },
  );
});
