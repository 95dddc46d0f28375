// libxl as a set of flows over injected xenstore, hypervisor and guest-runtime clients: domain
// create (libxl__domain_make + build + devices + unpause, rolled back on failure), destroy
// (libxl__destroy_domid), shutdown/reboot requests (control/shutdown), the on_* actions when a
// domain shuts down (destroy, restart, preserve, soft reset as fact sheet §9), and block
// attach/detach (libxl_device_disk_add / libxl__initiate_device_generic_remove).
import {
  EVTCHNSTAT_interdomain,
  HVM_PARAM_STORE_EVTCHN,
  HVM_PARAM_STORE_PFN,
  XenbusState,
  xenbusStateName,
} from "@xensim/abi";
import { applyLibxlOps, applyVbdDirectories, domainSkeleton, STORE_GFN, vbdDirectories } from "@xensim/libxl";
import type { XenbusStoreOps } from "@xensim/xenbus";
import type { DomainConfig, XlAction, XlDisk } from "@xensim/xlcfg";
import {
  type DeviceModelFlowDeps,
  type DeviceModelRuntime,
  dmDestroy,
  dmSaveState,
  dmStartSteps,
  type EmulatorRole,
  emulatorsOf,
  readPhysmap,
  writePhysmap,
} from "./device-model.js";
import { type FlowOptions, type FlowStep, type FlowStepRecord, runFlow } from "./flow.js";
import {
  type GuestDiskStatus,
  type GuestRuntime,
  type ToolstackClock,
  type ToolstackDomainInfo,
  ToolstackError,
  type ToolstackHypervisor,
  type ToolstackLogger,
  type ToolstackSpans,
  type ToolstackStore,
} from "./ports.js";
import { removeVdispls, vdisplSteps } from "./vdispl-flow.js";
import { RELEASE_DOMAIN, waitUntil } from "./wait.js";

const ESRCH = -3;
const SHUTDOWN_REASONS = ["poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"] as const;

export interface ToolstackOptions {
  xs: ToolstackStore;
  hv: ToolstackHypervisor;
  /** The guest runtime; absent = domains are built and unpaused with no kernel. */
  guest?: GuestRuntime;
  clock: ToolstackClock;
  log: ToolstackLogger;
  /** A fresh RFC 4122 uuid (injected randomness). */
  newUuid: () => string;
  /** Memory the host has for domains, MiB (dom0 included in the sum). */
  hostMemoryMib: number;
  /** Backends reaching InitWait after create/attach (default 10 s). */
  backendTimeoutMs?: number;
  /** Frontends reaching Connected after attach when a guest runtime runs the domain (default 10 s). */
  frontendTimeoutMs?: number;
  /** The guest acting on control/shutdown (default 10 s). */
  shutdownTimeoutMs?: number;
  /** The closing handshake of a detach before forcing (default 10 s). */
  detachTimeoutMs?: number;
  /** The closing handshake of each device during destroy before forcing (default 2 s). */
  destroyDeviceTimeoutMs?: number;
  /** A destroyed domain disappearing from the domain list (default 10 s). */
  reapTimeoutMs?: number;
  /** Poll period of the waits on what xenstore does not show (default 20 ms). */
  pollMs?: number;
  /** Re-check period of the waits on xenstore watches, in case an event is lost (default 200 ms). */
  watchFallbackMs?: number;
  /** Spans of the flows and their steps (OpenTelemetry); absent = none. */
  spans?: ToolstackSpans;
  /** The device-model runtime: HVM domains get their emulators there (absent = none). */
  deviceModel?: DeviceModelRuntime;
  /** libxl's XEN_LIB_DIR, where a soft reset keeps qemu-save.<domid> (default /var/lib/xen). */
  libDir?: string;
  /** The device model reaching "running" (default 10 s). */
  deviceModelTimeoutMs?: number;
}

export interface ManagedDomain {
  domid: number;
  uuid: string;
  config: DomainConfig;
  /** clock.now() at creation. */
  createdAtMs: number;
  /** Set while an on_* action or a destroy is working on it. */
  busy: boolean;
  /** on_*=preserve left it shut down. */
  preserved: boolean;
  /** Booted on the guest runtime. */
  booted: boolean;
}

export interface DomainSummary {
  name: string;
  id: number;
  memMib: number;
  vcpus: number;
  /** xl list's six state letters, e.g. "r-----", "--p---", "---s--". */
  state: string;
  /** Seconds since creation (what this toolstack knows; 0 for domains it did not create). */
  time: number;
  uuid: string | undefined;
  type: "pv" | "hvm";
  shutdownReason: string | undefined;
}

export interface DiskSummary {
  vdev: string;
  devid: number;
  backendDomid: number;
  backendState: string;
  frontendState: string;
  params: string;
  mode: string;
  ringPages: number;
  queues: number;
  features: Record<string, string>;
  sectors: number | undefined;
  nbdUri: string | undefined;
}

/** A domain a restart lost (xenstore had it, the hypervisor did not), and what was done. */
export interface RecoveryRecord {
  domid: number;
  name: string;
  outcome: "cleaned" | "failed";
  error?: string;
}

export interface ActionRecord {
  domid: number;
  reason: string;
  action: XlAction | "none";
  /** restart: the new domain. */
  newDomid?: number;
  outcome: "ok" | "failed";
  error?: string;
  atMs: number;
}

function reasonName(r: number): string {
  return SHUTDOWN_REASONS[r] ?? `reason-${r}`;
}

function xsCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "string"
    ? e.code
    : undefined;
}

async function rmIfPresent(xs: XenbusStoreOps, path: string): Promise<void> {
  try {
    await xs.rm(path);
  } catch (e) {
    if (xsCode(e) !== "ENOENT") throw e;
  }
}

/** Removes `path` when it has no children (libxl__xs_path_cleanup of empty parents). */
async function rmIfEmpty(xs: XenbusStoreOps, path: string): Promise<void> {
  try {
    if ((await xs.ls(path)).length === 0) await xs.rm(path);
  } catch (e) {
    if (xsCode(e) !== "ENOENT") throw e;
  }
}

function stateLetters(i: ToolstackDomainInfo): string {
  const l = ["-", "-", "-", "-", "-", "-"];
  if (i.state === "running") l[0] = "r";
  else if (i.state === "paused") l[2] = "p";
  else if (i.state === "shutdown") l[i.shutdownReason === 3 ? 4 : 3] = i.shutdownReason === 3 ? "c" : "s";
  else if (i.state === "dying" || i.state === "dead") l[5] = "d";
  return l.join("");
}

/** A domain whose saved config survived in xenstore but that the hypervisor no longer knows. */
interface LostDomain {
  domid: number;
  uuid: string;
  config: DomainConfig;
}

export class Toolstack {
  private readonly managed = new Map<number, ManagedDomain>();
  /** xl's domain-creation lock: one create at a time, so validation sees every earlier domain. */
  private createLock: Promise<unknown> = Promise.resolve();
  /** What the on_* handling did, newest last (bounded). */
  readonly actions: ActionRecord[] = [];
  /** What the last start found: domains re-adopted (still running) and cleaned away (lost). */
  readonly recovery: { adopted: number[]; cleaned: RecoveryRecord[] } = { adopted: [], cleaned: [] };
  private readonly options: Required<Omit<ToolstackOptions, "guest" | "deviceModel" | "spans">> & {
    guest: GuestRuntime | undefined;
    deviceModel: DeviceModelRuntime | undefined;
    spans?: ToolstackSpans;
  };

  constructor(options: ToolstackOptions) {
    this.options = {
      backendTimeoutMs: 10_000,
      frontendTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      detachTimeoutMs: 10_000,
      destroyDeviceTimeoutMs: 2_000,
      reapTimeoutMs: 10_000,
      pollMs: 20,
      watchFallbackMs: 200,
      libDir: "/var/lib/xen",
      deviceModelTimeoutMs: 10_000,
      ...options,
      guest: options.guest,
      deviceModel: options.deviceModel,
    };
  }

  get hasDeviceModel(): boolean {
    return this.options.deviceModel !== undefined;
  }

  private dmDeps(): DeviceModelFlowDeps | undefined {
    const dm = this.options.deviceModel;
    if (!dm) return undefined;
    return {
      dm,
      xs: this.options.xs,
      libDir: this.options.libDir,
      waitFor: (what, ms, cond, paths) => this.waitFor(what, ms, cond, paths),
      timeoutMs: this.options.deviceModelTimeoutMs,
    };
  }

  get hasGuestRuntime(): boolean {
    return this.options.guest !== undefined;
  }

  /** Domains `recover` found lost with the hypervisor, for `recoverLost`. */
  private readonly lost: LostDomain[] = [];
  /** The domains this toolstack manages (created or recovered, not yet destroyed). */
  get managedDomids(): number[] {
    return [...this.managed.keys()];
  }

  domain(domid: number): ManagedDomain | undefined {
    return this.managed.get(domid);
  }

  private deps() {
    return {
      clock: this.options.clock,
      log: this.options.log,
      ...(this.options.spans ? { spans: this.options.spans } : {}),
    };
  }

  /**
   * Waits for `cond`: on watches of `paths` (libxl's xswait) with a re-check every
   * watchFallbackMs, or — for what xenstore does not show — polled every pollMs.
   */
  private async waitFor(
    what: string,
    ms: number,
    cond: () => Promise<boolean>,
    paths: readonly string[] = [],
  ): Promise<void> {
    const fallbackMs = paths.length > 0 ? this.options.watchFallbackMs : this.options.pollMs;
    await waitUntil({ xs: this.options.xs, clock: this.options.clock, fallbackMs }, what, ms, cond, paths);
  }

  // ---- create ---------------------------------------------------------------------------------

  /** xl create: the whole flow; on failure everything done so far is undone and a FlowError thrown. */
  async create(
    config: DomainConfig,
    o: FlowOptions & { uuid?: string } = {},
  ): Promise<{ domid: number; uuid: string; records: FlowStepRecord[] }> {
    const run = this.createLock.then(() => this.createLocked(config, o));
    this.createLock = run.catch(() => {});
    return run;
  }

  private async createLocked(
    config: DomainConfig,
    o: FlowOptions & { uuid?: string },
  ): Promise<{ domid: number; uuid: string; records: FlowStepRecord[] }> {
    const uuid = o.uuid ?? config.uuid ?? this.options.newUuid();
    const st = { domid: -1, port: -1 };
    const steps: FlowStep[] = [
      { name: "validate", run: () => this.validate(config, uuid) },
      {
        name: "domain-create",
        run: async (ctx) => {
          const r = await this.options.hv.domainCreate({
            memoryMib: config.memoryMib,
            vcpus: config.vcpus,
            hvm: config.type === "hvm",
          });
          if (r.rc !== 0)
            throw new ToolstackError(r.rc === -12 ? "ENOMEM" : "EIO", `domain create: rc ${r.rc}`);
          st.domid = r.domid;
          ctx.domid = r.domid;
          ctx.onUndo(() => this.destroyDomainAndWait(r.domid));
        },
      },
      ...this.buildSteps(config, uuid, st),
    ];
    const records = await runFlow("create", steps, this.deps(), o);
    this.managed.set(st.domid, {
      domid: st.domid,
      uuid,
      config,
      createdAtMs: this.options.clock.now(),
      busy: false,
      preserved: false,
      booted: this.options.guest !== undefined,
    });
    return { domid: st.domid, uuid, records };
  }

  /** Everything after the domain exists (create, and the re-creation of a soft reset). */
  private buildSteps(
    config: DomainConfig,
    uuid: string,
    st: { domid: number; port: number },
    o: { restoreDeviceModel?: boolean } = {},
  ): FlowStep[] {
    const xs = this.options.xs;
    const hv = this.options.hv;
    const steps: FlowStep[] = [
      {
        name: "store-evtchn",
        run: async () => {
          const p = await hv.evtchnAllocUnbound(st.domid, 0);
          if (p.rc !== 0) throw new ToolstackError("EIO", `store event channel: rc ${p.rc}`);
          st.port = p.port;
        },
      },
    ];
    // HVM: the store page and port published as HVM params (how the guest runtime finds them); PV
    // domains have none (Xen's start_info is not modelled) — they run without a guest kernel.
    if (config.type === "hvm")
      steps.push({
        name: "hvm-params",
        run: async () => {
          for (const [idx, v] of [
            [HVM_PARAM_STORE_PFN, STORE_GFN],
            [HVM_PARAM_STORE_EVTCHN, st.port],
          ] as const) {
            const rc = await hv.hvmParamSet(st.domid, idx, v);
            if (rc !== 0) throw new ToolstackError("EIO", `hvm param ${idx}: rc ${rc}`);
          }
        },
      });
    steps.push(
      {
        name: "xenstore-skeleton",
        run: async (ctx) => {
          ctx.onUndo(() => this.removeSkeleton(st.domid, uuid));
          await xs.transaction((tx) => this.writeSkeleton(tx, st.domid, uuid, config, st.port));
        },
      },
      {
        name: "introduce",
        run: async (ctx) => {
          await xs.introduceDomain(st.domid, STORE_GFN, st.port);
          ctx.onUndo(() => xs.releaseDomain(st.domid));
          // xenstored maps the page and binds the channel after answering INTRODUCE, then moves its
          // end to its dom0 vCPU and only then registers the connection: a RELEASE before that
          // finds nothing to drop and its port stays bound. Wait for the bind and the vCPU move
          // (bounded: a dom0 without a xenstored vCPU keeps the port on vCPU 0).
          let peer = -1;
          await this.waitFor(
            `xenstored binding the store channel of ${st.domid}`,
            this.options.backendTimeoutMs,
            async () => {
              const s = await hv.evtchnStatus(st.domid, st.port);
              if (s.rc === 0 && s.status === EVTCHNSTAT_interdomain) peer = s.port;
              return peer >= 0;
            },
          );
          const settle = this.options.clock.now() + 250;
          while (this.options.clock.now() < settle) {
            const p = await hv.evtchnStatus(0, peer);
            if (p.rc !== 0 || p.vcpu !== 0) break;
            await this.options.clock.sleep(this.options.pollMs / 4);
          }
        },
      },
    );
    for (const d of config.disks)
      steps.push({
        name: `vbd-add:${d.vdev}`,
        run: async (ctx) => {
          ctx.onUndo(() => this.removeDevice(st.domid, d, this.options.destroyDeviceTimeoutMs, true));
          await this.addVbdDirs(st.domid, d);
        },
      });
    if (config.disks.length > 0)
      steps.push({
        name: "wait-backends",
        run: async () => {
          for (const d of config.disks) await this.waitBackend(st.domid, d, this.options.backendTimeoutMs);
        },
      });
    steps.push(
      ...vdisplSteps(
        this.options.xs,
        () => st.domid,
        config.vdispls,
        (what, ms, cond, paths) => this.waitFor(what, ms, cond, paths),
        this.options.backendTimeoutMs,
      ),
    );
    // libxl spawns the device model once the devices are there, and waits for it before unpausing.
    const dmd = this.dmDeps();
    if (dmd) steps.push(...dmStartSteps(dmd, config, st, { restore: o.restoreDeviceModel ?? false }));
    const guest = this.options.guest;
    if (guest)
      steps.push({
        name: "guest-boot",
        run: async (ctx) => {
          ctx.onUndo(() => guest.halt(st.domid));
          const r = await guest.boot(st.domid, config.name);
          if (r.rc !== 0) throw new ToolstackError("EIO", `guest boot: rc ${r.rc} ${r.error}`);
        },
      });
    steps.push({
      name: "unpause",
      run: async () => {
        const rc = await hv.domainUnpause(st.domid);
        if (rc !== 0) throw new ToolstackError("EIO", `unpause: rc ${rc}`);
      },
    });
    return steps;
  }

  private async validate(config: DomainConfig, uuid: string): Promise<void> {
    if (this.options.guest && config.type !== "hvm")
      throw new ToolstackError(
        "EINVAL",
        'a PV domain cannot boot on the guest runtime (it finds its store through HVM params): use type = "hvm"',
      );
    const list = await this.options.hv.domainList();
    if (list.rc !== 0) throw new ToolstackError("EIO", `domain list: rc ${list.rc}`);
    for (const d of list.domains) {
      if (d.state === "dead") continue;
      // dom0 is "Domain-0" whether or not its name node exists (as xl list shows it): a second
      // "Domain-0" would make every name lookup ambiguous.
      const name =
        this.managed.get(d.domid)?.config.name ??
        (d.domid === 0
          ? "Domain-0"
          : await this.options.xs.tryRead(`/local/domain/${d.domid}/name`).catch(() => undefined));
      if (name === config.name)
        throw new ToolstackError("EEXIST", `a domain named ${config.name} exists (domid ${d.domid})`);
      if (this.managed.get(d.domid)?.uuid === uuid)
        throw new ToolstackError("EEXIST", `a domain with uuid ${uuid} exists (domid ${d.domid})`);
    }
    const used = list.domains.filter((d) => d.state !== "dead").reduce((s, d) => s + d.memoryMib, 0);
    if (used + config.memoryMib > this.options.hostMemoryMib)
      throw new ToolstackError(
        "ENOMEM",
        `memory ${config.memoryMib} MiB does not fit: ${this.options.hostMemoryMib - used} of ${this.options.hostMemoryMib} MiB free`,
      );
  }

  /** libxl__domain_make + build_post: the domain's home, /vm/<uuid> and /libxl/<domid>, libxl's perms. */
  private async writeSkeleton(
    tx: XenbusStoreOps,
    domid: number,
    uuid: string,
    config: DomainConfig,
    port: number,
  ): Promise<void> {
    const xensim: Record<string, string> = {};
    if (config.workloadText !== undefined) xensim.workload = config.workloadText;
    if (config.blkfrontText !== undefined) xensim.blkfront = config.blkfrontText;
    if (emulatorsOf(config, this.options.deviceModel).length > 0)
      xensim.firmware = config.firmwareText ?? "bios";
    const skeleton = domainSkeleton({
      domid,
      uuid,
      name: config.name,
      type: config.type,
      memoryMib: config.memoryMib,
      maxmemMib: config.maxmemMib,
      storePort: port,
      startTimeSeconds: this.options.clock.wallSeconds(),
      xensim,
    });
    await applyLibxlOps(tx, skeleton.ops);
    await this.saveConfig(tx, domid, config);
  }

  /**
   * The domain's config as libxl keeps it (its userdata): here JSON under /libxl/<domid>/config,
   * dom0-only, so a restarted toolstack knows its domains again (`recover`). Skipped (with a
   * warning) past what one xenstore value holds.
   */
  private async saveConfig(ops: XenbusStoreOps, domid: number, config: DomainConfig): Promise<void> {
    const text = JSON.stringify(config);
    if (text.length > 3800) {
      this.options.log.warn(
        { domid, bytes: text.length },
        "config too large to keep in xenstore: not recoverable",
      );
      await rmIfPresent(ops, `/libxl/${domid}/config`);
      return;
    }
    await ops.write(`/libxl/${domid}/config`, text);
  }

  /**
   * After a toolstack restart: the domains whose config is under /libxl/<domid>/config and that still
   * exist are ours again (their uptime counts from now); those that shut down meanwhile get their
   * on_* action now. Returns the recovered domids.
   */
  async recover(): Promise<number[]> {
    const xs = this.options.xs;
    const out: number[] = [];
    const gone: LostDomain[] = [];
    for (const d of await xs.ls("/libxl").catch(() => [] as string[])) {
      const domid = Number(d);
      if (!Number.isInteger(domid) || this.managed.has(domid)) continue;
      const text = await xs.tryRead(`/libxl/${d}/config`);
      const vm = await xs.tryRead(`/local/domain/${d}/vm`);
      const i = await this.options.hv.domainInfo(domid);
      if (text === undefined || vm === undefined) continue;
      let config: DomainConfig;
      try {
        config = JSON.parse(text) as DomainConfig;
      } catch {
        this.options.log.warn({ domid }, "unreadable saved config: not recovered");
        continue;
      }
      if (i.rc === ESRCH) {
        // The hypervisor does not know it: it died with the hypervisor (its host process restarted
        // and took guest memory along). A crash as far as the guest is concerned: clean up what
        // it left in xenstore (devices, home, /vm, /libxl) and apply on_crash.
        gone.push({ domid, uuid: vm.replace(/^\/vm\//, ""), config });
        continue;
      }
      if (i.rc !== 0 || !i.info) continue;
      this.managed.set(domid, {
        domid,
        uuid: vm.replace(/^\/vm\//, ""),
        config,
        createdAtMs: this.options.clock.now(),
        busy: false,
        preserved: false,
        booted: this.options.guest !== undefined,
      });
      out.push(domid);
      this.options.log.info(
        { flow: "recover", step: "domain", domid, outcome: "ok" },
        `recovered ${config.name}`,
      );
    }
    this.recovery.adopted.push(...out);
    for (const domid of out)
      await this.handleDomainEvent(domid).catch((e: unknown) =>
        this.options.log.error({ domid, err: String(e) }, "on_* after recovery failed"),
      );
    this.lost.push(...gone);
    return out;
  }

  /**
   * After `recover`: the domains that were lost with the hypervisor (its host restarted) are
   * cleaned up (devices, home, /vm, /libxl) and get their on_crash action: "restart" creates them
   * again from the saved config, anything else leaves them gone. Run once the services the create
   * flow calls are reachable; a create that fails (a backend still coming back) is tried again
   * `attempts` times, `retryMs` apart. Returns the new domids.
   */
  async recoverLost(o: { attempts?: number; retryMs?: number } = {}): Promise<number[]> {
    const out: number[] = [];
    for (const g of this.lost.splice(0)) {
      // Anything but a restart: `cleanStale` already cleaned it away (and its domid may be in use
      // by a new domain by now: never destroy by that number again).
      if (g.config.onCrash !== "restart") continue;
      const r: ActionRecord = {
        domid: g.domid,
        reason: "crash",
        action: g.config.onCrash,
        outcome: "ok",
        atMs: this.options.clock.now(),
      };
      this.options.log.warn(
        { flow: "recover", step: "lost-domain", domid: g.domid, action: g.config.onCrash },
        `domain ${g.domid} (${g.config.name}) was lost with the hypervisor: on_crash ${g.config.onCrash}`,
      );
      // Cleaned already unless the toolstack itself saw it vanish; a domid in use again is not ours.
      const still = await this.options.hv.domainInfo(g.domid);
      const home = await this.options.xs.tryRead(`/local/domain/${g.domid}/vm`).catch(() => undefined);
      if (still.rc === ESRCH && home !== undefined)
        await this.destroy(g.domid, { flow: "lost-cleanup" }).catch(() => {});
      if (g.config.onCrash === "restart") {
        const attempts = o.attempts ?? 5;
        for (let i = 1; ; i++) {
          try {
            const n = await this.create(g.config, { uuid: g.uuid });
            r.newDomid = n.domid;
            r.outcome = "ok";
            delete r.error;
            out.push(n.domid);
            break;
          } catch (e) {
            r.outcome = "failed";
            r.error = String(e);
            if (i >= attempts) break;
            await new Promise((res) => setTimeout(res, o.retryMs ?? 3000));
          }
        }
      }
      this.noteAction(r);
    }
    return out;
  }

  /**
   * After a restart: domains xenstore still has (`/local/domain/<id>`, `/libxl/<id>`) that the
   * hypervisor does not (its restart lost them with its memory) are cleaned away as
   * libxl__destroy_domid does — devices force-removed, released from xenstored (@releaseDomain),
   * their nodes removed, and destroyed in the hypervisor, which then lets their domid be used again.
   * Each is logged and recorded (`recovery.cleaned`, `actions`); call it before taking requests.
   */
  async cleanStale(): Promise<RecoveryRecord[]> {
    const xs = this.options.xs;
    const ids = new Set<number>();
    for (const base of ["/local/domain", "/libxl"])
      for (const d of await xs.ls(base).catch(() => [] as string[]))
        if (/^\d+$/.test(d) && Number(d) !== 0 && !this.managed.has(Number(d))) ids.add(Number(d));
    const out: RecoveryRecord[] = [];
    for (const domid of [...ids].sort((a, b) => a - b)) {
      const i = await this.options.hv.domainInfo(domid);
      if (i.rc !== ESRCH) continue;
      let name = await xs.tryRead(`/local/domain/${domid}/name`).catch(() => undefined);
      if (name === undefined) {
        const text = await xs.tryRead(`/libxl/${domid}/config`).catch(() => undefined);
        try {
          name = text === undefined ? undefined : (JSON.parse(text) as DomainConfig).name;
        } catch {
          name = undefined;
        }
      }
      const r: RecoveryRecord = { domid, name: name ?? `(domid ${domid})`, outcome: "cleaned" };
      try {
        await this.destroy(domid, { flow: "restart-cleanup" });
      } catch (e) {
        // no home left but /libxl remains: remove what is there
        if (e instanceof ToolstackError && e.code === "ENOENT") {
          await rmIfPresent(xs, `/libxl/${domid}`);
          await this.options.hv.domainDestroy(domid);
        } else {
          r.outcome = "failed";
          r.error = String(e);
        }
      }
      this.options.log.info(
        { flow: "restart-cleanup", step: "domain", domid, outcome: r.outcome },
        `domain ${domid} (${r.name}) was lost in a restart: ${r.outcome === "cleaned" ? "cleaned away" : `cleanup failed: ${r.error}`}`,
      );
      this.noteAction({
        domid,
        reason: "lost-in-restart",
        action: "destroy",
        outcome: r.outcome === "cleaned" ? "ok" : "failed",
        ...(r.error ? { error: r.error } : {}),
        atMs: this.options.clock.now(),
      });
      out.push(r);
    }
    this.recovery.cleaned.push(...out);
    return out;
  }

  private async removeSkeleton(domid: number, uuid: string): Promise<void> {
    const xs = this.options.xs;
    await rmIfPresent(xs, `/local/domain/${domid}`);
    await rmIfPresent(xs, `/vm/${uuid}`);
    await rmIfPresent(xs, `/libxl/${domid}`);
  }

  private vbdDirs(domid: number, d: XlDisk) {
    return vbdDirectories({
      frontend: domid,
      backend: d.backend,
      vdev: d.vdev,
      devid: d.devid,
      params: d.target,
      mode: d.access,
      type: d.backendtype,
      deviceType: d.devtype,
      discardEnable: d.discard,
    });
  }

  private async addVbdDirs(domid: number, d: XlDisk): Promise<void> {
    const dirs = this.vbdDirs(domid, d);
    await this.options.xs.transaction(async (tx) => {
      if ((await tx.tryRead(`${dirs.frontendPath}/backend`)) !== undefined)
        throw new ToolstackError("EEXIST", `vdev ${d.vdev} (devid ${d.devid}) is in use on domain ${domid}`);
      // a stale error node of an earlier device with this domid/devid would read as our failure
      await rmIfPresent(tx, `/local/domain/${d.backend}/error/backend/vbd/${domid}/${d.devid}`);
      await applyVbdDirectories(tx, dirs);
    });
  }

  /** libxl__device_destroy: the frontend, backend and error directories (and emptied parents). */
  private async removeVbdDirs(domid: number, d: { devid: number; backend: number }): Promise<void> {
    const xs = this.options.xs;
    const errDir = `/local/domain/${d.backend}/error/backend/vbd/${domid}`;
    await rmIfPresent(xs, `/local/domain/${domid}/device/vbd/${d.devid}`);
    await rmIfPresent(xs, `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`);
    await rmIfPresent(xs, `${errDir}/${d.devid}`);
    await rmIfEmpty(xs, errDir);
    await rmIfEmpty(xs, `/local/domain/${d.backend}/backend/vbd/${domid}`);
    await rmIfEmpty(xs, `/local/domain/${domid}/device/vbd`);
  }

  private async readState(path: string): Promise<number | undefined> {
    const v = await this.options.xs.tryRead(`${path}/state`);
    return v === undefined ? undefined : Number(v);
  }

  /** The backend attached: InitWait or beyond; a backend that failed (error node, Closing) fails at once. */
  private async waitBackend(domid: number, d: { devid: number; backend: number; vdev: string }, ms: number) {
    const be = `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`;
    const errPath = `/local/domain/${d.backend}/error/backend/vbd/${domid}/${d.devid}/error`;
    // libxl: the backend reaches InitWait, and the hotplug step (here blkback opening the store)
    // reports hotplug-status "connected" — or "error", which fails the step.
    await this.waitFor(
      `backend of ${d.vdev} reaching InitWait`,
      ms,
      async () => {
        const s = await this.readState(be);
        const err = await this.options.xs.tryRead(errPath);
        const hotplug = await this.options.xs.tryRead(`${be}/hotplug-status`);
        if (err !== undefined || hotplug === "error" || s === XenbusState.Closing || s === XenbusState.Closed)
          throw new ToolstackError(
            "EIO",
            `backend of ${d.vdev} failed (state ${xenbusStateName(s ?? 0) ?? s}): ${err ?? "no error node"}`,
          );
        return (
          s !== undefined &&
          s >= XenbusState.InitWait &&
          s <= XenbusState.Connected &&
          hotplug === "connected"
        );
      },
      [be, errPath],
    );
  }

  private async destroyDomainAndWait(domid: number): Promise<void> {
    const rc = await this.options.hv.domainDestroy(domid);
    if (rc !== 0 && rc !== ESRCH) throw new ToolstackError("EIO", `domain destroy: rc ${rc}`);
    await this.waitGone(domid);
    await this.removeBackendDirsOf(domid);
  }

  /** What backends may have left (or re-created) for a frontend domain that is gone. */
  private async removeBackendDirsOf(domid: number): Promise<void> {
    for (const be of await this.options.xs.ls("/local/domain").catch(() => [] as string[])) {
      await rmIfPresent(this.options.xs, `/local/domain/${be}/backend/vbd/${domid}`);
      await rmIfPresent(this.options.xs, `/local/domain/${be}/error/backend/vbd/${domid}`);
      await rmIfPresent(this.options.xs, `/local/domain/${be}/backend/vdispl/${domid}`);
    }
  }

  private async waitGone(domid: number): Promise<void> {
    await this.waitFor(
      `domain ${domid} going away`,
      this.options.reapTimeoutMs,
      async () => {
        const i = await this.options.hv.domainInfo(domid);
        return i.rc !== 0 || i.info === undefined || i.info.state === "dead";
      },
      [RELEASE_DOMAIN],
    );
  }

  // ---- destroy --------------------------------------------------------------------------------

  /**
   * xl destroy (libxl__destroy_domid): halt the guest, pause, remove every device (closing
   * handshake, forced after `destroyDeviceTimeoutMs`), release from xenstored, destroy, remove
   * the xenstore nodes, wait until the hypervisor freed it. Best effort: every step runs.
   */
  async destroy(domid: number, o: { flow?: string } = {}): Promise<FlowStepRecord[]> {
    if (domid === 0) throw new ToolstackError("EINVAL", "domain 0 cannot be destroyed");
    const rec = this.managed.get(domid);
    const info = await this.options.hv.domainInfo(domid);
    const home = `/local/domain/${domid}`;
    const homeExists = (await this.options.xs.tryRead(`${home}/domid`)) !== undefined;
    if ((info.rc !== 0 || info.info === undefined) && rec === undefined && !homeExists)
      throw new ToolstackError("ENOENT", `no domain ${domid}`);
    if (rec) rec.busy = true;
    this.managed.delete(domid);
    const xs = this.options.xs;
    let uuid = rec?.uuid;
    const guest = this.options.guest;
    const steps: FlowStep[] = [];
    if (guest)
      steps.push({
        name: "guest-halt",
        continueOnError: true,
        run: async () => {
          await guest.halt(domid);
        },
      });
    steps.push(
      {
        name: "pause",
        continueOnError: true,
        run: async () => {
          const rc = await this.options.hv.domainPause(domid);
          if (rc !== 0 && rc !== ESRCH && rc !== -22) throw new ToolstackError("EIO", `pause: rc ${rc}`);
        },
      },
      {
        name: "dm-stop",
        continueOnError: true,
        run: async () => {
          const dmd = this.dmDeps();
          if (!dmd) return;
          const roles: EmulatorRole[] = rec ? emulatorsOf(rec.config, dmd.dm) : ["primary", "secondary"];
          await dmDestroy(dmd, domid, roles);
        },
      },
      {
        name: "devices-remove",
        continueOnError: true,
        run: async () => {
          uuid ??= (await xs.tryRead(`${home}/vm`))?.replace(/^\/vm\//, "");
          for (const dev of await this.vbdsOf(domid))
            await this.removeDevice(domid, dev, this.options.destroyDeviceTimeoutMs, true);
          await removeVdispls(xs, domid);
        },
      },
      {
        name: "release",
        continueOnError: true,
        run: async () => {
          try {
            await xs.releaseDomain(domid);
          } catch (e) {
            if (!["ENOENT", "EINVAL", "ESRCH"].includes(xsCode(e) ?? "")) throw e;
          }
        },
      },
      {
        name: "domain-destroy",
        continueOnError: true,
        run: async () => {
          const rc = await this.options.hv.domainDestroy(domid);
          if (rc !== 0 && rc !== ESRCH) throw new ToolstackError("EIO", `domain destroy: rc ${rc}`);
        },
      },
      {
        name: "xenstore-cleanup",
        continueOnError: true,
        run: async () => {
          await rmIfPresent(xs, home);
          if (uuid !== undefined && uuid !== "") await rmIfPresent(xs, `/vm/${uuid}`);
          await rmIfPresent(xs, `/libxl/${domid}`);
          await this.removeBackendDirsOf(domid);
        },
      },
      {
        name: "wait-gone",
        continueOnError: true,
        run: async () => {
          await this.waitGone(domid);
          await this.removeBackendDirsOf(domid);
        },
      },
    );
    return runFlow(o.flow ?? "destroy", steps, this.deps(), {}, domid);
  }

  private async vbdsOf(domid: number): Promise<Array<{ devid: number; backend: number; vdev: string }>> {
    const xs = this.options.xs;
    const out: Array<{ devid: number; backend: number; vdev: string }> = [];
    const fronts = await xs.ls(`/local/domain/${domid}/device/vbd`).catch(() => [] as string[]);
    for (const f of fronts) {
      const backend = Number((await xs.tryRead(`/local/domain/${domid}/device/vbd/${f}/backend-id`)) ?? "0");
      const bePath = `/local/domain/${backend}/backend/vbd/${domid}/${f}`;
      out.push({ devid: Number(f), backend, vdev: (await xs.tryRead(`${bePath}/dev`)) ?? f });
    }
    // backends whose frontend directory is already gone
    const seen = new Set(out.map((d) => `${d.backend}/${d.devid}`));
    const be0 = await xs.ls(`/local/domain/0/backend/vbd/${domid}`).catch(() => [] as string[]);
    for (const b of be0)
      if (!seen.has(`0/${b}`))
        out.push({
          devid: Number(b),
          backend: 0,
          vdev: (await xs.tryRead(`/local/domain/0/backend/vbd/${domid}/${b}/dev`)) ?? b,
        });
    return out;
  }

  /**
   * libxl__initiate_device_generic_remove: backend online=0 and state=Closing, wait for the backend
   * to reach Closed; on timeout remove anyway when `force`, else fail. Then the directories go.
   * Returns whether the handshake completed.
   */
  private async removeDevice(
    domid: number,
    d: { devid: number; backend: number; vdev: string },
    timeoutMs: number,
    force: boolean,
  ): Promise<{ handshake: boolean; frontendState: number | undefined }> {
    const xs = this.options.xs;
    const be = `/local/domain/${d.backend}/backend/vbd/${domid}/${d.devid}`;
    const fe = `/local/domain/${domid}/device/vbd/${d.devid}`;
    await xs.transaction(async (tx) => {
      if ((await tx.tryRead(`${be}/online`)) === undefined) return;
      await tx.write(`${be}/online`, "0");
      const s = await tx.tryRead(`${be}/state`);
      if (s !== String(XenbusState.Closed)) await tx.write(`${be}/state`, String(XenbusState.Closing));
    });
    let handshake = true;
    try {
      await this.waitFor(
        `backend of ${d.vdev} closing`,
        timeoutMs,
        async () => {
          const s = await this.readState(be);
          return s === undefined || s === XenbusState.Closed;
        },
        [be],
      );
    } catch (e) {
      if (!force) throw e;
      handshake = false;
      this.options.log.warn(
        { domid, devid: d.devid, vdev: d.vdev },
        "closing handshake timed out: forced removal",
      );
    }
    const frontendState = await this.readState(fe);
    await this.removeVbdDirs(domid, d);
    return { handshake, frontendState };
  }

  // ---- control ---------------------------------------------------------------------------------

  async pause(domid: number): Promise<void> {
    const rc = await this.options.hv.domainPause(domid);
    if (rc === ESRCH) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    if (rc !== 0) throw new ToolstackError("EINVAL", `pause: rc ${rc}`);
  }

  async unpause(domid: number): Promise<void> {
    const rc = await this.options.hv.domainUnpause(domid);
    if (rc === ESRCH) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    if (rc !== 0) throw new ToolstackError("EINVAL", `unpause: rc ${rc}`);
  }

  /**
   * xl shutdown / reboot: writes control/shutdown and waits for the guest to shut down
   * (SCHEDOP_shutdown). `acted` false when it did not within the timeout (reported, not forced).
   * Refused (EOPNOTSUPP) when the guest never advertised control/feature-<kind>, unless `force`
   * (write the request anyway).
   */
  /**
   * `xl trigger D soft-reset` (xensim's trigger; xl's own are nmi, reset, power…): the guest is asked
   * to kexec — control/shutdown = "soft_reset", which the guest kernel answers with
   * SCHEDOP_shutdown(SHUTDOWN_soft_reset) — and the on_soft_reset action follows as for any soft
   * reset. Resolves once the domain has shut down for it (or `acted: false` on timeout).
   */
  async trigger(
    domid: number,
    kind: "soft-reset",
    o: { timeoutMs?: number } = {},
  ): Promise<{ acted: boolean; state: string }> {
    if (domid === 0) throw new ToolstackError("EINVAL", "not for domain 0");
    if (kind !== "soft-reset")
      throw new ToolstackError("EINVAL", `trigger ${String(kind)} is not supported (soft-reset)`);
    const info = await this.options.hv.domainInfo(domid);
    if (info.rc !== 0 || !info.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    if (!info.info.hvm) throw new ToolstackError("EINVAL", "soft reset needs an HVM domain");
    await this.options.xs.write(`/local/domain/${domid}/control/shutdown`, "soft_reset");
    this.options.log.info({ flow: "trigger", step: "request", domid, kind }, "trigger: soft reset requested");
    let state = info.info.state as string;
    try {
      await this.waitFor(
        `domain ${domid} kexec`,
        o.timeoutMs ?? this.options.shutdownTimeoutMs,
        async () => {
          const i = await this.options.hv.domainInfo(domid);
          state = i.info?.state ?? "gone";
          return state === "shutdown" || (i.info?.shutdownReason ?? -1) === 5;
        },
        [RELEASE_DOMAIN],
      );
    } catch (e) {
      if (!(e instanceof ToolstackError && e.code === "ETIMEDOUT")) throw e;
      return { acted: false, state };
    }
    return { acted: true, state };
  }

  /** `xl console -n serial D`: what the guest's serial port sent from `offset` on. */
  async consoleRead(
    domid: number,
    serial: number,
    offset: number,
    waitMs: number,
  ): Promise<{ data: Uint8Array; next: number }> {
    const dm = this.options.deviceModel;
    if (!dm) throw new ToolstackError("EOPNOTSUPP", "no device model runtime: no emulated serial ports");
    const r = await dm.consoleRead(domid, serial, offset, waitMs);
    if (r.rc !== 0)
      throw new ToolstackError("ENOENT", `domain ${domid} has no serial port ${serial} (rc ${r.rc})`);
    return { data: r.data, next: r.next };
  }

  /** Keystrokes into the guest's serial port. */
  async consoleWrite(domid: number, serial: number, data: Uint8Array): Promise<void> {
    const dm = this.options.deviceModel;
    if (!dm) throw new ToolstackError("EOPNOTSUPP", "no device model runtime: no emulated serial ports");
    const r = await dm.consoleWrite(domid, serial, data);
    if (r.rc !== 0)
      throw new ToolstackError("ENOENT", `domain ${domid} has no serial port ${serial} (rc ${r.rc})`);
  }

  async requestShutdown(
    domid: number,
    kind: "poweroff" | "reboot",
    o: { timeoutMs?: number; force?: boolean } = {},
  ): Promise<{ acted: boolean; state: string }> {
    if (domid === 0) throw new ToolstackError("EINVAL", "not for domain 0");
    const info = await this.options.hv.domainInfo(domid);
    if (info.rc !== 0 || !info.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    // libxl: without the PV control interface (the guest never advertised control/feature-*) there is
    // nobody to read control/shutdown (ERROR_NOPARAVIRT; Xen would fall back to ACPI, not modelled)
    const feature = await this.options.xs.tryRead(`/local/domain/${domid}/control/feature-${kind}`);
    if (feature !== "1" && o.force !== true)
      throw new ToolstackError(
        "EOPNOTSUPP",
        `domain ${domid} has no PV control interface (control/feature-${kind} not set by the guest); destroy it instead`,
      );
    const t0 = this.options.clock.now();
    await this.options.xs.write(`/local/domain/${domid}/control/shutdown`, kind);
    this.options.log.info({ flow: "shutdown", step: "request", domid, kind }, `shutdown: requested ${kind}`);
    let state = info.info.state as string;
    try {
      await this.waitFor(
        `domain ${domid} acting on ${kind}`,
        o.timeoutMs ?? this.options.shutdownTimeoutMs,
        async () => {
          const i = await this.options.hv.domainInfo(domid);
          state = i.info?.state ?? "gone";
          return state !== "running" && state !== "paused";
        },
        [RELEASE_DOMAIN],
      );
    } catch (e) {
      if (!(e instanceof ToolstackError && e.code === "ETIMEDOUT")) throw e;
      this.options.log.warn(
        { flow: "shutdown", step: "wait", domid, outcome: "timeout", ms: this.options.clock.now() - t0 },
        `shutdown: domain ${domid} did not act on ${kind}`,
      );
      return { acted: false, state };
    }
    this.options.log.info(
      { flow: "shutdown", step: "wait", domid, outcome: "ok", ms: this.options.clock.now() - t0 },
      `shutdown: domain ${domid} ${state}`,
    );
    return { acted: true, state };
  }

  // ---- on_* actions ----------------------------------------------------------------------------

  /**
   * A domain changed (VIRQ_DOM_EXC / @releaseDomain / the bus event): if one of ours shut down, apply
   * its on_* action; if it vanished, clean up after it. Idempotent; concurrent calls for one domain
   * do nothing while it is being handled.
   */
  async handleDomainEvent(domid: number): Promise<ActionRecord | undefined> {
    const rec = this.managed.get(domid);
    if (!rec || rec.busy || rec.preserved) return undefined;
    const i = await this.options.hv.domainInfo(domid);
    if (i.rc === ESRCH && rec.config.onCrash === "restart") {
      // Gone without a shutdown, never seen dying: lost with the hypervisor (its host restarted and
      // took guest memory along). A crash for the guest: cleaned up and created again (on_crash).
      rec.busy = true;
      this.managed.delete(domid);
      this.lost.push({ domid, uuid: rec.uuid, config: rec.config });
      await this.recoverLost();
      return undefined;
    }
    if (i.rc !== 0 || !i.info || i.info.state === "dying" || i.info.state === "dead") {
      rec.busy = true;
      const r: ActionRecord = {
        domid,
        reason: "vanished",
        action: "destroy",
        outcome: "ok",
        atMs: this.options.clock.now(),
      };
      await this.destroy(domid, { flow: "cleanup" }).catch((e: unknown) => {
        r.outcome = "failed";
        r.error = String(e);
      });
      return this.noteAction(r);
    }
    if (i.info.state !== "shutdown") return undefined;
    const reason = i.info.shutdownReason;
    const c = rec.config;
    const action: XlAction | "none" =
      reason === 0
        ? c.onPoweroff
        : reason === 1
          ? c.onReboot
          : reason === 3
            ? c.onCrash
            : reason === 4
              ? c.onWatchdog
              : reason === 5
                ? c.onSoftReset
                : "none";
    const r: ActionRecord = {
      domid,
      reason: reasonName(reason),
      action,
      outcome: "ok",
      atMs: this.options.clock.now(),
    };
    this.options.log.info(
      { flow: "on-shutdown", step: "action", domid, reason: r.reason, action },
      `domain ${domid} shut down`,
    );
    rec.busy = true;
    try {
      switch (action) {
        case "none": // suspend: left to whoever asked for it
          rec.busy = false;
          return this.noteAction(r);
        case "preserve":
          rec.preserved = true;
          rec.busy = false;
          break;
        case "destroy":
          await this.destroy(domid);
          break;
        case "restart": {
          await this.destroy(domid, { flow: "restart" });
          const n = await this.create(rec.config, { uuid: rec.uuid });
          r.newDomid = n.domid;
          break;
        }
        case "soft-reset":
          await this.softReset(rec);
          rec.busy = false;
          break;
      }
    } catch (e) {
      r.outcome = "failed";
      r.error = e instanceof Error ? e.message : String(e);
      if (action === "soft-reset") await this.destroy(domid).catch(() => {});
      rec.busy = false;
    }
    return this.noteAction(r);
  }

  private noteAction(r: ActionRecord): ActionRecord {
    this.actions.push(r);
    if (this.actions.length > 256) this.actions.shift();
    return r;
  }

  /**
   * libxl_domain_soft_reset (fact sheet §9): release from xenstored, force-remove the devices and the
   * xenstore nodes, pause, XEN_DOMCTL_soft_reset, then build again on the same domid and memory: a
   * new store event channel, the skeleton, introduce with the old store gfn, devices anew, unpause.
   */
  async softReset(rec: ManagedDomain, o: FlowOptions = {}): Promise<FlowStepRecord[]> {
    const domid = rec.domid;
    const xs = this.options.xs;
    const st = { domid, port: -1 };
    const dmd = this.dmDeps();
    const roles = emulatorsOf(rec.config, this.options.deviceModel);
    const physmap: Awaited<ReturnType<typeof readPhysmap>> = [];
    const steps: FlowStep[] = [];
    if (dmd && roles.length > 0)
      steps.push(
        // libxl: the physmap records kept aside, the device model suspended into qemu-save.<domid>.
        { name: "dm-physmap-save", run: async () => void physmap.push(...(await readPhysmap(xs, domid))) },
        { name: "dm-save-state", run: () => dmSaveState(dmd, domid, roles) },
      );
    steps.push({
      name: "release",
      run: async () => {
        await xs.releaseDomain(domid);
      },
    });
    if (dmd && roles.length > 0) steps.push({ name: "dm-stop", run: () => dmDestroy(dmd, domid, roles) });
    steps.push(
      {
        name: "devices-remove",
        run: async () => {
          for (const dev of await this.vbdsOf(domid)) await this.removeDevice(domid, dev, 0, true);
        },
      },
      { name: "xenstore-remove", run: () => this.removeSkeleton(domid, rec.uuid) },
      {
        name: "pause",
        run: async () => {
          const rc = await this.options.hv.domainPause(domid);
          if (rc !== 0) throw new ToolstackError("EIO", `pause: rc ${rc}`);
        },
      },
      {
        name: "soft-reset",
        run: async () => {
          const rc = await this.options.hv.domainSoftReset(domid);
          if (rc !== 0) throw new ToolstackError("EIO", `soft reset: rc ${rc}`);
        },
      },
    );
    if (dmd && roles.length > 0)
      steps.push({ name: "dm-physmap-restore", run: () => writePhysmap(xs, domid, physmap) });
    steps.push(
      ...this.buildSteps(rec.config, rec.uuid, st, { restoreDeviceModel: roles.length > 0 }).filter(
        (s) => s.name !== "guest-boot",
      ),
    );
    // after a soft reset the domain was paused twice (shutdown + ours): unpause both
    return runFlow("soft-reset", steps, this.deps(), o, domid);
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** xl list. */
  async list(): Promise<DomainSummary[]> {
    const l = await this.options.hv.domainList();
    if (l.rc !== 0) throw new ToolstackError("EIO", `domain list: rc ${l.rc}`);
    const out: DomainSummary[] = [];
    for (const d of l.domains) if (d.state !== "dead") out.push(await this.summary(d));
    return out;
  }

  async info(domid: number): Promise<DomainSummary> {
    const i = await this.options.hv.domainInfo(domid);
    if (i.rc !== 0 || !i.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    return this.summary(i.info);
  }

  private async summary(d: ToolstackDomainInfo): Promise<DomainSummary> {
    const rec = this.managed.get(d.domid);
    const name =
      rec?.config.name ??
      (d.domid === 0
        ? "Domain-0"
        : await this.options.xs.tryRead(`/local/domain/${d.domid}/name`).catch(() => undefined)) ??
      `(domid ${d.domid})`;
    return {
      name,
      id: d.domid,
      memMib: d.memoryMib,
      vcpus: d.vcpus,
      state: stateLetters(d),
      time: rec ? Math.round((this.options.clock.now() - rec.createdAtMs) / 100) / 10 : 0,
      uuid: rec?.uuid,
      type: d.hvm ? "hvm" : "pv",
      shutdownReason: d.state === "shutdown" ? reasonName(d.shutdownReason) : undefined,
    };
  }

  /** xl block-list, with what the guest runtime reports (NBD export) when there is one. */
  async listDisks(domid: number): Promise<DiskSummary[]> {
    const xs = this.options.xs;
    const i = await this.options.hv.domainInfo(domid);
    if ((i.rc !== 0 || !i.info) && (await xs.tryRead(`/local/domain/${domid}/domid`)) === undefined)
      throw new ToolstackError("ENOENT", `no domain ${domid}`);
    let guestDisks: GuestDiskStatus[] = [];
    if (this.options.guest)
      guestDisks =
        (await this.options.guest.list().catch(() => [])).find((g) => g.domid === domid)?.disks ??
        ([] as GuestDiskStatus[]);
    const out: DiskSummary[] = [];
    for (const dev of await this.vbdsOf(domid)) {
      const fe = `/local/domain/${domid}/device/vbd/${dev.devid}`;
      const be = `/local/domain/${dev.backend}/backend/vbd/${domid}/${dev.devid}`;
      const fs = await this.readState(fe);
      const bs = await this.readState(be);
      const order = await xs.tryRead(`${fe}/ring-page-order`);
      const nq = await xs.tryRead(`${fe}/multi-queue-num-queues`);
      const features: Record<string, string> = {};
      for (const k of await xs.ls(be).catch(() => [] as string[]))
        if (
          k.startsWith("feature-") ||
          k === "max-ring-page-order" ||
          k === "multi-queue-max-queues" ||
          k === "sector-size"
        )
          features[k] = (await xs.tryRead(`${be}/${k}`)) ?? "";
      const sectors = await xs.tryRead(`${be}/sectors`);
      const g = guestDisks.find((x) => x.devid === dev.devid);
      out.push({
        vdev: dev.vdev,
        devid: dev.devid,
        backendDomid: dev.backend,
        backendState:
          fs === undefined && bs === undefined ? "Unknown" : (xenbusStateName(bs ?? 0) ?? String(bs)),
        frontendState: xenbusStateName(fs ?? 0) ?? String(fs),
        params: (await xs.tryRead(`${be}/params`)) ?? "",
        mode: (await xs.tryRead(`${be}/mode`)) ?? "",
        ringPages: order !== undefined ? 1 << Number(order) : (await xs.tryRead(`${fe}/ring-ref`)) ? 1 : 0,
        queues: nq !== undefined ? Number(nq) : 1,
        features,
        sectors: sectors === undefined ? undefined : Number(sectors),
        nbdUri: g?.nbdUri !== undefined && g.nbdUri !== "" ? g.nbdUri : undefined,
      });
    }
    return out;
  }

  // ---- block attach / detach -------------------------------------------------------------------

  /**
   * xl block-attach: the vbd directories, the backend reaching InitWait, and (when a guest runtime
   * runs the domain) the frontend reaching Connected. Rolled back on failure.
   */
  async attachDisk(domid: number, disk: XlDisk, o: FlowOptions = {}): Promise<FlowStepRecord[]> {
    const i = await this.options.hv.domainInfo(domid);
    if (i.rc !== 0 || !i.info) throw new ToolstackError("ENOENT", `no domain ${domid}`);
    if (domid === 0) throw new ToolstackError("EINVAL", "no disks for domain 0");
    const rec = this.managed.get(domid);
    const steps: FlowStep[] = [
      {
        name: `vbd-add:${disk.vdev}`,
        run: async (ctx) => {
          await this.addVbdDirs(domid, disk);
          ctx.onUndo(() => this.removeDevice(domid, disk, this.options.destroyDeviceTimeoutMs, true));
        },
      },
      { name: "wait-backend", run: () => this.waitBackend(domid, disk, this.options.backendTimeoutMs) },
    ];
    if (rec?.booted === true)
      steps.push({
        name: "wait-frontend",
        run: () =>
          this.waitFor(
            `frontend of ${disk.vdev} Connected`,
            this.options.frontendTimeoutMs,
            async () =>
              (await this.readState(`/local/domain/${domid}/device/vbd/${disk.devid}`)) ===
              XenbusState.Connected,
            [`/local/domain/${domid}/device/vbd/${disk.devid}`],
          ),
      });
    const records = await runFlow("block-attach", steps, this.deps(), o, domid);
    if (rec) {
      rec.config = { ...rec.config, disks: [...rec.config.disks.filter((d) => d.vdev !== disk.vdev), disk] };
      await this.saveConfig(this.options.xs, domid, rec.config).catch(() => {});
    }
    return records;
  }

  /**
   * xl block-detach: backend online=0 / Closing, wait for the closing handshake (backend Closed),
   * remove the directories; on timeout fail unless `force` (then remove anyway).
   */
  async detachDisk(
    domid: number,
    vdev: string,
    o: { force?: boolean; timeoutMs?: number } = {},
  ): Promise<{ handshake: boolean; frontendState: string; records: FlowStepRecord[] }> {
    const dev = (await this.vbdsOf(domid)).find((d) => d.vdev === vdev || String(d.devid) === vdev);
    if (!dev) throw new ToolstackError("ENOENT", `domain ${domid} has no disk ${vdev}`);
    let result = { handshake: false, frontendState: undefined as number | undefined };
    const records = await runFlow(
      "block-detach",
      [
        {
          name: `vbd-remove:${dev.vdev}`,
          run: async () => {
            result = await this.removeDevice(
              domid,
              dev,
              o.timeoutMs ?? this.options.detachTimeoutMs,
              o.force ?? true,
            );
          },
        },
      ],
      this.deps(),
      {},
      domid,
    );
    const rec = this.managed.get(domid);
    if (rec) {
      rec.config = { ...rec.config, disks: rec.config.disks.filter((d) => d.devid !== dev.devid) };
      await this.saveConfig(this.options.xs, domid, rec.config).catch(() => {});
    }
    return {
      handshake: result.handshake,
      frontendState: xenbusStateName(result.frontendState ?? 0) ?? String(result.frontendState),
      records,
    };
  }
}
