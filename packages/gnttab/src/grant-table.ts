// Hypervisor side of grant tables v1 (xen/common/grant_table.c semantics), with every piece of
// state in the PageStore's SharedArrayBuffer so a map in one worker thread and an unmap in another
// agree:
//   - the shared entries live in the granter's own frames (grant_entry_v1, Xen's layout);
//   - the active entries (Xen's struct active_grant_entry: lock, pin counts, mapper domid, frame)
//     live in DOMID_XEN frames, 256 per frame, two per grant frame;
//   - each mapper's maptrack (handle → {flags, dom, ref, host_addr}) lives in DOMID_XEN frames
//     reached through a directory frame; handles come off a free list under a maptrack lock;
//   - per-domain words (frame lists, counts, locks) live in the domain's control frame at
//     DomCtl.GNTTAB_BASE.
// A GrantTables object holds no state of its own: any number of them, in any threads, over the same
// buffer, act on the same tables.
//
// Locking follows Xen: the active entry lock covers pin changes and the first-pin validation; the
// shared entry (which the guest writes without locks) is only changed by CAS, retried at most 5
// times. A per-granter reference count (mappings + operations in flight) keeps a destroyed granter's
// tables alive until its last mapping is unmapped, as Xen's page references keep a zombie domain.

import {
  DOMID_SELF,
  DOMID_XEN,
  GNTCOPY_dest_gref,
  GNTCOPY_source_gref,
  GNTMAP_application_map,
  GNTMAP_contains_pte,
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_copy_arg,
  GNTST_bad_dev_addr,
  GNTST_bad_domain,
  GNTST_bad_gntref,
  GNTST_bad_handle,
  GNTST_bad_page,
  GNTST_general_error,
  GNTST_no_space,
  GNTST_okay,
  GNTST_permission_denied,
  GRANT_ENTRIES_V1_PER_FRAME,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_sub_page,
  GTF_type_mask,
  GTF_writing,
  gntstName as abiGntstName,
} from "@xensim/abi";
import { TRACE_GRANT, tracer } from "@xensim/trace";

import { DomCtl, lockWord, type MemView, PAGE_SIZE, type PageStore, unlockWord } from "@xensim/memory";

/** GNTST_* name of a status, for traces ("okay", "bad_gntref", …). */
const gntstName = (status: number): string => abiGntstName(status) ?? String(status);

// ---- pin counters (Xen's GNTPIN_*) ---------------------------------------------------------------
export const GNTPIN_hstw_inc = 1 << 0;
export const GNTPIN_hstr_inc = 1 << 8;
export const GNTPIN_devw_inc = 1 << 16;
export const GNTPIN_devr_inc = 1 << 24;
export const GNTPIN_hstw_mask = 0xff << 0;
export const GNTPIN_hstr_mask = 0xff << 8;
export const GNTPIN_devw_mask = 0xff << 16;
export const GNTPIN_devr_mask = 0xff << 24;
/** The top bit of each counter that `incr` increments: set means one more would overflow. */
const oflowMask = (incr: number): number => (incr * 0x80) >>> 0;

/** Xen's defaults: grant frames and maptrack frames per domain. */
export const DEFAULT_MAX_GRANT_FRAMES = 64;
export const DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
/** Most grant frames a table can have here (the control block has room for 128). */
export const MAX_GRANT_FRAMES_LIMIT = 128;

const WORDS = PAGE_SIZE / 4;
const ACT_PER_FRAME = 256; // 16-byte active entries
const MT_PER_FRAME = 256; // 16-byte maptrack entries
const SET_STATUS_RETRIES = 4; // Xen: fail when the 5th cmpxchg loses

// Words of the domain control block (relative to DomCtl.GNTTAB_BASE).
const G_LOCK = 0;
const G_STATE = 1; // 1 initialized, |2 dying, |4 finalized
const G_NR_FRAMES = 2;
const G_MAX_FRAMES = 3;
const G_MT_DIR = 4;
const G_MT_LOCK = 5;
const G_MT_FREE = 6; // head of the free handle list, handle+1 (0 = empty)
const G_MT_LIMIT = 7; // handles ever created
const G_MT_MAX_FRAMES = 8;
const G_REFS = 9; // mappings of this granter's entries + operations in flight; |REFS_DYING
const G_FRAMES = 16; // .. +128: grant frames
const G_ACT = 16 + MAX_GRANT_FRAMES_LIMIT; // .. +256: active-entry frames
const REFS_DYING = 1 << 30;
const REFS_DONE = 1 << 29;
const REFS_COUNT = REFS_DONE - 1;
const ST_INIT = 1;
const ST_DYING = 2;

export * from "./grant-types.js";
import {
  GrantTableError,
  type GnttabCopyOp,
  type GnttabCopyPtr,
  type GrantPolicy,
  type GrantTableInitOptions,
  type MapGrantRefOp,
  type MapGrantRefResult,
  type QueryTableResult,
  type SetupTableResult,
  type UnmapGrantRefOp,
} from "./grant-types.js";

interface Claim {
  frame: number;
  /** For a grant: the granter and ref to release; -1 for a local frame. */
  dom: number;
  ref: number;
  readonly: boolean;
  /** Valid byte window inside the frame (Xen: act->start/length; whole page for v1). */
  start: number;
  length: number;
}

function mapFailed(status: number): MapGrantRefResult {
  return { status, handle: -1, frame: 0, devBusAddr: 0 };
}

export class GrantTables {
  private readonly i32: Int32Array;

  constructor(
    readonly store: PageStore,
    private readonly policy: GrantPolicy = {},
  ) {
    this.i32 = store.i32;
    store.addForeignWriteCheck((d, f) => this.hasWritableMapping(d, f));
  }

  // ---- per-domain words -----------------------------------------------------------------------

  /** Int32 index of gnttab word `w` of `domid`, or -1 when the domain has no control block. */
  private gw(domid: number, w: number): number {
    return this.store.controlWordIndex(domid, DomCtl.GNTTAB_BASE + w);
  }

  private initialized(domid: number): boolean {
    const s = this.gw(domid, G_STATE);
    return s >= 0 && (Atomics.load(this.i32, s) & ST_INIT) !== 0;
  }

  /** A live domain with an initialized table (not dying). */
  private live(domid: number): boolean {
    const s = this.gw(domid, G_STATE);
    return s >= 0 && Atomics.load(this.i32, s) === ST_INIT && this.store.domainExists(domid);
  }

  private nrFrames(domid: number): number {
    return Atomics.load(this.i32, this.gw(domid, G_NR_FRAMES));
  }

  /** Number of entries in the domain's table now. */
  nrGrantEntries(domid: number): number {
    return this.initialized(domid) ? this.nrFrames(domid) * GRANT_ENTRIES_V1_PER_FRAME : 0;
  }

  /** Grant frames of the domain's table, in ref order. */
  grantFrames(domid: number): number[] {
    if (!this.initialized(domid)) return [];
    const n = this.nrFrames(domid);
    const b = this.gw(domid, G_FRAMES);
    return Array.from({ length: n }, (_, i) => Atomics.load(this.i32, b + i));
  }

  /** The granter's view of its own table (for grantAccess / endForeignAccess). */
  sharedView(domid: number): MemView {
    return this.store.viewOfFrames(this.grantFrames(domid));
  }

  /** The word index of a live domain's own shared entry `ref`, or -1 outside its table. */
  private ownEntryIndex(domid: number, ref: number): number {
    const t = this.liveTable(domid);
    if (t < 0 || ref >>> 0 !== ref) return -1;
    return ref < Atomics.load(this.i32, t + G_NR_FRAMES) * GRANT_ENTRIES_V1_PER_FRAME
      ? this.shIdxAt(t, ref)
      : -1;
  }

  /** The granter's own grantAccess of `ref` with no view (Xen's order); false past the table's frames. */
  grantAccessOwn(domid: number, ref: number, remote: number, gfn: number, readonly: boolean): boolean {
    const sh = this.ownEntryIndex(domid, ref);
    if (sh < 0) return false;
    const i32 = this.i32;
    i32[sh + 1] = gfn;
    Atomics.store(i32, sh, ((remote & 0xffff) << 16) | GTF_permit_access | (readonly ? GTF_readonly : 0));
    this.store.markWritten(Math.floor(sh / WORDS), (sh % WORDS) * 4, 8);
    return true;
  }

  /** The granter's own endForeignAccess of `ref`: false while mapped or outside the table. */
  endAccessOwn(domid: number, ref: number): boolean {
    const sh = this.ownEntryIndex(domid, ref);
    if (sh < 0) return false;
    const i32 = this.i32;
    let w = Atomics.load(i32, sh);
    for (;;) {
      if (w & (GTF_reading | GTF_writing)) return false;
      const prev = Atomics.compareExchange(i32, sh, w, w & 0xffff0000);
      if (prev === w) break;
      w = prev;
    }
    this.store.markWritten(Math.floor(sh / WORDS), (sh % WORDS) * 4, 2);
    return true;
  }

  /** Int32 index of word 0 (flags | domid << 16) of shared entry `ref`; ref must be < nr entries. */
  private shIdx(rd: number, ref: number): number {
    const f = Atomics.load(this.i32, this.gw(rd, G_FRAMES) + Math.floor(ref / GRANT_ENTRIES_V1_PER_FRAME));
    return f * WORDS + (ref % GRANT_ENTRIES_V1_PER_FRAME) * 2;
  }

  /** Int32 index of active entry `ref` (+0 lock, +1 pin, +2 mapper domid, +3 frame). */
  private actIdx(rd: number, ref: number): number {
    const f = Atomics.load(this.i32, this.gw(rd, G_ACT) + Math.floor(ref / ACT_PER_FRAME));
    return f * WORDS + (ref % ACT_PER_FRAME) * 4;
  }

  /** Int32 index of maptrack entry `handle` (+0 flags | dom << 16, +1 ref/next, +2 +3 host_addr). */
  private mtIdx(ld: number, handle: number): number {
    const dir = Atomics.load(this.i32, this.gw(ld, G_MT_DIR));
    const f = Atomics.load(this.i32, dir * WORDS + Math.floor(handle / MT_PER_FRAME));
    return f * WORDS + (handle % MT_PER_FRAME) * 4;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /** grant_table_init: give a freshly created domain its table and maptrack. */
  initDomain(domid: number, opts: GrantTableInitOptions = {}): void {
    const maxFrames = opts.maxFrames ?? DEFAULT_MAX_GRANT_FRAMES;
    const maxMt = opts.maxMaptrackFrames ?? DEFAULT_MAX_MAPTRACK_FRAMES;
    const initial = opts.initialFrames ?? 1;
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > MAX_GRANT_FRAMES_LIMIT)
      throw new GrantTableError("bad_argument", `maxFrames must be in [1, ${MAX_GRANT_FRAMES_LIMIT}]`);
    if (!Number.isInteger(maxMt) || maxMt < 0 || maxMt > WORDS)
      throw new GrantTableError("bad_argument", `maxMaptrackFrames must be in [0, ${WORDS}]`);
    if (!Number.isInteger(initial) || initial < 1 || initial > maxFrames)
      throw new GrantTableError("bad_argument", "initialFrames must be in [1, maxFrames]");
    if (!this.store.domainExists(domid)) throw new GrantTableError("no_domain", `no live domain ${domid}`);
    const st = this.gw(domid, G_STATE);
    if (Atomics.load(this.i32, st) !== 0)
      throw new GrantTableError("exists", `domain ${domid} has a grant table`);
    const dir = this.store.allocFrame(DOMID_XEN);
    if (!dir) throw new GrantTableError("no_memory", "no frame for the maptrack directory");
    Atomics.store(this.i32, this.gw(domid, G_MAX_FRAMES), maxFrames);
    Atomics.store(this.i32, this.gw(domid, G_MT_MAX_FRAMES), maxMt);
    Atomics.store(this.i32, this.gw(domid, G_MT_DIR), dir);
    Atomics.store(this.i32, st, ST_INIT);
    if (!this.grow(domid, initial)) {
      this.finalize(domid);
      Atomics.store(this.i32, st, 0);
      throw new GrantTableError("no_memory", "no frames for the grant table");
    }
  }

  /** gnttab_grow_table: make the table `want` frames long. False when memory ran out. */
  private grow(domid: number, want: number): boolean {
    const lock = this.gw(domid, G_LOCK);
    lockWord(this.i32, lock);
    try {
      const frames = this.gw(domid, G_FRAMES);
      const acts = this.gw(domid, G_ACT);
      for (let i = this.nrFrames(domid); i < want; i++) {
        const gf = this.store.allocFrame(domid);
        if (!gf) return false;
        const a0 = this.store.allocFrame(DOMID_XEN);
        const a1 = a0 && this.store.allocFrame(DOMID_XEN);
        if (!a0 || !a1 || !this.store.getPageRef(gf, domid)) {
          if (a0) this.store.freeFrame(a0);
          if (a1) this.store.freeFrame(a1);
          this.store.freeFrame(gf);
          return false;
        }
        Atomics.store(this.i32, frames + i, gf);
        Atomics.store(this.i32, acts + 2 * i, a0);
        Atomics.store(this.i32, acts + 2 * i + 1, a1);
        Atomics.store(this.i32, this.gw(domid, G_NR_FRAMES), i + 1); // publish after the frame
      }
      return true;
    } finally {
      unlockWord(this.i32, lock);
    }
  }

  /**
   * Domain teardown (gnttab_release_mappings + grant_table_destroy): unmap everything the domain
   * has mapped (clearing the granters' GTF flags), then retire its own table. Entries of its table
   * still mapped by others keep the table (and those frames) alive until unmapped.
   */
  destroyDomain(domid: number): void {
    if (!this.initialized(domid)) return;
    Atomics.or(this.i32, this.gw(domid, G_STATE), ST_DYING);
    this.releaseMappings(domid);
    this.freeMaptrack(domid);
    const refs = this.gw(domid, G_REFS);
    const w = Atomics.or(this.i32, refs, REFS_DYING);
    if (!(w & REFS_DYING) && (w & REFS_COUNT) === 0) this.tryFinalize(domid);
  }

  /**
   * Release up to `budget` of the domain's own mappings (XSA-380: bounded work per call).
   * Returns how many mappings are left.
   */
  releaseMappings(domid: number, budget = Number.POSITIVE_INFINITY): number {
    if (!this.initialized(domid)) return 0;
    const limit = Atomics.load(this.i32, this.gw(domid, G_MT_LIMIT));
    let left = 0;
    for (let h = 0; h < limit; h++) {
      if (Atomics.load(this.i32, this.mtIdx(domid, h)) === 0) continue;
      if (budget <= 0) {
        left++;
        continue;
      }
      budget--;
      this.unmapGrantRef(domid, { handle: h });
    }
    return left;
  }

  private freeMaptrack(domid: number): void {
    const dirW = this.gw(domid, G_MT_DIR);
    const dir = Atomics.exchange(this.i32, dirW, 0);
    if (!dir) return;
    for (let i = 0; i < WORDS; i++) {
      const f = Atomics.load(this.i32, dir * WORDS + i);
      if (f) this.store.freeFrame(f);
    }
    this.store.freeFrame(dir);
  }

  private getRef(rd: number): boolean {
    return this.getRefAt(this.tableOf(rd));
  }

  private putRef(rd: number): void {
    this.putRefAt(this.tableOf(rd), rd);
  }

  private tryFinalize(domid: number): void {
    const idx = this.gw(domid, G_REFS);
    if (Atomics.compareExchange(this.i32, idx, REFS_DYING, REFS_DYING | REFS_DONE) !== REFS_DYING) return;
    this.finalize(domid);
  }

  /** Free the table's metadata and drop our references on its grant frames. */
  private finalize(domid: number): void {
    const n = this.nrFrames(domid);
    const frames = this.gw(domid, G_FRAMES);
    const acts = this.gw(domid, G_ACT);
    const gfs: number[] = [];
    for (let i = 0; i < n; i++) {
      gfs.push(Atomics.exchange(this.i32, frames + i, 0));
      this.store.freeFrame(Atomics.exchange(this.i32, acts + 2 * i, 0));
      this.store.freeFrame(Atomics.exchange(this.i32, acts + 2 * i + 1, 0));
    }
    Atomics.store(this.i32, this.gw(domid, G_NR_FRAMES), 0);
    this.freeMaptrack(domid);
    // Last: the grant frames (the control block lives as long as the domain owns frames).
    for (const gf of gfs) {
      this.store.freeFrame(gf);
      this.store.putPageRef(gf);
    }
  }

  // ---- setup_table / query_size ---------------------------------------------------------------

  private resolve(caller: number, dom: number): number {
    return dom === DOMID_SELF ? caller : dom;
  }

  private maySetup(caller: number, d: number): boolean {
    return this.policy.maySetup
      ? this.policy.maySetup(caller, d)
      : caller === d || this.store.isPrivileged(caller);
  }

  /** GNTTABOP_setup_table: grow the table to nrFrames and return its frames. */
  setupTable(caller: number, op: { dom: number; nrFrames: number }): SetupTableResult {
    const d = this.resolve(caller, op.dom);
    if (!this.live(d)) return { status: GNTST_bad_domain, frames: [] };
    if (!this.maySetup(caller, d)) return { status: GNTST_permission_denied, frames: [] };
    const max = Atomics.load(this.i32, this.gw(d, G_MAX_FRAMES));
    if (!Number.isInteger(op.nrFrames) || op.nrFrames < 0 || op.nrFrames > max)
      return { status: GNTST_general_error, frames: [] };
    if (op.nrFrames > this.nrFrames(d) && !this.grow(d, op.nrFrames))
      return { status: GNTST_general_error, frames: [] };
    return { status: GNTST_okay, frames: this.grantFrames(d).slice(0, op.nrFrames) };
  }

  /** GNTTABOP_query_size. */
  queryTable(caller: number, dom: number): QueryTableResult {
    const d = this.resolve(caller, dom);
    if (!this.live(d)) return { status: GNTST_bad_domain, nrFrames: 0, maxNrFrames: 0 };
    if (!this.maySetup(caller, d)) return { status: GNTST_permission_denied, nrFrames: 0, maxNrFrames: 0 };
    return {
      status: GNTST_okay,
      nrFrames: this.nrFrames(d),
      maxNrFrames: Atomics.load(this.i32, this.gw(d, G_MAX_FRAMES)),
    };
  }

  // ---- maptrack -------------------------------------------------------------------------------
  // The hot helpers take `t`, the Int32 index of a domain's gnttab words (tableOf / liveTable):
  // a map or unmap resolves each domain once per call, as Xen holds its struct domain pointers.

  /** Int32 index of the gnttab words of `domid` (word 0), or -1 when it has no control block. */
  private tableOf(domid: number): number {
    return this.store.controlWordIndex(domid, DomCtl.GNTTAB_BASE);
  }

  /** tableOf a live domain whose table is initialized and not dying, else -1 (one directory lookup). */
  private liveTable(domid: number): number {
    const c = this.store.liveControlBase(domid);
    if (c < 0) return -1;
    const t = c + DomCtl.GNTTAB_BASE;
    return Atomics.load(this.i32, t + G_STATE) === ST_INIT ? t : -1;
  }

  /** Int32 index of maptrack entry `handle` of the table at `t`. */
  private mtIdxAt(t: number, handle: number): number {
    const dir = Atomics.load(this.i32, t + G_MT_DIR);
    const f = Atomics.load(this.i32, dir * WORDS + Math.floor(handle / MT_PER_FRAME));
    return f * WORDS + (handle % MT_PER_FRAME) * 4;
  }

  /** Int32 index of word 0 of shared entry `ref` of the table at `t`; ref must be < nr entries. */
  private shIdxAt(t: number, ref: number): number {
    const f = Atomics.load(this.i32, t + G_FRAMES + Math.floor(ref / GRANT_ENTRIES_V1_PER_FRAME));
    return f * WORDS + (ref % GRANT_ENTRIES_V1_PER_FRAME) * 2;
  }

  /** Int32 index of active entry `ref` of the table at `t`. */
  private actIdxAt(t: number, ref: number): number {
    const f = Atomics.load(this.i32, t + G_ACT + Math.floor(ref / ACT_PER_FRAME));
    return f * WORDS + (ref % ACT_PER_FRAME) * 4;
  }

  private getRefAt(t: number): boolean {
    if (t < 0) return false;
    const idx = t + G_REFS;
    for (;;) {
      const w = Atomics.load(this.i32, idx);
      if (w & REFS_DYING) return false;
      if (Atomics.compareExchange(this.i32, idx, w, w + 1) === w) return true;
    }
  }

  private putRefAt(t: number, rd: number): void {
    if (Atomics.sub(this.i32, t + G_REFS, 1) - 1 === REFS_DYING) this.tryFinalize(rd);
  }

  /** A free maptrack handle of the table at `t` (the free list under the maptrack lock), or -1. */
  private getHandleAt(t: number): number {
    const i32 = this.i32;
    const lock = t + G_MT_LOCK;
    lockWord(i32, lock);
    try {
      // Under the lock, the free list words are only touched by lock holders: plain accesses.
      const head = i32[t + G_MT_FREE]!;
      if (head !== 0) {
        const h = head - 1;
        i32[t + G_MT_FREE] = i32[this.mtIdxAt(t, h) + 1]!;
        return h;
      }
      const limit = Atomics.load(i32, t + G_MT_LIMIT);
      const maxFrames = Atomics.load(i32, t + G_MT_MAX_FRAMES);
      if (limit >= maxFrames * MT_PER_FRAME) return -1;
      if (limit % MT_PER_FRAME === 0) {
        const dir = Atomics.load(i32, t + G_MT_DIR);
        const f = this.store.allocFrame(DOMID_XEN);
        if (!dir || !f) {
          if (f) this.store.freeFrame(f);
          return -1;
        }
        Atomics.store(i32, dir * WORDS + limit / MT_PER_FRAME, f);
      }
      Atomics.store(i32, t + G_MT_LIMIT, limit + 1);
      return limit;
    } finally {
      unlockWord(i32, lock);
    }
  }

  /** Put handle `h` (its entry already 0 or never published) back on the free list of `t`. */
  private putHandleAt(t: number, h: number): void {
    const i32 = this.i32;
    const lock = t + G_MT_LOCK;
    lockWord(i32, lock);
    const e = this.mtIdxAt(t, h);
    if (i32[e] !== 0) Atomics.store(i32, e, 0);
    i32[e + 1] = i32[t + G_MT_FREE]!;
    i32[t + G_MT_FREE] = h + 1;
    unlockWord(i32, lock);
  }

  // ---- shared entry status (Xen's _set_status_v1 / gnttab_clear_flags) -------------------------

  /** Set GTF_reading (+GTF_writing) in shared entry `sh`; validates type and domid if not pinned. */
  private setStatus(sh: number, pinned: boolean, readonly: boolean, mapping: boolean, ld: number): number {
    const mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    let s = Atomics.load(this.i32, sh);
    for (let retries = 0; ; retries++) {
      const flags = s & 0xffff;
      if (!pinned && ((flags & mask) !== GTF_permit_access || s >>> 16 !== ld)) return GNTST_general_error;
      let nf = flags | GTF_reading;
      if (!readonly) {
        nf |= GTF_writing;
        if (flags & GTF_readonly) return GNTST_general_error;
      }
      const prev = Atomics.compareExchange(this.i32, sh, s, (s & ~0xffff) | nf);
      if (prev === s) return GNTST_okay;
      if (retries === SET_STATUS_RETRIES) return GNTST_general_error; // "unstable" entry
      s = prev;
    }
  }

  private clearFlags(sh: number, bits: number): void {
    Atomics.and(this.i32, sh, ~bits);
  }

  /** Drop `decr` pins of active entry `act` (lock held) and clear shared entry `sh`'s GTF flags as Xen does. */
  private unpin(sh: number, act: number, decr: number, wasWritable: boolean): void {
    const pin = this.i32[act + 1]! - decr;
    this.i32[act + 1] = pin; // under the active entry lock (its release is the barrier)
    if (pin === 0) this.clearFlags(sh, wasWritable ? GTF_reading | GTF_writing : GTF_reading);
    else if (wasWritable && !(pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask))) this.clearFlags(sh, GTF_writing);
  }

  /**
   * With the active entry lock held: validate and pin entry `ref` of `rd` (table `t`, shared entry
   * `sh`, active entry `act`) for `ld` (Xen's map and acquire-for-copy share this part). Returns the
   * pinned frame, or a negative GNTST status.
   */
  private pinLocked(
    rd: number,
    t: number,
    sh: number,
    act: number,
    ld: number,
    incr: number,
    readonly: boolean,
    mapping: boolean,
  ): number {
    const i32 = this.i32;
    const pin = i32[act + 1]!; // written only under this lock
    // Already pinned: only the active entry is checked (its domid, counter overflow), not the shared
    // entry (XSA-500 for copies).
    if (pin && (i32[act + 2] !== ld || pin & oflowMask(incr))) return GNTST_general_error;
    if (!pin || (!readonly && !(pin & (GNTPIN_hstw_mask | GNTPIN_devw_mask)))) {
      const rc = this.setStatus(sh, pin !== 0, readonly, mapping, ld);
      if (rc !== GNTST_okay) return rc;
      if (!pin) {
        const gfn = Atomics.load(i32, sh + 1) >>> 0;
        const f = this.store.gfnToFrameAt(t - DomCtl.GNTTAB_BASE, gfn);
        if (!f || this.store.frameOwner(f) !== rd) {
          // Xen's unlock_out_clear: undo the flags we set on an entry nobody has pinned.
          this.clearFlags(sh, GTF_reading | (readonly ? 0 : GTF_writing));
          return GNTST_bad_page;
        }
        // Plain stores: the active entry's words change only under its lock, whose release orders them.
        i32[act + 2] = ld;
        i32[act + 3] = f;
      }
    }
    i32[act + 1] = pin + incr;
    return i32[act + 3]!;
  }

  // ---- map / unmap ----------------------------------------------------------------------------

  /**
   * The frame of the last successful mapGrantRefHandle by this object (Xen writes it back into the
   * caller's op; one GrantTables object serves one thread).
   */
  lastMappedFrame = 0;

  /** GNTTABOP_map_grant_ref, checks in Xen's order. */
  mapGrantRef(mapper: number, op: MapGrantRefOp): MapGrantRefResult {
    const h = this.mapGrantRefHandle(mapper, op.dom, op.ref, op.flags, op.hostAddr ?? 0);
    if (h < 0) return mapFailed(h);
    const frame = this.lastMappedFrame;
    return {
      status: GNTST_okay,
      handle: h,
      frame,
      devBusAddr: op.flags & GNTMAP_device_map ? frame * PAGE_SIZE : 0,
    };
  }

  /**
   * GNTTABOP_map_grant_ref without an object per call: the maptrack handle (≥ 0), or the GNTST_*
   * status (< 0); the mapped frame is then in lastMappedFrame. The same checks, in the same order,
   * as mapGrantRef (which is this plus the result object).
   */
  mapGrantRefHandle(mapper: number, dom: number, ref: number, flags: number, hostAddr = 0): number {
    const h = this.mapChecked(mapper, dom, ref, flags, hostAddr);
    if (tracer.mask & TRACE_GRANT)
      tracer.emit({
        kind: "grant",
        op: "map",
        domid: mapper,
        peer: dom,
        ref,
        flags,
        readonly: (flags & GNTMAP_readonly) !== 0,
        status: gntstName(h < 0 ? h : GNTST_okay),
        handle: h < 0 ? -1 : h,
        frame: h < 0 ? 0 : this.lastMappedFrame,
      });
    return h;
  }

  private mapChecked(mapper: number, rd: number, ref: number, flagsIn: number, hostAddr: number): number {
    const i32 = this.i32;
    const flags = flagsIn >>> 0;
    const readonly = (flags & GNTMAP_readonly) !== 0;
    let incr = 0;
    if (flags & GNTMAP_device_map) incr += readonly ? GNTPIN_devr_inc : GNTPIN_devw_inc;
    if (flags & GNTMAP_host_map) incr += readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    if (!incr) return GNTST_bad_gntref;
    if (
      flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte) &&
      this.store.isHvm(mapper)
    )
      return GNTST_general_error;
    const rt = this.liveTable(rd);
    if (rt < 0) return GNTST_bad_domain;
    if (this.policy.mayMap && !this.policy.mayMap(mapper, rd, flags)) return GNTST_permission_denied;
    const mt = this.liveTable(mapper);
    if (mt < 0) return GNTST_no_space; // a dying mapper gets no new handles
    const handle = this.getHandleAt(mt);
    if (handle < 0) return GNTST_no_space;
    if (!this.getRefAt(rt)) {
      this.putHandleAt(mt, handle);
      return GNTST_bad_domain;
    }
    if (
      !Number.isInteger(ref) ||
      ref < 0 ||
      ref >= Atomics.load(i32, rt + G_NR_FRAMES) * GRANT_ENTRIES_V1_PER_FRAME
    )
      return this.undoMap(mt, rt, rd, handle, GNTST_bad_gntref);

    const act = this.actIdxAt(rt, ref);
    const sh = this.shIdxAt(rt, ref);
    lockWord(i32, act);
    const frame = this.pinLocked(rd, rt, sh, act, mapper, incr, readonly, true);
    unlockWord(i32, act);
    if (frame < 0) return this.undoMap(mt, rt, rd, handle, frame);
    if (!this.store.getPageRef(frame)) {
      lockWord(i32, act);
      this.unpin(sh, act, incr, !readonly);
      unlockWord(i32, act);
      return this.undoMap(mt, rt, rd, handle, GNTST_general_error);
    }
    // The maptrack entry is ours until published: plain writes, then word 0 with a full barrier.
    const e = this.mtIdxAt(mt, handle);
    i32[e + 1] = ref;
    i32[e + 2] = hostAddr % 0x1_0000_0000;
    i32[e + 3] = Math.floor(hostAddr / 0x1_0000_0000);
    Atomics.store(i32, e, (flags & 0xffff) | (rd << 16)); // publish
    this.lastMappedFrame = frame;
    return handle;
  }

  /** A map failed after the handle and the granter's reference were taken: give both back. */
  private undoMap(mt: number, rt: number, rd: number, handle: number, status: number): number {
    this.putRefAt(rt, rd);
    this.putHandleAt(mt, handle);
    return status;
  }

  /** GNTTABOP_unmap_grant_ref. */
  unmapGrantRef(mapper: number, op: UnmapGrantRefOp): number {
    return this.unmapGrantRefHandle(mapper, op.handle, op.hostAddr, op.devBusAddr);
  }

  /** GNTTABOP_unmap_grant_ref without an op object (see unmapGrantRef for the arguments). */
  unmapGrantRefHandle(mapper: number, h: number, hostAddr?: number, devBusAddr?: number): number {
    if (!(tracer.mask & TRACE_GRANT)) return this.unmapChecked(mapper, h, hostAddr, devBusAddr);
    // Read the mapping before it goes: the granter and the ref are the interesting part.
    let granter = -1;
    let ref = -1;
    const mt = this.tableOf(mapper);
    if (
      this.initialized(mapper) &&
      Atomics.load(this.i32, mt + G_MT_DIR) &&
      Number.isInteger(h) &&
      h >= 0 &&
      h < Atomics.load(this.i32, mt + G_MT_LIMIT)
    ) {
      const e = this.mtIdxAt(mt, h);
      const w = Atomics.load(this.i32, e);
      if (w !== 0) {
        granter = w >>> 16;
        ref = Atomics.load(this.i32, e + 1);
      }
    }
    const status = this.unmapChecked(mapper, h, hostAddr, devBusAddr);
    tracer.emit({
      kind: "grant",
      op: "unmap",
      domid: mapper,
      ...(granter >= 0 ? { peer: granter, ref } : {}),
      handle: h,
      status: gntstName(status),
    });
    return status;
  }

  private unmapChecked(mapper: number, h: number, opHostAddr?: number, opDevBusAddr?: number): number {
    const i32 = this.i32;
    const mt = this.tableOf(mapper);
    if (mt < 0 || !(Atomics.load(i32, mt + G_STATE) & ST_INIT) || !Atomics.load(i32, mt + G_MT_DIR))
      return GNTST_bad_handle;
    if (!Number.isInteger(h) || h < 0 || h >= Atomics.load(i32, mt + G_MT_LIMIT)) return GNTST_bad_handle;
    const e = this.mtIdxAt(mt, h);
    const w0 = Atomics.load(i32, e);
    if (w0 === 0) return GNTST_bad_handle;
    const rd = w0 >>> 16;
    const ref = Atomics.load(i32, e + 1);
    const rt = this.tableOf(rd);
    if (rt < 0 || !(Atomics.load(i32, rt + G_STATE) & ST_INIT)) return GNTST_general_error; // cannot happen: mappings keep the granter
    if (ref < 0 || ref >= Atomics.load(i32, rt + G_NR_FRAMES) * GRANT_ENTRIES_V1_PER_FRAME)
      return GNTST_bad_handle;
    const act = this.actIdxAt(rt, ref);
    let frame: number;
    let freed = false;
    lockWord(i32, act);
    try {
      // Re-validate under the active entry lock (XSA-218: racing unmaps of one handle).
      const w = Atomics.load(i32, e);
      if (w === 0 || w >>> 16 !== rd || Atomics.load(i32, e + 1) !== ref) return GNTST_bad_handle;
      const flags = w & 0xffff;
      const readonly = (flags & GNTMAP_readonly) !== 0;
      frame = i32[act + 3]!;
      const recorded = (i32[e + 2]! >>> 0) + (i32[e + 3]! >>> 0) * 0x1_0000_0000;
      const hostAddr = opHostAddr ?? (flags & GNTMAP_host_map ? recorded || 1 : 0);
      const devBusAddr = opDevBusAddr ?? (flags & GNTMAP_device_map ? frame * PAGE_SIZE : 0);
      if (devBusAddr && flags & GNTMAP_device_map && devBusAddr !== frame * PAGE_SIZE)
        return GNTST_bad_dev_addr;
      let left = flags;
      let decr = 0;
      if (hostAddr && flags & GNTMAP_host_map) {
        if (opHostAddr !== undefined && hostAddr !== recorded) return GNTST_general_error; // replace_grant_host_mapping fails
        left &= ~GNTMAP_host_map;
        decr += readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
      }
      if (devBusAddr && flags & GNTMAP_device_map) {
        left &= ~GNTMAP_device_map;
        decr += readonly ? GNTPIN_devr_inc : GNTPIN_devw_inc;
      }
      // Under the active entry lock, which every unmap of this handle takes (plain stores).
      if (!(left & (GNTMAP_host_map | GNTMAP_device_map))) {
        i32[e] = 0;
        freed = true;
      } else i32[e] = (left & 0xffff) | (rd << 16);
      if (decr) this.unpin(this.shIdxAt(rt, ref), act, decr, !readonly);
    } finally {
      unlockWord(i32, act);
    }
    if (freed) {
      this.putHandleAt(mt, h);
      this.store.putPageRef(frame);
      this.putRefAt(rt, rd);
    }
    return GNTST_okay;
  }

  /**
   * Map several refs of one granter (a multi-page ring, a request's segments). Returns each op's
   * result and, when all succeeded, one view of the frames (contiguous if they are adjacent).
   * Partial successes are left mapped: the caller unmaps them (Linux backends must, XSA-361).
   */
  mapGrantRefs(
    mapper: number,
    dom: number,
    refs: readonly number[],
    flags: number,
  ): { results: MapGrantRefResult[]; view: MemView | undefined } {
    const results: MapGrantRefResult[] = [];
    const frames: number[] = [];
    let ok = true;
    for (let i = 0; i < refs.length; i++) {
      const r = this.mapGrantRef(mapper, { dom, ref: refs[i]!, flags });
      results.push(r);
      frames.push(r.frame);
      if (r.status !== GNTST_okay) ok = false;
    }
    const view = ok
      ? this.store.viewOfFrames(frames, { readonly: (flags & GNTMAP_readonly) !== 0 })
      : undefined;
    return { results, view };
  }
  /** The frame behind a live handle of `mapper`, or 0. */
  mappedFrame(mapper: number, handle: number): number {
    if (!this.initialized(mapper) || !Number.isInteger(handle) || handle < 0) return 0;
    if (!Atomics.load(this.i32, this.gw(mapper, G_MT_DIR))) return 0;
    if (handle >= Atomics.load(this.i32, this.gw(mapper, G_MT_LIMIT))) return 0;
    const w = Atomics.load(this.i32, this.mtIdx(mapper, handle));
    if (!w) return 0;
    const ref = Atomics.load(this.i32, this.mtIdx(mapper, handle) + 1);
    return Atomics.load(this.i32, this.actIdx(w >>> 16, ref) + 3);
  }

  /** Live maptrack handles of `mapper` (for leak checks). */
  mappingCount(mapper: number): number {
    if (!this.initialized(mapper) || !Atomics.load(this.i32, this.gw(mapper, G_MT_DIR))) return 0;
    const limit = Atomics.load(this.i32, this.gw(mapper, G_MT_LIMIT));
    let n = 0;
    for (let h = 0; h < limit; h++) if (Atomics.load(this.i32, this.mtIdx(mapper, h)) !== 0) n++;
    return n;
  }

  /**
   * Leak audit of a destroyed domain against the hypervisor's grant tables: every other domain's
   * maptrack entry that still maps one of its grants, every active entry (pin) of another
   * domain's table it still holds as mapper, and whether its own table is still there.
   */
  grantLeaksOf(domid: number): {
    tableLeft: boolean;
    mappingsOfItsGrants: Array<{ mapper: number; handle: number; ref: number }>;
    pinsItHolds: Array<{ granter: number; ref: number; pin: number }>;
  } {
    const mappingsOfItsGrants: Array<{ mapper: number; handle: number; ref: number }> = [];
    const pinsItHolds: Array<{ granter: number; ref: number; pin: number }> = [];
    for (const d of this.store.domains()) {
      if (d === domid || !this.initialized(d)) continue;
      if (Atomics.load(this.i32, this.gw(d, G_MT_DIR))) {
        const limit = Atomics.load(this.i32, this.gw(d, G_MT_LIMIT));
        for (let h = 0; h < limit; h++) {
          const e = this.mtIdx(d, h);
          const w = Atomics.load(this.i32, e);
          if (w !== 0 && w >>> 16 === domid)
            mappingsOfItsGrants.push({ mapper: d, handle: h, ref: Atomics.load(this.i32, e + 1) });
        }
      }
      const n = this.nrGrantEntries(d);
      for (let ref = 0; ref < n; ref++) {
        const a = this.actIdx(d, ref);
        const pin = Atomics.load(this.i32, a + 1) >>> 0;
        if (pin !== 0 && Atomics.load(this.i32, a + 2) === domid) pinsItHolds.push({ granter: d, ref, pin });
      }
    }
    return { tableLeft: this.initialized(domid), mappingsOfItsGrants, pinsItHolds };
  }

  /** Pin word of active entry `ref` of `granter` (GNTPIN_* counters), for tests and dumps. */
  activePin(granter: number, ref: number): number {
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.nrGrantEntries(granter)) return 0;
    return Atomics.load(this.i32, this.actIdx(granter, ref) + 1) >>> 0;
  }

  /** Does `domid` hold a writable mapping of `frame`? (registered as the store's write check) */
  hasWritableMapping(domid: number, frame: number): boolean {
    if (!this.initialized(domid) || !Atomics.load(this.i32, this.gw(domid, G_MT_DIR))) return false;
    const limit = Atomics.load(this.i32, this.gw(domid, G_MT_LIMIT));
    for (let h = 0; h < limit; h++) {
      const e = this.mtIdx(domid, h);
      const w = Atomics.load(this.i32, e);
      if (!w || w & GNTMAP_readonly) continue;
      if (Atomics.load(this.i32, this.actIdx(w >>> 16, Atomics.load(this.i32, e + 1)) + 3) === frame)
        return true;
    }
    return false;
  }

  // ---- copy -----------------------------------------------------------------------------------

  /** acquire_grant_for_copy: pin `ref` of `rd` for the duration of one copy. */
  private acquireForCopy(rd: number, ref: number, ld: number, readonly: boolean): Claim | number {
    if (!this.getRef(rd)) return GNTST_bad_domain;
    if (!Number.isInteger(ref) || ref < 0 || ref >= this.nrGrantEntries(rd)) {
      this.putRef(rd);
      return GNTST_bad_gntref;
    }
    const rt = this.tableOf(rd);
    const act = this.actIdxAt(rt, ref);
    const incr = readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc;
    lockWord(this.i32, act);
    const pinned = this.pinLocked(rd, rt, this.shIdxAt(rt, ref), act, ld, incr, readonly, false);
    unlockWord(this.i32, act);
    if (pinned < 0) {
      this.putRef(rd);
      return pinned;
    }
    const frame = pinned;
    if (!this.store.getPageRef(frame)) {
      this.releaseForCopy({ frame: 0, dom: rd, ref, readonly, start: 0, length: 0 });
      return GNTST_general_error;
    }
    return { frame, dom: rd, ref, readonly, start: 0, length: PAGE_SIZE };
  }

  private releaseForCopy(c: Claim): void {
    if (c.dom < 0) return;
    const act = this.actIdx(c.dom, c.ref);
    lockWord(this.i32, act);
    this.unpin(this.shIdx(c.dom, c.ref), act, c.readonly ? GNTPIN_hstr_inc : GNTPIN_hstw_inc, !c.readonly);
    unlockWord(this.i32, act);
    if (c.frame) this.store.putPageRef(c.frame);
    this.putRef(c.dom);
  }

  private claim(
    ld: number,
    d: number,
    ptr: GnttabCopyPtr,
    isGref: boolean,
    readonly: boolean,
  ): Claim | number {
    if (isGref) return this.acquireForCopy(d, ptr.ref ?? 0, ld, readonly);
    const gmfn = ptr.gmfn ?? 0;
    const f = this.store.gfnToFrame(d, gmfn);
    if (!f || this.store.frameOwner(f) !== d) return GNTST_bad_page; // get_paged_frame
    return { frame: f, dom: -1, ref: 0, readonly, start: 0, length: PAGE_SIZE };
  }

  /** GNTTABOP_copy (one op), checks in Xen's order. */
  gnttabCopy(caller: number, op: GnttabCopyOp): number {
    const status = this.gnttabCopyChecked(caller, op);
    if (tracer.mask & TRACE_GRANT) {
      const srcGref = (op.flags & GNTCOPY_source_gref) !== 0;
      const dstGref = (op.flags & GNTCOPY_dest_gref) !== 0;
      const other = srcGref ? op.source.domid : op.dest.domid;
      tracer.emit({
        kind: "grant",
        op: "copy",
        domid: caller,
        ...(other !== DOMID_SELF && other !== caller ? { peer: other } : {}),
        source: srcGref
          ? `d${op.source.domid}:ref${op.source.ref ?? 0}+${op.source.offset}`
          : `gmfn${op.source.gmfn ?? 0}+${op.source.offset}`,
        dest: dstGref
          ? `d${op.dest.domid}:ref${op.dest.ref ?? 0}+${op.dest.offset}`
          : `gmfn${op.dest.gmfn ?? 0}+${op.dest.offset}`,
        len: op.len,
        status: gntstName(status),
      });
    }
    return status;
  }

  private gnttabCopyChecked(caller: number, op: GnttabCopyOp): number {
    if (!Number.isInteger(op.len) || op.len < 0 || op.len > 0xffff) return GNTST_bad_copy_arg;
    if (op.len === 0) return GNTST_okay;
    const srcGref = (op.flags & GNTCOPY_source_gref) !== 0;
    const dstGref = (op.flags & GNTCOPY_dest_gref) !== 0;
    // gnttab_copy_lock_domain for each side: only DOMID_SELF may be named by frame.
    const lockDomain = (domid: number, isGref: boolean): number => {
      if (domid !== DOMID_SELF && !isGref) return GNTST_permission_denied;
      const d = this.resolve(caller, domid);
      return this.live(d) ? d : GNTST_bad_domain;
    };
    const sd = lockDomain(op.source.domid, srcGref);
    if (sd < 0) return sd;
    const dd = lockDomain(op.dest.domid, dstGref);
    if (dd < 0) return dd;
    if (this.policy.mayCopy && !this.policy.mayCopy(caller, sd, dd)) return GNTST_permission_denied;
    const src = this.claim(caller, sd, op.source, srcGref, true);
    if (typeof src === "number") return src;
    const dst = this.claim(caller, dd, op.dest, dstGref, false);
    if (typeof dst === "number") {
      this.releaseForCopy(src);
      return dst;
    }
    try {
      const so = op.source.offset;
      const doff = op.dest.offset;
      if (so + op.len > PAGE_SIZE || doff + op.len > PAGE_SIZE) return GNTST_bad_copy_arg;
      if (so < src.start || so + op.len > src.start + src.length) return GNTST_general_error;
      if (doff < dst.start || doff + op.len > dst.start + dst.length) return GNTST_general_error;
      const s = src.frame * PAGE_SIZE + so;
      this.store.u8.copyWithin(dst.frame * PAGE_SIZE + doff, s, s + op.len);
      this.store.markWritten(dst.frame, doff, op.len);
      return GNTST_okay;
    } finally {
      this.releaseForCopy(dst);
      this.releaseForCopy(src);
    }
  }
}
