// BlkbackRing on its own for the ring and XSA tests: real page-store memory, a grant table of the
// test's own (ref → frame, read-only flag, map counts), an in-memory disk, and a frontend ring the
// test writes requests into and reads responses from. No hypervisor: the end-to-end tests with the
// real hypervisor and xenstored are in services/blkback.
import {
  BLKIF_RING_ENTRY_BYTES,
  GNTMAP_readonly,
  GNTST_bad_gntref,
  GNTST_okay,
  GNTST_permission_denied,
  type XenAbi,
} from "@xensim/abi";
import {
  BLOCK_SECTOR_BYTES,
  type BlkifLimits,
  type BlockIo,
  type BlockStore,
  decodeResponse,
  encodeRequest,
  newBlkifRequest,
  newBlkifResponse,
  setRequestSector,
} from "@xensim/blkif";
import { type MemView, PageStore } from "@xensim/memory";
import { FrontRing } from "@xensim/ring";
import { NULL_LOGGER } from "@xensim/xenbus";
import { type BlkbackPoll, BlkbackRing } from "../blkif-ring.js";
import type { BlkbackHypervisor } from "../environment.js";

/** The frontend's domain id. */
export const FRONT = 5;

/** Grants of the frontend as a table; maps are views of the page store. */
export class TestHv implements BlkbackHypervisor {
  readonly grants = new Map<number, { frame: number; readonly: boolean }>();
  readonly mapped = new Map<number, number>(); // handle → ref
  readonly events: string[] = [];
  /** gnttabMapGrantRefs calls. */
  maps = 0;
  notifies = 0;
  /** rsp_prod on the page at each kick. */
  readonly kickedAt: number[] = [];
  private nextHandle = 1;
  /** One host process (true) or the link (false: every push kicks). */
  kickSuppression = true;
  mayElideKick(_port: number): boolean {
    return this.kickSuppression;
  }
  constructor(
    readonly ps: PageStore,
    zeroCopy: boolean,
  ) {
    this.store = zeroCopy ? ps : undefined;
  }
  readonly store: { readonly u8: Uint8Array } | undefined;
  async gnttabMapGrantRefs(dom: number, refs: readonly number[], flags: number) {
    this.maps++;
    const results = refs.map((ref) => {
      const g = this.grants.get(ref);
      if (dom !== FRONT || g === undefined) return { status: GNTST_bad_gntref, handle: -1 };
      if (g.readonly && (flags & GNTMAP_readonly) === 0)
        return { status: GNTST_permission_denied, handle: -1 };
      const handle = this.nextHandle++;
      this.mapped.set(handle, ref);
      return { status: GNTST_okay, handle };
    });
    this.events.push(`map ${refs.join(",")}${flags & GNTMAP_readonly ? " ro" : ""}`);
    const ok = results.every((r) => r.status === GNTST_okay);
    const view = ok
      ? this.ps.viewOfFrames(
          refs.map((r) => this.grants.get(r)!.frame),
          { readonly: (flags & GNTMAP_readonly) !== 0 },
        )
      : undefined;
    return { results, view };
  }
  async gnttabUnmap(handles: readonly number[]) {
    this.events.push(`unmap ${handles.map((h) => this.mapped.get(h)).join(",")}`);
    return handles.map((h) => (this.mapped.delete(h) ? GNTST_okay : -1));
  }
  kick(_port: number): number {
    this.notifies++;
    this.kickedAt.push(this.rspProdAt());
    this.events.push("notify");
    return 0;
  }
  rspProdAt: () => number = () => 0;
  waitForEvents() {
    return { close() {} };
  }
  async evtchnAllocUnbound() {
    return { rc: 0, port: 1 };
  }
  async evtchnBindInterdomain() {
    return { rc: 0, port: 1 };
  }
  async evtchnClose() {
    return 0;
  }
  async gnttabGrantAccess() {
    return 0;
  }
  async gnttabEndAccess() {
    return true;
  }
}

/** A disk in memory; `hold` keeps completions until release() (to see in-flight behaviour). */
export class Disk implements BlockStore {
  readonly bytes: Uint8Array;
  readonly info;
  /** Every I/O as "op sector+count", in submission order. */
  readonly ops: string[] = [];
  pending: (() => void)[] = [];
  hold = false;
  constructor(sectors: number) {
    this.bytes = new Uint8Array(sectors * BLOCK_SECTOR_BYTES);
    this.info = {
      sectors,
      sectorSize: 512,
      physicalSectorSize: 512,
      readonly: false,
      flush: true,
      discard: false,
      discardGranularity: 0,
      discardAlignment: 0,
      discardSecure: false,
    };
  }
  submit(io: BlockIo, done: (s: number) => void): void {
    this.ops.push(`${io.op} ${io.sector}+${io.nrSectors}`);
    const run = () => {
      let off = io.sector * 512;
      for (const s of io.segs) {
        if (io.op === "read") s.set(this.bytes.subarray(off, off + s.length));
        else if (io.op === "write") this.bytes.set(s, off);
        off += s.length;
      }
      done(0);
    };
    if (this.hold) this.pending.push(run);
    else run();
  }
  release(): void {
    const p = this.pending;
    this.pending = [];
    for (const f of p) f();
  }
  async close() {}
}

export const LIMITS: BlkifLimits = {
  sectors: 2048,
  readonly: false,
  maxIndirectSegments: 0,
  flush: true,
  barrier: true,
  discard: false,
  discardSecure: false,
};

export interface RingRigOptions {
  abi?: XenAbi;
  pages?: number;
  /** The backend maps the data pages zero-copy (the page store's bytes) or through a bounce buffer. */
  zeroCopy?: boolean;
  /** Ring frames non-adjacent (every other frame), so slots straddle pages in a PagedView. */
  paged?: boolean;
  poll?: BlkbackPoll;
  clock?: () => number;
  /** Page-store size and the frontend's page limit (default 512 and 256). */
  storeFrames?: number;
  domainPages?: number;
  /**
   * The XSA tests' layout: one ring frame, not granted, and the data pages allocated contiguously
   * (machine-adjacent frames behind separate grants). Default: the ring's frames granted as refs
   * 100…, the data pages allocated one by one, the last one granted read-only.
   */
  xsaLayout?: boolean;
  /** BlkbackRingOptions.duplicateResponse (chaos: backend.response-duplicated). */
  duplicateResponse?: (target: string) => boolean;
  /** Wraps the backend's view of the ring (to see and to race what the backend reads). */
  spy?: (view: MemView) => MemView;
}

export interface RingRig {
  ps: PageStore;
  hv: TestHv;
  disk: Disk;
  front: FrontRing;
  back: BlkbackRing;
  /** The data pages, granted as refs 200…207. */
  data: MemView[];
  halts: string[];
  /** Queue a request (its slot index is returned) without kicking. */
  put(op: number, sector: number, segs: [number, number, number][], id?: [number, number]): number;
  /** Publish what was queued, kicking the backend when the ring says so. */
  push(): void;
  /** put (with the next id, from 1) and push. */
  send(op: number, sector: number, segs: [number, number, number][]): void;
  /** The responses waiting, as (id, status). */
  responses(): { id: number; status: number }[];
  /** The responses waiting, every field the tests check. */
  responseRecords(): { idLo: number; idHi: number; status: number; op: number }[];
}

export function ringRig(options: RingRigOptions = {}): RingRig {
  const abi = options.abi ?? "x86_64";
  const pages = options.pages ?? 1;
  const xsa = options.xsaLayout === true;
  const ps = PageStore.create({ frames: options.storeFrames ?? 512 });
  ps.createDomain(FRONT, { maxPages: options.domainPages ?? 256 });
  let ringFrames: number[];
  if (xsa) ringFrames = ps.populatePhysmap(FRONT, 0x10, pages, true)!;
  else {
    // Ring frames: non-adjacent when `paged` (every other frame), so slots straddle pages in a PagedView.
    const all = ps.populatePhysmap(FRONT, 0x10, pages * 2, true)!;
    ringFrames = options.paged === true ? all.filter((_, i) => i % 2 === 0) : all.slice(0, pages);
  }
  const dataFrames = ps.populatePhysmap(FRONT, 0x100, 8, xsa)!;
  const hv = new TestHv(ps, options.zeroCopy ?? true);
  if (!xsa) ringFrames.forEach((f, i) => hv.grants.set(100 + i, { frame: f, readonly: false }));
  dataFrames.forEach((f, i) => hv.grants.set(200 + i, { frame: f, readonly: !xsa && i === 7 }));
  const front = FrontRing.init(ps.viewOfFrames(ringFrames), BLKIF_RING_ENTRY_BYTES[abi], { nrPages: pages });
  const backView = ps.viewOfFrames(ringFrames);
  const disk = new Disk(2048);
  const halts: string[] = [];
  const back = new BlkbackRing({
    hv,
    frontend: FRONT,
    view: options.spy ? options.spy(backView) : backView,
    nrPages: pages,
    abi,
    port: 9,
    store: disk,
    limits: LIMITS,
    persistent: false,
    clock: options.clock ?? (() => 0),
    ...(options.poll ? { poll: options.poll } : {}),
    ...(options.duplicateResponse ? { duplicateResponse: options.duplicateResponse } : {}),
    log: NULL_LOGGER,
    onHalt: (_e, msg) => halts.push(msg),
  });
  const req = newBlkifRequest();
  const rsp = newBlkifResponse();
  let nextId = 1;
  const readResponses = <T>(record: () => T): T[] => {
    const out: T[] = [];
    while (front.unconsumedResponses() > 0) {
      decodeResponse(front.view.read(front.responseOffset(front.rspCons), 16), 0, abi, rsp);
      front.consumeResponses();
      out.push(record());
    }
    front.finalCheckForResponses();
    return out;
  };
  const rig: RingRig = {
    ps,
    hv,
    disk,
    front,
    back,
    data: dataFrames.map((f) => ps.viewOfFrames([f])),
    halts,
    put(op, sector, segs, id = [1, 0]) {
      req.operation = op;
      req.nrSegments = segs.length;
      req.idLo = id[0];
      req.idHi = id[1];
      setRequestSector(req, sector);
      segs.forEach(([gref, first, last], i) => {
        req.segments[i]!.gref = gref;
        req.segments[i]!.firstSect = first;
        req.segments[i]!.lastSect = last;
      });
      const slot = front.nextRequest();
      encodeRequest(front.view, slot, abi, req);
      return slot;
    },
    push() {
      if (front.pushRequestsAndCheckNotify()) back.kick();
    },
    send(op, sector, segs) {
      rig.put(op, sector, segs, [nextId++, 0]);
      rig.push();
    },
    responses: () => readResponses(() => ({ id: rsp.idLo, status: rsp.status })),
    responseRecords: () =>
      readResponses(() => ({ idLo: rsp.idLo, idHi: rsp.idHi, status: rsp.status, op: rsp.operation })),
  };
  return rig;
}
