// The shared page header of every Xen ring (io/ring.h, struct <name>_sring) and what both ends
// share: SHARED_RING_INIT, the ring size, slot copies, the error vocabulary.

import { ringSize, SRING_HEADER_BYTES, SRING_LAYOUT, XEN_PAGE_SIZE } from "@xensim/abi";
import type { MemView } from "@xensim/memory";

/** Byte offsets of the four shared index words (aligned, read and written with Atomics). */
export const REQ_PROD = SRING_LAYOUT.req_prod;
export const REQ_EVENT = SRING_LAYOUT.req_event;
export const RSP_PROD = SRING_LAYOUT.rsp_prod;
export const RSP_EVENT = SRING_LAYOUT.rsp_event;

export type RingErrorCode =
  | "bad_size"
  | "ring_full"
  | "request_prod_overflow"
  | "response_prod_overflow"
  | "request_cons_overflow"
  | "nothing_to_consume"
  | "short_buffer";

/** A misuse of the ring by this end, or a misbehaving peer (the `*_overflow` codes). */
export class RingError extends Error {
  override readonly name = "RingError";
  constructor(
    readonly code: RingErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RingOptions {
  /**
   * Pages the ring was negotiated with (ring-page-order / nr ring refs). The size is then computed
   * from nrPages × 4096 bytes instead of the view's length; the view must be at least that long.
   */
  readonly nrPages?: number;
  /**
   * The free-running index both private indices start at (FRONT_RING_ATTACH / BACK_RING_ATTACH
   * `_i`). Default: the `rsp_prod` found on the page, as Linux blkback attaches on reconnect.
   */
  readonly start?: number;
}

/**
 * SHARED_RING_INIT: req_prod = rsp_prod = 0, req_event = rsp_event = 1, pvt and __pad zeroed.
 * Only the frontend initialises a ring; the whole 64-byte header is marked written.
 */
export function sharedRingInit(view: MemView): void {
  for (let off = SRING_LAYOUT.pvt; off < SRING_HEADER_BYTES; off += 4) view.setU32(off, 0);
  view.atomicStore32(REQ_EVENT, 1);
  view.atomicStore32(RSP_EVENT, 1);
  view.atomicStore32(RSP_PROD, 0);
  view.atomicStore32(REQ_PROD, 0);
  view.markWritten(0, SRING_HEADER_BYTES);
}

/** The four shared index words as found on the page (a snapshot, for logs and tests). */
export interface SringIndices {
  readonly reqProd: number;
  readonly reqEvent: number;
  readonly rspProd: number;
  readonly rspEvent: number;
}

export function readSringIndices(view: MemView): SringIndices {
  return {
    reqProd: view.atomicLoad32(REQ_PROD),
    reqEvent: view.atomicLoad32(REQ_EVENT),
    rspProd: view.atomicLoad32(RSP_PROD),
    rspEvent: view.atomicLoad32(RSP_EVENT),
  };
}

/** __RING_SIZE for a ring over `view` (or over `nrPages` pages of it), validated. */
export function resolveRingSize(view: MemView, entryBytes: number, nrPages?: number): number {
  let bytes = view.byteLength;
  if (nrPages !== undefined) {
    if (!Number.isInteger(nrPages) || nrPages < 1 || nrPages * XEN_PAGE_SIZE > view.byteLength)
      throw new RingError(
        "bad_size",
        `ring of ${nrPages} pages does not fit a view of ${view.byteLength} bytes`,
      );
    bytes = nrPages * XEN_PAGE_SIZE;
  }
  if (bytes < SRING_HEADER_BYTES)
    throw new RingError("bad_size", `a ring view needs at least ${SRING_HEADER_BYTES} bytes`);
  const size = ringSize(bytes, entryBytes);
  if (size < 1) throw new RingError("bad_size", `no ${entryBytes}-byte entry fits in ${bytes} bytes`);
  return size;
}

/**
 * Copy `len` bytes of the view at `off` into `dst` (from index 0) — MemView.readInto, no allocation.
 * Works across page boundaries of a paged view.
 */
export function copyOut(view: MemView, off: number, len: number, dst: Uint8Array): void {
  if (dst.length < len) throw new RingError("short_buffer", `need ${len} bytes, got ${dst.length}`);
  view.readInto(off, dst, 0, len);
}

export function copyIn(view: MemView, off: number, len: number, src: Uint8Array): void {
  if (src.length < len) throw new RingError("short_buffer", `need ${len} bytes, got ${src.length}`);
  view.writeFrom(off, src, 0, len);
}

/**
 * markWritten for the slots of free-running indices [from, to) (at most one full ring), in at
 * most two ranges (the run may wrap past the last slot).
 */
export function markSlotsWritten(
  view: MemView,
  size: number,
  entryBytes: number,
  from: number,
  to: number,
): void {
  let count = (to - from) >>> 0;
  if (count === 0) return;
  if (count > size) count = size;
  const first = from & (size - 1);
  const head = Math.min(count, size - first);
  view.markWritten(SRING_HEADER_BYTES + first * entryBytes, head * entryBytes);
  if (count > head) view.markWritten(SRING_HEADER_BYTES, (count - head) * entryBytes);
}
