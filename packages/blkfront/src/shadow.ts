// One queue of a Blkfront: its ring, event channel, shadow table of in-flight requests and bounce
// pool — and recovery (Linux blkif_recover): taking every request still without a response off
// the rings at a disconnect, to be issued again on the next rings in submission order.
import type { MemView } from "@xensim/memory";
import type { FrontRing } from "@xensim/ring";
import { PAGE_BYTES, type Piece, SECTOR_BYTES, SECTORS_PER_PAGE } from "./io.js";

/** How a ring polls before it sleeps (BlkfrontOptions.poll). */
export interface BlkfrontPoll {
  readonly ms: number;
  /** Runs `fn` on a later turn of the event loop (setImmediate). */
  readonly defer: (fn: () => void) => void;
  /** Monotonic milliseconds (performance.now). */
  readonly clock: () => number;
}

/** Empty looks a polling ring takes at least before it sleeps (a descheduled thread still gets them). */
const POLL_MIN_LOOKS = 32;

/** A guest page of the bounce pool. */
export interface DataPage {
  readonly gfn: number;
  readonly view: MemView;
  readonly off: number;
  /** The page's bytes in the shared buffer (view.liveBytes), for copies with no view lookup. */
  readonly bytes?: Uint8Array | undefined;
  /** The grant ref while granted, else -1. */
  ref: number;
  /** A page of the caller's own buffer (zero copy), not of the bounce pool: never pooled or freed. */
  readonly caller?: boolean;
}

/**
 * A page of the caller's buffer granted for one request (Linux blkfront without persistent grants
 * grants the bio's own pages): the data is not copied. One object per page slot, reused by the
 * ring from one request to the next.
 */
export class CallerPage implements DataPage {
  gfn = 0;
  ref = -1;
  readonly off = 0;
  readonly caller = true;
  constructor(readonly view: MemView) {}
}

/** A request on the ring (Linux's struct blk_shadow). */
export interface Shadow {
  readonly piece: Piece;
  /** Its data pages (the first nData), then its indirect pages. */
  readonly pages: DataPage[];
  readonly nData: number;
  /** The operation the response must carry. */
  readonly rspOp: number;
}

/** A shadow table entry as the ring keeps it: one per id, reused by each request on that id. */
export interface ShadowEntry extends Shadow {
  piece: Piece;
  pages: DataPage[];
  nData: number;
  rspOp: number;
}

/** One queue: its ring, event channel, shadow table and bounce pool. */
export class RingQueue {
  /** Per id, its reusable shadow entry (created on the id's first use). */
  private readonly entries: (ShadowEntry | undefined)[] = [];
  /** Requests built into the ring since req_prod was last pushed. */
  unpushed = 0;
  /** The port allowed the last kick the ring said was not needed to be left out (mayElideKick). */
  kickElidable = true;
  /** Indexed by request id. */
  readonly shadow: (Shadow | undefined)[];
  /**
   * Per id, how many times it was issued: a request's id is (generation << 32 | index), so a second
   * answer to an id that was reused meanwhile is told from the answer to the new request (the blkif
   * id is opaque to the backend, which echoes all 64 bits).
   */
  readonly idGeneration: Uint32Array;
  readonly freeIds: number[] = [];
  /** CallerPage objects free for the next zero-copy request (objects only: no page behind them). */
  readonly callerPages: CallerPage[] = [];
  /** Bounce pages ready for a request (granted already when grants are persistent). */
  readonly pool: DataPage[] = [];
  /** Bounce pages this ring owns (for the pool cap). */
  pageCount = 0;
  /** Pages of requests abandoned at a disconnect (the backend may still hold them). */
  readonly retired: DataPage[] = [];
  /** No more requests go on this ring (disconnected or abandoned). */
  dead = false;
  /** Its grants were ended: pages handed back go to the guest, not to the pool. */
  freed = false;
  inFlight = 0;
  unbind: () => void = () => {};
  /** Scratch for the response at rsp_cons. */
  readonly rspBuf: Uint8Array;
  /**
   * The ring's bytes in the shared buffer when its pages are one range of it (always for the rings
   * blkfront allocates): a response is decoded from its slot directly, each field read once.
   */
  readonly ringBytes: Uint8Array | undefined;

  constructor(
    readonly index: number,
    readonly front: FrontRing,
    readonly gfns: readonly number[],
    readonly refs: readonly number[],
    readonly evtchn: number,
    entryBytes: number,
    private readonly poll?: BlkfrontPoll | undefined,
  ) {
    this.shadow = new Array<Shadow | undefined>(front.size).fill(undefined);
    this.idGeneration = new Uint32Array(front.size);
    for (let i = front.size - 1; i >= 0; i--) this.freeIds.push(i);
    this.rspBuf = new Uint8Array(entryBytes);
    this.ringBytes = front.view.liveBytes(0, front.view.byteLength);
  }

  /**
   * Records a request put in the ring under `id` (taken from freeIds): the id's own shadow entry,
   * reused from one request to the next (no allocation per request), gets the piece and the
   * operation; the caller fills its `pages`.
   */
  track(id: number, piece: Piece, nData: number, rspOp: number): ShadowEntry {
    const sh = (this.entries[id] ??= { piece, pages: [], nData, rspOp });
    sh.piece = piece;
    while (sh.pages.length > 0) sh.pages.pop();
    sh.nData = nData;
    sh.rspOp = rspOp;
    this.shadow[id] = sh;
    this.inFlight++;
    return sh;
  }

  private pollArmed = false;
  private emptyLooks = 0;
  private lastResponseAt = 0;

  /**
   * With `poll`, where the backend's kicks can be elided: the ring stays
   * awake (rsp_event not set) and `wake` looks again on a later turn — for at least POLL_MIN_LOOKS
   * empty looks and while the last responses (`worked`: some just came) are within `poll.ms`. True
   * when a look is scheduled (the caller skips the final check); false: set rsp_event and sleep.
   */
  pollLater(worked: boolean, elidable: boolean, wake: () => void): boolean {
    const poll = this.poll;
    if (poll === undefined || !elidable || this.dead) return false;
    if (worked) {
      this.lastResponseAt = poll.clock();
      this.emptyLooks = 0;
    } else if (++this.emptyLooks >= POLL_MIN_LOOKS && poll.clock() - this.lastResponseAt >= poll.ms) {
      this.emptyLooks = 0;
      return false;
    }
    if (!this.pollArmed) {
      this.pollArmed = true;
      poll.defer(() => {
        this.pollArmed = false;
        wake();
      });
    }
    return true;
  }

  /** The request `id` was answered: its id is free again. */
  untrack(id: number): void {
    this.shadow[id] = undefined;
    this.freeIds.push(id);
    this.inFlight--;
  }

  /**
   * Marks the ring dead and takes every request still on it: their pages retire (the backend may
   * still hold them), their pieces are returned. The ids stay used: the ring is never reused.
   */
  abandon(): Piece[] {
    this.dead = true;
    const pieces: Piece[] = [];
    for (let id = 0; id < this.shadow.length; id++) {
      const sh = this.shadow[id];
      if (!sh) continue;
      this.shadow[id] = undefined;
      this.retired.push(...sh.pages);
      pieces.push(sh.piece);
      this.entries[id] = undefined; // the ring is never reused: the entry goes with its pages
    }
    this.inFlight = 0;
    return pieces;
  }

  /** Every page the ring holds now (pool, retired, shadows), taken from it; the ring is dead and freed. */
  takeAllPages(): DataPage[] {
    this.dead = true;
    this.freed = true;
    const pages = this.pool.splice(0);
    pages.push(...this.retired.splice(0));
    for (const sh of this.shadow) if (sh) pages.push(...sh.pages);
    this.shadow.fill(undefined);
    return pages;
  }
}

/**
 * Abandons every ring and returns the requests that had no response, in submission order (for
 * blkif_recover: they go back to the head of the queue), with how many were in flight.
 */
export function recoverInFlight(rings: readonly RingQueue[]): { pieces: Piece[]; inFlight: number } {
  const pieces: Piece[] = [];
  let inFlight = 0;
  for (const ring of rings) {
    inFlight += ring.inFlight;
    pieces.push(...ring.abandon());
  }
  pieces.sort((a, b) => a.seq - b.seq);
  return { pieces, inFlight };
}

/** A read answered OKAY: copies its data pages into the caller's buffer, page by page. */
export function copyReadData(sh: Shadow): void {
  const piece = sh.piece;
  if (sh.nData > 0 && sh.pages[0]!.caller === true) return; // the backend wrote the caller's pages
  for (let i = 0; i < sh.nData; i++) {
    const p = sh.pages[i]!;
    const sectors = Math.min(SECTORS_PER_PAGE, piece.nrSectors - i * SECTORS_PER_PAGE);
    const pos = piece.byteOff + i * PAGE_BYTES;
    if (p.bytes) piece.parent.copyInBytes(pos, p.bytes, sectors * SECTOR_BYTES);
    else piece.parent.copyIn(pos, p.view, p.off, sectors * SECTOR_BYTES);
  }
}

/** The ring with the most free request slots, looking from ring `start` on (round robin on ties). */
export function pickRing(rings: readonly RingQueue[], start: number): RingQueue | undefined {
  let best: RingQueue | undefined;
  let bestFree = 0;
  const n = rings.length;
  for (let k = 0; k < n; k++) {
    const r = rings[(start + k) % n]!;
    if (r.dead || r.freeIds.length === 0) continue;
    const free = r.front.freeRequests();
    if (free > bestFree) {
      best = r;
      bestFree = free;
    }
  }
  return best;
}
