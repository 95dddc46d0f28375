// The backend's end of a shared ring (io/ring.h "back ring"): consumes requests, produces
// responses. Private indices req_cons and rsp_prod_pvt; shared words through Atomics.

import { SRING_HEADER_BYTES } from "@xensim/abi";
import type { MemView } from "@xensim/memory";
import {
  copyIn,
  copyOut,
  markSlotsWritten,
  REQ_EVENT,
  REQ_PROD,
  resolveRingSize,
  RingError,
  type RingOptions,
  RSP_EVENT,
  RSP_PROD,
} from "./sring.js";

export class BackRing {
  /** RING_SIZE: number of slots (a power of two). */
  readonly size: number;
  private readonly mask: number;
  #reqCons: number;
  #rspProdPvt: number;

  /**
   * BACK_RING_ATTACH over `view` (the frontend's ring-refs mapped in order) whose entries are
   * `entryBytes` long. Backends never initialise the shared page. Without `options.start` both
   * private indices start at the `rsp_prod` on the page (Linux blkback on (re)connect), and a
   * `req_prod` that cannot be right for that start throws RingError("request_prod_overflow").
   */
  constructor(
    readonly view: MemView,
    readonly entryBytes: number,
    options: RingOptions = {},
  ) {
    this.size = resolveRingSize(view, entryBytes, options.nrPages);
    this.mask = this.size - 1;
    const start = (options.start ?? view.atomicLoad32(RSP_PROD)) >>> 0;
    this.#reqCons = start;
    this.#rspProdPvt = start;
    const prod = view.atomicLoad32(REQ_PROD);
    if (this.requestProdOverflow(prod))
      throw new RingError(
        "request_prod_overflow",
        `req_prod ${prod} is more than ${this.size} ahead of rsp_prod ${start}`,
      );
  }

  /** BACK_RING_ATTACH (see the constructor). */
  static attach(view: MemView, entryBytes: number, options: RingOptions = {}): BackRing {
    return new BackRing(view, entryBytes, options);
  }

  /** req_cons: next request index to consume (private, free-running u32). */
  get reqCons(): number {
    return this.#reqCons;
  }
  set reqCons(v: number) {
    this.#reqCons = v >>> 0;
  }
  /** rsp_prod_pvt: next response index to fill (private, free-running u32). */
  get rspProdPvt(): number {
    return this.#rspProdPvt;
  }
  set rspProdPvt(v: number) {
    this.#rspProdPvt = v >>> 0;
  }

  /** Byte offset in the view of the slot of free-running index `idx` (RING_GET_REQUEST). */
  requestOffset(idx: number): number {
    return SRING_HEADER_BYTES + (idx & this.mask) * this.entryBytes;
  }
  /** Byte offset of the slot of `idx` (RING_GET_RESPONSE). */
  responseOffset(idx: number): number {
    return SRING_HEADER_BYTES + (idx & this.mask) * this.entryBytes;
  }

  /** sring->req_prod as on the page now (an Atomics load: requests before it are readable). */
  requestProd(): number {
    return this.view.atomicLoad32(REQ_PROD);
  }

  /** RING_REQUEST_CONS_OVERFLOW: consuming `cons` would leave no slot for its response. */
  requestConsOverflow(cons: number): boolean {
    return (cons - this.#rspProdPvt) >>> 0 >= this.size;
  }
  /** RING_REQUEST_PROD_OVERFLOW: could the frontend have produced this many requests? */
  requestProdOverflow(prod: number): boolean {
    return (prod - this.#rspProdPvt) >>> 0 > this.size;
  }

  /**
   * RING_HAS_UNCONSUMED_REQUESTS (the count): min(req_prod − req_cons,
   * size − (req_cons − rsp_prod_pvt)). Throws RingError("request_prod_overflow") when the
   * frontend published an impossible req_prod (RING_REQUEST_PROD_OVERFLOW, as Linux blkback checks).
   */
  unconsumedRequests(): number {
    const prod = this.view.atomicLoad32(REQ_PROD);
    if ((prod - this.#rspProdPvt) >>> 0 > this.size)
      throw new RingError(
        "request_prod_overflow",
        `frontend req_prod ${prod} is more than ${this.size} ahead of rsp_prod_pvt ${this.#rspProdPvt}`,
      );
    const req = (prod - this.#reqCons) >>> 0;
    const rsp = (this.size - ((this.#reqCons - this.#rspProdPvt) >>> 0)) >>> 0;
    return req < rsp ? req : rsp;
  }

  /**
   * RING_COPY_REQUEST: copy the request slot of `idx` into the private `dst` (entryBytes, or
   * `len`). Parse only the copy, never the shared slot again (XSA-155).
   */
  copyRequest(idx: number, dst: Uint8Array, len: number = Math.min(dst.length, this.entryBytes)): void {
    copyOut(this.view, this.requestOffset(idx), len, dst);
  }

  /**
   * Advance req_cons by `n` (after copying those requests). Throws RingError("nothing_to_consume")
   * when fewer than `n` requests are available (published and with a free response slot).
   */
  consumeRequests(n = 1): void {
    if (n > this.unconsumedRequests())
      throw new RingError("nothing_to_consume", `consume ${n} requests: not available`);
    this.#reqCons = (this.#reqCons + n) >>> 0;
  }

  /**
   * RING_GET_RESPONSE(r, r->rsp_prod_pvt++): the offset of the next response slot, claimed.
   * Throws RingError("request_cons_overflow") when no consumed request awaits a response there.
   */
  nextResponse(): number {
    if (this.#rspProdPvt === this.#reqCons)
      throw new RingError("request_cons_overflow", "no consumed request awaits a response");
    const off = this.responseOffset(this.#rspProdPvt);
    this.#rspProdPvt = (this.#rspProdPvt + 1) >>> 0;
    return off;
  }

  /** Copy `src` (entryBytes long, or a prefix) into the slot of `idx`. */
  writeResponse(idx: number, src: Uint8Array, len: number = Math.min(src.length, this.entryBytes)): void {
    copyIn(this.view, this.responseOffset(idx), len, src);
  }

  /**
   * Would pushing now notify (rsp_event in (rsp_prod, rsp_prod_pvt])? A hint read without pushing
   * (see FrontRing.pushWouldNotify): the push itself still decides.
   */
  pushWouldNotify(): boolean {
    const v = this.view;
    const old = v.atomicLoad32(RSP_PROD);
    const now = this.#rspProdPvt;
    const event = v.atomicLoad32(RSP_EVENT);
    return (now - event) >>> 0 < (now - old) >>> 0;
  }

  /** RING_PUSH_RESPONSES: publish responses up to rsp_prod_pvt. */
  pushResponses(): void {
    const v = this.view;
    const old = v.atomicLoad32(RSP_PROD);
    const now = this.#rspProdPvt;
    markSlotsWritten(v, this.size, this.entryBytes, old, now);
    v.atomicStore32(RSP_PROD, now);
    v.markWritten(RSP_PROD, 4);
  }

  /**
   * pushResponses up to `idx` (between the shared rsp_prod and rspProdPvt): responses written after
   * a point stay private. Across host processes a backend publishes slots, then pushes the index
   * that covers only what it published.
   */
  pushResponsesUpTo(idx: number): void {
    const v = this.view;
    const old = v.atomicLoad32(RSP_PROD);
    const to = idx >>> 0;
    if ((to - old) >>> 0 > (this.#rspProdPvt - old) >>> 0)
      throw new RingError("request_cons_overflow", `push to ${to} beyond rsp_prod_pvt ${this.#rspProdPvt}`);
    markSlotsWritten(v, this.size, this.entryBytes, old, to);
    v.atomicStore32(RSP_PROD, to);
    v.markWritten(RSP_PROD, 4);
  }

  /**
   * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publish, then true iff rsp_event lies in (old, new]
   * (mod 2^32). The ring does not notify; the caller does.
   */
  pushResponsesAndCheckNotify(): boolean {
    const v = this.view;
    const old = v.atomicLoad32(RSP_PROD);
    const now = this.#rspProdPvt;
    markSlotsWritten(v, this.size, this.entryBytes, old, now);
    v.atomicStore32(RSP_PROD, now);
    v.markWritten(RSP_PROD, 4);
    const event = v.atomicLoad32(RSP_EVENT);
    return (now - event) >>> 0 < (now - old) >>> 0;
  }

  /**
   * RING_FINAL_CHECK_FOR_REQUESTS: true if requests are waiting; otherwise set
   * req_event = req_cons + 1 and check again.
   */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() !== 0) return true;
    this.view.atomicStore32(REQ_EVENT, (this.#reqCons + 1) >>> 0);
    this.view.markWritten(REQ_EVENT, 4);
    return this.unconsumedRequests() !== 0;
  }
}
