// io/blkif.h: the block device protocol (requests, responses, limits), plus the x86_32 layouts.

import { layout, perAbi, type XenAbi } from "./layout.js";
import { ringSize, XEN_PAGE_SIZE } from "./io-ring.js";

/** BLKIF_OP_*: request `operation` byte. */
export const BlkifOp = Object.freeze({
  READ: 0,
  WRITE: 1,
  WRITE_BARRIER: 2,
  FLUSH_DISKCACHE: 3,
  /** Used privately by SLES; never sent by upstream frontends. */
  RESERVED_1: 4,
  DISCARD: 5,
  INDIRECT: 6,
} as const);
export type BlkifOp = (typeof BlkifOp)[keyof typeof BlkifOp];

/** BLKIF_RSP_*: response `status` (int16). */
export const BLKIF_RSP_EOPNOTSUPP = -2;
export const BLKIF_RSP_ERROR = -1;
export const BLKIF_RSP_OKAY = 0;
export const BlkifRsp = Object.freeze({
  EOPNOTSUPP: BLKIF_RSP_EOPNOTSUPP,
  ERROR: BLKIF_RSP_ERROR,
  OKAY: BLKIF_RSP_OKAY,
} as const);
export type BlkifRsp = (typeof BlkifRsp)[keyof typeof BlkifRsp];

export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
export const BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST = 8;
/** Discard `flag` bit. */
export const BLKIF_DISCARD_SECURE = 1;

/** `info` bitmap in the backend directory. */
export const VDISK_CDROM = 0x1;
export const VDISK_REMOVABLE = 0x2;
export const VDISK_READONLY = 0x4;

/** Sector unit of sector_number, nr_sectors, first_sect/last_sect and `sectors` (not a header macro). */
export const BLKIF_SECTOR_BYTES = 512;
/** A segment's last_sect must be <= this (4 KiB page / 512). */
export const BLKIF_MAX_SECT_PER_PAGE = XEN_PAGE_SIZE / BLKIF_SECTOR_BYTES - 1;

/** struct blkif_request_segment (8 bytes, both ABIs). */
export const BLKIF_REQUEST_SEGMENT_LAYOUT = layout({ gref: 0, first_sect: 4, last_sect: 5, size: 8 });
/**
 * Segments per indirect page (Linux's XEN_PAGES_PER_INDIRECT_FRAME): 4096 / sizeof(segment) = 512.
 * Not a macro of the Xen header.
 */
export const BLKIF_SEGS_PER_INDIRECT_FRAME = XEN_PAGE_SIZE / BLKIF_REQUEST_SEGMENT_LAYOUT.size;

/** struct blkif_request (read / write / barrier / flush). */
export const BLKIF_REQUEST_LAYOUT = perAbi(
  { operation: 0, nr_segments: 1, handle: 2, id: 8, sector_number: 16, seg: 24, size: 112 },
  { operation: 0, nr_segments: 1, handle: 2, id: 4, sector_number: 12, seg: 20, size: 108 },
);

/** struct blkif_request_discard (`handle` is called pad in Linux). */
export const BLKIF_REQUEST_DISCARD_LAYOUT = perAbi(
  { operation: 0, flag: 1, handle: 2, id: 8, sector_number: 16, nr_sectors: 24, size: 32 },
  { operation: 0, flag: 1, handle: 2, id: 4, sector_number: 12, nr_sectors: 20, size: 28 },
);

/** struct blkif_request_indirect (64 bytes on both; the i386 header adds a trailing u64 pad). */
export const BLKIF_REQUEST_INDIRECT_LAYOUT = perAbi(
  {
    operation: 0,
    indirect_op: 1,
    nr_segments: 2,
    id: 8,
    sector_number: 16,
    handle: 24,
    indirect_grefs: 28,
    size: 64,
  },
  {
    operation: 0,
    indirect_op: 1,
    nr_segments: 2,
    id: 4,
    sector_number: 12,
    handle: 20,
    indirect_grefs: 24,
    size: 64,
  },
);

/** struct blkif_response: pad bytes (9, 12..15 / 9) must be written as zero. */
export const BLKIF_RESPONSE_LAYOUT = perAbi(
  { id: 0, operation: 8, status: 10, size: 16 },
  { id: 0, operation: 8, status: 10, size: 12 },
);

/** Ring slot stride: sizeof(union blkif_sring_entry) = max(request, response). */
export const BLKIF_RING_ENTRY_BYTES = Object.freeze({ x86_64: 112, x86_32: 108 } as const);

/** Entries of a blkif ring of `nrPages` 4 KiB pages (1 → 32, 16 → 512, 64 → 2048). */
export function blkifRingSize(nrPages: number, abi: XenAbi = "x86_64"): number {
  return ringSize(nrPages * XEN_PAGE_SIZE, BLKIF_RING_ENTRY_BYTES[abi]);
}
