// xenbus's ring / grant / event-channel helpers against the real hypervisor: the standalone service
// started on a loopback gRPC port, XenCtrl as the XenbusHypervisor, two domains — grants, a map, an
// unmap, a map with a bad ref (GNTST_bad_gntref from the real grant table, the good ref unmapped
// again), event channels. The vbd directories are libxl's, in the real xenstore engine.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GNTST_bad_gntref, GNTST_bad_handle, GNTST_okay, XenErrno, XenbusState } from "@xensim/abi";
import { createGrpcCallClient } from "@xensim/bus";
import { applyVbdDirectories, vbdDirectories } from "@xensim/libxl";
import type { MemView } from "@xensim/memory";
import { loadHypervisorProto } from "@xensim/proto";
import { waitFor } from "@xensim/testkit";
import { XenbusDevice, GrantRefPool, type XenbusHypervisor } from "@xensim/xenbus";
import { XenCtrl } from "@xensim/xenctrl";
import { EngineHub } from "@xensim/xenstore-client";
import { REPO_ROOT } from "./harness.js";

const HYPERVISOR_ENTRY = join(REPO_ROOT, "services", "hypervisor", "dist", "main.js");

describe("ring helpers, real hypervisor (standalone, gRPC)", () => {
  it("grant, map, unmap, a bad ref rolled back, event channels", {}, async () => {
    const proc = spawn(
      process.execPath,
      [HYPERVISOR_ENTRY, "--grpc-listen", "127.0.0.1:0", "--log-level", "info"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
    try {
      await waitFor(() => /"grpc":"127\.0\.0\.1:\d+"/.test(out) || proc.exitCode !== null, {
        timeoutMs: 20_000,
        message: "hypervisor ready",
      });
      const address = /"grpc":"(127\.0\.0\.1:\d+)"/.exec(out)?.[1];
      assert.ok(address, out);
      const calls = createGrpcCallClient(
        loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
        address,
      );
      try {
        const dom0 = new XenCtrl({ domid: 0, calls });
        const { rc, domid: guest } = await dom0.domainCreate({ memoryMib: 1 });
        assert.equal(rc, 0);
        assert.equal(await dom0.domainUnpause(guest), 0);
        const xg = new XenCtrl({ domid: guest, calls });
        // XenCtrl is a XenbusHypervisor as it is (checked by the compiler here).
        const hvFront: XenbusHypervisor<MemView> = xg;
        const hvBack: XenbusHypervisor<MemView> = dom0;

        const hub = new EngineHub();
        const { client } = hub.connect();
        const dirs = vbdDirectories({ frontend: guest, devid: 51712, vdev: "xvda", params: "null:size=1M" });
        await client.transaction((tx) => applyVbdDirectories(tx, dirs));
        const p = { front: dirs.frontendPath, back: dirs.backendPath };
        const pool = new GrantRefPool(64);
        const front = await XenbusDevice.open({
          store: client,
          self: guest,
          side: "frontend",
          nodename: p.front,
          hypervisor: hvFront,
          grantRefs: pool,
        });
        const back = await XenbusDevice.open({
          store: client,
          self: 0,
          side: "backend",
          nodename: p.back,
          hypervisor: hvBack,
        });

        // Frontend: ring pages granted, an unbound port offered; backend maps and binds.
        const g = await front.grantRing([3, 4]);
        assert.equal(g.rc, 0);
        const port = await front.allocEvtchn();
        assert.equal(port.rc, 0);
        const m = await back.mapRing(g.refs);
        assert.equal(m.status, GNTST_okay, "map");
        assert.ok("handles" in m);
        assert.equal(m.handles.length, 2);
        // Mapped: the granter cannot revoke.
        const busy = await front.ungrantRing(g.refs);
        assert.deepEqual(busy.stillMapped, g.refs);
        assert.equal(pool.available, 62);
        const bound = await back.bindEvtchn(port.port);
        assert.equal(bound.rc, 0);
        assert.equal((await xg.evtchnStatus(guest, port.port)).status, 2); // EVTCHNSTAT_interdomain

        assert.equal(await back.unmapRing(m.handles), GNTST_okay);
        assert.equal(await back.unmapRing(m.handles), GNTST_bad_handle);

        // A map with a bad ref: the good one is unmapped again, so the granter can revoke it.
        const g2 = await front.grantRing([5]);
        assert.equal(g2.rc, 0);
        const bad = await back.mapRing([g2.refs[0]!, 9999]);
        assert.deepEqual(bad, { status: GNTST_bad_gntref, failedIndex: 1, leaked: false });
        assert.deepEqual(await front.ungrantRing(g2.refs), { ok: true, stillMapped: [] });
        assert.equal(await client.read(back.errorPath), `3 mapping in shared page 9999 from domain ${guest}`);
        assert.equal(await client.read(`${p.back}/state`), String(XenbusState.Closing));

        assert.equal(await back.freeEvtchn(bound.port), 0);
        assert.equal(await front.freeEvtchn(port.port), 0);
        assert.equal(await front.freeEvtchn(4000), -XenErrno.EINVAL);
        assert.equal(await dom0.domainDestroy(guest), 0);
      } finally {
        calls.close();
      }
    } finally {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      assert.equal(await exited, 0);
    }
  });
});
