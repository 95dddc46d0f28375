// Building one ring request from a piece of I/O (Linux xen-blkfront's blkif_queue_rw_req,
// blkif_queue_discard_req and the flush/barrier request): the blkif request fields, the segments
// over the piece's granted pages (a write's data copied into bounce pages first; the caller's own
// pages, granted for the request, carry it already), and for more segments
// than a request holds, the indirect pages filled with the segment descriptors.
import { BLKIF_MAX_SEGMENTS_PER_REQUEST, BLKIF_SEGS_PER_INDIRECT_FRAME, BlkifOp } from "@xensim/abi";
import { type BlkifRequest, type BlkifSegment, encodeIndirectSegments } from "@xensim/blkif";
import { PAGE_BYTES, type Piece, type PieceOp, SECTOR_BYTES, SECTORS_PER_PAGE } from "./io.js";
import type { DataPage } from "./shadow.js";

const U32 = 0x1_0000_0000;

const OPS: Record<PieceOp, number> = {
  read: BlkifOp.READ,
  write: BlkifOp.WRITE,
  flush: BlkifOp.FLUSH_DISKCACHE,
  discard: BlkifOp.DISCARD,
};

/** Is `op` an operation blkfront issues (BlockIo's read, write, flush, discard)? */
export function isPieceOp(op: string): op is PieceOp {
  return Object.hasOwn(OPS, op);
}

/** What a request is built with besides its piece and pages. */
export interface RequestContext {
  /** The vbd's handle (its devid's low 16 bits). */
  readonly handle: number;
  /** Flush with BLKIF_OP_FLUSH_DISKCACHE (else a WRITE_BARRIER without data). */
  readonly flush: boolean;
  /** The backend offers secure discard. */
  readonly discardSecure: boolean;
  /** Scratch segment descriptors for indirect requests (≥ the largest request's segments). */
  readonly indirectSegments: BlkifSegment[];
}

/**
 * Fills `req` for `piece` under ring id `id` (whose generation is `generation`), its data on
 * `pages[0..nData)` and its indirect descriptors on the rest of `pages`. A write's bytes are
 * copied into its pages (and marked written). Returns the operation the response must carry.
 */
export function buildRequest(
  req: BlkifRequest,
  ctx: RequestContext,
  piece: Piece,
  pages: readonly DataPage[],
  nData: number,
  id: number,
  generation: number,
): number {
  req.handle = ctx.handle;
  req.idLo = id;
  req.idHi = generation;
  req.sectorLo = piece.sector % U32;
  req.sectorHi = Math.floor(piece.sector / U32);
  req.flag = 0;
  req.nrSectorsLo = 0;
  req.nrSectorsHi = 0;
  req.indirectOp = 0;
  req.indirectGrefs.fill(0);
  switch (piece.op) {
    case "flush":
      req.operation = ctx.flush ? BlkifOp.FLUSH_DISKCACHE : BlkifOp.WRITE_BARRIER;
      req.nrSegments = 0;
      return req.operation;
    case "discard":
      req.operation = BlkifOp.DISCARD;
      req.nrSegments = 0;
      req.flag = piece.parent.io.secure === true && ctx.discardSecure ? 1 : 0;
      req.nrSectorsLo = piece.nrSectors % U32;
      req.nrSectorsHi = Math.floor(piece.nrSectors / U32);
      return BlkifOp.DISCARD;
    default: {
      const op = OPS[piece.op];
      const indirect = nData > BLKIF_MAX_SEGMENTS_PER_REQUEST;
      const segs = indirect ? ctx.indirectSegments : req.segments;
      for (let i = 0; i < nData; i++) {
        const p = pages[i]!;
        const sectors = Math.min(SECTORS_PER_PAGE, piece.nrSectors - i * SECTORS_PER_PAGE);
        const seg = segs[i]!;
        seg.gref = p.ref;
        seg.firstSect = 0;
        seg.lastSect = sectors - 1;
        if (piece.op === "write" && p.caller !== true) {
          const len = sectors * SECTOR_BYTES;
          if (p.bytes) piece.parent.copyOutBytes(piece.byteOff + i * PAGE_BYTES, p.bytes, len);
          else piece.parent.copyOut(piece.byteOff + i * PAGE_BYTES, p.view, p.off, len);
          p.view.markWritten(p.off, len);
        }
      }
      if (indirect) {
        req.operation = BlkifOp.INDIRECT;
        req.indirectOp = op;
        req.nrSegments = nData;
        for (let k = nData; k < pages.length; k++) {
          const ip = pages[k]!;
          const ki = k - nData;
          const from = ki * BLKIF_SEGS_PER_INDIRECT_FRAME;
          const count = Math.min(BLKIF_SEGS_PER_INDIRECT_FRAME, nData - from);
          encodeIndirectSegments(ip.view, ip.off, 0, segs, from, count);
          ip.view.markWritten(ip.off, count * 8);
          req.indirectGrefs[ki] = ip.ref;
        }
      } else {
        req.operation = op;
        req.nrSegments = nData;
      }
      return op;
    }
  }
}
