// One booted domain: its kernel (GuestKernel over XenCtrl acting as the guest), xenstore through
// its ring, a blkfront per vbd found under device/vbd (hot-plug both ways), an NBD export per
// connected disk, the workload from /vm/<uuid>/xensim/workload, and control/shutdown handled as a PV
// kernel does. Wiring of @xensim/guest, @xensim/blkfront, @xensim/nbd and @xensim/workload.
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  HVM_PARAM_STORE_EVTCHN,
  HVM_PARAM_STORE_PFN,
  SHUTDOWN_crash,
  SHUTDOWN_poweroff,
  SHUTDOWN_reboot,
  SHUTDOWN_soft_reset,
  SHUTDOWN_suspend,
  xenbusStateName,
} from "@xensim/abi";
import type { BlkfrontConfig, BlockIo, BlockIoStatus, BlockStore } from "@xensim/blkif";
import type { Blkfront, BlkfrontProbe } from "@xensim/blkfront";
import type { CallClient } from "@xensim/bus";
import {
  type FirmwareSettings,
  GuestKernel,
  type GuestWorkload,
  parseBlkfrontSettings,
  parseFirmwareSettings,
  parseWorkload,
  resetFrontendStates,
} from "@xensim/guest";
import { type NbdServerHandle, startNbdServer } from "@xensim/nbd";
import type {
  DiskStatusJson,
  GuestState,
  GuestStatusJson,
  KexecStatusJson,
  WorkloadPhase,
} from "@xensim/proto";
import { type JobLedger, runJob } from "@xensim/workload";
import type { ChaosPoints } from "@xensim/chaos";
import { XenCtrl } from "@xensim/xenctrl";
import type { XenstoreClient, XsWatch } from "@xensim/xenstore-client";
import type { Logger } from "pino";
import type { GuestServiceConfig } from "./config.js";
import { GuestDisplays } from "./display.js";
import { GuestVcpus } from "./vcpus.js";

/**
 * What a kernel hands the kernel it kexecs into (a soft reset keeps guest memory, as a kexec
 * handover area does): its workload's write ledger and the accounting of its last requests.
 */
export interface KexecHandoff {
  vdev: string;
  ledger: JobLedger | undefined;
  requests: { submitted: number; answered: number; failed: number; answeredTwice: number };
}

export interface GuestDeps {
  domid: number;
  name: string;
  hv: CallClient;
  sharedMemory: SharedArrayBuffer;
  /** The hypervisor's host id when it runs in another host process (the data path is the link). */
  hypervisorHost?: string;
  cfg: Readonly<GuestServiceConfig>;
  stateDir: string;
  log: Logger;
  /** State changes worth an immediate status event. */
  onChange: (g: GuestInstance) => void;
  /** The guest runtime's fault points (evtchn.* on the frontends' kicks). */
  chaos?: ChaosPoints;
  /** Booted by a soft reset: what the previous kernel handed over. */
  handoff?: KexecHandoff;
}

interface Disk {
  nodename: string;
  devid: number;
  vdev: string;
  front: Blkfront;
  nbd: NbdServerHandle | undefined;
  nbdStarting: Promise<void> | undefined;
  socketPath: string | undefined;
  unsubscribe: () => void;
  removing: Promise<void> | undefined;
}

const stateName = (s: number): string => xenbusStateName(s) ?? String(s);
const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, "_");

export class GuestInstance {
  readonly domid: number;
  name: string;
  state: GuestState = "booting";
  error = "";
  readonly disks = new Map<string, Disk>();
  /** devids in the order their vbds were found (the default workload disk is the first). */
  private readonly order: string[] = [];
  private readonly log: Logger;
  private xc: XenCtrl | undefined;
  private kernel: GuestKernel | undefined;
  private xs: XenstoreClient | undefined;
  private probe: BlkfrontProbe | undefined;
  private displays: GuestDisplays | undefined;
  private shutdownWatch: XsWatch | undefined;
  private blkfront: Partial<BlkfrontConfig> = {};
  private home: string;
  // workload
  workloadText = "idle";
  private workload: GuestWorkload = { kind: "idle" };
  phase: WorkloadPhase = "idle";
  private job: { vdev: string; stopped: boolean } | undefined;
  ios = 0;
  ioErrors = 0;
  verifyFailures = 0;
  /** The running job's ledger snapshot and request accounting. */
  private jobLedger: (() => JobLedger) | undefined;
  private jobRequests: KexecHandoff["requests"] | undefined;
  /** The disk of the last job started (running or finished). */
  private jobVdev: string | undefined;
  /** Set by a soft-reset shutdown: what the next kernel takes over. */
  handoff: KexecHandoff | undefined;
  ledger: GuestStatusJson["workload"]["ledger"];
  iops = 0;
  private lastIos = 0;
  private lastTick = performance.now();
  private jobEndsAt = Number.POSITIVE_INFINITY;
  private stopping: Promise<void> | undefined;
  // HVM firmware on vCPU threads (when the toolstack set /vm/<uuid>/xensim/firmware)
  firmwareText = "";
  private firmware: FirmwareSettings | undefined;
  private vcpus: GuestVcpus | undefined;
  /** The BIOS's report of the last boot. */
  firmwareReport: unknown;

  constructor(private readonly deps: GuestDeps) {
    this.domid = deps.domid;
    this.name = deps.name;
    this.home = `/local/domain/${deps.domid}`;
    this.log = deps.log.child({ domid: deps.domid });
  }

  /**
   * What a PV kernel does at boot: find the store page and channel (HVM params), xenstore over the
   * ring, read its home and VM directory, advertise control features, start the shutdown watch and
   * device discovery. Resolves once discovery has started (disks connect in the background).
   */
  async boot(): Promise<void> {
    const { domid, cfg } = this.deps;
    const xc = new XenCtrl({
      domid,
      calls: this.deps.hv,
      store: this.deps.sharedMemory,
      ...(this.deps.chaos ? { chaos: this.deps.chaos } : {}),
      // The hypervisor in another host process: this domain is homed here, over the link.
      ...(this.deps.hypervisorHost ? { hypervisorHost: this.deps.hypervisorHost } : {}),
    });
    this.xc = xc;
    const info = await xc.domainInfo(domid);
    if (info.rc !== 0 || !info.info)
      throw Object.assign(new Error(`domain ${domid}: rc ${info.rc}`), { rc: info.rc });
    const pfn = await xc.hvmParamGet(domid, HVM_PARAM_STORE_PFN);
    const evtchn = await xc.hvmParamGet(domid, HVM_PARAM_STORE_EVTCHN);
    if (pfn.rc !== 0 || evtchn.rc !== 0 || evtchn.value === 0n)
      throw Object.assign(
        new Error(`domain ${domid}: no store page/channel published (rc ${pfn.rc}/${evtchn.rc})`),
        {
          rc: pfn.rc || evtchn.rc || -22,
        },
      );
    const kernel = new GuestKernel({
      domid,
      xc,
      ramPages: info.info.memoryMib * 256,
      slowScanMs: cfg.slowScanMs,
    });
    this.kernel = kernel;
    const xs = await kernel.connectXenstore(Number(pfn.value), Number(evtchn.value));
    this.xs = xs;
    this.name = (await xs.tryRead("name")) ?? this.name;
    const vm = await xs.tryRead("vm");
    if (vm) {
      const w = await xs.tryRead(`${vm}/xensim/workload`);
      if (w !== undefined) {
        this.workloadText = w.trim() === "" ? "idle" : w.trim();
        this.workload = parseWorkload(w);
      }
      const b = await xs.tryRead(`${vm}/xensim/blkfront`);
      this.blkfront = { ...cfg.blkfront, ...(b ? parseBlkfrontSettings(b) : {}) };
      const fw = await xs.tryRead(`${vm}/xensim/firmware`);
      if (fw !== undefined && fw.trim() !== "") {
        this.firmwareText = fw.trim();
        this.firmware = parseFirmwareSettings(fw);
      }
    } else this.blkfront = { ...cfg.blkfront };
    // Linux's xenbus setup_shutdown_watcher + the features it advertises.
    for (const k of ["feature-poweroff", "feature-reboot"])
      await xs
        .write(`control/${k}`, "1")
        .catch((err: unknown) => this.log.warn({ err: String(err) }, `control/${k}`));
    this.shutdownWatch = await xs.watch(`${this.home}/control/shutdown`);
    void this.followShutdown(this.shutdownWatch);
    this.state = "running";
    // Devices a previous kernel left connected or closed (Halt, then Boot here): back to Initialising.
    const reset = await resetFrontendStates(xs, this.home, "vbd", cfg.closeTimeoutMs);
    if (reset.length > 0) this.log.info({ devids: reset }, "vbds reset from a previous kernel");
    this.probe = await kernel.probeBlkfronts(xs, {
      config: this.blkfront,
      maxDataPagesPerRing: cfg.maxDataPagesPerRing,
      closeTimeoutMs: cfg.closeTimeoutMs,
      log: this.log,
      ...(this.deps.chaos ? { corruptRequest: corruptRequestPoint(this.deps.chaos, this.domid) } : {}),
      onBlkfront: (b) => this.attach(b),
      onRemoved: (b) => this.detach(b.dev.nodename, "removed"),
    });
    this.displays = await GuestDisplays.start({
      kernel,
      xs,
      domid,
      name: this.name,
      log: this.log,
      periodMs: cfg.displayPeriodMs,
      iops: () => this.iops,
    }).catch((err: unknown) => {
      this.log.warn({ err: String(err) }, "displays");
      return undefined;
    });
    if (this.firmware) this.startVcpus(this.firmware, info.info.vcpus);
    this.log.info({ name: this.name, workload: this.workloadText, disks: this.disks.size }, "guest booted");
    this.deps.onChange(this);
  }

  // ---- vCPUs (HVM firmware doing port/MMIO I/O to the device models) -------------------------------

  private startVcpus(settings: FirmwareSettings, vcpus: number): void {
    this.vcpus = new GuestVcpus({
      sab: this.deps.sharedMemory,
      domid: this.domid,
      name: this.name,
      vcpus,
      settings,
      onBooted: (report) => {
        this.firmwareReport = report;
        this.log.info(
          { firmware: this.firmwareText, pci: report.pci.length, kexec: report.kexec },
          "firmware booted",
        );
        this.deps.onChange(this);
      },
      // Xen crashed the domain (an emulator broke the ioreq protocol): domain_crash is a shutdown
      // with SHUTDOWN_crash; the toolstack applies on_crash.
      onCrash: (reason) => {
        this.log.error({ reason }, "domain crashed by Xen during an emulated access");
        void this.xc?.domainShutdown(this.domid, SHUTDOWN_crash).catch(() => {});
      },
      onError: (vcpu, error) => this.log.error({ vcpu, error }, "vCPU failed"),
    });
  }

  private stopVcpus(): Promise<void> {
    const v = this.vcpus;
    this.vcpus = undefined;
    return v ? v.stop() : Promise.resolve();
  }

  // ---- disks -----------------------------------------------------------------------------------

  private async attach(front: Blkfront): Promise<void> {
    const xs = this.xs!;
    const devid = Number(front.dev.devid);
    const vdev = (await xs.tryRead(`${front.dev.otherend}/dev`)) ?? `d${devid}`;
    const disk: Disk = {
      nodename: front.dev.nodename,
      devid,
      vdev,
      front,
      nbd: undefined,
      nbdStarting: undefined,
      socketPath: undefined,
      unsubscribe: () => {},
      removing: undefined,
    };
    this.disks.set(disk.nodename, disk);
    this.order.push(disk.nodename);
    disk.unsubscribe = front.subscribe((n) => {
      switch (n.kind) {
        case "connected":
          this.log.info({ vdev, sectors: n.info.sectors, ring: front.ringInfo }, "disk connected");
          disk.nbdStarting ??= this.export(disk).catch((err: unknown) =>
            this.log.error({ err: String(err), vdev }, "NBD export failed"),
          );
          this.maybeStartJob();
          this.deps.onChange(this);
          return;
        case "disconnected":
          // The toolstack detaching (online = 0): close for good; else a backend restart, reconnect.
          void xs
            .tryRead(`${front.dev.otherend}/online`)
            .then((v) => {
              if (v !== undefined && v.trim() === "0") return this.detach(disk.nodename, "backend offline");
            })
            .catch(() => {});
          this.deps.onChange(this);
          return;
        case "error":
          this.log.warn({ vdev, err: n.err, msg: n.msg }, "disk error");
          this.deps.onChange(this);
          return;
        default:
          return;
      }
    });
    this.log.info({ vdev, devid }, "vbd found");
    if (front.isConnected) {
      disk.nbdStarting ??= this.export(disk).catch((err: unknown) =>
        this.log.error({ err: String(err), vdev }, "NBD export failed"),
      );
      this.maybeStartJob();
    }
  }

  /** The export's URI, with the advertised host name when one is configured (TCP). */
  private nbdUri(d: Disk): string {
    const uri = d.nbd?.uri ?? "";
    const adv = this.deps.cfg.nbd.advertise;
    if (adv === "" || !uri.startsWith("nbd://") || !d.nbd || "path" in d.nbd.address) return uri;
    return `nbd://${adv.includes(":") ? `[${adv}]` : adv}:${d.nbd.address.port}/${encodeURIComponent(d.vdev)}`;
  }

  private async export(disk: Disk): Promise<void> {
    const { cfg } = this.deps;
    if (cfg.nbd.listen === "none" || disk.nbd || disk.removing) return;
    let listen: { path: string } | { host: string; port: number };
    if (cfg.nbd.listen === "unix") {
      const dir = join(this.deps.stateDir, "nbd");
      await mkdir(dir, { recursive: true });
      disk.socketPath = join(dir, `${safe(this.name)}-${safe(disk.vdev)}.sock`);
      await rm(disk.socketPath, { force: true });
      listen = { path: disk.socketPath };
    } else listen = { host: cfg.nbd.host, port: 0 };
    const exports = new Map([[disk.vdev, disk.front]]);
    let srv: NbdServerHandle | undefined;
    if ("port" in listen && cfg.nbd.port > 0) {
      // The first free port of the configured range (a container publishes the range).
      for (let p = cfg.nbd.port; p < cfg.nbd.port + cfg.nbd.portCount && !srv; p++)
        srv = await startNbdServer({ exports, listen: { host: cfg.nbd.host, port: p } }).catch(
          () => undefined,
        );
      if (!srv) throw new Error(`no free NBD port in ${cfg.nbd.port}+${cfg.nbd.portCount}`);
    } else srv = await startNbdServer({ exports, listen });
    if (disk.removing || this.state !== "running") {
      await srv.close();
      return;
    }
    disk.nbd = srv;
    this.log.info({ vdev: disk.vdev, uri: srv.uri }, "disk exported");
    this.deps.onChange(this);
  }

  /** Closes a disk: its export, the workload if it ran there, the frontend (closing handshake). */
  private detach(nodename: string, why: string): Promise<void> {
    const disk = this.disks.get(nodename);
    if (!disk) return Promise.resolve();
    disk.removing ??= (async () => {
      this.log.info({ vdev: disk.vdev, why }, "disk going");
      if (this.job && this.job.vdev === disk.vdev) this.stopJob();
      await disk.nbdStarting;
      await disk.nbd?.close().catch(() => {});
      disk.nbd = undefined;
      if (disk.socketPath) await rm(disk.socketPath, { force: true }).catch(() => {});
      await disk.front.close().catch((err: unknown) => this.log.warn({ err: String(err) }, "frontend close"));
      disk.unsubscribe();
      this.disks.delete(nodename);
      this.deps.onChange(this);
    })();
    return disk.removing;
  }

  // ---- workload --------------------------------------------------------------------------------

  private targetDisk(): Disk | undefined {
    const w = this.workload;
    if (w.kind !== "job") return undefined;
    if (w.vdev !== undefined) return [...this.disks.values()].find((d) => d.vdev === w.vdev);
    const first = this.order[0];
    return first === undefined ? undefined : this.disks.get(first);
  }

  private maybeStartJob(): void {
    const w = this.workload;
    if (w.kind !== "job" || this.job || this.phase !== "idle" || this.state !== "running") return;
    const disk = this.targetDisk();
    if (!disk || disk.removing || !disk.front.isConnected) return;
    const job = { vdev: disk.vdev, stopped: false };
    this.job = job;
    const requests = { submitted: 0, answered: 0, failed: 0, answeredTwice: 0 };
    this.jobRequests = requests;
    this.jobVdev = disk.vdev;
    const front = disk.front;
    // The job's store: counts completions for the status, and once stopped takes no new I/O (the
    // job is abandoned: what is in flight completes, nothing more is issued).
    const store: BlockStore = {
      get info() {
        return front.info;
      },
      submit: (io: BlockIo, done: (s: BlockIoStatus) => void) => {
        if (job.stopped) return;
        requests.submitted++;
        let answered = false;
        front.submit(io, (status) => {
          if (answered) {
            requests.answeredTwice++;
            return;
          }
          answered = true;
          if (status === 0) requests.answered++;
          else requests.failed++;
          if (status === 0) this.ios++;
          else this.ioErrors++;
          done(status);
        });
      },
      close: async () => {},
    };
    this.phase = "running";
    const started = performance.now();
    this.jobEndsAt = started + (w.spec.rampMs ?? 0) + (w.spec.runtimeMs ?? Number.POSITIVE_INFINITY);
    this.log.info({ vdev: disk.vdev, job: w.text }, "workload started");
    let run: Promise<void>;
    try {
      run = runJob(
        store,
        { seed: this.domid, ...w.spec, name: w.spec.name ?? this.name },
        {
          nowNs: () => performance.now() * 1e6,
          defer: (fn) => setImmediate(fn),
        },
        {
          // the previous kernel's ledger, when this one was kexec'd into on the same disk
          ...(this.deps.handoff?.ledger && this.deps.handoff.vdev === disk.vdev
            ? { ledger: this.deps.handoff.ledger }
            : {}),
          expose: (snapshot) => (this.jobLedger = snapshot),
        },
      ).then((r) => {
        if (job.stopped) return;
        this.verifyFailures = r.verify.failures_total;
        if (r.verify.enabled)
          this.ledger = {
            acknowledgedBlocks: r.verify.acknowledged_blocks,
            blocksChecked: r.verify.blocks_checked,
            lost: r.verify.failures_total,
            indeterminate: r.verify.indeterminate_blocks,
            failures: r.verify.failures.slice(0, 8),
            ...(this.deps.handoff ? { carriedVerified: r.verify.carried_blocks_verified } : {}),
          };
        this.phase = r.error > 0 || r.verify.failures_total > 0 ? "failed" : "done";
        this.job = undefined;
        this.log.info(
          { iops: r.read.iops + r.write.iops, errors: r.error, verifyFailures: r.verify.failures_total },
          "workload finished",
        );
        this.deps.onChange(this);
      });
    } catch (err) {
      run = Promise.reject(err as Error);
    }
    run.catch((err: unknown) => {
      this.phase = "failed";
      this.job = undefined;
      this.error = `workload: ${err instanceof Error ? err.message : String(err)}`;
      this.log.error({ err: String(err) }, "workload failed");
      this.deps.onChange(this);
    });
  }

  private stopJob(): void {
    if (!this.job) return;
    this.job.stopped = true;
    this.job = undefined;
    if (this.phase === "running" || this.phase === "verifying") this.phase = "done";
  }

  /** Called every status interval: the IOPS figure over it. */
  tick(): void {
    const now = performance.now();
    const dt = (now - this.lastTick) / 1000;
    if (dt > 0) this.iops = Math.round(((this.ios - this.lastIos) / dt) * 10) / 10;
    this.lastIos = this.ios;
    this.lastTick = now;
    if (this.phase === "running" && now > this.jobEndsAt) this.phase = "verifying";
  }

  // ---- control/shutdown --------------------------------------------------------------------------

  private async followShutdown(w: XsWatch): Promise<void> {
    try {
      for await (const _ev of w) {
        if (this.stopping || !this.xs) return;
        const v = ((await this.xs.tryRead("control/shutdown")) ?? "").trim();
        // "soft_reset": xensim's kexec trigger (xl trigger D soft-reset) — the kernel kexecs, i.e.
        // SCHEDOP_shutdown(SHUTDOWN_soft_reset), and the toolstack's on_soft_reset follows.
        const reason =
          v === "poweroff" || v === "halt"
            ? SHUTDOWN_poweroff
            : v === "reboot"
              ? SHUTDOWN_reboot
              : v === "suspend"
                ? SHUTDOWN_suspend
                : v === "soft_reset"
                  ? SHUTDOWN_soft_reset
                  : undefined;
        if (reason === undefined) {
          if (v !== "") this.log.warn({ request: v }, "unknown shutdown request ignored");
          continue;
        }
        // Linux acknowledges by clearing the node, then shuts down.
        await this.xs.write("control/shutdown", "").catch(() => {});
        this.log.info({ request: v }, "shutdown requested");
        void this.shutdown(reason).catch((err: unknown) => this.fail(err));
        return;
      }
    } catch (err) {
      if (!this.stopping) this.log.warn({ err: String(err) }, "shutdown watch ended");
    }
  }

  /** Stops the workload, closes every frontend, then SCHEDOP_shutdown(reason). */
  shutdown(reason: number): Promise<void> {
    this.stopping ??= (async () => {
      this.state = "shutting-down";
      this.deps.onChange(this);
      const vdev = this.jobVdev;
      await this.closeAll();
      // kexec: the ledger once every request was answered or failed by the frontends' close
      if (reason === SHUTDOWN_soft_reset && vdev !== undefined && this.jobRequests)
        this.handoff = { vdev, ledger: this.jobLedger?.(), requests: { ...this.jobRequests } };
      const rc = await this.xc!.domainShutdown(this.domid, reason);
      if (rc !== 0) this.log.warn({ rc }, "SCHEDOP_shutdown refused");
      this.release();
      this.state = "halted";
      this.log.info({ reason }, "guest shut down");
      this.deps.onChange(this);
    })();
    return this.stopping;
  }

  /** Halt: everything closed (frontends hand their devices back), no shutdown. */
  halt(): Promise<void> {
    this.stopping ??= (async () => {
      this.state = "shutting-down";
      await this.closeAll();
      this.release();
      this.state = "halted";
      this.log.info("guest halted");
    })();
    return this.stopping;
  }

  /** The domain died or shut down under us: drop everything without talking to anyone. */
  abandon(why: string): void {
    if (this.state === "halted") return;
    this.stopping ??= Promise.resolve();
    void this.stopVcpus();
    this.stopJob();
    for (const d of this.disks.values()) {
      d.unsubscribe();
      void d.nbd?.close().catch(() => {});
      if (d.socketPath) void rm(d.socketPath, { force: true }).catch(() => {});
    }
    this.disks.clear();
    this.displays?.abandon();
    void this.probe?.close().catch(() => {});
    void this.shutdownWatch?.close().catch(() => {});
    this.kernel?.abandon();
    void this.xs?.close().catch(() => {});
    this.xc?.close();
    this.state = "halted";
    this.log.info({ why }, "guest abandoned");
  }

  private async closeAll(): Promise<void> {
    await this.stopVcpus();
    this.stopJob();
    await this.shutdownWatch?.close().catch(() => {});
    await this.displays?.close();
    // Frontends first (each needs its otherend watch for the closing handshake), then discovery.
    await Promise.all([...this.disks.keys()].map((n) => this.detach(n, "guest stopping")));
    await this.probe?.close().catch(() => {});
  }

  private release(): void {
    void this.xs?.close().catch(() => {});
    void this.kernel?.close().catch(() => {});
    this.xc?.close();
  }

  fail(err: unknown): void {
    this.error = err instanceof Error ? err.message : String(err);
    this.log.error({ err: this.error }, "guest failed");
    this.abandon("failed");
    this.state = "failed";
    this.deps.onChange(this);
  }

  status(): GuestStatusJson {
    const disks: DiskStatusJson[] = [];
    for (const n of this.order) {
      const d = this.disks.get(n);
      if (!d) continue;
      const neg = d.front.negotiated;
      const ring = d.front.ringInfo;
      const info = d.front.info;
      disks.push({
        vdev: d.vdev,
        devid: d.devid,
        state: stateName(d.front.handshake.state),
        ringPages: ring.pages,
        queues: ring.queues,
        persistent: neg?.persistent ?? false,
        indirectSegments: neg?.maxIndirectSegments ?? 0,
        sectors: info.sectors,
        readonly: info.readonly,
        nbdUri: this.nbdUri(d),
        protocolErrors: d.front.stats.protocolErrors,
        ringRequests: d.front.stats.requests,
        ringResponses: d.front.stats.responses,
        ringInFlight: d.front.stats.inFlight,
      });
    }
    return {
      domid: this.domid,
      name: this.name,
      state: this.state,
      disks,
      workload: {
        job: this.workloadText,
        phase: this.phase,
        iops: this.iops,
        ios: this.ios,
        errors: this.ioErrors,
        verifyFailures: this.verifyFailures,
        ...(this.ledger ? { ledger: this.ledger } : {}),
        ...(this.deps.handoff ? { kexec: kexecStatus(this.deps.handoff) } : {}),
      },
      error: this.error,
    };
  }
}

function kexecStatus(h: KexecHandoff): KexecStatusJson {
  const r = h.requests;
  return {
    carriedAcknowledgedBlocks: h.ledger?.acknowledged.length ?? 0,
    carriedIndeterminateBlocks: h.ledger?.indeterminate.length ?? 0,
    requestsSubmitted: r.submitted,
    requestsAnswered: r.answered,
    requestsFailed: r.failed,
    requestsAnsweredTwice: r.answeredTwice,
    requestsUnanswered: r.submitted - r.answered - r.failed,
  };
}

/** ring.request-corrupted: this guest's blkfront writes garbage into a request slot. */
function corruptRequestPoint(chaos: ChaosPoints, domid: number): () => boolean {
  const p = chaos.point("ring.request-corrupted");
  return () => p.active && p.hit(`dom ${domid} request slot`);
}
