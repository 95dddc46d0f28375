// blkif requests and responses in both x86 ABIs (io/blkif.h; x86_32 layouts as Linux blkback's
// blkif_x86_32_request). Decoders read a private copy of a ring slot (copy-then-validate, XSA-155)
// into a caller-owned mutable object, so the per-request path allocates nothing. Encoders write a
// whole struct, padding zeroed (XSA-216), into a byte array or a MemView.

import {
  BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST,
  BLKIF_MAX_SEGMENTS_PER_REQUEST,
  BLKIF_REQUEST_DISCARD_LAYOUT,
  BLKIF_REQUEST_INDIRECT_LAYOUT,
  BLKIF_REQUEST_LAYOUT,
  BLKIF_REQUEST_SEGMENT_LAYOUT,
  BLKIF_RESPONSE_LAYOUT,
  BLKIF_RING_ENTRY_BYTES,
  BLKIF_SEGS_PER_INDIRECT_FRAME,
  BlkifOp,
  type XenAbi,
} from "@xensim/abi";
import type { MemView } from "@xensim/memory";
import {
  type ByteTarget,
  joinU64,
  need,
  rdI16,
  rdU8,
  rdU16,
  rdU32,
  splitU64,
  wrU8,
  wrU16,
  wrU32,
  zero,
} from "./bytes.js";

/** struct blkif_request_segment: sectors first_sect..last_sect (inclusive) of the page `gref`. */
export interface BlkifSegment {
  gref: number;
  firstSect: number;
  lastSect: number;
}

/**
 * Every request shape in one reusable object. u64 fields are two u32 halves (`…Lo`, `…Hi`), so any
 * 64-bit value round-trips without a bigint per request.
 *
 * - read / write / write_barrier / flush_diskcache (`blkif_request`): nrSegments (u8), handle,
 *   sector, segments[0 .. min(nrSegments, 11)).
 * - discard (`blkif_request_discard`): flag, handle, sector, nrSectors.
 * - indirect (`blkif_request_indirect`): indirectOp, nrSegments (u16), sector, handle,
 *   indirectGrefs[0..8) (all eight decoded; the segments themselves live in the indirect pages).
 * - any other operation: only `operation` and the id (Linux's "other" view).
 * Fields a shape does not have are set to 0 by the decoder (segments past the decoded count keep
 * whatever they held).
 */
export interface BlkifRequest {
  operation: number;
  nrSegments: number;
  handle: number;
  idLo: number;
  idHi: number;
  sectorLo: number;
  sectorHi: number;
  /** BLKIF_MAX_SEGMENTS_PER_REQUEST preallocated entries. */
  readonly segments: BlkifSegment[];
  flag: number;
  nrSectorsLo: number;
  nrSectorsHi: number;
  indirectOp: number;
  /** BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST preallocated entries. */
  readonly indirectGrefs: number[];
}

/** struct blkif_response. */
export interface BlkifResponse {
  idLo: number;
  idHi: number;
  operation: number;
  /** BLKIF_RSP_* (int16). */
  status: number;
}

export function newSegments(count: number): BlkifSegment[] {
  const out: BlkifSegment[] = [];
  for (let i = 0; i < count; i++) out.push({ gref: 0, firstSect: 0, lastSect: 0 });
  return out;
}

/** A zeroed request with its segment and indirect-gref arrays preallocated: make one per worker. */
export function newBlkifRequest(): BlkifRequest {
  return {
    operation: 0,
    nrSegments: 0,
    handle: 0,
    idLo: 0,
    idHi: 0,
    sectorLo: 0,
    sectorHi: 0,
    segments: newSegments(BLKIF_MAX_SEGMENTS_PER_REQUEST),
    flag: 0,
    nrSectorsLo: 0,
    nrSectorsHi: 0,
    indirectOp: 0,
    indirectGrefs: new Array<number>(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST).fill(0),
  };
}

export function newBlkifResponse(): BlkifResponse {
  return { idLo: 0, idHi: 0, operation: 0, status: 0 };
}

/** Bytes a request of `operation` occupies in a slot (sizeof the struct Linux copies for it). */
export function requestBytes(operation: number, abi: XenAbi): number {
  if (operation === BlkifOp.DISCARD) return BLKIF_REQUEST_DISCARD_LAYOUT[abi].size;
  if (operation === BlkifOp.INDIRECT) return BLKIF_REQUEST_INDIRECT_LAYOUT[abi].size;
  return BLKIF_REQUEST_LAYOUT[abi].size;
}

/** Indirect pages a request with `nrSegments` segments uses: ceil(nrSegments / 512). */
export function indirectPages(nrSegments: number): number {
  return Math.ceil(nrSegments / BLKIF_SEGS_PER_INDIRECT_FRAME);
}

/**
 * Decode the request at `off` of `source` (a copy of the slot: ring stride 112 / 108 bytes must be
 * available) into `out` and return it. A Uint8Array is the allocation-free path; a DataView costs
 * one view object. Never throws on hostile contents; RangeError if the slot does
 * not fit.
 */
export function decodeRequest(
  source: Uint8Array | DataView,
  off: number,
  abi: XenAbi,
  out: BlkifRequest,
): BlkifRequest {
  const bytes = asBytes(source);
  need(bytes.length, off, BLKIF_RING_ENTRY_BYTES[abi], "blkif request");
  const op = rdU8(bytes, off);
  out.operation = op;
  out.flag = 0;
  out.nrSectorsLo = 0;
  out.nrSectorsHi = 0;
  out.indirectOp = 0;
  if (op !== BlkifOp.INDIRECT)
    for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) out.indirectGrefs[i] = 0;
  switch (op) {
    case BlkifOp.READ:
    case BlkifOp.WRITE:
    case BlkifOp.WRITE_BARRIER:
    case BlkifOp.FLUSH_DISKCACHE: {
      const L = BLKIF_REQUEST_LAYOUT[abi];
      const n = rdU8(bytes, off + L.nr_segments);
      out.nrSegments = n;
      out.handle = rdU16(bytes, off + L.handle);
      out.idLo = rdU32(bytes, off + L.id);
      out.idHi = rdU32(bytes, off + L.id + 4);
      out.sectorLo = rdU32(bytes, off + L.sector_number);
      out.sectorHi = rdU32(bytes, off + L.sector_number + 4);
      // Like Linux's x86_32 translation: copy at most the 11 segments the slot has.
      const m = n < BLKIF_MAX_SEGMENTS_PER_REQUEST ? n : BLKIF_MAX_SEGMENTS_PER_REQUEST;
      decodeSegmentsAt(bytes, off + L.seg, m, out.segments, 0);
      return out;
    }
    case BlkifOp.DISCARD: {
      const L = BLKIF_REQUEST_DISCARD_LAYOUT[abi];
      out.nrSegments = 0;
      out.flag = rdU8(bytes, off + L.flag);
      out.handle = rdU16(bytes, off + L.handle);
      out.idLo = rdU32(bytes, off + L.id);
      out.idHi = rdU32(bytes, off + L.id + 4);
      out.sectorLo = rdU32(bytes, off + L.sector_number);
      out.sectorHi = rdU32(bytes, off + L.sector_number + 4);
      out.nrSectorsLo = rdU32(bytes, off + L.nr_sectors);
      out.nrSectorsHi = rdU32(bytes, off + L.nr_sectors + 4);
      return out;
    }
    case BlkifOp.INDIRECT: {
      const L = BLKIF_REQUEST_INDIRECT_LAYOUT[abi];
      out.indirectOp = rdU8(bytes, off + L.indirect_op);
      out.nrSegments = rdU16(bytes, off + L.nr_segments);
      out.idLo = rdU32(bytes, off + L.id);
      out.idHi = rdU32(bytes, off + L.id + 4);
      out.sectorLo = rdU32(bytes, off + L.sector_number);
      out.sectorHi = rdU32(bytes, off + L.sector_number + 4);
      out.handle = rdU16(bytes, off + L.handle);
      for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++)
        out.indirectGrefs[i] = rdU32(bytes, off + L.indirect_grefs + 4 * i);
      return out;
    }
    default: {
      // Unknown operation: Linux reads only the id ("other" view, same offset as blkif_request).
      const L = BLKIF_REQUEST_LAYOUT[abi];
      out.nrSegments = 0;
      out.handle = 0;
      out.idLo = rdU32(bytes, off + L.id);
      out.idHi = rdU32(bytes, off + L.id + 4);
      out.sectorLo = 0;
      out.sectorHi = 0;
      return out;
    }
  }
}

/** A DataView is read through a Uint8Array over the same bytes (one small view object). */
function asBytes(source: Uint8Array | DataView): Uint8Array {
  return source instanceof Uint8Array
    ? source
    : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

function decodeSegmentsAt(
  bytes: Uint8Array,
  base: number,
  count: number,
  out: BlkifSegment[],
  at: number,
): void {
  const S = BLKIF_REQUEST_SEGMENT_LAYOUT;
  for (let i = 0; i < count; i++) {
    const s = out[at + i];
    if (s === undefined) throw new RangeError(`segment array too short for ${at + count} segments`);
    const p = base + i * S.size;
    s.gref = rdU32(bytes, p + S.gref);
    s.firstSect = rdU8(bytes, p + S.first_sect);
    s.lastSect = rdU8(bytes, p + S.last_sect);
  }
}

/**
 * Encode `req` at `off` of `dst` (the struct for its operation, padding zeroed; bytes of the slot
 * past the struct are left alone). Unknown operations are written as the "other" view: operation
 * and id, the rest of a blkif_request zeroed. RangeError on values that do not fit their field.
 * A MemView target is not `markWritten`: publishing is the ring's job.
 */
export function encodeRequest(dst: ByteTarget, off: number, abi: XenAbi, req: BlkifRequest): void {
  const op = req.operation;
  checkUint(op, 0xff, "operation");
  const size = requestBytes(op, abi);
  need(dst instanceof Uint8Array ? dst.length : dst.byteLength, off, size, "blkif request");
  checkUint(req.idLo, 0xffff_ffff, "idLo");
  checkUint(req.idHi, 0xffff_ffff, "idHi");
  checkUint(req.sectorLo, 0xffff_ffff, "sectorLo");
  checkUint(req.sectorHi, 0xffff_ffff, "sectorHi");
  checkUint(req.handle, 0xffff, "handle");
  zero(dst, off, size);
  wrU8(dst, off, op);
  switch (op) {
    case BlkifOp.READ:
    case BlkifOp.WRITE:
    case BlkifOp.WRITE_BARRIER:
    case BlkifOp.FLUSH_DISKCACHE: {
      const L = BLKIF_REQUEST_LAYOUT[abi];
      checkUint(req.nrSegments, 0xff, "nrSegments");
      wrU8(dst, off + L.nr_segments, req.nrSegments);
      wrU16(dst, off + L.handle, req.handle);
      writeIdSector(dst, off + L.id, off + L.sector_number, req);
      const m = Math.min(req.nrSegments, BLKIF_MAX_SEGMENTS_PER_REQUEST);
      encodeSegmentsAt(dst, off + L.seg, req.segments, 0, m);
      return;
    }
    case BlkifOp.DISCARD: {
      const L = BLKIF_REQUEST_DISCARD_LAYOUT[abi];
      checkUint(req.flag, 0xff, "flag");
      checkUint(req.nrSectorsLo, 0xffff_ffff, "nrSectorsLo");
      checkUint(req.nrSectorsHi, 0xffff_ffff, "nrSectorsHi");
      wrU8(dst, off + L.flag, req.flag);
      wrU16(dst, off + L.handle, req.handle);
      writeIdSector(dst, off + L.id, off + L.sector_number, req);
      wrU32(dst, off + L.nr_sectors, req.nrSectorsLo);
      wrU32(dst, off + L.nr_sectors + 4, req.nrSectorsHi);
      return;
    }
    case BlkifOp.INDIRECT: {
      const L = BLKIF_REQUEST_INDIRECT_LAYOUT[abi];
      checkUint(req.indirectOp, 0xff, "indirectOp");
      checkUint(req.nrSegments, 0xffff, "nrSegments");
      wrU8(dst, off + L.indirect_op, req.indirectOp);
      wrU16(dst, off + L.nr_segments, req.nrSegments);
      writeIdSector(dst, off + L.id, off + L.sector_number, req);
      wrU16(dst, off + L.handle, req.handle);
      for (let i = 0; i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) {
        const g = req.indirectGrefs[i] ?? 0;
        checkUint(g, 0xffff_ffff, "indirect gref");
        wrU32(dst, off + L.indirect_grefs + 4 * i, g);
      }
      return;
    }
    default: {
      const L = BLKIF_REQUEST_LAYOUT[abi];
      wrU32(dst, off + L.id, req.idLo);
      wrU32(dst, off + L.id + 4, req.idHi);
    }
  }
}

function writeIdSector(dst: ByteTarget, idOff: number, sectorOff: number, req: BlkifRequest): void {
  wrU32(dst, idOff, req.idLo);
  wrU32(dst, idOff + 4, req.idHi);
  wrU32(dst, sectorOff, req.sectorLo);
  wrU32(dst, sectorOff + 4, req.sectorHi);
}

function encodeSegmentsAt(
  dst: ByteTarget,
  base: number,
  segs: readonly BlkifSegment[],
  from: number,
  count: number,
): void {
  const S = BLKIF_REQUEST_SEGMENT_LAYOUT;
  for (let i = 0; i < count; i++) {
    const s = segs[from + i];
    if (s === undefined) throw new RangeError(`segment ${from + i} missing`);
    checkUint(s.gref, 0xffff_ffff, "gref");
    checkUint(s.firstSect, 0xff, "firstSect");
    checkUint(s.lastSect, 0xff, "lastSect");
    const p = base + i * S.size;
    wrU32(dst, p + S.gref, s.gref);
    wrU8(dst, p + S.first_sect, s.firstSect);
    wrU8(dst, p + S.last_sect, s.lastSect);
    wrU16(dst, p + S.last_sect + 1, 0);
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`${what}: ${v} does not fit (max ${max})`);
}

/**
 * Decode `count` segments of an indirect descriptor page (an array of 512 blkif_request_segment)
 * starting with entry `first`, into out[at ..]. Each field is read once (the page is the guest's).
 */
export function decodeIndirectSegments(
  page: Uint8Array | MemView,
  pageOff: number,
  first: number,
  count: number,
  out: BlkifSegment[],
  at = 0,
): void {
  if (first < 0 || count < 0 || first + count > BLKIF_SEGS_PER_INDIRECT_FRAME)
    throw new RangeError(
      `indirect page holds ${BLKIF_SEGS_PER_INDIRECT_FRAME} segments, not ${first}+${count}`,
    );
  const S = BLKIF_REQUEST_SEGMENT_LAYOUT;
  const base = pageOff + first * S.size;
  if (page instanceof Uint8Array) {
    need(page.length, base, count * S.size, "indirect segments");
    decodeSegmentsAt(page, base, count, out, at);
    return;
  }
  need(page.byteLength, base, count * S.size, "indirect segments");
  for (let i = 0; i < count; i++) {
    const s = out[at + i];
    if (s === undefined) throw new RangeError(`segment array too short for ${at + count} segments`);
    const p = base + i * S.size;
    s.gref = page.getU32(p + S.gref);
    s.firstSect = page.getU8(p + S.first_sect);
    s.lastSect = page.getU8(p + S.last_sect);
  }
}

/** Write segs[from .. from+count) as entries `first ..` of an indirect page (pad bytes zeroed). */
export function encodeIndirectSegments(
  page: ByteTarget,
  pageOff: number,
  first: number,
  segs: readonly BlkifSegment[],
  from: number,
  count: number,
): void {
  if (first < 0 || count < 0 || first + count > BLKIF_SEGS_PER_INDIRECT_FRAME)
    throw new RangeError(
      `indirect page holds ${BLKIF_SEGS_PER_INDIRECT_FRAME} segments, not ${first}+${count}`,
    );
  const S = BLKIF_REQUEST_SEGMENT_LAYOUT;
  const base = pageOff + first * S.size;
  need(page instanceof Uint8Array ? page.length : page.byteLength, base, count * S.size, "indirect segments");
  encodeSegmentsAt(page, base, segs, from, count);
}

/** Decode the response at `off` (x86_64: 16 bytes, x86_32: 12 bytes) into `out`. */
export function decodeResponse(
  source: Uint8Array | DataView,
  off: number,
  abi: XenAbi,
  out: BlkifResponse,
): BlkifResponse {
  const bytes = asBytes(source);
  const L = BLKIF_RESPONSE_LAYOUT[abi];
  need(bytes.length, off, L.size, "blkif response");
  out.idLo = rdU32(bytes, off + L.id);
  out.idHi = rdU32(bytes, off + L.id + 4);
  out.operation = rdU8(bytes, off + L.operation);
  out.status = rdI16(bytes, off + L.status);
  return out;
}

/**
 * Write a whole response (pad bytes zeroed, XSA-216). The id is two u32 halves: a small id is
 * (id, 0), so the common case never touches a bigint. `status` is a BLKIF_RSP_* (int16).
 */
export function encodeResponse(
  dst: ByteTarget,
  off: number,
  abi: XenAbi,
  idLo: number,
  idHi: number,
  operation: number,
  status: number,
): void {
  const L = BLKIF_RESPONSE_LAYOUT[abi];
  need(dst instanceof Uint8Array ? dst.length : dst.byteLength, off, L.size, "blkif response");
  checkUint(idLo, 0xffff_ffff, "idLo");
  checkUint(idHi, 0xffff_ffff, "idHi");
  checkUint(operation, 0xff, "operation");
  if (!Number.isInteger(status) || status < -0x8000 || status > 0x7fff)
    throw new RangeError(`status ${status} is not an int16`);
  zero(dst, off, L.size);
  wrU32(dst, off + L.id, idLo);
  wrU32(dst, off + L.id + 4, idHi);
  wrU8(dst, off + L.operation, operation);
  wrU16(dst, off + L.status, status & 0xffff);
}

/** The id of a request or response as a bigint (off the hot path). */
export function blkifId(x: { idLo: number; idHi: number }): bigint {
  return joinU64(x.idLo, x.idHi);
}

/** Set the id of a request or response from a number (a safe integer) or a bigint u64. */
export function setBlkifId(x: { idLo: number; idHi: number }, id: number | bigint): void {
  const [lo, hi] = splitU64(id, "id");
  x.idLo = lo;
  x.idHi = hi;
}

/** The request's sector_number as a bigint. */
export function requestSector(req: BlkifRequest): bigint {
  return joinU64(req.sectorLo, req.sectorHi);
}

export function setRequestSector(req: BlkifRequest, sector: number | bigint): void {
  const [lo, hi] = splitU64(sector, "sector_number");
  req.sectorLo = lo;
  req.sectorHi = hi;
}

export function setDiscardSectors(req: BlkifRequest, nrSectors: number | bigint): void {
  const [lo, hi] = splitU64(nrSectors, "nr_sectors");
  req.nrSectorsLo = lo;
  req.nrSectorsHi = hi;
}

/**
 * The `operation` a response to `req` carries, as Linux blkback echoes it: an INDIRECT request is
 * answered with its indirect_op (READ/WRITE), everything else with its own operation.
 */
export function responseOperation(req: BlkifRequest): number {
  return req.operation === BlkifOp.INDIRECT ? req.indirectOp : req.operation;
}
