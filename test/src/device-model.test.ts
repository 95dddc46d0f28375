// An HVM guest with two emulators, embedded host (hypervisor, xenstored, guest runtime and two
// device-model instances as worker threads): the guest's vCPUs run the BIOS, whose port, MMIO and
// PCI-config accesses reach the primary (COM1, RTC, PCI host bridge, VGA) or the secondary (the PCI
// serial port 00:04.0) through Xen's server selection; then each emulator is killed mid-I/O and
// restarted — the other keeps serving, the dead one's accesses block (Xen has no timeout) until the
// restarted instance reclaims its server, and it serves again.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient } from "@xensim/bus";
import { buildGuest } from "@xensim/guest";
import {
  type ConsoleReadReply__Output,
  type DmRc__Output,
  type EmulatorList__Output,
  loadDeviceModelProto,
  loadDmOpProto,
  loadGuestProto,
  loadHypervisorProto,
  loadXenstoreProto,
  type StartReply__Output,
} from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { waitFor } from "@xensim/testkit";
import { XenCtrl, XenDeviceModel } from "@xensim/xenctrl";
import {
  decodeCreateIoreqServerId,
  encodeCreateIoreqServer,
  encodeDestroyIoreqServer,
  encodeIoRange,
  encodeSetIoreqServerState,
  ioreqSlot,
  IOREQ_PORT_WORD,
  rawSetIoreqState,
} from "@xensim/ioreq";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { REPO_ROOT, serviceEntryPath } from "./harness.js";
import { qmpClient } from "./qmp-client.js";

const DM_ENTRY = join(REPO_ROOT, "services", "device-model", "dist", "main.js");

describe("device model: a guest with two emulators", () => {
  let host: HostHandle;
  let xs: XenstoreClient;
  let dom0: XenCtrl;
  let dmops: XenDeviceModel;
  const clients: { close(): void }[] = [];
  const track = <T extends { close(): void }>(c: T): T => (clients.push(c), c);
  let bus: ReturnType<typeof createInProcessBus>;
  const dm = (svc: string) =>
    track(createInProcessCallClient(loadDeviceModelProto().xensim.devicemodel.v1.DeviceModel.service, svc));
  let primary: ReturnType<typeof dm>;
  let secondary: ReturnType<typeof dm>;
  let domid = 0;

  const consoleText = async (serial: number) => {
    const c = serial === 0 ? primary : secondary;
    const r = await c.call<object, ConsoleReadReply__Output>("ConsoleRead", {
      domid,
      serial,
      offset: "0",
      waitMs: 0,
    });
    return new TextDecoder().decode(r.data);
  };
  const qmpDir = mkdtempSync(join(tmpdir(), "xensim-qmp-test-"));
  const lastBeat = (text: string, who: string) => {
    const m = [...text.matchAll(new RegExp(`${who} heartbeat (\\d+)`, "g"))];
    return m.length ? Number(m[m.length - 1]![1]) : 0;
  };

  before(async () => {
    host = await startHost({
      services: [
        { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
        { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
        { name: "device-model", entry: DM_ENTRY, config: { roles: ["primary"], vcpu: 3, qmpDir } },
        { name: "device-model-2", entry: DM_ENTRY, config: { roles: ["secondary"], vcpu: 5, qmpDir } },
        {
          name: "guest",
          entry: serviceEntryPath("guest"),
          config: { nbd: { listen: "none" }, statusIntervalMs: 0 },
        },
      ],
      sharedMemoryBytes: 64 * 1024 * 1024,
      logLevel: "warn",
    });
    await host.ready;
    bus = createInProcessBus({ name: host.busName });
    const hv = track(
      createInProcessCallClient(loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service, "hypervisor"),
    );
    dom0 = new XenCtrl({ domid: 0, calls: hv, store: host.sharedMemory, bus });
    dmops = new XenDeviceModel({
      domid: 0,
      calls: track(
        createInProcessCallClient(loadDmOpProto().xensim.hypervisor.v1.DmOp.service, "hypervisor"),
      ),
    });
    xs = await connectXenstore({
      calls: track(
        createInProcessCallClient(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, "xenstored"),
      ),
      bus,
      clientName: "dom0-test",
    });
    primary = dm("device-model");
    secondary = dm("device-model-2");
  });

  after(async () => {
    await xs?.close().catch(() => {});
    dom0?.close();
    for (const c of clients) c.close();
    await bus?.close();
    await host?.stop();
    rmSync(qmpDir, { recursive: true, force: true });
  });

  it("boots: the BIOS banner on COM1 (primary), the PCI bus of both, a greeting on the PCI serial (secondary)", async () => {
    const g = await buildGuest(dom0, xs, {
      name: "hvm1",
      memoryMib: 8,
      vcpus: 2,
      xensim: { firmware: "bios,heartbeat-ms=40,rtc-hz=16" },
      unpauses: 0,
    });
    domid = g.domid;
    for (const [c, role] of [
      [primary, "primary"],
      [secondary, "secondary"],
    ] as const) {
      const r = await c.call<object, StartReply__Output>("Start", {
        domid,
        name: "hvm1",
        role,
        vcpus: 2,
        restorePath: "",
      });
      assert.equal(r.rc, 0, r.error);
    }
    const list = await dmops.ioreqServerList(domid);
    assert.equal(list.servers.length, 2);
    assert.ok(list.servers.every((s) => s.enabled && s.emulator === 0 && s.ports.length === 2));
    assert.equal(await xs.read(`/local/domain/0/device-model/${domid}/state`), "running");
    assert.equal(await xs.read(`/local/domain/0/device-model/${domid}/physmap/f0000000/name`), "vga.vram");
    assert.equal(await dom0.domainUnpause(domid), 0);
    const guest = track(createInProcessCallClient(loadGuestProto().xensim.guest.v1.Guest.service, "guest"));
    const boot = await guest.call<object, { rc: number; error: string }>("Boot", { domid, name: "hvm1" });
    assert.equal(boot.rc, 0, boot.error);
    await waitFor(async () => (await consoleText(0)).includes("xensim BIOS: boot done"), {
      timeoutMs: 30_000,
      message: "the BIOS finished",
    });
    const com1 = await consoleText(0);
    assert.match(com1, /^xensim BIOS: booting hvm1 \(boot 1\)\r\n/);
    assert.match(com1, /PCI 00:00\.0 8086:1237/);
    assert.match(com1, /PCI 00:02\.0 1234:1111 class 030000 BAR0 mem f0000000 size 16777216/);
    assert.match(
      com1,
      /PCI 00:04\.0 1b36:0002 class 070002 BAR0 io 0000c100 size 8/,
      "the secondary's device, found by the primary-routed probe",
    );
    assert.match(com1, /VGA: drew 320x200, 8\/8 pixels read back/);
    assert.match(await consoleText(1), /^hello from hvm1 on the PCI serial port 00:04\.0/);
    const emus = await primary.call<object, EmulatorList__Output>("List", {});
    const e = emus.emulators.find((x) => x.domid === domid)!;
    assert.ok(Number(e.buffered) > 1000, `framebuffer stores went buffered (${e.buffered})`);
    assert.ok(Number(e.pciConfig) > 20, `PCI config cycles reached the primary (${e.pciConfig})`);
    await waitFor(
      async () =>
        lastBeat(await consoleText(0), "vcpu0") >= 2 && lastBeat(await consoleText(1), "vcpu1") >= 2,
      {
        timeoutMs: 10_000,
        message: "both vCPUs beating",
      },
    );
  });

  it("console input typed into COM1 is read by the guest and echoed", async () => {
    const w = await primary.call<object, DmRc__Output>("ConsoleWrite", {
      domid,
      serial: 0,
      data: Buffer.from("xen\r"),
    });
    assert.equal(w.rc, 0);
    await waitFor(async () => (await consoleText(0)).includes("xen\r\n"), {
      timeoutMs: 5000,
      message: "echo",
    }).catch(async (e) => {
      throw new Error(`${e} (console: ${JSON.stringify((await consoleText(0)).slice(-400))})`);
    });
    // The echo came from COM1's receive interrupt (IRQ4 through Xen's vpic), and the RTC's periodic
    // interrupt (IRQ8 at 16 Hz, acknowledged by reading register C) kept arriving.
    const irqs = () => {
      const m = [
        ...(consoleTextSync ?? "").matchAll(
          /vcpu0 heartbeat \d+ \(irq4 (\d+), irq8 (\d+), rtc periodic (\d+)\)/g,
        ),
      ].at(-1);
      return m ? { com1: Number(m[1]), rtc: Number(m[2]), periodic: Number(m[3]) } : undefined;
    };
    let consoleTextSync: string | undefined;
    await waitFor(
      async () => {
        consoleTextSync = await consoleText(0);
        const c = irqs();
        return c !== undefined && c.com1 >= 1 && c.periodic >= 8;
      },
      { timeoutMs: 10_000, message: "IRQ4 and IRQ8 counted in the heartbeat" },
    );
    const first = irqs()!;
    assert.equal(first.rtc, first.periodic, "every IRQ8 was a periodic interrupt (register C.PF)");
    await waitFor(
      async () => {
        consoleTextSync = await consoleText(0);
        return irqs()!.periodic >= first.periodic + 8;
      },
      { timeoutMs: 10_000, message: "the periodic interrupt goes on" },
    );
  });

  it("QMP on libxl's qmp-libxl-<domid> socket: negotiation, query-status, stop pauses the vCPUs for real, cont, query-chardev/pci, system_reset, errors", async () => {
    const path = await xs.read(`/local/domain/0/device-model/${domid}/xensim/primary/qmp`);
    assert.equal(path, join(qmpDir, `qmp-libxl-${domid}`));
    const q = await qmpClient(path);
    try {
      const hello = await q.next((m) => "QMP" in m, "greeting");
      assert.deepEqual((hello["QMP"] as { capabilities: unknown }).capabilities, []);
      assert.deepEqual(await q.execute("query-status"), {
        error: {
          class: "CommandNotFound",
          desc: "Expecting capabilities negotiation with 'qmp_capabilities'",
        },
        id: "c1",
      });
      assert.deepEqual(await q.execute("qmp_capabilities"), { return: {}, id: "c2" });
      assert.deepEqual((await q.execute("query-status"))["return"], {
        status: "running",
        singlestep: false,
        running: true,
      });
      // stop: the domain is paused and its vCPU 0 stops printing heartbeats.
      assert.deepEqual((await q.execute("stop"))["return"], {});
      const stopEv = await q.next((m) => m["event"] === "STOP", "STOP event");
      assert.equal(typeof (stopEv["timestamp"] as { seconds: number }).seconds, "number");
      assert.equal(((await q.execute("query-status"))["return"] as { status: string }).status, "paused");
      assert.equal((await dom0.domainInfo(domid)).info?.state, "paused");
      await new Promise((r) => setTimeout(r, 200)); // a heartbeat in flight finishes
      const frozen = lastBeat(await consoleText(0), "vcpu0");
      await new Promise((r) => setTimeout(r, 400)); // 10 heartbeat periods
      assert.equal(lastBeat(await consoleText(0), "vcpu0"), frozen, "no heartbeat while stopped");
      assert.deepEqual((await q.execute("cont"))["return"], {});
      await q.next((m) => m["event"] === "RESUME", "RESUME event");
      await waitFor(async () => lastBeat(await consoleText(0), "vcpu0") > frozen + 2, {
        timeoutMs: 10_000,
        message: "heartbeats again after cont",
      });
      const chardev = (await q.execute("query-chardev"))["return"] as {
        label: string;
        "frontend-open": boolean;
      }[];
      assert.deepEqual(
        chardev.map((c) => c.label),
        ["serial0"],
      );
      const pci = (await q.execute("query-pci"))["return"] as {
        devices: { slot: number; id: { vendor: number; device: number } }[];
      }[];
      assert.ok(
        pci[0]!.devices.some((d) => d.slot === 2 && d.id.vendor === 0x1234 && d.id.device === 0x1111),
      );
      const unknown = await q.execute("no-such-command");
      assert.deepEqual(unknown["error"], {
        class: "CommandNotFound",
        desc: "The command no-such-command has not been found",
      });
      q.raw('{"execute": "query-status", "bogus": 1}\n');
      const bad = await q.next((m) => "error" in m && !("id" in m), "error for an unexpected member");
      assert.equal((bad["error"] as { class: string }).class, "GenericError");
      q.raw("} garbage\n");
      await q.next((m) => "error" in m, "error for a stray token");
      assert.equal(
        ((await q.execute("query-status"))["return"] as { status: string }).status,
        "running",
        "the session goes on",
      );
    } finally {
      q.close();
    }
    // system_reset on the second emulator's socket: its devices reset, a RESET event, its console kept.
    const path2 = await xs.read(`/local/domain/0/device-model/${domid}/xensim/secondary/qmp`);
    const q2 = await qmpClient(path2);
    try {
      await q2.next((m) => "QMP" in m, "greeting");
      await q2.execute("qmp_capabilities");
      const before = await consoleText(1);
      assert.deepEqual((await q2.execute("system_reset"))["return"], {});
      const ev = await q2.next((m) => m["event"] === "RESET", "RESET event");
      assert.deepEqual(ev["data"], { guest: false, reason: "host-qmp-system-reset" });
      assert.ok((await consoleText(1)).startsWith(before.slice(0, 40)), "transmitted output kept");
    } finally {
      q2.close();
    }
  });

  it("an emulator that writes a wrong state: Xen crashes its guest (SHUTDOWN_crash); the other guest runs on; nothing leaks", async () => {
    const bad = await buildGuest(dom0, xs, {
      name: "victim",
      memoryMib: 8,
      vcpus: 1,
      xensim: { firmware: "bios" },
      unpauses: 0,
    });
    // The misbehaving emulator is this test: it claims COM1 for the victim and answers every
    // request by writing state 9 into the slot (not a state at all).
    const c = await dmops.dmOp(bad.domid, encodeCreateIoreqServer(0));
    assert.equal(c.rc, 0);
    const id = decodeCreateIoreqServerId(c.buf);
    assert.equal((await dmops.dmOp(bad.domid, encodeIoRange(true, id, 0, 0x3f8n, 0x3ffn))).rc, 0);
    const res = await dmops.acquireResource(bad.domid, id, 1, 1);
    assert.equal(res.rc, 0);
    assert.equal((await dmops.dmOp(bad.domid, encodeSetIoreqServerState(id, true))).rc, 0);
    const i32 = new Int32Array(host.sharedMemory!);
    const slot = ioreqSlot(res.frames[0]! * 1024, 0);
    const bound = await dom0.evtchnBindInterdomain(bad.domid, i32[slot + IOREQ_PORT_WORD]!);
    assert.equal(bound.rc, 0);
    const misbehave = setInterval(() => {
      if (((Atomics.load(i32, slot + 7) >>> 16) & 0xf) === 1) {
        rawSetIoreqState(i32, slot, 9);
        dom0.evtchnNotify(bound.port);
      }
    }, 2);
    try {
      const goodBefore = lastBeat(await consoleText(0), "vcpu0");
      assert.equal(await dom0.domainUnpause(bad.domid), 0);
      const guest = track(createInProcessCallClient(loadGuestProto().xensim.guest.v1.Guest.service, "guest"));
      assert.equal(
        (await guest.call<object, { rc: number }>("Boot", { domid: bad.domid, name: "victim" })).rc,
        0,
      );
      await waitFor(
        async () => {
          const i = await dom0.domainInfo(bad.domid);
          return i.info?.state === "shutdown" && i.info.shutdownReason === 3;
        },
        { timeoutMs: 20_000, message: "the victim crashed (SHUTDOWN_crash)" },
      );
      assert.notEqual((await dmops.ioreqServerList(bad.domid)).crashReason, 0, "Xen recorded why");
      await waitFor(async () => lastBeat(await consoleText(0), "vcpu0") >= goodBefore + 2, {
        timeoutMs: 10_000,
        message: "the other guest kept running",
      });
    } finally {
      clearInterval(misbehave);
    }
    // Teardown as the toolstack would (on_crash = destroy): no server, port or page left.
    const ports0 = await dom0.evtchnStatus(0, bound.port);
    assert.equal(ports0.rc, 0);
    assert.equal(await dom0.domainDestroy(bad.domid), 0);
    assert.equal(await dmops.releaseResource(bad.domid, id), 0);
    assert.equal(await dom0.evtchnClose(bound.port), 0, "our end went back to unbound and closes");
    assert.equal(
      (await dmops.dmOp(bad.domid, encodeDestroyIoreqServer(id))).rc,
      -3,
      "ESRCH: the domain took its servers with it",
    );
    await waitFor(async () => (await dom0.domainInfo(bad.domid)).rc !== 0, {
      timeoutMs: 10_000,
      message: "the victim is gone",
    });
    const list = await dmops.ioreqServerList(domid);
    assert.equal(list.servers.length, 2, "the healthy guest's two servers are untouched");
  });

  for (const [victim, survivor, victimBeat, survivorBeat, victimSerial, survivorSerial] of [
    ["device-model-2", "device-model", "vcpu1", "vcpu0", 1, 0],
    ["device-model", "device-model-2", "vcpu0", "vcpu1", 0, 1],
  ] as const) {
    it(`kill -9 of ${victim} mid-I/O: the other keeps serving, the restarted one reclaims its server and serves again`, async () => {
      const before = await dmops.ioreqServerList(domid);
      const oldIds = before.servers.map((s) => s.id).sort();
      const survivorBefore = lastBeat(await consoleText(survivorSerial), survivorBeat);
      const victimBefore = lastBeat(await consoleText(victimSerial), victimBeat);
      const restarted = host.restartService(victim, { kill: true });
      // While it is down (or coming back), the survivor's vCPU keeps going.
      await waitFor(
        async () => lastBeat(await consoleText(survivorSerial), survivorBeat) >= survivorBefore + 3,
        {
          timeoutMs: 15_000,
          message: `${survivorBeat} kept beating on ${survivor}`,
        },
      );
      await restarted;
      primary = dm("device-model");
      secondary = dm("device-model-2");
      // The restarted instance re-registered (a new server; the old one reclaimed): its vCPU beats again.
      await waitFor(
        async () => lastBeat(await consoleText(victimSerial).catch(() => ""), victimBeat) > victimBefore,
        {
          timeoutMs: 20_000,
          message: `${victimBeat} beating again on the restarted ${victim}`,
        },
      );
      const now = await dmops.ioreqServerList(domid);
      assert.equal(now.servers.length, 2, "two servers again, none leaked");
      assert.equal(now.crashReason, 0, "no crash");
      assert.ok(now.servers.every((s) => s.enabled));
      assert.equal(oldIds.length, 2);
      // A new emulator (fresh devices): its UART holds only what the guest sent after the restart.
      const fresh = await consoleText(victimSerial);
      assert.doesNotMatch(fresh, victimSerial === 0 ? /xensim BIOS/ : /hello from/);
      assert.ok(
        lastBeat(fresh, victimBeat) > victimBefore,
        "the vCPU's counter went on (it was blocked, not restarted)",
      );
      const rec = `/local/domain/0/device-model/${domid}/xensim/${victimSerial === 0 ? "primary" : "secondary"}`;
      assert.equal(await xs.read(`${rec}/service`), victim);
    });
  }
});
