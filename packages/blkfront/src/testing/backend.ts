// Test support: a minimal blkback over the TestHost's memory — the blkif backend reducer for the
// handshake, grant maps through the real grant table, a Uint8Array as the disk — with switches to
// hold responses (requests stay in flight), answer wrongly (unknown id, duplicate, wrong operation,
// rsp_prod overflow), and go away and come back (restart).
import {
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_RSP_OKAY,
  BlkifOp,
  GNTMAP_host_map,
  GNTMAP_readonly,
  XenbusState,
} from "@xensim/abi";
import {
  BLKBACK_DEFAULT_CONFIG,
  type BlkbackConfig,
  type BlkbackEffect,
  type BlkbackEvent,
  type BlkbackState,
  type BlkifLimits,
  type BlkifRequest,
  blkbackReduce,
  decodeIndirectSegments,
  decodeRequest,
  encodeResponse,
  initialBlkbackState,
  isWriteOp,
  newBlkifRequest,
  newSegments,
  type NegotiatedRings,
  responseOperation,
  validateIndirectSegments,
  validateRequest,
  type XenstoreValues,
} from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import { BackRing, RSP_PROD } from "@xensim/ring";
import { lsOrEmpty, XenbusDevice } from "@xensim/xenbus";
import type { XenstoreClient } from "@xensim/xenstore-client";
import type { TestHost } from "./host.js";

export type Misbehaviour = "unknownId" | "duplicate" | "wrongOp" | "overflow";

export interface TestBackendOptions {
  host: TestHost;
  xs: XenstoreClient;
  domid: number;
  frontDomid: number;
  nodename: string;
  disk: Uint8Array;
  config?: Partial<BlkbackConfig>;
  readonly?: boolean;
  flush?: boolean;
  discard?: boolean;
}

interface Queue {
  ring: BackRing;
  view: MemView;
  handles: number[];
  port: number;
}

interface Held {
  q: Queue;
  idLo: number;
  idHi: number;
  op: number;
  status: number;
}

export class TestBackend {
  readonly disk: Uint8Array;
  /** Answer nothing; keep the answers (requests stay in flight at the frontend). */
  hold = false;
  /** Process requests that arrive but do not even do the I/O (a backend that dies on receipt). */
  drop = false;
  misbehave: Misbehaviour | undefined;
  /** Busy elsewhere: events are ignored (no consuming, no final check) until resume(). */
  paused = false;
  readonly held: Held[] = [];
  /**
   * A hostile backend's eye: every whole data page it mapped for a request, as it was when mapped
   * (before a read fills it), with the sectors the request covers in that page.
   */
  onMapped: ((op: number, pages: { bytes: Uint8Array; first: number; last: number }[]) => void) | undefined;
  /** Keep non-persistent data mappings after answering (a backend that does not unmap). */
  leakMappings = false;
  /** What leakMappings kept: each handle and its view. */
  readonly leaked: { handle: number; view: MemView; off: number }[] = [];
  readonly seen = { requests: 0, indirect: 0, maps: 0, flushes: 0, discards: 0, maxSegments: 0 };
  readonly opsSeen: number[] = [];
  rings: NegotiatedRings | undefined;

  private handshakeState: BlkbackState;
  private dev!: XenbusDevice<MemView>;
  private queues: Queue[] = [];
  private readonly persistentMaps = new Map<number, { handle: number; view: MemView }>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly req: BlkifRequest = newBlkifRequest();
  private readonly segs = newSegments(4096);
  private readonly slot = new Uint8Array(112);
  private stopped = false;
  private broken = false;
  private after: { bad: Misbehaviour; idLo: number; idHi: number; op: number; status: number } | undefined;
  private abi: "x86_64" | "x86_32" = "x86_64";

  private constructor(private readonly options: TestBackendOptions) {
    this.disk = options.disk;
    this.handshakeState = initialBlkbackState({
      ...BLKBACK_DEFAULT_CONFIG,
      defaultAbi: "x86_64",
      ...options.config,
    });
  }

  static async start(options: TestBackendOptions): Promise<TestBackend> {
    const b = new TestBackend(options);
    b.dev = await XenbusDevice.open<MemView>({
      store: options.xs,
      self: options.domid,
      side: "backend",
      nodename: options.nodename,
    });
    options.host.receive(options.domid, (port) => b.onEvent(port));
    await b.run(() => b.step({ kind: "probed" }));
    await b.run(() =>
      b.step({
        kind: "vbdOpened",
        vbd: {
          info: {
            sectors: options.disk.length / 512,
            sectorSize: 512,
            physicalSectorSize: 512,
            readonly: options.readonly ?? false,
            flush: options.flush ?? true,
            discard: options.discard ?? true,
            discardGranularity: 4096,
            discardAlignment: 0,
            discardSecure: false,
          },
        },
      }),
    );
    b.dev.onOtherendChanged = (s) => (b.stopped ? undefined : b.run(() => b.frontendChanged(s)));
    await b.dev.watchOtherend();
    return b;
  }

  get state(): XenbusState {
    return this.handshakeState.state;
  }

  private run(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private async frontendChanged(s: XenbusState): Promise<void> {
    if (this.stopped) return;
    const dir = this.dev.otherend;
    const keys: Record<string, string | undefined> = {};
    const names = await lsOrEmpty(this.options.xs, dir);
    for (const n of names) {
      keys[n] = await this.options.xs.tryRead(`${dir}/${n}`);
      if (n.startsWith("queue-"))
        for (const k of await lsOrEmpty(this.options.xs, `${dir}/${n}`))
          keys[`${n}/${k}`] = await this.options.xs.tryRead(`${dir}/${n}/${k}`);
    }
    await this.step({ kind: "frontendChanged", state: s, keys: keys as XenstoreValues });
  }

  private async step(ev: BlkbackEvent): Promise<void> {
    const r = blkbackReduce(this.handshakeState, ev);
    this.handshakeState = r.state;
    for (const e of r.effects) await this.execute(e);
  }

  private async execute(e: BlkbackEffect): Promise<void> {
    const dev = this.dev;
    switch (e.kind) {
      case "write":
        await dev.write(e.path, e.value);
        return;
      case "remove":
        await this.options.xs.rm(dev.path(e.path));
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
        await dev.devError(-e.err, "%s", e.msg);
        return;
      case "connectRings":
        this.connectRings(e);
        await this.step({ kind: "ringsMapped" });
        return;
      case "disconnectRings":
        this.disconnectRings();
        return;
      case "unregister":
        return;
    }
  }

  private connectRings(r: NegotiatedRings): void {
    this.rings = r;
    this.abi = r.abi;
    const gt = this.options.host.gt;
    const ev = this.options.host.ev;
    for (const q of r.queues) {
      const m = gt.mapGrantRefs(this.options.domid, this.options.frontDomid, q.refs, GNTMAP_host_map);
      if (!m.view) throw new Error(`ring map failed: ${m.results.map((x) => x.status).join(",")}`);
      const ring = BackRing.attach(m.view, BLKIF_RING_ENTRY_BYTES[r.abi], { nrPages: q.refs.length });
      const b = ev.bindInterdomain(this.options.domid, {
        remoteDom: this.options.frontDomid,
        remotePort: q.evtchn,
      });
      if (b.rc !== 0) throw new Error(`bind failed ${b.rc}`);
      this.queues.push({ ring, view: m.view, handles: m.results.map((x) => x.handle), port: b.port });
    }
  }

  /** Drops its record of every mapping without unmapping (a dying backend): the handles. */
  forgetMappings(): number[] {
    const handles: number[] = [];
    for (const q of this.queues) {
      handles.push(...q.handles);
      q.handles = [];
    }
    for (const m of this.persistentMaps.values()) handles.push(m.handle);
    this.persistentMaps.clear();
    return handles;
  }

  /** Unmaps handles forgotten earlier (Xen releasing a dead domain's mappings). */
  unmapHandles(handles: readonly number[]): void {
    for (const h of handles) this.options.host.gt.unmapGrantRef(this.options.domid, { handle: h });
  }

  /** Unmap the rings and persistent grants, close the event channels (xen_blkif_disconnect). */
  disconnectRings(): void {
    const gt = this.options.host.gt;
    for (const q of this.queues) {
      for (const h of q.handles) gt.unmapGrantRef(this.options.domid, { handle: h });
      this.options.host.ev.evtchnClose(this.options.domid, q.port);
    }
    this.queues = [];
    for (const m of this.persistentMaps.values()) gt.unmapGrantRef(this.options.domid, { handle: m.handle });
    this.persistentMaps.clear();
    this.held.length = 0;
  }

  /** Resize the disk (the reducer rewrites sectors and Connected). */
  resize(sectors: number): Promise<void> {
    return this.run(() => this.step({ kind: "resized", sectors }));
  }

  /**
   * Goes away: drops every mapping and event channel, writes Closed (crash) or Closing then Closed
   * after the frontend closed (clean), and stops. Start a new TestBackend on the same disk to come back.
   */
  async stop(mode: "crash" | "clean"): Promise<void> {
    await this.run(async () => {
      this.stopped = true;
      this.disconnectRings();
      if (mode === "clean") await this.dev.switchState(XenbusState.Closing);
    });
    // Outside the chain: the otherend handler must not wait behind us.
    if (mode === "clean") await this.dev.waitForOtherend([XenbusState.Closed]);
    await this.dev.switchState(XenbusState.Closed);
    await this.dev.close();
  }

  /** Hangs: ignores the frontend from now on (keeps its mappings, never changes state). */
  freeze(): void {
    this.stopped = true;
  }

  /** Answers every held request. */
  release(): void {
    this.hold = false;
    const touched = new Set<Queue>();
    for (const h of this.held.splice(0)) {
      this.respond(h.q, h.idLo, h.idHi, h.op, h.status);
      touched.add(h.q);
    }
    for (const q of touched) this.pushResponses(q);
  }

  resume(): void {
    this.paused = false;
    for (const q of this.queues) this.process(q);
  }

  private onEvent(port: number): void {
    if (this.paused) return;
    const q = this.queues.find((x) => x.port === port);
    if (q) this.process(q);
  }

  private limits(): BlkifLimits {
    const c = this.handshakeState.config;
    return {
      sectors: this.disk.length / 512,
      readonly: this.options.readonly ?? false,
      maxIndirectSegments: c.maxIndirectSegments,
      flush: this.options.flush ?? true,
      barrier: this.options.flush ?? true,
      discard: this.options.discard ?? true,
      discardSecure: false,
    };
  }

  private process(q: Queue): void {
    if (this.stopped || this.broken) return;
    const ring = q.ring;
    for (;;) {
      while (ring.unconsumedRequests() > 0) {
        ring.copyRequest(ring.reqCons, this.slot);
        ring.consumeRequests();
        if (this.drop) continue;
        const req = decodeRequest(this.slot, 0, this.abi, this.req);
        this.seen.requests++;
        this.opsSeen.push(req.operation);
        const status = this.handle(req);
        const op = responseOperation(req);
        if (this.hold) this.held.push({ q, idLo: req.idLo, idHi: req.idHi, op, status });
        else this.answer(q, req.idLo, req.idHi, op, status);
      }
      this.pushResponses(q);
      if (!ring.finalCheckForRequests()) break;
    }
    if (this.after) {
      this.applyAfter(q);
      this.broken = true; // its ring accounting is off now: it stops
    }
  }

  private answer(q: Queue, idLo: number, idHi: number, op: number, status: number): void {
    const bad = this.misbehave;
    if (bad === undefined) return this.respond(q, idLo, idHi, op, status);
    this.misbehave = undefined;
    switch (bad) {
      case "unknownId":
        return this.respond(q, q.ring.size + 7, 0, op, status);
      case "wrongOp":
        return this.respond(q, idLo, idHi, op === BlkifOp.READ ? BlkifOp.WRITE : BlkifOp.READ, status);
      case "duplicate":
      case "overflow":
        this.respond(q, idLo, idHi, op, status);
        this.after = { bad, idLo, idHi, op, status };
        return;
    }
  }

  /** After the push: a second answer for an id in a slot nobody asked for, or an impossible rsp_prod. */
  private applyAfter(q: Queue): void {
    const a = this.after;
    if (!a) return;
    this.after = undefined;
    if (a.bad === "duplicate") {
      const off = q.ring.responseOffset(q.ring.rspProdPvt);
      encodeResponse(q.view, off, this.abi, a.idLo, a.idHi, a.op, a.status);
      q.ring.rspProdPvt = (q.ring.rspProdPvt + 1) >>> 0;
      q.ring.pushResponses();
    } else {
      const prod = q.view.atomicLoad32(RSP_PROD);
      q.view.atomicStore32(RSP_PROD, (prod + q.ring.size + 3) >>> 0);
    }
    this.options.host.ev.evtchnSend(this.options.domid, q.port);
  }

  private respond(q: Queue, idLo: number, idHi: number, op: number, status: number): void {
    const off = q.ring.nextResponse();
    encodeResponse(q.view, off, this.abi, idLo, idHi, op, status);
  }

  private pushResponses(q: Queue): void {
    if (q.ring.pushResponsesAndCheckNotify()) this.options.host.ev.evtchnSend(this.options.domid, q.port);
  }

  /** Validates, maps, does the I/O on the disk array, unmaps: a BLKIF_RSP_* status. */
  private handle(req: BlkifRequest): number {
    const limits = this.limits();
    let v = validateRequest(req, limits);
    if (v.status !== BLKIF_RSP_OKAY) return v.status;
    const persistent = this.rings?.persistent === true;
    const sector = req.sectorHi * 0x1_0000_0000 + req.sectorLo;
    switch (req.operation) {
      case BlkifOp.FLUSH_DISKCACHE:
      case BlkifOp.WRITE_BARRIER:
        this.seen.flushes++;
        if (req.nrSegments === 0) return BLKIF_RSP_OKAY;
        break;
      case BlkifOp.DISCARD: {
        this.seen.discards++;
        const n = req.nrSectorsHi * 0x1_0000_0000 + req.nrSectorsLo;
        this.disk.fill(0, sector * 512, (sector + n) * 512);
        return BLKIF_RSP_OKAY;
      }
    }
    let op = req.operation;
    let segs = req.segments;
    const n = req.nrSegments;
    if (req.operation === BlkifOp.INDIRECT) {
      this.seen.indirect++;
      op = req.indirectOp;
      const pages = Math.ceil(n / 512);
      const grefs = req.indirectGrefs.slice(0, pages);
      const views = this.mapData(grefs, true, persistent);
      if (!views) return -1;
      for (let k = 0; k < pages; k++) {
        const c = Math.min(512, n - k * 512);
        decodeIndirectSegments(views.views[k]!.view, views.views[k]!.off, 0, c, this.segs, k * 512);
      }
      views.release();
      segs = this.segs;
      v = validateIndirectSegments(req, segs, limits);
      if (v.status !== BLKIF_RSP_OKAY) return v.status;
    }
    this.seen.maxSegments = Math.max(this.seen.maxSegments, n);
    const grefs: number[] = [];
    for (let i = 0; i < n; i++) grefs.push(segs[i]!.gref);
    const write = isWriteOp(op);
    const mapped = this.mapData(grefs, write, persistent);
    if (!mapped) return -1;
    this.onMapped?.(
      op,
      mapped.views.map(({ view, off }, i) => ({
        bytes: view.read(off, 4096),
        first: segs[i]!.firstSect,
        last: segs[i]!.lastSect,
      })),
    );
    let at = sector * 512;
    for (let i = 0; i < n; i++) {
      const s = segs[i]!;
      const { view, off } = mapped.views[i]!;
      const start = off + s.firstSect * 512;
      const len = (s.lastSect - s.firstSect + 1) * 512;
      if (write) this.disk.set(view.read(start, len), at);
      else {
        view.write(start, this.disk.subarray(at, at + len));
        view.markWritten(start, len);
      }
      at += len;
    }
    if (this.leakMappings && !persistent)
      for (const v of mapped.views) this.leaked.push({ handle: -1, view: v.view, off: v.off });
    else mapped.release();
    return BLKIF_RSP_OKAY;
  }

  /** Maps grefs (persistent: once, kept); views per gref with a release for the non-persistent ones. */
  private mapData(
    grefs: readonly number[],
    readonly: boolean,
    persistent: boolean,
  ): { views: { view: MemView; off: number }[]; release: () => void } | undefined {
    const gt = this.options.host.gt;
    const front = this.options.frontDomid;
    if (persistent) {
      const views: { view: MemView; off: number }[] = [];
      for (const g of grefs) {
        let m = this.persistentMaps.get(g);
        if (!m) {
          const r = gt.mapGrantRefs(this.options.domid, front, [g], GNTMAP_host_map);
          if (!r.view) return undefined;
          this.seen.maps++;
          m = { handle: r.results[0]!.handle, view: r.view };
          this.persistentMaps.set(g, m);
        }
        views.push({ view: m.view, off: 0 });
      }
      return { views, release: () => {} };
    }
    const flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
    const r = gt.mapGrantRefs(this.options.domid, front, grefs, flags);
    this.seen.maps += grefs.length;
    const handles = r.results.filter((x) => x.handle >= 0 && x.status === 0).map((x) => x.handle);
    const release = () => {
      for (const h of handles) gt.unmapGrantRef(this.options.domid, { handle: h });
    };
    if (!r.view) {
      release();
      return undefined;
    }
    const view = r.view;
    return { views: grefs.map((_, i) => ({ view, off: i * 4096 })), release };
  }
}
