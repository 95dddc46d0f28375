// The guest runtime on an embedded host (hypervisor, xenstored, blkback and guest in worker
// threads) with a toolstack in the test thread (dom0 XenCtrl / xenstore, buildGuest, libxl-style
// vbds): two guests boot, connect and export their disks, run workloads; real fio through one
// export; a disk hot-plugged and unplugged under I/O; poweroff through control/shutdown; Halt; List.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { applyVbdDirectories, type LibxlVbdSpec, vbdDirectories } from "@xensim/libxl";
import { type CallClient, createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { buildGuest, type BuiltGuest } from "@xensim/guest";
import {
  type GuestStatusJson,
  type GuestList__Output,
  loadGuestProto,
  loadHypervisorProto,
  loadXenstoreProto,
} from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { GUEST_SUBJECTS } from "@xensim/subjects";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");
const haveBinary = (b: string) => spawnSync("sh", ["-c", `command -v ${b}`]).status === 0;

function run(bin: string, args: string[], cwd: string, timeoutMs = 40_000) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    execFile(bin, args, { cwd, timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      res({ code: err === null ? 0 : typeof err.code === "number" ? err.code : -1, stdout, stderr });
    });
  });
}

describe("guest runtime service", { timeout: 90_000 }, () => {
  let dir: string;
  let host: HostHandle;
  let bus: EventBus;
  let hv: CallClient;
  let xsCalls: CallClient;
  let guestCalls: CallClient;
  let xc0: XenCtrl;
  let xs0: XenstoreClient;
  const last = new Map<number, GuestStatusJson>();
  const maxIops = new Map<number, number>();
  let g1: BuiltGuest;
  let g2: BuiltGuest;

  const addVbd = async (spec: LibxlVbdSpec) => {
    const dirs = vbdDirectories(spec);
    await xs0.transaction((tx) => applyVbdDirectories(tx, dirs));
    return dirs;
  };
  const list = async () => (await guestCalls.call<object, GuestList__Output>("List", {})).guests;
  const boot = (g: BuiltGuest, name: string) =>
    guestCalls.call<object, { rc: number; error: string }>("Boot", { domid: g.domid, name });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "xensim-svc-guest-"));
    host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
        {
          name: "blkback",
          entry: entry("blkback"),
          config: { maxRingPageOrder: 4, maxQueues: 4, params: { fileDir: dir } },
        },
        {
          name: "guest",
          entry: entry("guest"),
          config: { stateDir: dir, statusIntervalMs: 250, closeTimeoutMs: 2000 },
        },
      ],
      sharedMemoryBytes: 512 << 20,
      logLevel: "warn",
    });
    await host.ready;
    bus = createInProcessBus({ name: host.busName });
    hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    xsCalls = createInProcessCallClient(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, "xenstored");
    guestCalls = createInProcessCallClient(loadGuestProto().xensim.guest.v1.Guest.service, "guest");
    xc0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "toolstack" });
    bus.subscribe(GUEST_SUBJECTS.statusAll, {
      callback: (m) => {
        const s = JSON.parse(new TextDecoder().decode(m.data)) as GuestStatusJson;
        last.set(s.domid, s);
        maxIops.set(s.domid, Math.max(maxIops.get(s.domid) ?? 0, s.workload.iops));
      },
    });
  });
  after(async () => {
    await xs0?.close();
    xc0?.close();
    guestCalls?.close();
    hv?.close();
    xsCalls?.close();
    await bus?.close();
    await host?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("boots two guests: disks connected and exported, workloads running, List and metrics", async () => {
    g1 = await buildGuest(xc0, xs0, {
      name: "g1",
      memoryMib: 48,
      xensim: {
        workload: "rw=randrw,bs=4k,iodepth=8,size=16m,runtime=8,verify=crc32c",
        blkfront: "ring-page-order=1,queues=2,indirect-segments=64",
      },
    });
    g2 = await buildGuest(xc0, xs0, {
      name: "g2",
      memoryMib: 48,
      xensim: { workload: "rw=randwrite,bs=4k,iodepth=4,size=16m,runtime=60" },
    });
    await addVbd({ frontend: g1.domid, vdev: "xvda", params: "memory:size=32M" });
    await addVbd({ frontend: g2.domid, vdev: "xvda", params: `file:path=${join(dir, "g2.raw")},size=32M` });
    assert.deepEqual(await boot(g1, "g1"), { rc: 0, error: "" });
    assert.deepEqual(await boot(g2, "g2"), { rc: 0, error: "" });
    assert.equal((await boot(g1, "g1")).rc, 0, "Boot is idempotent");
    for (const g of [g1, g2])
      await waitFor(
        () => {
          const s = last.get(g.domid);
          return (
            s?.disks[0]?.state === "Connected" && s.disks[0].nbdUri !== "" && (maxIops.get(g.domid) ?? 0) > 0
          );
        },
        { timeoutMs: 15_000, message: `guest ${g.domid} connected, exported, doing I/O` },
      );
    const guests = await list();
    assert.equal(guests.length, 2);
    const s1 = guests.find((g) => g.domid === g1.domid)!;
    assert.equal(s1.name, "g1");
    assert.equal(s1.state, "running");
    assert.equal(s1.disks.length, 1);
    const d = s1.disks[0]!;
    assert.deepEqual(
      [d.vdev, d.state, d.ringPages, d.queues, d.indirectSegments, d.persistent],
      ["xvda", "Connected", 2, 2, 64, true],
    );
    assert.equal(Number(d.sectors), (32 << 20) / 512);
    assert.match(d.nbdUri, /^nbd\+unix:\/\/\/xvda\?socket=.*g1-xvda\.sock$/);
    assert.equal(s1.workload!.job, "rw=randrw,bs=4k,iodepth=8,size=16m,runtime=8,verify=crc32c");
    assert.equal(s1.workload!.phase, "running");
    assert.ok(Number(s1.workload!.ios) > 0);
    assert.equal(await xs0.read(`${g1.home}/control/feature-poweroff`), "1");
    assert.equal(await xs0.read(`${g1.home}/device/vbd/51712/ring-page-order`), "1");
    const m = (await host.metrics()).body;
    assert.match(
      m,
      new RegExp(`guest_io_completed_total\\{[^}]*domid="${g1.domid}"[^}]*vdev="xvda"[^}]*\\} [1-9]`),
    );
    assert.match(m, new RegExp(`guest_disks_connected\\{[^}]*domid="${g2.domid}"[^}]*\\} 1`));
    assert.match(m, /guest_iops\{/);
  });

  it("serves real fio (verify=crc32c) through a guest's NBD export while its workload runs", async (t) => {
    if (!haveBinary("fio")) return t.skip("fio not installed");
    const uri = last.get(g2.domid)!.disks[0]!.nbdUri;
    const fio = await run(
      "fio",
      [
        "--name=guest-export",
        "--ioengine=nbd",
        `--uri=${uri}`,
        "--rw=randrw",
        "--bs=4k",
        "--iodepth=8",
        "--offset=16m",
        "--size=8m",
        "--verify=crc32c",
        "--do_verify=1",
        "--verify_state_save=0",
        "--output-format=json",
      ],
      dir,
    );
    assert.equal(fio.code, 0, fio.stderr);
    const job = (
      JSON.parse(fio.stdout.slice(fio.stdout.indexOf("{"))) as {
        jobs: Array<{ error: number; read: { io_bytes: number }; write: { io_bytes: number } }>;
      }
    ).jobs[0]!;
    assert.equal(job.error, 0);
    assert.ok(job.read.io_bytes > 0 && job.write.io_bytes > 0);
  });

  it("hot-plugs a second disk into a running guest under I/O, and unplugs it", async () => {
    const before = last.get(g1.domid)!.workload.ios;
    const dirs = await addVbd({ frontend: g1.domid, vdev: "xvdb", params: "memory:size=8M" });
    const s = await waitFor(
      () => {
        const st = last.get(g1.domid);
        const b = st?.disks.find((x) => x.vdev === "xvdb");
        return b?.state === "Connected" && b.nbdUri !== "" ? st : undefined;
      },
      { timeoutMs: 10_000, message: "xvdb connected and exported" },
    );
    assert.equal(s.disks.length, 2);
    const sock = /socket=(.*)$/.exec(s.disks.find((x) => x.vdev === "xvdb")!.nbdUri)![1]!;
    assert.ok(existsSync(decodeURIComponent(sock)));
    // libxl's detach: online = 0 and Closing on the backend, wait for Closed, remove the directories.
    await xs0.transaction(async (tx) => {
      await tx.write(`${dirs.backendPath}/online`, "0");
      await tx.write(`${dirs.backendPath}/state`, "5");
    });
    await waitFor(async () => (await xs0.tryRead(`${dirs.backendPath}/state`)) === "6", {
      timeoutMs: 10_000,
      message: "backend Closed",
    });
    await xs0.rm(dirs.frontendPath);
    await xs0.rm(dirs.backendPath);
    await waitFor(() => last.get(g1.domid)?.disks.length === 1, { timeoutMs: 10_000, message: "xvdb gone" });
    assert.ok(!existsSync(decodeURIComponent(sock)), "its export is gone");
    assert.equal(await xs0.tryRead(dirs.frontendPath), undefined, "nothing left under device/vbd");
    const after = last.get(g1.domid)!;
    assert.equal(after.disks[0]!.vdev, "xvda");
    assert.ok(after.workload.ios > before, "the workload on xvda kept going");
    assert.equal(after.workload.errors, 0);
    await waitFor(() => last.get(g1.domid)?.workload.phase === "done", {
      timeoutMs: 20_000,
      message: "g1's verify job done",
    });
    assert.equal(last.get(g1.domid)!.workload.verifyFailures, 0);
  });

  it("control/shutdown=poweroff: frontends closed, the domain shut down with reason poweroff", async () => {
    await xs0.write(`${g2.home}/control/shutdown`, "poweroff");
    const info = await waitFor(
      async () => {
        const r = await xc0.domainInfo(g2.domid);
        return r.info?.state === "shutdown" ? r.info : undefined;
      },
      { timeoutMs: 15_000, message: "g2 shut down" },
    );
    assert.equal(info.shutdownReason, 0);
    assert.equal(await xs0.read(`${g2.home}/device/vbd/51712/state`), "6", "frontend Closed");
    assert.equal(await xs0.read(`${g2.home}/control/shutdown`), "", "request acknowledged");
    await waitFor(async () => (await list()).find((g) => g.domid === g2.domid)?.state === "halted", {
      message: "g2 halted in List",
    });
    // The toolstack destroys it: the runtime forgets it.
    assert.equal(await xc0.domainDestroy(g2.domid), 0);
    await waitFor(async () => !(await list()).some((g) => g.domid === g2.domid), { message: "g2 gone" });
  });

  it("Halt closes a guest without shutting it down; bad domains fail alone", async () => {
    assert.deepEqual(await guestCalls.call("Halt", { domid: g1.domid }), { rc: 0 });
    assert.equal((await list()).length, 0);
    assert.equal(await xs0.read(`${g1.home}/device/vbd/51712/state`), "6", "frontend Closed");
    assert.equal((await xc0.domainInfo(g1.domid)).info?.state, "running");
    assert.deepEqual(await guestCalls.call("Halt", { domid: g1.domid }), { rc: -3 });
    // No such domain; a domain without a store page published: refused, the runtime carries on.
    assert.equal((await guestCalls.call<object, { rc: number }>("Boot", { domid: 4000, name: "x" })).rc, -3);
    const pv = await xc0.domainCreate({ memoryMib: 1 });
    const r = await guestCalls.call<object, { rc: number; error: string }>("Boot", {
      domid: pv.domid,
      name: "pv",
    });
    assert.ok(r.rc < 0 && r.error !== "", JSON.stringify(r));
    assert.equal((await list()).length, 0);
    // Booted again, it comes back with its disk.
    assert.equal((await boot(g1, "g1")).rc, 0);
    await waitFor(async () => (await list())[0]?.disks[0]?.state === "Connected", {
      timeoutMs: 10_000,
      message: "g1 back",
    }).catch(async (e: unknown) => {
      const fe = await xs0.tryRead(`${g1.home}/device/vbd/51712/state`);
      const be = await xs0.tryRead(`/local/domain/0/backend/vbd/${g1.domid}/51712/state`);
      throw new Error(`${String(e)} fe ${fe} be ${be} ${JSON.stringify(await list())}`);
    });
    const h = await host.health();
    assert.ok(JSON.stringify(h).includes("guest"));
    // reboot: the same path, SCHEDOP_shutdown with SHUTDOWN_reboot.
    await xs0.write(`${g1.home}/control/shutdown`, "reboot");
    const info = await waitFor(
      async () => {
        const r = await xc0.domainInfo(g1.domid);
        return r.info?.state === "shutdown" ? r.info : undefined;
      },
      { timeoutMs: 10_000, message: "g1 shut down for reboot" },
    );
    assert.equal(info.shutdownReason, 1);
  });

  it("soft reset (kexec): the toolstack rebuilds the domain in place, the guest boots again by itself", async () => {
    const g4 = await buildGuest(xc0, xs0, { name: "g4", memoryMib: 32, xensim: { workload: "idle" } });
    const d1 = await addVbd({ frontend: g4.domid, vdev: "xvda", params: "memory:size=8M" });
    assert.equal((await boot(g4, "g4")).rc, 0);
    await waitFor(() => last.get(g4.domid)?.disks[0]?.state === "Connected", {
      timeoutMs: 10_000,
      message: "g4 connected",
    });
    // The guest asks for a soft reset (Linux kexec: SCHEDOP_shutdown(SHUTDOWN_soft_reset)); here dom0
    // does it for the guest, then libxl_domain_soft_reset: release, devices and nodes removed,
    // pause, XEN_DOMCTL_soft_reset, build again on the same domid, unpause.
    assert.equal(await xc0.domainShutdown(g4.domid, 5), 0);
    await waitFor(async () => (await list()).find((g) => g.domid === g4.domid)?.state === "halted", {
      message: "g4's kernel stopped",
    });
    await xs0.releaseDomain(g4.domid);
    for (const p of [d1.frontendPath, d1.backendPath, g4.home, g4.vmPath]) await xs0.rm(p).catch(() => {});
    assert.equal(await xc0.domainPause(g4.domid), 0);
    assert.equal(await xc0.domainSoftReset(g4.domid), 0);
    await buildGuest(xc0, xs0, {
      name: "g4",
      memoryMib: 32,
      uuid: g4.uuid,
      xensim: { workload: "rw=randwrite,bs=4k,iodepth=4,runtime=30" },
      existingDomid: g4.domid,
      unpauses: 2,
    });
    await addVbd({ frontend: g4.domid, vdev: "xvda", params: "memory:size=8M" });
    await waitFor(
      async () => {
        const s = (await list()).find((g) => g.domid === g4.domid);
        return s?.state === "running" && s.disks[0]?.state === "Connected" && Number(s.workload!.ios) > 0;
      },
      { timeoutMs: 15_000, message: "g4 booted again, disk connected, workload running" },
    );
    assert.equal((await guestCalls.call<object, { rc: number }>("Halt", { domid: g4.domid })).rc, 0);
  });

  it("a domain destroyed under its running guest (disk, workload) is dropped; the runtime carries on", async () => {
    const g3 = await buildGuest(xc0, xs0, {
      name: "g3",
      memoryMib: 32,
      xensim: { workload: "rw=randrw,bs=4k,iodepth=8,runtime=30" },
    });
    await addVbd({ frontend: g3.domid, vdev: "xvda", params: "memory:size=16M" });
    assert.equal((await boot(g3, "g3")).rc, 0);
    await waitFor(() => (maxIops.get(g3.domid) ?? 0) > 0, { timeoutMs: 10_000, message: "g3 doing I/O" });
    assert.equal(await xc0.domainDestroy(g3.domid), 0);
    await waitFor(async () => !(await list()).some((g) => g.domid === g3.domid), { message: "g3 forgotten" });
    // its last status says halted (the status travels on the bus: it may arrive after the list changed)
    await waitFor(() => last.get(g3.domid)?.state === "halted", {
      timeoutMs: 5000,
      message: `g3's last status halted (${last.get(g3.domid)?.state})`,
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(host.failures, [], "no service failed");
    assert.equal((await guestCalls.call<object, { rc: number }>("Halt", { domid: g3.domid })).rc, -3);
  });
});
