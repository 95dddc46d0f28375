// Hypervisor side of event channels (xen/common/event_channel.c semantics, 2-level ABI). Every
// domain's port table lives in the PageStore's shared buffer (buckets of 256 ports in DOMID_XEN
// frames, reached from the domain's control block at DomCtl.EVTCHN_BASE), pending/mask bits in the
// domain's shared_info frame: any number of EventChannels objects in any threads act on the same
// tables. The wake-up is an injected `notify(domid, vcpu, port)`.
//
// Locking as Xen: the domain's event lock serialises allocation, binding and closing; each port has
// its own lock, taken by send and by every state change, so a send never sees a half-closed channel.
// Two domains' event locks are taken in domid order, two ports' locks in (domid, port) order.

import {
  DOMID_SELF,
  DOMID_XEN,
  EVTCHNSTAT_closed,
  EVTCHNSTAT_interdomain,
  EVTCHNSTAT_ipi,
  EVTCHNSTAT_pirq,
  EVTCHNSTAT_unbound,
  EVTCHNSTAT_virq,
  NR_VIRQS,
  PER_VCPU_VIRQS,
  XEN_LEGACY_MAX_VCPUS,
  XenErrno,
} from "@xensim/abi";
import { DomCtl, lockWord, type MemView, PAGE_SIZE, type PageStore, unlockWord } from "@xensim/memory";
import { TRACE_EVTCHN, tracer } from "@xensim/trace";
import { clearPending, isPending, NR_2L_PORTS, raisePending, setPending, unmaskPort } from "./two-level.js";

/** Xen's internal channel states (ECS_*). */
export const ECS = Object.freeze({
  FREE: 0,
  RESERVED: 1,
  UNBOUND: 2,
  INTERDOMAIN: 3,
  PIRQ: 4,
  VIRQ: 5,
  IPI: 6,
} as const);

const EINVAL = -XenErrno.EINVAL;
const ENOSPC = -XenErrno.ENOSPC;
const ESRCH = -XenErrno.ESRCH;
const ENOENT = -XenErrno.ENOENT;
const EEXIST = -XenErrno.EEXIST;
const EPERM = -XenErrno.EPERM;

const WORDS = PAGE_SIZE / 4;
const PORTS_PER_BUCKET = 256; // 16-byte port entries
const MAX_BUCKETS = NR_2L_PORTS / PORTS_PER_BUCKET;

// Words of the domain control block, relative to DomCtl.EVTCHN_BASE.
const E_LOCK = 0;
const E_STATE = 1; // 1 = initialized
const E_SHARED_INFO = 2;
const E_MAX_VCPUS = 3;
const E_MAX_PORTS = 4;
const E_VALID = 5; // ports with storage (buckets * 256, capped at max)
const E_VIRQ_FRAME = 6; // [vcpu * NR_VIRQS + virq] → port; [XEN_WAKE_BASE + vcpu] Xen's wake words
const E_BUCKETS = 16; // .. +16

// Words of the VIRQ frame past the VIRQ slots (XEN_LEGACY_MAX_VCPUS * NR_VIRQS = 768 of them): one
// wake word per vCPU for notifications of Xen-consumed ports (Xen's vcpu_wake of the waiting vCPU).
const XEN_WAKE_BASE = 1024 - XEN_LEGACY_MAX_VCPUS;

// Port entry words: +0 lock, +1 state | vcpu << 8 | XEN_CONSUMER, +2 dom/virq, +3 remote port.
const P_LOCK = 0;
const P_STATE = 1;
const P_A = 2;
const P_B = 3;
/** State-word flag of a Xen-consumed port (alloc_unbound_xen_event_channel: xen_consumer). */
const XEN_CONSUMER = 1 << 16;

/** Raised for misuse by the hypervisor code (guest errors are negative errno returns). */
export class EventChannelError extends Error {
  override readonly name = "EventChannelError";
  constructor(
    readonly code: "no_domain" | "exists" | "no_memory" | "bad_argument",
    message: string,
  ) {
    super(message);
  }
}

/** The wake-up hook: Atomics.notify in-process, a bus message across processes. */
export type NotifyFn = (domid: number, vcpu: number, port: number) => void;

export interface EvtchnPolicy {
  /** May `caller` act on `domid`'s channels (alloc_unbound for, status of, reset)? Default: self or privileged. */
  mayControl?(caller: number, domid: number): boolean;
  /** May `caller` bind to `remote`'s port (XSM evtchn_interdomain)? Default: yes. */
  mayBind?(caller: number, remote: number): boolean;
}

export interface EvtchnInitOptions {
  /** The domain's shared_info frame (pending/mask bits and vcpu_info live there). */
  sharedInfoFrame: number;
  /** vCPUs (1..32). */
  maxVcpus?: number;
  /** Xen's max_evtchn_port + 1 (default and at most 4096, the 2-level limit for 64-bit guests). */
  maxPorts?: number;
}

export interface PortResult {
  /** 0 or a negative errno. */
  rc: number;
  port: number;
}

export interface EvtchnStatus {
  rc: number;
  /** EVTCHNSTAT_*. */
  status: number;
  vcpu: number;
  /** unbound: the accepted remote domain; interdomain: the peer domain. */
  dom?: number;
  /** interdomain: the peer port. */
  port?: number;
  /** virq / pirq number. */
  virq?: number;
}

export class EventChannels {
  private readonly i32: Int32Array;
  private readonly notify: NotifyFn;

  private readonly policy: EvtchnPolicy;
  private readonly siViews = new Map<number, MemView>();

  constructor(
    readonly store: PageStore,
    opts: { notify?: NotifyFn; policy?: EvtchnPolicy } = {},
  ) {
    this.i32 = store.i32;
    this.notify = opts.notify ?? (() => {});
    this.policy = opts.policy ?? {};
  }

  // ---- per-domain words -----------------------------------------------------------------------

  private ew(domid: number, w: number): number {
    return this.store.controlWordIndex(domid, DomCtl.EVTCHN_BASE + w);
  }

  private live(domid: number): boolean {
    const s = this.ew(domid, E_STATE);
    return s >= 0 && Atomics.load(this.i32, s) === 1 && this.store.domainExists(domid);
  }

  private valid(d: number, port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < Atomics.load(this.i32, this.ew(d, E_VALID));
  }

  /** Int32 index of port entry `port` of `d` (port must be valid). */
  private pIdx(d: number, port: number): number {
    const bucket = Atomics.load(this.i32, this.ew(d, E_BUCKETS) + Math.floor(port / PORTS_PER_BUCKET));
    return bucket * WORDS + (port % PORTS_PER_BUCKET) * 4;
  }

  private state(p: number): number {
    return Atomics.load(this.i32, p + P_STATE) & 0xff;
  }
  private vcpuOf(p: number): number {
    return (Atomics.load(this.i32, p + P_STATE) >>> 8) & 0xff;
  }
  private xenConsumer(p: number): boolean {
    return (Atomics.load(this.i32, p + P_STATE) & XEN_CONSUMER) !== 0;
  }
  /** A port keeps its Xen-consumer flag through unbound ↔ interdomain; freeing drops it. */
  private setState(p: number, state: number, vcpu: number, a = 0, b = 0): void {
    const keep = state === ECS.FREE ? 0 : Atomics.load(this.i32, p + P_STATE) & XEN_CONSUMER;
    Atomics.store(this.i32, p + P_A, a);
    Atomics.store(this.i32, p + P_B, b);
    Atomics.store(this.i32, p + P_STATE, state | (vcpu << 8) | keep);
  }

  /** The domain's shared_info frame (0 when it has no event channels): one load, no view. */
  sharedInfoFrame(domid: number): number {
    const w = this.ew(domid, E_SHARED_INFO);
    return w < 0 ? 0 : Atomics.load(this.i32, w);
  }

  /** The domain's shared_info (for its guest side: scanPending, maskPort, …). */
  sharedInfo(domid: number): MemView {
    const frame = this.sharedInfoFrame(domid);
    if (!frame) throw new EventChannelError("no_domain", `no event channels for ${domid}`);
    // A view is only a window on the shared buffer: one per frame number serves every send (the
    // per-I/O path), whichever domain the frame belongs to at the time.
    let v = this.siViews.get(frame);
    if (!v) {
      if (this.siViews.size >= 1024) this.siViews.clear();
      v = this.store.viewOfFrames([frame]);
      this.siViews.set(frame, v);
    }
    return v;
  }

  private resolve(caller: number, d: number): number {
    return d === DOMID_SELF ? caller : d;
  }

  private mayControl(caller: number, d: number): boolean {
    return this.policy.mayControl
      ? this.policy.mayControl(caller, d)
      : caller === d || this.store.isPrivileged(caller);
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** evtchn_init: port 0 reserved, 2-level ABI on the given shared_info frame. */
  initDomain(domid: number, opts: EvtchnInitOptions): void {
    const maxVcpus = opts.maxVcpus ?? 1;
    const maxPorts = opts.maxPorts ?? NR_2L_PORTS;
    if (!Number.isInteger(maxVcpus) || maxVcpus < 1 || maxVcpus > XEN_LEGACY_MAX_VCPUS)
      throw new EventChannelError("bad_argument", `maxVcpus must be in [1, ${XEN_LEGACY_MAX_VCPUS}]`);
    if (!Number.isInteger(maxPorts) || maxPorts < 2 || maxPorts > NR_2L_PORTS)
      throw new EventChannelError("bad_argument", `maxPorts must be in [2, ${NR_2L_PORTS}]`);
    if (!this.store.domainExists(domid)) throw new EventChannelError("no_domain", `no live domain ${domid}`);
    if (this.store.frameOwner(opts.sharedInfoFrame) !== domid)
      throw new EventChannelError("bad_argument", "shared_info frame must be owned by the domain");
    if (Atomics.load(this.i32, this.ew(domid, E_STATE)) !== 0)
      throw new EventChannelError("exists", `domain ${domid} has event channels`);
    const virq = this.store.allocFrame(DOMID_XEN);
    const b0 = virq && this.store.allocFrame(DOMID_XEN);
    if (!virq || !b0) {
      if (virq) this.store.freeFrame(virq);
      throw new EventChannelError("no_memory", "no frame for the port table");
    }
    Atomics.store(this.i32, this.ew(domid, E_SHARED_INFO), opts.sharedInfoFrame);
    Atomics.store(this.i32, this.ew(domid, E_MAX_VCPUS), maxVcpus);
    Atomics.store(this.i32, this.ew(domid, E_MAX_PORTS), maxPorts);
    Atomics.store(this.i32, this.ew(domid, E_VIRQ_FRAME), virq);
    Atomics.store(this.i32, this.ew(domid, E_BUCKETS), b0);
    this.i32[b0 * WORDS + P_STATE] = ECS.RESERVED; // port 0
    Atomics.store(this.i32, this.ew(domid, E_VALID), Math.min(PORTS_PER_BUCKET, maxPorts));
    Atomics.store(this.i32, this.ew(domid, E_STATE), 1);
  }

  /** evtchn_destroy: close every port (interdomain peers go back to unbound) and free the table. */
  destroyDomain(domid: number): void {
    const st = this.ew(domid, E_STATE);
    if (st < 0 || Atomics.load(this.i32, st) !== 1) return;
    this.closeAll(domid, false);
    Atomics.store(this.i32, st, 0);
    const lock = this.ew(domid, E_LOCK);
    lockWord(this.i32, lock);
    try {
      for (let i = 0; i < MAX_BUCKETS; i++) {
        const b = Atomics.exchange(this.i32, this.ew(domid, E_BUCKETS) + i, 0);
        if (b) this.store.freeFrame(b);
      }
      this.store.freeFrame(Atomics.exchange(this.i32, this.ew(domid, E_VIRQ_FRAME), 0));
      Atomics.store(this.i32, this.ew(domid, E_VALID), 0);
      Atomics.store(this.i32, this.ew(domid, E_SHARED_INFO), 0);
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /** Close every port; as the guest (`evtchn_reset`), Xen-consumed ports survive. */
  private closeAll(d: number, guest: boolean): void {
    const valid = Atomics.load(this.i32, this.ew(d, E_VALID));
    for (let port = 1; port < valid; port++) {
      const p = this.pIdx(d, port);
      const s = this.state(p);
      if (s === ECS.FREE || s === ECS.RESERVED) continue;
      if (guest && this.xenConsumer(p)) continue;
      this.closePort(d, port);
    }
  }

  /** EVTCHNOP_reset: close every port of `dom` (self or privileged). */
  evtchnReset(caller: number, dom: number): number {
    const d = this.resolve(caller, dom);
    if (!this.live(d)) return ESRCH;
    if (!this.mayControl(caller, d)) return EPERM;
    this.closeAll(d, true);
    return 0;
  }

  /**
   * Soft reset's shared_info replacement: the domain's pending/mask bits and vcpu_info move to
   * `frame` (a fresh frame it owns). Returns the previous frame, for the caller to free.
   */
  replaceSharedInfo(domid: number, frame: number): number {
    if (!this.live(domid)) throw new EventChannelError("no_domain", `no event channels for ${domid}`);
    if (this.store.frameOwner(frame) !== domid)
      throw new EventChannelError("bad_argument", "shared_info frame must be owned by the domain");
    const lock = this.ew(domid, E_LOCK);
    lockWord(this.i32, lock);
    try {
      return Atomics.exchange(this.i32, this.ew(domid, E_SHARED_INFO), frame);
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  // ---- ports ----------------------------------------------------------------------------------

  /** get_free_port (event lock held): the lowest free port ≥ 1, growing storage by a bucket. */
  private getFreePort(d: number): number {
    const validW = this.ew(d, E_VALID);
    const valid = Atomics.load(this.i32, validW);
    for (let port = 1; port < valid; port++) if (this.state(this.pIdx(d, port)) === ECS.FREE) return port;
    const max = Atomics.load(this.i32, this.ew(d, E_MAX_PORTS));
    if (valid >= max) return ENOSPC;
    const b = this.store.allocFrame(DOMID_XEN);
    if (!b) return -XenErrno.ENOMEM;
    Atomics.store(this.i32, this.ew(d, E_BUCKETS) + valid / PORTS_PER_BUCKET, b);
    Atomics.store(this.i32, validW, Math.min(valid + PORTS_PER_BUCKET, max));
    return valid;
  }

  /** Free a port (its lock held): state free, vCPU 0, pending bit cleared. */
  private freePort(d: number, port: number, p: number): void {
    this.setState(p, ECS.FREE, 0);
    clearPending(this.sharedInfo(d), port);
  }

  private lockDomains(a: number, b: number): void {
    const [x, y] = a <= b ? [a, b] : [b, a];
    lockWord(this.i32, this.ew(x, E_LOCK));
    if (y !== x) lockWord(this.i32, this.ew(y, E_LOCK));
  }
  private unlockDomains(a: number, b: number): void {
    unlockWord(this.i32, this.ew(a, E_LOCK));
    if (a !== b) unlockWord(this.i32, this.ew(b, E_LOCK));
  }
  private lockPorts(d1: number, p1: number, d2: number, p2: number): [number, number] {
    const a = this.pIdx(d1, p1);
    const b = this.pIdx(d2, p2);
    const first = d1 < d2 || (d1 === d2 && p1 <= p2) ? a : b;
    const second = first === a ? b : a;
    lockWord(this.i32, first + P_LOCK);
    if (second !== first) lockWord(this.i32, second + P_LOCK);
    return [a, b];
  }
  private unlockPorts(a: number, b: number): void {
    unlockWord(this.i32, a + P_LOCK);
    if (a !== b) unlockWord(this.i32, b + P_LOCK);
  }

  /** EVTCHNOP_alloc_unbound: a port of `dom` that accepts a bind from `remoteDom`. */
  allocUnbound(caller: number, op: { dom: number; remoteDom: number }): PortResult {
    const d = this.resolve(caller, op.dom);
    if (!this.live(d)) return { rc: ESRCH, port: 0 };
    const remote = this.resolve(caller, op.remoteDom);
    const lock = this.ew(d, E_LOCK);
    lockWord(this.i32, lock);
    try {
      const port = this.getFreePort(d);
      if (port < 0) return { rc: port, port: 0 };
      if (!this.mayControl(caller, d)) return { rc: EPERM, port: 0 };
      const p = this.pIdx(d, port);
      lockWord(this.i32, p + P_LOCK);
      this.setState(p, ECS.UNBOUND, 0, remote);
      unlockWord(this.i32, p + P_LOCK);
      return { rc: 0, port };
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /**
   * EVTCHNOP_bind_interdomain: bind a new local port to `remoteDom`'s unbound port that accepts the
   * caller. The new local port starts pending (covers sends made before the bind).
   */
  bindInterdomain(caller: number, op: { remoteDom: number; remotePort: number }): PortResult {
    const ld = caller;
    const rd = this.resolve(caller, op.remoteDom);
    if (!this.live(ld)) return { rc: ESRCH, port: 0 };
    if (!this.live(rd)) return { rc: ESRCH, port: 0 };
    this.lockDomains(ld, rd);
    try {
      const lport = this.getFreePort(ld);
      if (lport < 0) return { rc: lport, port: 0 };
      const rport = op.remotePort;
      if (!this.valid(rd, rport)) return { rc: EINVAL, port: 0 };
      const r = this.pIdx(rd, rport);
      if (this.state(r) !== ECS.UNBOUND || Atomics.load(this.i32, r + P_A) !== ld)
        return { rc: EINVAL, port: 0 };
      if (this.policy.mayBind && !this.policy.mayBind(ld, rd)) return { rc: EPERM, port: 0 };
      const [l] = this.lockPorts(ld, lport, rd, rport);
      try {
        this.setState(l, ECS.INTERDOMAIN, 0, rd, rport);
        this.setState(r, ECS.INTERDOMAIN, this.vcpuOf(r), ld, lport);
        this.raise(ld, 0, lport);
      } finally {
        this.unlockPorts(l, r);
      }
      return { rc: 0, port: lport };
    } finally {
      this.unlockDomains(ld, rd);
    }
  }

  /** EVTCHNOP_bind_virq: per-vCPU VIRQs once per vCPU, the others on vCPU 0. */
  bindVirq(caller: number, op: { virq: number; vcpu: number }): PortResult {
    const d = caller;
    const { virq, vcpu } = op;
    if (!this.live(d)) return { rc: ESRCH, port: 0 };
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return { rc: EINVAL, port: 0 };
    if (!PER_VCPU_VIRQS.includes(virq) && vcpu !== 0) return { rc: EINVAL, port: 0 };
    if (!this.vcpuOk(d, vcpu)) return { rc: ENOENT, port: 0 };
    const lock = this.ew(d, E_LOCK);
    lockWord(this.i32, lock);
    try {
      const slot = this.virqSlot(d, vcpu, virq);
      if (Atomics.load(this.i32, slot)) return { rc: EEXIST, port: 0 };
      const port = this.getFreePort(d);
      if (port < 0) return { rc: port, port: 0 };
      const p = this.pIdx(d, port);
      lockWord(this.i32, p + P_LOCK);
      this.setState(p, ECS.VIRQ, vcpu, virq);
      unlockWord(this.i32, p + P_LOCK);
      Atomics.store(this.i32, slot, port);
      return { rc: 0, port };
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /** EVTCHNOP_bind_ipi: a port that notifies the caller's own `vcpu`. */
  bindIpi(caller: number, op: { vcpu: number }): PortResult {
    const d = caller;
    if (!this.live(d)) return { rc: ESRCH, port: 0 };
    if (!this.vcpuOk(d, op.vcpu)) return { rc: ENOENT, port: 0 };
    const lock = this.ew(d, E_LOCK);
    lockWord(this.i32, lock);
    try {
      const port = this.getFreePort(d);
      if (port < 0) return { rc: port, port: 0 };
      const p = this.pIdx(d, port);
      lockWord(this.i32, p + P_LOCK);
      this.setState(p, ECS.IPI, op.vcpu);
      unlockWord(this.i32, p + P_LOCK);
      return { rc: 0, port };
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /**
   * EVTCHNOP_bind_vcpu: notify another vCPU. Unbound, interdomain and global-VIRQ ports (PIRQs too);
   * per-vCPU VIRQs and IPIs → -EINVAL, a vCPU the domain does not have → -ENOENT. A port that is
   * pending (and unmasked) is raised again on its new vCPU — what Linux's mask / bind_vcpu / unmask
   * does — so moving it never strands the event on the old vCPU. An interdomain port is moved under
   * the peer port's lock too, the lock a send from the peer holds while it reads the notify vCPU:
   * a send lands wholly before the move (and is re-raised) or wholly after it.
   */
  bindVcpu(caller: number, op: { port: number; vcpu: number }): number {
    const d = caller;
    if (!this.live(d)) return ESRCH;
    if (!this.vcpuOk(d, op.vcpu)) return ENOENT;
    const lock = this.ew(d, E_LOCK);
    lockWord(this.i32, lock);
    try {
      if (!this.valid(d, op.port)) return EINVAL;
      const p = this.pIdx(d, op.port);
      const s = this.state(p);
      if (this.xenConsumer(p)) return EINVAL; // a guest cannot re-bind a Xen-attached channel
      if (s === ECS.VIRQ && PER_VCPU_VIRQS.includes(Atomics.load(this.i32, p + P_A))) return EINVAL;
      if (s !== ECS.UNBOUND && s !== ECS.INTERDOMAIN && s !== ECS.VIRQ && s !== ECS.PIRQ) return EINVAL;
      // The peer of an interdomain port cannot change while we hold our event lock (closing
      // either end takes both domains' event locks).
      const peer =
        s === ECS.INTERDOMAIN
          ? { d: Atomics.load(this.i32, p + P_A), port: Atomics.load(this.i32, p + P_B) }
          : undefined;
      const [a, b] = peer ? this.lockPorts(d, op.port, peer.d, peer.port) : [p, p];
      if (!peer) lockWord(this.i32, p + P_LOCK);
      try {
        const w = Atomics.load(this.i32, p + P_STATE);
        Atomics.store(this.i32, p + P_STATE, (w & 0xff) | (op.vcpu << 8) | (w & XEN_CONSUMER));
        this.moved(d, op.vcpu, op.port);
      } finally {
        this.unlockPorts(a, b);
      }
      return 0; // a global VIRQ stays registered in vCPU 0's slot
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /**
   * The notify vCPU of `domid`'s ports, read from the shared port table (any thread, any time):
   * the `notifyVcpu` of `scanPending`. Ports without storage read as vCPU 0.
   */
  portVcpuReader(domid: number): (port: number) => number {
    const i32 = this.i32;
    return (port) => {
      const validW = this.ew(domid, E_VALID); // re-resolved: the domain may come and go
      if (validW < 0 || !(port >= 0 && port < Atomics.load(i32, validW))) return 0;
      const bucket = Atomics.load(i32, this.ew(domid, E_BUCKETS) + Math.floor(port / PORTS_PER_BUCKET));
      if (!bucket) return 0;
      return (Atomics.load(i32, bucket * WORDS + (port % PORTS_PER_BUCKET) * 4 + P_STATE) >>> 8) & 0xff;
    };
  }

  /**
   * Where a send on `caller`'s `port` lands: the peer (domid, vCPU) of an interdomain port, or
   * undefined for any other state. A read of the shared port table without the lock (a hint: the
   * channel may change right after).
   */
  sendTarget(caller: number, port: number): { domid: number; vcpu: number } | undefined {
    if (!this.live(caller) || !this.valid(caller, port)) return undefined;
    const p = this.pIdx(caller, port);
    if (this.state(p) !== ECS.INTERDOMAIN) return undefined;
    const rd = Atomics.load(this.i32, p + P_A);
    const rport = Atomics.load(this.i32, p + P_B);
    if (!this.valid(rd, rport)) return undefined;
    return { domid: rd, vcpu: this.vcpuOf(this.pIdx(rd, rport)) };
  }

  /** The notify vCPU of (domid, port) — see portVcpuReader. */
  portVcpu(domid: number, port: number): number {
    return this.portVcpuReader(domid)(port);
  }

  private vcpuOk(d: number, vcpu: number): boolean {
    return Number.isInteger(vcpu) && vcpu >= 0 && vcpu < Atomics.load(this.i32, this.ew(d, E_MAX_VCPUS));
  }

  private virqSlot(d: number, vcpu: number, virq: number): number {
    return Atomics.load(this.i32, this.ew(d, E_VIRQ_FRAME)) * WORDS + vcpu * NR_VIRQS + virq;
  }

  /** EVTCHNOP_close on the caller's own port. */
  evtchnClose(caller: number, port: number): number {
    if (!this.live(caller)) return ESRCH;
    // A guest cannot close a Xen-attached event channel.
    if (this.valid(caller, port) && this.xenConsumer(this.pIdx(caller, port))) return EINVAL;
    return this.closePort(caller, port);
  }

  /** evtchn_close(d, port): frees the port; an interdomain peer goes back to unbound. */
  private closePort(d: number, port: number): number {
    for (;;) {
      lockWord(this.i32, this.ew(d, E_LOCK));
      if (!this.valid(d, port)) {
        unlockWord(this.i32, this.ew(d, E_LOCK));
        return EINVAL;
      }
      const p = this.pIdx(d, port);
      const s = this.state(p);
      if (s !== ECS.INTERDOMAIN) {
        try {
          if (s === ECS.FREE || s === ECS.RESERVED) return EINVAL;
          lockWord(this.i32, p + P_LOCK);
          if (s === ECS.VIRQ) {
            const virq = Atomics.load(this.i32, p + P_A);
            const slot = this.virqSlot(d, PER_VCPU_VIRQS.includes(virq) ? this.vcpuOf(p) : 0, virq);
            Atomics.compareExchange(this.i32, slot, port, 0);
          }
          this.freePort(d, port, p);
          unlockWord(this.i32, p + P_LOCK);
          return 0;
        } finally {
          unlockWord(this.i32, this.ew(d, E_LOCK));
        }
      }
      // Interdomain: both domains' event locks, taken in domid order (Xen re-checks after relocking).
      const rd = Atomics.load(this.i32, p + P_A);
      const rport = Atomics.load(this.i32, p + P_B);
      if (rd !== d) {
        if (d < rd) lockWord(this.i32, this.ew(rd, E_LOCK));
        else {
          unlockWord(this.i32, this.ew(d, E_LOCK));
          this.lockDomains(d, rd);
          if (
            this.state(p) !== ECS.INTERDOMAIN ||
            Atomics.load(this.i32, p + P_A) !== rd ||
            Atomics.load(this.i32, p + P_B) !== rport
          ) {
            this.unlockDomains(d, rd);
            continue; // changed while unlocked: start again
          }
        }
      }
      try {
        const [l, r] = this.lockPorts(d, port, rd, rport);
        try {
          this.setState(r, ECS.UNBOUND, this.vcpuOf(r), d); // accepts the closer again
          this.freePort(d, port, l);
        } finally {
          this.unlockPorts(l, r);
        }
        return 0;
      } finally {
        this.unlockDomains(d, rd);
      }
    }
  }

  // ---- send / unmask / status -----------------------------------------------------------------

  /**
   * Set pending on (d, port) for `vcpu`; kick via notify when the upcall flag went up. When (d, vcpu)
   * receives on another host process (the link area's placement, docs/data-plane.md), the event
   * goes there instead, and the pending bit is set in that host's shadow of shared_info.
   */
  private raise(d: number, vcpu: number, port: number): void {
    const link = this.store.link;
    if (link !== undefined && link.routeEvent(d, vcpu, port)) return;
    if (setPending(this.sharedInfo(d), vcpu, port)) this.notify(d, vcpu, port);
  }

  /** A port moved to `vcpu`: a pending event follows it (to another host when it is placed there). */
  private moved(d: number, vcpu: number, port: number): void {
    const si = this.sharedInfo(d);
    const link = this.store.link;
    if (link !== undefined && isPending(si, port) && link.placement(d, vcpu) !== 0) {
      clearPending(si, port);
      link.routeEvent(d, vcpu, port);
      return;
    }
    if (raisePending(si, vcpu, port)) this.notify(d, vcpu, port);
  }

  /**
   * (d, vcpu) now receives on another host (`toHost`) or back here: the events pending here for the
   * ports bound to that vCPU move with it. Returns the ports moved.
   */
  placementChanged(d: number, vcpu: number): number[] {
    const link = this.store.link;
    if (link === undefined || !this.live(d)) return [];
    const si = this.sharedInfo(d);
    const valid = Atomics.load(this.i32, this.ew(d, E_VALID));
    const moved: number[] = [];
    for (let port = 1; port < valid; port++) {
      const p = this.pIdx(d, port);
      const st = this.state(p);
      if (st === ECS.FREE || st === ECS.RESERVED || this.vcpuOf(p) !== vcpu) continue;
      if (!isPending(si, port)) continue;
      if (link.placement(d, vcpu) === 0) {
        if (raisePending(si, vcpu, port)) this.notify(d, vcpu, port);
      } else {
        clearPending(si, port);
        link.routeEvent(d, vcpu, port);
      }
      moved.push(port);
    }
    return moved;
  }

  /**
   * EVTCHNOP_send: interdomain → pending on the peer's port (the peer's notify vCPU); IPI → local;
   * unbound → silently dropped (0); anything else → -EINVAL.
   */
  evtchnSend(caller: number, port: number): number {
    if (!this.live(caller)) return ESRCH;
    if (!this.valid(caller, port)) return EINVAL;
    const p = this.pIdx(caller, port);
    lockWord(this.i32, p + P_LOCK);
    try {
      if (this.xenConsumer(p)) return EINVAL; // a guest cannot send via a Xen-attached channel
      switch (this.state(p)) {
        case ECS.INTERDOMAIN: {
          const rd = Atomics.load(this.i32, p + P_A);
          const rport = Atomics.load(this.i32, p + P_B);
          const r = this.pIdx(rd, rport);
          const vcpu = this.vcpuOf(r);
          if (tracer.mask & TRACE_EVTCHN)
            tracer.emit({
              kind: "evtchn",
              op: "send",
              domid: caller,
              peer: rd,
              port,
              remotePort: rport,
              vcpu,
              ...(this.xenConsumer(r) ? { consumer: "xen" } : {}),
            });
          if (this.xenConsumer(r)) this.xenNotify(rd, vcpu);
          else this.raise(rd, vcpu, rport);
          return 0;
        }
        case ECS.IPI:
          if (tracer.mask & TRACE_EVTCHN)
            tracer.emit({ kind: "evtchn", op: "ipi", domid: caller, port, vcpu: this.vcpuOf(p) });
          this.raise(caller, this.vcpuOf(p), port);
          return 0;
        case ECS.UNBOUND:
          return 0;
        default:
          return EINVAL;
      }
    } finally {
      unlockWord(this.i32, p + P_LOCK);
    }
  }

  // ---- Xen-consumed channels (alloc_unbound_xen_event_channel, ioreq servers) -----------------

  /**
   * alloc_unbound_xen_event_channel: a port of `domid` that Xen itself consumes (no pending bit in
   * the guest's shared_info: a send from the bound peer wakes `vcpu` through its Xen wake word).
   * It accepts a bind from `remoteDom`. The guest cannot send on, close or re-bind it (-EINVAL);
   * EVTCHNOP_reset leaves it; domain destruction and `freeXenPort` close it.
   */
  allocXenUnbound(domid: number, vcpu: number, remoteDom: number): PortResult {
    if (!this.live(domid)) return { rc: ESRCH, port: 0 };
    if (!this.vcpuOk(domid, vcpu)) return { rc: ENOENT, port: 0 };
    const lock = this.ew(domid, E_LOCK);
    lockWord(this.i32, lock);
    try {
      const port = this.getFreePort(domid);
      if (port < 0) return { rc: port, port: 0 };
      const p = this.pIdx(domid, port);
      lockWord(this.i32, p + P_LOCK);
      this.setState(p, ECS.UNBOUND, vcpu, remoteDom);
      Atomics.or(this.i32, p + P_STATE, XEN_CONSUMER);
      unlockWord(this.i32, p + P_LOCK);
      return { rc: 0, port };
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /** free_xen_event_channel: close a Xen-consumed port (a bound peer goes back to unbound). */
  freeXenPort(domid: number, port: number): number {
    if (!this.live(domid)) return ESRCH;
    if (!this.valid(domid, port) || !this.xenConsumer(this.pIdx(domid, port))) return EINVAL;
    return this.closePort(domid, port);
  }

  /** Is (domid, port) a Xen-consumed port? */
  isXenPort(domid: number, port: number): boolean {
    return this.live(domid) && this.valid(domid, port) && this.xenConsumer(this.pIdx(domid, port));
  }

  /**
   * notify_via_xen_event_channel: Xen sends on its own port of `domid` — interdomain → pending on
   * the bound peer's port (the emulator's); unbound → dropped (0). Not a Xen-consumed port → -EINVAL.
   */
  xenSend(domid: number, port: number): number {
    if (!this.live(domid)) return ESRCH;
    if (!this.valid(domid, port)) return EINVAL;
    const p = this.pIdx(domid, port);
    lockWord(this.i32, p + P_LOCK);
    try {
      if (!this.xenConsumer(p)) return EINVAL;
      if (this.state(p) !== ECS.INTERDOMAIN) return 0;
      const rd = Atomics.load(this.i32, p + P_A);
      const rport = Atomics.load(this.i32, p + P_B);
      this.raise(rd, this.vcpuOf(this.pIdx(rd, rport)), rport);
      return 0;
    } finally {
      unlockWord(this.i32, p + P_LOCK);
    }
  }

  /**
   * Int32 index (in the store's buffer) of Xen's wake word for `domid`'s `vcpu`: a counter that a
   * send to one of the domain's Xen-consumed ports bumps and Atomics.notify's. A vCPU blocked on a
   * Xen-consumed channel (wait_on_xen_event_channel) reads it, checks its condition, then
   * Atomics.wait's on the value it read. -1 when the domain has no event channels.
   */
  xenWakeWordIndex(domid: number, vcpu: number): number {
    const w = this.ew(domid, E_VIRQ_FRAME);
    if (w < 0 || !Number.isInteger(vcpu) || vcpu < 0 || vcpu >= XEN_LEGACY_MAX_VCPUS) return -1;
    const frame = Atomics.load(this.i32, w);
    return frame ? frame * WORDS + XEN_WAKE_BASE + vcpu : -1;
  }

  /** Xen's default notification of a Xen-consumed port: wake the vCPU (all its waiters). */
  xenNotify(domid: number, vcpu: number): void {
    const w = this.xenWakeWordIndex(domid, vcpu);
    if (w < 0) return;
    Atomics.add(this.i32, w, 1);
    Atomics.notify(this.i32, w);
  }

  /** send_guest_vcpu_virq / send_guest_global_virq: raise `virq` if the domain bound it. */
  sendVirq(domid: number, virq: number, vcpu = 0): boolean {
    if (!this.live(domid) || !Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return false;
    const v = PER_VCPU_VIRQS.includes(virq) ? vcpu : 0;
    if (!this.vcpuOk(domid, v)) return false;
    const port = Atomics.load(this.i32, this.virqSlot(domid, v, virq));
    if (!port) return false;
    const p = this.pIdx(domid, port);
    lockWord(this.i32, p + P_LOCK);
    try {
      if (this.state(p) !== ECS.VIRQ) return false;
      if (tracer.mask & TRACE_EVTCHN) tracer.emit({ kind: "evtchn", op: "virq", domid, port, virq, vcpu: v });
      this.raise(domid, this.vcpuOf(p), port);
      return true;
    } finally {
      unlockWord(this.i32, p + P_LOCK);
    }
  }

  /** EVTCHNOP_unmask: clear the mask bit; raises an event that arrived while masked. */
  evtchnUnmask(caller: number, port: number): number {
    if (!this.live(caller)) return ESRCH;
    if (!this.valid(caller, port)) return EINVAL;
    const p = this.pIdx(caller, port);
    const vcpu = this.vcpuOf(p);
    if (unmaskPort(this.sharedInfo(caller), vcpu, port)) this.notify(caller, vcpu, port);
    return 0;
  }

  /** EVTCHNOP_status. */
  evtchnStatus(caller: number, op: { dom: number; port: number }): EvtchnStatus {
    const d = this.resolve(caller, op.dom);
    if (!this.live(d)) return { rc: ESRCH, status: EVTCHNSTAT_closed, vcpu: 0 };
    if (!this.valid(d, op.port)) return { rc: EINVAL, status: EVTCHNSTAT_closed, vcpu: 0 };
    if (!this.mayControl(caller, d)) return { rc: EPERM, status: EVTCHNSTAT_closed, vcpu: 0 };
    const p = this.pIdx(d, op.port);
    lockWord(this.i32, p + P_LOCK);
    try {
      const vcpu = this.vcpuOf(p);
      const a = Atomics.load(this.i32, p + P_A);
      switch (this.state(p)) {
        case ECS.UNBOUND:
          return { rc: 0, status: EVTCHNSTAT_unbound, vcpu, dom: a };
        case ECS.INTERDOMAIN:
          return {
            rc: 0,
            status: EVTCHNSTAT_interdomain,
            vcpu,
            dom: a,
            port: Atomics.load(this.i32, p + P_B),
          };
        case ECS.PIRQ:
          return { rc: 0, status: EVTCHNSTAT_pirq, vcpu, virq: a };
        case ECS.VIRQ:
          return { rc: 0, status: EVTCHNSTAT_virq, vcpu, virq: a };
        case ECS.IPI:
          return { rc: 0, status: EVTCHNSTAT_ipi, vcpu };
        default:
          return { rc: 0, status: EVTCHNSTAT_closed, vcpu };
      }
    } finally {
      unlockWord(this.i32, p + P_LOCK);
    }
  }

  /**
   * Leak audit of a destroyed domain: the ports it still has, and the ports of every other domain
   * that still name it — interdomain-bound to it, or unbound waiting for it. After Xen destroys a
   * domain its peers' ports fall back to unbound on that domid; a backend that tore down closes
   * them, so any left is a leak (a backend that forgot the guest).
   */
  portsNaming(domid: number): {
    ownPorts: number;
    peerPorts: Array<{ domid: number; port: number; state: "interdomain" | "unbound" }>;
  } {
    const peerPorts: Array<{ domid: number; port: number; state: "interdomain" | "unbound" }> = [];
    for (const d of this.store.domains()) {
      if (d === domid || !this.live(d)) continue;
      const valid = Atomics.load(this.i32, this.ew(d, E_VALID));
      for (let port = 1; port < valid; port++) {
        const p = this.pIdx(d, port);
        const st = this.state(p);
        if (st !== ECS.INTERDOMAIN && st !== ECS.UNBOUND) continue;
        if ((Atomics.load(this.i32, p + P_STATE) & XEN_CONSUMER) !== 0) continue;
        if (Atomics.load(this.i32, p + P_A) !== domid) continue;
        peerPorts.push({ domid: d, port, state: st === ECS.INTERDOMAIN ? "interdomain" : "unbound" });
      }
    }
    return { ownPorts: this.portCount(domid), peerPorts };
  }

  /** Ports in use (not free, not the reserved port 0), for leak checks. */
  portCount(domid: number): number {
    const st = this.ew(domid, E_STATE);
    if (st < 0 || Atomics.load(this.i32, st) !== 1) return 0;
    const valid = Atomics.load(this.i32, this.ew(domid, E_VALID));
    let n = 0;
    for (let port = 1; port < valid; port++) if (this.state(this.pIdx(domid, port)) !== ECS.FREE) n++;
    return n;
  }
}
