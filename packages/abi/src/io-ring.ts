// io/ring.h: the generic shared ring (struct <name>_sring) and its size arithmetic.

import { layout } from "./layout.js";

/** Xen's page size on x86/Arm (4 KiB); the unit of grants and ring pages. Not a macro of ring.h. */
export const XEN_PAGE_SIZE = 4096;

/** RING_IDX: free-running u32 index. */
export const RING_IDX_BYTES = 4;

/** Header of every shared ring page (identical for every ring type). */
export const SRING_LAYOUT = layout({
  req_prod: 0,
  req_event: 4,
  rsp_prod: 8,
  rsp_event: 12,
  /** union pvt: netif.smartpoll_active / tapif_user.msg (u8) / pvt_pad[4]. */
  pvt: 16,
  __pad: 20,
  /** First ring entry; entries run on across page boundaries in a multi-page ring. */
  ring: 64,
});
/** Bytes in front of ring[0]: offsetof(struct <name>_sring, ring). */
export const SRING_HEADER_BYTES = SRING_LAYOUT.ring;

/**
 * __RD32: keep only the highest set bit of the low 32 bits of `x` (rounds down to a power of two;
 * 0 stays 0). Like the macro cascade, bits above 31 are ignored.
 */
export function rd32(x: number): number {
  if (!Number.isInteger(x) || x < 0) throw new RangeError(`rd32: not a non-negative integer: ${x}`);
  const lo = x % 2 ** 32;
  return lo === 0 ? 0 : highestBit(lo);
}

function highestBit(v: number): number {
  let p = 1;
  while (p * 2 <= v) p *= 2;
  return p;
}

/**
 * __RING_SIZE / __CONST_RING_SIZE: the number of entries of a ring occupying `totalBytes`
 * (all ring pages together) whose entry (union of request and response) is `entryBytes` long:
 * __RD32((totalBytes - 64) / entryBytes) with integer division.
 */
export function ringSize(totalBytes: number, entryBytes: number): number {
  if (!Number.isInteger(totalBytes) || totalBytes < SRING_HEADER_BYTES)
    throw new RangeError(`ringSize: total bytes must be an integer >= ${SRING_HEADER_BYTES}: ${totalBytes}`);
  if (!Number.isInteger(entryBytes) || entryBytes < 1)
    throw new RangeError(`ringSize: entry bytes must be a positive integer: ${entryBytes}`);
  return rd32(Math.floor((totalBytes - SRING_HEADER_BYTES) / entryBytes));
}

/** Byte offset of ring slot `idx` (free-running index, masked here) inside the mapped ring. */
export function ringSlotOffset(idx: number, size: number, entryBytes: number): number {
  return SRING_HEADER_BYTES + ((idx >>> 0) & (size - 1)) * entryBytes;
}
