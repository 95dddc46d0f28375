// The chaos host plane in a distributed placement: host A (this process) runs the hypervisor,
// xenstored, a page-server, the guest runtime and the toolstack; host B is `xensim up --nats URL
// --services page-server,blkback` in its own process. Through the toolstack's one fault API,
// service.paused freezes blkback in host B and heals, service.killed crashes its worker and host B
// starts it again — with the credentials of `xensim keys init` (NATS nkeys under per-service
// permissions), not one subject refused.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { findNatsServer, tempDir, waitFor } from "@xensim/testkit";
import type { XensimProcess } from "./harness.js";
import { startBackendHost, startCredentialedHostA } from "./two-hosts.js";

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
      const a = await startCredentialedHostA({ dir: dir.path, sharedMemoryBytes: 256 << 20 });
      const { nats, hostA, auth, api } = a;
      let hostB: XensimProcess | undefined;
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
        hostB = await startBackendHost(a, 60_000);
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
