// One blkif ring (one queue) served against a block store, as Linux's xen_blkif_schedule /
// __do_block_io_op / dispatch_rw_block_io / xen_blkbk_map / make_response: consume, copy the slot
// (XSA-155), decode, validate, map the data grants in one batch, submit, answer, unmap, notify only
// when the ring says so (and the data-plane port allows suppression). Requests run concurrently up to the ring size; completions come in any order.
import type { DriverLogger } from "@xensim/xenbus";
import {
  BLKIF_RESPONSE_LAYOUT,
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  BlkifOp,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_okay,
  type XenAbi,
  XenErrno,
} from "@xensim/abi";
import {
  BLOCK_SECTOR_BYTES,
  type BlkifLimits,
  type BlkifRequest,
  type BlkifSegment,
  type BlockIo,
  type BlockStore,
  decodeIndirectSegments,
  decodeRequest,
  discardIsSecure,
  encodeResponse,
  blkifOpName,
  blkifRspName,
  indirectPages,
  newBlkifRequest,
  newSegments,
  responseOperation,
  validateIndirectSegments,
  validateRequest,
} from "@xensim/blkif";
import { type MemView, PAGE_SIZE } from "@xensim/memory";
import { TRACE_RING, TRACE_STORE, tracer } from "@xensim/trace";
import { BackRing, RingError } from "@xensim/ring";
import type { BlkbackClock, BlkbackHypervisor } from "./environment.js";
import { RingStats } from "./stats.js";

/** A store's completion status as the ring's response status (make_response's BLKIF_RSP_*). */
function blkifRspOf(status: number): number {
  if (status === 0) return BLKIF_RSP_OKAY;
  return status === -XenErrno.EOPNOTSUPP ? BLKIF_RSP_EOPNOTSUPP : BLKIF_RSP_ERROR;
}

/** Responses made inside one batch of the pump before they are pushed (and notified) together. */
const PUSH_BATCH = 64;

/** Free Pending objects kept before one is reused (see BlkbackRing.pool). */
const PENDING_REUSE_AFTER = 64;

/** Looks for requests a polling ring makes after its last batch before it may sleep, whatever the time. */
const POLL_MIN_LOOKS = 32;

/** Requests looked at ahead when a first use of pages maps their grants in one batch. */
const PREFETCH_REQUESTS = 256;

/** Linux xen_blkif_max_pgrants: persistent grants kept per ring (default 1056). */
export const DEFAULT_MAX_PERSISTENT_GRANTS = 1056;

/** What a misbehaving backend writes as a response's status (no BLKIF_RSP_* has this value). */
export const BLKIF_RSP_GARBAGE = 0x5a5a;

export interface BlkbackRingOptions {
  hv: BlkbackHypervisor;
  /** The frontend's domid (grants are mapped from it). */
  frontend: number;
  /** The backend's own domid (default 0), and the device as traces name it ("vbd/1/51712"). */
  self?: number;
  device?: string;
  /** The mapped ring pages (ring-ref order) and how many there are. */
  view: MemView;
  nrPages: number;
  abi: XenAbi;
  /** Our port bound to the frontend's event channel (the kick goes there). */
  port: number;
  store: BlockStore;
  limits: BlkifLimits;
  /** Use persistent grants (negotiated `feature-persistent`). */
  persistent: boolean;
  maxPersistentGrants?: number;
  clock: BlkbackClock;
  log: DriverLogger;
  /** The ring must stop: a req_prod overflow (or a broken ring). Called once. */
  onHalt: (err: number, msg: string) => void;
  /** Called after each response (latency in seconds), for exporters. */
  onResponse?: (op: number, status: number, seconds: number) => void;
  /**
   * Keep looking for requests for `ms` after the last ones (a poll on `defer`, e.g. setImmediate)
   * before asking for an event (req_event) and sleeping: a frontend that keeps submitting then never
   * has to wake this thread (a wake-up costs its caller several µs; PERF-FACTS). Omitted: sleep at
   * once, as Linux's blkback.
   */
  poll?: BlkbackPoll;
  /**
   * A misbehaving backend (chaos: ring.response-corrupted): when it answers true, the response's
   * status field carries garbage (neither OKAY, ERROR nor EOPNOTSUPP); the frontend must take it
   * as an error for that id, not crash.
   */
  corruptResponse?: () => boolean;
  /**
   * A misbehaving backend (chaos: backend.response-duplicated): asked once per response made while
   * another consumed request still awaits its answer (so the back ring has a slot for a second one);
   * when it answers true the same response (id, operation, status) is written twice in a row. The
   * frontend must refuse the second as not in flight. (Made here, from the answered request's own
   * id, so the duplicate never depends on when a pooled Pending is reused.)
   */
  duplicateResponse?: (target: string) => boolean;
  stats?: RingStats;
}

/** How a ring polls before it sleeps (BlkbackRingOptions.poll). */
export interface BlkbackPoll {
  /** How long after the last request found, in the clock's unit (ms). */
  readonly ms: number;
  /** Runs `fn` on a later turn of the event loop (setImmediate). */
  readonly defer: (fn: () => void) => void;
}

/** A mapped page a segment lives in: a view and the page index inside it. */
interface PageRef {
  view: MemView;
  page: number;
}

interface PersistentGrant {
  readonly handle: number;
  /** One page. */
  readonly view: MemView;
}

/** A request between consume and response; pooled per ring. */
class Pending {
  /** Between consume and response (a completion of a free one is a second one). */
  busy = false;
  idLo = 0;
  idHi = 0;
  op = 0;
  /** The operation as BlockIo sees it, for stats. */
  kind: BlockIo["op"] = "read";
  nrSectors = 0;
  start = 0;
  /** Non-persistent grant handles to unmap before answering. */
  readonly unmap: number[] = [];
  /** BlockIo segments in request order. */
  readonly segs: Uint8Array[] = [];
  /** Read through bounce buffers (no host bytes): copy back into views on completion. */
  readonly back: { view: MemView; off: number; buf: Uint8Array }[] = [];
  /** Zero-copy read segments: mark written (replication) on completion. */
  readonly mark: { view: MemView; off: number; len: number }[] = [];
  /** Read segments on frames mapped one by one (startMappedSync): frame, offset, length, … to mark written. */
  readonly markFrames: number[] = [];
  readonly io: {
    op: BlockIo["op"];
    sector: number;
    nrSectors: number;
    segs: Uint8Array[];
    fua: boolean;
    secure: boolean;
  };
  readonly done: (status: number) => void;
  constructor(ring: BlkbackRing) {
    this.io = { op: "read", sector: 0, nrSectors: 0, segs: this.segs, fua: false, secure: false };
    this.done = (status) => ring.completed(this, status);
  }
  reset(): void {
    // (pop, not `length = 0`: setting an array's length is a runtime call in V8)
    const unmap = this.unmap;
    while (unmap.length !== 0) unmap.pop();
    const segs = this.segs;
    while (segs.length !== 0) segs.pop();
    if (this.back.length !== 0) this.back.length = 0;
    if (this.mark.length !== 0) this.mark.length = 0;
    const mf = this.markFrames;
    while (mf.length !== 0) mf.pop();
    this.io.fua = false;
    this.io.secure = false;
  }
}

export class BlkbackRing {
  readonly ring: BackRing;
  readonly stats: RingStats;
  readonly port: number;
  private readonly options: BlkbackRingOptions;
  private readonly abi: XenAbi;
  private readonly slot: Uint8Array;
  private readonly rspBytes: Uint8Array;
  private readonly req: BlkifRequest = newBlkifRequest();
  /** Scratch of prefetchGrants (reads slots ahead without consuming them). */
  private readonly prefetchReq: BlkifRequest = newBlkifRequest();
  private readonly prefetchSlot: Uint8Array;
  /**
   * Answered requests' Pending objects, reused first in, first out and only while more than
   * PENDING_REUSE_AFTER are free: a late second completion of an answered request (a broken store
   * calling done twice) then still finds its request's ids, not a newer request's.
   */
  private readonly pool: Pending[] = [];
  private poolHead = 0;
  private readonly persistentGrants = new Map<number, PersistentGrant>();
  private readonly maxPersistent: number;
  /** Scratch: decoded indirect segments of the request being started. */
  private readonly indirectSegs: BlkifSegment[];
  /** Scratch: the page each segment is in, for the request being started. */
  private readonly pages: PageRef[] = [];
  private readonly mapRefs: number[] = [];
  private readonly hostBytes: Uint8Array | undefined;
  private pumping = false;
  private again = false;
  /**
   * While the pump consumes a batch: responses written by completions inside it (a synchronous
   * store) are pushed together — every PUSH_BATCH and at the end of the batch — instead of one push
   * and one notify check per response. `batchNow` is the batch's one clock reading.
   */
  private batching = false;
  private batchNow = 0;
  private unpushed = 0;
  /** The port allowed the last kick the ring said was not needed to be left out (mayElideKick). */
  private kickElidable: boolean;
  /** When requests were last found (poll), and whether a look is scheduled. */
  private lastRequestAt = Number.NEGATIVE_INFINITY;
  private pollArmed = false;
  private emptyLooks = 0;
  private halted = false;
  private stopping = false;
  private drainWaiters: (() => void)[] = [];

  constructor(options: BlkbackRingOptions) {
    this.options = options;
    this.abi = options.abi;
    this.port = options.port;
    this.stats = options.stats ?? new RingStats();
    this.maxPersistent = options.maxPersistentGrants ?? DEFAULT_MAX_PERSISTENT_GRANTS;
    const entry = BLKIF_RING_ENTRY_BYTES[options.abi];
    this.slot = new Uint8Array(entry);
    this.rspBytes = new Uint8Array(BLKIF_RESPONSE_LAYOUT[options.abi].size);
    this.prefetchSlot = new Uint8Array(entry);
    // Attach at the indices on the page (Linux BACK_RING_ATTACH at rsp_prod): a backend taking over
    // a connected frontend answers from where the last one stopped. Throws request_prod_overflow.
    this.ring = BackRing.attach(options.view, entry, { nrPages: options.nrPages });
    this.indirectSegs = newSegments(Math.max(0, Math.min(options.limits.maxIndirectSegments, 4096)));
    this.hostBytes = options.hv.store?.u8;
    this.kickElidable = options.hv.mayElideKick(options.port);
  }

  get isHalted(): boolean {
    return this.halted;
  }

  get persistentCount(): number {
    return this.persistentGrants.size;
  }

  /** An event arrived (or a connect / a completion freed a slot): consume what is there. */
  kick(): void {
    if (this.halted || this.stopping) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /** Stops consuming, waits for every request in flight, then unmaps the persistent grants. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.drain();
    const handles = [...this.persistentGrants.values()].map((g) => g.handle);
    this.persistentGrants.clear();
    this.stats.persistentGrants = 0;
    if (handles.length > 0) {
      const st = await this.options.hv.gnttabUnmap(handles);
      this.stats.grantsUnmapped += handles.length;
      const bad = st.filter((s) => s !== GNTST_okay).length;
      if (bad > 0) this.options.log.warn({ bad }, "unmapping persistent grants failed");
    }
  }

  /** Resolves once no request is in flight. */
  async drain(): Promise<void> {
    while (this.stats.outstanding > 0) await new Promise<void>((r) => this.drainWaiters.push(r));
  }

  private halt(err: number, msg: string): void {
    if (this.halted) return;
    this.halted = true;
    this.options.log.error({ err, port: this.port }, msg);
    this.options.onHalt(err, msg);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        for (;;) {
          if (this.halted || this.stopping) return;
          let n: number;
          try {
            n = this.ring.unconsumedRequests();
          } catch (e) {
            if (e instanceof RingError) {
              this.halt(
                -XenErrno.EACCES,
                `Halting ring due to req_prod overflow (req_prod ${this.ring.requestProd()}, req_cons ${this.ring.reqCons}, size ${this.ring.size})`,
              );
              return;
            }
            throw e;
          }
          if (n === 0) {
            const worked = this.batching;
            this.endBatch();
            if (this.pollLater(worked)) break;
            if (this.ring.finalCheckForRequests()) continue;
            break;
          }
          if (!this.batching) {
            this.batching = true;
            this.batchNow = this.options.clock();
          }
          const cons = this.ring.reqCons;
          this.ring.copyRequest(cons, this.slot);
          this.ring.consumeRequests(1);
          decodeRequest(this.slot, 0, this.abi, this.req);
          // Plain reads/writes on persistently mapped pages need no call: no promise per request.
          if (this.startFast(this.req) || this.startMappedSync(this.req)) continue;
          // Anything that waits publishes what was answered so far first.
          this.endBatch();
          // First use of pages: map the grants of the requests waiting behind this one too, in one
          // batch (one round trip when the hypervisor is in another host process), then retry.
          if (this.options.persistent && (await this.prefetchGrants(cons, n)) && this.startFast(this.req))
            continue;
          await this.start(this.req);
        }
      } while (this.again);
    } catch (e) {
      this.halt(-XenErrno.EIO, `ring failed: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.endBatch();
      this.pumping = false;
    }
  }

  /**
   * With `poll`: the ring stays awake (no req_event set) and looks again on a later turn, for at
   * least POLL_MIN_LOOKS empty looks (a thread descheduled meanwhile still gets them) and while the
   * last batch (`worked`: one just ended) ended within `poll.ms`. True when a look is scheduled.
   */
  private pollLater(worked: boolean): boolean {
    const poll = this.options.poll;
    if (poll === undefined || this.halted || this.stopping) return false;
    // A frontend in another host process kicks for every push anyway (no suppression across the
    // link): polling would only take CPU from the link threads.
    if (!this.kickElidable) return false;
    if (worked) {
      this.lastRequestAt = this.options.clock();
      this.emptyLooks = 0;
    } else if (++this.emptyLooks >= POLL_MIN_LOOKS && this.options.clock() - this.lastRequestAt >= poll.ms)
      return false;
    if (!this.pollArmed) {
      this.pollArmed = true;
      poll.defer(() => {
        this.pollArmed = false;
        this.kick();
      });
    }
    return true;
  }

  /** Ends a batch of the pump: pushes the responses it wrote (and notifies if the ring says so). */
  private endBatch(): void {
    this.batching = false;
    if (this.unpushed > 0) this.pushResponses();
  }

  /**
   * Publishes the responses written so far and kicks when the ring says so — or always, when the
   * port says suppression is not safe (the frontend's rsp_event here may be stale across hosts).
   */
  private pushResponses(): void {
    this.unpushed = 0;
    if (this.halted) return;
    const hv = this.options.hv;
    if (!this.ring.pushResponsesAndCheckNotify()) {
      this.kickElidable = hv.mayElideKick(this.port);
      if (this.kickElidable) {
        this.stats.notificationsSuppressed++;
        return;
      }
    }
    this.stats.notificationsSent++;
    hv.kick(this.port);
  }

  private takePending(req: BlkifRequest): Pending {
    const p = this.pool.length - this.poolHead > PENDING_REUSE_AFTER ? this.takeFree() : new Pending(this);
    p.busy = true;
    p.reset();
    p.idLo = req.idLo;
    p.idHi = req.idHi;
    p.op = responseOperation(req);
    p.nrSectors = 0;
    p.start = this.batching ? this.batchNow : this.options.clock();
    this.stats.requests++;
    this.stats.outstanding++;
    if (this.stats.outstanding > this.stats.maxOutstanding)
      this.stats.maxOutstanding = this.stats.outstanding;
    return p;
  }

  /** Starts one consumed request; returns once it is submitted (or answered). */
  private async start(req: BlkifRequest): Promise<void> {
    const p = this.takePending(req);
    const limits = this.options.limits;
    const v = validateRequest(req, limits);
    if (v.status !== BLKIF_RSP_OKAY) {
      this.options.log.debug({ op: req.operation, reason: v.reason }, "bad request");
      this.respond(p, v.status);
      return;
    }
    const io = p.io;
    switch (req.operation) {
      case BlkifOp.FLUSH_DISKCACHE:
        p.kind = io.op = "flush";
        io.sector = 0;
        io.nrSectors = 0;
        this.submit(io, p.done);
        return;
      case BlkifOp.DISCARD:
        p.kind = io.op = "discard";
        io.sector = req.sectorHi * 0x1_0000_0000 + req.sectorLo;
        io.nrSectors = req.nrSectorsHi * 0x1_0000_0000 + req.nrSectorsLo;
        io.secure = discardIsSecure(req, limits);
        this.submit(io, p.done);
        return;
      case BlkifOp.WRITE_BARRIER:
        // Linux drains every request in flight, then writes with a preflush and FUA; a barrier
        // without data is just the flush.
        await this.drainExcept(1);
        if (req.nrSegments === 0) {
          p.kind = io.op = "flush";
          io.sector = 0;
          io.nrSectors = 0;
          this.submit(io, p.done);
          return;
        }
        break;
      default:
        break;
    }

    let segs: readonly BlkifSegment[] = req.segments;
    let nseg = req.nrSegments;
    const eop = responseOperation(req);
    const toDevice = eop !== BlkifOp.READ;
    if (req.operation === BlkifOp.INDIRECT) {
      const ok = await this.readIndirect(req, p);
      if (!ok) return;
      const v2 = validateIndirectSegments(req, this.indirectSegs, limits);
      if (v2.status !== BLKIF_RSP_OKAY) {
        this.options.log.debug({ reason: v2.reason }, "bad indirect request");
        await this.unmapAndRespond(p, v2.status);
        return;
      }
      segs = this.indirectSegs;
      nseg = req.nrSegments;
    }

    // Map every data page of the request in one batch: read-only when we only read the guest's
    // page (a write to the disk), unless persistent grants (mapped writable, reused for both).
    const mapped = await this.mapSegments(segs, nseg, toDevice, p);
    if (!mapped) {
      await this.unmapAndRespond(p, BLKIF_RSP_ERROR);
      return;
    }
    this.submitMapped(p, req, segs, nseg, toDevice);
  }

  /**
   * Maps, as persistent grants and in one batch, the pages of the plain reads and writes from slot
   * `cons` on (`count` of them published): hints only — every request is read again, validated and
   * started as usual when it is consumed (a bad ref just fails here). True when something mapped.
   */
  private async prefetchGrants(cons: number, count: number): Promise<boolean> {
    const room = this.maxPersistent - this.persistentGrants.size;
    if (room <= 0) return false;
    const want = new Set<number>();
    const slot = this.prefetchSlot;
    const req = this.prefetchReq;
    for (let i = 0; i < Math.min(count, PREFETCH_REQUESTS) && want.size < room; i++) {
      const idx = (cons + i) >>> 0;
      if (i === 0) slot.set(this.slot);
      else this.ring.copyRequest(idx, slot);
      decodeRequest(slot, 0, this.abi, req);
      if (req.operation !== BlkifOp.READ && req.operation !== BlkifOp.WRITE) continue;
      const nseg = Math.min(req.nrSegments, req.segments.length);
      for (let k = 0; k < nseg && want.size < room; k++) {
        const g = req.segments[k]!.gref;
        if (!this.persistentGrants.has(g)) want.add(g);
      }
    }
    if (want.size === 0) return false;
    const refs = [...want];
    const m = await this.options.hv.gnttabMapGrantRefs(this.options.frontend, refs, GNTMAP_host_map);
    let mapped = 0;
    const extra: number[] = [];
    for (let c = 0; c < refs.length; c++) {
      const r = m.results[c];
      if (r === undefined || r.status !== GNTST_okay) continue;
      this.stats.grantsMapped++;
      const ref = refs[c]!;
      if (
        m.view === undefined ||
        this.persistentGrants.has(ref) ||
        this.persistentGrants.size >= this.maxPersistent
      ) {
        extra.push(r.handle);
        continue;
      }
      this.persistentGrants.set(ref, { handle: r.handle, view: m.view.slice(c * PAGE_SIZE, PAGE_SIZE) });
      mapped++;
    }
    // A partial map yields no view: its successes are given back.
    if (m.view === undefined)
      for (const r of m.results)
        if (r.status === GNTST_okay && !extra.includes(r.handle)) extra.push(r.handle);
    if (extra.length > 0) {
      await this.options.hv.gnttabUnmap(extra);
      this.stats.grantsUnmapped += extra.length;
    }
    this.stats.persistentGrants = this.persistentGrants.size;
    return mapped > 0;
  }

  /**
   * The synchronous start of a valid READ/WRITE whose pages are all persistent grants already
   * mapped (the steady state with persistent grants): the same as start(), without a promise or a
   * call. False, with nothing done, for anything else (start() takes it).
   */
  private startFast(req: BlkifRequest): boolean {
    if (!this.options.persistent) return false;
    if (req.operation !== BlkifOp.READ && req.operation !== BlkifOp.WRITE) return false;
    if (validateRequest(req, this.options.limits).status !== BLKIF_RSP_OKAY) return false;
    const n = req.nrSegments;
    const segs = req.segments;
    const grants = this.persistentGrants;
    for (let i = 0; i < n; i++) if (!grants.has(segs[i]!.gref)) return false;
    const p = this.takePending(req);
    const pages = this.pages;
    while (pages.length < n) pages.push({ view: this.options.view, page: 0 });
    for (let i = 0; i < n; i++) {
      const pr = pages[i]!;
      pr.view = grants.get(segs[i]!.gref)!.view;
      pr.page = 0;
    }
    this.stats.persistentHits += n;
    this.submitMapped(p, req, segs, n, req.operation === BlkifOp.WRITE);
    return true;
  }

  /**
   * The synchronous start of a READ/WRITE without persistent grants where the port maps one ref
   * without a promise (the hypervisor in this host process): each segment's grant is mapped
   * (GNTTABOP_map_grant_ref, read-only for a write to the disk), the store gets the frames' bytes, and
   * the grants are unmapped before the response (completed). False, with nothing done, where that
   * is not possible — start() takes the request. A ref that does not map answers BLKIF_RSP_ERROR
   * (the others unmapped first), as start() does.
   */
  private startMappedSync(req: BlkifRequest): boolean {
    const hv = this.options.hv;
    const host = this.hostBytes;
    if (this.options.persistent || host === undefined || hv.gnttabUnmapGrantRefSync === undefined)
      return false;
    if (req.operation !== BlkifOp.READ && req.operation !== BlkifOp.WRITE) return false;
    const n = req.nrSegments;
    if (n === 0 || validateRequest(req, this.options.limits).status !== BLKIF_RSP_OKAY) return false;
    const toDevice = req.operation === BlkifOp.WRITE;
    const flags = GNTMAP_host_map | (toDevice ? GNTMAP_readonly : 0);
    const segs = req.segments;
    const frontend = this.options.frontend;
    const first = hv.gnttabMapGrantRefSync?.(frontend, segs[0]!.gref, flags);
    if (first === undefined) return false;
    const p = this.takePending(req);
    let sectors = 0;
    let ok = true;
    for (let i = 0; i < n; i++) {
      const s = segs[i]!;
      const h = i === 0 ? first : hv.gnttabMapGrantRefSync!(frontend, s.gref, flags)!;
      if (h < 0) {
        ok = false;
        continue;
      }
      p.unmap.push(h);
      this.stats.grantsMapped++;
      if (!ok) continue;
      const frame = hv.gnttabLastMappedFrame!;
      const off = s.firstSect * BLOCK_SECTOR_BYTES;
      const len = (s.lastSect - s.firstSect + 1) * BLOCK_SECTOR_BYTES;
      const a = frame * PAGE_SIZE + off;
      p.segs.push(host.subarray(a, a + len));
      if (!toDevice) p.markFrames.push(frame, off, len);
      sectors += s.lastSect - s.firstSect + 1;
    }
    if (!ok) {
      this.unmapSync(p);
      this.respond(p, BLKIF_RSP_ERROR);
      return true;
    }
    this.submitBuilt(p, req, sectors, toDevice);
    return true;
  }

  /** Unmaps the request's grants without a promise (startMappedSync's port); false where not possible. */
  private unmapSync(pending: Pending): boolean {
    const hv = this.options.hv;
    if (hv.gnttabUnmapGrantRefSync === undefined) return false;
    const handles = pending.unmap;
    let bad = 0;
    for (let i = 0; i < handles.length; i++) {
      const st = hv.gnttabUnmapGrantRefSync(handles[i]!);
      if (st === undefined) {
        // Not possible here after all: the rest the async way (unmapAndRespond).
        handles.splice(0, i);
        return false;
      }
      if (st !== GNTST_okay) bad++;
    }
    this.stats.grantsUnmapped += handles.length;
    if (bad > 0) this.options.log.warn({ handles: [...handles] }, "grant unmap failed");
    while (handles.length !== 0) handles.pop();
    return true;
  }

  /** this.pages[0..nseg) hold the request's data pages: build the store I/O and submit it. */
  private submitMapped(
    pending: Pending,
    req: BlkifRequest,
    segs: readonly BlkifSegment[],
    nseg: number,
    toDevice: boolean,
  ): void {
    let sectors = 0;
    for (let i = 0; i < nseg; i++) {
      const s = segs[i]!;
      const off = s.firstSect * BLOCK_SECTOR_BYTES;
      const len = (s.lastSect - s.firstSect + 1) * BLOCK_SECTOR_BYTES;
      sectors += s.lastSect - s.firstSect + 1;
      const pr = this.pages[i]!;
      const pageOff = pr.page * PAGE_SIZE + off;
      const host = this.hostBytes;
      if (host !== undefined) {
        const frame = pr.view.frames[pr.page]!;
        const a = frame * PAGE_SIZE + off;
        pending.segs.push(host.subarray(a, a + len));
        if (!toDevice) pending.mark.push({ view: pr.view, off: pageOff, len });
      } else if (toDevice) {
        pending.segs.push(pr.view.read(pageOff, len));
      } else {
        const buf = new Uint8Array(len);
        pending.segs.push(buf);
        pending.back.push({ view: pr.view, off: pageOff, buf });
      }
    }
    this.submitBuilt(pending, req, sectors, toDevice);
  }

  /** pending.segs hold the request's data (`sectors` of it): submit the store I/O. */
  private submitBuilt(pending: Pending, req: BlkifRequest, sectors: number, toDevice: boolean): void {
    const io = pending.io;
    pending.nrSectors = sectors;
    pending.kind = io.op = toDevice ? "write" : "read";
    // Validated to lie inside the device, so a safe integer.
    io.sector = req.sectorHi * 0x1_0000_0000 + req.sectorLo;
    io.nrSectors = sectors;
    if (req.operation === BlkifOp.WRITE_BARRIER) {
      // preflush, then the write with FUA
      this.submit({ op: "flush", sector: 0, nrSectors: 0, segs: [] }, (st) => {
        if (st !== 0) {
          pending.done(st);
          return;
        }
        io.fua = true;
        this.submit(io, pending.done);
      });
      return;
    }
    this.submit(io, pending.done);
  }

  /** Barrier: wait until only `keep` requests (the barrier itself) are in flight. */
  private async drainExcept(keep: number): Promise<void> {
    while (this.stats.outstanding > keep) {
      await new Promise<void>((r) => this.drainWaiters.push(r));
    }
  }

  /** Maps the indirect pages and decodes the segment descriptors into indirectSegs. */
  private async readIndirect(req: BlkifRequest, pending: Pending): Promise<boolean> {
    const n = req.nrSegments;
    const np = indirectPages(n);
    for (let i = 0; i < np; i++) this.mapRefs[i] = req.indirectGrefs[i]!;
    const ok = await this.mapRefsTo(this.mapRefs, np, true, pending);
    if (!ok) {
      await this.unmapAndRespond(pending, BLKIF_RSP_ERROR);
      return false;
    }
    for (let i = 0; i < np; i++) {
      const pr = this.pages[i]!;
      const count = Math.min(BLKIF_SEGS_PER_INDIRECT_FRAME, n - i * BLKIF_SEGS_PER_INDIRECT_FRAME);
      decodeIndirectSegments(
        pr.view,
        pr.page * PAGE_SIZE,
        0,
        count,
        this.indirectSegs,
        i * BLKIF_SEGS_PER_INDIRECT_FRAME,
      );
    }
    // The descriptor pages are not needed any more (non-persistent ones are unmapped now).
    if (pending.unmap.length > 0) {
      const handles = pending.unmap.splice(0);
      await this.options.hv.gnttabUnmap(handles);
      this.stats.grantsUnmapped += handles.length;
    }
    return true;
  }

  private async mapSegments(
    segs: readonly BlkifSegment[],
    nseg: number,
    toDevice: boolean,
    pending: Pending,
  ): Promise<boolean> {
    for (let i = 0; i < nseg; i++) this.mapRefs[i] = segs[i]!.gref;
    return this.mapRefsTo(this.mapRefs, nseg, toDevice, pending);
  }

  /**
   * Maps refs[0..nrRefs) of the frontend into this.pages[0..nrRefs) with one gnttabMapGrantRefs call (refs
   * already persistently mapped are reused). Non-persistent handles go to pending.unmap. False when any
   * ref failed (bad or foreign ref): the successes are still recorded for unmapping.
   */
  private async mapRefsTo(
    refs: number[],
    nrRefs: number,
    readonly: boolean,
    pending: Pending,
  ): Promise<boolean> {
    const pages = this.pages;
    while (pages.length < nrRefs) pages.push({ view: this.options.view, page: 0 }); // placeholders, set below
    const persistent = this.options.persistent;
    if (!persistent) return this.mapBatch(refs, nrRefs, readonly, pending);
    const batch: number[] = [];
    /** For each batch entry, the segment indexes it serves. */
    const batchIdx: number[] = [];
    let dedupe: Map<number, number> | undefined;
    for (let i = 0; i < nrRefs; i++) {
      const ref = refs[i]!;
      if (persistent) {
        const g = this.persistentGrants.get(ref);
        if (g !== undefined) {
          pages[i]!.view = g.view;
          pages[i]!.page = 0;
          this.stats.persistentHits++;
          continue;
        }
        dedupe ??= new Map();
        const j = dedupe.get(ref);
        if (j !== undefined) {
          batchIdx.push(i);
          batch.push(-1 - j); // same page as batch entry j
          continue;
        }
        dedupe.set(ref, batch.length);
      }
      batchIdx.push(i);
      batch.push(ref);
    }
    if (batch.length === 0) return true;
    // Collapse the duplicates out of the call.
    const callRefs: number[] = [];
    const callOf: number[] = [];
    for (let k = 0; k < batch.length; k++) {
      const r = batch[k]!;
      if (r >= 0) {
        callOf.push(callRefs.length);
        callRefs.push(r);
      } else callOf.push(callOf[-1 - r]!);
    }
    const flags = GNTMAP_host_map | (readonly && !persistent ? GNTMAP_readonly : 0);
    const m = await this.options.hv.gnttabMapGrantRefs(this.options.frontend, callRefs, flags);
    let ok = m.view !== undefined && m.results.length === callRefs.length;
    for (let c = 0; c < callRefs.length; c++) {
      const r = m.results[c];
      if (r === undefined || r.status !== GNTST_okay) {
        ok = false;
        continue;
      }
      this.stats.grantsMapped++;
    }
    if (!ok) {
      for (const r of m.results) if (r.status === GNTST_okay) pending.unmap.push(r.handle);
      return false;
    }
    const view = m.view!;
    const keep: boolean[] = [];
    for (let c = 0; c < callRefs.length; c++) {
      const handle = m.results[c]!.handle;
      const ref = callRefs[c]!;
      if (persistent && !this.persistentGrants.has(ref) && this.persistentGrants.size < this.maxPersistent) {
        this.persistentGrants.set(ref, { handle, view: view.slice(c * PAGE_SIZE, PAGE_SIZE) });
        this.stats.persistentGrants = this.persistentGrants.size;
        keep.push(true);
      } else {
        pending.unmap.push(handle);
        keep.push(false);
      }
    }
    for (let k = 0; k < batch.length; k++) {
      const pr = pages[batchIdx[k]!]!;
      const c = callOf[k]!;
      if (keep[c] === true) {
        pr.view = this.persistentGrants.get(callRefs[c]!)!.view;
        pr.page = 0;
      } else {
        pr.view = view;
        pr.page = c;
      }
    }
    return true;
  }

  /** Non-persistent: refs[0..nrRefs) in one call, page i of the result for segment i, all unmapped after. */
  private async mapBatch(
    refs: number[],
    nrRefs: number,
    readonly: boolean,
    pending: Pending,
  ): Promise<boolean> {
    refs.length = nrRefs; // the scratch array is exactly the batch: no copy
    const flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
    const m = await this.options.hv.gnttabMapGrantRefs(this.options.frontend, refs, flags);
    let ok = m.view !== undefined && m.results.length === nrRefs;
    for (let i = 0; i < m.results.length; i++) {
      const r = m.results[i]!;
      if (r.status === GNTST_okay) {
        pending.unmap.push(r.handle);
        this.stats.grantsMapped++;
      } else ok = false;
    }
    if (!ok) return false;
    const view = m.view!;
    for (let i = 0; i < nrRefs; i++) {
      const pr = this.pages[i]!;
      pr.view = view;
      pr.page = i;
    }
    return true;
  }

  /** Hands one I/O to the store; the trace sees it first. */
  private submit(io: BlockIo, done: (status: number) => void): void {
    if (tracer.mask & TRACE_STORE)
      tracer.emit({
        kind: "store",
        op: io.op,
        domid: this.options.self ?? 0,
        peer: this.options.frontend,
        ...(this.options.device !== undefined ? { device: this.options.device } : {}),
        sector: io.sector,
        nrSectors: io.nrSectors,
        segments: io.segs.length,
        ...(io.fua ? { fua: true } : {}),
      });
    this.options.store.submit(io, done);
  }

  private takeFree(): Pending {
    const p = this.pool[this.poolHead]!;
    this.pool[this.poolHead++] = undefined as unknown as Pending;
    if (this.poolHead >= 1024 && this.poolHead * 2 >= this.pool.length) {
      this.pool.splice(0, this.poolHead);
      this.poolHead = 0;
    }
    return p;
  }

  /** Store completion. */
  completed(pending: Pending, status: number): void {
    if (!pending.busy) {
      // A second completion of a request already answered (a broken store calling done twice): it
      // answers that request's id again — the frontend's one-response check is what must catch that.
      // (The chaos backend.response-duplicated writes its second response in respond() instead.)
      this.respondAgain(pending, status);
      return;
    }
    if (tracer.mask & TRACE_STORE)
      tracer.emit({
        kind: "store",
        op: "done",
        domid: this.options.self ?? 0,
        peer: this.options.frontend,
        ...(this.options.device !== undefined ? { device: this.options.device } : {}),
        io: pending.kind,
        status,
      });
    if (status === 0) {
      for (const b of pending.back) {
        b.view.write(b.off, b.buf);
        b.view.markWritten(b.off, b.buf.length);
      }
      for (const m of pending.mark) m.view.markWritten(m.off, m.len);
      const mf = pending.markFrames;
      if (mf.length > 0) {
        const store = this.options.hv.store;
        if (store?.markWritten)
          for (let i = 0; i < mf.length; i += 3) store.markWritten(mf[i]!, mf[i + 1]!, mf[i + 2]!);
      }
      if (pending.kind === "read") this.stats.readSectors += pending.nrSectors;
      else if (pending.kind === "write") this.stats.writeSectors += pending.nrSectors;
    }
    const rsp = blkifRspOf(status);
    if (pending.unmap.length === 0 || this.unmapSync(pending)) this.respond(pending, rsp);
    else void this.unmapAndRespond(pending, rsp);
  }

  /** Linux: unmap (xen_blkbk_unmap) before make_response, so the frontend may end access at once. */
  private async unmapAndRespond(pending: Pending, status: number): Promise<void> {
    if (pending.unmap.length > 0) {
      const handles = pending.unmap.splice(0);
      try {
        const st = await this.options.hv.gnttabUnmap(handles);
        this.stats.grantsUnmapped += handles.length;
        if (st.some((s) => s !== GNTST_okay)) this.options.log.warn({ handles }, "grant unmap failed");
      } catch (e) {
        this.options.log.error({ err: e }, "grant unmap failed");
      }
    }
    this.respond(pending, status);
  }

  /**
   * make_response: write the response at rsp_prod_pvt, push (the ring marks the slots and the index
   * written: a frontend in another host process gets them in that order), and kick when the ring
   * says so (pushResponses). Inside a batch of the pump the push waits for the batch's end, or for
   * PUSH_BATCH responses, so the frontend can start on them while the rest are made.
   */
  private respond(pending: Pending, status: number): void {
    const stats = this.stats;
    if (!this.halted) {
      try {
        // Built in a private buffer, copied into the slot in one piece.
        const off = this.ring.nextResponse();
        encodeResponse(
          this.rspBytes,
          0,
          this.abi,
          pending.idLo,
          pending.idHi,
          pending.op,
          this.options.corruptResponse?.() ? BLKIF_RSP_GARBAGE : status,
        );
        this.options.view.writeFrom(off, this.rspBytes, 0, this.rspBytes.length);
        if (tracer.mask & TRACE_RING)
          tracer.emit({
            kind: "ring",
            op: "response",
            domid: this.options.self ?? 0,
            peer: this.options.frontend,
            ...(this.options.device !== undefined ? { device: this.options.device } : {}),
            evtchn: this.port,
            ringIdx: this.ring.rspProdPvt - 1,
            id: pending.idLo,
            operation: blkifOpName(pending.op),
            status: blkifRspName(status),
          });
        if (this.batching) {
          // At once when the frontend is busy on the ring (no event needed); a push that would wake
          // it waits for the batch's end or PUSH_BATCH responses.
          if (++this.unpushed >= PUSH_BATCH || (this.kickElidable && !this.ring.pushWouldNotify()))
            this.pushResponses();
        } else {
          // A completion outside the pump (an asynchronous store: one timer completes many I/Os):
          // in one host process the responses of this turn are pushed together, once its
          // synchronous part is done; across host processes every push kicks (the link coalesces
          // kicks within a flush), so each is pushed at once.
          if (this.unpushed === 0) this.kickElidable = this.options.hv.mayElideKick(this.port);
          if (!this.kickElidable) this.pushResponses();
          else if (this.unpushed++ === 0) queueMicrotask(this.pushLater);
        }
        if (
          this.options.duplicateResponse !== undefined &&
          this.ring.reqCons !== this.ring.rspProdPvt &&
          this.options.duplicateResponse(
            `dom ${this.options.frontend} id ${pending.idHi * 0x1_0000_0000 + pending.idLo}`,
          )
        ) {
          // the same bytes in the next slot: one id answered twice
          this.options.view.writeFrom(this.ring.nextResponse(), this.rspBytes, 0, this.rspBytes.length);
          stats.responses++;
          // pushed at once, so the frontend sees both before the slot it took is missed
          this.pushResponses();
        }
      } catch (e) {
        this.halt(-XenErrno.EIO, `writing a response failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    stats.responses++;
    if (status === BLKIF_RSP_OKAY) stats.completed++;
    else stats.errors++;
    const secs = ((this.batching ? this.batchNow : this.options.clock()) - pending.start) / 1000;
    stats.latency.observe(secs);
    this.options.onResponse?.(pending.op, status, secs);
    stats.outstanding--;
    pending.busy = false;
    this.pool.push(pending);
    if (this.drainWaiters.length > 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const f of w) f();
    }
    // Requests pushed without a kick while the ring looked awake: take them (the pump, when
    // running, looks again by itself).
    if (!this.pumping && !this.halted && this.ring.requestProd() !== this.ring.reqCons) this.kick();
  }

  /** A second response for pending's (answered) request: written and pushed, nothing counted as done. */
  private respondAgain(pending: Pending, status: number): void {
    if (this.halted) return;
    const rsp = blkifRspOf(status);
    try {
      const off = this.ring.nextResponse();
      encodeResponse(this.rspBytes, 0, this.abi, pending.idLo, pending.idHi, pending.op, rsp);
      this.options.view.writeFrom(off, this.rspBytes, 0, this.rspBytes.length);
      this.stats.responses++;
      this.pushResponses();
    } catch (e) {
      this.halt(-XenErrno.EIO, `writing a response failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private readonly pushLater = (): void => {
    if (this.unpushed > 0 && !this.batching) this.pushResponses();
  };
}
