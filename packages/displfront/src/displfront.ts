// The displfront driver core (as Linux drm/xen-front without CMA): runs the displif frontend
// reducer and executes its effects (a request ring and an event page per connector, granted, with
// two event channels each), and offers the display operations over connector rings: display
// buffers made of ordinary guest pages — allocated one by one, so not contiguous — each granted on
// its own and listed in a page-directory chain (or, under be-alloc, pages the backend allocates and
// grants back through the directory), framebuffers, SET_CONFIG, PG_FLIP completed by the flip event
// on the event page, GET_EDID. After a backend fault the device sits in Reconfiguring while this
// driver releases every buffer, then starts over.
import {
  GNTMAP_host_map,
  GNTST_okay,
  XEN_PAGE_SIZE,
  XenbusState,
  XENDISPL_DBUF_FLG_REQ_ALLOC,
  XENDISPL_EDID_MAX_SIZE,
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
  xenErrnoName,
} from "@xensim/abi";
import {
  bufferPages,
  type ConnectorChannels,
  decodeEvent,
  decodeResponse,
  directoryPages,
  type DisplfrontEffect,
  type DisplfrontEvent,
  displfrontReduce,
  type DisplfrontState,
  type DisplifConnection,
  type DisplifRequest,
  type DisplifResponse,
  DRM_FORMAT,
  encodeRequest,
  EventPageConsumer,
  fillDirectory,
  initialDisplfrontState,
  pixelFormatBpp,
  readDirectoryPage,
  type XenstoreValues,
  decodeRequest as decodeDisplifRequest,
  displifTraceFields,
} from "@xensim/displif";
import { TRACE_DISPLIF, tracer } from "@xensim/trace";
import type { MemView } from "@xensim/memory";
import { FrontRing } from "@xensim/ring";
import {
  errnoOf,
  type GrantRefAllocator,
  GrantRefPool,
  lsOrEmpty,
  XenbusDevice,
  type XenbusStore,
  xsErrorCode,
  type DriverLogger,
  NULL_LOGGER,
} from "@xensim/xenbus";
import {
  type DisplfrontEvents,
  type DisplfrontHypervisor,
  type DisplfrontTimer,
  type GuestMemory,
} from "./environment.js";

export interface DisplfrontOptions {
  readonly store: XenbusStore;
  readonly self: number;
  readonly nodename: string;
  readonly hypervisor: DisplfrontHypervisor;
  readonly memory: GuestMemory;
  readonly events: DisplfrontEvents;
  /** The domain's grant refs (default: a pool of this device's own). */
  readonly grantRefs?: GrantRefAllocator;
  /** Protocol versions we speak (default 1,2). */
  readonly versions?: readonly number[];
  readonly timer?: DisplfrontTimer;
  readonly log?: DriverLogger;
  /** Start over after a backend fault (default true). */
  readonly autoReconnect?: boolean;
}

/** A display buffer (DBUF_CREATE): its pages, their grants and a view over them. */
export interface DisplayBuffer {
  readonly cookie: bigint;
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
  /** Bytes per line. */
  readonly pitch: number;
  readonly bufferSz: number;
  /** The backend allocated the pages (be-alloc) and we map its grants. */
  readonly backendAllocated: boolean;
  /** Our pages of the buffer, in buffer order (empty for backend allocation). */
  readonly gfns: readonly number[];
  /** The buffer's bytes (our pages, or the backend's mapped). */
  readonly view: MemView;
  /** The connection the buffer belongs to (stale after a reconnect). */
  readonly generation: number;
}

export interface Framebuffer {
  readonly cookie: bigint;
  readonly buffer: DisplayBuffer;
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: number;
}

/** A request the backend refused (status is −XEN_Exx), or the device went away (−EIO). */
export class DisplfrontError extends Error {
  override readonly name = "DisplfrontError";
  /** Xen's errno name of the backend's (negative) status. */
  readonly code: string;
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.code = xenErrnoName(-status) ?? `status ${status}`;
  }
}

export type DisplfrontNotice =
  | { readonly kind: "connected"; readonly connection: DisplifConnection }
  | { readonly kind: "disconnected" }
  | { readonly kind: "error"; readonly err: number; readonly msg: string }
  | { readonly kind: "closed" };

export interface DisplfrontStats {
  requests: number;
  errors: number;
  flips: number;
  /** Flip events received. */
  events: number;
  /** Events lost because the backend ran more than 63 ahead of in_cons. */
  eventsOverrun: number;
  /** Grants the backend still mapped when we ended them (kept aside, retried). */
  grantsDeferred: number;
  connects: number;
}

interface Pending {
  resolve(rsp: DisplifResponse): void;
}

/** One connector's transport. */
class Channel {
  readonly pending = new Map<number, Pending>();
  readonly waiting: { bytes: Uint8Array; id: number }[] = [];
  readonly flipWaiters = new Map<bigint, ((status: number) => void)[]>();
  nextId = 0;
  readonly rsp = new Uint8Array(64);
  unbind: (() => void)[] = [];
  dead = false;
  constructor(
    readonly index: number,
    readonly ring: FrontRing,
    readonly events: EventPageConsumer,
    readonly gfns: readonly number[],
    readonly refs: readonly number[],
    readonly reqPort: number,
    readonly evtPort: number,
  ) {}
}

interface BufferRecord {
  readonly buffer: DisplayBuffer;
  /** Our refs: data pages (frontend allocation) then directory pages. */
  readonly refs: number[];
  /** Our pages: data (frontend allocation) then directory pages. */
  readonly gfns: number[];
  /** Map handles of the backend's pages (be-alloc). */
  readonly handles: number[];
}

export class Displfront {
  readonly dev: XenbusDevice<MemView>;
  readonly stats: DisplfrontStats = {
    requests: 0,
    errors: 0,
    flips: 0,
    events: 0,
    eventsOverrun: 0,
    grantsDeferred: 0,
    connects: 0,
  };
  private readonly hv: DisplfrontHypervisor;
  private readonly memory: GuestMemory;
  private readonly events: DisplfrontEvents;
  private readonly refs: GrantRefAllocator;
  private readonly log: DriverLogger;
  private readonly timer: DisplfrontTimer | undefined;
  private readonly autoReconnect: boolean;
  private handshakeState: DisplfrontState;
  private chain: Promise<unknown> = Promise.resolve();
  private channels: Channel[] = [];
  private connection: DisplifConnection | undefined;
  private readonly buffers = new Map<bigint, BufferRecord>();
  private readonly framebuffers = new Map<bigint, Framebuffer>();
  private nextCookie = 1n;
  private grantFrames = 1;
  private generation = 0;
  private closedFlag = false;
  private readonly listeners = new Set<(n: DisplfrontNotice) => void>();
  private deferred: { refs: number[]; gfns: number[] }[] = [];
  private retryArmed = false;
  private retryHandle: unknown;

  private constructor(dev: XenbusDevice<MemView>, opts: DisplfrontOptions) {
    this.dev = dev;
    this.hv = opts.hypervisor;
    this.memory = opts.memory;
    this.events = opts.events;
    this.refs = opts.grantRefs ?? new GrantRefPool(16384 - 8);
    this.log = opts.log ?? NULL_LOGGER;
    this.timer = opts.timer;
    this.autoReconnect = opts.autoReconnect ?? true;
    this.handshakeState = initialDisplfrontState(opts.versions);
  }

  static async open(opts: DisplfrontOptions): Promise<Displfront> {
    const dev = await XenbusDevice.open<MemView>({
      store: opts.store,
      self: opts.self,
      side: "frontend",
      nodename: opts.nodename,
      hypervisor: opts.hypervisor,
    });
    const f = new Displfront(dev, opts);
    if (dev.state !== XenbusState.Initialising) await dev.switchState(XenbusState.Initialising);
    dev.onOtherendChanged = (state) => f.run(() => f.backendChanged(state));
    await dev.watchOtherend();
    return f;
  }

  // ---- public surface ----------------------------------------------------------------------------

  get handshake(): DisplfrontState {
    return this.handshakeState;
  }
  get isConnected(): boolean {
    return this.connection !== undefined;
  }
  /** The connectors as configured (resolution, unique-id), while connected. */
  get connectors(): DisplifConnection["connectors"] {
    return this.connection?.connectors ?? [];
  }
  get version(): number {
    return this.connection?.version ?? 0;
  }
  get beAlloc(): boolean {
    return this.connection?.beAlloc ?? false;
  }
  /** Grants still waiting to be ended (the backend maps them). */
  get deferredGrants(): number {
    return this.deferred.reduce((n, d) => n + d.refs.length, 0);
  }
  /** Buffers alive on the current connection. */
  get bufferCount(): number {
    return this.buffers.size;
  }

  subscribe(fn: (n: DisplfrontNotice) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  whenConnected(): Promise<DisplifConnection> {
    if (this.connection) return Promise.resolve(this.connection);
    return new Promise((resolve, reject) => {
      const off = this.subscribe((n) => {
        if (n.kind === "connected") {
          off();
          resolve(n.connection);
        } else if (n.kind === "error" || n.kind === "closed") {
          off();
          reject(new Error(n.kind === "error" ? n.msg : "closed"));
        }
      });
    });
  }

  /** Sends one request on `connector`'s ring and resolves with the response (−EIO if the device goes). */
  request(connector: number, req: DistributiveOmit<DisplifRequest, "id">): Promise<DisplifResponse> {
    const ch = this.channels[connector];
    if (!ch || ch.dead || !this.connection)
      return Promise.resolve({ id: 0, operation: req.operation, status: -XenErrno.EIO });
    const id = ch.nextId;
    ch.nextId = (ch.nextId + 1) & 0xffff;
    const bytes = encodeRequest({ ...req, id } as DisplifRequest);
    this.stats.requests++;
    return new Promise((resolve) => {
      ch.pending.set(id, {
        resolve: (rsp) => {
          if (rsp.status !== 0) this.stats.errors++;
          resolve(rsp);
        },
      });
      ch.waiting.push({ bytes, id });
      this.pushWaiting(ch);
    });
  }

  /**
   * A display buffer of `width`×`height` at `bpp`: frontend allocation takes the pages one by one
   * from the guest's allocator (as drm/xen-front without CMA: any page will do), grants each, and
   * fills the directory; `backendAlloc` asks the backend for the pages (needs be-alloc).
   */
  async createBuffer(options: {
    width: number;
    height: number;
    bpp?: number;
    backendAlloc?: boolean;
  }): Promise<DisplayBuffer> {
    const bpp = options.bpp ?? 32;
    const pitch = Math.ceil((options.width * bpp) / 8);
    const bufferSz = pitch * options.height;
    const nData = bufferPages(bufferSz);
    const backendAlloc = options.backendAlloc ?? false;
    const cookie = this.nextCookie++;
    const generation = this.generation;
    const rec = { refs: [] as number[], gfns: [] as number[], handles: [] as number[] };
    try {
      let dataView: MemView | undefined;
      if (!backendAlloc) {
        const pages = await this.allocScattered(nData);
        rec.gfns.push(...pages);
        const refs = await this.grantPages(pages, false);
        rec.refs.push(...refs);
        const v = await this.hv.mapForeignPages(this.dev.self, pages);
        if (typeof v === "number") throw new DisplfrontError(v, "mapping our buffer pages");
        dataView = v;
      }
      const nDir = directoryPages(nData);
      const dir = await this.allocScattered(nDir);
      rec.gfns.push(...dir);
      const dirViews: MemView[] = [];
      for (const g of dir) {
        const v = await this.hv.mapForeignPages(this.dev.self, [g]);
        if (typeof v === "number") throw new DisplfrontError(v, "mapping a directory page");
        dirViews.push(v);
      }
      const dirRefs = this.takeRefs(nDir);
      rec.refs.push(...dirRefs);
      fillDirectory(dirViews, dirRefs, nData, backendAlloc ? undefined : rec.refs.slice(0, nData));
      for (let i = 0; i < nDir; i++) {
        const rc = await this.grant(dirRefs[i]!, dir[i]!, !backendAlloc);
        if (rc !== 0) throw new DisplfrontError(rc, "granting a directory page");
      }
      const rsp = await this.request(0, {
        operation: XENDISPL_OP_DBUF_CREATE,
        dbufCookie: cookie,
        width: options.width,
        height: options.height,
        bpp,
        bufferSz,
        flags: backendAlloc ? XENDISPL_DBUF_FLG_REQ_ALLOC : 0,
        grefDirectory: dirRefs[0]!,
        dataOfs: 0,
      });
      if (rsp.status !== 0)
        throw new DisplfrontError(rsp.status, `DBUF_CREATE ${options.width}x${options.height}`);
      if (backendAlloc) {
        const grefs: number[] = [];
        for (let p = 0; p < nDir; p++)
          readDirectoryPage(dirViews[p]!, Math.min(1023, nData - p * 1023), grefs);
        const m = await this.hv.gnttabMapGrantRefs(this.dev.otherendId, grefs, GNTMAP_host_map);
        const mapped = m.results.filter((r) => r.status === GNTST_okay).map((r) => r.handle);
        rec.handles.push(...mapped);
        if (mapped.length !== grefs.length || !m.view) {
          await this.request(0, { operation: XENDISPL_OP_DBUF_DESTROY, dbufCookie: cookie });
          throw new DisplfrontError(-XenErrno.EINVAL, "mapping the backend's buffer pages");
        }
        dataView = m.view;
      }
      const buffer: DisplayBuffer = {
        cookie,
        width: options.width,
        height: options.height,
        bpp,
        pitch,
        bufferSz,
        backendAllocated: backendAlloc,
        gfns: backendAlloc ? [] : rec.gfns.slice(0, nData),
        view: dataView!,
        generation,
      };
      this.buffers.set(cookie, { buffer, ...rec });
      return buffer;
    } catch (e) {
      await this.release(rec);
      throw e;
    }
  }

  /** DBUF_DESTROY, then our grants ended and pages freed (the backend unmapped them first). */
  async destroyBuffer(buf: DisplayBuffer): Promise<number> {
    const rec = this.buffers.get(buf.cookie);
    if (!rec) return -XenErrno.ENOENT;
    this.buffers.delete(buf.cookie);
    for (const [k, fb] of this.framebuffers) if (fb.buffer.cookie === buf.cookie) this.framebuffers.delete(k);
    if (rec.handles.length > 0) await this.hv.gnttabUnmap(rec.handles.splice(0));
    const rsp = await this.request(0, { operation: XENDISPL_OP_DBUF_DESTROY, dbufCookie: buf.cookie });
    await this.release(rec);
    return rsp.status;
  }

  async attachFramebuffer(
    buf: DisplayBuffer,
    pixelFormat: number = DRM_FORMAT.XRGB8888,
  ): Promise<Framebuffer> {
    const cookie = this.nextCookie++;
    const rsp = await this.request(0, {
      operation: XENDISPL_OP_FB_ATTACH,
      dbufCookie: buf.cookie,
      fbCookie: cookie,
      width: buf.width,
      height: buf.height,
      pixelFormat,
    });
    if (rsp.status !== 0) throw new DisplfrontError(rsp.status, "FB_ATTACH");
    const fb: Framebuffer = { cookie, buffer: buf, width: buf.width, height: buf.height, pixelFormat };
    this.framebuffers.set(cookie, fb);
    return fb;
  }

  async detachFramebuffer(fb: Framebuffer): Promise<number> {
    this.framebuffers.delete(fb.cookie);
    return (await this.request(0, { operation: XENDISPL_OP_FB_DETACH, fbCookie: fb.cookie })).status;
  }

  /** SET_CONFIG on `connector`: show `fb` (its top-left, the connector's size), or disable. */
  async setConfig(
    connector: number,
    fb: Framebuffer | undefined,
    region?: { x: number; y: number; width: number; height: number },
  ): Promise<number> {
    const c = this.connectors[connector];
    const r = fb
      ? (region ?? {
          x: 0,
          y: 0,
          width: Math.min(fb.width, c?.width ?? fb.width),
          height: Math.min(fb.height, c?.height ?? fb.height),
        })
      : { x: 0, y: 0, width: 0, height: 0 };
    const bpp = fb ? (pixelFormatBpp(fb.pixelFormat) ?? 32) : 0;
    return (
      await this.request(connector, {
        operation: XENDISPL_OP_SET_CONFIG,
        fbCookie: fb?.cookie ?? 0n,
        ...r,
        bpp,
      })
    ).status;
  }

  /**
   * PG_FLIP on `connector`: resolves once the backend's response and then its flip event for `fb`
   * arrived (status 0), or with the refusing status (no event is awaited then), or −EIO if the
   * device disconnects meanwhile.
   */
  async pageFlip(connector: number, fb: Framebuffer | bigint): Promise<number> {
    const cookie = typeof fb === "bigint" ? fb : fb.cookie;
    const ch = this.channels[connector];
    if (!ch) return -XenErrno.EIO;
    let done: (status: number) => void = () => {};
    const event = new Promise<number>((r) => (done = r));
    const list = ch.flipWaiters.get(cookie) ?? [];
    list.push(done);
    ch.flipWaiters.set(cookie, list);
    const rsp = await this.request(connector, { operation: XENDISPL_OP_PG_FLIP, fbCookie: cookie });
    if (rsp.status !== 0) {
      const l = ch.flipWaiters.get(cookie);
      const i = l?.indexOf(done) ?? -1;
      if (l && i >= 0) l.splice(i, 1);
      return rsp.status;
    }
    this.stats.flips++;
    return event;
  }

  /** GET_EDID on `connector` (version ≥ 2): a 32 KiB buffer granted through a directory. */
  async getEdid(connector: number): Promise<Uint8Array> {
    const n = bufferPages(XENDISPL_EDID_MAX_SIZE);
    const rec = { refs: [] as number[], gfns: [] as number[], handles: [] as number[] };
    try {
      const pages = await this.allocScattered(n);
      rec.gfns.push(...pages);
      rec.refs.push(...(await this.grantPages(pages, false)));
      const dir = await this.allocScattered(1);
      rec.gfns.push(...dir);
      const dirView = await this.hv.mapForeignPages(this.dev.self, dir);
      if (typeof dirView === "number") throw new DisplfrontError(dirView, "mapping the directory");
      const [dirRef] = this.takeRefs(1);
      rec.refs.push(dirRef!);
      fillDirectory([dirView], [dirRef!], n, rec.refs.slice(0, n));
      const rc = await this.grant(dirRef!, dir[0]!, true);
      if (rc !== 0) throw new DisplfrontError(rc, "granting the directory");
      const rsp = await this.request(connector, {
        operation: XENDISPL_OP_GET_EDID,
        bufferSz: XENDISPL_EDID_MAX_SIZE,
        grefDirectory: dirRef!,
      });
      if (rsp.status !== 0) throw new DisplfrontError(rsp.status, "GET_EDID");
      const size = Math.min(rsp.edidSz ?? 0, XENDISPL_EDID_MAX_SIZE);
      const v = await this.hv.mapForeignPages(this.dev.self, pages);
      if (typeof v === "number") throw new DisplfrontError(v, "mapping the EDID buffer");
      return v.read(0, size);
    } finally {
      await this.release(rec);
    }
  }

  /** Closes the device (Closing → Closed once the backend follows). */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    await this.run(() => this.step({ kind: "closeRequested" }));
    await this.until(() => this.handshakeState.state === XenbusState.Closed, 5000);
    await this.run(async () => {
      await this.releaseAll();
      await this.freeChannels();
    });
    await this.dev.close();
    this.closedFlag = true;
    // Grants the backend still maps stay out of the allocator (leaked, as Linux without its retry).
    if (this.retryArmed && this.timer) this.timer.clearTimeout(this.retryHandle);
    this.retryArmed = false;
    this.notice({ kind: "closed" });
  }

  /**
   * The domain is gone (destroyed, or its kernel stopped elsewhere): stop everything without
   * talking to xenstore or the hypervisor (nobody would answer).
   */
  abandon(): void {
    this.closedFlag = true;
    if (this.retryArmed && this.timer) this.timer.clearTimeout(this.retryHandle);
    this.retryArmed = false;
    for (const ch of this.channels) {
      this.failChannel(ch);
      for (const u of ch.unbind) u();
    }
    this.channels = [];
    this.connection = undefined;
    this.dev.onOtherendChanged = undefined;
    void this.dev.close().catch(() => {});
  }

  /** One retry round over grants the backend still mapped. */
  async retryDeferred(): Promise<void> {
    const list = this.deferred;
    this.deferred = [];
    for (const d of list) {
      const still: number[] = [];
      for (const r of d.refs) if (!(await this.hv.gnttabEndAccess(r))) still.push(r);
      this.refs.free(d.refs.filter((r) => !still.includes(r)));
      this.stats.grantsDeferred -= d.refs.length - still.length;
      if (still.length === 0) this.memory.freePages(d.gfns);
      else this.deferred.push({ refs: still, gfns: d.gfns });
    }
    this.armRetry();
  }

  // ---- handshake -------------------------------------------------------------------------------

  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(async (e: unknown) => {
      this.log.error({ err: String(e) }, "displfront handshake step failed");
      await this.dev.devFatal(errnoOf(e), "displfront: %s", String(e)).catch(() => {});
    });
    return p;
  }

  private async readKeys(dir: string): Promise<XenstoreValues> {
    const out: Record<string, string> = {};
    let names: string[];
    try {
      names = await lsOrEmpty(this.dev.store, dir);
    } catch (e) {
      const code = xsErrorCode(e);
      if (code === "EACCES" || code === "ENOENT") return out;
      throw e;
    }
    for (const k of names) {
      const v = await this.dev.store.tryRead(`${dir}/${k}`);
      if (v !== undefined && v !== "") out[k] = v;
      if (/^[0-9]+$/.test(k))
        for (const k2 of await lsOrEmpty(this.dev.store, `${dir}/${k}`)) {
          const v2 = await this.dev.store.tryRead(`${dir}/${k}/${k2}`);
          if (v2 !== undefined) out[`${k}/${k2}`] = v2;
        }
    }
    return out;
  }

  private async backendChanged(state: XenbusState): Promise<void> {
    if (this.closedFlag) return;
    const backendKeys = await this.readKeys(this.dev.otherend);
    const frontendKeys = await this.readKeys(this.dev.nodename);
    await this.step({ kind: "backendChanged", state, backendKeys, frontendKeys });
  }

  private async step(ev: DisplfrontEvent): Promise<void> {
    const r = displfrontReduce(this.handshakeState, ev);
    this.handshakeState = r.state;
    for (const e of r.effects) await this.execute(e);
  }

  private async execute(e: DisplfrontEffect): Promise<void> {
    const dev = this.dev;
    switch (e.kind) {
      case "write":
        await dev.write(e.path, e.value);
        return;
      case "remove":
        await dev.store.rm(dev.path(e.path));
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
        this.log.error({ err: e.err }, e.msg);
        await dev.devError(-e.err, "%s", e.msg);
        this.notice({ kind: "error", err: e.err, msg: e.msg });
        return;
      case "allocChannels":
        await this.allocChannels(e.nrConnectors);
        return;
      case "freeChannels":
        await this.freeChannels();
        return;
      case "connected":
        this.connection = e.connection;
        this.stats.connects++;
        this.log.info(
          { connectors: e.connection.connectors.length, version: e.connection.version },
          "connected",
        );
        this.notice({ kind: "connected", connection: e.connection });
        return;
      case "disconnected":
        await this.disconnected();
        return;
    }
  }

  /** The backend faulted: fail what is outstanding, release every buffer, then deviceReleased. */
  private async disconnected(): Promise<void> {
    this.connection = undefined;
    this.generation++;
    for (const ch of this.channels) this.failChannel(ch);
    this.notice({ kind: "disconnected" });
    await this.releaseAll();
    if (this.handshakeState.phase === "reconfiguring" && this.autoReconnect) {
      // Queue it: the current step's remaining effects run first.
      void this.run(() => this.step({ kind: "deviceReleased" }));
    }
  }

  private async releaseAll(): Promise<void> {
    this.framebuffers.clear();
    const recs = [...this.buffers.values()];
    this.buffers.clear();
    for (const rec of recs) {
      if (rec.handles.length > 0) await this.hv.gnttabUnmap(rec.handles.splice(0));
      await this.release(rec);
    }
  }

  private failChannel(ch: Channel): void {
    ch.dead = true;
    const rsp = (id: number) => ({ id, operation: 0, status: -XenErrno.EIO });
    for (const [id, p] of ch.pending) p.resolve(rsp(id));
    ch.pending.clear();
    ch.waiting.length = 0;
    for (const l of ch.flipWaiters.values()) for (const w of l) w(-XenErrno.EIO);
    ch.flipWaiters.clear();
  }

  private async allocChannels(n: number): Promise<void> {
    const made: Channel[] = [];
    const channels: ConnectorChannels[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const pages = await this.allocScattered(2);
        const refs = await this.grantPages(pages, false).catch(async (e: unknown) => {
          this.memory.freePages(pages);
          throw e;
        });
        const reqView = await this.hv.mapForeignPages(this.dev.self, [pages[0]!]);
        const evtView = await this.hv.mapForeignPages(this.dev.self, [pages[1]!]);
        if (typeof reqView === "number" || typeof evtView === "number")
          throw new DisplfrontError(-XenErrno.ENOMEM, "mapping channel pages");
        const ring = FrontRing.init(reqView, XENDISPL_RING_ENTRY_BYTES);
        const consumer = new EventPageConsumer(evtView);
        consumer.init();
        const rp = await this.hv.evtchnAllocUnbound(this.dev.self, this.dev.otherendId);
        const ep = await this.hv.evtchnAllocUnbound(this.dev.self, this.dev.otherendId);
        if (rp.rc !== 0 || ep.rc !== 0)
          throw new DisplfrontError(rp.rc || ep.rc, "allocating event channels");
        const ch = new Channel(i, ring, consumer, pages, refs, rp.port, ep.port);
        ch.unbind.push(this.events.on(rp.port, () => this.responses(ch)));
        ch.unbind.push(this.events.on(ep.port, () => this.eventPage(ch)));
        made.push(ch);
        channels.push({
          reqRingRef: refs[0]!,
          reqEventChannel: rp.port,
          evtRingRef: refs[1]!,
          evtEventChannel: ep.port,
        });
      }
    } catch (e) {
      this.channels = made;
      await this.freeChannels();
      await this.step({ kind: "channelsAllocFailed", err: XenErrno.ENOMEM, msg: String(e) });
      return;
    }
    this.channels = made;
    await this.step({ kind: "channelsAllocated", channels });
  }

  private async freeChannels(): Promise<void> {
    const chs = this.channels;
    this.channels = [];
    for (const ch of chs) {
      this.failChannel(ch);
      for (const u of ch.unbind) u();
      await this.hv.evtchnClose(ch.reqPort);
      await this.hv.evtchnClose(ch.evtPort);
      await this.release({ refs: [...ch.refs], gfns: [...ch.gfns], handles: [] });
    }
  }

  // ---- data path ---------------------------------------------------------------------------------

  private pushWaiting(ch: Channel): void {
    let pushed = false;
    while (ch.waiting.length > 0 && !ch.ring.full()) {
      const w = ch.waiting.shift()!;
      const off = ch.ring.nextRequest();
      ch.ring.view.writeFrom(off, w.bytes, 0, 64);
      ch.ring.view.markWritten(off, 64);
      if (tracer.mask & TRACE_DISPLIF) this.traceDispl(ch, "request", decodeDisplifRequest(w.bytes));
      pushed = true;
    }
    if (!pushed) return;
    this.push(ch);
  }

  /**
   * Pushes the slots written (marked before req_prod, so a backend in another host process gets
   * them first) and kicks unless the ring says no kick is needed and the port may elide it (the
   * backend receives in this host process; across host processes req_event here may be stale).
   */
  private push(ch: Channel): void {
    const notify = ch.ring.pushRequestsAndCheckNotify();
    if (!notify && this.hv.mayElideKick(ch.reqPort)) return;
    const rc = this.hv.kick(ch.reqPort);
    if (rc !== 0) this.log.warn({ port: ch.reqPort, rc }, "kick failed");
  }

  private responses(ch: Channel): void {
    if (ch.dead) return;
    for (;;) {
      let n: number;
      try {
        n = ch.ring.unconsumedResponses();
      } catch (e) {
        this.log.error({ err: String(e) }, "backend broke the ring");
        this.failChannel(ch);
        return;
      }
      if (n === 0) {
        if (!ch.ring.finalCheckForResponses()) break;
        continue;
      }
      for (let i = 0; i < n; i++) {
        ch.ring.copyResponse(ch.ring.rspCons, ch.rsp);
        ch.ring.consumeResponses(1);
        const rsp = decodeResponse(ch.rsp);
        if (tracer.mask & TRACE_DISPLIF) this.traceDispl(ch, "completion", rsp);
        const p = ch.pending.get(rsp.id);
        if (!p) continue; // an id we never sent (or answered twice): ignored
        ch.pending.delete(rsp.id);
        p.resolve(rsp);
      }
    }
    this.pushWaiting(ch);
  }

  private traceDispl(ch: Channel, op: string, packet: object): void {
    tracer.emit({
      kind: "displif",
      op,
      domid: this.dev.self,
      peer: this.dev.otherendId,
      device: `vdispl/${this.dev.self}/${this.dev.devid}`,
      connector: ch.index,
      ...displifTraceFields(packet),
    });
  }

  private eventPage(ch: Channel): void {
    if (ch.dead) return;
    const r = ch.events.consume((bytes) => {
      const evt = decodeEvent(bytes);
      if (evt.type !== XENDISPL_EVT_PG_FLIP) return;
      this.stats.events++;
      const l = ch.flipWaiters.get(evt.fbCookie);
      const w = l?.shift();
      if (l && l.length === 0) ch.flipWaiters.delete(evt.fbCookie);
      w?.(0);
    });
    this.stats.eventsOverrun += r.overrun;
  }

  // ---- pages and grants --------------------------------------------------------------------------

  /** `n` pages taken one at a time from the guest's allocator (adjacent or not: no CMA needed). */
  private async allocScattered(n: number): Promise<number[]> {
    const gfns: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = await this.memory.allocPages(1, false);
      if (typeof p === "number") {
        this.memory.freePages(gfns);
        throw new DisplfrontError(p, `allocating page ${i} of ${n}`);
      }
      gfns.push(...p.gfns);
    }
    return gfns;
  }

  private takeRefs(n: number): number[] {
    const refs = this.refs.alloc(n);
    if (!refs) throw new DisplfrontError(-XenErrno.ENOSPC, `no grant references for ${n} pages`);
    return refs;
  }

  private async grant(ref: number, gfn: number, readonly: boolean): Promise<number> {
    const need = Math.floor(ref / 512) + 1;
    if (need > this.grantFrames && this.hv.gnttabSetupTable) {
      const r = await this.hv.gnttabSetupTable(this.dev.self, need);
      if (r.status === 0) this.grantFrames = need;
    }
    return this.hv.gnttabGrantAccess(ref, this.dev.otherendId, gfn, readonly);
  }

  /** Grants each page to the backend (one ref per page); all or nothing. */
  private async grantPages(gfns: readonly number[], readonly: boolean): Promise<number[]> {
    const refs = this.takeRefs(gfns.length);
    for (let i = 0; i < gfns.length; i++) {
      const rc = await this.grant(refs[i]!, gfns[i]!, readonly);
      if (rc !== 0) {
        for (let j = 0; j < i; j++) await this.hv.gnttabEndAccess(refs[j]!);
        this.refs.free(refs);
        throw new DisplfrontError(rc, "granting access to a buffer page");
      }
    }
    return refs;
  }

  /** Ends grants and frees pages; grants still mapped by the backend are deferred with their pages. */
  private async release(rec: { refs: number[]; gfns: number[]; handles: number[] }): Promise<void> {
    if (rec.handles.length > 0) await this.hv.gnttabUnmap(rec.handles.splice(0));
    const busy: number[] = [];
    for (const r of rec.refs) if (!(await this.hv.gnttabEndAccess(r))) busy.push(r);
    this.refs.free(rec.refs.filter((r) => !busy.includes(r)));
    if (busy.length === 0) this.memory.freePages(rec.gfns);
    else {
      this.stats.grantsDeferred += busy.length;
      this.deferred.push({ refs: busy, gfns: [...rec.gfns] });
      this.log.warn({ refs: busy.length }, "grants still mapped by the backend: deferring their end");
      this.armRetry();
    }
    rec.refs.length = 0;
    rec.gfns.length = 0;
  }

  private armRetry(): void {
    if (!this.timer || this.retryArmed || this.deferred.length === 0 || this.closedFlag) return;
    this.retryArmed = true;
    this.retryHandle = this.timer.setTimeout(() => {
      this.retryArmed = false;
      void this.retryDeferred();
    }, 1000);
  }

  private notice(n: DisplfrontNotice): void {
    for (const l of [...this.listeners]) l(n);
  }

  /** Polls `cond` every 5 ms for about `ms` (with the injected timer; without one, not at all). */
  private async until(cond: () => boolean, ms: number): Promise<void> {
    const t = this.timer;
    if (!t) return;
    for (let i = 0; i < ms / 5 && !cond(); i++) await new Promise<void>((r) => t.setTimeout(r, 5));
  }
}

/** Omit over each member of a union. */
export type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export const DISPLFRONT_PAGE_BYTES = XEN_PAGE_SIZE;
