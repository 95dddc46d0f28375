// A hand-driven blkfront for tests: grants ring and data pages from the guest's own memory, writes
// the frontend keys, and puts requests on the ring with @xensim/ring + the blkif codec — including
// requests no real frontend would send (bad segments, foreign refs, req_prod overflow).
import {
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  BlkifOp,
  XEN_IO_PROTO_ABI_X86_32,
  XEN_IO_PROTO_ABI_X86_64,
  type XenAbi,
  XenbusState,
} from "@xensim/abi";
import {
  type BlkifRequest,
  type BlkifSegment,
  decodeResponse,
  encodeIndirectSegments,
  encodeRequest,
  newBlkifRequest,
  newBlkifResponse,
  newSegments,
  setRequestSector,
} from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import { FrontRing, REQ_PROD } from "@xensim/ring";
import type { XenCtrl } from "@xensim/xenctrl";
import { PortDispatcher } from "@xensim/xenbus";
import type { XenstoreClient } from "@xensim/xenstore-client";

export interface TestFrontendOptions {
  /** dom0's xenstore client (writes the frontend keys; privileged). */
  xs: XenstoreClient;
  /** The guest's own XenCtrl (grants, event channels, its memory). */
  xc: XenCtrl;
  domid: number;
  frontendPath: string;
  backendPath: string;
  /** First gfn of the guest memory this frontend may use, and the first grant ref. */
  gfnBase: number;
  refBase: number;
  ringPageOrder?: number;
  /** Write ring-page-order even for order 0 (ring-ref0 naming). */
  forceOrderKey?: boolean;
  queues?: number;
  persistent?: boolean;
  abi?: XenAbi;
  /** Write no `protocol` key (the backend then assumes its default ABI, x86_32 as Linux on x86). */
  noProtocolKey?: boolean;
  /** Data pages (each granted once, kept granted). */
  dataPages?: number;
  /** The guest's one event receiver (two receivers of one vCPU would take each other's events). */
  events: GuestEvents;
  /**
   * The backend runs in another host process: every push kicks (no suppression across hosts; what
   * we write is marked written and travels on the link); responses are taken on events only
   * (optionally also polled every `pollMs`, for diagnosis).
   */
  remote?: { pollMs?: number };
  /** Extra keys written before Initialised (e.g. a bogus ring-page-order). */
  extraKeys?: Record<string, string>;
}

/** One receiver per guest vCPU, dispatching by port. */
export class GuestEvents {
  private readonly ports = new PortDispatcher();
  private readonly rx: { close(): void };
  constructor(xc: XenCtrl, domid: number) {
    this.rx = xc.waitForEvents(
      domid,
      (port) => {
        this.ports.dispatch(port);
      },
      { slowScanMs: 5 },
    );
  }
  on(port: number, fn: () => void): void {
    this.ports.on(port, fn);
  }
  off(port: number): void {
    this.ports.off(port);
  }
  close(): void {
    this.rx.close();
  }
}

interface Waiter {
  resolve: (status: number) => void;
}

export interface Seg {
  /** Index into the data pool, or a raw gref when `gref` is given. */
  page?: number;
  gref?: number;
  first: number;
  last: number;
}

export class TestFrontend {
  readonly options: TestFrontendOptions;
  readonly abi: XenAbi;
  readonly rings: FrontRing[] = [];
  readonly ports: number[] = [];
  readonly ringRefs: number[][] = [];
  /** Guest views of the data pool pages, and their grant refs. */
  dataViews: MemView[] = [];
  dataRefs: number[] = [];
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;
  private readonly req = newBlkifRequest();
  private readonly rsp = newBlkifResponse();
  private gfn: number;
  private ref: number;
  /** Gfns of each queue's ring pages and of the data pool, and what we wrote since the last publish. */
  readonly ringGfns: number[][] = [];
  dataGfns: number[] = [];
  private poll: ReturnType<typeof setInterval> | undefined;

  private constructor(options: TestFrontendOptions) {
    this.options = options;
    this.abi = options.abi ?? "x86_64";
    this.gfn = options.gfnBase;
    this.ref = options.refBase;
  }

  private async ownPages(n: number): Promise<{ view: MemView; gfns: number[] }> {
    const gfns: number[] = [];
    for (let i = 0; i < n; i++) gfns.push(this.gfn++);
    const view = await this.options.xc.mapForeignPages(this.options.domid, gfns);
    if (typeof view === "number") throw new Error(`mapping own pages failed: ${view}`);
    return { view, gfns };
  }

  private async grant(gfn: number, readonly = false): Promise<number> {
    const ref = this.ref++;
    const rc = await this.options.xc.gnttabGrantAccess(ref, 0, gfn, readonly);
    if (rc !== 0) throw new Error(`grant ${ref} failed: ${rc}`);
    return ref;
  }

  /** Sets up rings, event channels and data pages and writes the keys, then state Initialised. */
  static async connect(options: TestFrontendOptions, waitConnected = true): Promise<TestFrontend> {
    const f = new TestFrontend(options);
    const order = options.ringPageOrder ?? 0;
    const nrPages = 2 ** order;
    const queues = options.queues ?? 1;
    const xs = options.xs;
    const P = options.frontendPath;
    const writes: [string, string][] = [];
    for (let q = 0; q < queues; q++) {
      const { view, gfns } = await f.ownPages(nrPages);
      const ring = FrontRing.init(view, BLKIF_RING_ENTRY_BYTES[f.abi], { nrPages });
      const refs: number[] = [];
      for (const g of gfns) refs.push(await f.grant(g));
      const ev = await options.xc.evtchnAllocUnbound(options.domid, 0);
      if (ev.rc !== 0) throw new Error(`evtchn alloc failed ${ev.rc}`);
      f.rings.push(ring);
      f.ports.push(ev.port);
      f.ringRefs.push(refs);
      f.ringGfns.push(gfns);
      const dir = queues === 1 ? P : `${P}/queue-${q}`;
      if (order > 0 || options.forceOrderKey === true)
        refs.forEach((r, i) => writes.push([`${dir}/ring-ref${i}`, String(r)]));
      else writes.push([`${dir}/ring-ref`, String(refs[0])]);
      writes.push([`${dir}/event-channel`, String(ev.port)]);
    }
    if (order > 0 || options.forceOrderKey === true) writes.push([`${P}/ring-page-order`, String(order)]);
    if (queues > 1) writes.push([`${P}/multi-queue-num-queues`, String(queues)]);
    if (options.noProtocolKey !== true)
      writes.push([`${P}/protocol`, f.abi === "x86_64" ? XEN_IO_PROTO_ABI_X86_64 : XEN_IO_PROTO_ABI_X86_32]);
    writes.push([`${P}/feature-persistent`, options.persistent === false ? "0" : "1"]);
    for (const [k, v] of Object.entries(options.extraKeys ?? {})) writes.push([`${P}/${k}`, v]);
    const pool = await f.ownPages(options.dataPages ?? 16);
    f.dataGfns = pool.gfns;
    for (let i = 0; i < pool.gfns.length; i++) {
      f.dataViews.push(pool.view.slice(i * 4096, 4096));
      f.dataRefs.push(await f.grant(pool.gfns[i]!));
    }
    f.ports.forEach((port, q) => options.events.on(port, () => f.reap(q)));
    if (options.remote) {
      if (options.remote.pollMs !== undefined)
        f.poll = setInterval(() => {
          for (let q = 0; q < f.rings.length; q++) f.reap(q);
        }, options.remote.pollMs);
    }
    await xs.transaction(async (tx) => {
      for (const [k, v] of writes) await tx.write(k, v);
      await tx.write(`${P}/state`, String(XenbusState.Initialised));
    });
    if (waitConnected) {
      await f.waitBackend([XenbusState.Connected]);
      await xs.write(`${P}/state`, String(XenbusState.Connected));
    }
    return f;
  }

  async backendState(): Promise<number> {
    return Number((await this.options.xs.tryRead(`${this.options.backendPath}/state`)) ?? "0");
  }

  async waitBackend(states: number[], timeoutMs = 10_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.backendState();
      if (states.includes(s)) return s;
      if (Date.now() > end) throw new Error(`backend state ${s}, wanted ${states.join("/")}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Takes every response of queue q (RING_FINAL_CHECK_FOR_RESPONSES loop). */
  reap(q: number): void {
    const ring = this.rings[q]!;
    for (;;) {
      let n: number;
      try {
        n = ring.unconsumedResponses();
      } catch {
        return;
      }
      while (n-- > 0) {
        decodeResponse(ring.view.read(ring.responseOffset(ring.rspCons), 16), 0, this.abi, this.rsp);
        ring.consumeResponses(1);
        const w = this.waiters.get(this.rsp.idLo);
        if (!w && this.options.remote)
          console.error(
            `unknown response id ${this.rsp.idLo} status ${this.rsp.status} at ${ring.rspCons - 1}`,
          );
        if (w) {
          this.waiters.delete(this.rsp.idLo);
          w.resolve(this.rsp.status);
        }
      }
      if (!ring.finalCheckForResponses()) return;
    }
  }

  /** Puts `fill`'s request on queue q, kicks if needed, resolves with the response status. */
  submit(q: number, fill: (req: BlkifRequest) => void): Promise<number> {
    const ring = this.rings[q]!;
    const req = this.req;
    const id = this.nextId++;
    req.operation = BlkifOp.READ;
    req.nrSegments = 0;
    req.handle = 0;
    req.idLo = id;
    req.idHi = 0;
    req.sectorLo = 0;
    req.sectorHi = 0;
    req.flag = 0;
    req.nrSectorsLo = 0;
    req.nrSectorsHi = 0;
    req.indirectOp = 0;
    fill(req);
    req.idLo = id;
    const p = new Promise<number>((resolve) => this.waiters.set(id, { resolve }));
    const off = ring.nextRequest();
    encodeRequest(ring.view, off, this.abi, req);
    if (ring.pushRequestsAndCheckNotify() || this.options.remote) this.options.xc.kick(this.ports[q]!);
    return withTimeout(p, 10_000, `response to request ${id}`);
  }

  /** Writes a data pool page (marked written: a backend in another host process gets it). */
  fillData(page: number, bytes: Uint8Array): void {
    this.dataViews[page]!.write(0, bytes);
    this.dataViews[page]!.markWritten(0, bytes.length);
  }

  grefOf(s: Seg): number {
    return s.gref ?? this.dataRefs[s.page ?? 0]!;
  }

  /** A direct (≤ 11 segments) or indirect (more, or `indirect`) read/write. */
  rw(
    q: number,
    op: number,
    sector: number,
    segs: readonly Seg[],
    opts: { indirect?: boolean; indirectPages?: number[] } = {},
  ): Promise<number> {
    if (opts.indirect !== true && segs.length <= 11) {
      return this.submit(q, (r) => {
        r.operation = op;
        r.nrSegments = segs.length;
        setRequestSector(r, sector);
        segs.forEach((s, i) => {
          const d = r.segments[i]!;
          d.gref = this.grefOf(s);
          d.firstSect = s.first;
          d.lastSect = s.last;
        });
      });
    }
    // Indirect: descriptor pages from the end of the pool (or given).
    const npages = Math.ceil(segs.length / BLKIF_SEGS_PER_INDIRECT_FRAME);
    const pagesIdx =
      opts.indirectPages ?? Array.from({ length: npages }, (_, i) => this.dataViews.length - 1 - i);
    const all: BlkifSegment[] = newSegments(segs.length);
    segs.forEach((s, i) => {
      all[i]!.gref = this.grefOf(s);
      all[i]!.firstSect = s.first;
      all[i]!.lastSect = s.last;
    });
    for (let p = 0; p < npages; p++) {
      const from = p * BLKIF_SEGS_PER_INDIRECT_FRAME;
      const count = Math.min(BLKIF_SEGS_PER_INDIRECT_FRAME, segs.length - from);
      encodeIndirectSegments(this.dataViews[pagesIdx[p]!]!, 0, 0, all, from, count);
      this.dataViews[pagesIdx[p]!]!.markWritten(0, count * 8);
    }
    return this.submit(q, (r) => {
      r.operation = BlkifOp.INDIRECT;
      r.indirectOp = op;
      r.nrSegments = segs.length;
      setRequestSector(r, sector);
      for (let p = 0; p < npages; p++) r.indirectGrefs[p] = this.dataRefs[pagesIdx[p]!]!;
    });
  }

  /** Writes `data` (a multiple of 4096 bytes, ≤ the pool) at `sector` through pool pages 0.. */
  async write(
    q: number,
    sector: number,
    data: Uint8Array,
    opts: { indirect?: boolean } = {},
  ): Promise<number> {
    const pages = data.length / 4096;
    const segs: Seg[] = [];
    for (let i = 0; i < pages; i++) {
      this.fillData(i, data.subarray(i * 4096, (i + 1) * 4096));
      segs.push({ page: i, first: 0, last: 7 });
    }
    return this.rw(q, BlkifOp.WRITE, sector, segs, opts);
  }

  async read(
    q: number,
    sector: number,
    pages: number,
    opts: { indirect?: boolean } = {},
  ): Promise<{ status: number; data: Uint8Array }> {
    const segs: Seg[] = [];
    for (let i = 0; i < pages; i++) {
      this.fillData(i, new Uint8Array(4096).fill(0xee));
      segs.push({ page: i, first: 0, last: 7 });
    }
    const status = await this.rw(q, BlkifOp.READ, sector, segs, opts);
    const data = new Uint8Array(pages * 4096);
    for (let i = 0; i < pages; i++) data.set(this.dataViews[i]!.read(0, 4096), i * 4096);
    return { status, data };
  }

  /** Writes an impossible req_prod (more requests than the ring holds) and kicks. */
  overflow(q: number): void {
    const ring = this.rings[q]!;
    ring.view.atomicStore32(REQ_PROD, (ring.reqProdPvt + ring.size + 5) >>> 0);
    this.options.xc.kick(this.ports[q]!);
  }

  async setState(s: number): Promise<void> {
    await this.options.xs.write(`${this.options.frontendPath}/state`, String(s));
  }

  close(): void {
    clearInterval(this.poll);
    for (const p of this.ports) this.options.events.off(p);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, rej) => {
        t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}
