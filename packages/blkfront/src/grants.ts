// Blkfront's grants and bounce pool (Linux xen-blkfront's grant handling): ring pages granted to
// the backend; data pages granted per request, or once for good with persistent grants; the pool
// of bounce pages per ring; ends of grants the backend still maps deferred and retried on a timer
// (Linux's deferred end of foreign access), their pages never reused until the end succeeds.
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, XenErrno } from "@xensim/abi";
import type { MemView } from "@xensim/memory";
import type { DriverLogger, GrantRefAllocator } from "@xensim/xenbus";
import { type BlkfrontHypervisor, type GuestMemory, type GuestPages, grantFramesFor } from "./environment.js";
import { PAGE_BYTES, type Piece } from "./io.js";
import { CallerPage, type DataPage, type RingQueue } from "./shadow.js";

/** setTimeout / clearTimeout (the globals satisfy it). */
export interface BlkfrontTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Waits for `p`, or for `ms` on `timer` (none: for `p`): true when the time ran out first. */
export function raceTimer(timer: BlkfrontTimer | undefined, p: Promise<void>, ms: number): Promise<boolean> {
  if (!timer) return p.then(() => false);
  return new Promise((resolve) => {
    const h = timer.setTimeout(() => resolve(true), ms);
    void p.then(() => {
      timer.clearTimeout(h);
      resolve(false);
    });
  });
}

/** The counters the grants keep (a part of BlkfrontStats). */
export interface GrantStats {
  grantsLeaked: number;
  grantsDeferred: number;
  dataGrants: number;
  zeroCopyRequests: number;
}

export interface BlkfrontGrantsOptions {
  readonly hypervisor: BlkfrontHypervisor;
  readonly memory: GuestMemory;
  readonly refs: GrantRefAllocator;
  /** The granting domain (the guest). */
  readonly self: number;
  /** The domain grants are made to (the backend's, read at each grant). */
  readonly backend: () => number;
  readonly stats: GrantStats;
  readonly log: DriverLogger;
  readonly timer: BlkfrontTimer | undefined;
  readonly retryMs: number;
  /** Linux's `trusted`: the caller's own pages may be granted to this backend (zero copy). */
  readonly trusted: boolean;
  /** Bounce pages one ring may own. */
  readonly maxPoolPages: number;
  /** Pages allocated at a time when a pool grows. */
  readonly poolBatch: number;
}

/** A ring's pages granted to the backend, or why not (a positive errno and what failed). */
export type RingPages =
  | { readonly ok: true; readonly pages: GuestPages; readonly refs: number[] }
  | { readonly ok: false; readonly err: number; readonly msg: string };

export class BlkfrontGrants {
  private readonly hv: BlkfrontHypervisor;
  private readonly memory: GuestMemory;
  private readonly refs: GrantRefAllocator;
  private grantFrames = 1;
  private deferred: { refs: number[]; gfns: readonly number[] }[] = [];
  private retryHandle: unknown;
  private retryArmed = false;
  private stopped = false;

  constructor(private readonly opts: BlkfrontGrantsOptions) {
    this.hv = opts.hypervisor;
    this.memory = opts.memory;
    this.refs = opts.refs;
  }

  /** Grants `gfn` to the backend under `ref`, growing the grant table first if `ref` needs it. */
  async grant(ref: number, gfn: number, readonly: boolean): Promise<number> {
    const need = grantFramesFor(ref);
    if (need > this.grantFrames && this.hv.gnttabSetupTable) {
      const r = await this.hv.gnttabSetupTable(this.opts.self, need);
      if (r.status === 0) this.grantFrames = need;
    }
    return this.hv.gnttabGrantAccess(ref, this.opts.backend(), gfn, readonly);
  }

  /** Allocates `nrPages` contiguous ring pages and grants them writable; undone on a failure. */
  async grantRingPages(nrPages: number): Promise<RingPages> {
    const pages = await this.memory.allocPages(nrPages, true);
    if (typeof pages === "number") return { ok: false, err: -pages, msg: `allocating ${nrPages} ring pages` };
    zeroPages(pages.view, 0, nrPages); // XSA-403: nothing of the pages' earlier use is shared
    const refs = this.refs.alloc(nrPages);
    if (!refs) {
      this.memory.freePages(pages.gfns);
      return { ok: false, err: XenErrno.ENOSPC, msg: "no grant references for the ring" };
    }
    for (let granted = 0; granted < nrPages; granted++) {
      const rc = await this.grant(refs[granted]!, pages.gfns[granted]!, false);
      if (rc !== 0) {
        for (let i = 0; i < granted; i++) await this.hv.gnttabEndAccess(refs[i]!);
        this.refs.free(refs);
        this.memory.freePages(pages.gfns);
        return { ok: false, err: -rc, msg: "granting access to ring page" };
      }
    }
    return { ok: true, pages, refs };
  }

  /** Undoes grantRingPages before the backend could map anything. */
  async dropRingPages(refs: readonly number[], gfns: readonly number[]): Promise<void> {
    for (const r of refs) await this.hv.gnttabEndAccess(r);
    this.refs.free(refs);
    this.memory.freePages(gfns);
  }

  /**
   * A freed ring (the backend has unmapped): ends the grants of `pages` (every page it held) and
   * of its ring pages; what the backend still maps is deferred, the rest goes back to the guest.
   */
  async releaseRing(ring: RingQueue, pages: readonly DataPage[]): Promise<void> {
    const reusable: number[] = [];
    for (const p of pages) {
      const ended = await this.endGrant(p);
      if (p.caller === true) continue; // the caller's page: never the pool's, never freed here
      ring.pageCount--;
      if (ended) reusable.push(p.gfn);
    }
    if (reusable.length > 0) this.memory.freePages(reusable);
    const ended: number[] = [];
    const busy: number[] = [];
    for (const r of ring.refs) {
      if (await this.hv.gnttabEndAccess(r)) ended.push(r);
      else {
        busy.push(r);
        this.opts.stats.grantsLeaked++;
      }
    }
    this.refs.free(ended);
    if (busy.length === 0) this.memory.freePages(ring.gfns);
    else this.defer(busy, ring.gfns);
  }

  /**
   * Grants the pages not granted yet; the first `nData` get `dataReadonly`, indirect pages are
   * readonly unless grants are persistent (then every grant is writable, reused for any op).
   */
  async grantData(
    pages: DataPage[],
    dataReadonly: boolean,
    nData: number,
    persistent: boolean,
  ): Promise<boolean> {
    for (let i = 0; i < pages.length; i++) {
      const p = pages[i]!;
      if (p.ref >= 0) continue;
      const got = this.refs.alloc(1);
      if (!got) {
        this.opts.log.warn({}, "out of grant references");
        return false;
      }
      const ro = i < nData ? dataReadonly : !persistent;
      const rc = await this.grant(got[0]!, p.gfn, ro);
      if (rc !== 0) {
        this.refs.free(got);
        this.opts.log.warn({ rc }, "granting a data page failed");
        return false;
      }
      p.ref = got[0]!;
      this.opts.stats.dataGrants++;
    }
    return true;
  }

  /**
   * Ends a data page's grant. False while the backend still maps it: the page then belongs to the
   * deferred list (never reused; given back to the guest once the end succeeds).
   */
  async endGrant(p: DataPage): Promise<boolean> {
    const ref = p.ref;
    if (ref < 0) return true;
    if (!(await this.hv.gnttabEndAccess(ref))) {
      this.opts.stats.grantsLeaked++;
      p.ref = -1;
      this.defer([ref], p.caller === true ? [] : [p.gfn]);
      return false;
    }
    p.ref = -1;
    this.refs.free([ref]);
    return true;
  }

  /**
   * Zero copy (Linux blkfront without persistent grants grants the bio's own pages): grants the
   * caller's frames behind `piece` (BlockIo.frames) to the backend, synchronously, into `pages`.
   * False, with nothing left granted, when that cannot be done without waiting or the frames do not
   * cover the piece (or the backend is not trusted, or it needs indirect pages): the piece then goes
   * through the bounce pool. Only without persistent grants (the caller checks).
   */
  grantCallerPages(ring: RingQueue, piece: Piece, nData: number, pages: DataPage[]): boolean {
    const frames = piece.parent.io.frames;
    if (frames === undefined || !this.opts.trusted || nData === 0 || nData > BLKIF_MAX_SEGMENTS_PER_REQUEST)
      return false;
    const first = piece.byteOff / PAGE_BYTES;
    if (!Number.isInteger(first) || first + nData > frames.length) return false;
    const readonly = piece.op === "write"; // the backend only reads the page of a write
    while (pages.length > 0) pages.pop();
    for (let i = 0; i < nData; i++) {
      const gfn = frames[first + i]!;
      const ref = Number.isSafeInteger(gfn) && gfn >= 0 ? this.grantCallerPage(gfn, readonly) : -1;
      if (ref < 0) {
        // Undo: these were never on a ring, so the ends succeed.
        for (const p of pages) {
          this.endCallerPage(p);
          ring.callerPages.push(p as CallerPage);
        }
        while (pages.length > 0) pages.pop();
        return false;
      }
      const p = ring.callerPages.pop() ?? new CallerPage(ring.front.view);
      p.gfn = gfn;
      p.ref = ref;
      pages.push(p);
    }
    this.opts.stats.zeroCopyRequests++;
    return true;
  }

  /**
   * Ends the grants of a request's caller pages before the caller has its buffer back: false when
   * the backend still maps one (deferred). Without a synchronous end they go the async way.
   */
  endCallerPages(ring: RingQueue, pages: readonly DataPage[]): boolean {
    let ok = true;
    for (let k = 0; k < pages.length; k++) {
      const p = pages[k]!;
      const ended = this.endCallerPage(p);
      if (ended === undefined) {
        void this.releasePages(ring, [p], false);
        continue;
      }
      if (!ended) ok = false;
      ring.callerPages.push(p as CallerPage);
    }
    return ok;
  }

  /**
   * Grants the caller's frame `gfn` for one request, synchronously (zero copy): the ref, or -1 when
   * that cannot be done without waiting (no synchronous grant here, no ref left, or the ref lies past
   * the table's frames) — the request then takes the bounce path, which can wait.
   */
  grantCallerPage(gfn: number, readonly: boolean): number {
    const hv = this.hv;
    if (!hv.gnttabGrantAccessSync) return -1;
    const refs = this.refs;
    const ref = refs.allocOne ? refs.allocOne() : (refs.alloc(1)?.[0] ?? -1);
    if (ref < 0) return -1;
    if (hv.gnttabGrantAccessSync(ref, this.opts.backend(), gfn, readonly) !== 0) {
      this.freeRef(ref);
      return -1;
    }
    this.opts.stats.dataGrants++;
    return ref;
  }

  /**
   * Ends a caller page's grant synchronously when the port can: true when ended (the ref is free
   * again), false while the backend still maps it (the ref is deferred: the backend misbehaves, as
   * Linux's blkif_completion says). undefined when only the async end works (use endGrant).
   */
  endCallerPage(p: DataPage): boolean | undefined {
    const ref = p.ref;
    if (ref < 0) return true;
    const ended = this.hv.gnttabEndAccessSync?.(ref);
    if (ended === undefined) return undefined;
    p.ref = -1;
    if (!ended) {
      this.opts.stats.grantsLeaked++;
      this.defer([ref], []);
      return false;
    }
    this.freeRef(ref);
    return true;
  }

  private freeRef(ref: number): void {
    if (this.refs.freeOne) this.refs.freeOne(ref);
    else this.refs.free([ref]);
  }

  /** Grows the ring's pool to at least `want` pages; false at the cap, when memory runs out, or once the ring is freed. */
  async growPool(ring: RingQueue, want: number): Promise<boolean> {
    const room = this.opts.maxPoolPages - ring.pageCount;
    const need = want - ring.pool.length;
    if (room < need) return false;
    const n = Math.min(room, Math.max(need, this.opts.poolBatch));
    const got = await this.memory.allocPages(n, false);
    if (typeof got === "number") {
      this.opts.log.warn({ rc: got, pages: n }, "bounce pool cannot grow");
      return false;
    }
    // XSA-403: a page joins the bounce pool zeroed — what the guest kept in it before (another
    // disk's data, another driver's) never reaches this backend. Once per page, not per I/O: what
    // the pool holds afterwards came from this backend's own disk.
    zeroPages(got.view, 0, got.gfns.length);
    for (let i = 0; i < got.gfns.length; i++) {
      const off = i * PAGE_BYTES;
      const p: DataPage = {
        gfn: got.gfns[i]!,
        view: got.view,
        off,
        bytes: got.view.liveBytes(off, PAGE_BYTES),
        ref: -1,
      };
      if (ring.freed) {
        this.memory.freePages([p.gfn]);
        continue;
      }
      ring.pageCount++;
      ring.pool.push(p);
    }
    return !ring.freed;
  }

  /**
   * Pages of a finished request back to the pool: persistent grants stay; others are ended first.
   * A page still mapped is deferred (never reused). Once the ring is freed, pages go back to the
   * guest instead. True when pages went back to a live pool.
   */
  async releasePages(ring: RingQueue, pages: readonly DataPage[], persistent: boolean): Promise<boolean> {
    if (persistent && !ring.freed) {
      for (const p of pages) ring.pool.push(p);
      return true;
    }
    for (const p of pages) {
      const ok = await this.endGrant(p);
      if (p.caller === true) continue;
      if (ring.freed) {
        ring.pageCount--;
        if (ok) this.memory.freePages([p.gfn]);
      } else if (ok) ring.pool.push(p);
      else ring.pageCount--;
    }
    return !ring.freed;
  }

  /** One retry round over the deferred grant ends (also callable by hand). */
  async retryDeferred(): Promise<void> {
    const list = this.deferred;
    this.deferred = [];
    for (const d of list) {
      const still: number[] = [];
      for (const r of d.refs) {
        if (await this.hv.gnttabEndAccess(r)) {
          this.refs.free([r]);
          this.opts.stats.grantsDeferred--;
        } else still.push(r);
      }
      if (still.length === 0) this.memory.freePages(d.gfns);
      else this.deferred.push({ refs: still, gfns: d.gfns });
    }
    this.armRetry();
  }

  /** No more timed retries (the device is closed); retryDeferred still works by hand. */
  stop(): void {
    this.stopped = true;
    if (this.retryArmed && this.opts.timer) this.opts.timer.clearTimeout(this.retryHandle);
    this.retryArmed = false;
  }

  /** Keeps refs the backend still maps (and the pages behind them) until they can be ended. */
  private defer(refs: number[], gfns: readonly number[]): void {
    this.deferred.push({ refs, gfns });
    this.opts.stats.grantsDeferred += refs.length;
    this.opts.log.warn({ refs }, "grant still in use by the backend: deferring its end");
    this.armRetry();
  }

  private armRetry(): void {
    const timer = this.opts.timer;
    if (!timer || this.retryArmed || this.deferred.length === 0 || this.stopped) return;
    this.retryArmed = true;
    this.retryHandle = timer.setTimeout(() => {
      this.retryArmed = false;
      void this.retryDeferred();
    }, this.opts.retryMs);
  }
}

const ZERO_PAGE = new Uint8Array(PAGE_BYTES);

/** Zeroes `n` pages of `view` from page `first` (and marks them written, for the link's subscribers). */
function zeroPages(view: MemView, first: number, n: number): void {
  for (let i = first; i < first + n; i++) {
    view.write(i * PAGE_BYTES, ZERO_PAGE);
    view.markWritten(i * PAGE_BYTES, PAGE_BYTES);
  }
}
