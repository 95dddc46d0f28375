// The toolstack with a guest runtime: domains boot, their disks reach Connected with an NBD export,
// shutdown/reboot requests are acted on by the guest and the on_* actions follow.
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { freePort, tempDir, type TempDir, waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");

describe("toolstack service with a guest runtime", { timeout: 60_000 }, () => {
  let host: HostHandle;
  let bus: EventBus;
  let xc0: XenCtrl;
  let xs0: XenstoreClient;
  let base: string;
  let dir: TempDir;
  const closers: Array<() => unknown> = [];

  before(async () => {
    dir = tempDir("xensim-toolstack-guest");
    closers.push(() => dir.cleanup());
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
        { name: "blkback", entry: entry("blkback"), config: { params: { fileDir: dir.path } } },
        {
          name: "guest",
          entry: entry("guest"),
          config: { stateDir: join(dir.path, "guest"), statusIntervalMs: 200 },
        },
        {
          name: "toolstack",
          entry: entry("toolstack"),
          config: {
            guest: "guest",
            hostMemoryMib: 200,
            disks: { imageDir: dir.path },
            api: { host: "127.0.0.1", port },
            timeouts: { backendMs: 5000, frontendMs: 5000, shutdownMs: 5000, detachMs: 3000, reapMs: 5000 },
          },
        },
      ],
      sharedMemoryBytes: 256 << 20,
      logLevel: "warn",
    });
    closers.unshift(() => host.stop());
    await host.ready;
    bus = createInProcessBus({ name: host.busName });
    const hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    closers.unshift(
      () => bus.close(),
      () => hv.close(),
      () => xsCalls.close(),
    );
    xc0 = new XenCtrl({ domid: 0, calls: hv, bus });
    xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "test-dom0" });
    closers.unshift(() => xs0.close());
  });
  after(async () => {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(15_000) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    const r = await fetch(`${base}${path}`, init);
    const text = await r.text();
    return { status: r.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  async function nothingLeft(what: string) {
    await waitFor(async () => (await xc0.domainList()).domains.length === 1, {
      timeoutMs: 5000,
      message: what,
    });
    assert.deepEqual(
      (await xs0.ls("/local/domain")).filter((d) => d !== "0"),
      [],
      `${what}: homes`,
    );
    assert.deepEqual(await xs0.ls("/vm").catch(() => []), [], `${what}: /vm`);
    assert.deepEqual(await xs0.ls("/local/domain/0/backend/vbd").catch(() => []), [], `${what}: backends`);
  }

  const connected = async (domid: number, n: number) => {
    await waitFor(
      async () => {
        const d = (await api("GET", `/domains/${domid}/disks`)).body.disks as Array<{
          frontendState: string;
          backendState: string;
          nbdUri?: string;
        }>;
        return (
          d.length === n &&
          d.every(
            (x) =>
              x.frontendState === "Connected" && x.backendState === "Connected" && x.nbdUri !== undefined,
          )
        );
      },
      { timeoutMs: 10_000, message: `disks of ${domid} Connected with an NBD export` },
    );
  };

  it("boots: disks Connected with NBD exports (file image created on first use); hotplug with the closing handshake", async () => {
    const c = await api("POST", "/domains", {
      filename: "g.cfg",
      config: [
        'name = "g"',
        "memory = 32",
        "disk = [ 'vdev=xvda, target=file:path=g.raw,size=8M', 'vdev=xvdb, access=ro, target=memory:size=4M' ]",
        'xensim_workload = "rw=randrw,bs=4k,iodepth=4,number_ios=200,verify=crc32c"',
      ].join("\n"),
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const domid = c.body.domid as number;
    assert.ok(c.body.steps.some((s: { step: string }) => s.step === "guest-boot"));
    await connected(domid, 2);
    const disks = (await api("GET", `/domains/${domid}/disks`)).body.disks;
    assert.ok(disks[0].ringPages >= 1);
    assert.ok(disks[0].features["feature-persistent"] !== undefined);
    assert.equal(disks[0].sectors, (8 << 20) / 512);

    const a = await api("POST", `/domains/${domid}/disks`, { spec: "vdev=xvdc, target=null:size=1G" });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.deepEqual(
      a.body.steps.map((s: { step: string }) => s.step),
      ["vbd-add:xvdc", "wait-backend", "wait-frontend"],
    );
    const d = await api("DELETE", `/domains/${domid}/disks/xvdc`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.handshake, true, "the guest's frontend answered");
    assert.equal(d.body.frontendState, "Closed");

    // kexec: SCHEDOP_shutdown(soft_reset) (dom0 stands in) → rebuilt in place, the guest boots again
    assert.equal(await xc0.domainShutdown(domid, 5), 0);
    await waitFor(async () => ((await api("GET", "/actions")).body.actions as unknown[]).length >= 1, {
      timeoutMs: 10_000,
    });
    const sr = (await api("GET", "/actions")).body.actions[0];
    assert.deepEqual([sr.action, sr.outcome, sr.domid], ["soft-reset", "ok", domid], JSON.stringify(sr));
    await connected(domid, 2);

    assert.equal((await api("DELETE", `/domains/${domid}`)).status, 200);
    await nothingLeft("after destroy");
  });

  it("shutdown and reboot requests: the guest acts, on_poweroff destroys, on_reboot restarts and boots again", async () => {
    const cfg = [
      'name = "r"',
      "memory = 16",
      "disk = [ 'vdev=xvda, target=memory:size=4M' ]",
      'on_reboot = "restart"',
      'on_poweroff = "destroy"',
    ].join("\n");
    const c = await api("POST", "/domains", { config: cfg });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    await connected(c.body.domid, 1);
    const rb = await api("POST", `/domains/${c.body.domid}/reboot`);
    assert.equal(rb.body.acted, true, JSON.stringify(rb.body));
    await waitFor(async () => ((await api("GET", "/actions")).body.actions as unknown[]).length >= 2, {
      timeoutMs: 10_000,
    });
    const act = (await api("GET", "/actions")).body.actions[1];
    assert.deepEqual([act.reason, act.action, act.outcome], ["reboot", "restart", "ok"]);
    const d2 = act.newDomid as number;
    await connected(d2, 1);
    const off = await api("POST", `/domains/${d2}/shutdown`);
    assert.equal(off.body.acted, true);
    await waitFor(async () => ((await api("GET", "/actions")).body.actions as unknown[]).length >= 3, {
      timeoutMs: 10_000,
    });
    await nothingLeft("after poweroff");
    const last = (await api("GET", "/actions")).body.actions.at(-1);
    assert.deepEqual([last.reason, last.action, last.outcome], ["poweroff", "destroy", "ok"]);
  });
});
