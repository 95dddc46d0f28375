// The flows against real parts: hypervisor, xenstored and blkback in worker threads of an embedded
// host; the toolstack here with dom0's XenCtrl and xenstore client.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from "@xensim/abi";
import { createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { type DomainConfig, parseDiskSpec, parseXlCfg } from "@xensim/xlcfg";
import {
  FlowError,
  type FlowStepRecord,
  type GuestRuntime,
  Toolstack,
  type ToolstackLogger,
} from "@xensim/toolstack";
import { STORE_GFN } from "@xensim/libxl";
import { REPO_ROOT } from "./harness.js";

const entry = (svc: string) => join(REPO_ROOT, "services", svc, "dist", "main.js");

const quiet: ToolstackLogger = { info() {}, warn() {}, error() {} };
const clock = {
  now: () => performance.now(),
  wallSeconds: () => Date.now() / 1000,
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
};

function cfg(text: string): DomainConfig {
  const r = parseXlCfg(text, { file: "test.cfg" });
  assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.errors));
  return r.config;
}

const TWO_DISKS = `name = "t1"
memory = 8
vcpus = 2
disk = [ 'format=raw, vdev=xvda, access=rw, target=memory:size=4M',
         'vdev=xvdb, access=ro, target=null:size=1G' ]
xensim_workload = "rw=randrw,bs=4k,iodepth=4,runtime=1"
`;

describe("toolstack flows on an embedded host", { timeout: 60_000 }, () => {
  let host: HostHandle;
  let bus: EventBus;
  let xc0: XenCtrl;
  let xs0: XenstoreClient;
  const closers: Array<() => unknown> = [];

  before(async () => {
    host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
        { name: "blkback", entry: entry("blkback"), config: { params: { allowFiles: false } } },
      ],
      sharedMemoryBytes: 64 << 20,
      logLevel: "warn",
    });
    closers.push(() => host.stop());
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
    xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack-test" });
    closers.unshift(() => xs0.close());
  });
  after(async () => {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
  });

  const toolstack = (extra: { guest?: GuestRuntime; log?: ToolstackLogger } = {}) =>
    new Toolstack({
      xs: xs0,
      hv: xc0,
      clock,
      log: extra.log ?? quiet,
      newUuid: randomUUID,
      hostMemoryMib: 48,
      backendTimeoutMs: 15_000, // the product default is 10 s; CI runs loaded
      detachTimeoutMs: 300,
      destroyDeviceTimeoutMs: 300,
      shutdownTimeoutMs: 300,
      reapTimeoutMs: 5000,
      ...(extra.guest ? { guest: extra.guest } : {}),
    });

  async function portsAndGrants(): Promise<{ ports: number; grants: number }> {
    const m = (await host.metrics()).body;
    const v = (name: string) => {
      const line = m.split("\n").find((l) => l.startsWith(name));
      return line ? Number(line.split(" ").pop()) : -1;
    };
    return { ports: v("hypervisor_evtchn_ports"), grants: v("hypervisor_grants_mapped") };
  }

  /** Nothing of a domain left: not listed, no home, no /vm, no /libxl, no backend dirs. */
  async function assertGone(domid: number | undefined, uuid: string | undefined, what: string) {
    const list = await xc0.domainList();
    assert.deepEqual(
      list.domains.filter((d) => d.domid !== 0).map((d) => d.domid),
      [],
      `${what}: domains left`,
    );
    assert.deepEqual(
      (await xs0.ls("/local/domain")).filter((d) => d !== "0"),
      [],
      `${what}: homes left`,
    );
    if (uuid !== undefined) assert.equal(await xs0.exists(`/vm/${uuid}`), false, `${what}: /vm left`);
    assert.deepEqual(await xs0.ls("/vm").catch(() => []), [], `${what}: /vm entries left`);
    assert.deepEqual(await xs0.ls("/libxl").catch(() => []), [], `${what}: /libxl entries left`);
    if (domid !== undefined)
      assert.equal(await xs0.exists(`/local/domain/0/backend/vbd/${domid}`), false, `${what}: backend left`);
    assert.deepEqual(
      await xs0.ls("/local/domain/0/backend/vbd").catch(() => []),
      [],
      `${what}: backends left`,
    );
    assert.deepEqual(
      await xs0.ls("/local/domain/0/error/backend/vbd").catch(() => []),
      [],
      `${what}: error nodes left`,
    );
  }

  it("create: domain, HVM params, skeleton with libxl's perms, vbds, backends in InitWait; destroy leaves nothing", async () => {
    const base = await portsAndGrants();
    const ts = toolstack();
    const { domid, uuid, records } = await ts.create(cfg(TWO_DISKS));
    assert.deepEqual(
      records.map((r) => [r.step, r.outcome]),
      [
        ["validate", "ok"],
        ["domain-create", "ok"],
        ["store-evtchn", "ok"],
        ["hvm-params", "ok"],
        ["xenstore-skeleton", "ok"],
        ["introduce", "ok"],
        ["vbd-add:xvda", "ok"],
        ["vbd-add:xvdb", "ok"],
        ["wait-backends", "ok"],
        ["unpause", "ok"],
      ],
    );
    const info = await xc0.domainInfo(domid);
    assert.equal(info.info?.state, "running");
    assert.equal(info.info?.vcpus, 2);
    assert.equal((await xc0.hvmParamGet(domid, HVM_PARAM_STORE_PFN)).value, BigInt(STORE_GFN));
    const port = (await xc0.hvmParamGet(domid, HVM_PARAM_STORE_EVTCHN)).value;
    const home = `/local/domain/${domid}`;
    assert.equal(await xs0.read(`${home}/store/port`), String(port));
    assert.equal(await xs0.read(`${home}/name`), "t1");
    assert.equal(await xs0.read(`${home}/vm`), `/vm/${uuid}`);
    assert.equal(await xs0.read(`${home}/memory/target`), String(8 * 1024));
    assert.deepEqual(await xs0.getPerms(home), ["n0", `r${domid}`]);
    assert.deepEqual(await xs0.getPerms(`${home}/control/shutdown`), [`n${domid}`]);
    assert.deepEqual(await xs0.getPerms(`${home}/data`), [`n${domid}`]);
    assert.deepEqual(await xs0.getPerms(`${home}/name`), ["n0", `r${domid}`]);
    assert.equal(await xs0.read(`/vm/${uuid}/xensim/workload`), "rw=randrw,bs=4k,iodepth=4,runtime=1");
    const disks = await ts.listDisks(domid);
    assert.deepEqual(
      disks.map((d) => [d.vdev, d.devid, d.backendState, d.frontendState, d.params, d.mode]),
      [
        ["xvda", 51712, "InitWait", "Initialising", "memory:size=4M", "w"],
        ["xvdb", 51728, "InitWait", "Initialising", "null:size=1G", "r"],
      ],
    );
    assert.ok(Number(disks[0]!.features["max-ring-page-order"]) >= 0);
    const l = await ts.list();
    assert.deepEqual(
      l.map((d) => [d.name, d.id, d.state]),
      [
        ["Domain-0", 0, "r-----"],
        ["t1", domid, "r-----"],
      ],
    );
    const d = await ts.destroy(domid);
    assert.ok(
      d.every((r) => r.outcome === "ok"),
      JSON.stringify(d),
    );
    await assertGone(domid, uuid, "after destroy");
    await waitFor(async () => JSON.stringify(await portsAndGrants()) === JSON.stringify(base), {
      timeoutMs: 3000,
      message: "ports and grants back to where they were",
    });
  });

  it("a failure injected at every step of create rolls everything back", async () => {
    const base = await portsAndGrants();
    const booted: number[] = [];
    const halted: number[] = [];
    // the guest runtime's side of the contract only (Boot/Halt/List): the boot step's rollback
    const guest: GuestRuntime = {
      boot: async (domid) => {
        booted.push(domid);
        return { rc: 0, error: "" };
      },
      halt: async (domid) => {
        halted.push(domid);
        return 0;
      },
      list: async () => [],
    };
    const ts = toolstack({ guest });
    const steps = [
      "validate",
      "domain-create",
      "store-evtchn",
      "hvm-params",
      "xenstore-skeleton",
      "introduce",
      "vbd-add:xvda",
      "vbd-add:xvdb",
      "wait-backends",
      "guest-boot",
      "unpause",
    ];
    for (const step of steps) {
      let records: FlowStepRecord[] = [];
      const uuid = randomUUID();
      await assert.rejects(ts.create(cfg(TWO_DISKS), { uuid, failAt: (s) => s === step }), (e: unknown) => {
        assert.ok(e instanceof FlowError);
        assert.equal(e.step, step);
        records = e.records;
        return true;
      });
      assert.ok(
        records.every((r) => r.outcome !== "undo-failed"),
        `${step}: ${JSON.stringify(records)}`,
      );
      await assertGone(undefined, uuid, `failure at ${step}`);
      await waitFor(async () => JSON.stringify(await portsAndGrants()) === JSON.stringify(base), {
        timeoutMs: 3000,
        message: `failure at ${step}: ports/grants back to ${JSON.stringify(base)}`,
      });
    }
    assert.equal(booted.length, 1, "booted once (failure at unpause)");
    assert.deepEqual(halted, booted, "and halted again on rollback");
  });

  it("refuses a second domain of the same name and memory beyond the host, creating nothing", async () => {
    const ts = toolstack();
    const { domid, uuid } = await ts.create(cfg('name = "dup"\nmemory = 8'));
    await assert.rejects(ts.create(cfg('name = "dup"\nmemory = 8')), (e: unknown) => {
      assert.ok(e instanceof FlowError && e.step === "validate");
      assert.match(e.message, /named dup exists/);
      return true;
    });
    await assert.rejects(ts.create(cfg('name = "big"\nmemory = 40')), /does not fit/);
    // dom0 is "Domain-0" even with no name node in its home (issue 14: a second one was accepted)
    assert.equal(await xs0.tryRead("/local/domain/0/name"), undefined);
    await assert.rejects(ts.create(cfg('name = "Domain-0"\nmemory = 4')), (e: unknown) => {
      assert.ok(e instanceof FlowError && e.step === "validate");
      assert.match(e.message, /a domain named Domain-0 exists \(domid 0\)/);
      return true;
    });
    // concurrent creates of one name: the creation lock lets exactly one through
    const both = await Promise.allSettled([
      ts.create(cfg('name = "twin"\nmemory = 4')),
      ts.create(cfg('name = "twin"\nmemory = 4')),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    const twin = both.find((r) => r.status === "fulfilled");
    assert.ok(twin?.status === "fulfilled");
    await ts.destroy(twin.value.domid);
    assert.equal((await ts.list()).length, 2);
    await ts.destroy(domid);
    await assertGone(domid, uuid, "after dup");
  });

  it("on_* actions: destroy, restart (new domid), preserve, soft-reset (same domid, rebuilt); suspend ignored", async () => {
    const ts = toolstack();
    const { domid, uuid } = await ts.create(
      cfg(`name = "act"
type = "hvm"
memory = 8
disk = [ 'vdev=xvda, target=memory:size=1M' ]
on_poweroff = "destroy"
on_reboot = "restart"
on_crash = "preserve"
on_soft_reset = "soft-reset"
`),
    );
    // soft reset: same domid, new store port, rebuilt home and vbds
    const oldPort = await xs0.read(`/local/domain/${domid}/store/port`);
    assert.equal(await xc0.domainShutdown(domid, 5), 0);
    const sr = await ts.handleDomainEvent(domid);
    assert.equal(sr?.action, "soft-reset");
    assert.equal(sr?.outcome, "ok", sr?.error);
    assert.equal((await xc0.domainInfo(domid)).info?.state, "running");
    assert.equal(await xs0.read(`/local/domain/${domid}/name`), "act");
    const newPort = await xs0.read(`/local/domain/${domid}/store/port`);
    assert.equal((await xc0.hvmParamGet(domid, HVM_PARAM_STORE_EVTCHN)).value, BigInt(newPort));
    assert.ok(oldPort !== undefined);
    assert.equal((await ts.listDisks(domid))[0]?.backendState, "InitWait");

    // suspend: no action
    assert.equal(await xc0.domainShutdown(domid, 2), 0);
    assert.equal((await ts.handleDomainEvent(domid))?.action, "none");
    assert.equal(await xc0.domainResume(domid), 0);

    // reboot → restart: a new domid, same name and uuid, the old one gone
    assert.equal(await xc0.domainShutdown(domid, 1), 0);
    const rs = await ts.handleDomainEvent(domid);
    assert.equal(rs?.action, "restart");
    assert.equal(rs?.outcome, "ok", rs?.error);
    const d2 = rs!.newDomid!;
    assert.notEqual(d2, undefined);
    // (the hypervisor hands out the lowest free domid: often the same number again)
    assert.equal((await xc0.domainInfo(d2)).info?.state, "running");
    assert.equal((await xc0.domainInfo(d2)).info?.shutdownReason, -1);
    assert.equal(await xs0.read(`/local/domain/${d2}/vm`), `/vm/${uuid}`);
    assert.equal(await xs0.read(`/local/domain/${d2}/name`), "act");
    assert.deepEqual(
      (await xc0.domainList()).domains.map((d) => d.domid),
      [0, d2],
    );

    // crash → preserve: left shut down; a second event does nothing
    assert.equal(await xc0.domainShutdown(d2, 3), 0);
    assert.equal((await ts.handleDomainEvent(d2))?.action, "preserve");
    assert.equal(await ts.handleDomainEvent(d2), undefined);
    assert.equal((await ts.info(d2)).state, "----c-");
    await ts.destroy(d2);
    await assertGone(d2, uuid, "after preserve + destroy");

    // poweroff → destroy
    const p = await ts.create(cfg('name = "off"\nmemory = 4\ndisk = ["vdev=xvda,target=memory:size=1M"]'));
    assert.equal(await xc0.domainShutdown(p.domid, 0), 0);
    const off = await ts.handleDomainEvent(p.domid);
    assert.deepEqual([off?.action, off?.outcome], ["destroy", "ok"]);
    await assertGone(p.domid, p.uuid, "after poweroff");
  });

  it("a restarted toolstack recovers its domains from /libxl/<domid>/config and acts on shutdowns it missed", async () => {
    const ts1 = toolstack();
    const a = await ts1.create(cfg('name = "keep"\nmemory = 4\non_crash = "preserve"'));
    const b = await ts1.create(cfg('name = "gone"\nmemory = 4\ndisk = ["vdev=xvda,target=memory:size=1M"]'));
    const spec = parseDiskSpec("vdev=xvdc, target=null:size=1G");
    assert.ok("disk" in spec);
    await ts1.attachDisk(a.domid, spec.disk);
    assert.equal(await xc0.domainShutdown(b.domid, 0), 0); // while nobody is watching
    const ts2 = toolstack();
    assert.deepEqual((await ts2.recover()).sort(), [a.domid, b.domid].sort());
    // b powered off while nobody watched: destroyed on recovery (a is still there)
    assert.notEqual((await xc0.domainInfo(b.domid)).rc, 0);
    assert.equal(await xs0.exists(`/local/domain/${b.domid}`), false);
    assert.equal(await xs0.exists(`/vm/${b.uuid}`), false);
    assert.equal(await xs0.exists(`/local/domain/0/backend/vbd/${b.domid}`), false);
    assert.equal(ts2.actions[0]?.action, "destroy");
    const rec = ts2.domain(a.domid);
    assert.equal(rec?.config.name, "keep");
    assert.deepEqual(
      rec?.config.disks.map((d) => d.vdev),
      ["xvdc"],
      "the attached disk is part of the saved config",
    );
    assert.equal((await ts2.list()).find((d) => d.id === a.domid)?.name, "keep");
    assert.equal(await xc0.domainShutdown(a.domid, 3), 0);
    assert.equal((await ts2.handleDomainEvent(a.domid))?.action, "preserve");
    await ts2.destroy(a.domid);
    await assertGone(a.domid, a.uuid, "after recovery");
  });

  it("block attach and detach; shutdown requests nobody acts on are reported", async () => {
    const logs: string[] = [];
    const log: ToolstackLogger = { info: (_o, m) => logs.push(m), warn: (_o, m) => logs.push(m), error() {} };
    const ts = toolstack({ log });
    const { domid, uuid } = await ts.create(cfg('name = "hot"\nmemory = 4'));
    const spec = parseDiskSpec("vdev=xvdc, access=rw, target=memory:size=2M");
    assert.ok("disk" in spec);
    const rec = await ts.attachDisk(domid, spec.disk);
    assert.deepEqual(
      rec.map((r) => r.step),
      ["vbd-add:xvdc", "wait-backend"],
    );
    assert.deepEqual(
      (await ts.listDisks(domid)).map((d) => [d.vdev, d.backendState]),
      [["xvdc", "InitWait"]],
    );
    await assert.rejects(ts.attachDisk(domid, spec.disk), /in use/);
    // a store blkback cannot open: the backend fails, the attach is rolled back
    const badSpec = parseDiskSpec("vdev=xvdd, target=/no/such/file.raw");
    assert.ok("disk" in badSpec);
    await assert.rejects(ts.attachDisk(domid, badSpec.disk), FlowError);
    assert.deepEqual(
      (await ts.listDisks(domid)).map((d) => d.vdev),
      ["xvdc"],
    );
    // no frontend to answer: the handshake times out and the removal is forced
    const det = await ts.detachDisk(domid, "xvdc");
    assert.equal(det.handshake, false);
    assert.deepEqual(await ts.listDisks(domid), []);
    assert.equal(await xs0.exists(`/local/domain/0/backend/vbd/${domid}`), false);
    await assert.rejects(ts.detachDisk(domid, "xvdc"), /no disk xvdc/);

    // no guest kernel: nobody advertised the PV control interface
    await assert.rejects(ts.requestShutdown(domid, "poweroff"), { code: "EOPNOTSUPP" });
    assert.equal(await xs0.read(`/local/domain/${domid}/control/shutdown`), "", "nothing written");
    const sh = await ts.requestShutdown(domid, "poweroff", { force: true });
    assert.deepEqual(sh, { acted: false, state: "running" });
    assert.equal(await xs0.read(`/local/domain/${domid}/control/shutdown`), "poweroff");
    assert.ok(logs.some((m) => /did not act on poweroff/.test(m)));
    assert.ok(logs.some((m) => /create: unpause ok/.test(m)));
    await ts.destroy(domid);
    await assertGone(domid, uuid, "after hotplug");
  });
});
