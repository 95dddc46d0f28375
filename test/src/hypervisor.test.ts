// The hypervisor with XenCtrl in both placements. Embedded: a host runs xenstored and the
// hypervisor in worker threads; two domains created through XenCtrl exchange events over an
// interdomain channel (Atomics wake-ups: exactly one handler call per pending edge), one maps the
// other's granted page and sees its
// writes, and shutdown/destroy publish the exc events. Standalone: the same control calls against
// `node services/hypervisor/dist/main.js --grpc-listen 127.0.0.1:0` over real gRPC.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GNTMAP_host_map, GNTST_okay, SHUTDOWN_poweroff, VIRQ_DOM_EXC, XenErrno } from "@xensim/abi";
import { createGrpcCallClient, createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { loadHypervisorProto } from "@xensim/proto";
import { startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";
import { decodeDomainExc, type DomainExcEvent, XenCtrl } from "@xensim/xenctrl";
import { HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { REPO_ROOT } from "./harness.js";

const def = () => loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
const HYPERVISOR_ENTRY = join(REPO_ROOT, "services", "hypervisor", "dist", "main.js");
const XENSTORED_ENTRY = join(REPO_ROOT, "services", "xenstored", "dist", "main.js");

async function sendAndCount(send: () => Promise<number>, seen: () => number, n: number): Promise<void> {
  const base = seen();
  for (let i = 1; i <= n; i++) {
    assert.equal(await send(), 0);
    await waitFor(() => seen() >= base + i, { timeoutMs: 5000, message: `event ${i}` });
  }
}

describe("hypervisor, embedded placement", () => {
  it("two domains exchange events and share a granted page; shutdown publishes exc", async () => {
    const host = await startHost({
      services: [
        { name: "xenstored", entry: XENSTORED_ENTRY, config: {} },
        { name: "hypervisor", entry: HYPERVISOR_ENTRY, config: { reapMs: 50 } },
      ],
      logLevel: "warn",
    });
    const calls = createInProcessCallClient(def(), "hypervisor");
    const bus = createInProcessBus({ name: host.busName });
    const ctls: XenCtrl[] = [];
    try {
      await host.ready;
      const excs: DomainExcEvent[] = [];
      bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
        callback: (m) => excs.push(decodeDomainExc(m.data)),
      });
      await bus.flush();

      const dom0 = new XenCtrl({ domid: 0, calls, store: host.sharedMemory, bus });
      ctls.push(dom0);
      const virq = await dom0.evtchnBindVirq(VIRQ_DOM_EXC);
      assert.equal(virq.rc, 0);
      const a = await dom0.domainCreate({ memoryMib: 1 });
      const b = await dom0.domainCreate({ memoryMib: 1, vcpus: 2 });
      assert.equal(a.rc, 0);
      assert.equal(b.rc, 0);
      for (const d of [a.domid, b.domid]) assert.equal(await dom0.domainUnpause(d), 0);
      const list = await dom0.domainList();
      assert.deepEqual(
        list.domains.map((x) => [x.domid, x.state]),
        [
          [0, "running"],
          [a.domid, "running"],
          [b.domid, "running"],
        ],
      );

      // Domain B (receiver) offers a port to A; A binds and sends; Atomics wake-ups.
      const xa = new XenCtrl({ domid: a.domid, calls, store: host.sharedMemory, bus });
      const xb = new XenCtrl({ domid: b.domid, calls, store: host.sharedMemory, bus });
      ctls.push(xa, xb);
      assert.equal((await xa.domainList()).rc, -XenErrno.EPERM);
      const unbound = await xb.evtchnAllocUnbound(b.domid, a.domid);
      assert.equal(unbound.rc, 0);
      const bound = await xa.evtchnBindInterdomain(b.domid, unbound.port);
      assert.equal(bound.rc, 0);
      const got: number[] = [];
      const rx = xb.waitForEvents(b.domid, (p) => got.push(p), { slowScanMs: 60_000 });
      await sendAndCount(
        () => xa.evtchnSend(bound.port),
        () => got.length,
        30,
      );
      assert.ok(got.every((p) => p === unbound.port));
      rx.close();
      const status = await xb.evtchnStatus(b.domid, unbound.port);
      assert.deepEqual([status.rc, status.status, status.dom, status.port], [0, 2, a.domid, bound.port]);

      // B grants its gfn 5 to A; A maps it (atomics, no call) and each sees the other's writes.
      assert.equal(await xb.gnttabGrantAccess(8, a.domid, 5, false), 0);
      const m = await xa.gnttabMapGrantRefs(b.domid, [8], GNTMAP_host_map);
      assert.equal(m.results[0]!.status, GNTST_okay);
      const own = await xb.mapForeignPages(b.domid, [5]);
      assert.ok(typeof own !== "number");
      m.view!.setU32(0, 0xdeadbeef);
      assert.equal(own.getU32(0), 0xdeadbeef);
      own.setU32(8, 0x1234);
      assert.equal(m.view!.getU32(8), 0x1234);
      assert.equal(await xb.gnttabEndAccess(8), false); // still mapped
      assert.equal(typeof (await xa.mapForeignPages(b.domid, [5])), "number"); // -EPERM for a domU
      const dom0view = await dom0.mapForeignPages(b.domid, [5]);
      assert.ok(typeof dom0view !== "number");
      assert.equal(dom0view.getU32(0), 0xdeadbeef);

      // Destroying the granter while mapped: dying until A unmaps, then dead.
      assert.equal(await dom0.domainShutdown(b.domid, SHUTDOWN_poweroff), 0);
      await waitFor(() => excs.some((e) => e.domid === b.domid && e.state === "shutdown"), {
        timeoutMs: 5000,
        message: "shutdown exc event",
      });
      assert.deepEqual(
        excs.find((e) => e.domid === b.domid),
        {
          domid: b.domid,
          state: "shutdown",
          reason: SHUTDOWN_poweroff,
        },
      );
      const dom0Events: number[] = [];
      const rx0 = dom0.waitForEvents(0, (p) => dom0Events.push(p));
      await waitFor(() => dom0Events.includes(virq.port), { timeoutMs: 5000, message: "VIRQ_DOM_EXC" });
      assert.equal(await dom0.domainDestroy(b.domid), 0);
      assert.equal((await dom0.domainInfo(b.domid)).info?.state, "dying");
      assert.equal(m.view!.getU32(0), 0xdeadbeef);
      assert.deepEqual(await xa.gnttabUnmap([m.results[0]!.handle]), [GNTST_okay]);
      await waitFor(() => excs.some((e) => e.domid === b.domid && e.state === "dead"), {
        timeoutMs: 5000,
        message: "dead exc event",
      });
      assert.equal((await dom0.domainInfo(b.domid)).rc, -XenErrno.ESRCH);
      rx0.close();
      assert.equal(await dom0.domainDestroy(a.domid), 0);
      const h = await host.health();
      assert.ok(JSON.stringify(h).includes("hypervisor"));
    } finally {
      for (const c of ctls) c.close();
      calls.close();
      await bus.close();
      await host.stop();
    }
  });
});

describe("hypervisor, standalone over gRPC", () => {
  it("answers the control calls with Xen's codes", async () => {
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
      const calls = createGrpcCallClient(def(), address);
      try {
        const dom0 = new XenCtrl({ domid: 0, calls });
        assert.equal(dom0.inProcess, false);
        const a = await dom0.domainCreate({ memoryMib: 1, hvm: true, hvmParams: { 1: 0xfeffen } });
        const b = await dom0.domainCreate({ memoryMib: 1 });
        assert.deepEqual([a.rc, b.rc], [0, 0]);
        assert.equal((await dom0.domainInfo(a.domid)).info?.state, "paused");
        assert.equal(await dom0.domainUnpause(a.domid), 0);
        assert.equal(await dom0.domainPause(a.domid), 0);
        assert.equal(await dom0.domainUnpause(a.domid), 0);
        assert.equal((await dom0.domainInfo(a.domid)).info?.state, "running");
        assert.equal((await dom0.hvmParamGet(a.domid, 1)).value, 0xfeffen);
        const xa = new XenCtrl({ domid: a.domid, calls });
        const xb = new XenCtrl({ domid: b.domid, calls });
        assert.equal(await xa.domainPause(b.domid), -XenErrno.EPERM);
        assert.equal(await xa.domainDestroy(b.domid), -XenErrno.EPERM);
        assert.equal((await xa.domainCreate({ memoryMib: 1 })).rc, -XenErrno.EPERM);
        assert.equal(await dom0.domainPause(4242), -XenErrno.ESRCH);
        const u = await xb.evtchnAllocUnbound(b.domid, a.domid);
        const l = await xa.evtchnBindInterdomain(b.domid, u.port);
        assert.deepEqual([u.rc, l.rc], [0, 0]);
        assert.equal(await xa.evtchnSend(l.port), 0);
        assert.equal(await xa.evtchnSend(999), -XenErrno.EINVAL);
        assert.equal((await xb.evtchnStatus(b.domid, u.port)).status, 2);
        assert.equal(await xb.gnttabGrantAccess(8, a.domid, 3, true), 0);
        const m = await xa.gnttabMapGrantRefs(b.domid, [8, 9999], GNTMAP_host_map | 4);
        assert.deepEqual(
          m.results.map((r) => r.status),
          [GNTST_okay, -3], // GNTST_bad_gntref
        );
        assert.equal(await xb.gnttabEndAccess(8), false);
        assert.deepEqual(await xa.gnttabUnmap([m.results[0]!.handle]), [GNTST_okay]);
        assert.equal(await xb.gnttabEndAccess(8), true);
        assert.equal((await xb.gnttabQuerySize(b.domid)).status, GNTST_okay);
        assert.equal((await xb.memoryPopulatePhysmap(b.domid, 0x400, 2)).rc, 0);
        assert.equal((await xb.gfnToFrames(b.domid, [0x400, 0x401])).frames.length, 2);
        assert.equal(await dom0.domainShutdown(a.domid, 3), 0);
        assert.equal((await dom0.domainInfo(a.domid)).info?.shutdownReason, 3);
        assert.equal(await dom0.domainDestroy(a.domid), 0);
        assert.equal(await dom0.domainDestroy(b.domid), 0);
        assert.deepEqual(
          (await dom0.domainList()).domains.map((d) => d.domid),
          [0],
        );
      } finally {
        calls.close();
      }
    } finally {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      assert.equal(await exited, 0);
    }
  });
});
