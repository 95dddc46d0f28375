// PageStore: machine memory of one host process. Frames of 4096 bytes in one SharedArrayBuffer; the
// allocation/ownership state, the domain directory and every domain's physmap live in frames of the
// same buffer (owned by DOMID_XEN), so every worker thread that attaches to the buffer sees the same
// state. All shared-state changes are Atomics (CAS on a frame's info word), so threads allocate,
// reference and free concurrently without a lock.
//
// Buffer layout (frame numbers):
//   0                         header (magic, sizes, free count, allocation hint)
//   1 .. 1+FT                 frame table: one Int32 info word per frame
//   1+FT .. 1+FT+DD           domain directory: one Int32 per domid < DOMID_FIRST_RESERVED, the
//                             domain's control frame (0 = no domain)
//   first usable ..           frames handed out by allocFrame
//
// Frame info word: bit 31 allocated, bit 30 dying (owner freed it while references were held; the
// last putPageRef frees it), bits 16..29 reference count (Xen's page refs: grant maps hold one),
// bits 0..15 owner domid.
//
// A domain's control frame (1024 Int32 words) holds the domain's hypervisor-side state. Words
// 0..31 are this package's; DomCtl.IOREQ_BASE.. (32..39) belong to @xensim/ioreq, DomCtl.GNTTAB_BASE..
// to @xensim/gnttab and DomCtl.EVTCHN_BASE.. to @xensim/evtchn, which keep their per-domain state
// there so it too is shared between threads.

import { DOMID_FIRST_RESERVED, DOMID_XEN } from "@xensim/abi";
import { LinkArea, type LinkAreaOptions } from "./link-area.js";
import { type Backing, type MemView, makeView, NO_WRITE_LOG, type WriteLog } from "./view.js";
import { PAGE_SIZE } from "./xen-constants.js";

const MAGIC = 0x5853_494d; // "XSIM"
/** Header magic while attachOrCreate formats the buffer. */
const FORMATTING = 0x5853_3f3f; // "XS??"
const VERSION = 1;
const H_MAGIC = 0;
const H_VERSION = 1;
const H_NR_FRAMES = 2;
const H_FT_START = 3;
const H_DD_START = 4;
const H_FIRST_USABLE = 5;
const H_FREE = 6;
const H_HINT = 7;
/** First frame of the link area (0: none yet; -1 while one is being laid out). */
const H_LINK = 8;
/** 1 once a hypervisor runs on this store (this host process is the authority of every frame). */
const H_HYPERVISOR = 9;

const F_ALLOC = 1 << 31;
const F_DYING = 1 << 30;
const REF_SHIFT = 16;
const REF_ONE = 1 << REF_SHIFT;
const REF_MAX = 0x3fff;
const OWNER_MASK = 0xffff;

const WORDS_PER_FRAME = PAGE_SIZE / 4;
const P2M_ENTRIES = WORDS_PER_FRAME; // 1024 per level
/** Largest gfn + 1 a physmap holds (two levels of 1024). */
export const MAX_GFN = P2M_ENTRIES * P2M_ENTRIES;

/** Layout of a domain's control frame (Int32 word indices). */
export const DomCtl = Object.freeze({
  /** 1 live, |2 dying, |4 released. */
  STATE: 0,
  TOT_PAGES: 1,
  MAX_PAGES: 2,
  P2M_ROOT: 3,
  /** bit 0: HVM/PVH (paging_mode_external), bit 1: privileged (dom0-like). */
  FLAGS: 4,
  DOMID: 5,
  /** First word of @xensim/ioreq's per-domain state (8 words: its ioreq-server table frame, …). */
  IOREQ_BASE: 32,
  /** First word of @xensim/gnttab's per-domain state (448 words). */
  GNTTAB_BASE: 64,
  /** First word of @xensim/evtchn's per-domain state (512 words). */
  EVTCHN_BASE: 512,
  WORDS: WORDS_PER_FRAME,
});
const ST_LIVE = 1;
const ST_DYING = 2;
const ST_RELEASED = 4;
const FL_HVM = 1;
const FL_PRIV = 2;

/** Raised for misuse of the store (bad frame number, double free, domain exists, …). */
export class PageStoreError extends Error {
  override readonly name = "PageStoreError";
  constructor(
    readonly code: "bad_frame" | "not_allocated" | "exists" | "no_domain" | "no_memory" | "bad_buffer",
    message: string,
  ) {
    super(message);
  }
}

export interface PageStoreOptions {
  /** Total frames in the buffer, metadata included (default 16384 = 64 MiB). */
  frames?: number;
  /** Replication hook (default: none, one host process). */
  writeLog?: WriteLog;
}

export interface CreateDomainOptions {
  /** Most frames the domain may own (default: unlimited). */
  maxPages?: number;
  /** HVM/PVH guest (no PV device/application/PTE grant maps). */
  hvm?: boolean;
  /** Privileged (dom0-like): may act on other domains. */
  privileged?: boolean;
}

/** Extra write permission beyond ownership, e.g. "domid has this frame mapped writable by grant". */
export type ForeignWriteCheck = (domid: number, frame: number) => boolean;

export type DomainState = "none" | "live" | "dying";

export class PageStore implements Backing {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly dv: DataView;
  readonly writeLog: WriteLog;
  readonly nrFrames: number;
  /** Lowest frame number allocFrame can return. */
  readonly firstUsableFrame: number;
  private readonly ftBase: number; // word index of frame 0's info word
  private readonly ddBase: number; // word index of domid 0's directory entry
  private readonly writeChecks: ForeignWriteCheck[] = [];
  private linkArea: LinkArea | undefined;

  /** A new store with its own buffer. */
  static create(opts: PageStoreOptions = {}): PageStore {
    const frames = opts.frames ?? 16384;
    PageStore.checkFrameCount(frames);
    const sab = new SharedArrayBuffer(frames * PAGE_SIZE);
    PageStore.format(new Int32Array(sab), frames);
    Atomics.store(new Int32Array(sab), H_MAGIC, MAGIC);
    return new PageStore(sab, opts.writeLog);
  }

  /**
   * Attach to `buffer`, formatting it first when nobody has: a buffer of zeroes (as a host hands to
   * its workers) becomes a store of `floor(byteLength / 4096)` frames. Race-free: the first caller
   * claims the header with a compare-and-swap and formats; concurrent callers (other worker
   * threads) wait on the header word until the store is published.
   */
  static attachOrCreate(buffer: SharedArrayBuffer, opts: { writeLog?: WriteLog } = {}): PageStore {
    const i32 = new Int32Array(buffer);
    const prev = Atomics.compareExchange(i32, H_MAGIC, 0, FORMATTING);
    if (prev === 0) {
      const frames = Math.min(Math.floor(buffer.byteLength / PAGE_SIZE), 0x100000);
      try {
        PageStore.checkFrameCount(frames);
        PageStore.format(i32, frames);
      } catch (err) {
        Atomics.store(i32, H_MAGIC, 0);
        Atomics.notify(i32, H_MAGIC);
        throw err;
      }
      Atomics.store(i32, H_MAGIC, MAGIC);
      Atomics.notify(i32, H_MAGIC);
    } else {
      for (let v = prev; v === FORMATTING; v = Atomics.load(i32, H_MAGIC)) {
        Atomics.wait(i32, H_MAGIC, FORMATTING, 100);
      }
    }
    return new PageStore(buffer, opts.writeLog);
  }

  private static checkFrameCount(frames: number): void {
    const { firstUsable } = PageStore.layout(frames);
    if (!Number.isInteger(frames) || frames < firstUsable + 1 || frames > 0x100000) {
      throw new PageStoreError("bad_buffer", `frames must be an integer in [${firstUsable + 1}, 1048576]`);
    }
  }

  private static layout(frames: number): { ftFrames: number; firstUsable: number } {
    const ftFrames = Math.ceil((frames * 4) / PAGE_SIZE);
    const ddFrames = Math.ceil((DOMID_FIRST_RESERVED * 4) / PAGE_SIZE);
    return { ftFrames, firstUsable: 1 + ftFrames + ddFrames };
  }

  /** Writes the header and the metadata frames' info words (everything but the magic). */
  private static format(i32: Int32Array, frames: number): void {
    const { ftFrames, firstUsable } = PageStore.layout(frames);
    i32[H_VERSION] = VERSION;
    i32[H_NR_FRAMES] = frames;
    i32[H_FT_START] = 1;
    i32[H_DD_START] = 1 + ftFrames;
    i32[H_FIRST_USABLE] = firstUsable;
    i32[H_FREE] = frames - firstUsable;
    i32[H_HINT] = firstUsable;
    const ft = WORDS_PER_FRAME;
    for (let f = 0; f < firstUsable; f++) i32[ft + f] = F_ALLOC | DOMID_XEN;
  }

  /** Attach to a buffer made by `create` (in another worker thread). */
  static attach(buffer: SharedArrayBuffer, opts: { writeLog?: WriteLog } = {}): PageStore {
    return new PageStore(buffer, opts.writeLog);
  }

  private constructor(buffer: SharedArrayBuffer, writeLog: WriteLog | undefined) {
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer);
    this.i32 = new Int32Array(buffer);
    this.dv = new DataView(buffer);
    this.writeLog = writeLog ?? NO_WRITE_LOG;
    if (Atomics.load(this.i32, H_MAGIC) !== MAGIC || this.i32[H_VERSION] !== VERSION) {
      throw new PageStoreError("bad_buffer", "not a PageStore buffer");
    }
    this.nrFrames = this.i32[H_NR_FRAMES]!;
    this.ftBase = this.i32[H_FT_START]! * WORDS_PER_FRAME;
    this.ddBase = this.i32[H_DD_START]! * WORDS_PER_FRAME;
    this.firstUsableFrame = this.i32[H_FIRST_USABLE]!;
  }

  // ---- frames -------------------------------------------------------------------------------

  /**
   * The host's link area (docs/data-plane.md) once some thread laid it out, else undefined — one
   * load of the header word until then (the embedded host never has one).
   */
  get link(): LinkArea | undefined {
    if (this.linkArea) return this.linkArea;
    const f = Atomics.load(this.i32, H_LINK);
    if (f <= 0) return undefined;
    this.linkArea = LinkArea.attach(this, f);
    return this.linkArea;
  }

  /** True once a hypervisor runs on this store: frames are numbered here for every host. */
  get hostsHypervisor(): boolean {
    return Atomics.load(this.i32, H_HYPERVISOR) === 1;
  }

  /**
   * [offset, offset+length) of `frame` was written (within the frame): what `MemView.markWritten`
   * reports, for writers without a view (the grant-copy core). It reaches the write log and, when
   * other host processes hold the frame, the link.
   */
  markWritten(frame: number, offset: number, length: number): void {
    if (offset < 0 || length < 0 || offset + length > PAGE_SIZE || !this.isValidFrame(frame))
      throw new PageStoreError("bad_frame", `markWritten ${frame}+[${offset}, ${length})`);
    if (length === 0) return;
    this.link?.written(frame, offset, length);
    if (this.writeLog !== NO_WRITE_LOG) this.writeLog.written(frame, offset, length);
  }

  /** The hypervisor marks the store it runs on (the authority of every frame, docs/data-plane.md). */
  markHypervisor(): void {
    Atomics.store(this.i32, H_HYPERVISOR, 1);
  }

  /** The link area, laid out now if nobody has (race-free: the first caller claims the word). */
  ensureLink(opts: LinkAreaOptions = {}): LinkArea {
    const have = this.link;
    if (have) return have;
    if (Atomics.compareExchange(this.i32, H_LINK, 0, -1) === 0) {
      let first = 0;
      try {
        first = LinkArea.format(this, opts);
      } finally {
        Atomics.store(this.i32, H_LINK, first);
        Atomics.notify(this.i32, H_LINK);
      }
    } else {
      while (Atomics.load(this.i32, H_LINK) === -1) Atomics.wait(this.i32, H_LINK, -1, 100);
    }
    const area = this.link;
    if (!area) throw new PageStoreError("no_memory", "the link area could not be laid out");
    return area;
  }

  /** Frames not allocated right now. */
  freeFrameCount(): number {
    return Atomics.load(this.i32, H_FREE);
  }

  private checkFrame(frame: number): void {
    if (!Number.isInteger(frame) || frame < this.firstUsableFrame || frame >= this.nrFrames) {
      throw new PageStoreError("bad_frame", `frame ${frame} is not an allocatable frame`);
    }
  }

  /** True when `frame` is a number allocFrame could return. */
  isValidFrame(frame: number): boolean {
    return Number.isInteger(frame) && frame >= this.firstUsableFrame && frame < this.nrFrames;
  }

  /**
   * Allocate one zeroed frame owned by `owner` (a domid, or DOMID_XEN for metadata). For a domain
   * the frame counts against its max pages; the domain must be live. Returns 0 when none is left.
   */
  allocFrame(owner: number): number {
    const r = this.allocFrames(owner, 1, false);
    return r === undefined ? 0 : r[0]!;
  }

  /**
   * Allocate `count` zeroed frames owned by `owner`; with `contiguous` they are adjacent (one
   * contiguous view). Returns undefined when that many are not available (nothing is left allocated).
   */
  allocFrames(owner: number, count: number, contiguous = false): number[] | undefined {
    if (!Number.isInteger(count) || count < 1) return count === 0 ? [] : undefined;
    if (!this.charge(owner, count)) return undefined;
    const got = contiguous ? this.claimRun(owner, count) : this.claimAny(owner, count);
    if (got === undefined) {
      this.uncharge(owner, count);
      return undefined;
    }
    for (const f of got) this.u8.fill(0, f * PAGE_SIZE, (f + 1) * PAGE_SIZE);
    // A domain homed on another host: its copies there start as zeroes too.
    const link = owner < DOMID_FIRST_RESERVED ? this.link : undefined;
    if (link !== undefined) {
      const home = link.home(owner);
      if (home !== 0)
        for (const f of got) {
          link.setSubscribers(f, 1 << home);
          link.zeroed(f, 1 << home);
        }
    }
    return got;
  }

  private claimAny(owner: number, count: number): number[] | undefined {
    const out: number[] = [];
    const n = this.nrFrames;
    const lo = this.firstUsableFrame;
    let f = this.hint();
    for (let scanned = 0; scanned < n - lo && out.length < count; scanned++, f = f + 1 >= n ? lo : f + 1) {
      const idx = this.ftBase + f;
      if (
        Atomics.load(this.i32, idx) === 0 &&
        Atomics.compareExchange(this.i32, idx, 0, F_ALLOC | owner) === 0
      ) {
        Atomics.sub(this.i32, H_FREE, 1);
        out.push(f);
      }
    }
    if (out.length < count) {
      for (const g of out) this.release(g);
      return undefined;
    }
    Atomics.store(this.i32, H_HINT, f);
    return out;
  }

  private claimRun(owner: number, count: number): number[] | undefined {
    const n = this.nrFrames;
    let start = this.firstUsableFrame;
    while (start + count <= n) {
      // Find a window that looks free, then claim it word by word; undo on a lost race.
      let ok = true;
      for (let i = 0; i < count; i++) {
        if (Atomics.load(this.i32, this.ftBase + start + i) !== 0) {
          start = start + i + 1;
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      let claimed = 0;
      while (claimed < count) {
        const idx = this.ftBase + start + claimed;
        if (Atomics.compareExchange(this.i32, idx, 0, F_ALLOC | owner) !== 0) break;
        Atomics.sub(this.i32, H_FREE, 1);
        claimed++;
      }
      if (claimed === count) return Array.from({ length: count }, (_, i) => start + i);
      for (let i = 0; i < claimed; i++) this.release(start + i);
      start = start + claimed + 1;
    }
    return undefined;
  }

  private hint(): number {
    const h = Atomics.load(this.i32, H_HINT);
    return h >= this.firstUsableFrame && h < this.nrFrames ? h : this.firstUsableFrame;
  }

  /** Unconditionally mark a frame we own free (no accounting beyond the free count). */
  private release(frame: number): void {
    Atomics.store(this.i32, this.ftBase + frame, 0);
    Atomics.add(this.i32, H_FREE, 1);
  }

  /** Charge `count` pages to a domain; false when it is not live or over max. */
  private charge(owner: number, count: number): boolean {
    if (owner >= DOMID_FIRST_RESERVED) return owner === DOMID_XEN;
    const ctl = this.controlWordIndex(owner, 0);
    if (ctl < 0 || Atomics.load(this.i32, ctl + DomCtl.STATE) !== ST_LIVE) return false;
    const max = Atomics.load(this.i32, ctl + DomCtl.MAX_PAGES) >>> 0;
    const before = Atomics.add(this.i32, ctl + DomCtl.TOT_PAGES, count);
    if (before + count > max || Atomics.load(this.i32, ctl + DomCtl.STATE) !== ST_LIVE) {
      this.uncharge(owner, count);
      return false;
    }
    return true;
  }

  private uncharge(owner: number, count: number): void {
    if (owner >= DOMID_FIRST_RESERVED) return;
    const ctl = this.controlWordIndex(owner, 0);
    if (ctl < 0) return;
    const left = Atomics.sub(this.i32, ctl + DomCtl.TOT_PAGES, count) - count;
    if (left === 0) this.maybeReleaseDomain(owner, ctl);
  }

  /** Owner domid of an allocated frame, or undefined when the frame is free. */
  frameOwner(frame: number): number | undefined {
    if (!this.isValidFrame(frame)) return undefined;
    const w = Atomics.load(this.i32, this.ftBase + frame);
    return w & F_ALLOC ? w & OWNER_MASK : undefined;
  }

  /** References held on a frame (grant mappings and the like). */
  frameRefs(frame: number): number {
    this.checkFrame(frame);
    return (Atomics.load(this.i32, this.ftBase + frame) >>> REF_SHIFT) & REF_MAX;
  }

  /** True when the owner freed the frame but references keep it alive. */
  frameDying(frame: number): boolean {
    this.checkFrame(frame);
    return (Atomics.load(this.i32, this.ftBase + frame) & F_DYING) !== 0;
  }

  /**
   * The owner gives a frame up. Freed at once when unreferenced; otherwise it stays allocated
   * (dying) until the last putPageRef. False when the frame is not allocated or already dying.
   */
  freeFrame(frame: number): boolean {
    this.checkFrame(frame);
    const idx = this.ftBase + frame;
    for (;;) {
      const w = Atomics.load(this.i32, idx);
      if (!(w & F_ALLOC) || w & F_DYING) return false;
      const refs = (w >>> REF_SHIFT) & REF_MAX;
      const next = refs === 0 ? 0 : w | F_DYING;
      if (Atomics.compareExchange(this.i32, idx, w, next) !== w) continue;
      if (refs === 0) this.freed(w & OWNER_MASK, frame);
      return true;
    }
  }

  private freed(owner: number, frame: number): void {
    const link = this.link;
    if (link !== undefined) {
      // Other hosts' replicas of a frame the hypervisor's host freed are freed too (a FREE record).
      link.freedFrame(frame, link.subscribers(frame));
      link.setSubscribers(frame, 0);
    }
    Atomics.add(this.i32, H_FREE, 1);
    this.uncharge(owner, 1);
  }

  /**
   * Take a reference on an allocated, not dying frame (optionally only if owned by `owner`), as Xen's
   * get_page. False on a free, dying or foreign frame or when the counter would overflow.
   */
  getPageRef(frame: number, owner?: number): boolean {
    if (!this.isValidFrame(frame)) return false;
    const idx = this.ftBase + frame;
    for (;;) {
      const w = Atomics.load(this.i32, idx);
      if (!(w & F_ALLOC) || w & F_DYING) return false;
      if (owner !== undefined && (w & OWNER_MASK) !== owner) return false;
      if (((w >>> REF_SHIFT) & REF_MAX) === REF_MAX) return false;
      if (Atomics.compareExchange(this.i32, idx, w, w + REF_ONE) === w) return true;
    }
  }

  /** Drop a reference; the last one on a dying frame frees it. */
  putPageRef(frame: number): void {
    this.checkFrame(frame);
    const idx = this.ftBase + frame;
    for (;;) {
      const w = Atomics.load(this.i32, idx);
      const refs = (w >>> REF_SHIFT) & REF_MAX;
      if (!(w & F_ALLOC) || refs === 0)
        throw new PageStoreError("not_allocated", `put of unreferenced frame ${frame}`);
      const next = refs === 1 && w & F_DYING ? 0 : w - REF_ONE;
      if (Atomics.compareExchange(this.i32, idx, w, next) !== w) continue;
      if (next === 0) this.freed(w & OWNER_MASK, frame);
      return;
    }
  }

  /** Zero a frame's bytes. */
  zeroFrame(frame: number): void {
    this.checkFrame(frame);
    this.u8.fill(0, frame * PAGE_SIZE, (frame + 1) * PAGE_SIZE);
  }

  // ---- domains ------------------------------------------------------------------------------

  private dirIndex(domid: number): number {
    if (!Number.isInteger(domid) || domid < 0 || domid >= DOMID_FIRST_RESERVED) return -1;
    return this.ddBase + domid;
  }

  /** Int32 index (into `i32`) of word `word` of the domain's control frame, or -1 if no domain. */
  controlWordIndex(domid: number, word: number): number {
    const d = this.dirIndex(domid);
    if (d < 0) return -1;
    const frame = Atomics.load(this.i32, d);
    return frame === 0 ? -1 : frame * WORDS_PER_FRAME + word;
  }

  /** Create a domain: a control frame and an empty physmap. Throws if the domid is taken. */
  createDomain(domid: number, opts: CreateDomainOptions = {}): void {
    const d = this.dirIndex(domid);
    if (d < 0) throw new PageStoreError("no_domain", `domid ${domid} is not a domain id`);
    if (Atomics.load(this.i32, d) !== 0) throw new PageStoreError("exists", `domain ${domid} exists`);
    const ctl = this.allocFrame(DOMID_XEN);
    const root = ctl && this.allocFrame(DOMID_XEN);
    if (!ctl || !root) {
      if (ctl) this.freeFrame(ctl);
      throw new PageStoreError("no_memory", "no frame for the domain's control block");
    }
    const b = ctl * WORDS_PER_FRAME;
    this.i32[b + DomCtl.MAX_PAGES] = opts.maxPages ?? -1; // -1 = 0xffffffff unsigned
    this.i32[b + DomCtl.P2M_ROOT] = root;
    this.i32[b + DomCtl.FLAGS] = (opts.hvm ? FL_HVM : 0) | (opts.privileged ? FL_PRIV : 0);
    this.i32[b + DomCtl.DOMID] = domid;
    Atomics.store(this.i32, b + DomCtl.STATE, ST_LIVE);
    if (Atomics.compareExchange(this.i32, d, 0, ctl) !== 0) {
      this.freeFrame(root);
      this.freeFrame(ctl);
      throw new PageStoreError("exists", `domain ${domid} exists`);
    }
  }

  /** "none", "live", or "dying" (destroyed, kept as a zombie while its frames are referenced). */
  domainState(domid: number): DomainState {
    const c = this.controlWordIndex(domid, DomCtl.STATE);
    if (c < 0) return "none";
    const s = Atomics.load(this.i32, c);
    return s === ST_LIVE ? "live" : s === 0 ? "none" : "dying";
  }

  /**
   * Int32 index of word 0 of a live (not dying) domain's control frame, or -1: domainExists and
   * controlWordIndex in one directory lookup, for hot paths that resolve a domain once per call.
   */
  liveControlBase(domid: number): number {
    const c = this.controlWordIndex(domid, 0);
    return c >= 0 && Atomics.load(this.i32, c + DomCtl.STATE) === ST_LIVE ? c : -1;
  }

  /** True for a live (not dying) domain. */
  domainExists(domid: number): boolean {
    return this.domainState(domid) === "live";
  }

  /** True for a domain created `hvm` (paging_mode_external). */
  isHvm(domid: number): boolean {
    const c = this.controlWordIndex(domid, DomCtl.FLAGS);
    return c >= 0 && (Atomics.load(this.i32, c) & FL_HVM) !== 0;
  }

  /** True for a domain created `privileged`. */
  isPrivileged(domid: number): boolean {
    const c = this.controlWordIndex(domid, DomCtl.FLAGS);
    return c >= 0 && (Atomics.load(this.i32, c) & FL_PRIV) !== 0;
  }

  /** Frames the domain owns right now (Xen's tot_pages). */
  totPages(domid: number): number {
    const c = this.controlWordIndex(domid, DomCtl.TOT_PAGES);
    return c < 0 ? 0 : Atomics.load(this.i32, c);
  }

  /** Domids with a control frame (live or dying). */
  domains(): number[] {
    const out: number[] = [];
    for (let d = 0; d < DOMID_FIRST_RESERVED; d++)
      if (Atomics.load(this.i32, this.ddBase + d) !== 0) out.push(d);
    return out;
  }

  /**
   * Destroy a domain: its physmap goes, every frame it owns is freed; frames still referenced (mapped
   * by grant elsewhere) stay until their last reference is dropped, and the domain lingers as
   * "dying" until then. Call after the grant-table and event-channel teardown of the domain.
   * Returns false if there is no live domain `domid`.
   */
  destroyDomain(domid: number): boolean {
    const ctl = this.controlWordIndex(domid, 0);
    if (ctl < 0) return false;
    if (Atomics.compareExchange(this.i32, ctl + DomCtl.STATE, ST_LIVE, ST_LIVE | ST_DYING) !== ST_LIVE)
      return false;
    // Physmap frames (Xen's p2m) belong to DOMID_XEN.
    const root = Atomics.exchange(this.i32, ctl + DomCtl.P2M_ROOT, 0);
    for (let i = 0; i < P2M_ENTRIES; i++) {
      const leaf = Atomics.load(this.i32, root * WORDS_PER_FRAME + i);
      if (leaf) this.freeFrame(leaf);
    }
    this.freeFrame(root);
    // Every frame the domain owns, mapped in its physmap or not.
    for (let f = this.firstUsableFrame; f < this.nrFrames; f++) {
      const w = Atomics.load(this.i32, this.ftBase + f);
      if (w & F_ALLOC && !(w & F_DYING) && (w & OWNER_MASK) === domid) this.freeFrame(f);
    }
    if (Atomics.load(this.i32, ctl + DomCtl.TOT_PAGES) === 0) this.maybeReleaseDomain(domid, ctl);
    return true;
  }

  private maybeReleaseDomain(domid: number, ctl: number): void {
    const dying = ST_LIVE | ST_DYING;
    if (Atomics.load(this.i32, ctl + DomCtl.TOT_PAGES) !== 0) return;
    if (Atomics.compareExchange(this.i32, ctl + DomCtl.STATE, dying, dying | ST_RELEASED) !== dying) return;
    const frame = (ctl / WORDS_PER_FRAME) | 0;
    Atomics.store(this.i32, this.ddBase + domid, 0);
    this.freeFrame(frame);
  }

  // ---- physmap ------------------------------------------------------------------------------

  private p2mSlot(domid: number, gfn: number, create: boolean): number {
    return this.p2mSlotAt(this.controlWordIndex(domid, 0), gfn, create);
  }

  private p2mSlotAt(ctl: number, gfn: number, create: boolean): number {
    if (ctl < 0 || !Number.isInteger(gfn) || gfn < 0 || gfn >= MAX_GFN) return -1;
    const root = Atomics.load(this.i32, ctl + DomCtl.P2M_ROOT);
    if (!root) return -1;
    const rIdx = root * WORDS_PER_FRAME + (gfn >>> 10);
    let leaf = Atomics.load(this.i32, rIdx);
    if (!leaf) {
      if (!create) return -1;
      const fresh = this.allocFrame(DOMID_XEN);
      if (!fresh) return -1;
      leaf = Atomics.compareExchange(this.i32, rIdx, 0, fresh);
      if (leaf) this.freeFrame(fresh);
      else leaf = fresh;
    }
    return leaf * WORDS_PER_FRAME + (gfn & (P2M_ENTRIES - 1));
  }

  /** Machine frame at `gfn` in the domain's physmap, or 0. */
  gfnToFrame(domid: number, gfn: number): number {
    const s = this.p2mSlot(domid, gfn, false);
    return s < 0 ? 0 : Atomics.load(this.i32, s);
  }

  /** gfnToFrame of the domain whose control frame starts at Int32 index `ctl` (see liveControlBase). */
  gfnToFrameAt(ctl: number, gfn: number): number {
    const s = this.p2mSlotAt(ctl, gfn, false);
    return s < 0 ? 0 : Atomics.load(this.i32, s);
  }

  /** Put `frame` at `gfn` in the domain's physmap (replacing what was there). False on bad args. */
  physmapAdd(domid: number, gfn: number, frame: number): boolean {
    if (!this.isValidFrame(frame)) return false;
    const s = this.p2mSlot(domid, gfn, true);
    if (s < 0) return false;
    Atomics.store(this.i32, s, frame);
    return true;
  }

  /** Remove `gfn` from the physmap; returns the frame that was there, or 0. Does not free it. */
  physmapRemove(domid: number, gfn: number): number {
    const s = this.p2mSlot(domid, gfn, false);
    return s < 0 ? 0 : Atomics.exchange(this.i32, s, 0);
  }

  /**
   * XENMEM_populate_physmap: allocate `count` frames for the domain and map them at gfn, gfn+1, ….
   * With `contiguous` the frames are adjacent (so a view of them is contiguous). Returns the frames,
   * or undefined (nothing changed) when memory or the domain's allowance is short.
   */
  populatePhysmap(domid: number, gfn: number, count: number, contiguous = false): number[] | undefined {
    if (!Number.isInteger(gfn) || gfn < 0 || gfn + count > MAX_GFN) return undefined;
    const frames = this.allocFrames(domid, count, contiguous);
    if (!frames) return undefined;
    for (let i = 0; i < count; i++) {
      if (!this.physmapAdd(domid, gfn + i, frames[i]!)) {
        for (let j = 0; j < i; j++) this.physmapRemove(domid, gfn + j);
        for (const f of frames) this.freeFrame(f);
        return undefined;
      }
    }
    return frames;
  }

  /** XENMEM_decrease_reservation for one gfn: unmap and free its frame. False when nothing there. */
  decreaseReservation(domid: number, gfn: number): boolean {
    const f = this.physmapRemove(domid, gfn);
    return f !== 0 && this.freeFrame(f);
  }

  // ---- permission ---------------------------------------------------------------------------

  /** Register an extra write permission (gnttab registers "mapped writable by grant"). */
  addForeignWriteCheck(check: ForeignWriteCheck): void {
    this.writeChecks.push(check);
  }

  /** May `domid` write `frame`? It owns it (and it is not dying) or holds a writable mapping. */
  canWrite(domid: number, frame: number): boolean {
    if (!this.isValidFrame(frame)) return false;
    const w = Atomics.load(this.i32, this.ftBase + frame);
    if (!(w & F_ALLOC)) return false;
    if ((w & OWNER_MASK) === domid && !(w & F_DYING)) return true;
    return this.writeChecks.some((c) => c(domid, frame));
  }

  // ---- views --------------------------------------------------------------------------------

  /** A view of `frames` (contiguous when adjacent, paged otherwise). */
  viewOfFrames(frames: readonly number[], opts: { readonly?: boolean } = {}): MemView {
    for (const f of frames) this.checkFrame(f);
    return makeView(this, frames, opts.readonly ?? false);
  }

  /** A view of the frames at `gfns` in the domain's physmap; undefined if one is unmapped. */
  viewOfGfns(domid: number, gfns: readonly number[], opts: { readonly?: boolean } = {}): MemView | undefined {
    const frames: number[] = [];
    for (const g of gfns) {
      const f = this.gfnToFrame(domid, g);
      if (!f) return undefined;
      frames.push(f);
    }
    return this.viewOfFrames(frames, opts);
  }
}
