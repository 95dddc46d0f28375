// The device model as a service (qemu-xen as libxl runs it, one emulator per guest and role): wiring
// of @xensim/devicemodel's Machine and Emulator to the hypervisor (dm_op, acquire_resource, event
// channels bound to this instance's dom0 vCPU), xenstore (libxl's device-model nodes and this
// service's own records, so that a restarted instance re-registers its emulators) and a call API
// (proto/xensim/devicemodel/v1/devicemodel.proto: start, stop, saved state, console, list).

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  EVTCHNSTAT_unbound,
  HVM_IOREQSRV_BUFIOREQ_LEGACY,
  SHUTDOWN_reboot,
  XENMEM_resource_ioreq_server,
  XenErrno,
} from "@xensim/abi";
import type { UnaryHandler } from "@xensim/bus";
import {
  decodeMachineState,
  DM_XS,
  type DmHypercalls,
  Emulator,
  EMULATOR_ROLES,
  type EmulatorRole,
  encodeMachineState,
  type IrqLine,
  Machine,
  type QmpBackend,
  type VgaTextScreen,
  SERIAL_BASE,
  type Uart16550,
  VGA_LFB_BASE,
  VRAM_SIZE,
} from "@xensim/devicemodel";
import { encodeSetIsaIrqLevel, encodeSetPciIntxLevel } from "@xensim/ioreq";
import { PAGE_SIZE, PageStore } from "@xensim/memory";
import {
  type ConsoleReadRequest__Output,
  type ConsoleWriteRequest__Output,
  type EmulatorRef__Output,
  loadDeviceModelProto,
  loadDmOpProto,
  loadHypervisorProto,
  loadXenstoreProto,
  type SaveStateRequest__Output,
  type StartRequest__Output,
  type VgaTextRequest__Output,
} from "@xensim/proto";
import type { ServiceContext, ServiceModule } from "@xensim/runtime";
import { retry } from "@xensim/runtime";
import { decodeDomainExc, XenCtrl, XenDeviceModel } from "@xensim/xenctrl";
import { PortDispatcher } from "@xensim/xenbus";
import { HYPERVISOR_SUBJECTS } from "@xensim/subjects";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { deviceModelPolicy } from "./authz.js";
import { guestMemory, MapCache } from "./guest-memory.js";
import { IoreqThread } from "./ioreq-thread-host.js";
import { defaultQmpDir, QmpServer, qmpSocketPath } from "./qmp-server.js";
import { Counter, Gauge } from "prom-client";
import { type DeviceModelConfig, DeviceModelConfigSchema } from "./config.js";

const ESRCH = -XenErrno.ESRCH;
const EEXIST = -XenErrno.EEXIST;
const EINVAL = -XenErrno.EINVAL;
const EIO = -XenErrno.EIO;

interface Running {
  domid: number;
  role: EmulatorRole;
  name: string;
  /** The machine, when this thread serves it (no ioreq thread); else the thread's copy is the live one. */
  machine: Machine;
  emulator: Emulator;
  /** Foreign mappings of the guest's RAM made for it (another host process than the hypervisor's). */
  mapcache?: MapCache;
  /** Its ports' handlers in the PortDispatcher (served on this thread), dropped when it goes. */
  stopEvents: Array<() => void>;
  /** Its QMP socket, and whether a QMP `stop` holds the guest paused. */
  qmp?: QmpServer;
  stoppedByQmp?: boolean;
}

export const deviceModelService: ServiceModule<DeviceModelConfig> = {
  name: "device-model",
  configSchema: DeviceModelConfigSchema,
  async start(ctx: ServiceContext<DeviceModelConfig>) {
    const cfg = ctx.config;
    const log = ctx.log;
    if (!ctx.sharedMemory)
      throw new Error(
        "the device model needs a page store: the hypervisor's host process, or a page-server in this one",
      );
    // The hypervisor in another host process: pages over this host's link (docs/data-plane.md).
    const remote = cfg.hypervisorHost !== "" && cfg.hypervisorHost !== ctx.hostId;
    const sab = ctx.sharedMemory;
    const hvCalls = ctx.calls.client(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      cfg.hypervisor,
    );
    const dmCalls = ctx.calls.client(loadDmOpProto().xensim.hypervisor.v1.DmOp.service, cfg.hypervisor);
    const xc = await retry(
      "attaching to the page store",
      async () =>
        new XenCtrl({
          domid: cfg.domid,
          calls: hvCalls,
          store: sab,
          ...(remote ? { hypervisorHost: cfg.hypervisorHost } : {}),
          ...(ctx.mapperLedger ? { mapperLedger: ctx.mapperLedger } : {}),
        }),
      ctx,
    );
    const store = PageStore.attach(sab);
    const dm = new XenDeviceModel({ domid: cfg.domid, calls: dmCalls });
    const xsCalls =
      cfg.xenstoredSocket === ""
        ? ctx.calls.client(loadXenstoreProto().xensim.xenstore.v1.Xenstore.service, cfg.xenstored)
        : undefined;
    const xs: XenstoreClient = await retry(
      "connecting to xenstored",
      () =>
        xsCalls
          ? connectXenstore({ calls: xsCalls, bus: ctx.bus, clientName: ctx.name })
          : connectXenstore({ socket: cfg.xenstoredSocket }),
      ctx,
    );

    // The emulators are served by a thread of their own blocked in Atomics.wait (ioreq-thread.ts) on
    // our vCPU's wake word: in dom0's shared_info with the hypervisor in this host process, else in
    // this host's shadow of it, where the link thread delivers our events (registered here first).
    // Without it (`ioreqThread: false`), by this thread's event receiver.
    const remoteEvents =
      cfg.ioreqThread && remote
        ? {
            hypervisorHost: cfg.hypervisorHost,
            shadowFrame: await retry(
              "placing our vCPU's events on this host",
              async () => {
                const frame = await xc.placeEvents(cfg.domid, cfg.vcpu);
                if (frame <= 0) throw new Error(`placeEvents: rc ${frame}`);
                return frame;
              },
              ctx,
            ),
            linkTimeoutMs: 15_000,
          }
        : undefined;
    const thread = cfg.ioreqThread
      ? new IoreqThread({
          store,
          sab,
          domid: cfg.domid,
          vcpu: cfg.vcpu,
          slowScanMs: cfg.slowScanMs,
          onWarn: (message, domid) => log.warn({ domid }, message),
          onIrq: (domid, line, level) => sendIrq(domid, line, level),
          ...(remoteEvents ? { remote: remoteEvents } : {}),
        })
      : undefined;

    // An emulated device's interrupt line changed: tell Xen, in order per guest (QEMU's
    // xen_set_irq → xendevicemodel_set_isa_irq_level / set_pci_intx_level).
    const irqChains = new Map<number, Promise<void>>();
    const sendIrq = (domid: number, line: IrqLine, level: 0 | 1): void => {
      const buf =
        "isa" in line
          ? encodeSetIsaIrqLevel(line.isa, level)
          : encodeSetPciIntxLevel(0, 0, line.device, line.intx, level);
      const next = (irqChains.get(domid) ?? Promise.resolve())
        .then(async () => {
          const r = await hc.dmOp(domid, buf);
          if (r.rc && r.rc !== ESRCH) log.warn({ domid, line, level, rc: r.rc }, "set irq level failed");
        })
        .catch((err) => log.warn({ domid, err: String(err) }, "set irq level failed"));
      irqChains.set(domid, next);
      void next.then(() => {
        if (irqChains.get(domid) === next) irqChains.delete(domid);
      });
    };
    const running = new Map<string, Running>();
    const ports = new PortDispatcher();
    const key = (domid: number, role: string) => `${domid}/${role}`;
    const waiters = new Set<() => void>();

    // Over the link, acquire_resource is a foreign mapping of the server's pages (their replicas
    // here); its handles, by domid/server, for the release.
    const resourceHandles = new Map<string, number[]>();
    const hc: DmHypercalls = {
      dmOp: remote
        ? async (d, b) => {
            const r = await dm.dmOp(d, b);
            // What the dm_op wrote into the server's pages (vp_eport on enable) is here before we go on.
            await xc.linkSync();
            return r;
          }
        : (d, b) => dm.dmOp(d, b),
      acquireResource: remote
        ? async (d, id, f, n) => {
            const r = await xc.mapResource(d, XENMEM_resource_ioreq_server, id, f, n);
            if (r.rc === 0)
              resourceHandles.set(`${d}/${id}`, [...(resourceHandles.get(`${d}/${id}`) ?? []), r.handle]);
            return { rc: r.rc, frames: r.frames };
          }
        : (d, id, f, n) => dm.acquireResource(d, id, f, n),
      releaseResource: remote
        ? async (d, id) => {
            const handles = resourceHandles.get(`${d}/${id}`) ?? [];
            resourceHandles.delete(`${d}/${id}`);
            if (handles.length === 0) return -XenErrno.ENOENT;
            for (const h of handles) await xc.unmapResource(h);
            return 0;
          }
        : (d, id) => dm.releaseResource(d, id),
      mapFrame: (frame) => ({ i32: store.i32, base: (frame * PAGE_SIZE) / 4 }),
      bindInterdomain: async (d, p) => {
        const r = await xc.evtchnBindInterdomain(d, p);
        if (r.rc === 0) await xc.evtchnBindVcpu(r.port, cfg.vcpu);
        return r;
      },
      evtchnClose: (p) => xc.evtchnClose(p),
      // the driver port of this placement (@xensim/xenbus DataPlanePort): publish, then kick
      written: (frame, offset, length) => store.markWritten(frame, offset, length),
      notify: (p) => void xc.kick(p),
    };

    // With the ioreq thread, the thread counts and the counter catches up when scraped.
    let seen = thread?.counts();
    const requests = new Counter({
      name: "device_model_requests_total",
      help: "ioreqs handled, by kind (synchronous, buffered)",
      labelNames: ["kind"],
      registers: [ctx.metrics],
      collect() {
        if (!thread || !seen) return;
        const c = thread.counts();
        const sync = (c.synchronous - seen.synchronous) >>> 0;
        const buffered = (c.buffered - seen.buffered) >>> 0;
        seen = c;
        if (sync) this.labels("synchronous").inc(sync);
        if (buffered) this.labels("buffered").inc(buffered);
      },
    });
    new Gauge({
      name: "device_model_emulators",
      help: "emulators running in this instance",
      registers: [ctx.metrics],
      collect() {
        this.set(running.size);
      },
    });

    const syncRequests = requests.labels("synchronous");
    const bufferedRequests = requests.labels("buffered");
    // The devices' clocks (the RTC's periodic and update interrupts) on this thread's timers; the
    // ioreq thread keeps its own.
    const tickTimers = new Map<Running, { at: number; timer: NodeJS.Timeout }>();
    const scheduleTick = (r: Running): void => {
      const at = r.machine.nextDeadline();
      const cur = tickTimers.get(r);
      if (cur && cur.at === at) return;
      if (cur) clearTimeout(cur.timer);
      tickTimers.delete(r);
      if (at === undefined || !running.has(key(r.domid, r.role))) return;
      const timer = setTimeout(
        () => {
          tickTimers.delete(r);
          if (running.get(key(r.domid, r.role)) !== r) return;
          r.machine.tick(Date.now());
          scheduleTick(r);
        },
        Math.max(0, at - Date.now()),
      );
      timer.unref();
      tickTimers.set(r, { at, timer });
    };
    const emulate = (r: Running, port: number): void => {
      const before = r.emulator.counts.synchronous;
      const bufBefore = r.emulator.counts.buffered;
      try {
        r.emulator.onEvent(port);
      } catch (err) {
        log.error({ err: String(err), domid: r.domid, role: r.role }, "emulation failed");
      }
      if (r.emulator.counts.synchronous > before) syncRequests.inc(r.emulator.counts.synchronous - before);
      if (r.emulator.counts.buffered > bufBefore)
        bufferedRequests.inc(r.emulator.counts.buffered - bufBefore);
      scheduleTick(r); // register A or B may have armed or moved the RTC's timers
    };
    const receiver = thread
      ? undefined
      : xc.waitForEvents(cfg.domid, (port) => ports.dispatch(port), {
          vcpu: cfg.vcpu,
          slowScanMs: cfg.slowScanMs,
          onError: (err, port) => log.warn({ err: String(err), port }, "event handler failed"),
        });
    const poller = setInterval(() => {
      for (const r of running.values()) {
        try {
          r.emulator.poll();
        } catch (err) {
          log.warn({ err: String(err), domid: r.domid }, "poll failed");
        }
      }
    }, cfg.slowScanMs);
    poller.unref();

    const unregister = (r: Running) => {
      running.delete(key(r.domid, r.role));
      const t = tickTimers.get(r);
      if (t) clearTimeout(t.timer);
      tickTimers.delete(r);
      for (const stop of r.stopEvents.splice(0)) stop();
    };

    const writeRecords = async (r: Running) => {
      const rec = DM_XS.record(r.domid, r.role, cfg.domid);
      await xs.write(`${rec}/service`, ctx.name);
      await xs.write(`${rec}/name`, r.name);
      await xs.write(`${rec}/vcpus`, String(r.emulator.options.vcpus));
      await xs.write(`${rec}/ioreq-server`, String(r.emulator.serverId));
      await xs.write(`${rec}/ports`, r.emulator.ports.join(","));
      if (r.role === "primary") {
        // QEMU's xen_save_physmap for the VGA memory, then "running" (what libxl waits for).
        const pm = `${DM_XS.physmap(r.domid, cfg.domid)}/${VGA_LFB_BASE.toString(16)}`;
        await xs.write(`${pm}/start_addr`, VGA_LFB_BASE.toString(16));
        await xs.write(`${pm}/size`, VRAM_SIZE.toString(16));
        await xs.write(`${pm}/name`, "vga.vram");
        await xs.write(DM_XS.state(r.domid, cfg.domid), "running");
      }
    };

    const startEmulator = async (q: {
      domid: number;
      name: string;
      role: string;
      vcpus: number;
      restorePath: string;
    }) => {
      if (
        !(EMULATOR_ROLES as readonly string[]).includes(q.role) ||
        !(cfg.roles as readonly string[]).includes(q.role)
      )
        return {
          rc: EINVAL,
          error: `this instance runs ${cfg.roles.join(", ")}, not '${q.role}'`,
          serverId: 0,
        };
      const role = q.role as EmulatorRole;
      if (running.has(key(q.domid, role))) return { rc: EEXIST, error: "already running", serverId: 0 };
      const info = await xc.domainInfo(q.domid);
      if (info.rc || !info.info || info.info.dying)
        return { rc: ESRCH, error: `no domain ${q.domid}`, serverId: 0 };
      const machine = new Machine(role, { clock: () => Date.now() });
      if (q.restorePath) {
        try {
          machine.loadState(decodeMachineState(new Uint8Array(await readFile(q.restorePath))));
        } catch (err) {
          return {
            rc: EINVAL,
            error: `cannot restore ${q.restorePath}: ${(err as Error).message}`,
            serverId: 0,
          };
        }
      }
      const mapcache = remote
        ? new MapCache(
            { mapSync: (d, gfns) => xc.mapForeignPagesSync(d, gfns), unmap: (h) => xc.unmapResource(h) },
            q.domid,
          )
        : undefined;
      const emulator = new Emulator({
        domid: q.domid,
        vcpus: q.vcpus || info.info.vcpus,
        machine,
        hc,
        memory: guestMemory(store, q.domid, mapcache),
        // Across host processes each buffered pointer keeps one writer: Xen's ATOMIC rebase writes
        // both, so the legacy handling (no rebase) is asked for.
        ...(remote ? { handling: HVM_IOREQSRV_BUFIOREQ_LEGACY } : {}),
        onError: (m) => log.warn({ domid: q.domid, role }, m),
      });
      const r: Running = { domid: q.domid, role, name: q.name, machine, emulator, stopEvents: [] };
      if (mapcache) r.mapcache = mapcache;
      // Ports come alive during start: dispatch needs them as soon as they are bound.
      running.set(key(q.domid, role), r);
      try {
        await emulator.start();
      } catch (err) {
        unregister(r);
        log.error({ err: String(err), domid: q.domid, role }, "emulator registration failed");
        return { rc: EIO, error: String((err as Error).message ?? err), serverId: 0 };
      }
      if (thread) {
        try {
          await thread.add(
            key(q.domid, role),
            role,
            emulator.handover(),
            encodeMachineState(machine.saveState()),
          );
        } catch (err) {
          unregister(r);
          await emulator.stop();
          return { rc: EIO, error: `ioreq thread: ${(err as Error).message}`, serverId: 0 };
        }
      } else {
        for (const p of emulator.ports) r.stopEvents.push(ports.on(p, () => emulate(r, p)));
        for (const u of machine.serials)
          u.onTransmit = () => {
            for (const w of waiters) w();
          };
        machine.onIrq = (line, level) => sendIrq(q.domid, line, level);
        machine.syncIrqs(); // a restored state's lines
        scheduleTick(r);
      }
      await writeRecords(r);
      await startQmp(r);
      emulator.poll();
      log.info(
        { domid: q.domid, role, serverId: emulator.serverId, ports: emulator.ports },
        "emulator running",
      );
      return { rc: 0, error: "", serverId: emulator.serverId };
    };

    // QMP (libxl's qmp-libxl-<domid> socket): what its commands do to this emulator and its guest.
    const qmpDir = cfg.qmpDir || defaultQmpDir();
    const qmpBackend = (r: Running): QmpBackend => ({
      running: () => !r.stoppedByQmp,
      stop: async () => {
        const rc = await xc.domainPause(r.domid);
        if (rc) throw new Error(`pausing domain ${r.domid} failed: rc ${rc}`);
        r.stoppedByQmp = true;
      },
      cont: async () => {
        const rc = await xc.domainUnpause(r.domid);
        if (rc) throw new Error(`unpausing domain ${r.domid} failed: rc ${rc}`);
        r.stoppedByQmp = false;
      },
      systemReset: async () => {
        if (thread) await thread.reset(key(r.domid, r.role));
        else r.machine.reset(() => Date.now());
        // QEMU under Xen turns a system reset into a reboot request for the toolstack.
        if (r.role === "primary") await xc.domainShutdown(r.domid, SHUTDOWN_reboot);
      },
      chardevs: () =>
        r.machine.serials.map((_, i) => ({
          label: `serial${SERIAL_BASE[r.role] + i}`,
          filename: `xensim-console:${r.domid}/${SERIAL_BASE[r.role] + i}`,
          frontendOpen: true,
        })),
      pciDevices: () =>
        r.machine.pci.functions().map((f) => ({
          bus: (f.spec.sbdf >> 8) & 0xff,
          slot: (f.spec.sbdf >> 3) & 0x1f,
          function: f.spec.sbdf & 7,
          vendor: f.spec.vendor,
          device: f.spec.device,
          classCode: f.spec.classCode,
        })),
    });
    const startQmp = async (r: Running) => {
      const path = qmpSocketPath(qmpDir, r.domid, r.role);
      try {
        r.qmp = await QmpServer.listen(path, qmpBackend(r), (m) =>
          log.warn({ domid: r.domid, role: r.role }, m),
        );
        await xs.write(`${DM_XS.record(r.domid, r.role, cfg.domid)}/qmp`, path);
      } catch (err) {
        log.warn({ domid: r.domid, role: r.role, path, err: String(err) }, "no QMP socket");
      }
    };

    const stopEmulator = async (r: Running, opts: { records: boolean }) => {
      unregister(r);
      await r.qmp?.close().catch(() => {});
      if (thread) await thread.remove(key(r.domid, r.role)).catch(() => {});
      await r.emulator.stop();
      await r.mapcache?.clear();
      const rec = DM_XS.record(r.domid, r.role, cfg.domid);
      if (opts.records) {
        await xs.rm(rec).catch(() => {});
        if (r.role === "primary") await xs.rm(DM_XS.state(r.domid, cfg.domid)).catch(() => {});
      } else {
        // Destroyed cleanly: nothing for a later instance to reclaim (the id may be reused).
        await xs.write(`${rec}/ioreq-server`, "-1").catch(() => {});
        await xs.write(`${rec}/ports`, "").catch(() => {});
      }
      log.info({ domid: r.domid, role: r.role }, "emulator stopped");
    };

    const serial = (domid: number, n: number): Uart16550 | undefined => {
      for (const r of running.values()) {
        if (r.domid !== domid) continue;
        const i = n - SERIAL_BASE[r.role];
        if (i >= 0 && i < r.machine.serials.length) return r.machine.serials[i];
      }
      return undefined;
    };

    const def = loadDeviceModelProto().xensim.devicemodel.v1.DeviceModel.service;
    const impl: Record<string, UnaryHandler> = {
      Start: async (q: StartRequest__Output) => startEmulator(q),
      Stop: async (q: EmulatorRef__Output) => {
        const r = running.get(key(q.domid, q.role));
        if (!r) return { rc: ESRCH, error: `no ${q.role} emulator of ${q.domid} here` };
        await stopEmulator(r, { records: true });
        return { rc: 0, error: "" };
      },
      SaveState: async (q: SaveStateRequest__Output) => {
        const r = running.get(key(q.domid, q.role));
        if (!r)
          return { rc: ESRCH, error: `no ${q.role} emulator of ${q.domid} here`, state: Buffer.alloc(0) };
        let bytes: Uint8Array;
        if (thread) {
          const saved = await thread.save(key(q.domid, q.role));
          if (!saved)
            return { rc: ESRCH, error: `no ${q.role} emulator of ${q.domid} here`, state: Buffer.alloc(0) };
          bytes = saved;
        } else {
          r.emulator.poll(); // whatever is queued is part of the state
          bytes = encodeMachineState(r.machine.saveState());
        }
        if (q.path) {
          await mkdir(dirname(q.path), { recursive: true });
          await writeFile(q.path, bytes);
        }
        return { rc: 0, error: "", state: Buffer.from(bytes) };
      },
      ConsoleRead: async (q: ConsoleReadRequest__Output) => {
        const offset = Number(q.offset);
        if (thread) {
          if (q.waitMs > 0) thread.wantOutput();
          const seq = thread.txSeq;
          let out = await thread.output(q.domid, q.serial, offset);
          if (!out) return { rc: ESRCH, data: Buffer.alloc(0), nextOffset: "0", lost: "0" };
          if (out.transmitted <= offset && q.waitMs > 0) {
            if (thread.txSeq === seq) await thread.waitOutput(Math.min(q.waitMs, 30_000));
            out = (await thread.output(q.domid, q.serial, offset)) ?? out;
          }
          return { rc: 0, data: Buffer.from(out.data), nextOffset: String(out.next), lost: String(out.lost) };
        }
        let u = serial(q.domid, q.serial);
        if (!u) return { rc: ESRCH, data: Buffer.alloc(0), nextOffset: "0", lost: "0" };
        if (u.transmitted <= offset && q.waitMs > 0) {
          await new Promise<void>((resolve) => {
            const done = () => {
              waiters.delete(done);
              clearTimeout(t);
              resolve();
            };
            const t = setTimeout(done, Math.min(q.waitMs, 30_000));
            waiters.add(done);
          });
          u = serial(q.domid, q.serial) ?? u;
        }
        const out = u.output(offset);
        return { rc: 0, data: Buffer.from(out.data), nextOffset: String(out.next), lost: String(out.lost) };
      },
      VgaText: async (q: VgaTextRequest__Output) => {
        let screen: VgaTextScreen | undefined;
        if (thread) screen = await thread.vgaText(q.domid);
        else
          for (const r of running.values())
            if (r.domid === q.domid && r.machine.vga) {
              r.emulator.poll(); // buffered text stores still in the ring
              screen = r.machine.vga.textScreen();
            }
        if (!screen) return { rc: ESRCH, error: `no VGA of domain ${q.domid} here` };
        return {
          rc: 0,
          error: "",
          cols: screen.cols,
          rows: screen.rows,
          cells: Buffer.from(screen.cells),
          cursorRow: screen.cursor.row,
          cursorCol: screen.cursor.col,
          cursorVisible: screen.cursor.visible,
          cursorStart: screen.cursor.start,
          cursorEnd: screen.cursor.end,
        };
      },
      ConsoleWrite: async (q: ConsoleWriteRequest__Output) => {
        if (thread) {
          const n = await thread.input(q.domid, q.serial, new Uint8Array(q.data));
          return n === undefined ? { rc: ESRCH, error: "no such serial port" } : { rc: 0, error: "" };
        }
        const u = serial(q.domid, q.serial);
        if (!u) return { rc: ESRCH, error: "no such serial port" };
        u.input(new Uint8Array(q.data));
        for (const r of running.values()) if (r.domid === q.domid) r.machine.syncIrqs(); // RDI
        return { rc: 0, error: "" };
      },
      List: async () => {
        const figures = thread ? await thread.list() : undefined;
        return {
          emulators: [...running.values()].map((r) => {
            const m = r.machine;
            const f = figures?.[key(r.domid, r.role)] ?? {
              synchronous: m.stats.synchronous,
              buffered: m.stats.buffered,
              pciConfig: m.stats.pciConfig,
              unhandled: m.stats.unhandled,
              serials: m.serials.length,
              framebufferHash: m.vga?.visibleHash() ?? "",
            };
            return {
              domid: r.domid,
              role: r.role,
              name: r.name,
              serverId: r.emulator.serverId,
              ports: [...r.emulator.ports],
              synchronous: String(f.synchronous),
              buffered: String(f.buffered),
              pciConfig: String(f.pciConfig),
              unhandled: String(f.unhandled),
              serials: Array.from({ length: f.serials }, (_, i) => SERIAL_BASE[r.role] + i),
              framebufferHash: f.framebufferHash,
              service: ctx.name,
            };
          }),
        };
      },
    };
    ctx.calls.authorize(deviceModelPolicy);
    ctx.calls.server.addService(def, impl);

    // A guest that dies takes its emulators with it (libxl would kill its qemu).
    const exc = ctx.bus.subscribe(HYPERVISOR_SUBJECTS.domainExcAll, {
      callback: (m) => {
        try {
          const e = decodeDomainExc(m.data);
          if (e.state !== "dying" && e.state !== "dead") return;
          for (const r of [...running.values()])
            if (r.domid === e.domid)
              void stopEmulator(r, { records: true }).catch((err) =>
                log.warn({ err: String(err) }, "stop after death"),
              );
        } catch (err) {
          log.warn({ err: String(err) }, "bad domain exception event");
        }
      },
    });

    /**
     * The server `id` and the dom0 ports a dead instance of this service left: destroyed and closed —
     * but only when they are still what the record says (the server's vCPU-0 port bound to our first
     * recorded port), since every emulator here is dom0 and Xen's creator check cannot tell them apart.
     */
    const reclaim = async (domid: number, role: string, id: number, ports: number[]) => {
      const list = await dm.ioreqServerList(domid);
      const srv = list.servers.find((x) => x.id === id);
      const first = ports[0];
      if (srv && first !== undefined) {
        const st = await xc.evtchnStatus(cfg.domid, first);
        const stillBound = st.rc === 0 && st.dom === domid && st.port === srv.ports[0];
        // The host closes a dead worker's ports (its mapper ledger, as Linux's evtchn device does on
        // release): then Xen's end of the server's vCPU-0 port is left unbound for dom0 — a server no
        // live emulator listens on, which the record says was ours.
        const xenEnd = stillBound ? undefined : await xc.evtchnStatus(domid, srv.ports[0]!);
        const orphaned =
          xenEnd !== undefined &&
          xenEnd.rc === 0 &&
          xenEnd.status === EVTCHNSTAT_unbound &&
          xenEnd.dom === cfg.domid;
        if (stillBound || orphaned) {
          const rc = await Emulator.reclaim(hc, domid, id);
          log.warn({ domid, role, server: id, rc }, "reclaimed the ioreq server a previous instance left");
        }
      }
      // Our ports to that domain (interdomain to it, or unbound for it once its Xen end went away).
      for (const p of ports) {
        const st = await xc.evtchnStatus(cfg.domid, p);
        if (st.rc === 0 && st.dom === domid) await xc.evtchnClose(p);
      }
    };

    // A previous instance of this service that died left records: re-register those emulators.
    if (cfg.recover) {
      const domids = await xs.ls(DM_XS.all(cfg.domid)).catch(() => [] as string[]);
      for (const d of domids) {
        const domid = Number(d);
        for (const role of cfg.roles) {
          const rec = DM_XS.record(domid, role, cfg.domid);
          if ((await xs.tryRead(`${rec}/service`)) !== ctx.name) continue;
          const old = Number(await xs.tryRead(`${rec}/ioreq-server`));
          const ports = ((await xs.tryRead(`${rec}/ports`)) ?? "").split(",").filter(Boolean).map(Number);
          const name = (await xs.tryRead(`${rec}/name`)) ?? "";
          const vcpus = Number(await xs.tryRead(`${rec}/vcpus`)) || 0;
          if (Number.isInteger(old) && old >= 0) await reclaim(domid, role, old, ports);
          const r = await startEmulator({ domid, name, role, vcpus, restorePath: "" });
          if (r.rc) {
            log.warn(
              { domid, role, rc: r.rc, error: r.error },
              "could not re-register an emulator; dropping its record",
            );
            await xs.rm(rec).catch(() => {});
          } else log.warn({ domid, role, serverId: r.serverId }, "re-registered after a restart");
        }
      }
    }
    log.info({ roles: cfg.roles, vcpu: cfg.vcpu }, "device model started");

    return {
      health: () => ({ status: "ok", emulators: running.size }),
      async stop() {
        clearInterval(poller);
        exc.unsubscribe();
        // A clean stop keeps the records: the emulators are re-registered when the service returns.
        for (const r of [...running.values()]) await stopEmulator(r, { records: false }).catch(() => {});
        receiver?.close();
        await thread?.close();
        await xs.close?.();
        xc.close();
        log.info("device model stopped");
      },
    };
  },
};
