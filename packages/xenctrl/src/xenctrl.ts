// XenCtrl: a libxc-like client of the hypervisor service, the same API in every placement, with
// one adapter per placement for the data path (docs/data-plane.md, "The driver port"):
//   - in the hypervisor's host process (`store` given, no `hypervisorHost`): grant map/unmap/copy,
//     grant access, event sends and unmasks and foreign mappings are atomic operations on the shared
//     buffer through the gnttab/evtchn cores — no call;
//   - in another host process (`store` and `hypervisorHost`): the link (LinkPlane) — a kick is a
//     SEND record, a grant map a REQUEST answered in a mailbox, events arrive in this host's shadow
//     shared_info, memory is this host's replicas; no call on the data path either;
//   - without a store: every operation is a call (gRPC), and there is no memory to view.
// Domain control, binds and closes are calls in every placement. Results are Xen's: rc 0 / -errno,
// GNTST_* statuses. A CallError means the transport failed.

import { DOMID_SELF, GNTMAP_readonly, GNTST_okay, XENMEM_resource_grant_table, XenErrno } from "@xensim/abi";
import type { CallClient } from "@xensim/bus";
import { EventChannels } from "@xensim/evtchn";
import {
  endForeignAccess,
  GrantTables,
  grantAccess,
  type MapGrantRefResult,
  MapperLedger,
} from "@xensim/gnttab";
import { type MemView, PageStore } from "@xensim/memory";
import type {
  DomainCreateReply__Output,
  DomainInfo__Output,
  DomainInfoReply__Output,
  DomainListReply__Output,
  EvtchnStatusReply__Output,
  FramesReply__Output,
  GnttabEndAccessReply__Output,
  GnttabMapReply__Output,
  GnttabQuerySizeReply__Output,
  GnttabSetupTableReply__Output,
  GnttabStatusReply__Output,
  HvmParamReply__Output,
  PortReply__Output,
  RcReply__Output,
} from "@xensim/proto";
import type { ChaosPoints } from "@xensim/chaos";
import { XenCtrlFaults } from "./chaos.js";
import { EvtchnPort, type EvtchnPortOptions } from "./evtchn-port.js";
import { LinkPlane } from "./link-plane.js";
import { makeNotify, wakeWordIndex } from "./wake.js";

export interface XenCtrlOptions {
  /** The domid this client acts for (its calls carry it as `caller`). */
  domid: number;
  /** A call client for the Hypervisor service (in-process or gRPC). */
  calls: CallClient;
  /** This host process's page store (or its buffer). */
  store?: PageStore | SharedArrayBuffer;
  /**
   * The hypervisor runs in another host process, this one: with `store`, the data path goes over
   * this host's link (its page-server must run). Omitted: the hypervisor shares this process.
   */
  hypervisorHost?: string;
  /** Deadline of each call and link request, ms (default 5000; link requests at least 15000). */
  deadlineMs?: number;
  /**
   * Ignored (kept so existing callers compile): event wake-ups no longer travel on the bus — a
   * receiver in another host process gets its events from the link.
   */
  bus?: unknown;
  /** The service's fault points (ctx.chaos): evtchn.* and grant.* faults on this client's hypercalls. */
  chaos?: ChaosPoints;
  /**
   * The worker's mapper ledger (ctx.mapperLedger): every grant handle this client maps in-process is
   * recorded there until unmapped, so that the host releases them if the worker dies holding them
   * (gntdev's release on close; Xen's teardown of a dead mapper's maptrack). Several: each records
   * every handle and port (a thread of a worker records in the worker's ledger, so the host releases
   * them if the worker dies, and in its own, so the worker releases them if the thread dies).
   */
  mapperLedger?: SharedArrayBuffer | readonly SharedArrayBuffer[];
}

/** What this client records its maps and ports in: one ledger, or each of several. */
type LedgerRecorder = Pick<MapperLedger, "record" | "forget" | "recordPort" | "forgetPort">;

function ledgerOf(buffers: SharedArrayBuffer | readonly SharedArrayBuffer[]): LedgerRecorder | undefined {
  if (buffers instanceof SharedArrayBuffer) return new MapperLedger(buffers);
  const ls = buffers.map((b) => new MapperLedger(b));
  if (ls.length <= 1) return ls[0];
  // per grant map on the data path: no array, no closure per call
  return {
    record(mapper, handle) {
      let ok = true;
      for (const l of ls) ok = l.record(mapper, handle) && ok;
      return ok;
    },
    forget(mapper, handle) {
      for (const l of ls) l.forget(mapper, handle);
    },
    recordPort(domid, port) {
      let ok = true;
      for (const l of ls) ok = l.recordPort(domid, port) && ok;
      return ok;
    },
    forgetPort(domid, port) {
      for (const l of ls) l.forgetPort(domid, port);
    },
  };
}

export interface DomainCreateOptions {
  /** 0 = let the hypervisor pick. */
  domid?: number;
  memoryMib: number;
  vcpus?: number;
  hvm?: boolean;
  hvmParams?: Record<number, bigint | number>;
  maxGrantFrames?: number;
  maxPorts?: number;
  homeHost?: string;
}

export interface DomainInfo {
  domid: number;
  state: "running" | "paused" | "shutdown" | "dying" | "dead" | "unknown";
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

export interface EvtchnStatus {
  rc: number;
  status: number;
  vcpu: number;
  dom: number;
  port: number;
  virq: number;
}

export interface MapResult {
  results: MapGrantRefResult[];
  /** One view of the mapped frames when all succeeded in-process (contiguous when adjacent). */
  view: MemView | undefined;
}

export interface CopyPtr {
  ref?: number;
  gmfn?: number;
  domid: number;
  offset: number;
}

export interface CopyOp {
  source: CopyPtr;
  dest: CopyPtr;
  len: number;
  flags: number;
}

export interface WaitOptions {
  vcpu?: number;
  /** Ignored (kept for existing callers): wake-ups are Atomics on the wake word in every placement. */
  wake?: "atomics" | "bus" | "both";
  slowScanMs?: number;
  onError?: (err: unknown, port: number) => void;
}

function stateName(state: string | number): DomainInfo["state"] {
  switch (state) {
    case "DOMAIN_STATE_RUNNING":
      return "running";
    case "DOMAIN_STATE_PAUSED":
      return "paused";
    case "DOMAIN_STATE_SHUTDOWN":
      return "shutdown";
    case "DOMAIN_STATE_DYING":
      return "dying";
    case "DOMAIN_STATE_DEAD":
      return "dead";
    default:
      return "unknown";
  }
}

function toInfo(info: DomainInfo__Output): DomainInfo {
  return { ...info, state: stateName(info.state) };
}

const EPERM = -XenErrno.EPERM;

export class XenCtrl {
  readonly domid: number;
  /** Fault points on sends and grant operations (no cost beyond one branch while none is set). */
  readonly faults: XenCtrlFaults;
  /** This host process's page store (the hypervisor's own in its host process; else the replicas'). */
  readonly store: PageStore | undefined;
  private readonly gt: GrantTables | undefined;
  private readonly ev: EventChannels | undefined;
  /** Another host process: the link adapter. */
  private readonly link: LinkPlane | undefined;
  /** Replicas of granters' tables (local grant checks over the link), by granter. */
  private readonly granterTables = new Map<
    number,
    { view: MemView; nrEntries: number; frames: number[]; origins: number[]; handle: number }
  >();
  private granterTablesOff = false;
  /** Foreign mappings over the link: their handles, for the unmap. */
  private readonly foreignHandles = new WeakMap<MemView, number>();
  private readonly ports = new Set<{ close(): void }>();
  /** Link placement: this host's copy of our grant table (grows with gnttabSetupTable). */
  private grantTableView: MemView | undefined;
  private readonly ledger: LedgerRecorder | undefined;

  constructor(private readonly options: XenCtrlOptions) {
    this.domid = options.domid;
    this.faults = new XenCtrlFaults(options.chaos);
    this.faults.rawSend = (port) => this.evtchnSendRaw(port);
    if (!options.store) return;
    this.store = options.store instanceof PageStore ? options.store : PageStore.attach(options.store);
    if (options.hypervisorHost) {
      this.link = new LinkPlane(
        this.store,
        options.domid,
        options.hypervisorHost,
        Math.max(options.deadlineMs ?? 5000, 15_000),
      );
      return;
    }
    this.gt = new GrantTables(this.store);
    if (options.mapperLedger) this.ledger = ledgerOf(options.mapperLedger);
    const notify = makeNotify({ store: this.store, evtchn: () => this.ev! });
    // evtchn.lost: the upcall (the wake-up) is lost, the pending bit stays set, as the only loss
    // Xen's level-triggered event channels allow; receivers find it when they next scan
    const faults = this.faults;
    this.ev = new EventChannels(this.store, {
      notify: (domid, vcpu, port) => {
        if (faults.evtchnOn && faults.wakeLost(port)) return;
        notify(domid, vcpu, port);
      },
    });
  }

  /** True when the hypervisor shares this host process (map, unmap, send are atomics). */
  get inProcess(): boolean {
    return this.ev !== undefined;
  }

  /**
   * May a ring's "notify needed" check suppress a kick on `port`? When the port's peer receives in
   * this host process, yes, as in Xen. When it receives in another host process, no: its
   * req_event/rsp_event in this copy of the ring may be stale, so every push kicks (the link
   * coalesces kicks to one port within a flush). Read from the port table and the placement table
   * at every push (a few loads): the peer may move its port to another vCPU at any time.
   */
  mayElideKick(port: number): boolean {
    if (this.link) return false;
    const ev = this.ev;
    const link = this.store?.link;
    if (!ev || link === undefined) return true;
    const t = ev.sendTarget(this.domid, port);
    return t === undefined || link.placement(t.domid, t.vcpu) === 0;
  }

  private call<Res>(method: string, req: object): Promise<Res> {
    return this.options.calls.call<object, Res>(
      method,
      { caller: this.domid, ...req },
      { deadlineMs: this.options.deadlineMs ?? 5000 },
    );
  }

  private async rc(method: string, req: object): Promise<number> {
    return (await this.call<RcReply__Output>(method, req)).rc;
  }

  // ---- domains --------------------------------------------------------------------------------

  async domainCreate(opts: DomainCreateOptions): Promise<{ rc: number; domid: number }> {
    const r = await this.call<DomainCreateReply__Output>("DomainCreate", {
      domid: opts.domid ?? 0,
      memoryMib: opts.memoryMib,
      vcpus: opts.vcpus ?? 1,
      hvm: opts.hvm ?? false,
      hvmParams: Object.entries(opts.hvmParams ?? {}).map(([k, v]) => ({
        index: Number(k),
        value: String(v),
      })),
      maxGrantFrames: opts.maxGrantFrames ?? 0,
      maxPorts: opts.maxPorts ?? 0,
      homeHost: opts.homeHost ?? "",
    });
    return { rc: r.rc, domid: r.domid };
  }

  domainPause(domid: number): Promise<number> {
    return this.rc("DomainPause", { domid });
  }
  domainUnpause(domid: number): Promise<number> {
    return this.rc("DomainUnpause", { domid });
  }
  /** SHUTDOWN_* reason (poweroff 0, reboot 1, suspend 2, crash 3, watchdog 4, soft_reset 5). */
  domainShutdown(domid: number, reason: number): Promise<number> {
    return this.rc("DomainShutdown", { domid, reason });
  }
  domainDestroy(domid: number): Promise<number> {
    return this.rc("DomainDestroy", { domid });
  }
  /**
   * XEN_DOMCTL_soft_reset: `domid` (HVM, shut down with SHUTDOWN_soft_reset, paused) keeps its
   * domid, memory and grants; its event channels are closed and its shared_info is fresh (ports
   * waiting on the old one must be re-created); it stays paused until domainUnpause.
   */
  domainSoftReset(domid: number): Promise<number> {
    return this.rc("DomainSoftReset", { domid });
  }
  /** XEN_DOMCTL_resumedomain: clears a SHUTDOWN_suspend shutdown (else -EINVAL). */
  domainResume(domid: number): Promise<number> {
    return this.rc("DomainResume", { domid });
  }
  async domainList(): Promise<{ rc: number; domains: DomainInfo[] }> {
    const r = await this.call<DomainListReply__Output>("DomainList", {});
    return { rc: r.rc, domains: r.domains.map(toInfo) };
  }
  async domainInfo(domid: number): Promise<{ rc: number; info: DomainInfo | undefined }> {
    const r = await this.call<DomainInfoReply__Output>("DomainInfo", { domid });
    return { rc: r.rc, info: r.rc === 0 && r.info ? toInfo(r.info) : undefined };
  }

  async hvmParamGet(domid: number, index: number): Promise<{ rc: number; value: bigint }> {
    const r = await this.call<HvmParamReply__Output>("HvmParamGet", { domid, index });
    return { rc: r.rc, value: BigInt(r.value) };
  }
  hvmParamSet(domid: number, index: number, value: bigint | number): Promise<number> {
    return this.rc("HvmParamSet", { domid, index, value: String(value) });
  }

  // ---- memory ---------------------------------------------------------------------------------

  async memoryPopulatePhysmap(
    domid: number,
    gfn: number,
    count: number,
    contiguous = false,
  ): Promise<{ rc: number; frames: number[] }> {
    const r = await this.call<FramesReply__Output>("MemoryPopulatePhysmap", {
      domid,
      gfn,
      count,
      contiguous,
    });
    return { rc: r.rc, frames: r.frames };
  }

  async gfnToFrames(domid: number, gfns: readonly number[]): Promise<{ rc: number; frames: number[] }> {
    const r = await this.call<FramesReply__Output>("MemoryGfnToFrame", { domid, gfns });
    return { rc: r.rc, frames: r.frames };
  }

  /**
   * xc_map_foreign_pages: a privileged caller's view of another domain's gfns, or a domain's view of
   * its own. In another host process only its own gfns (its frames are replicated here, the domain
   * being homed on this host). Resolves to -EPERM / -EINVAL as a number when refused or a gfn is not
   * populated.
   */
  async mapForeignPages(
    domid: number,
    gfns: readonly number[],
    opts: { readonly?: boolean } = {},
  ): Promise<MemView | number> {
    const store = this.requireStore("mapForeignPages");
    if (this.link) {
      if (domid !== this.domid && domid !== DOMID_SELF) {
        // Another domain's memory: a foreign mapping by the hypervisor's host, replicated here.
        const r = await this.link.foreignMap(domid, gfns, opts);
        if (typeof r === "number") return r;
        const view = store.viewOfFrames(r.frames, opts);
        this.foreignHandles.set(view, r.handle);
        return view;
      }
      await this.link.ensureHome();
      const r = await this.gfnToFrames(this.domid, gfns);
      if (r.rc !== 0) return r.rc;
      // Frames populated since: their (zeroed) replicas come on the link before the sync's reply.
      if (r.frames.some((f) => this.link!.area.replicaOf(f) === 0)) await this.link.sync();
      return this.link.localView(r.frames, opts.readonly ?? false);
    }
    if (domid !== this.domid && !store.isPrivileged(this.domid)) return EPERM;
    const r = await this.gfnToFrames(domid, gfns);
    if (r.rc !== 0) return r.rc;
    return store.viewOfFrames(r.frames, opts);
  }

  /**
   * The unmap of what mapForeignPages returned (xenforeignmemory_unmap). In the hypervisor's host a
   * view holds no reference and this is a no-op; over the link the hypervisor's host drops the
   * mapping's page references and this host's replicas. 0 or -errno.
   */
  async unmapForeignPages(view: MemView): Promise<number> {
    const handle = this.foreignHandles.get(view);
    if (handle === undefined || !this.link) return 0;
    this.foreignHandles.delete(view);
    return this.link.foreignUnmap(handle);
  }

  /**
   * xenforeignmemory_map_resource over the link (another host process than the hypervisor's):
   * `nrFrames` frames of resource (`type`, `id`) of `domid` from `frame`, replicated here — the
   * frames are this host's, for viewOfFrames. -EOPNOTSUPP in the hypervisor's host (acquire the
   * resource with XenDeviceModel there: the frames are the store's own).
   */
  async mapResource(
    domid: number,
    type: number,
    id: number,
    frame: number,
    nrFrames: number,
    opts: { readonly?: boolean } = {},
  ): Promise<{ rc: number; frames: number[]; handle: number }> {
    if (!this.link) return { rc: -XenErrno.EOPNOTSUPP, frames: [], handle: 0 };
    const r = await this.link.foreignMap(domid, [], {
      resource: { type, id, frame, nrFrames },
      readonly: opts.readonly ?? false,
    });
    if (typeof r === "number") return { rc: r, frames: [], handle: 0 };
    return { rc: 0, frames: r.frames, handle: r.handle };
  }

  /** The unmap of a mapResource (by its handle). */
  async unmapResource(handle: number): Promise<number> {
    if (!this.link) return -XenErrno.EOPNOTSUPP;
    return this.link.foreignUnmap(handle);
  }

  /**
   * mapForeignPages over the link, blocking this (worker) thread until the hypervisor's host
   * answered: for a caller that cannot await, such as an emulation that meets a guest page it has
   * not mapped yet (QEMU's mapcache). Returns this host's frames and the mapping's handle, or -errno.
   * -EOPNOTSUPP in the hypervisor's host (the frames are the store's own: gfnToFrame).
   */
  mapForeignPagesSync(
    domid: number,
    gfns: readonly number[],
    opts: { readonly?: boolean } = {},
  ): { frames: number[]; handle: number } | number {
    if (!this.link) return -XenErrno.EOPNOTSUPP;
    return this.link.foreignMapSync(domid, gfns, opts);
  }

  /**
   * Everything the hypervisor's host wrote before now is here: a control-plane answer (a dm_op, a
   * call) can overtake the link's bytes it caused (vp_eport in a replica of the ioreq page). A no-op
   * in the hypervisor's host.
   */
  async linkSync(): Promise<void> {
    if (this.link) await this.link.sync();
  }

  /** Grant map refs this client refused locally from a replica of the granter's table. */
  get localGrantRefusals(): number {
    return this.link?.localRefusals ?? 0;
  }

  /** True when the hypervisor runs in another host process (the data path is the link). */
  get overLink(): boolean {
    return this.link !== undefined;
  }

  // ---- event channels -------------------------------------------------------------------------

  async evtchnAllocUnbound(dom: number, remoteDom: number): Promise<{ rc: number; port: number }> {
    const r = await this.call<PortReply__Output>("EvtchnAllocUnbound", { dom, remoteDom });
    if (dom === this.domid || dom === DOMID_SELF) this.ledgerPort(r);
    return r;
  }
  async evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<{ rc: number; port: number }> {
    return this.ledgerPort(
      await this.call<PortReply__Output>("EvtchnBindInterdomain", { remoteDom, remotePort }),
    );
  }
  async evtchnBindVirq(virq: number, vcpu = 0): Promise<{ rc: number; port: number }> {
    return this.ledgerPort(await this.call<PortReply__Output>("EvtchnBindVirq", { virq, vcpu }));
  }
  async evtchnBindIpi(vcpu = 0): Promise<{ rc: number; port: number }> {
    return this.ledgerPort(await this.call<PortReply__Output>("EvtchnBindIpi", { vcpu }));
  }
  /** A port this worker opened goes into its ledger (closed by the host if the worker dies). */
  private ledgerPort<T extends { rc: number; port: number }>(reply: T): T {
    if (this.ledger && reply.rc === 0) this.ledger.recordPort(this.domid, reply.port);
    return reply;
  }
  /**
   * EVTCHNOP_bind_vcpu: deliver `port` (ours: unbound, interdomain or a global VIRQ) to `vcpu`; a
   * pending event follows it. Then receive it with `waitForEvents(domid, …, { vcpu })`.
   */
  evtchnBindVcpu(port: number, vcpu: number): Promise<number> {
    return this.rc("EvtchnBindVcpu", { port, vcpu });
  }
  /** EVTCHNOP_send: an atomic set of the peer's pending bit, a link record, or a call. */
  async evtchnSend(port: number): Promise<number> {
    if (this.faults.evtchnOn) return this.faults.send(port, () => this.evtchnSendRaw(port), !this.ev);
    return this.evtchnSendRaw(port);
  }
  private async evtchnSendRaw(port: number): Promise<number> {
    if (this.ev) return this.ev.evtchnSend(this.domid, port);
    if (this.link) return this.link.kick(port);
    return this.rc("EvtchnSend", { port });
  }
  /**
   * The per-I/O kick, synchronous (no promise) in both placements that have a store: an atomic set
   * of the peer's pending bit (or an EVENT record when its receiver is in another host process), or
   * a SEND record on this host's link.
   */
  kick(port: number): number {
    if (this.faults.evtchnOn) return this.faults.send(port, () => this.kickRaw(port), !this.ev);
    return this.kickRaw(port);
  }
  private kickRaw(port: number): number {
    if (this.ev) return this.ev.evtchnSend(this.domid, port);
    if (this.link) return this.link.kick(port);
    throw new Error("kick needs this host's page store");
  }
  /** The same as kick (libxc's name). */
  evtchnNotify(port: number): number {
    return this.kick(port);
  }
  async evtchnClose(port: number): Promise<number> {
    const rc = await this.rc("EvtchnClose", { port });
    if (rc === 0) this.ledger?.forgetPort(this.domid, port);
    return rc;
  }
  async evtchnUnmask(port: number): Promise<number> {
    if (this.ev) return this.ev.evtchnUnmask(this.domid, port);
    if (this.link) return this.link.unmask(this.domid, port);
    return this.rc("EvtchnUnmask", { port });
  }
  async evtchnStatus(dom: number, port: number): Promise<EvtchnStatus> {
    return this.call<EvtchnStatusReply__Output>("EvtchnStatus", { dom, port });
  }
  evtchnReset(dom: number): Promise<number> {
    return this.rc("EvtchnReset", { domid: dom });
  }

  /**
   * In another host process than the hypervisor's: register (domid, vcpu)'s events as received in
   * this host without a receiver here, and return the frame of this host's shadow shared_info where
   * the link delivers them (shadowSharedInfo) — for a thread of its own that blocks in Atomics.wait on
   * the vCPU's wake word there. -EOPNOTSUPP in the hypervisor's host (the domain's own shared_info).
   */
  async placeEvents(domid: number, vcpu: number): Promise<number> {
    if (!this.link) return -XenErrno.EOPNOTSUPP;
    return this.link.placeEvents(domid === DOMID_SELF ? this.domid : domid, vcpu);
  }

  /**
   * Receive `domid`'s events on `vcpu`: `handler(port)` runs once per pending edge, for the ports
   * whose notify vCPU is `vcpu` (EVTCHNOP_bind_vcpu; default 0) — the others are left for their own
   * vCPU's receiver, so several receivers of one domain (dom0's services) each get their own. It
   * waits on the vCPU's wake word (Atomics.waitAsync) in the domain's shared_info — in another host
   * process, this host's shadow of it, where the link delivers (the vCPU is registered with the
   * hypervisor's host as received here). Close the returned port.
   */
  waitForEvents(domid: number, handler: (port: number) => void, opts: WaitOptions = {}): EvtchnPort {
    const d = domid === DOMID_SELF ? this.domid : domid;
    let p: EvtchnPort;
    if (this.link) {
      p = this.link.waitForEvents(d, handler, opts, (err) => {
        if (opts.onError) opts.onError(err, 0);
        else
          setImmediate(() => {
            throw err;
          });
      });
    } else {
      if (!this.ev || !this.store) throw new Error("waitForEvents needs this host's page store");
      const si = this.ev.sharedInfo(d);
      const vcpu = opts.vcpu ?? 0;
      const po: EvtchnPortOptions = {
        domid,
        vcpu,
        sharedInfo: si,
        notifyVcpu: this.ev.portVcpuReader(d),
        wake: { i32: this.store.i32, index: wakeWordIndex(si.frames[0]!, vcpu) },
      };
      if (opts.slowScanMs !== undefined) po.slowScanMs = opts.slowScanMs;
      if (opts.onError) po.onError = opts.onError;
      p = new EvtchnPort(po, handler);
    }
    this.ports.add(p);
    return p;
  }

  // ---- grant tables ---------------------------------------------------------------------------

  /** Granter: let `domid` map our `gfn` through `ref` (a write to our own table). rc 0 / -EINVAL. */
  async gnttabGrantAccess(ref: number, domid: number, gfn: number, readonly: boolean): Promise<number> {
    if (this.gt) {
      try {
        grantAccess(this.gt.sharedView(this.domid), ref, domid, gfn, readonly);
        return 0;
      } catch {
        return -XenErrno.EINVAL;
      }
    }
    if (this.link) {
      // Our table's frames are replicated here like any other: the entry is written in our copy
      // and travels on the link (markWritten), no call — once the table's frames are known here.
      if (!this.grantTableView || ref >= this.grantTableView.byteLength / 8) {
        const q = await this.gnttabQuerySize(this.domid);
        if (q.status !== GNTST_okay) return -XenErrno.EINVAL;
        const t = await this.gnttabSetupTable(this.domid, q.nrFrames);
        if (t.status !== GNTST_okay) return -XenErrno.EINVAL;
        this.grantTableView = await this.link.grantTable(t.frames);
      }
      return this.link.grantAccess(this.grantTableView, ref, domid, gfn, readonly);
    }
    return this.rc("GnttabGrantAccess", { ref, domid, gfn, readonly });
  }

  /** Granter: revoke `ref`; false while it is still mapped (GTF_reading/GTF_writing). */
  async gnttabEndAccess(ref: number): Promise<boolean> {
    if (this.gt) {
      try {
        return endForeignAccess(this.gt.sharedView(this.domid), ref);
      } catch {
        return false;
      }
    }
    if (this.link) return this.link.endAccess(ref);
    return (await this.call<GnttabEndAccessReply__Output>("GnttabEndForeignAccess", { ref })).ok;
  }

  /**
   * gnttabGrantAccess, synchronous, when this host process holds the grant tables (a store to our
   * own table, no promise: a per-request grant of a data page): 0, -EINVAL for a ref past the
   * table's frames, or undefined elsewhere (use gnttabGrantAccess).
   */
  gnttabGrantAccessSync(ref: number, domid: number, gfn: number, readonly: boolean): number | undefined {
    const gt = this.gt;
    if (!gt) return undefined;
    return gt.grantAccessOwn(this.domid, ref, domid, gfn, readonly) ? 0 : -XenErrno.EINVAL;
  }

  /** gnttabEndAccess, synchronous, where gnttabGrantAccessSync is (undefined elsewhere). */
  gnttabEndAccessSync(ref: number): boolean | undefined {
    const gt = this.gt;
    if (!gt) return undefined;
    return gt.endAccessOwn(this.domid, ref);
  }

  async gnttabSetupTable(dom: number, nrFrames: number): Promise<{ status: number; frames: number[] }> {
    return this.call<GnttabSetupTableReply__Output>("GnttabSetupTable", { dom, nrFrames });
  }
  async gnttabQuerySize(dom: number): Promise<{ status: number; nrFrames: number; maxNrFrames: number }> {
    return this.call<GnttabQuerySizeReply__Output>("GnttabQuerySize", { domid: dom });
  }

  /** Mapper: map `refs` of `dom` (GNTMAP_* flags). Partial successes stay mapped (unmap them). */
  async gnttabMapGrantRefs(dom: number, refs: readonly number[], flags: number): Promise<MapResult> {
    if (this.faults.grantOn)
      return this.faults.map(
        dom,
        refs,
        () => this.gnttabMapGrantRefsRaw(dom, refs, flags),
        (status): MapResult => ({
          results: refs.map(() => ({ status, handle: -1, frame: 0, devBusAddr: 0 })),
          view: undefined,
        }),
      );
    return this.gnttabMapGrantRefsRaw(dom, refs, flags);
  }
  private async gnttabMapGrantRefsRaw(
    dom: number,
    refs: readonly number[],
    flags: number,
  ): Promise<MapResult> {
    if (this.gt) {
      const r = this.gt.mapGrantRefs(this.domid, dom, refs, flags);
      const ledger = this.ledger;
      if (ledger) for (const x of r.results) if (x.status === GNTST_okay) ledger.record(this.domid, x.handle);
      return r;
    }
    // Over the link: the frames' bytes arrive before the reply (the view is current). What the
    // replica of the granter's table already shows invalid is refused here.
    if (this.link) return this.link.map(dom, refs, flags, await this.granterTable(dom));
    const r = await this.call<GnttabMapReply__Output>("GnttabMapGrantRef", {
      ops: refs.map((ref) => ({ dom, ref, flags })),
    });
    const results = r.results.map((x) => ({
      status: x.status,
      handle: x.status === GNTST_okay ? x.handle : -1,
      frame: x.frame,
      devBusAddr: Number(x.devBusAddr),
    }));
    return { results, view: undefined };
  }

  /**
   * The same map as gnttabMapGrantRefs, synchronous, when this host process holds the grant tables
   * (the embedded placement: compare-and-swaps on the shared buffer, no promise); undefined
   * elsewhere or while grant faults are armed — then use gnttabMapGrantRefs.
   */
  gnttabMapGrantRefsSync(dom: number, refs: readonly number[], flags: number): MapResult | undefined {
    if (!this.gt || this.faults.grantOn) return undefined;
    const r = this.gt.mapGrantRefs(this.domid, dom, refs, flags);
    const ledger = this.ledger;
    if (ledger) for (const x of r.results) if (x.status === GNTST_okay) ledger.record(this.domid, x.handle);
    return r;
  }

  /**
   * One ref of gnttabMapGrantRefsSync without an object per call (a backend's per-segment map): the
   * maptrack handle (≥ 0) or the GNTST_* status (< 0); the mapped frame is then
   * gnttabLastMappedFrame. undefined where gnttabMapGrantRefsSync is undefined.
   */
  gnttabMapGrantRefSync(dom: number, ref: number, flags: number): number | undefined {
    const gt = this.gt;
    if (!gt || this.faults.grantOn) return undefined;
    const h = gt.mapGrantRefHandle(this.domid, dom, ref, flags);
    if (h >= 0) this.ledger?.record(this.domid, h);
    return h;
  }

  /** The frame of this client's last successful gnttabMapGrantRefSync (0 before any). */
  get gnttabLastMappedFrame(): number {
    return this.gt?.lastMappedFrame ?? 0;
  }

  /**
   * A thread of this worker that mapped and bound as this domain died (its own ledger, see
   * XenCtrlOptions.mapperLedger): unmap every grant handle and close every port its ledger still
   * holds, through this client (so this client's ledger forgets them too), and empty it — what
   * gntdev's and evtchn's release do when a process dies. In-process placement only (undefined
   * otherwise). A handle or port the tables no longer know counts as stale.
   */
  releaseMapperLedger(
    buffer: SharedArrayBuffer,
  ): { released: number; portsClosed: number; stale: number } | undefined {
    const gt = this.gt;
    const ev = this.ev;
    if (!gt || !ev) return undefined;
    return new MapperLedger(buffer).release({
      unmapGrantRef: (mapper, op) => {
        const st = gt.unmapGrantRef(mapper, op);
        if (st === GNTST_okay) this.ledger?.forget(mapper, op.handle);
        return st;
      },
      evtchnClose: (caller, port) => {
        const rc = ev.evtchnClose(caller, port);
        if (rc === 0) this.ledger?.forgetPort(caller, port);
        return rc;
      },
    });
  }

  /** One handle of gnttabUnmapSync without an array per call: its GNTST_* status. */
  gnttabUnmapGrantRefSync(handle: number): number | undefined {
    const gt = this.gt;
    if (!gt) return undefined;
    const st = gt.unmapGrantRefHandle(this.domid, handle);
    if (st === GNTST_okay) this.ledger?.forget(this.domid, handle);
    return st;
  }

  /** The same as gnttabUnmap, synchronous, in the embedded placement (see gnttabMapGrantRefsSync). */
  gnttabUnmapSync(handles: readonly number[]): number[] | undefined {
    const gt = this.gt;
    if (!gt) return undefined;
    const out: number[] = [];
    const ledger = this.ledger;
    for (let i = 0; i < handles.length; i++) {
      const handle = handles[i]!;
      const st = gt.unmapGrantRef(this.domid, { handle });
      if (ledger && st === GNTST_okay) ledger.forget(this.domid, handle);
      out.push(st);
    }
    return out;
  }

  /**
   * This host's replica of `dom`'s grant table (local grant checks), acquired once per granter
   * (XENMEM_resource_grant_table, read-only, over the link) and dropped when its frames were freed.
   * undefined when it cannot be had: every map then goes to the hypervisor's host.
   */
  private async granterTable(dom: number): Promise<{ view: MemView; nrEntries: number } | undefined> {
    const link = this.link;
    if (!link || dom === this.domid || this.granterTablesOff) return undefined;
    const have = this.granterTables.get(dom);
    if (have && have.frames.every((f, i) => link.area.originOf(f) === have.origins[i])) return have;
    if (have) {
      this.granterTables.delete(dom);
      void link.foreignUnmap(have.handle).catch(() => 0);
    }
    try {
      const q = await this.gnttabQuerySize(dom);
      if (q.status !== GNTST_okay || q.nrFrames < 1) return undefined;
      const r = await this.mapResource(dom, XENMEM_resource_grant_table, 0, 0, q.nrFrames, {
        readonly: true,
      });
      if (r.rc !== 0) {
        // An authority that does not offer it (or refuses us): stop asking.
        if (r.rc === -XenErrno.EOPNOTSUPP || r.rc === -XenErrno.EPERM) this.granterTablesOff = true;
        return undefined;
      }
      const t = {
        view: this.store!.viewOfFrames(r.frames, { readonly: true }),
        nrEntries: (r.frames.length * 4096) / 8,
        frames: r.frames,
        origins: r.frames.map((f) => link.area.originOf(f)),
        handle: r.handle,
      };
      this.granterTables.set(dom, t);
      return t;
    } catch {
      return undefined;
    }
  }

  /** Mapper: unmap handles; one GNTST_* per handle. */
  async gnttabUnmap(handles: readonly number[]): Promise<number[]> {
    const gt = this.gt;
    if (gt) {
      const ledger = this.ledger;
      return handles.map((handle) => {
        const st = gt.unmapGrantRef(this.domid, { handle });
        if (ledger && st === GNTST_okay) ledger.forget(this.domid, handle);
        return st;
      });
    }
    if (this.link) return this.link.unmap(handles);
    const r = await this.call<GnttabStatusReply__Output>("GnttabUnmapGrantRef", {
      ops: handles.map((handle) => ({ handle })),
    });
    return r.status;
  }

  /** GNTTABOP_copy: one GNTST_* per op. */
  async gnttabCopy(ops: readonly CopyOp[]): Promise<number[]> {
    if (this.faults.grantOn) return this.faults.copy(ops.length, () => this.gnttabCopyRaw(ops));
    return this.gnttabCopyRaw(ops);
  }
  private async gnttabCopyRaw(ops: readonly CopyOp[]): Promise<number[]> {
    const gt = this.gt;
    if (gt) return ops.map((op) => gt.gnttabCopy(this.domid, op));
    if (this.link) return this.link.copy(ops);
    const r = await this.call<GnttabStatusReply__Output>("GnttabCopy", {
      ops: ops.map((op) => ({
        source: {
          ref: op.source.ref ?? 0,
          gmfn: op.source.gmfn ?? 0,
          domid: op.source.domid,
          offset: op.source.offset,
        },
        dest: {
          ref: op.dest.ref ?? 0,
          gmfn: op.dest.gmfn ?? 0,
          domid: op.dest.domid,
          offset: op.dest.offset,
        },
        len: op.len,
        flags: op.flags,
      })),
    });
    return r.status;
  }

  /** Readonly flag helper for map calls. */
  static readonly GNTMAP_readonly = GNTMAP_readonly;

  private requireStore(what: string): PageStore {
    if (!this.store) throw new Error(`${what} needs the shared buffer (in-process placement)`);
    return this.store;
  }

  /** Stops every receiver started by waitForEvents (the call client belongs to the caller). */
  close(): void {
    this.faults.close();
    for (const p of this.ports) p.close();
    this.ports.clear();
  }
}
