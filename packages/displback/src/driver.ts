// The displback driver (as the displ_be backend): finds vdispl backends with XenbusProbe, runs the
// displif backend reducer per device and executes its effects, maps every connector's request ring
// and event page, and serves the requests: DBUF_CREATE (maps the page directory and the buffer's
// pages, or under be-alloc allocates dom0 pages, grants them to the frontend and writes their grefs
// into the directory), DBUF_DESTROY, FB_ATTACH, FB_DETACH, SET_CONFIG, PG_FLIP (composes the
// connector's scanout, answers, then sends XENDISPL_EVT_PG_FLIP on the event page) and GET_EDID.
// Every bad request gets −XEN_Exx in its response; nothing a guest sends stops the service.
import {
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_general_error,
  GNTST_no_space,
  GNTST_okay,
  GNTST_permission_denied,
  XEN_PAGE_SIZE,
  XenbusState,
  XENDISPL_DBUF_FLG_REQ_ALLOC,
  XENDISPL_EDID_BLOCK_SIZE,
  XENDISPL_EVT_PG_FLIP,
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_DBUF_DESTROY,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_FB_DETACH,
  XENDISPL_OP_GET_EDID,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
  XENDISPL_RING_ENTRY_BYTES,
  XenErrno,
} from "@xensim/abi";
import {
  bufferPages,
  type DbufCreateRequest,
  decodeRequest,
  type DisplbackEffect,
  type DisplbackEvent,
  displbackReduce,
  type DisplbackState,
  type DisplifConnection,
  type DisplifRequest,
  DISPLIF_VERSIONS,
  edidBlock,
  encodeEvent,
  encodeResponse,
  EventPageProducer,
  initialDisplbackState,
  isUnknownRequest,
  type XenstoreValues,
  walkDirectory,
  writeDirectoryGrefs,
  displifTraceFields,
} from "@xensim/displif";
import { TRACE_DISPLIF, tracer } from "@xensim/trace";
import type { MemView } from "@xensim/memory";
import { BackRing, RingError } from "@xensim/ring";
import {
  GrantRefPool,
  lsOrEmpty,
  type XenbusDevice,
  XenbusProbe,
  type XenbusStore,
  type XenbusStoreOps,
  xsErrorCode,
  type DriverLogger,
  NULL_LOGGER,
  PortDispatcher,
} from "@xensim/xenbus";
import {
  type DisplbackClock,
  type DisplbackEventReceiver,
  type DisplbackHypervisor,
  type DisplbackTimer,
} from "./environment.js";
import {
  checkDbufCreate,
  checkFbAttach,
  checkSetConfig,
  DEFAULT_LIMITS,
  type DisplbackLimits,
  isDisable,
  Scanout,
} from "./scanout.js";

/** dom0 vCPU displback's ports are bound to (xenctrl DOM0_VCPU.displback). */
export const DISPLBACK_VCPU = 4;

export interface DisplbackDriverOptions {
  /** dom0's xenstore connection. */
  store: XenbusStore;
  hv: DisplbackHypervisor;
  self?: number;
  vcpu?: number;
  clock: DisplbackClock;
  log?: DriverLogger;
  limits?: Partial<DisplbackLimits>;
  /** Protocol versions offered in `versions` (default 1,2). */
  versions?: readonly number[];
  /** Overrides hv.waitForEvents (a cross-process receiver). */
  receiver?: (handler: (port: number) => void) => DisplbackEventReceiver;
  /** be-alloc: our gfns handed out from here (default 0x180000) … */
  allocFirstGfn?: number;
  /** … at most this many (default 65536 pages = 256 MiB). */
  allocMaxPages?: number;
  /** be-alloc: grant refs [first, first+count) of our table (default 16384, 16384). */
  grantRefFirst?: number;
  grantRefCount?: number;
  /** Retries ending grants the frontend still maps (be-alloc buffers destroyed while mapped). */
  timer?: DisplbackTimer;
  /** Take over devices in any state (a restarted backend). Default true. */
  takeOver?: boolean;
  onError?: (err: unknown) => void;
}

interface Dbuf {
  readonly cookie: bigint;
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
  readonly bufferSz: number;
  readonly dataOfs: number;
  readonly view: MemView;
  /** Frontend allocation: our map handles of its pages. */
  readonly handles: number[];
  /** Backend allocation: our pages and the refs that grant them to the frontend. */
  readonly own: { gfns: number[]; refs: number[] } | undefined;
}

interface Fb {
  readonly cookie: bigint;
  readonly dbufCookie: bigint;
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: number;
}

export interface ConnectorStats {
  requests: number;
  errors: number;
  flips: number;
  events: number;
  /** Flip events not sent because the frontend left 63 unconsumed (or the slot was held). */
  eventsDropped: number;
}

/** One served connector: its ring, event page, channels, mode and scanout. */
export class DisplbackConnector {
  readonly stats: ConnectorStats = { requests: 0, errors: 0, flips: 0, events: 0, eventsDropped: 0 };
  /** The current SET_CONFIG (undefined: disabled). */
  display: { fbCookie: bigint; x: number; y: number; width: number; height: number } | undefined;
  busy = false;
  again = false;
  halted = false;
  readonly req = new Uint8Array(64);
  readonly rsp = new Uint8Array(64);
  readonly evt = new Uint8Array(64);

  constructor(
    readonly index: number,
    readonly uniqueId: string,
    readonly scanout: Scanout,
    readonly ring: BackRing,
    readonly ringHandles: number[],
    readonly reqPort: number,
    readonly events: EventPageProducer,
    readonly evtHandles: number[],
    readonly evtPort: number,
  ) {}
}

/** What a screenshot or the live page sees of one connector. */
export interface DisplbackScreen {
  readonly frontend: number;
  readonly devid: string;
  readonly connector: number;
  readonly uniqueId: string;
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly lastFlipAt: number;
  readonly scanout: Scanout;
}

const statusOfGntst = (st: number): number =>
  st === GNTST_no_space
    ? -XenErrno.ENOMEM
    : st === GNTST_permission_denied
      ? -XenErrno.EPERM
      : st === GNTST_general_error
        ? -XenErrno.EINVAL
        : -XenErrno.EINVAL;

/** One vdispl backend device. */
export class DisplbackDevice {
  private handshakeState: DisplbackState;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  connectors: DisplbackConnector[] = [];
  readonly dbufs = new Map<bigint, Dbuf>();
  readonly fbs = new Map<bigint, Fb>();
  private version = 0;
  private beAlloc = false;
  private readonly log: DriverLogger;

  constructor(
    readonly driver: DisplbackDriver,
    readonly dev: XenbusDevice<MemView>,
  ) {
    this.handshakeState = initialDisplbackState(driver.versions);
    this.log = driver.log.child ? driver.log.child({ domid: dev.otherendId, devid: dev.devid }) : driver.log;
  }

  get state(): DisplbackState {
    return this.handshakeState;
  }
  get frontend(): number {
    return this.dev.otherendId;
  }

  settled(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch((e: unknown) => this.driver.reportError(e));
    return run;
  }

  send(event: DisplbackEvent): Promise<void> {
    return this.enqueue(() => this.step(event));
  }

  private async step(event: DisplbackEvent): Promise<void> {
    if (this.closed) return;
    const r = displbackReduce(this.handshakeState, event);
    this.handshakeState = r.state;
    for (const e of r.effects) await this.effect(e);
  }

  otherendChanged(state: XenbusState): Promise<void> {
    return this.enqueue(async () => {
      const keys = await readDeviceDirectory(this.driver.opts.store, this.dev.otherend);
      await this.step({ kind: "frontendChanged", state, frontendKeys: keys });
    });
  }

  private async effect(e: DisplbackEffect): Promise<void> {
    const dev = this.dev;
    switch (e.kind) {
      case "write":
        await dev.write(e.path, e.value);
        return;
      case "remove":
        await dev.store.rm(dev.path(e.path)).catch((err: unknown) => {
          if (xsErrorCode(err) !== "ENOENT") throw err;
        });
        return;
      case "transaction":
        await dev.transaction(async (tx) => {
          for (const op of e.ops)
            if (op.kind === "write") await tx.write(dev.path(op.path), op.value);
            else await tx.rm(dev.path(op.path));
        });
        return;
      case "switchState":
        await dev.switchState(e.state);
        return;
      case "fatal":
        this.log.warn({ err: e.err }, e.msg);
        await dev.devError(-e.err, "%s", e.msg);
        return;
      case "mapChannels":
        await this.mapChannels(e.connection);
        return;
      case "unmapChannels":
        await this.unmapChannels();
        return;
      case "connected":
        this.log.info(
          { connectors: e.connection.connectors.length, version: e.connection.version },
          "connected",
        );
        for (const c of this.connectors) this.kick(c);
        return;
    }
  }

  /** Maps each connector's ring and event page and binds both channels; then channelsMapped. */
  private async mapChannels(conn: DisplifConnection): Promise<void> {
    await this.unmapChannels();
    const hv = this.driver.opts.hv;
    const front = this.dev.otherendId;
    this.version = conn.version;
    this.beAlloc = conn.beAlloc;
    const fail = async (err: number, msg: string) => {
      await this.unmapChannels();
      await this.step({ kind: "channelsMapFailed", err, msg });
    };
    for (let i = 0; i < conn.connectors.length; i++) {
      const cfg = conn.connectors[i]!;
      const ch = conn.channels[i]!;
      const ring = await hv.gnttabMapGrantRefs(front, [ch.reqRingRef], GNTMAP_host_map);
      const rs = ring.results[0];
      if (!rs || rs.status !== GNTST_okay || !ring.view)
        return fail(XenErrno.ENOMEM, `mapping request ring gref ${ch.reqRingRef} (status ${rs?.status})`);
      const evt = await hv.gnttabMapGrantRefs(front, [ch.evtRingRef], GNTMAP_host_map);
      const es = evt.results[0];
      if (!es || es.status !== GNTST_okay || !evt.view) {
        await hv.gnttabUnmap([rs.handle]);
        return fail(XenErrno.ENOMEM, `mapping event page gref ${ch.evtRingRef} (status ${es?.status})`);
      }
      let back: BackRing;
      try {
        back = BackRing.attach(ring.view, XENDISPL_RING_ENTRY_BYTES);
      } catch (e) {
        await hv.gnttabUnmap([rs.handle, es.handle]);
        return fail(XenErrno.EIO, `bad ring indices: ${e instanceof Error ? e.message : String(e)}`);
      }
      const reqPort = await hv.evtchnBindInterdomain(front, ch.reqEventChannel);
      if (reqPort.rc !== 0) {
        await hv.gnttabUnmap([rs.handle, es.handle]);
        return fail(-reqPort.rc, `binding to event channel ${ch.reqEventChannel}`);
      }
      const evtPort = await hv.evtchnBindInterdomain(front, ch.evtEventChannel);
      if (evtPort.rc !== 0) {
        await hv.evtchnClose(reqPort.port);
        await hv.gnttabUnmap([rs.handle, es.handle]);
        return fail(-evtPort.rc, `binding to event channel ${ch.evtEventChannel}`);
      }
      for (const p of [reqPort.port, evtPort.port])
        if (hv.evtchnBindVcpu) await hv.evtchnBindVcpu(p, this.driver.vcpu);
      const c = new DisplbackConnector(
        i,
        cfg.uniqueId,
        new Scanout(cfg.width, cfg.height),
        back,
        [rs.handle],
        reqPort.port,
        new EventPageProducer(evt.view),
        [es.handle],
        evtPort.port,
      );
      this.connectors.push(c);
      this.driver.registerPort(reqPort.port, () => this.kick(c));
    }
    await this.step({ kind: "channelsMapped" });
  }

  /** Destroys every buffer and framebuffer, unmaps rings and event pages, closes the channels. */
  private async unmapChannels(): Promise<void> {
    const hv = this.driver.opts.hv;
    for (const cookie of [...this.dbufs.keys()]) await this.destroyDbuf(cookie);
    this.fbs.clear();
    const cs = this.connectors;
    this.connectors = [];
    for (const c of cs) {
      c.halted = true;
      this.driver.unregisterPort(c.reqPort);
      await hv.evtchnClose(c.reqPort);
      await hv.evtchnClose(c.evtPort);
      const st = await hv.gnttabUnmap([...c.ringHandles, ...c.evtHandles]);
      if (st.some((s) => s !== GNTST_okay)) this.log.warn({ st }, "unmapping a connector's pages failed");
    }
  }

  /** The frontend's ring event: drain it (one drain at a time per device). */
  kick(c: DisplbackConnector): void {
    if (c.halted) return;
    if (c.busy) {
      c.again = true;
      return;
    }
    c.busy = true;
    void this.enqueue(async () => {
      try {
        do {
          c.again = false;
          await this.drain(c);
        } while (c.again && !c.halted);
      } finally {
        c.busy = false;
      }
    });
  }

  private async drain(c: DisplbackConnector): Promise<void> {
    for (;;) {
      if (c.halted || this.closed) return;
      let n: number;
      try {
        n = c.ring.unconsumedRequests();
        if (n === 0) {
          // Going idle: finalCheckForRequests writes req_event (marked written: it reaches the
          // frontend's copy in another host process like any write).
          if (!c.ring.finalCheckForRequests()) return;
          n = c.ring.unconsumedRequests();
        }
      } catch (e) {
        if (!(e instanceof RingError)) throw e;
        // RING_REQUEST_PROD_OVERFLOW: the frontend is broken; stop this connector, say so.
        c.halted = true;
        this.log.warn({ connector: c.index, err: e.message }, "ring halted");
        await this.dev.devError(-XenErrno.EIO, "connector %u: %s", c.index, e.message);
        return;
      }
      for (let i = 0; i < n; i++) {
        c.ring.copyRequest(c.ring.reqCons, c.req);
        c.ring.consumeRequests(1);
        const req = decodeRequest(c.req);
        c.stats.requests++;
        let status: number;
        let edidSz = 0;
        let flipped: bigint | undefined;
        if (isUnknownRequest(req)) status = -XenErrno.ENOSYS;
        else {
          try {
            const r = await this.handle(c, req);
            status = r.status;
            edidSz = r.edidSz ?? 0;
            flipped = r.flipped;
          } catch (e) {
            this.log.error({ err: e, operation: req.operation }, "request failed");
            status = -XenErrno.EIO;
          }
        }
        if (status !== 0) c.stats.errors++;
        if (c.halted) return;
        encodeResponse({ id: req.id, operation: req.operation, status, edidSz }, c.rsp);
        if (tracer.mask & TRACE_DISPLIF)
          this.traceDispl(c, "response", { id: req.id, operation: req.operation, status, edidSz });
        const off = c.ring.nextResponse();
        c.ring.view.writeFrom(off, c.rsp, 0, 64);
        c.ring.view.markWritten(off, 64);
        // The slot was marked before rsp_prod (the link carries them in that order); the kick goes
        // unless the ring says none is needed and the port may elide it (frontend in this process).
        if (c.ring.pushResponsesAndCheckNotify() || !this.driver.opts.hv.mayElideKick(c.reqPort))
          this.notify(c.reqPort);
        if (flipped !== undefined) await this.flipEvent(c, req.id, flipped);
      }
    }
  }

  private traceDispl(c: DisplbackConnector, op: string, packet: object): void {
    tracer.emit({
      kind: "displif",
      op,
      domid: this.driver.opts.self ?? 0,
      peer: this.dev.otherendId,
      device: `vdispl/${this.dev.otherendId}/${this.dev.devid}`,
      connector: c.index,
      ...displifTraceFields(packet),
    });
  }

  /** EVTCHNOP_send through the data-plane port (synchronous: atomics, or a record on the link). */
  private notify(port: number): void {
    const rc = this.driver.opts.hv.kick(port);
    if (rc !== 0) this.driver.opts.log?.warn({ port, rc }, "kick failed");
  }

  private async flipEvent(c: DisplbackConnector, id: number, fbCookie: bigint): Promise<void> {
    encodeEvent({ id, type: XENDISPL_EVT_PG_FLIP, fbCookie }, c.evt);
    if (c.events.stage(c.evt) === "full") {
      c.stats.eventsDropped++;
      return;
    }
    // The staged slot was marked before in_prod (commit marks it): the link keeps that order.
    c.events.commit();
    if (tracer.mask & TRACE_DISPLIF) this.traceDispl(c, "event", { id, type: "pg_flip", fbCookie });
    c.stats.events++;
    this.notify(c.evtPort);
  }

  private async handle(
    c: DisplbackConnector,
    req: DisplifRequest,
  ): Promise<{ status: number; edidSz?: number; flipped?: bigint }> {
    switch (req.operation) {
      case XENDISPL_OP_DBUF_CREATE:
        return { status: await this.createDbuf(req) };
      case XENDISPL_OP_DBUF_DESTROY:
        if (!this.dbufs.has(req.dbufCookie)) return { status: -XenErrno.ENOENT };
        return { status: await this.destroyDbuf(req.dbufCookie) };
      case XENDISPL_OP_FB_ATTACH: {
        const st = checkFbAttach(req, this.dbufs, this.fbs);
        if (st !== 0) return { status: st };
        this.fbs.set(req.fbCookie, {
          cookie: req.fbCookie,
          dbufCookie: req.dbufCookie,
          width: req.width,
          height: req.height,
          pixelFormat: req.pixelFormat,
        });
        return { status: 0 };
      }
      case XENDISPL_OP_FB_DETACH: {
        if (!this.fbs.delete(req.fbCookie)) return { status: -XenErrno.ENOENT };
        for (const k of this.connectors) if (k.display?.fbCookie === req.fbCookie) k.display = undefined;
        return { status: 0 };
      }
      case XENDISPL_OP_SET_CONFIG: {
        const st = checkSetConfig(req, this.fbs, this.dbufs);
        if (st !== 0) return { status: st };
        if (isDisable(req)) {
          c.display = undefined;
          c.scanout.clear();
        } else
          c.display = { fbCookie: req.fbCookie, x: req.x, y: req.y, width: req.width, height: req.height };
        return { status: 0 };
      }
      case XENDISPL_OP_PG_FLIP: {
        const fb = this.fbs.get(req.fbCookie);
        if (!fb) return { status: -XenErrno.ENOENT };
        const d = this.dbufs.get(fb.dbufCookie);
        if (!d) return { status: -XenErrno.ENOENT };
        const disp = c.display;
        // Flip to a framebuffer this connector does not show: take it with the same region.
        const region = disp ?? { x: 0, y: 0, width: fb.width, height: fb.height };
        if (disp && disp.fbCookie !== fb.cookie) c.display = { ...disp, fbCookie: fb.cookie };
        const pitch = Math.ceil((d.width * d.bpp) / 8);
        c.scanout.compose(d.view, d.dataOfs, pitch, fb.pixelFormat, region, this.driver.opts.clock());
        c.stats.flips++;
        return { status: 0, flipped: fb.cookie };
      }
      case XENDISPL_OP_GET_EDID:
        return this.getEdid(c, req.bufferSz, req.grefDirectory);
    }
  }

  private async createDbuf(req: DbufCreateRequest): Promise<number> {
    const st = checkDbufCreate(req, this.dbufs, this.beAlloc, this.driver.limits);
    if (st !== 0) return st;
    const hv = this.driver.opts.hv;
    const front = this.dev.otherendId;
    const nrGrefs = bufferPages(req.bufferSz);
    const backendAlloc = (req.flags & XENDISPL_DBUF_FLG_REQ_ALLOC) !== 0;
    const dirHandles: number[] = [];
    const unmapDir = async () => {
      if (dirHandles.length > 0) await hv.gnttabUnmap(dirHandles.splice(0));
    };
    const walk = await walkDirectory({
      firstRef: req.grefDirectory,
      nrGrefs,
      readGrefs: !backendAlloc,
      mapPage: async (ref) => {
        const m = await hv.gnttabMapGrantRefs(
          front,
          [ref],
          GNTMAP_host_map | (backendAlloc ? 0 : GNTMAP_readonly),
        );
        const r = m.results[0];
        if (!r || r.status !== GNTST_okay || !m.view) return r?.status ?? GNTST_general_error;
        dirHandles.push(r.handle);
        return m.view;
      },
    });
    if (walk.status !== 0 || !("grefs" in walk)) {
      await unmapDir();
      this.log.warn(
        { cookie: String(req.dbufCookie), reason: "reason" in walk ? walk.reason : "" },
        "DBUF_CREATE refused",
      );
      return walk.status === -XenErrno.EINVAL ? -XenErrno.EINVAL : statusOfGntst(walk.status);
    }
    let dbuf: Dbuf;
    if (backendAlloc) {
      const own = await this.driver.allocGranted(nrGrefs, front);
      if (typeof own === "number") {
        await unmapDir();
        return own;
      }
      writeDirectoryGrefs(walk.pages, own.refs);
      await unmapDir();
      dbuf = { ...shape(req), view: own.view, handles: [], own: { gfns: own.gfns, refs: own.refs } };
    } else {
      await unmapDir();
      const m = await hv.gnttabMapGrantRefs(front, walk.grefs, GNTMAP_host_map | GNTMAP_readonly);
      const bad = m.results.findIndex((r) => r.status !== GNTST_okay);
      const mapped = m.results.filter((r) => r.status === GNTST_okay).map((r) => r.handle);
      if (bad >= 0 || !m.view) {
        if (mapped.length > 0) await hv.gnttabUnmap(mapped);
        this.log.warn(
          { gref: walk.grefs[bad], status: m.results[bad]?.status },
          "DBUF_CREATE: buffer page does not map",
        );
        return statusOfGntst(m.results[bad]?.status ?? GNTST_general_error);
      }
      dbuf = { ...shape(req), view: m.view, handles: mapped, own: undefined };
    }
    this.dbufs.set(req.dbufCookie, dbuf);
    this.driver.onMapped(nrGrefs);
    return 0;
  }

  /** Unmaps (or ends our grants of) a buffer and forgets its framebuffers. 0 or −XEN_Exx. */
  private async destroyDbuf(cookie: bigint): Promise<number> {
    const d = this.dbufs.get(cookie);
    if (!d) return -XenErrno.ENOENT;
    this.dbufs.delete(cookie);
    for (const [k, fb] of this.fbs)
      if (fb.dbufCookie === cookie) {
        this.fbs.delete(k);
        for (const c of this.connectors) if (c.display?.fbCookie === k) c.display = undefined;
      }
    const hv = this.driver.opts.hv;
    if (d.handles.length > 0) {
      const st = await hv.gnttabUnmap(d.handles);
      if (st.some((s) => s !== GNTST_okay)) {
        this.log.warn({ cookie: String(cookie) }, "unmapping a buffer failed");
        return -XenErrno.EIO;
      }
    }
    if (d.own) await this.driver.freeGranted(d.own.gfns, d.own.refs);
    this.driver.onMapped(-bufferPages(d.bufferSz));
    return 0;
  }

  private async getEdid(
    c: DisplbackConnector,
    bufferSz: number,
    grefDirectory: number,
  ): Promise<{ status: number; edidSz?: number }> {
    if (this.version < 2) return { status: -XenErrno.EOPNOTSUPP };
    if (bufferSz < XENDISPL_EDID_BLOCK_SIZE) return { status: -XenErrno.EINVAL };
    const hv = this.driver.opts.hv;
    const front = this.dev.otherendId;
    const handles: number[] = [];
    try {
      const walk = await walkDirectory({
        firstRef: grefDirectory,
        nrGrefs: bufferPages(bufferSz),
        mapPage: async (ref) => {
          const m = await hv.gnttabMapGrantRefs(front, [ref], GNTMAP_host_map | GNTMAP_readonly);
          const r = m.results[0];
          if (!r || r.status !== GNTST_okay || !m.view) return r?.status ?? GNTST_general_error;
          handles.push(r.handle);
          return m.view;
        },
      });
      if (!("grefs" in walk))
        return { status: walk.status === -XenErrno.EINVAL ? -XenErrno.EINVAL : statusOfGntst(walk.status) };
      const m = await hv.gnttabMapGrantRefs(front, walk.grefs.slice(0, 1), GNTMAP_host_map);
      const r = m.results[0];
      if (!r || r.status !== GNTST_okay || !m.view)
        return { status: statusOfGntst(r?.status ?? GNTST_general_error) };
      handles.push(r.handle);
      const edid = edidBlock(c.scanout.width, c.scanout.height, c.uniqueId || "xensim");
      m.view.writeFrom(0, edid);
      m.view.markWritten(0, edid.length);
      return { status: 0, edidSz: edid.length };
    } finally {
      if (handles.length > 0) await hv.gnttabUnmap(handles);
    }
  }

  /** A crash of the backend: stop serving, touch neither xenstore nor the mappings. */
  abandon(): void {
    this.closed = true;
    for (const c of this.connectors) c.halted = true;
  }

  /** The device went away (directory removed) or the driver stops. */
  async close(): Promise<void> {
    await this.enqueue(async () => {
      await this.unmapChannels();
      this.closed = true;
    });
  }
}

function shape(req: DbufCreateRequest) {
  return {
    cookie: req.dbufCookie,
    width: req.width,
    height: req.height,
    bpp: req.bpp,
    bufferSz: req.bufferSz,
    dataOfs: req.dataOfs,
  };
}

export class DisplbackDriver {
  readonly log: DriverLogger;
  readonly vcpu: number;
  readonly versions: readonly number[];
  readonly limits: DisplbackLimits;
  private probe: XenbusProbe<MemView> | undefined;
  private receiver: DisplbackEventReceiver | undefined;
  private readonly byNode = new Map<string, DisplbackDevice>();
  private readonly ports = new PortDispatcher();
  private readonly refs: GrantRefPool;
  private nextGfn: number;
  private readonly endGfn: number;
  private readonly freeGfns: number[] = [];
  private grantFrames = 0;
  private deferred: { refs: number[]; gfns: number[] }[] = [];
  private retryArmed = false;
  private retryHandle: unknown;
  private stopped = false;
  /** Buffer pages currently mapped or granted (frontend and backend allocation). */
  bufferPagesInUse = 0;

  private constructor(readonly opts: DisplbackDriverOptions) {
    this.log = opts.log ?? NULL_LOGGER;
    this.vcpu = opts.vcpu ?? DISPLBACK_VCPU;
    this.versions = opts.versions ?? DISPLIF_VERSIONS;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.refs = new GrantRefPool(opts.grantRefCount ?? 16384, opts.grantRefFirst ?? 16384);
    this.nextGfn = opts.allocFirstGfn ?? 0x180000;
    this.endGfn = this.nextGfn + (opts.allocMaxPages ?? 65536);
  }

  static async start(opts: DisplbackDriverOptions): Promise<DisplbackDriver> {
    const d = new DisplbackDriver(opts);
    const handler = (port: number): void => void d.ports.dispatch(port);
    d.receiver = opts.receiver
      ? opts.receiver(handler)
      : opts.hv.waitForEvents(opts.self ?? 0, handler, { vcpu: d.vcpu, onError: (e) => d.reportError(e) });
    try {
      d.probe = await XenbusProbe.start<MemView>({
        store: opts.store,
        hypervisor: opts.hv,
        self: opts.self ?? 0,
        side: "backend",
        type: "vdispl",
        onlyInitialising: opts.takeOver === false,
        onAdded: async (dev) => {
          const bd = new DisplbackDevice(d, dev);
          d.byNode.set(dev.nodename, bd);
          d.log.info({ nodename: dev.nodename, frontend: dev.otherendId }, "vdispl added");
          await bd.send({ kind: "probed" });
        },
        otherendChanged: (dev, state) => d.byNode.get(dev.nodename)?.otherendChanged(state),
        onRemoved: async (dev) => {
          const bd = d.byNode.get(dev.nodename);
          d.byNode.delete(dev.nodename);
          d.log.info({ nodename: dev.nodename }, "vdispl removed");
          await bd?.close();
        },
        onError: (e) => d.reportError(e),
        log: (line) => d.log.warn({}, line),
      });
    } catch (e) {
      d.receiver.close();
      throw e;
    }
    return d;
  }

  get devices(): ReadonlyMap<string, DisplbackDevice> {
    return this.byNode;
  }

  /** Every connector of every connected device. */
  screens(): DisplbackScreen[] {
    const out: DisplbackScreen[] = [];
    for (const d of this.byNode.values())
      for (const c of d.connectors)
        out.push({
          frontend: d.frontend,
          devid: d.dev.devid,
          connector: c.index,
          uniqueId: c.uniqueId,
          width: c.scanout.width,
          height: c.scanout.height,
          frames: c.scanout.frames,
          lastFlipAt: c.scanout.lastFlipAt,
          scanout: c.scanout,
        });
    return out;
  }

  screen(frontend: number, devid: string, connector: number): DisplbackScreen | undefined {
    return this.screens().find(
      (s) => s.frontend === frontend && s.devid === devid && s.connector === connector,
    );
  }

  async settled(): Promise<void> {
    await this.probe?.settled();
    for (const d of this.byNode.values()) await d.settled();
  }

  reportError(e: unknown): void {
    if (this.opts.onError) this.opts.onError(e);
    else this.log.error({ err: e }, "displback error");
  }

  registerPort(port: number, fn: () => void): void {
    this.ports.on(port, fn);
  }
  unregisterPort(port: number): void {
    this.ports.off(port);
  }
  onMapped(pages: number): void {
    this.bufferPagesInUse += pages;
  }

  /** be-alloc: `n` of our pages (not necessarily adjacent), each granted writable to `front`. */
  async allocGranted(
    n: number,
    front: number,
  ): Promise<{ gfns: number[]; refs: number[]; view: MemView } | number> {
    const hv = this.opts.hv;
    const gfns: number[] = this.freeGfns.splice(Math.max(0, this.freeGfns.length - n));
    const fresh = n - gfns.length;
    if (fresh > 0) {
      if (this.nextGfn + fresh > this.endGfn) {
        this.freeGfns.push(...gfns);
        return -XenErrno.ENOMEM;
      }
      const r = await hv.memoryPopulatePhysmap(this.opts.self ?? 0, this.nextGfn, fresh);
      if (r.rc !== 0) {
        this.freeGfns.push(...gfns);
        return -XenErrno.ENOMEM;
      }
      for (let i = 0; i < fresh; i++) gfns.push(this.nextGfn + i);
      this.nextGfn += fresh;
    }
    const refs = this.refs.alloc(n);
    if (!refs) {
      this.freeGfns.push(...gfns);
      return -XenErrno.ENOSPC;
    }
    const last = refs.reduce((a, b) => Math.max(a, b), 0);
    const frames = Math.floor(last / 512) + 1;
    if (frames > this.grantFrames && hv.gnttabSetupTable) {
      const t = await hv.gnttabSetupTable(this.opts.self ?? 0, frames);
      if (t.status === 0) this.grantFrames = frames;
    }
    for (let i = 0; i < n; i++) {
      const rc = await hv.gnttabGrantAccess(refs[i]!, front, gfns[i]!, false);
      if (rc !== 0) {
        for (let j = 0; j < i; j++) await hv.gnttabEndAccess(refs[j]!);
        this.refs.free(refs);
        this.freeGfns.push(...gfns);
        return -XenErrno.ENOSPC;
      }
    }
    const view = await hv.mapForeignPages(this.opts.self ?? 0, gfns);
    if (typeof view === "number") {
      await this.freeGranted(gfns, refs);
      return -XenErrno.ENOMEM;
    }
    return { gfns, refs, view };
  }

  /** Ends our grants of a be-alloc buffer; refs the frontend still maps wait on a retry list. */
  async freeGranted(gfns: number[], refs: number[]): Promise<void> {
    const busy: number[] = [];
    for (const r of refs) if (!(await this.opts.hv.gnttabEndAccess(r))) busy.push(r);
    this.refs.free(refs.filter((r) => !busy.includes(r)));
    if (busy.length === 0) this.freeGfns.push(...gfns);
    else {
      this.log.warn({ refs: busy.length }, "frontend still maps backend-allocated pages: deferring");
      this.deferred.push({ refs: busy, gfns });
      this.armRetry();
    }
  }

  /** Grants still mapped by a frontend (be-alloc buffers destroyed while mapped). */
  get deferredGrants(): number {
    return this.deferred.reduce((n, d) => n + d.refs.length, 0);
  }

  private armRetry(): void {
    const t = this.opts.timer;
    if (!t || this.retryArmed || this.stopped) return;
    this.retryArmed = true;
    this.retryHandle = t.setTimeout(() => {
      this.retryArmed = false;
      void this.retryDeferred();
    }, 1000);
  }

  async retryDeferred(): Promise<void> {
    const list = this.deferred;
    this.deferred = [];
    for (const d of list) {
      const still: number[] = [];
      for (const r of d.refs) if (!(await this.opts.hv.gnttabEndAccess(r))) still.push(r);
      this.refs.free(d.refs.filter((r) => !still.includes(r)));
      if (still.length === 0) this.freeGfns.push(...d.gfns);
      else this.deferred.push({ refs: still, gfns: d.gfns });
    }
    if (this.deferred.length > 0) this.armRetry();
  }

  /**
   * A crashed backend (tests, fault injection): stops receiving events and watching xenstore
   * without closing anything; its mappings stay where they are, as with a killed process.
   */
  abandon(): void {
    this.stopped = true;
    if (this.retryArmed) this.opts.timer?.clearTimeout(this.retryHandle);
    for (const d of this.byNode.values()) d.abandon();
    this.byNode.clear();
    this.ports.clear();
    const p = this.probe;
    this.probe = undefined;
    void p?.close().catch(() => {});
    this.receiver?.close();
    this.receiver = undefined;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryArmed) this.opts.timer?.clearTimeout(this.retryHandle);
    const p = this.probe;
    this.probe = undefined;
    const devs = [...this.byNode.values()];
    this.byNode.clear();
    for (const d of devs) await d.close();
    await p?.close();
    this.receiver?.close();
    this.receiver = undefined;
  }
}

/** A device directory as relative path → value, with one level of `<idx>/` subdirectories. */
export async function readDeviceDirectory(store: XenbusStoreOps, dir: string): Promise<XenstoreValues> {
  const out: Record<string, string> = {};
  let names: string[];
  try {
    names = await lsOrEmpty(store, dir);
  } catch (e) {
    const code = xsErrorCode(e);
    if (code === "EACCES" || code === "ENOENT") return out;
    throw e;
  }
  for (const k of names) {
    const v = await store.tryRead(`${dir}/${k}`);
    if (v !== undefined && v !== "") out[k] = v;
    if (/^[0-9]+$/.test(k))
      for (const k2 of await lsOrEmpty(store, `${dir}/${k}`)) {
        const v2 = await store.tryRead(`${dir}/${k}/${k2}`);
        if (v2 !== undefined) out[`${k}/${k2}`] = v2;
      }
  }
  return out;
}

export const DISPLBACK_PAGE_BYTES = XEN_PAGE_SIZE;
