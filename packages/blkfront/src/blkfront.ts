// The blkfront driver core (Linux drivers/block/xen-blkfront.c, rewritten over injected
// interfaces): runs the blkif frontend reducer of @xensim/blkif and executes its effects, and
// moves I/O: splits it into ring requests, builds them into the rings and completes them from the
// responses. Beside it: grants.ts (ring and data grants, the bounce pool, deferred grant ends),
// shadow.ts (the queues' shadow tables and blkif_recover), responses.ts (response checks: a
// misbehaving backend is fatal for the device), lifecycle.ts (connecting / connected / draining /
// closing / failed / closed), options.ts (options, notices, counters), trace.ts (ring trace events).
// A connected Blkfront is a BlockStore.
import {
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_REQUEST_LAYOUT,
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  BlkifOp,
  XenbusState,
  XenErrno,
} from "@xensim/abi";
import {
  BLKFRONT_DEFAULT_CONFIG,
  type BlkfrontConfig,
  type BlkfrontDisk,
  type BlkfrontEffect,
  type BlkfrontEvent,
  type BlkfrontState,
  type BlkifQueueRing,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
  blkfrontReduce,
  decodeResponse,
  encodeRequest,
  indirectPages,
  newBlkifRequest,
  newBlkifResponse,
  newSegments,
  requestBytes,
} from "@xensim/blkif";
import { TRACE_RING, tracer } from "@xensim/trace";
import type { MemView } from "@xensim/memory";
import { FrontRing, RingError } from "@xensim/ring";
import { type DriverLogger, errnoOf, GrantRefPool, NULL_LOGGER, XenbusDevice } from "@xensim/xenbus";
import {
  type BlkfrontEvents,
  type BlkfrontHypervisor,
  DEFAULT_GRANT_REFS,
  type GuestMemory,
} from "./environment.js";
import { BlkfrontGrants, type BlkfrontTimer, raceTimer } from "./grants.js";
import { pagesFor, PendingIo, type Piece, SECTOR_BYTES, SECTORS_PER_PAGE, splitRange } from "./io.js";
import { acceptsIo, BlkfrontLifecycle, issuesIo, survivesDisconnect } from "./lifecycle.js";
import { executeXenstoreEffect, isXenstoreEffect, readBackendKeys } from "./handshake.js";
import { buildRequest, isPieceOp, type RequestContext } from "./request.js";
import { type BlkfrontFeatures, dropUnsupported, matchResponse, responseErrno } from "./responses.js";
import {
  type BlkfrontNotice,
  type BlkfrontOptions,
  type BlkfrontPoll,
  type BlkfrontStats,
  blockStoreInfo,
  EMPTY_INFO,
} from "./options.js";
import { copyReadData, type DataPage, pickRing, RingQueue, recoverInFlight } from "./shadow.js";
import { traceCompletion, traceRequest } from "./trace.js";

export type { BlkfrontTimer } from "./grants.js";
export type { BlkfrontNotice, BlkfrontOptions, BlkfrontPoll, BlkfrontStats } from "./options.js";
export { blockStoreInfo } from "./options.js";

/** Requests built into a ring before they are pushed even inside a batch (the backend starts on them). */
const PUSH_BATCH = 64;

/** What issueHead did with the head of the queue. */
const enum HeadResult {
  /** Issued, answered at once, or re-split: look at the next head. */
  Done,
  /** No ring has a free slot: wait for responses. */
  Blocked,
  /** The ring's bounce pool must grow first (the pump waits for it). */
  NeedPool,
  /** Its pages must be granted first (the pump waits for it). */
  NeedGrants,
}

export class Blkfront implements BlockStore {
  readonly dev: XenbusDevice<MemView>;
  readonly stats: BlkfrontStats = {
    inFlight: 0,
    queued: 0,
    submitted: 0,
    completed: 0,
    errors: 0,
    requests: 0,
    responses: 0,
    notificationsSent: 0,
    notificationsSuppressed: 0,
    reissued: 0,
    connects: 0,
    staleResponses: 0,
    protocolErrors: 0,
    grantsLeaked: 0,
    grantsDeferred: 0,
    dataGrants: 0,
    zeroCopyRequests: 0,
  };

  private readonly hv: BlkfrontHypervisor;
  private readonly memory: GuestMemory;
  private readonly events: BlkfrontEvents;
  private readonly grants: BlkfrontGrants;
  private readonly config: BlkfrontConfig;
  private readonly entryBytes: number;
  private readonly log: DriverLogger;
  private readonly maxQueued: number;
  private readonly autoReconnect: boolean;
  private readonly poll: BlkfrontPoll | undefined;
  private readonly handle: number;

  /** The reducer's state: the bus-visible XenbusState, the private phase, what was negotiated. */
  private handshakeState: BlkfrontState;
  private life = BlkfrontLifecycle.Connecting;
  private chain: Promise<unknown> = Promise.resolve();
  private rings: RingQueue[] = [];
  private disk: BlkfrontDisk | undefined;
  private currentInfo: BlockStoreInfo = EMPTY_INFO;
  private features: BlkfrontFeatures = { flush: false, barrier: false, discard: false };
  /** Ring requests waiting for a ring slot, bounce pages or a connection. */
  private readonly queue: Piece[] = [];
  private seq = 0;
  /** Where the next search for the emptiest ring starts (round robin among equals). */
  private nextRing = 0;
  private pumping = false;
  private pumpAgain = false;
  /** > 0 while a batch runs (an event's responses, issuing the queue): pushes wait for its end. */
  private batchDepth = 0;
  /** The ring issueHead chose for the head of the queue, and a scratch list of its pages. */
  private headRing: RingQueue | undefined;
  private readonly headPages: DataPage[] = [];
  private readonly req = newBlkifRequest();
  private readonly reqBytes = new Uint8Array(BLKIF_RING_ENTRY_BYTES.x86_64);
  private readonly rsp = newBlkifResponse();
  private readonly indirectSegments = newSegments(8 * BLKIF_SEGS_PER_INDIRECT_FRAME);
  /** buildRequest's context, one object updated per request (no allocation per request). */
  private readonly requestContext: { -readonly [K in keyof RequestContext]: RequestContext[K] };
  private readonly listeners = new Set<(n: BlkfrontNotice) => void>();
  private idleWaiters: (() => void)[] = [];
  private stateWaiters: (() => void)[] = [];
  private readonly timer: BlkfrontTimer | undefined;
  private readonly closeTimeoutMs: number;

  private readonly corruptRequest: (() => boolean) | undefined;

  private constructor(dev: XenbusDevice<MemView>, opts: BlkfrontOptions) {
    this.dev = dev;
    this.hv = opts.hypervisor;
    this.memory = opts.memory;
    this.events = opts.events;
    this.config = Object.freeze({ ...BLKFRONT_DEFAULT_CONFIG, ...opts.config });
    this.entryBytes = BLKIF_RING_ENTRY_BYTES[this.config.abi];
    this.log = opts.log ?? NULL_LOGGER;
    this.maxQueued = opts.maxQueued ?? 4096;
    const largest = Math.max(this.config.maxIndirectSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST) + 8;
    this.autoReconnect = opts.autoReconnect ?? true;
    this.poll = opts.poll;
    this.corruptRequest = opts.corruptRequest;
    this.timer = opts.timer;
    this.grants = new BlkfrontGrants({
      hypervisor: this.hv,
      memory: this.memory,
      refs: opts.grantRefs ?? new GrantRefPool(DEFAULT_GRANT_REFS),
      self: dev.self,
      backend: () => dev.otherendId,
      stats: this.stats,
      log: this.log,
      timer: opts.timer,
      retryMs: opts.deferredRetryMs ?? 1000,
      trusted: opts.trusted ?? true,
      maxPoolPages: Math.max(opts.maxDataPagesPerRing ?? 1024, largest),
      poolBatch: opts.poolBatch ?? 32,
    });
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    const h = Number.parseInt(dev.devid, 10);
    this.handle = Number.isFinite(h) ? h & 0xffff : 0;
    this.requestContext = {
      handle: this.handle,
      flush: false,
      discardSecure: false,
      indirectSegments: this.indirectSegments,
    };
    this.handshakeState = {
      state: XenbusState.Initialising,
      phase: "idle",
      config: this.config,
      backendState: undefined,
      backendKeys: {},
      ringPageOrder: 0,
      nrQueues: 1,
      rings: undefined,
      disk: undefined,
      pendingConnect: undefined,
    };
  }

  /** Opens the frontend device at `nodename` (…/device/vbd/<devid>) and starts the handshake. */
  static async open(opts: BlkfrontOptions & { readonly nodename: string }): Promise<Blkfront> {
    const dev = await XenbusDevice.open<MemView>({
      store: opts.store,
      self: opts.self,
      side: "frontend",
      nodename: opts.nodename,
      hypervisor: opts.hypervisor,
      ...(opts.transactionRetries !== undefined ? { transactionRetries: opts.transactionRetries } : {}),
    });
    return Blkfront.attach(dev, opts);
  }

  /**
   * Drives an opened device (one a XenbusProbe found: give the probe no otherendChanged, this sets
   * the device's onOtherendChanged and starts its watch).
   */
  static async attach(dev: XenbusDevice<MemView>, opts: BlkfrontOptions): Promise<Blkfront> {
    const b = new Blkfront(dev, opts);
    await b.start();
    return b;
  }

  private async start(): Promise<void> {
    if (this.dev.state !== XenbusState.Initialising) await this.dev.switchState(XenbusState.Initialising);
    this.dev.onOtherendChanged = (state) => this.run(() => this.backendChanged(state));
    await this.dev.watchOtherend();
  }

  // ---- public surface ----------------------------------------------------------------------------

  /** The disk as the backend described it (zeros before the first connect). */
  get info(): BlockStoreInfo {
    return this.currentInfo;
  }

  /** The bus-visible state, the private phase, and what was negotiated. */
  get handshake(): BlkfrontState {
    return this.handshakeState;
  }

  get isConnected(): boolean {
    return issuesIo(this.life);
  }

  /** Connecting, connected, draining (closing with I/O in flight), closing, failed or closed. */
  get lifecycle(): BlkfrontLifecycle {
    return this.life;
  }

  /** Number of rings (queues) and their size in slots, while connected. */
  get ringInfo(): { queues: number; pages: number; slots: number } {
    return {
      queues: this.rings.length,
      pages: 2 ** this.handshakeState.ringPageOrder,
      slots: this.rings[0]?.front.size ?? 0,
    };
  }

  get negotiated(): BlkfrontDisk | undefined {
    return this.disk;
  }

  /** Connected, resize, disconnected, closed and error notices; returns the unsubscriber. */
  subscribe(fn: (n: BlkfrontNotice) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves with the info once connected (at once if connected). Rejects if the device fails. */
  whenConnected(): Promise<BlockStoreInfo> {
    if (this.life === BlkfrontLifecycle.Connected) return Promise.resolve(this.currentInfo);
    if (this.life !== BlkfrontLifecycle.Connecting)
      return Promise.reject(new Error(this.life === BlkfrontLifecycle.Failed ? "device failed" : "closed"));
    return new Promise((resolve, reject) => {
      const off = this.subscribe((n) => {
        if (n.kind === "connected") {
          off();
          resolve(n.info);
        } else if (n.kind === "error" || n.kind === "closed") {
          off();
          reject(new Error(n.kind === "error" ? n.msg : "closed"));
        }
      });
    });
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (!acceptsIo(this.life)) return done(-XenErrno.EIO);
    if (!isPieceOp(io.op)) return done(-XenErrno.EINVAL);
    const rw = io.op === "read" || io.op === "write";
    if (
      !Number.isSafeInteger(io.sector) ||
      !Number.isSafeInteger(io.nrSectors) ||
      io.sector < 0 ||
      io.nrSectors < 0
    )
      return done(-XenErrno.EINVAL);
    if (rw) {
      let bytes = 0;
      for (const s of io.segs) bytes += s.length;
      if (bytes !== io.nrSectors * SECTOR_BYTES) return done(-XenErrno.EINVAL);
      if (io.nrSectors === 0 && !(io.op === "write" && io.fua)) return done(0);
    }
    if (this.life === BlkfrontLifecycle.Connected) {
      if (io.op !== "flush" && io.sector + io.nrSectors > this.currentInfo.sectors)
        return done(-XenErrno.EIO);
      if (this.currentInfo.readonly && (io.op === "write" || io.op === "discard"))
        return done(-XenErrno.EROFS);
    }
    if (this.queue.length >= this.maxQueued) return done(-XenErrno.EBUSY);
    const parent = new PendingIo(io, done);
    this.stats.submitted++;
    if (rw && io.nrSectors > 0 && io.nrSectors <= this.maxSectorsPerRequest()) {
      // One ring request (the common case): no split, no array.
      parent.remaining = 1;
      this.queue.push({
        parent,
        op: io.op,
        sector: io.sector,
        nrSectors: io.nrSectors,
        byteOff: 0,
        seq: this.seq++,
      });
      this.stats.queued = this.queue.length;
      this.issueQueued();
      return;
    }
    let pieces: Piece[];
    if (rw && io.nrSectors > 0)
      pieces = splitRange(
        parent,
        io.op,
        io.sector,
        io.nrSectors,
        0,
        this.maxSectorsPerRequest(),
        () => this.seq++,
      );
    else if (rw) {
      pieces = [{ parent, op: "flush", sector: 0, nrSectors: 0, byteOff: 0, seq: this.seq++ }];
      parent.flushAfter = false;
    } else
      pieces = [
        { parent, op: io.op, sector: io.sector, nrSectors: io.nrSectors, byteOff: 0, seq: this.seq++ },
      ];
    parent.remaining = pieces.length;
    for (const p of pieces) this.queue.push(p);
    this.stats.queued = this.queue.length;
    this.issueQueued();
  }

  /**
   * Issues queued requests now, synchronously, while each needs nothing that waits (a ring slot and
   * bounce pages already granted); the pump (async) takes over when one needs the pool to grow or
   * its pages granted. A pump already running takes the new pieces (pumpAgain). Outside a batch
   * (an event's responses, the pump) the requests are pushed at once.
   */
  private issueQueued(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.batchDepth++;
    let needsPump = false;
    try {
      while (this.queue.length > 0 && issuesIo(this.life)) {
        const r = this.issueHead();
        if (r === HeadResult.Done) continue;
        needsPump = r !== HeadResult.Blocked;
        break;
      }
    } finally {
      if (--this.batchDepth === 0) this.pushAll();
    }
    this.stats.queued = this.queue.length;
    if (needsPump) void this.pump();
    else this.checkIdle();
  }

  /**
   * Waits for every submitted I/O (those queued while disconnected fail with -EIO), then closes the
   * device (Closing → Closed once the backend follows) and stops watching. Further submits fail.
   */
  async close(): Promise<void> {
    if (this.life === BlkfrontLifecycle.Closed) return;
    if (this.life === BlkfrontLifecycle.Connected) {
      this.life = BlkfrontLifecycle.Draining;
      await this.idle();
    }
    if (this.life === BlkfrontLifecycle.Draining || this.life === BlkfrontLifecycle.Connecting)
      this.life = BlkfrontLifecycle.Closing;
    this.failQueued(-XenErrno.EIO);
    await this.run(() => this.step({ kind: "closeRequested" }));
    const closed = this.until(
      () => this.handshakeState.state === XenbusState.Closed && this.handshakeState.rings === undefined,
    );
    if (await raceTimer(this.timer, closed, this.closeTimeoutMs)) {
      // The backend never followed: give the rings up ourselves (grants it maps are deferred).
      this.log.warn(
        { backendState: this.handshakeState.backendState },
        "backend did not close: freeing the rings",
      );
      await this.run(() => this.freeRings());
    }
    await this.run(async () => {});
    await this.dev.close();
    this.life = BlkfrontLifecycle.Closed;
    this.grants.stop();
    this.notice({ kind: "closed" });
  }

  /** Resolves when no I/O is queued or in flight. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.stats.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  // ---- handshake -------------------------------------------------------------------------------

  /** Serializes handshake work (watch events, effects, close). */
  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    // A step that fails (a xenstore write refused: ENOSPC from the quota, EACCES…) is fatal for the
    // device, as xenbus_dev_fatal in Linux's talk_to_blkback: the error node, then Closing.
    this.chain = p.catch(async (e: unknown) => {
      this.log.error({ err: String(e) }, "blkfront handshake step failed");
      await this.dev.devFatal(errnoOf(e), "blkfront: %s", String(e)).catch(() => {});
    });
    return p;
  }

  /**
   * blkback_changed: feed the reducer, then decide whether to start over. Once we are Closed (the
   * backend closed or died), a backend in Closed, InitWait or Initialising gets a fresh handshake.
   * A backend that re-probes (InitWait) while we are connected is left alone, as Linux does: a
   * restarted blkback attaches to the live rings at the indices on the page and writes Connected
   * again (which only re-reads `sectors`).
   */
  private async backendChanged(state: XenbusState): Promise<void> {
    if (this.life === BlkfrontLifecycle.Closed) return;
    const keys = await readBackendKeys(this.dev);
    await this.step({ kind: "backendChanged", state, keys });
    if (!survivesDisconnect(this.life) || !this.autoReconnect) return;
    const b = this.handshakeState.backendState;
    const back = b === XenbusState.Closed || b === XenbusState.InitWait || b === XenbusState.Initialising;
    if (this.handshakeState.state === XenbusState.Closed && back) {
      this.log.info({ backendState: b }, "backend went away: reconnecting");
      await this.step({ kind: "reconnectRequested" });
    }
  }

  private async step(ev: BlkfrontEvent): Promise<void> {
    const r = blkfrontReduce(this.handshakeState, ev);
    this.handshakeState = r.state;
    for (const e of r.effects) await this.execute(e);
    this.wakeState();
  }

  private async execute(e: BlkfrontEffect): Promise<void> {
    const dev = this.dev;
    if (isXenstoreEffect(e)) {
      await executeXenstoreEffect(dev, e);
      return;
    }
    switch (e.kind) {
      case "fatal":
        this.log.error({ err: e.err }, e.msg);
        await dev.devError(-e.err, "%s", e.msg);
        this.notice({ kind: "error", err: e.err, msg: e.msg });
        return;
      case "grantRings":
        await this.grantRings(e.nrQueues, e.nrPages);
        return;
      case "freeRings":
        await this.freeRings();
        return;
      case "connected":
        this.onConnected(e.disk);
        return;
      case "resize":
        this.disk = this.disk && { ...this.disk, sectors: e.sectors };
        this.currentInfo = { ...this.currentInfo, sectors: e.sectors };
        this.notice({ kind: "resize", sectors: e.sectors });
        return;
      case "disconnected":
        this.onDisconnected();
        return;
    }
  }

  /** The grantRings effect: pages, grants and an event channel per queue, then ringsGranted. */
  private async grantRings(nrQueues: number, nrPages: number): Promise<void> {
    const made: RingQueue[] = [];
    let fail: { err: number; msg: string } | undefined;
    for (let q = 0; q < nrQueues; q++) {
      const granted = await this.grants.grantRingPages(nrPages);
      if (!granted.ok) {
        fail = granted;
        break;
      }
      const { pages, refs } = granted;
      const front = FrontRing.init(pages.view, this.entryBytes, { nrPages });
      const ev = await this.hv.evtchnAllocUnbound(this.dev.self, this.dev.otherendId);
      if (ev.rc !== 0) {
        await this.grants.dropRingPages(refs, pages.gfns);
        fail = { err: -ev.rc, msg: "allocating event channel" };
        break;
      }
      const ring = new RingQueue(q, front, pages.gfns, refs, ev.port, this.entryBytes, this.poll);
      ring.unbind = this.events.on(ev.port, () => this.ringEvent(ring));
      made.push(ring);
    }
    this.rings = made;
    if (fail) {
      await this.freeRings();
      await this.step({ kind: "ringsGrantFailed", err: fail.err, msg: fail.msg });
      return;
    }
    const queues: BlkifQueueRing[] = made.map((r) => ({ refs: r.refs, evtchn: r.evtchn }));
    await this.step({ kind: "ringsGranted", queues });
  }

  /**
   * The freeRings effect (the backend has unmapped): event channels closed, every grant ended. The
   * pages a ring holds now (pool, retired, shadows) are taken at once; pages somebody else holds at
   * this moment (a grant or an end in progress) are freed by that holder when it sees `freed`.
   */
  private async freeRings(): Promise<void> {
    const rings = this.rings;
    this.rings = [];
    const held = rings.map((ring) => {
      ring.unbind();
      return { ring, pages: ring.takeAllPages() };
    });
    for (const { ring, pages } of held) {
      const rc = await this.hv.evtchnClose(ring.evtchn);
      if (rc !== 0) await this.dev.devError(rc, "freeing event channel %u", ring.evtchn);
      await this.grants.releaseRing(ring, pages);
    }
  }

  /** One retry round over the grant ends deferred because the backend still mapped them. */
  retryDeferred(): Promise<void> {
    return this.grants.retryDeferred();
  }

  private onConnected(disk: BlkfrontDisk): void {
    this.disk = disk;
    this.features = { flush: disk.flush, barrier: disk.barrier, discard: disk.discard };
    this.currentInfo = blockStoreInfo(disk);
    if (this.life === BlkfrontLifecycle.Connecting) this.life = BlkfrontLifecycle.Connected;
    this.stats.connects++;
    this.log.info(
      {
        sectors: disk.sectors,
        queues: this.rings.length,
        ringPages: 2 ** this.handshakeState.ringPageOrder,
        persistent: disk.persistent,
        indirect: disk.maxIndirectSegments,
      },
      "connected",
    );
    this.notice({ kind: "connected", info: this.currentInfo, disk });
    void this.pump();
  }

  /**
   * Stop I/O: take what the rings already answered, then every request still without a response
   * goes back to the head of the queue in submission order, to be issued again on the next rings.
   */
  private onDisconnected(): void {
    if (this.life === BlkfrontLifecycle.Connected) this.life = BlkfrontLifecycle.Connecting;
    else if (this.life === BlkfrontLifecycle.Draining) this.life = BlkfrontLifecycle.Closing;
    for (const ring of this.rings) if (!ring.dead) this.drain(ring);
    const { pieces, inFlight } = recoverInFlight(this.rings);
    this.stats.inFlight -= inFlight;
    if (survivesDisconnect(this.life)) {
      this.stats.reissued += pieces.length;
      this.queue.unshift(...pieces);
      this.stats.queued = this.queue.length;
    } else {
      for (const p of pieces) this.pieceDone(p, -XenErrno.EIO);
      this.failQueued(-XenErrno.EIO);
    }
    this.notice({ kind: "disconnected" });
    this.checkIdle();
  }

  // ---- data path ---------------------------------------------------------------------------------

  private maxSectorsPerRequest(): number {
    const segs =
      this.disk && this.disk.maxIndirectSegments > 0
        ? this.disk.maxIndirectSegments
        : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    return segs * SECTORS_PER_PAGE;
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.pumpOnce();
      } while (this.pumpAgain);
    } catch (e) {
      this.log.error({ err: String(e) }, "blkfront: issuing requests failed");
    } finally {
      this.pumping = false;
      this.stats.queued = this.queue.length;
    }
  }

  /**
   * Answers the queue's head at once (no ring needed), re-splits it, or builds it into a ring when
   * that needs no wait. Otherwise says what it waits for: a ring slot (Blocked), bounce pages
   * (NeedPool) or grants of its pages (NeedGrants); then `headRing` is the ring it would go on.
   */
  private issueHead(): HeadResult {
    const piece = this.queue[0]!;
    const info = this.currentInfo;
    // Answers that need no ring.
    let now: number | undefined;
    if (piece.op === "flush" && !this.features.flush && !this.features.barrier) now = 0;
    else if (piece.op === "discard" && !this.features.discard) now = -XenErrno.EOPNOTSUPP;
    else if (piece.op !== "flush" && piece.sector + piece.nrSectors > info.sectors) now = -XenErrno.EIO;
    else if (info.readonly && (piece.op === "write" || piece.op === "discard")) now = -XenErrno.EROFS;
    if (now !== undefined) {
      this.queue.shift();
      this.pieceDone(piece, now);
      return HeadResult.Done;
    }
    const rw = piece.op === "read" || piece.op === "write";
    const max = this.maxSectorsPerRequest();
    if (rw && piece.nrSectors > max) {
      // Issued again under smaller limits: split (the parent waits for every part).
      this.queue.shift();
      const parts = splitRange(
        piece.parent,
        piece.op,
        piece.sector,
        piece.nrSectors,
        piece.byteOff,
        max,
        () => piece.seq,
      );
      piece.parent.remaining += parts.length - 1;
      this.queue.unshift(...parts);
      return HeadResult.Done;
    }
    const ring = pickRing(this.rings, this.nextRing);
    if (!ring) return HeadResult.Blocked;
    this.nextRing = (ring.index + 1) % this.rings.length;
    this.headRing = ring;
    const nData = rw ? pagesFor(piece.nrSectors) : 0;
    if (this.disk?.persistent === false && this.grants.grantCallerPages(ring, piece, nData, this.headPages)) {
      this.queue.shift();
      this.issue(ring, piece, this.headPages, nData);
      return HeadResult.Done;
    }
    const want = nData + (nData > BLKIF_MAX_SEGMENTS_PER_REQUEST ? indirectPages(nData) : 0);
    const pool = ring.pool;
    if (pool.length < want) return HeadResult.NeedPool;
    for (let k = pool.length - want; k < pool.length; k++) if (pool[k]!.ref < 0) return HeadResult.NeedGrants;
    // The pool's last `want` pages, already granted: no wait.
    // (pop and push, not `length =`: setting an array's length is a runtime call in V8)
    const pages = this.headPages;
    while (pages.length > 0) pages.pop();
    for (let k = pool.length - want; k < pool.length; k++) pages.push(pool[k]!);
    for (let k = 0; k < want; k++) pool.pop();
    this.queue.shift();
    this.issue(ring, piece, pages, nData);
    return HeadResult.Done;
  }

  private async pumpOnce(): Promise<void> {
    while (this.queue.length > 0 && issuesIo(this.life)) {
      this.batchDepth++;
      let r: HeadResult;
      try {
        r = this.issueHead();
      } finally {
        this.batchDepth--;
      }
      if (r === HeadResult.Done) continue;
      if (r === HeadResult.Blocked) break;
      // What follows waits: the backend gets what was built so far first.
      this.pushAll();
      const ring = this.headRing!;
      const piece = this.queue[0]!;
      const nData = piece.op === "read" || piece.op === "write" ? pagesFor(piece.nrSectors) : 0;
      const want = nData + (nData > BLKIF_MAX_SEGMENTS_PER_REQUEST ? indirectPages(nData) : 0);
      if (r === HeadResult.NeedPool) {
        if (!(await this.grants.growPool(ring, want))) break;
        continue;
      }
      const pages = ring.pool.splice(ring.pool.length - want, want);
      const persistent = this.disk?.persistent === true;
      const ok = await this.grants.grantData(
        pages,
        persistent ? false : piece.op === "write",
        nData,
        persistent,
      );
      if (!ok || ring.dead || this.queue[0] !== piece || !issuesIo(this.life)) {
        void this.releasePages(ring, pages, persistent);
        if (!ok) break;
        continue;
      }
      this.queue.shift();
      this.issue(ring, piece, pages, nData);
    }
    if (this.batchDepth === 0) this.pushAll();
    this.checkIdle();
  }

  /** A finished request's pages back to the ring's pool (see BlkfrontGrants.releasePages); then issue more. */
  private async releasePages(ring: RingQueue, pages: DataPage[], persistent: boolean): Promise<void> {
    if ((await this.grants.releasePages(ring, pages, persistent)) && this.queue.length > 0) void this.pump();
  }

  /** Builds the request for `piece` into the ring's next slot and records it in the shadow table. */
  private issue(ring: RingQueue, piece: Piece, pages: DataPage[], nData: number): void {
    const id = ring.freeIds.pop()!;
    const req = this.req;
    const generation = (ring.idGeneration[id] = ((ring.idGeneration[id] ?? 0) + 1) >>> 0);
    const ctx = this.requestContext;
    ctx.flush = this.features.flush;
    ctx.discardSecure = this.disk!.discardSecure;
    const rspOp = buildRequest(req, ctx, piece, pages, nData, id, generation);
    // Built in a private buffer, then copied into the slot in one piece (not field by field through
    // the ring's view, with a range check per field).
    const off = ring.front.nextRequest();
    encodeRequest(this.reqBytes, 0, this.config.abi, req);
    ring.front.view.writeFrom(off, this.reqBytes, 0, requestBytes(req.operation, this.config.abi));
    if (
      this.corruptRequest &&
      (req.operation === BlkifOp.READ || req.operation === BlkifOp.WRITE) &&
      this.corruptRequest()
    )
      ring.front.view.setU8(off + BLKIF_REQUEST_LAYOUT[this.config.abi].nr_segments, 0xff);
    if (tracer.mask & TRACE_RING) traceRequest(this.dev, ring, req, this.indirectSegments, nData);
    const sh = ring.track(id, piece, nData, rspOp);
    for (let k = 0; k < pages.length; k++) sh.pages.push(pages[k]!);
    this.stats.inFlight++;
    this.stats.requests++;
    // Pushed at once while the backend is busy on the ring (the push needs no event: it keeps
    // consuming), outside a batch, when the ring is full, or when every push kicks anyway (the
    // backend in another host process: there, holding pushes back measured slower across three
    // hosts). When the push would wake the backend, it waits for the end of the batch (an event's
    // responses, a pump) or PUSH_BATCH requests: one event for many requests.
    if (
      ++ring.unpushed >= PUSH_BATCH ||
      this.batchDepth === 0 ||
      ring.freeIds.length === 0 ||
      ring.front.full() ||
      !ring.kickElidable ||
      !ring.front.pushWouldNotify()
    )
      this.push(ring);
  }

  /** Pushes every ring with requests built since its last push. */
  private pushAll(): void {
    for (const ring of this.rings) {
      if (ring.unpushed === 0) continue;
      if (ring.dead) ring.unpushed = 0;
      else this.push(ring);
    }
  }

  /**
   * Pushes the ring's new requests (their slots and data were marked written as they were built, so
   * a backend in another host process gets them before the index) and kicks the backend when the
   * ring says so — or always, when the port says suppression is not safe (the backend is in another
   * host process).
   */
  private push(ring: RingQueue): void {
    ring.unpushed = 0;
    const notify = ring.front.pushRequestsAndCheckNotify();
    if (!notify) {
      ring.kickElidable = this.hv.mayElideKick(ring.evtchn);
      if (ring.kickElidable) {
        this.stats.notificationsSuppressed++;
        return;
      }
    }
    this.stats.notificationsSent++;
    this.hv.kick(ring.evtchn);
  }

  /** The ring's event: consume every response (blkif_interrupt), then the final check. */
  private ringEvent(ring: RingQueue): void {
    if (ring.dead || this.life === BlkfrontLifecycle.Failed) return;
    // Requests the completions issue again go out together, pushed when the event is done.
    this.batchDepth++;
    try {
      this.takeResponses(ring);
    } finally {
      if (--this.batchDepth === 0) this.pushAll();
    }
  }

  private takeResponses(ring: RingQueue): void {
    let completed = false;
    try {
      for (;;) {
        const n = ring.front.unconsumedResponses();
        for (let k = 0; k < n; k++) {
          const bad = this.takeResponse(ring);
          if (bad !== undefined) {
            this.misbehaving(ring, bad);
            return;
          }
          completed = true;
        }
        if (ring.pollLater(n > 0, this.hv.mayElideKick(ring.evtchn), () => this.ringEvent(ring))) break;
        if (!ring.front.finalCheckForResponses()) break;
      }
    } catch (e) {
      if (e instanceof RingError && e.code === "response_prod_overflow") {
        this.misbehaving(ring, `rsp_prod overflows the ring: ${e.message}`);
        return;
      }
      throw e;
    }
    if (completed) {
      if (this.queue.length > 0) this.issueQueued();
      else this.checkIdle();
    }
  }

  /**
   * At a disconnect: complete what the ring already answered. The backend is going away, so a bad
   * response ends the drain quietly (counted in staleResponses) instead of failing the device.
   */
  private drain(ring: RingQueue): void {
    let n: number;
    try {
      n = ring.front.unconsumedResponses();
    } catch {
      this.stats.staleResponses++;
      return;
    }
    for (let k = 0; k < n; k++) {
      if (this.takeResponse(ring) !== undefined) {
        this.stats.staleResponses += n - k;
        return;
      }
    }
  }

  /** Consumes and completes the response at rsp_cons; a reason string when it is not acceptable. */
  private takeResponse(ring: RingQueue): string | undefined {
    const f = ring.front;
    const idx = f.rspCons;
    // Each field read once into this.rsp (Linux copies the response first: the same guarantee).
    let rsp;
    if (ring.ringBytes)
      rsp = decodeResponse(ring.ringBytes, f.responseOffset(idx), this.config.abi, this.rsp);
    else {
      f.copyResponse(idx, ring.rspBuf);
      rsp = decodeResponse(ring.rspBuf, 0, this.config.abi, this.rsp);
    }
    const sh = matchResponse(rsp, ring.shadow, idx, ring.idGeneration);
    if (typeof sh === "string") return sh;
    // The callers saw it published (unconsumedResponses): consume without reading rsp_prod again.
    f.rspCons = idx + 1;
    this.stats.responses++;
    if (tracer.mask & TRACE_RING) traceCompletion(this.dev, idx, rsp);
    ring.untrack(rsp.idLo);
    this.stats.inFlight--;
    const piece = sh.piece;
    const status = responseErrno(rsp.status);
    if (rsp.status === BLKIF_RSP_EOPNOTSUPP) dropUnsupported(this.features, sh.rspOp);
    if (status === 0 && piece.op === "read") copyReadData(sh);
    const pages = sh.pages;
    let unmapped = true;
    if (pages.length > 0) {
      // Persistent grants stay granted: straight back to the pool, no promise per I/O. (The shadow
      // entry is the id's and is reused by its next request: the pages leave it here.)
      const persistent = this.disk?.persistent === true;
      if (pages[0]!.caller === true) unmapped = this.grants.endCallerPages(ring, pages);
      else if (persistent && !ring.freed) for (let k = 0; k < pages.length; k++) ring.pool.push(pages[k]!);
      else void this.releasePages(ring, pages.slice(), persistent);
      while (pages.length > 0) pages.pop();
    }
    if (!unmapped) {
      // Linux blkif_completion: a caller's page still mapped after the answer fails the request.
      this.pieceDone(piece, -XenErrno.EIO);
      return "backend has not unmapped a grant of a completed request";
    }
    this.pieceDone(piece, status);
    return undefined;
  }

  private pieceDone(piece: Piece, status: number): void {
    const parent = piece.parent;
    if (parent.finished) return;
    if (status !== 0 && parent.status === 0) parent.status = status;
    if (--parent.remaining > 0) return;
    if (
      parent.flushAfter &&
      parent.status === 0 &&
      this.life !== BlkfrontLifecycle.Failed &&
      this.life !== BlkfrontLifecycle.Closed
    ) {
      // FUA: the data is on the disk's cache; a flush makes it durable before the caller hears.
      parent.flushAfter = false;
      parent.remaining = 1;
      this.queue.unshift({ parent, op: "flush", sector: 0, nrSectors: 0, byteOff: 0, seq: piece.seq });
      void this.pump();
      return;
    }
    parent.finished = true;
    this.stats.completed++;
    if (parent.status !== 0) this.stats.errors++;
    try {
      parent.done(parent.status);
    } catch (e) {
      this.log.error({ err: String(e) }, "blkfront: completion callback threw");
    }
  }

  /** Linux's frontend hardening: a bad response ends the device's use of its rings. */
  private misbehaving(ring: RingQueue, reason: string): void {
    this.stats.protocolErrors++;
    this.life = BlkfrontLifecycle.Failed;
    this.log.error({ ring: ring.index }, `misbehaving backend: ${reason}`);
    const { pieces, inFlight } = recoverInFlight(this.rings);
    this.stats.inFlight -= inFlight;
    for (const p of pieces) this.pieceDone(p, -XenErrno.EIO);
    this.failQueued(-XenErrno.EIO);
    this.notice({ kind: "error", err: XenErrno.EIO, msg: reason });
    void this.run(async () => {
      await this.dev.devError(-XenErrno.EIO, "%s", `misbehaving backend: ${reason}`);
      await this.step({ kind: "closeRequested" });
    });
    this.checkIdle();
  }

  private failQueued(status: number): void {
    const q = this.queue.splice(0, this.queue.length);
    for (const p of q) this.pieceDone(p, status);
    this.stats.queued = 0;
    this.checkIdle();
  }

  // ---- small helpers -----------------------------------------------------------------------------

  private notice(n: BlkfrontNotice): void {
    for (const fn of [...this.listeners]) {
      try {
        fn(n);
      } catch (e) {
        this.log.error({ err: String(e) }, "blkfront: listener threw");
      }
    }
  }

  private checkIdle(): void {
    if (this.queue.length !== 0 || this.stats.inFlight !== 0 || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private wakeState(): void {
    const w = this.stateWaiters;
    this.stateWaiters = [];
    for (const r of w) r();
  }

  /** Resolves once `cond` holds after a handshake step. */
  private async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((r) => this.stateWaiters.push(r));
  }
}
