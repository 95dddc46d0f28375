// XenCtrl: a libxc-like client of the hypervisor service, the same API in both placements.
//   - In the hypervisor's host process (`store` given): grant map/unmap/copy, grant access, event
//     sends and unmasks and foreign mappings are atomic operations on the shared buffer through the
//     gnttab/evtchn cores — no call; domain control, binds and closes are calls (in-process).
//   - Elsewhere: every operation is a call (gRPC). With the `memory` option (that host's page store
//     and page-server), grant maps are imported as local replicas (views), sends carry the host's
//     replication fence, and waitForRemoteEvents receives (services/hypervisor/README.md, "Across
//     host processes"); without it views are absent and waitForEvents is refused.
// Results are Xen's: rc 0 / -errno, GNTST_* statuses. A CallError means the transport failed.

import { DOMID_SELF, GNTMAP_readonly, GNTST_okay, XenErrno } from "@xensim/abi";
import type { CallClient, EventBus } from "@xensim/bus";
import { EventChannels } from "@xensim/evtchn";
import type { ChaosPoints } from "@xensim/chaos";
import { XenCtrlFaults } from "./chaos.js";
import { endForeignAccess, GrantTables, grantAccess, type MapGrantRefResult } from "@xensim/gnttab";
import { type MemView, PageStore } from "@xensim/memory";
import type {
  DomainCreateReply__Output,
  DomainInfo__Output,
  DomainInfoReply__Output,
  DomainListReply__Output,
  FenceReply__Output,
  ImportFramesReply__Output,
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
import { EvtchnPort, type EvtchnPortOptions } from "./evtchn-port.js";
import { RangeLog, RemoteEvtchnReceiver } from "./remote-memory.js";
import type { Fence } from "./subjects.js";
import { makeNotify, wakeWordIndex } from "./wake.js";

export interface XenCtrlOptions {
  /** The domid this client acts for (its calls carry it as `caller`). */
  domid: number;
  /** A call client for the Hypervisor service (in-process or gRPC). */
  calls: CallClient;
  /** The host's page store (or its buffer): set when the hypervisor shares this host process. */
  store?: PageStore | SharedArrayBuffer;
  /** Event bus: wake-ups to other host processes, and bus wake-ups for waitForEvents. */
  bus?: EventBus;
  /** True when `domid`'s guest runs in another host process (its wake-ups go over the bus). */
  isRemote?: (domid: number) => boolean;
  /** The fence a remote wake-up carries (from page replication). */
  fence?: (domid: number) => Fence | undefined;
  /** Deadline of each call, ms (default 5000). */
  deadlineMs?: number;
  /**
   * In a host process without the hypervisor: this host's page store and page-server, and the
   * hypervisor's host id. Grant maps are then imported as local replicas (views), sends carry this
   * host's fence, and `waitForRemoteEvents` receives.
   */
  memory?: { store: PageStore | SharedArrayBuffer; pageServer: CallClient; hypervisorHost: string };
  /**
   * With `store`: this host's page-server, when pages written through this client's views are read
   * by a peer in another host process (a guest whose backend is there). Writes are logged and
   * `publishWrites()` publishes them, so a send that follows is covered by the fence the receiver
   * gets. Without it, writes are not logged (one host process: every thread sees the buffer).
   */
  publishVia?: CallClient;
  /** The service's fault points (ctx.chaos): evtchn.* and grant.* faults on this client's hypercalls. */
  chaos?: ChaosPoints;
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
  /** "atomics" (default in-process), "bus" (wake-ups only from the bus), or "both". */
  wake?: "atomics" | "bus" | "both";
  slowScanMs?: number;
  onError?: (err: unknown, port: number) => void;
}

function stateName(s: string | number): DomainInfo["state"] {
  switch (s) {
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

function toInfo(i: DomainInfo__Output): DomainInfo {
  return { ...i, state: stateName(i.state) };
}

const EPERM = -XenErrno.EPERM;

export class XenCtrl {
  readonly domid: number;
  /** Fault points on sends and grant operations (no cost beyond one branch while none is set). */
  readonly faults: XenCtrlFaults;
  /** The attached page store when the hypervisor shares this host process. */
  readonly store: PageStore | undefined;
  private readonly gt: GrantTables | undefined;
  private readonly ev: EventChannels | undefined;
  private readonly ports = new Set<{ close(): void }>();
  /** Remote placement: this host's store (writes logged for the next send), imported maps. */
  private readonly local: PageStore | undefined;
  private readonly log = new RangeLog();
  private readonly imported = new Map<number, number>(); // handle → frame of the hypervisor's host

  constructor(private readonly o: XenCtrlOptions) {
    this.domid = o.domid;
    this.faults = new XenCtrlFaults(o.chaos);
    this.faults.rawSend = (port) => this.evtchnSendRaw(port);
    if (o.store) {
      const buffer = o.store instanceof PageStore ? o.store.buffer : o.store;
      this.store = o.publishVia
        ? PageStore.attach(buffer, { writeLog: this.log })
        : o.store instanceof PageStore
          ? o.store
          : PageStore.attach(o.store);
      this.gt = new GrantTables(this.store);
      const notify = makeNotify({
        store: this.store,
        evtchn: () => this.ev!,
        ...(o.bus ? { bus: o.bus } : {}),
        ...(o.isRemote ? { isRemote: o.isRemote } : {}),
        ...(o.fence ? { fence: o.fence } : {}),
      });
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
    if (o.memory && !o.store) {
      const m = o.memory.store;
      this.local = PageStore.attach(m instanceof PageStore ? m.buffer : m, { writeLog: this.log });
    }
  }

  /** Publish what was written through imported views; the fence a send carries. */
  /**
   * `barrier`: these writes go out in batches of their own, before anything published later (a
   * ring's slots before the producer index that covers them).
   */
  async publishWrites(opts: { barrier?: boolean } = {}): Promise<Fence | undefined> {
    const pageServer = this.local ? this.o.memory?.pageServer : this.o.publishVia;
    if (!pageServer) return undefined;
    // Nothing new here: in-process sends need no fence (the receiver learns the head when it
    // consumes). A remote send still asks, for the fence of earlier publishes.
    if (!this.local && this.log.empty) return undefined;
    const r = await pageServer.call<object, FenceReply__Output>(
      "Publish",
      { ranges: this.log.take(), barrier: opts.barrier ?? false },
      { deadlineMs: this.o.deadlineMs ?? 5000 },
    );
    return r.fence ? { host: r.fence.host, seq: Number(r.fence.seq) } : undefined;
  }

  /** True when writes through this client's views must be published (a peer reads replicas). */
  get publishesWrites(): boolean {
    return this.local !== undefined || this.o.publishVia !== undefined;
  }

  /** True when map/unmap/send are atomics on a shared buffer rather than calls. */
  get inProcess(): boolean {
    return this.store !== undefined;
  }

  private call<Res>(method: string, req: object): Promise<Res> {
    return this.o.calls.call<object, Res>(
      method,
      { caller: this.domid, ...req },
      { deadlineMs: this.o.deadlineMs ?? 5000 },
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
   * xc_map_foreign_pages: a privileged caller's view of another domain's gfns (in-process only).
   * Resolves to -EPERM / -EINVAL as a number when refused or a gfn is not populated.
   */
  async mapForeignPages(
    domid: number,
    gfns: readonly number[],
    opts: { readonly?: boolean } = {},
  ): Promise<MemView | number> {
    const store = this.requireStore("mapForeignPages");
    if (domid !== this.domid && !store.isPrivileged(this.domid)) return EPERM;
    const r = await this.gfnToFrames(domid, gfns);
    if (r.rc !== 0) return r.rc;
    return store.viewOfFrames(r.frames, opts);
  }

  // ---- event channels -------------------------------------------------------------------------

  async evtchnAllocUnbound(dom: number, remoteDom: number): Promise<{ rc: number; port: number }> {
    return this.call<PortReply__Output>("EvtchnAllocUnbound", { dom, remoteDom });
  }
  async evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<{ rc: number; port: number }> {
    return this.call<PortReply__Output>("EvtchnBindInterdomain", { remoteDom, remotePort });
  }
  async evtchnBindVirq(virq: number, vcpu = 0): Promise<{ rc: number; port: number }> {
    return this.call<PortReply__Output>("EvtchnBindVirq", { virq, vcpu });
  }
  async evtchnBindIpi(vcpu = 0): Promise<{ rc: number; port: number }> {
    return this.call<PortReply__Output>("EvtchnBindIpi", { vcpu });
  }
  /**
   * EVTCHNOP_bind_vcpu: deliver `port` (ours: unbound, interdomain or a global VIRQ) to `vcpu`; a
   * pending event follows it. Then receive it with `waitForEvents(domid, …, { vcpu })`.
   */
  evtchnBindVcpu(port: number, vcpu: number): Promise<number> {
    return this.rc("EvtchnBindVcpu", { port, vcpu });
  }
  /** EVTCHNOP_send: in-process an atomic set of the peer's pending bit plus a wake-up; else a call. */
  async evtchnSend(port: number): Promise<number> {
    if (this.faults.evtchnOn) return this.faults.send(port, () => this.evtchnSendRaw(port), !this.ev);
    return this.evtchnSendRaw(port);
  }
  private async evtchnSendRaw(port: number): Promise<number> {
    if (this.ev) return this.ev.evtchnSend(this.domid, port);
    if (this.local) {
      const fence = await this.publishWrites();
      const req = { port, fenceHost: fence?.host ?? "", fenceSeq: String(fence?.seq ?? 0) };
      for (let i = 0; ; i++) {
        const rc = await this.rc("EvtchnSend", req);
        if (rc !== -XenErrno.EAGAIN || i >= 5) return rc;
      }
    }
    return this.rc("EvtchnSend", { port });
  }
  /** evtchnSend without a promise (in-process only): the per-I/O kick. */
  evtchnNotify(port: number): number {
    if (!this.ev) throw new Error("evtchnNotify needs the shared buffer (in-process placement)");
    if (this.faults.evtchnOn) {
      const ev = this.ev;
      return this.faults.send(port, () => ev.evtchnSend(this.domid, port));
    }
    return this.ev.evtchnSend(this.domid, port);
  }
  evtchnClose(port: number): Promise<number> {
    return this.rc("EvtchnClose", { port });
  }
  async evtchnUnmask(port: number): Promise<number> {
    if (this.ev) return this.ev.evtchnUnmask(this.domid, port);
    return this.rc("EvtchnUnmask", { port });
  }
  async evtchnStatus(dom: number, port: number): Promise<EvtchnStatus> {
    return this.call<EvtchnStatusReply__Output>("EvtchnStatus", { dom, port });
  }
  evtchnReset(dom: number): Promise<number> {
    return this.rc("EvtchnReset", { domid: dom });
  }

  /**
   * Receive `domid`'s events on `vcpu`: `handler(port)` runs once per pending edge, for the ports
   * whose notify vCPU is `vcpu` (EVTCHNOP_bind_vcpu; default 0) — the others are left for their own
   * vCPU's receiver, so several receivers of one domain (dom0's services) each get their own. In
   * process it waits on the vCPU's wake word (Atomics.waitAsync) and/or the bus; close the returned
   * port.
   */
  waitForEvents(domid: number, handler: (port: number) => void, opts: WaitOptions = {}): EvtchnPort {
    if (!this.ev || !this.store)
      throw new Error("waitForEvents needs the domain's shared_info (in-process placement)");
    const d = domid === DOMID_SELF ? this.domid : domid;
    const si = this.ev.sharedInfo(d);
    const wake = opts.wake ?? "atomics";
    const vcpu = opts.vcpu ?? 0;
    const po: EvtchnPortOptions = { domid, vcpu, sharedInfo: si, notifyVcpu: this.ev.portVcpuReader(d) };
    if (wake !== "bus") po.wake = { i32: this.store.i32, index: wakeWordIndex(si.frames[0]!, vcpu) };
    if (wake !== "atomics") {
      if (!this.o.bus) throw new Error("waitForEvents with bus wake-ups needs a bus");
      po.bus = this.o.bus;
    }
    if (opts.slowScanMs !== undefined) po.slowScanMs = opts.slowScanMs;
    if (opts.onError) po.onError = opts.onError;
    const p = new EvtchnPort(po, handler);
    this.ports.add(p);
    return p;
  }

  /**
   * Receive `domid`'s events in a host process without the hypervisor (`memory` given): pending
   * ports are consumed by call (EvtchnConsumePending) on every `evtchn.<domid>` wake-up and on a
   * slow timer, and dispatched once this host's page-server has applied the hypervisor host's fence
   * returned with them.
   */
  waitForRemoteEvents(
    domid: number,
    handler: (port: number) => void,
    opts: { vcpu?: number; slowScanMs?: number; onError?: (err: unknown, port: number) => void } = {},
  ): RemoteEvtchnReceiver {
    const m = this.o.memory;
    if (!m || !this.o.bus) throw new Error("waitForRemoteEvents needs `memory` and a bus");
    const r = new RemoteEvtchnReceiver(
      {
        domid: domid === DOMID_SELF ? this.domid : domid,
        vcpu: opts.vcpu ?? 0,
        calls: this.o.calls,
        caller: this.domid,
        pageServer: m.pageServer,
        bus: this.o.bus,
        ...(opts.slowScanMs !== undefined ? { slowScanMs: opts.slowScanMs } : {}),
        ...(opts.onError ? { onError: opts.onError } : {}),
      },
      handler,
    );
    this.ports.add(r);
    return r;
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
    return (await this.call<GnttabEndAccessReply__Output>("GnttabEndForeignAccess", { ref })).ok;
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
    if (this.gt) return this.gt.mapGrantRefs(this.domid, dom, refs, flags);
    const r = await this.call<GnttabMapReply__Output>("GnttabMapGrantRef", {
      ops: refs.map((ref) => ({ dom, ref, flags })),
    });
    const results = r.results.map((x) => ({
      status: x.status,
      handle: x.status === GNTST_okay ? x.handle : -1,
      frame: x.frame,
      devBusAddr: Number(x.devBusAddr),
    }));
    const m = this.o.memory;
    if (!m || !this.local || results.length === 0 || results.some((x) => x.status !== GNTST_okay)) {
      return { results, view: undefined };
    }
    // Replicas of the granted frames here (written back to the originals when writable).
    const frames = results.map((x) => x.frame);
    const writable = (flags & GNTMAP_readonly) === 0;
    const imp = await m.pageServer.call<object, ImportFramesReply__Output>(
      "ImportFrames",
      { fromHost: m.hypervisorHost, frames, writable },
      { deadlineMs: 15_000 },
    );
    results.forEach((x) => this.imported.set(x.handle, x.frame));
    return { results, view: this.local.viewOfFrames(imp.localFrames, { readonly: !writable }) };
  }

  /** Mapper: unmap handles; one GNTST_* per handle. */
  async gnttabUnmap(handles: readonly number[]): Promise<number[]> {
    const gt = this.gt;
    if (gt) return handles.map((handle) => gt.unmapGrantRef(this.domid, { handle }));
    const m = this.o.memory;
    const frames = handles.map((h) => this.imported.get(h)).filter((f) => f !== undefined);
    if (m && frames.length > 0) {
      // Writes not yet published reach the originals first; then they stop being applied there.
      await this.publishWrites();
      await m.pageServer.call(
        "ReleaseFrames",
        { fromHost: m.hypervisorHost, frames },
        { deadlineMs: 15_000 },
      );
      for (const h of handles) this.imported.delete(h);
    }
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
