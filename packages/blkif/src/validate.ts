// Linux blkback's request validation (fact sheet §2.3), on a decoded private copy of a request.
//
// Every failure here is per request: Linux answers it with BLKIF_RSP_ERROR or BLKIF_RSP_EOPNOTSUPP
// and carries on with the ring. What Linux treats as fatal for a ring is not in a request's
// contents: a req_prod that overflows the ring (the ring library's RING_REQUEST_PROD_OVERFLOW; the
// ring halts until reconnect) and connect-time errors (bad protocol, ring-page-order, queue count:
// see the backend reducer, which writes `error` and goes Closing).

import {
  BLKIF_DISCARD_SECURE,
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SECT_PER_PAGE,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_RSP_EOPNOTSUPP,
  BLKIF_RSP_ERROR,
  BLKIF_RSP_OKAY,
  BLKIF_SECTOR_BYTES,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  BlkifOp,
} from "@xensim/abi";
import type { BlkifRequest, BlkifSegment } from "./codec.js";

/** What the backend's vbd allows and what it advertised. */
export interface BlkifLimits {
  /** Device size in 512-byte sectors (xenstore `sectors`). */
  readonly sectors: number;
  /** Logical block size in bytes (`sector-size`); start and segment lengths must be multiples. Default 512. */
  readonly sectorSize?: number;
  readonly readonly: boolean;
  /** The advertised `feature-max-indirect-segments` (0: indirect not offered, every INDIRECT fails). */
  readonly maxIndirectSegments: number;
  /** `feature-flush-cache`: BLKIF_OP_FLUSH_DISKCACHE is served (else EOPNOTSUPP). */
  readonly flush: boolean;
  /** `feature-barrier`: BLKIF_OP_WRITE_BARRIER is served (else EOPNOTSUPP). */
  readonly barrier: boolean;
  /** `feature-discard`: BLKIF_OP_DISCARD is served (else EOPNOTSUPP). */
  readonly discard: boolean;
  /** `discard-secure`: BLKIF_DISCARD_SECURE is honoured (else the discard is done as a plain one, as Linux). */
  readonly discardSecure: boolean;
}

export type BlkifVerdict =
  | { readonly status: typeof BLKIF_RSP_OKAY }
  | { readonly status: typeof BLKIF_RSP_ERROR | typeof BLKIF_RSP_EOPNOTSUPP; readonly reason: string };

/** The one OKAY verdict (no allocation on the accepted path). */
export const BLKIF_VERDICT_OKAY: BlkifVerdict = Object.freeze({ status: BLKIF_RSP_OKAY });

function error(reason: string): BlkifVerdict {
  return { status: BLKIF_RSP_ERROR, reason };
}
function notSupported(reason: string): BlkifVerdict {
  return { status: BLKIF_RSP_EOPNOTSUPP, reason };
}

/** Segments an INDIRECT request can name at most (8 indirect pages × 512). */
export const BLKIF_MAX_INDIRECT_SEGMENTS_ABI =
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST * BLKIF_SEGS_PER_INDIRECT_FRAME;

/** The effective operation: indirect_op for INDIRECT, else operation. */
function effectiveOp(req: BlkifRequest): number {
  return req.operation === BlkifOp.INDIRECT ? req.indirectOp : req.operation;
}

/** True for operations that write the device (Linux's REQ_OP_WRITE: write, barrier, flush). */
export function isWriteOp(op: number): boolean {
  return op === BlkifOp.WRITE || op === BlkifOp.WRITE_BARRIER || op === BlkifOp.FLUSH_DISKCACHE;
}

/**
 * Validate a decoded request as Linux blkback does, in its order. For read/write/barrier/flush and
 * discard this is the whole check. For INDIRECT it checks the header (indirect_op, nr_segments
 * against `maxIndirectSegments`), so the caller knows `indirectPages(req.nrSegments)` grefs are sane
 * to map; then it must decode the segments from those pages and call `validateIndirectSegments`.
 * Unknown operations → EOPNOTSUPP.
 */
export function validateRequest(req: BlkifRequest, limits: BlkifLimits): BlkifVerdict {
  const op = req.operation;
  switch (op) {
    case BlkifOp.READ:
    case BlkifOp.WRITE:
    case BlkifOp.WRITE_BARRIER:
    case BlkifOp.FLUSH_DISKCACHE:
    case BlkifOp.INDIRECT:
      break;
    case BlkifOp.DISCARD:
      return validateDiscard(req, limits);
    default:
      return notSupported(`unknown operation ${op}`);
  }
  const eop = effectiveOp(req);
  if (op === BlkifOp.INDIRECT && eop !== BlkifOp.READ && eop !== BlkifOp.WRITE)
    return error(`invalid indirect operation ${eop}`);
  if (op === BlkifOp.WRITE_BARRIER && !limits.barrier) return notSupported("write barrier not advertised");
  if (op === BlkifOp.FLUSH_DISKCACHE && !limits.flush) return notSupported("flush not advertised");
  const nseg = req.nrSegments;
  const flushLike = op === BlkifOp.WRITE_BARRIER || op === BlkifOp.FLUSH_DISKCACHE;
  if (nseg === 0 && !flushLike) return error("bad number of segments in request (0)");
  if (op !== BlkifOp.INDIRECT && nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST)
    return error(`bad number of segments in request (${nseg} > ${BLKIF_MAX_SEGMENTS_PER_REQUEST})`);
  if (op === BlkifOp.INDIRECT) {
    const max = Math.min(limits.maxIndirectSegments, BLKIF_MAX_INDIRECT_SEGMENTS_ABI);
    if (nseg > max) return error(`bad number of segments in request (${nseg} > ${max} indirect)`);
    return BLKIF_VERDICT_OKAY;
  }
  return checkSegmentsAndRange(req, req.segments, nseg, eop, limits);
}

/**
 * Second half of an INDIRECT request's validation: `segs[0 .. req.nrSegments)` decoded from its
 * indirect pages. Checks each segment, then range, read-only and alignment as for direct requests.
 * Calls validateRequest's header checks again first, so it is safe on its own.
 */
export function validateIndirectSegments(
  req: BlkifRequest,
  segs: readonly BlkifSegment[],
  limits: BlkifLimits,
): BlkifVerdict {
  if (req.operation !== BlkifOp.INDIRECT) return error(`operation ${req.operation} is not indirect`);
  const head = validateRequest(req, limits);
  if (head.status !== BLKIF_RSP_OKAY) return head;
  if (segs.length < req.nrSegments)
    return error(`only ${segs.length} of ${req.nrSegments} indirect segments given`);
  return checkSegmentsAndRange(req, segs, req.nrSegments, req.indirectOp, limits);
}

function checkSegmentsAndRange(
  req: BlkifRequest,
  segs: readonly BlkifSegment[],
  nseg: number,
  eop: number,
  limits: BlkifLimits,
): BlkifVerdict {
  let nrSects = 0;
  for (let i = 0; i < nseg; i++) {
    const s = segs[i]!;
    if (s.lastSect > BLKIF_MAX_SECT_PER_PAGE)
      return error(`segment ${i}: last_sect ${s.lastSect} beyond the page`);
    if (s.lastSect < s.firstSect)
      return error(`segment ${i}: last_sect ${s.lastSect} < first_sect ${s.firstSect}`);
    nrSects += s.lastSect - s.firstSect + 1;
  }
  const range = checkRange(req.sectorLo, req.sectorHi, nrSects, isWriteOp(eop), limits);
  if (range !== undefined) return error(range);
  const lbs = (limits.sectorSize ?? BLKIF_SECTOR_BYTES) / BLKIF_SECTOR_BYTES;
  if (lbs > 1) {
    const mask = lbs - 1;
    for (let i = 0; i < nseg; i++) {
      const s = segs[i]!;
      if (((req.sectorLo | (s.lastSect - s.firstSect + 1)) & mask) !== 0)
        return error(`misaligned I/O (logical block ${limits.sectorSize} bytes)`);
    }
  }
  return BLKIF_VERDICT_OKAY;
}

/** Linux xen_vbd_translate: read-only vbd, then (for a non-empty range) u64 wrap and device end. */
function checkRange(
  lo: number,
  hi: number,
  nrSects: number,
  write: boolean,
  limits: BlkifLimits,
): string | undefined {
  if (write && limits.readonly) return "write to a read-only vbd";
  if (nrSects === 0) return undefined;
  // hi >= 2^21: the start is >= 2^53, past any device (and covers the u64 wrap).
  if (hi >= 0x20_0000) return "sector range past the end of the device";
  const end = hi * 0x1_0000_0000 + lo + nrSects;
  if (end > limits.sectors) return `sector range past the end of the device (${end} > ${limits.sectors})`;
  return undefined;
}

function validateDiscard(req: BlkifRequest, limits: BlkifLimits): BlkifVerdict {
  if (!limits.discard) return notSupported("discard not advertised");
  if (limits.readonly) return error("discard on a read-only vbd");
  if (req.nrSectorsHi >= 0x20_0000) return error("discard range past the end of the device");
  const n = req.nrSectorsHi * 0x1_0000_0000 + req.nrSectorsLo;
  const range = checkRange(req.sectorLo, req.sectorHi, n, true, limits);
  if (range !== undefined) return error(`discard: ${range}`);
  return BLKIF_VERDICT_OKAY;
}

/** Whether a (valid) discard is to be secure: the flag is set and `discard-secure` was advertised. */
export function discardIsSecure(req: BlkifRequest, limits: BlkifLimits): boolean {
  return limits.discardSecure && (req.flag & BLKIF_DISCARD_SECURE) !== 0;
}

/** Total 512-byte sectors of segs[0 .. count) (call after validation). */
export function segmentSectors(segs: readonly BlkifSegment[], count: number): number {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const s = segs[i]!;
    n += s.lastSect - s.firstSect + 1;
  }
  return n;
}
