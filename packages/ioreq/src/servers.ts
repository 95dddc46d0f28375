// The hypervisor's side of the ioreq-server interface (xen/common/ioreq.c): create, get_info,
// map/unmap io range, set_state, destroy, the ioreq pages as a resource (acquire_resource) and the
// teardown on domain death — with Xen's checks and errnos. State lives in the shared table of
// layout.ts; every mutation holds the table lock, as every reader in a vCPU thread does.

import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  HVM_IOREQSRV_BUFIOREQ_OFF,
  MAX_NR_IOREQ_SERVERS,
  DOMID_XEN,
  XENMEM_resource_ioreq_server_frame_bufioreq,
  XenErrno,
  xenmemResourceIoreqServerFrameIoreq,
} from "@xensim/abi";
import type { EventChannels } from "@xensim/evtchn";
import { lockWord, PAGE_SIZE, type PageStore, unlockWord } from "@xensim/memory";
import { IOREQ_PORT_WORD, ioreqSlot } from "./codec.js";
import { HvmIrq, irqBase } from "./irq.js";
import {
  F_ALLOCATED,
  F_ENABLED,
  MAX_IOREQ_VCPUS,
  NR_IO_RANGE_TYPES,
  S_BUF_FRAME,
  S_BUF_PORT,
  S_EMULATOR,
  S_FLAGS,
  S_HANDLING,
  S_INSTANCE,
  S_IOREQ_FRAME,
  S_PORTS,
  S_RANGE_COUNT,
  S_RANGE_FRAME,
  serverBase,
  T_CF8,
  T_CRASHED,
  T_INSTANCES,
  T_LOCK,
  T_NR_VCPUS,
  tableBase,
  tableWord,
  WORDS_PER_FRAME,
} from "./layout.js";
import { loadRanges, MAX_NR_IO_RANGES, type Range, storeRanges } from "./rangeset.js";
import { xenSetVpEport } from "./sync.js";

const EINVAL = -XenErrno.EINVAL;
const ENOENT = -XenErrno.ENOENT;
const EPERM = -XenErrno.EPERM;
const ENOSPC = -XenErrno.ENOSPC;
const ENOMEM = -XenErrno.ENOMEM;
const EEXIST = -XenErrno.EEXIST;
const ESRCH = -XenErrno.ESRCH;

export const RANGE_TYPE_NAMES = ["port", "memory", "pci"] as const;

export interface IoreqServerView {
  id: number;
  emulator: number;
  handling: number;
  enabled: boolean;
  instance: number;
  ioreqFrame: number;
  bufFrame: number;
  bufPort: number;
  /** The guest's Xen-consumed port of each vCPU. */
  ports: number[];
  ranges: { port: Range[]; memory: Range[]; pci: Range[] };
}

interface Acquired {
  holder: number;
  domid: number;
  id: number;
  frames: number[];
}

export class IoreqServers {
  private readonly i32: Int32Array;
  /** acquire_resource references, released by `releaseResource` (the emulator's unmap). */
  private readonly acquired: Acquired[] = [];

  constructor(
    readonly store: PageStore,
    readonly ev: EventChannels,
  ) {
    this.i32 = store.i32;
  }

  // ---- table ----------------------------------------------------------------------------------------

  /** The domain's table frame, or 0. */
  table(domid: number): number {
    const w = tableWord(this.store, domid);
    return w < 0 ? 0 : Atomics.load(this.i32, w);
  }

  /**
   * The domain's interrupt state (irq.ts, in the table frame), created with the table if need be
   * (undefined: no domain or no memory). Its own lock, not the table's.
   */
  irq(domid: number, nrVcpus: number): HvmIrq | undefined {
    const table = this.ensureTable(domid, nrVcpus);
    return table ? new HvmIrq(this.i32, irqBase(table)) : undefined;
  }

  private ensureTable(domid: number, nrVcpus: number): number {
    const w = tableWord(this.store, domid);
    if (w < 0) return 0;
    const cur = Atomics.load(this.i32, w);
    if (cur) return cur;
    const f = this.store.allocFrame(DOMID_XEN);
    if (!f) return 0;
    Atomics.store(this.i32, tableBase(f) + T_NR_VCPUS, Math.min(nrVcpus, MAX_IOREQ_VCPUS));
    if (Atomics.compareExchange(this.i32, w, 0, f) !== 0) {
      this.store.freeFrame(f);
      return Atomics.load(this.i32, w);
    }
    return f;
  }

  private locked<T>(table: number, fn: () => T): T {
    const lock = tableBase(table) + T_LOCK;
    lockWord(this.i32, lock);
    try {
      return fn();
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /** get_ioreq_server + the creator check: the entry's base, or a negative errno. */
  private server(table: number, id: number, emulator: number): number {
    if (!table || !Number.isInteger(id) || id < 0 || id >= MAX_NR_IOREQ_SERVERS) return ENOENT;
    const s = serverBase(table, id);
    if (!(Atomics.load(this.i32, s + S_FLAGS) & F_ALLOCATED)) return ENOENT;
    if (Atomics.load(this.i32, s + S_EMULATOR) !== emulator) return EPERM;
    return s;
  }

  // ---- dm_op ----------------------------------------------------------------------------------------

  /**
   * XEN_DMOP_create_ioreq_server: the lowest free id of 0…7 (-ENOSPC), the caller becomes the
   * emulator; one Xen-consumed unbound port per vCPU of the guest (remote = the emulator), and one
   * more on vCPU 0 for the buffered ring unless buffering is off. Pages come with acquire_resource.
   */
  create(emulator: number, domid: number, handling: number, nrVcpus: number): { rc: number; id: number } {
    if (
      !Number.isInteger(handling) ||
      handling < HVM_IOREQSRV_BUFIOREQ_OFF ||
      handling > HVM_IOREQSRV_BUFIOREQ_ATOMIC
    )
      return { rc: EINVAL, id: 0 };
    if (!this.store.domainExists(domid)) return { rc: ESRCH, id: 0 };
    const table = this.ensureTable(domid, nrVcpus);
    if (!table) return { rc: ENOMEM, id: 0 };
    return this.locked(table, () => {
      let id = 0;
      while (
        id < MAX_NR_IOREQ_SERVERS &&
        Atomics.load(this.i32, serverBase(table, id) + S_FLAGS) & F_ALLOCATED
      )
        id++;
      if (id >= MAX_NR_IOREQ_SERVERS) return { rc: ENOSPC, id: 0 };
      const s = serverBase(table, id);
      const vcpus = Atomics.load(this.i32, tableBase(table) + T_NR_VCPUS);
      const ports: number[] = [];
      let bufPort = 0;
      const undo = (rc: number) => {
        for (const p of ports) this.ev.freeXenPort(domid, p);
        if (bufPort) this.ev.freeXenPort(domid, bufPort);
        return { rc, id: 0 };
      };
      for (let v = 0; v < vcpus; v++) {
        const r = this.ev.allocXenUnbound(domid, v, emulator);
        if (r.rc) return undo(r.rc);
        ports.push(r.port);
        if (v === 0 && handling !== HVM_IOREQSRV_BUFIOREQ_OFF) {
          const b = this.ev.allocXenUnbound(domid, 0, emulator);
          if (b.rc) return undo(b.rc);
          bufPort = b.port;
        }
      }
      for (let w = 1; w < 64; w++) Atomics.store(this.i32, s + w, 0);
      Atomics.store(this.i32, s + S_EMULATOR, emulator);
      Atomics.store(this.i32, s + S_HANDLING, handling);
      Atomics.store(this.i32, s + S_BUF_PORT, bufPort);
      ports.forEach((p, v) => Atomics.store(this.i32, s + S_PORTS + v, p));
      const instance = Atomics.add(this.i32, tableBase(table) + T_INSTANCES, 1) + 1;
      Atomics.store(this.i32, s + S_INSTANCE, instance);
      Atomics.store(this.i32, s + S_FLAGS, F_ALLOCATED);
      return { rc: 0, id };
    });
  }

  /**
   * XEN_DMOP_get_ioreq_server_info: the buffered port (0 when buffering is off). With gfns asked for
   * (no XEN_DMOP_no_gfns) Xen maps the pages into the guest's physmap from the legacy gfn pool, which
   * no domain here has: -ENOMEM, or -EPERM once the pages were allocated for acquire_resource.
   */
  getInfo(
    emulator: number,
    domid: number,
    id: number,
    wantGfns: boolean,
  ): { rc: number; bufioreqPort: number } {
    const table = this.table(domid);
    if (!table) return { rc: ENOENT, bufioreqPort: 0 };
    return this.locked(table, () => {
      const s = this.server(table, id, emulator);
      if (s < 0) return { rc: s, bufioreqPort: 0 };
      if (wantGfns)
        return { rc: Atomics.load(this.i32, s + S_IOREQ_FRAME) ? EPERM : ENOMEM, bufioreqPort: 0 };
      return { rc: 0, bufioreqPort: Atomics.load(this.i32, s + S_BUF_PORT) };
    });
  }

  private rangeOp(
    emulator: number,
    domid: number,
    id: number,
    type: number,
    start: bigint,
    end: bigint,
    map: boolean,
  ): number {
    if (start > end) return EINVAL;
    const table = this.table(domid);
    if (!table) return ENOENT;
    return this.locked(table, () => {
      const s = this.server(table, id, emulator);
      if (s < 0) return s;
      if (!Number.isInteger(type) || type < 0 || type >= NR_IO_RANGE_TYPES) return EINVAL;
      let frame = Atomics.load(this.i32, s + S_RANGE_FRAME + type);
      const count = Atomics.load(this.i32, s + S_RANGE_COUNT + type);
      const set = frame ? loadRanges(this.i32, frame * WORDS_PER_FRAME, count) : loadRanges(this.i32, 0, 0);
      if (map) {
        if (set.overlapsRange(start, end)) return EEXIST;
      } else if (!set.containsRange(start, end)) return ENOENT;
      const rc = map ? set.add(start, end) : set.remove(start, end);
      if (rc) return rc;
      if (!frame) {
        frame = this.store.allocFrame(DOMID_XEN);
        if (!frame) return ENOMEM;
        Atomics.store(this.i32, s + S_RANGE_FRAME + type, frame);
      }
      Atomics.store(this.i32, s + S_RANGE_COUNT + type, storeRanges(this.i32, frame * WORDS_PER_FRAME, set));
      return 0;
    });
  }

  /**
   * XEN_DMOP_map_io_range_to_ioreq_server: start > end → -EINVAL; unknown id → -ENOENT; not the
   * creator → -EPERM; bad type → -EINVAL; overlapping the server's own set → -EEXIST; past
   * MAX_NR_IO_RANGES ranges → -ENOMEM (adjacent ranges merge). PCI values are XEN_DMOP_PCI_SBDF.
   */
  mapRange(emulator: number, domid: number, id: number, type: number, start: bigint, end: bigint): number {
    return this.rangeOp(emulator, domid, id, type, start, end, true);
  }

  /** XEN_DMOP_unmap_io_range_from_ioreq_server: the range must be fully contained (-ENOENT). */
  unmapRange(emulator: number, domid: number, id: number, type: number, start: bigint, end: bigint): number {
    return this.rangeOp(emulator, domid, id, type, start, end, false);
  }

  /** XEN_DMOP_set_ioreq_server_state: enabling writes each vCPU's port into its slot (if the page exists). */
  setState(emulator: number, domid: number, id: number, enabled: boolean): number {
    const table = this.table(domid);
    if (!table) return ENOENT;
    return this.locked(table, () => {
      const s = this.server(table, id, emulator);
      if (s < 0) return s;
      if (enabled) {
        const frame = Atomics.load(this.i32, s + S_IOREQ_FRAME);
        if (frame) {
          const vcpus = Atomics.load(this.i32, tableBase(table) + T_NR_VCPUS);
          for (let v = 0; v < vcpus; v++) {
            const slot = ioreqSlot(frame * WORDS_PER_FRAME, v);
            xenSetVpEport(this.i32, slot, Atomics.load(this.i32, s + S_PORTS + v));
            // Published (an emulator in another host process maps a replica of the page).
            this.store.markWritten(frame, (slot + IOREQ_PORT_WORD) * 4 - frame * PAGE_SIZE, 4);
          }
        }
        Atomics.or(this.i32, s + S_FLAGS, F_ENABLED);
      } else Atomics.and(this.i32, s + S_FLAGS, ~F_ENABLED);
      return 0;
    });
  }

  /** XEN_DMOP_destroy_ioreq_server: disabled, ports freed, range sets and pages released. */
  destroy(emulator: number, domid: number, id: number): number {
    const table = this.table(domid);
    if (!table) return ENOENT;
    const rc = this.locked(table, () => {
      const s = this.server(table, id, emulator);
      if (s < 0) return s;
      this.deinit(domid, table, s);
      return 0;
    });
    if (rc === 0) this.wakeVcpus(domid, table);
    return rc;
  }

  private deinit(domid: number, table: number, s: number): void {
    Atomics.and(this.i32, s + S_FLAGS, ~F_ENABLED);
    const vcpus = Atomics.load(this.i32, tableBase(table) + T_NR_VCPUS);
    for (let v = 0; v < vcpus; v++) {
      const p = Atomics.exchange(this.i32, s + S_PORTS + v, 0);
      if (p) this.ev.freeXenPort(domid, p);
    }
    const bp = Atomics.exchange(this.i32, s + S_BUF_PORT, 0);
    if (bp) this.ev.freeXenPort(domid, bp);
    for (let t = 0; t < NR_IO_RANGE_TYPES; t++) {
      const f = Atomics.exchange(this.i32, s + S_RANGE_FRAME + t, 0);
      if (f) this.store.freeFrame(f);
      Atomics.store(this.i32, s + S_RANGE_COUNT + t, 0);
    }
    for (const w of [S_IOREQ_FRAME, S_BUF_FRAME]) {
      const f = Atomics.exchange(this.i32, s + w, 0);
      if (f) this.store.freeFrame(f); // dying while an emulator still holds acquire references
    }
    Atomics.store(this.i32, s + S_INSTANCE, 0);
    Atomics.store(this.i32, s + S_FLAGS, 0);
  }

  /** Let vCPUs blocked on a server notice it is gone (their next check completes the I/O). */
  private wakeVcpus(domid: number, table: number): void {
    const vcpus = Atomics.load(this.i32, tableBase(table) + T_NR_VCPUS);
    for (let v = 0; v < vcpus; v++) this.ev.xenNotify(domid, v);
  }

  /**
   * XENMEM_acquire_resource, type XENMEM_resource_ioreq_server: frame 0 the buffered page (-ENOENT
   * when buffering is off), frame 1 the synchronous page; other indexes -EINVAL. Pages are allocated
   * on first use (zeroed) and each returned frame carries a reference for `emulator`, dropped by
   * releaseResource (the emulator's unmap).
   */
  acquireResource(
    emulator: number,
    domid: number,
    id: number,
    frame: number,
    nrFrames: number,
  ): { rc: number; frames: number[] } {
    const table = this.table(domid);
    if (!table) return { rc: ENOENT, frames: [] };
    if (!Number.isInteger(nrFrames) || nrFrames < 1 || !Number.isInteger(frame) || frame < 0)
      return { rc: EINVAL, frames: [] };
    const r = this.locked(table, () => {
      const s = this.server(table, id, emulator);
      if (s < 0) return { rc: s, frames: [] };
      // hvm_ioreq_server_alloc_pages
      if (!Atomics.load(this.i32, s + S_IOREQ_FRAME)) {
        const f = this.store.allocFrame(DOMID_XEN);
        if (!f) return { rc: ENOMEM, frames: [] };
        Atomics.store(this.i32, s + S_IOREQ_FRAME, f);
      }
      const handling = Atomics.load(this.i32, s + S_HANDLING);
      if (handling !== HVM_IOREQSRV_BUFIOREQ_OFF && !Atomics.load(this.i32, s + S_BUF_FRAME)) {
        const f = this.store.allocFrame(DOMID_XEN);
        if (!f) return { rc: ENOMEM, frames: [] };
        Atomics.store(this.i32, s + S_BUF_FRAME, f);
      }
      const out: number[] = [];
      for (let i = 0; i < nrFrames; i++) {
        const idx = frame + i;
        let f: number;
        if (idx === XENMEM_resource_ioreq_server_frame_bufioreq) {
          if (handling === HVM_IOREQSRV_BUFIOREQ_OFF) return { rc: ENOENT, frames: [] };
          f = Atomics.load(this.i32, s + S_BUF_FRAME);
        } else if (idx === xenmemResourceIoreqServerFrameIoreq(0))
          f = Atomics.load(this.i32, s + S_IOREQ_FRAME);
        else return { rc: EINVAL, frames: [] };
        out.push(f);
      }
      for (const f of out) this.store.getPageRef(f, DOMID_XEN);
      return { rc: 0, frames: out };
    });
    if (r.rc === 0) this.acquired.push({ holder: emulator, domid, id, frames: r.frames });
    return r;
  }

  /** The emulator unmaps what it acquired of server `id` of `domid` (whether or not it still exists). */
  releaseResource(emulator: number, domid: number, id: number): number {
    let n = 0;
    for (let i = this.acquired.length - 1; i >= 0; i--) {
      const a = this.acquired[i]!;
      if (a.holder !== emulator || a.domid !== domid || a.id !== id) continue;
      for (const f of a.frames) this.store.putPageRef(f);
      this.acquired.splice(i, 1);
      n++;
    }
    return n ? 0 : ENOENT;
  }

  /** hvm_destroy_all_ioreq_servers (domain death): every server and the table go. */
  destroyAll(domid: number): void {
    const w = tableWord(this.store, domid);
    if (w < 0) return;
    const table = Atomics.load(this.i32, w);
    if (!table) return;
    this.locked(table, () => {
      for (let id = 0; id < MAX_NR_IOREQ_SERVERS; id++) {
        const s = serverBase(table, id);
        if (Atomics.load(this.i32, s + S_FLAGS) & F_ALLOCATED) this.deinit(domid, table, s);
      }
      Atomics.store(this.i32, w, 0);
    });
    this.wakeVcpus(domid, table);
    this.store.freeFrame(table); // stays (dying) while a vCPU thread holds a reference
  }

  /** Drop the acquire references an emulator domain holds (it died). */
  releaseAllOf(emulator: number): void {
    for (let i = this.acquired.length - 1; i >= 0; i--) {
      const a = this.acquired[i]!;
      if (a.holder !== emulator) continue;
      for (const f of a.frames) this.store.putPageRef(f);
      this.acquired.splice(i, 1);
    }
  }

  // ---- introspection --------------------------------------------------------------------------------

  servers(domid: number): IoreqServerView[] {
    const table = this.table(domid);
    if (!table) return [];
    return this.locked(table, () => {
      const out: IoreqServerView[] = [];
      const vcpus = Atomics.load(this.i32, tableBase(table) + T_NR_VCPUS);
      for (let id = 0; id < MAX_NR_IOREQ_SERVERS; id++) {
        const s = serverBase(table, id);
        const flags = Atomics.load(this.i32, s + S_FLAGS);
        if (!(flags & F_ALLOCATED)) continue;
        const rs = (t: number) => {
          const f = Atomics.load(this.i32, s + S_RANGE_FRAME + t);
          return f
            ? loadRanges(this.i32, f * WORDS_PER_FRAME, Atomics.load(this.i32, s + S_RANGE_COUNT + t)).ranges
            : [];
        };
        out.push({
          id,
          emulator: Atomics.load(this.i32, s + S_EMULATOR),
          handling: Atomics.load(this.i32, s + S_HANDLING),
          enabled: (flags & F_ENABLED) !== 0,
          instance: Atomics.load(this.i32, s + S_INSTANCE),
          ioreqFrame: Atomics.load(this.i32, s + S_IOREQ_FRAME),
          bufFrame: Atomics.load(this.i32, s + S_BUF_FRAME),
          bufPort: Atomics.load(this.i32, s + S_BUF_PORT),
          ports: Array.from({ length: vcpus }, (_, v) => Atomics.load(this.i32, s + S_PORTS + v)),
          ranges: { port: rs(0), memory: rs(1), pci: rs(2) },
        });
      }
      return out;
    });
  }

  /** The crash reason a vCPU thread recorded (Xen's domain_crash), or undefined. */
  crashReason(domid: number): number | undefined {
    const table = this.table(domid);
    if (!table) return undefined;
    const r = Atomics.load(this.i32, tableBase(table) + T_CRASHED);
    return r || undefined;
  }

  /** The latched 0xCF8 value. */
  pciCf8(domid: number): number {
    const table = this.table(domid);
    return table ? Atomics.load(this.i32, tableBase(table) + T_CF8) >>> 0 : 0;
  }

  /** acquire_resource references held (leak checks). */
  acquiredCount(): number {
    return this.acquired.reduce((n, a) => n + a.frames.length, 0);
  }
}

export { MAX_NR_IO_RANGES };
