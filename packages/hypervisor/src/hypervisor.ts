// The hypervisor's domain table over the host's page store: Xen's domctl / sched / HVM / memory
// operations with Xen's checks and errnos, and the grant-table and event-channel cores (whose state
// lives in the shared buffer, so in-process clients act on it directly). No I/O: the wake-up
// (`notify`) and the domain-exception publication (`onExc`) are injected.

import {
  DOMID_FIRST_RESERVED,
  DOMID_SELF,
  HVM_NR_PARAMS,
  SHUTDOWN_MAX,
  SHUTDOWN_soft_reset,
  SHUTDOWN_suspend,
  VIRQ_DOM_EXC,
  XEN_LEGACY_MAX_VCPUS,
  XenErrno,
} from "@xensim/abi";
import { EventChannels, type EvtchnStatus, type NotifyFn, wakeWordIndex } from "@xensim/evtchn";
import {
  endForeignAccess,
  type GnttabCopyOp,
  GrantTables,
  grantAccess,
  type MapGrantRefOp,
  type MapGrantRefResult,
  type QueryTableResult,
  type SetupTableResult,
  type UnmapGrantRefOp,
} from "@xensim/gnttab";
import { pauseWord } from "@xensim/ioreq";
import { PAGE_SIZE, type PageStore } from "@xensim/memory";
import type { DomainExcEvent } from "./domain-exc.js";

const EPERM = -XenErrno.EPERM;
const ESRCH = -XenErrno.ESRCH;
const EINVAL = -XenErrno.EINVAL;
const EEXIST = -XenErrno.EEXIST;
const ENOMEM = -XenErrno.ENOMEM;
const EOVERFLOW = -XenErrno.EOVERFLOW;

/** Xen's limit on the system controller's pause count. */
const MAX_PAUSE_COUNT = 255;
/** Frames a domain may own beyond its memory: shared_info, grant frames, slack. */
const EXTRA_PAGES = 1 + 128 + 16;

export type DomainStateName = "running" | "paused" | "shutdown" | "dying" | "dead";

export interface DomainRecord {
  domid: number;
  vcpus: number;
  hvm: boolean;
  privileged: boolean;
  memoryMib: number;
  maxPages: number;
  sharedInfoFrame: number;
  /** Controller pause count (domains start paused, as XEN_DOMCTL_createdomain leaves them). */
  pauseCount: number;
  /** SHUTDOWN_* once shut down, else -1. */
  shutdownReason: number;
  dying: boolean;
  hvmParams: Map<number, bigint>;
  /** Host process the guest runs in ("" = the hypervisor's own). */
  homeHost: string;
}

export interface DomainInfoView {
  domid: number;
  state: DomainStateName;
  shutdownReason: number;
  totPages: number;
  maxPages: number;
  vcpus: number;
  hvm: boolean;
  privileged: boolean;
  dying: boolean;
  pauseCount: number;
  sharedInfoFrame: number;
  memoryMib: number;
  homeHost: string;
}

export interface CreateDomainRequest {
  domid?: number;
  memoryMib: number;
  vcpus?: number;
  hvm?: boolean;
  hvmParams?: ReadonlyArray<{ index: number; value: bigint }>;
  maxGrantFrames?: number;
  maxPorts?: number;
  homeHost?: string;
  privileged?: boolean;
}

export interface HypervisorOptions {
  /** Wake-up hook for the event-channel core (Atomics.notify, bus for remote receivers). */
  notify?: NotifyFn;
  /** A domain shut down, became dying, or finally died. */
  onExc?: (ev: DomainExcEvent) => void;
  /** Domain that receives global VIRQs such as VIRQ_DOM_EXC (Xen: the hardware domain). */
  virqHandler?: number;
  /**
   * Called first when a domain is destroyed, while its event channels and control block still exist
   * (Xen's domain_kill → hvm_domain_relinquish_resources: the ioreq servers go there).
   */
  onDestroy?: (domid: number) => void;
  /**
   * This host process's id: a domain created with another `homeHost` has its vCPUs' events and its
   * frames' copies at that host (the link area's home table, docs/data-plane.md).
   */
  hostId?: string;
}

export class Hypervisor {
  readonly gt: GrantTables;
  readonly ev: EventChannels;
  private readonly domains = new Map<number, DomainRecord>();
  /** Domains of a previous run of this hypervisor, gone with its memory, not yet cleaned away. */
  private readonly lost = new Set<number>();
  private readonly virqHandler: number;

  constructor(
    readonly store: PageStore,
    private readonly opts: HypervisorOptions = {},
  ) {
    store.markHypervisor();
    this.gt = new GrantTables(store);
    this.ev = new EventChannels(store, opts.notify ? { notify: opts.notify } : {});
    this.virqHandler = opts.virqHandler ?? 0;
  }

  // ---- helpers --------------------------------------------------------------------------------

  private resolve(caller: number, domid: number): number {
    return domid === DOMID_SELF ? caller : domid;
  }

  /** A privileged, live caller (Xen: is_control_domain). */
  isPrivileged(caller: number): boolean {
    const r = this.domains.get(caller);
    return r !== undefined && !r.dying && r.privileged;
  }

  private live(domid: number): DomainRecord | undefined {
    const r = this.domains.get(domid);
    return r && !r.dying ? r : undefined;
  }

  private stateOf(r: DomainRecord): DomainStateName {
    if (r.dying) return "dying";
    if (r.shutdownReason >= 0) return "shutdown";
    return r.pauseCount > 0 ? "paused" : "running";
  }

  private view(r: DomainRecord): DomainInfoView {
    return {
      domid: r.domid,
      state: this.stateOf(r),
      shutdownReason: r.shutdownReason,
      totPages: this.store.totPages(r.domid),
      maxPages: r.maxPages,
      vcpus: r.vcpus,
      hvm: r.hvm,
      privileged: r.privileged,
      dying: r.dying,
      pauseCount: r.pauseCount,
      sharedInfoFrame: r.sharedInfoFrame,
      memoryMib: r.memoryMib,
      homeHost: r.homeHost,
    };
  }

  private exc(domid: number, state: DomainExcEvent["state"], reason: number): void {
    this.ev.sendVirq(this.virqHandler, VIRQ_DOM_EXC);
    this.opts.onExc?.({ domid, state, reason });
  }

  /** Domain record (for the service: wake-up routing, metrics). */
  record(domid: number): Readonly<DomainRecord> | undefined {
    return this.domains.get(domid);
  }

  domids(): number[] {
    return [...this.domains.keys()].sort((a, b) => a - b);
  }

  /**
   * Domains a previous run of this hypervisor had (its page store, and so their memory, is gone):
   * their domids are not handed out again until each is destroyed (the toolstack's cleanup of its
   * xenstore nodes and devices), so no new domain inherits another's devices. Destroying one
   * reports it dead.
   */
  markLost(domids: Iterable<number>): void {
    for (const d of domids)
      if (Number.isInteger(d) && d > 0 && d < DOMID_FIRST_RESERVED && !this.domains.has(d)) this.lost.add(d);
  }

  /** Domains lost in a restart and not yet destroyed. */
  lostDomids(): number[] {
    return [...this.lost].sort((a, b) => a - b);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** The hardware/control domain at boot: privileged, running. */
  bootDom0(opts: { memoryMib: number; vcpus: number }): number {
    if (this.domains.has(0)) return 0;
    const r = this.build(0, { ...opts, privileged: true });
    if (r < 0) return r;
    this.domains.get(0)!.pauseCount = 0;
    return 0;
  }

  /** XEN_DOMCTL_createdomain (+ max_mem, populate_physmap of the whole memory at gfn 0..). */
  createDomain(caller: number, req: CreateDomainRequest): { rc: number; domid: number } {
    if (!this.isPrivileged(caller)) return { rc: EPERM, domid: 0 };
    const vcpus = req.vcpus ?? 1;
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > XEN_LEGACY_MAX_VCPUS)
      return { rc: EINVAL, domid: 0 };
    if (!Number.isInteger(req.memoryMib) || req.memoryMib < 0) return { rc: EINVAL, domid: 0 };
    if (req.maxGrantFrames !== undefined && (req.maxGrantFrames < 0 || req.maxGrantFrames > 128))
      return { rc: EINVAL, domid: 0 };
    if (req.maxPorts !== undefined && req.maxPorts !== 0 && (req.maxPorts < 2 || req.maxPorts > 4096))
      return { rc: EINVAL, domid: 0 };
    if (req.hvmParams?.length && !req.hvm) return { rc: EINVAL, domid: 0 };
    for (const p of req.hvmParams ?? [])
      if (!Number.isInteger(p.index) || p.index < 0 || p.index >= HVM_NR_PARAMS)
        return { rc: EINVAL, domid: 0 };
    let domid = req.domid ?? 0;
    if (domid > 0 && domid < DOMID_FIRST_RESERVED) {
      if (this.domains.has(domid) || this.lost.has(domid) || this.store.domainState(domid) !== "none")
        return { rc: EEXIST, domid: 0 };
    } else {
      domid = 0;
      for (let d = 1; d < DOMID_FIRST_RESERVED; d++) {
        if (!this.domains.has(d) && !this.lost.has(d) && this.store.domainState(d) === "none") {
          domid = d;
          break;
        }
      }
      if (!domid) return { rc: -XenErrno.ENOSPC, domid: 0 };
    }
    const rc = this.build(domid, { ...req, vcpus, privileged: req.privileged ?? false });
    return rc < 0 ? { rc, domid: 0 } : { rc: 0, domid };
  }

  private build(domid: number, req: CreateDomainRequest & { vcpus: number; privileged: boolean }): number {
    const pages = req.memoryMib * (0x100000 / PAGE_SIZE);
    const maxPages = pages + EXTRA_PAGES;
    try {
      this.store.createDomain(domid, { maxPages, hvm: req.hvm ?? false, privileged: req.privileged });
    } catch {
      return EEXIST;
    }
    // Homed on another host process: set before any frame of it exists, so every frame allocated
    // for it (shared_info, grant frames, memory) is replicated there from the start.
    const home = req.homeHost ?? "";
    if (home !== "" && home !== (this.opts.hostId ?? "")) {
      const link = this.store.ensureLink();
      link.setHome(domid, link.peerIndex(home));
    }
    const undo = (): number => {
      this.store.link?.setHome(domid, 0);
      this.ev.destroyDomain(domid);
      this.gt.destroyDomain(domid);
      this.store.destroyDomain(domid);
      return ENOMEM;
    };
    const sharedInfo = this.store.allocFrame(domid);
    if (!sharedInfo) return undo();
    try {
      this.ev.initDomain(domid, {
        sharedInfoFrame: sharedInfo,
        maxVcpus: req.vcpus,
        ...(req.maxPorts ? { maxPorts: req.maxPorts } : {}),
      });
      this.gt.initDomain(domid, req.maxGrantFrames ? { maxFrames: req.maxGrantFrames } : {});
    } catch {
      return undo();
    }
    if (pages > 0 && !this.store.populatePhysmap(domid, 0, pages)) return undo();
    this.domains.set(domid, {
      domid,
      vcpus: req.vcpus,
      hvm: req.hvm ?? false,
      privileged: req.privileged,
      memoryMib: req.memoryMib,
      maxPages,
      sharedInfoFrame: sharedInfo,
      pauseCount: 1,
      shutdownReason: -1,
      dying: false,
      hvmParams: new Map((req.hvmParams ?? []).map((p) => [p.index, p.value])),
      homeHost: req.homeHost ?? "",
    });
    return 0;
  }

  /** XEN_DOMCTL_pausedomain. */
  pause(caller: number, domid: number): number {
    if (!this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(domid);
    if (!r) return ESRCH;
    if (domid === caller || r.dying) return EINVAL;
    if (r.pauseCount >= MAX_PAUSE_COUNT) return EOVERFLOW;
    r.pauseCount++;
    this.publishPause(r);
    return 0;
  }

  /** The pause count into the control block, where the domain's vCPU threads look before each exit. */
  private publishPause(r: { domid: number; pauseCount: number }): void {
    const w = pauseWord(this.store, r.domid);
    if (w < 0) return;
    Atomics.store(this.store.i32, w, r.pauseCount);
    Atomics.notify(this.store.i32, w);
  }

  /** XEN_DOMCTL_unpausedomain. */
  unpause(caller: number, domid: number): number {
    if (!this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(domid);
    if (!r) return ESRCH;
    if (r.dying || r.pauseCount === 0) return EINVAL;
    r.pauseCount--;
    this.publishPause(r);
    return 0;
  }

  /** SCHEDOP_shutdown (self) / SCHEDOP_remote_shutdown (privileged): raises VIRQ_DOM_EXC. */
  shutdown(caller: number, domid: number, reason: number): number {
    const d = this.resolve(caller, domid);
    if (d !== caller && !this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(d);
    if (!r) return ESRCH;
    if (!Number.isInteger(reason) || reason < 0 || reason > SHUTDOWN_MAX) return EINVAL;
    if (r.dying) return EINVAL;
    if (r.shutdownReason >= 0) return 0; // already shutting down: the first reason stands
    r.shutdownReason = reason;
    this.exc(d, "shutdown", reason);
    return 0;
  }

  /**
   * XEN_DOMCTL_resumedomain: clear a SHUTDOWN_suspend shutdown (the guest carries on where it
   * suspended, e.g. after a checkpoint or a cancelled save). Any other state: -EINVAL.
   */
  resume(caller: number, domid: number): number {
    if (!this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(domid);
    if (!r) return ESRCH;
    if (domid === caller || r.dying || r.shutdownReason !== SHUTDOWN_suspend) return EINVAL;
    r.shutdownReason = -1;
    return 0;
  }

  /**
   * XEN_DOMCTL_soft_reset (domain_soft_reset): the domain must have shut down with
   * SHUTDOWN_soft_reset and be paused (Xen: every vCPU paused for shutdown; libxl pauses it first),
   * and be HVM (Xen's arch_domain_soft_reset refuses PV — here before anything changes). Closes
   * every event channel of the domain (peers' ports go back to unbound); grants, grant mappings,
   * memory, physmap and HVM params stay; shared_info becomes a fresh zeroed frame (the old one is
   * freed once unreferenced; waiters on its wake words are kicked); the shutdown is cleared and the
   * domain stays paused until the toolstack unpauses it. Publishes an exc event with state
   * "soft_reset" (no VIRQ_DOM_EXC: Xen's domain_resume raises none).
   */
  softReset(caller: number, domid: number): number {
    if (!this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(domid);
    if (!r) return ESRCH;
    if (domid === caller || r.dying || !r.hvm) return EINVAL;
    if (r.shutdownReason !== SHUTDOWN_soft_reset || r.pauseCount === 0) return EINVAL;
    const fresh = this.store.allocFrame(domid);
    if (!fresh) return ENOMEM;
    const rc = this.ev.evtchnReset(caller, domid);
    if (rc < 0) {
      this.store.freeFrame(fresh);
      return rc;
    }
    const old = this.ev.replaceSharedInfo(domid, fresh);
    r.sharedInfoFrame = fresh;
    if (old) {
      for (let v = 0; v < r.vcpus; v++) Atomics.notify(this.store.i32, wakeWordIndex(old, v));
      this.store.freeFrame(old);
    }
    r.shutdownReason = -1;
    this.opts.onExc?.({ domid, state: "soft_reset", reason: SHUTDOWN_soft_reset });
    return 0;
  }

  /**
   * XEN_DOMCTL_destroydomain: close its ports, release its mappings and grant table, free its
   * memory. A domain whose frames are still mapped elsewhere lingers as dying until unmapped.
   */
  destroy(caller: number, domid: number): number {
    if (!this.isPrivileged(caller)) return EPERM;
    const r = this.domains.get(domid);
    if (!r && this.lost.delete(domid)) {
      this.exc(domid, "dead", -1); // cleaned away: its domid may be used again
      return 0;
    }
    if (!r) return ESRCH;
    if (domid === caller || domid === 0) return EINVAL;
    if (r.dying) return 0;
    r.dying = true;
    this.opts.onDestroy?.(domid);
    this.ev.destroyDomain(domid);
    this.gt.destroyDomain(domid);
    this.store.destroyDomain(domid);
    this.exc(domid, "dying", r.shutdownReason);
    this.reap();
    return 0;
  }

  /** Retire dying domains whose last frame went; returns the domids that died. */
  reap(): number[] {
    const died: number[] = [];
    for (const r of this.domains.values()) {
      if (r.dying && this.store.domainState(r.domid) === "none") {
        this.domains.delete(r.domid);
        this.store.link?.setHome(r.domid, 0);
        died.push(r.domid);
        this.exc(r.domid, "dead", r.shutdownReason);
      }
    }
    return died;
  }

  /** XEN_SYSCTL_getdomaininfolist. */
  list(caller: number): { rc: number; domains: DomainInfoView[] } {
    if (!this.isPrivileged(caller)) return { rc: EPERM, domains: [] };
    this.reap();
    return { rc: 0, domains: this.domids().map((d) => this.view(this.domains.get(d)!)) };
  }

  /** XEN_DOMCTL_getdomaininfo (privileged, or a domain asking about itself). */
  info(caller: number, domid: number): { rc: number; info?: DomainInfoView } {
    const d = this.resolve(caller, domid);
    if (d !== caller && !this.isPrivileged(caller)) return { rc: EPERM };
    this.reap();
    const r = this.domains.get(d);
    return r ? { rc: 0, info: this.view(r) } : { rc: ESRCH };
  }

  // ---- HVM params -----------------------------------------------------------------------------

  private hvmTarget(caller: number, domid: number, index: number): DomainRecord | number {
    const d = this.resolve(caller, domid);
    if (d !== caller && !this.isPrivileged(caller)) return EPERM;
    const r = this.live(d);
    if (!r) return ESRCH;
    if (!r.hvm) return EINVAL;
    if (!Number.isInteger(index) || index < 0 || index >= HVM_NR_PARAMS) return EINVAL;
    return r;
  }

  hvmParamGet(caller: number, domid: number, index: number): { rc: number; value: bigint } {
    const r = this.hvmTarget(caller, domid, index);
    if (typeof r === "number") return { rc: r, value: 0n };
    return { rc: 0, value: r.hvmParams.get(index) ?? 0n };
  }

  hvmParamSet(caller: number, domid: number, index: number, value: bigint): number {
    const r = this.hvmTarget(caller, domid, index);
    if (typeof r === "number") return r;
    if (value < 0n || value >= 1n << 64n) return EINVAL;
    r.hvmParams.set(index, value);
    return 0;
  }

  // ---- memory ---------------------------------------------------------------------------------

  /** XENMEM_populate_physmap (self or privileged). */
  populatePhysmap(
    caller: number,
    domid: number,
    gfn: number,
    count: number,
    contiguous: boolean,
  ): { rc: number; frames: number[] } {
    const d = this.resolve(caller, domid);
    if (d !== caller && !this.isPrivileged(caller)) return { rc: EPERM, frames: [] };
    if (!this.live(d)) return { rc: ESRCH, frames: [] };
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(gfn) || gfn < 0)
      return { rc: EINVAL, frames: [] };
    for (let i = 0; i < count; i++) if (this.store.gfnToFrame(d, gfn + i)) return { rc: EEXIST, frames: [] };
    const frames = this.store.populatePhysmap(d, gfn, count, contiguous);
    return frames ? { rc: 0, frames } : { rc: ENOMEM, frames: [] };
  }

  /** gfn → machine frame for a mapper (privileged or self); -EINVAL if one is not populated. */
  gfnToFrame(caller: number, domid: number, gfns: readonly number[]): { rc: number; frames: number[] } {
    const d = this.resolve(caller, domid);
    if (d !== caller && !this.isPrivileged(caller)) return { rc: EPERM, frames: [] };
    if (!this.live(d)) return { rc: ESRCH, frames: [] };
    const frames: number[] = [];
    for (const g of gfns) {
      const f = this.store.gfnToFrame(d, g);
      if (!f) return { rc: EINVAL, frames: [] };
      frames.push(f);
    }
    return { rc: 0, frames };
  }

  // ---- event channels (the core checks; a dead caller is -ESRCH there) ------------------------

  evtchnAllocUnbound(caller: number, dom: number, remoteDom: number): { rc: number; port: number } {
    return this.ev.allocUnbound(caller, { dom, remoteDom });
  }
  evtchnBindInterdomain(caller: number, remoteDom: number, remotePort: number): { rc: number; port: number } {
    return this.ev.bindInterdomain(caller, { remoteDom, remotePort });
  }
  evtchnBindVirq(caller: number, virq: number, vcpu: number): { rc: number; port: number } {
    return this.ev.bindVirq(caller, { virq, vcpu });
  }
  evtchnBindIpi(caller: number, vcpu: number): { rc: number; port: number } {
    return this.ev.bindIpi(caller, { vcpu });
  }
  evtchnBindVcpu(caller: number, port: number, vcpu: number): number {
    return this.ev.bindVcpu(caller, { port, vcpu });
  }
  evtchnSend(caller: number, port: number): number {
    return this.ev.evtchnSend(caller, port);
  }
  evtchnClose(caller: number, port: number): number {
    return this.ev.evtchnClose(caller, port);
  }
  evtchnUnmask(caller: number, port: number): number {
    return this.ev.evtchnUnmask(caller, port);
  }
  evtchnStatus(caller: number, dom: number, port: number): EvtchnStatus {
    return this.ev.evtchnStatus(caller, { dom, port });
  }
  evtchnReset(caller: number, dom: number): number {
    return this.ev.evtchnReset(caller, dom);
  }

  // ---- grant tables ---------------------------------------------------------------------------

  gnttabSetupTable(caller: number, dom: number, nrFrames: number): SetupTableResult {
    return this.gt.setupTable(caller, { dom, nrFrames });
  }
  gnttabQuerySize(caller: number, dom: number): QueryTableResult {
    return this.gt.queryTable(caller, dom);
  }
  gnttabMap(caller: number, op: MapGrantRefOp): MapGrantRefResult {
    return this.gt.mapGrantRef(caller, op);
  }
  gnttabUnmap(caller: number, op: UnmapGrantRefOp): number {
    const st = this.gt.unmapGrantRef(caller, op);
    this.reap();
    return st;
  }
  gnttabCopy(caller: number, op: GnttabCopyOp): number {
    return this.gt.gnttabCopy(caller, op);
  }
  /** The granter's own table write, on its behalf (a granter outside the host process). */
  gnttabGrantAccess(caller: number, ref: number, domid: number, gfn: number, readonly: boolean): number {
    if (!this.live(caller)) return ESRCH;
    try {
      grantAccess(this.gt.sharedView(caller), ref, domid, gfn, readonly);
      return 0;
    } catch {
      return EINVAL;
    }
  }
  gnttabEndForeignAccess(caller: number, ref: number): { rc: number; ok: boolean } {
    if (!this.live(caller)) return { rc: ESRCH, ok: false };
    try {
      return { rc: 0, ok: endForeignAccess(this.gt.sharedView(caller), ref) };
    } catch {
      return { rc: EINVAL, ok: false };
    }
  }

  // ---- counters -------------------------------------------------------------------------------

  /** Event-channel ports in use, over all domains. */
  portsInUse(): number {
    let n = 0;
    for (const d of this.domains.keys()) n += this.ev.portCount(d);
    return n;
  }

  /** Grant mappings held, over all domains. */
  grantsMapped(): number {
    let n = 0;
    for (const d of this.domains.keys()) n += this.gt.mappingCount(d);
    return n;
  }

  /** Domains by state. */
  countByState(): Record<DomainStateName, number> {
    const c: Record<DomainStateName, number> = { running: 0, paused: 0, shutdown: 0, dying: 0, dead: 0 };
    for (const r of this.domains.values()) c[this.stateOf(r)]++;
    return c;
  }
}
