// Xen's side of an emulated access, run by the guest's vCPU thread itself on the shared page store:
// classify and select the ioreq server (ioreq_server_select), send synchronously (ioreq_send + the
// notification) and block until IORESP_READY (wait_for_io on Xen's wake word), or queue a buffered
// write (stdvga's VGA-window writes), or let Xen's null handler take it (reads all-ones, writes
// dropped). A protocol violation by the emulator crashes the domain as Xen's domain_crash does.

import {
  HVM_IOREQSRV_BUFIOREQ_OFF,
  IOREQ_LAYOUT,
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_WRITE,
  STATE_IOREQ_NONE,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
} from "@xensim/abi";
import type { EventChannels } from "@xensim/evtchn";
import { DOMID_XEN } from "@xensim/abi";
import { lockWord, type PageStore, unlockWord } from "@xensim/memory";
import { TRACE_IOREQ, tracer } from "@xensim/trace";
import { xenBufSend } from "./buffered.js";
import { BUF_WRITE_POINTER_WORD, bufSlot, type Ioreq, ioreqSlot } from "./codec.js";
import {
  F_ENABLED,
  pauseWord,
  S_BUF_FRAME,
  S_BUF_PORT,
  S_FLAGS,
  S_HANDLING,
  S_INSTANCE,
  S_IOREQ_FRAME,
  S_PORTS,
  S_RANGE_COUNT,
  S_RANGE_FRAME,
  SERVER_IDS,
  serverBase,
  T_CF8,
  T_CRASHED,
  T_LOCK,
  tableBase,
  tableWord,
  WORDS_PER_FRAME,
} from "./layout.js";
import { HvmIrq, irqBase } from "./irq.js";
import { sharedContains } from "./rangeset.js";
import { ALL_ONES, xenCheckIoreq, xenSendIoreq } from "./sync.js";
import { ioreqTraceData, ioreqTraceFields } from "./trace.js";
import { Vpic } from "./vpic.js";

/** The legacy VGA window stdvga forwards through the buffered ring (single direct writes). */
export const VGA_MEM_BASE = 0xa0000n;
export const VGA_MEM_SIZE = 0x20000n;

/** Why Xen crashed the domain (the table's crash word holds the code). */
export const IoreqCrash = Object.freeze({
  badState: 1,
  badPort: 2,
  stateBackwards: 3,
  unknownState: 4,
  noPage: 5,
} as const);

/** The domain was crashed (Xen's domain_crash) while this vCPU emulated an access. */
export class DomainCrashed extends Error {
  override readonly name = "DomainCrashed";
  readonly code = "DOMAIN_CRASHED";
  constructor(
    readonly domid: number,
    readonly reason: string,
  ) {
    super(`domain ${domid} crashed: ${reason}`);
  }
}

/** The domain died (or the vCPU was told to stop) while the vCPU waited for an emulator. */
export class VcpuStopped extends Error {
  override readonly name = "VcpuStopped";
  readonly code = "VCPU_STOPPED";
}

/** `xen`: an access Xen's own device model took (the vPIC ports), never an ioreq server. */
export type IoRoute = "server" | "buffered" | "null" | "dropped" | "xen";

export interface IoResult {
  /** A read's value (all-ones when nobody answered); for writes the value sent. */
  data: bigint;
  route: IoRoute;
  /** The server that took it. */
  serverId?: number;
  /** The server went away (destroyed, or its emulator reset the slot) before answering. */
  emulatorGone?: boolean;
}

/** CF8_ENABLED and hvm_pci_decode_addr of xen/arch/x86/hvm. */
export function decodeCf8(cf8: number, port: number): { enabled: boolean; sbdf: number; reg: number } {
  const bus = (cf8 >>> 16) & 0xff;
  const dev = (cf8 >>> 11) & 0x1f;
  const fn = (cf8 >>> 8) & 7;
  return {
    enabled: (cf8 & 0x8000_0000) !== 0,
    sbdf: (bus << 8) | (dev << 3) | fn,
    reg: (cf8 & 0xfc) | (port & 3),
  };
}

/** The bytes an MMIO access touches (ioreq_mmio_first_byte / last_byte). */
export function mmioFirstByte(req: Ioreq): bigint {
  return req.df ? req.addr - BigInt(req.count - 1) * BigInt(req.size) : req.addr;
}
export function mmioLastByte(req: Ioreq): bigint {
  return req.df ? req.addr + BigInt(req.size) - 1n : req.addr + BigInt(req.count) * BigInt(req.size) - 1n;
}

/** How Xen classifies an access for server selection (arch_ioreq_server_get_type_addr). */
export function classify(req: Ioreq, cf8: number): { type: number; addr: bigint } | undefined {
  if (req.type === IOREQ_TYPE_PIO) {
    const port = Number(req.addr & 0xffffn);
    if ((port & ~3) === 0xcfc) {
      const c = decodeCf8(cf8, port);
      if (c.enabled) return { type: XEN_DMOP_IO_RANGE_PCI, addr: (BigInt(c.sbdf) << 32n) | BigInt(c.reg) };
    }
    return { type: XEN_DMOP_IO_RANGE_PORT, addr: req.addr };
  }
  if (req.type === IOREQ_TYPE_COPY) return { type: XEN_DMOP_IO_RANGE_MEMORY, addr: req.addr };
  return undefined;
}

const hiOf = (v: bigint) => Number(BigInt.asUintN(32, v >> 32n)) | 0;
const loOf = (v: bigint) => Number(BigInt.asUintN(32, v)) | 0;

export interface Selection {
  id: number;
  /** The server entry's word index. */
  entry: number;
  /** The request as sent (PCI: type PCI_CONFIG, addr SBDF << 32 | reg). */
  req: Ioreq;
}

/**
 * ioreq_server_select on the shared table (its lock held): servers 7 → 0, enabled only, the first
 * whose range set of the access's type fully contains it.
 */
export function selectServer(i32: Int32Array, table: number, req: Ioreq): Selection | undefined {
  // A port access outside CF8–CFF: 16-bit numbers, no BigInt arithmetic (the common trap).
  if (req.type === IOREQ_TYPE_PIO && req.addr >= 0n && req.addr < 0xcf8n) {
    const port = Number(req.addr);
    return selectIn(i32, table, XEN_DMOP_IO_RANGE_PORT, 0, port, 0, port + req.size - 1, req);
  }
  const c = classify(req, Atomics.load(i32, tableBase(table) + T_CF8));
  if (!c) return undefined;
  let sHi: number, sLo: number, eHi: number, eLo: number;
  if (c.type === XEN_DMOP_IO_RANGE_PORT) {
    sHi = hiOf(c.addr);
    sLo = loOf(c.addr);
    const end = c.addr + BigInt(req.size) - 1n;
    eHi = hiOf(end);
    eLo = loOf(end);
  } else if (c.type === XEN_DMOP_IO_RANGE_MEMORY) {
    const first = mmioFirstByte(req);
    const last = mmioLastByte(req);
    sHi = hiOf(first);
    sLo = loOf(first);
    eHi = hiOf(last);
    eLo = loOf(last);
  } else {
    sHi = eHi = 0;
    sLo = eLo = Number(c.addr >> 32n) | 0;
  }
  const sent = c.type === XEN_DMOP_IO_RANGE_PCI ? { ...req, type: IOREQ_TYPE_PCI_CONFIG, addr: c.addr } : req;
  return selectIn(i32, table, c.type, sHi, sLo, eHi, eLo, sent);
}

/** Servers 7 → 0, enabled only: the first whose `type` ranges contain [s, e] takes `sent`. */
function selectIn(
  i32: Int32Array,
  table: number,
  type: number,
  sHi: number,
  sLo: number,
  eHi: number,
  eLo: number,
  sent: Ioreq,
): Selection | undefined {
  for (let id = SERVER_IDS[0]!; id >= 0; id--) {
    const s = serverBase(table, id);
    if (!(Atomics.load(i32, s + S_FLAGS) & F_ENABLED)) continue;
    const frame = Atomics.load(i32, s + S_RANGE_FRAME + type);
    if (!frame) continue;
    const count = Atomics.load(i32, s + S_RANGE_COUNT + type);
    if (!sharedContains(i32, frame * WORDS_PER_FRAME, count, sHi, sLo, eHi, eLo)) continue;
    return { id, entry: s, req: sent };
  }
  return undefined;
}

export interface IoreqVcpuOptions {
  store: PageStore;
  /** Event channels over the same store (its notify hook wakes the emulator's receiver). */
  ev: EventChannels;
  domid: number;
  vcpu: number;
  /** Longest single Atomics.wait before the liveness check (ms, default 50). */
  waitSliceMs?: number;
  /** Spin this many checks of the slot before blocking (default 0). */
  spin?: number;
  /** False once the vCPU must stop (domain dying, runtime stopping). Default: the domain exists. */
  alive?: () => boolean;
  /** Xen decided to crash the domain (the caller shuts it down with SHUTDOWN_crash). */
  onCrash?: (reason: string) => void;
  /** Use the buffered path for single direct writes into the VGA window (stdvga; default true). */
  stdvga?: boolean;
}

/** One vCPU's trap path into the ioreq servers of its domain. */
export class IoreqVcpu {
  private readonly i32: Int32Array;
  private readonly slice: number;
  private readonly spin: number;
  private readonly alive: () => boolean;
  private readonly wakeWord: number;
  /** Emulations by route, for figures. */
  readonly counts = { server: 0, buffered: 0, null: 0, dropped: 0, xen: 0 };

  constructor(private readonly options: IoreqVcpuOptions) {
    this.i32 = options.store.i32;
    this.slice = options.waitSliceMs ?? 50;
    this.spin = options.spin ?? 0;
    this.alive = options.alive ?? (() => options.store.domainExists(options.domid));
    this.wakeWord = options.ev.xenWakeWordIndex(options.domid, options.vcpu);
    if (this.wakeWord < 0) throw new Error(`domain ${options.domid} has no event channels`);
  }

  get domid(): number {
    return this.options.domid;
  }
  get vcpu(): number {
    return this.options.vcpu;
  }

  /** The domain's table frame with a page reference (0: no ioreq server was ever created). */
  private takeTable(): number {
    const w = tableWord(this.options.store, this.options.domid);
    if (w < 0) return 0;
    for (;;) {
      const t = Atomics.load(this.i32, w);
      if (!t) return 0;
      if (this.options.store.getPageRef(t, DOMID_XEN)) {
        if (Atomics.load(this.i32, w) === t) return t;
        this.options.store.putPageRef(t);
        continue;
      }
      if (Atomics.load(this.i32, w) === t) return 0; // dying table: the domain is going away
    }
  }

  /** A paused domain's vCPU does not run on: it waits here (at its next exit) until unpaused. */
  waitWhilePaused(): void {
    const w = pauseWord(this.options.store, this.options.domid);
    if (w < 0) return;
    for (let v = Atomics.load(this.i32, w); v > 0; v = Atomics.load(this.i32, w)) {
      if (!this.alive())
        throw new VcpuStopped(
          `vCPU ${this.options.vcpu} of domain ${this.options.domid} stopped while paused`,
        );
      Atomics.wait(this.i32, w, v, this.slice);
    }
  }

  /** The domain's controller pause count as the vCPU sees it. */
  paused(): boolean {
    const w = pauseWord(this.options.store, this.options.domid);
    return w >= 0 && Atomics.load(this.i32, w) > 0;
  }

  /** A vPIC port access: 1-byte only (another size reads all-ones and writes nothing, as Xen's). */
  private vpicIo(table: number, req: Ioreq): IoResult {
    this.counts.xen++;
    if (req.size !== 1 || req.count !== 1)
      return { data: req.dir === IOREQ_READ ? ALL_ONES : req.data, route: "xen" };
    const irq = new HvmIrq(this.i32, irqBase(table));
    const port = Number(req.addr);
    if (req.dir === IOREQ_READ) return { data: BigInt(irq.portRead(port)), route: "xen" };
    irq.portWrite(port, Number(req.data & 0xffn));
    return { data: req.data, route: "xen" };
  }

  /**
   * The vCPU's interrupt window (vCPU 0 only: the PIC's INT is wired to the BSP's LINT0): the vector
   * of the interrupt the vPIC delivers now, or undefined. The caller asks only with interrupts
   * enabled (a CLI leaves it pending).
   */
  takeInterrupt(): { vector: number; irq: number; spurious: boolean } | undefined {
    if (this.options.vcpu !== 0 || this.paused()) return undefined;
    const table = this.takeTable();
    if (!table) return undefined;
    try {
      const irq = new HvmIrq(this.i32, irqBase(table));
      return irq.pending ? irq.acknowledge() : undefined;
    } finally {
      this.options.store.putPageRef(table);
    }
  }

  /** HLT: block until the vPIC's INT is asserted (kicked), `ms` pass, or the vCPU must stop. */
  halt(ms: number): boolean {
    const table = this.takeTable();
    if (!table) {
      Atomics.wait(this.i32, this.wakeWord, Atomics.load(this.i32, this.wakeWord), Math.min(ms, this.slice));
      return false;
    }
    try {
      const irq = new HvmIrq(this.i32, irqBase(table));
      const end = Date.now() + ms;
      for (;;) {
        const seq = Atomics.load(this.i32, irq.kickWord);
        if (this.options.vcpu === 0 && irq.pending && !this.paused()) return true;
        const left = end - Date.now();
        if (left <= 0 || !this.alive()) return false;
        Atomics.wait(this.i32, irq.kickWord, seq, Math.min(left, this.slice));
      }
    } finally {
      this.options.store.putPageRef(table);
    }
  }

  /** The domain's interrupt figures (delivered, spurious, the ISA lines as the PIC sees them). */
  interruptView(): ReturnType<HvmIrq["view"]> | undefined {
    const table = this.takeTable();
    if (!table) return undefined;
    try {
      return new HvmIrq(this.i32, irqBase(table)).view();
    } finally {
      this.options.store.putPageRef(table);
    }
  }

  /** An `ioreq` trace record of Xen's side (called only when someone listens). */
  private trace(op: string, req: Ioreq, extra: Record<string, string | number | boolean>): void {
    tracer.emit({
      kind: "ioreq",
      op,
      domid: this.options.domid,
      vcpu: this.options.vcpu,
      ...ioreqTraceFields(req),
      ...extra,
    });
  }

  private crash(table: number, code: number, reason: string): never {
    if (tracer.mask & TRACE_IOREQ)
      tracer.emit({ kind: "ioreq", op: "crash", domid: this.options.domid, vcpu: this.options.vcpu, reason });
    if (table) Atomics.compareExchange(this.i32, tableBase(table) + T_CRASHED, 0, code);
    this.options.onCrash?.(reason);
    throw new DomainCrashed(this.options.domid, reason);
  }

  /** Has Xen crashed this domain (any vCPU)? */
  crashed(): boolean {
    const t = this.takeTable();
    if (!t) return false;
    try {
      return Atomics.load(this.i32, tableBase(t) + T_CRASHED) !== 0;
    } finally {
      this.options.store.putPageRef(t);
    }
  }

  /**
   * Emulate one port (IOREQ_TYPE_PIO) or MMIO (IOREQ_TYPE_COPY) access. Blocks until it is done.
   * Reads return the value (the caller keeps `size` bytes); for rep accesses through a guest buffer
   * (`dataIsPtr`) the emulator moved the data, and a null-handled read leaves it to the caller to
   * fill the buffer with all-ones, as Xen's null handler does.
   */
  emulate(req: Ioreq): IoResult {
    this.waitWhilePaused();
    const table = this.takeTable();
    if (!table) return this.nullHandler(req);
    try {
      if (Atomics.load(this.i32, tableBase(table) + T_CRASHED))
        throw new DomainCrashed(this.options.domid, "the domain was crashed");
      // Xen's internal handlers come first: the vPIC's ports (vpic_intercept_pic_io / elcr_io).
      if (
        req.type === IOREQ_TYPE_PIO &&
        !req.dataIsPtr &&
        req.addr < 0x10000n &&
        Vpic.claims(Number(req.addr))
      )
        return this.vpicIo(table, req);
      // hvm_access_cf8: a 4-byte write to 0xCF8 latches the address, then falls through.
      if (
        req.type === IOREQ_TYPE_PIO &&
        req.addr === 0xcf8n &&
        req.size === 4 &&
        req.dir === IOREQ_WRITE &&
        !req.dataIsPtr
      )
        Atomics.store(this.i32, tableBase(table) + T_CF8, Number(req.data & 0xffff_ffffn) | 0);
      const lock = tableBase(table) + T_LOCK;
      lockWord(this.i32, lock);
      let sel: Selection | undefined;
      let sent: { slot: number; port: number; instance: number } | undefined;
      try {
        sel = selectServer(this.i32, table, req);
        if (!sel) return this.nullHandler(req);
        const s = sel.entry;
        if (this.options.stdvga !== false && this.stdvgaAccepts(sel.req)) {
          const r = this.bufferedLocked(s, sel.req);
          if (tracer.mask & TRACE_IOREQ && r !== "unhandled")
            this.trace(r === "handled" ? "buffered" : "dropped", sel.req, { server: sel.id });
          if (r === "handled") {
            this.counts.buffered++;
            return { data: req.data, route: "buffered", serverId: sel.id };
          }
          if (r === "dropped") {
            this.counts.dropped++;
            return { data: req.data, route: "dropped", serverId: sel.id };
          }
          // full (or buffering off): the synchronous path
        }
        const frame = Atomics.load(this.i32, s + S_IOREQ_FRAME);
        if (!frame) this.crash(table, IoreqCrash.noPage, `ioreq server ${sel.id} has no ioreq page`);
        const slot = ioreqSlot(frame * WORDS_PER_FRAME, this.options.vcpu);
        const port = Atomics.load(this.i32, s + S_PORTS + this.options.vcpu);
        const r = xenSendIoreq(this.i32, slot, sel.req, port);
        if (r.status === "sent") this.published(frame, slot);
        if (r.status === "bad-state")
          this.crash(table, IoreqCrash.badState, `device model set bad IO state ${r.state}`);
        if (r.status === "bad-port")
          this.crash(table, IoreqCrash.badPort, `device model set bad event channel ${r.port}`);
        sent = { slot, port, instance: Atomics.load(this.i32, s + S_INSTANCE) };
      } finally {
        unlockWord(this.i32, lock);
      }
      if (tracer.mask & TRACE_IOREQ)
        this.trace("send", sel.req, { server: sel.id, state: "NONE->READY", vp_eport: sent.port });
      this.options.ev.xenSend(this.options.domid, sent.port);
      this.counts.server++;
      const done = this.waitForIo(table, sel.entry, sent.instance, sent.slot);
      if (tracer.mask & TRACE_IOREQ)
        this.trace("complete", sel.req, {
          server: sel.id,
          state: done.emulatorGone ? "NONE (emulator gone)" : "IORESP_READY->NONE",
          ...(req.dir === IOREQ_READ && !req.dataIsPtr ? { data: ioreqTraceData(done.data) } : {}),
        });
      return done.emulatorGone
        ? { data: done.data, route: "server", serverId: sel.id, emulatorGone: true }
        : { data: done.data, route: "server", serverId: sel.id };
    } finally {
      this.options.store.putPageRef(table);
    }
  }

  private stdvgaAccepts(req: Ioreq): boolean {
    return (
      req.type === IOREQ_TYPE_COPY &&
      req.dir === IOREQ_WRITE &&
      !req.dataIsPtr &&
      req.count === 1 &&
      mmioFirstByte(req) >= VGA_MEM_BASE &&
      mmioLastByte(req) < VGA_MEM_BASE + VGA_MEM_SIZE
    );
  }

  /** ioreq_send_buffered with the table lock held (it stands in for bufioreq_lock). */
  private bufferedLocked(entry: number, req: Ioreq): "handled" | "dropped" | "unhandled" {
    const handling = Atomics.load(this.i32, entry + S_HANDLING);
    const frame = Atomics.load(this.i32, entry + S_BUF_FRAME);
    if (handling === HVM_IOREQSRV_BUFIOREQ_OFF || !frame) return "unhandled";
    const base = frame * WORDS_PER_FRAME;
    const wp = Atomics.load(this.i32, base + BUF_WRITE_POINTER_WORD) >>> 0;
    const r = xenBufSend(this.i32, base, req, handling);
    if (r === "handled") {
      // Published before the kick (an emulator in another host process reads a replica): the slots
      // written, then the write pointer. Only the write pointer: the read pointer is the
      // emulator's (an ATOMIC rebase, which writes both, is not carried across host processes).
      const store = this.options.store;
      const now = Atomics.load(this.i32, base + BUF_WRITE_POINTER_WORD) >>> 0;
      for (let p = wp; p !== now && (p - wp) >>> 0 < 2; p = (p + 1) >>> 0)
        store.markWritten(frame, (bufSlot(base, p) - base) * 4, 8);
      store.markWritten(frame, BUF_WRITE_POINTER_WORD * 4, 4);
      this.options.ev.xenSend(this.options.domid, Atomics.load(this.i32, entry + S_BUF_PORT));
    }
    return r;
  }

  /** The request slot written (ioreq_send): published before the kick, for a replica elsewhere. */
  private published(frame: number, slot: number): void {
    this.options.store.markWritten(frame, (slot - frame * WORDS_PER_FRAME) * 4, IOREQ_LAYOUT.size);
  }

  /** wait_for_io: check, block on Xen's wake word, check again. */
  private waitForIo(
    table: number,
    entry: number,
    instance: number,
    slot: number,
  ): { data: bigint; emulatorGone?: boolean } {
    const lock = tableBase(table) + T_LOCK;
    let prev = STATE_IOREQ_NONE;
    let spins = this.spin;
    for (;;) {
      const seq = Atomics.load(this.i32, this.wakeWord);
      lockWord(this.i32, lock);
      let check: ReturnType<typeof xenCheckIoreq>;
      try {
        if (Atomics.load(this.i32, entry + S_INSTANCE) !== instance)
          return { data: ALL_ONES, emulatorGone: true };
        check = xenCheckIoreq(this.i32, slot, prev);
      } finally {
        unlockWord(this.i32, lock);
      }
      if (check.kind === "done")
        return check.emulatorGone ? { data: check.data, emulatorGone: true } : { data: check.data };
      if (check.kind === "crash")
        this.crash(
          table,
          check.reason.startsWith("Weird HVM ioreq state transition")
            ? IoreqCrash.stateBackwards
            : IoreqCrash.unknownState,
          check.reason,
        );
      prev = check.state;
      if (spins > 0) {
        spins--;
        continue;
      }
      Atomics.wait(this.i32, this.wakeWord, seq, this.slice);
      if (!this.alive())
        throw new VcpuStopped(`domain ${this.options.domid} vCPU ${this.options.vcpu} stopped`);
    }
  }

  private nullHandler(req: Ioreq): IoResult {
    this.counts.null++;
    if (tracer.mask & TRACE_IOREQ)
      this.trace("unhandled", req, req.dir === IOREQ_READ ? { data: ioreqTraceData(ALL_ONES) } : {});
    return { data: req.dir === IOREQ_READ ? ALL_ONES : req.data, route: "null" };
  }

  /**
   * ioreq_broadcast: send to every enabled server (7 → 0). Buffered (TIMEOFFSET): servers with
   * buffering off fail; synchronous (INVALIDATE): each one is waited for. Returns how many failed.
   */
  broadcast(req: Ioreq, buffered: boolean): number {
    const table = this.takeTable();
    if (!table) return 0;
    let failed = 0;
    try {
      const lock = tableBase(table) + T_LOCK;
      const targets: { entry: number; id: number }[] = [];
      lockWord(this.i32, lock);
      try {
        for (const id of SERVER_IDS) {
          const s = serverBase(table, id);
          if (Atomics.load(this.i32, s + S_FLAGS) & F_ENABLED) targets.push({ entry: s, id });
        }
      } finally {
        unlockWord(this.i32, lock);
      }
      for (const t of targets) {
        if (buffered) {
          lockWord(this.i32, lock);
          let r: "handled" | "dropped" | "unhandled";
          try {
            r =
              Atomics.load(this.i32, t.entry + S_FLAGS) & F_ENABLED
                ? this.bufferedLocked(t.entry, req)
                : "unhandled";
          } finally {
            unlockWord(this.i32, lock);
          }
          if (r === "unhandled") failed++;
          continue;
        }
        lockWord(this.i32, lock);
        let sent: { slot: number; port: number; instance: number } | undefined;
        try {
          const frame = Atomics.load(this.i32, t.entry + S_IOREQ_FRAME);
          if (frame && Atomics.load(this.i32, t.entry + S_FLAGS) & F_ENABLED) {
            const slot = ioreqSlot(frame * WORDS_PER_FRAME, this.options.vcpu);
            const port = Atomics.load(this.i32, t.entry + S_PORTS + this.options.vcpu);
            if (xenSendIoreq(this.i32, slot, req, port).status === "sent") {
              this.published(frame, slot);
              sent = { slot, port, instance: Atomics.load(this.i32, t.entry + S_INSTANCE) };
            }
          }
        } finally {
          unlockWord(this.i32, lock);
        }
        if (!sent) {
          failed++;
          continue;
        }
        this.options.ev.xenSend(this.options.domid, sent.port);
        this.waitForIo(table, t.entry, sent.instance, sent.slot);
      }
      return failed;
    } finally {
      this.options.store.putPageRef(table);
    }
  }
}
