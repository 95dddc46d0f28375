// A caller's BlockIo as blkfront tracks it: split into pieces (one ring request each), completed
// once when every piece is done. A piece is logical (operation, sectors, byte offset into the
// caller's buffers): its pages, grants and ring id belong to one attempt, so a piece left without a
// response by a backend that went away is issued again, re-split if the new limits are smaller.
import type { BlockIo, BlockIoStatus } from "@xensim/blkif";
import type { MemView } from "@xensim/memory";

export const SECTOR_BYTES = 512;
export const PAGE_BYTES = 4096;
export const SECTORS_PER_PAGE = PAGE_BYTES / SECTOR_BYTES;

export type PieceOp = "read" | "write" | "flush" | "discard";

/** segStarts of an I/O with one segment (or none). */
const ONE_SEGMENT: readonly number[] = Object.freeze([0]);

export class PendingIo {
  /** Pieces not yet answered. */
  remaining = 0;
  status: BlockIoStatus = 0;
  finished = false;
  /** A FUA write: a flush follows the data before `done`. */
  flushAfter: boolean;
  /** Byte offset of each caller segment in the concatenation of `io.segs`. */
  readonly segStarts: readonly number[];

  constructor(
    readonly io: BlockIo,
    readonly done: (status: BlockIoStatus) => void,
  ) {
    this.flushAfter = io.op === "write" && io.fua === true;
    if (io.segs.length <= 1) {
      this.segStarts = ONE_SEGMENT;
      return;
    }
    const starts: number[] = [];
    let at = 0;
    for (const s of io.segs) {
      starts.push(at);
      at += s.length;
    }
    this.segStarts = starts;
  }

  /** The segment holding byte `pos` of the concatenation (binary search). */
  segAt(pos: number): number {
    let lo = 0;
    let hi = this.segStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Copies caller bytes [pos, pos+len) into `dst` at `dstOff`. */
  copyOut(pos: number, dst: MemView, dstOff: number, len: number): void {
    const segs = this.io.segs;
    let i = this.segAt(pos);
    while (len > 0) {
      const seg = segs[i]!;
      const inSeg = pos - this.segStarts[i]!;
      const n = Math.min(len, seg.length - inSeg);
      if (n > 0) {
        dst.write(dstOff, inSeg === 0 && n === seg.length ? seg : seg.subarray(inSeg, inSeg + n));
        dstOff += n;
        pos += n;
        len -= n;
      }
      i++;
    }
  }

  /** Copies the first `len` bytes of `src` (a page's live bytes) into caller bytes [pos, pos+len). */
  copyInBytes(pos: number, src: Uint8Array, len: number): void {
    const segs = this.io.segs;
    if (segs.length === 1) {
      segs[0]!.set(len === src.length ? src : src.subarray(0, len), pos);
      return;
    }
    let i = this.segAt(pos);
    let srcOff = 0;
    while (len > 0) {
      const seg = segs[i]!;
      const inSeg = pos - this.segStarts[i]!;
      const n = Math.min(len, seg.length - inSeg);
      if (n > 0) {
        seg.set(src.subarray(srcOff, srcOff + n), inSeg);
        srcOff += n;
        pos += n;
        len -= n;
      }
      i++;
    }
  }

  /** Copies caller bytes [pos, pos+len) to the start of `dst` (a page's live bytes). */
  copyOutBytes(pos: number, dst: Uint8Array, len: number): void {
    const segs = this.io.segs;
    if (segs.length === 1) {
      const seg = segs[0]!;
      dst.set(pos === 0 && len === seg.length ? seg : seg.subarray(pos, pos + len), 0);
      return;
    }
    let i = this.segAt(pos);
    let dstOff = 0;
    while (len > 0) {
      const seg = segs[i]!;
      const inSeg = pos - this.segStarts[i]!;
      const n = Math.min(len, seg.length - inSeg);
      if (n > 0) {
        dst.set(seg.subarray(inSeg, inSeg + n), dstOff);
        dstOff += n;
        pos += n;
        len -= n;
      }
      i++;
    }
  }

  /** Copies `len` bytes of `src` at `srcOff` into caller bytes [pos, pos+len). */
  copyIn(pos: number, src: MemView, srcOff: number, len: number): void {
    const segs = this.io.segs;
    let i = this.segAt(pos);
    while (len > 0) {
      const seg = segs[i]!;
      const inSeg = pos - this.segStarts[i]!;
      const n = Math.min(len, seg.length - inSeg);
      if (n > 0) {
        src.readInto(srcOff, seg, inSeg, n); // no per-I/O copy buffer
        srcOff += n;
        pos += n;
        len -= n;
      }
      i++;
    }
  }
}

/** One ring request's worth of a PendingIo. */
export interface Piece {
  readonly parent: PendingIo;
  readonly op: PieceOp;
  readonly sector: number;
  readonly nrSectors: number;
  /** Offset of the piece's first byte in the caller's buffers (read/write). */
  readonly byteOff: number;
  /** Submission order, kept across re-issue (recovered pieces go back in this order). */
  readonly seq: number;
}

/** Splits a read/write range into pieces of at most `maxSectors`. */
export function splitRange(
  parent: PendingIo,
  op: PieceOp,
  sector: number,
  nrSectors: number,
  byteOff: number,
  maxSectors: number,
  seq: () => number,
): Piece[] {
  const out: Piece[] = [];
  let done = 0;
  while (done < nrSectors) {
    const n = Math.min(maxSectors, nrSectors - done);
    out.push({
      parent,
      op,
      sector: sector + done,
      nrSectors: n,
      byteOff: byteOff + done * SECTOR_BYTES,
      seq: seq(),
    });
    done += n;
  }
  return out;
}

/** Pages (segments) a read/write piece of `nrSectors` uses: the data is laid out from page start. */
export function pagesFor(nrSectors: number): number {
  return Math.ceil(nrSectors / SECTORS_PER_PAGE);
}
