// The frontend's end of a shared ring (io/ring.h "front ring"): produces requests, consumes
// responses. Private indices req_prod_pvt and rsp_cons; shared words through Atomics.

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
  sharedRingInit,
} from "./sring.js";

export class FrontRing {
  /** RING_SIZE: number of slots (a power of two). */
  readonly size: number;
  private readonly mask: number;
  #reqProdPvt: number;
  #rspCons: number;

  /**
   * FRONT_RING_ATTACH over `view` (ring-ref0..N-1 in order) whose entries are `entryBytes` long
   * (sizeof the request/response union). Use `FrontRing.init` for a fresh ring.
   */
  constructor(
    readonly view: MemView,
    readonly entryBytes: number,
    options: RingOptions = {},
  ) {
    this.size = resolveRingSize(view, entryBytes, options.nrPages);
    this.mask = this.size - 1;
    const start = (options.start ?? view.atomicLoad32(RSP_PROD)) >>> 0;
    this.#reqProdPvt = start;
    this.#rspCons = start;
  }

  /** SHARED_RING_INIT then FRONT_RING_INIT (XEN_FRONT_RING_INIT): a fresh ring at index 0. */
  static init(view: MemView, entryBytes: number, options: { nrPages?: number } = {}): FrontRing {
    sharedRingInit(view);
    return new FrontRing(view, entryBytes, { nrPages: options.nrPages, start: 0 });
  }

  /** FRONT_RING_ATTACH: at `options.start`, default the `rsp_prod` found on the page. */
  static attach(view: MemView, entryBytes: number, options: RingOptions = {}): FrontRing {
    return new FrontRing(view, entryBytes, options);
  }

  /** req_prod_pvt: next request index to fill (private, free-running u32). */
  get reqProdPvt(): number {
    return this.#reqProdPvt;
  }
  set reqProdPvt(v: number) {
    this.#reqProdPvt = v >>> 0;
  }
  /** rsp_cons: next response index to consume (private, free-running u32). */
  get rspCons(): number {
    return this.#rspCons;
  }
  set rspCons(v: number) {
    this.#rspCons = v >>> 0;
  }

  /** RING_FREE_REQUESTS. */
  freeRequests(): number {
    return (this.size - ((this.#reqProdPvt - this.#rspCons) >>> 0)) >>> 0;
  }
  /** RING_FULL. */
  full(): boolean {
    return this.freeRequests() === 0;
  }

  /** Byte offset in the view of the slot of free-running index `idx` (RING_GET_REQUEST). */
  requestOffset(idx: number): number {
    return SRING_HEADER_BYTES + (idx & this.mask) * this.entryBytes;
  }
  /** Byte offset of the slot of `idx` (RING_GET_RESPONSE; same slots as requests). */
  responseOffset(idx: number): number {
    return SRING_HEADER_BYTES + (idx & this.mask) * this.entryBytes;
  }

  /**
   * RING_GET_REQUEST(r, r->req_prod_pvt++): the offset of the next free request slot, claimed.
   * Throws RingError("ring_full") when no slot is free. The caller fills the slot, then pushes.
   */
  nextRequest(): number {
    if (this.freeRequests() === 0) throw new RingError("ring_full", "front ring full");
    const off = this.requestOffset(this.#reqProdPvt);
    this.#reqProdPvt = (this.#reqProdPvt + 1) >>> 0;
    return off;
  }

  /** Copy `src` (entryBytes long, or shorter to fill a prefix) into the slot of `idx`. */
  writeRequest(idx: number, src: Uint8Array, len: number = Math.min(src.length, this.entryBytes)): void {
    copyIn(this.view, this.requestOffset(idx), len, src);
  }

  /** RING_PUSH_REQUESTS: publish requests up to req_prod_pvt. */
  pushRequests(): void {
    const v = this.view;
    const old = v.atomicLoad32(REQ_PROD);
    const now = this.#reqProdPvt;
    markSlotsWritten(v, this.size, this.entryBytes, old, now);
    v.atomicStore32(REQ_PROD, now);
    v.markWritten(REQ_PROD, 4);
  }

  /**
   * RING_PUSH_REQUESTS_AND_CHECK_NOTIFY: publish, then true iff req_event lies in (old, new]
   * (mod 2^32) — the backend asked to be told. The ring does not notify; the caller does.
   */
  pushRequestsAndCheckNotify(): boolean {
    const v = this.view;
    const old = v.atomicLoad32(REQ_PROD);
    const now = this.#reqProdPvt;
    markSlotsWritten(v, this.size, this.entryBytes, old, now);
    v.atomicStore32(REQ_PROD, now);
    v.markWritten(REQ_PROD, 4);
    const event = v.atomicLoad32(REQ_EVENT);
    return (now - event) >>> 0 < (now - old) >>> 0;
  }

  /**
   * Would pushing now notify (req_event in (req_prod, req_prod_pvt])? A hint read without pushing:
   * a caller may defer a push the backend is not waiting for to batch its requests — the push
   * itself still decides (pushRequestsAndCheckNotify), so a late change of req_event loses nothing.
   */
  pushWouldNotify(): boolean {
    const v = this.view;
    const old = v.atomicLoad32(REQ_PROD);
    const now = this.#reqProdPvt;
    const event = v.atomicLoad32(REQ_EVENT);
    return (now - event) >>> 0 < (now - old) >>> 0;
  }

  /** sring->rsp_prod as on the page now (an Atomics load: responses before it are readable). */
  responseProd(): number {
    return this.view.atomicLoad32(RSP_PROD);
  }

  /** RING_RESPONSE_PROD_OVERFLOW: could the backend have produced this many responses? */
  responseProdOverflow(prod: number): boolean {
    return (prod - this.#rspCons) >>> 0 > this.size;
  }

  /**
   * RING_HAS_UNCONSUMED_RESPONSES (the count): rsp_prod − rsp_cons. Throws
   * RingError("response_prod_overflow") when the backend published an impossible rsp_prod.
   */
  unconsumedResponses(): number {
    const prod = this.view.atomicLoad32(RSP_PROD);
    const n = (prod - this.#rspCons) >>> 0;
    if (n > this.size)
      throw new RingError(
        "response_prod_overflow",
        `backend rsp_prod ${prod} is more than ${this.size} ahead of rsp_cons ${this.#rspCons}`,
      );
    return n;
  }

  /** Copy the response slot of `idx` (entryBytes, or `len`) into `dst` (RING_COPY_RESPONSE). */
  copyResponse(idx: number, dst: Uint8Array, len: number = Math.min(dst.length, this.entryBytes)): void {
    copyOut(this.view, this.responseOffset(idx), len, dst);
  }

  /**
   * Advance rsp_cons by `n` (after reading those responses). Throws
   * RingError("nothing_to_consume") when fewer than `n` responses are published.
   */
  consumeResponses(n = 1): void {
    if (n > this.unconsumedResponses())
      throw new RingError("nothing_to_consume", `consume ${n} responses: not published`);
    this.#rspCons = (this.#rspCons + n) >>> 0;
  }

  /**
   * RING_FINAL_CHECK_FOR_RESPONSES: true if responses are waiting; otherwise set
   * rsp_event = rsp_cons + 1 and check again (a response published in between is seen here, or
   * its producer's push says notify).
   */
  finalCheckForResponses(): boolean {
    if (this.unconsumedResponses() !== 0) return true;
    this.view.atomicStore32(RSP_EVENT, (this.#rspCons + 1) >>> 0);
    this.view.markWritten(RSP_EVENT, 4);
    return this.unconsumedResponses() !== 0;
  }
}
