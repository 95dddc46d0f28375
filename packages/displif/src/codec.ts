// displif packets (io/displif.h): every request, response and event is 64 bytes, little-endian.
// Offsets come from @xensim/abi (checked against the real header by the gcc probe); this file only
// moves values between those offsets and typed objects. Reserved bytes are written as zero (the
// header: "all reserved fields ... must be 0"; a backend never leaks stale bytes, XSA-216).

import {
  XENDISPL_DBUF_CREATE_REQ,
  XENDISPL_DBUF_DESTROY_REQ,
  XENDISPL_EVT_LAYOUT,
  XENDISPL_EVT_PG_FLIP,
  XENDISPL_FB_ATTACH_REQ,
  XENDISPL_FB_DETACH_REQ,
  XENDISPL_GET_EDID_REQ,
  XENDISPL_GET_EDID_RESP,
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_DBUF_DESTROY,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_FB_DETACH,
  XENDISPL_OP_GET_EDID,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_SET_CONFIG,
  XENDISPL_PAGE_FLIP_REQ,
  XENDISPL_PG_FLIP_EVT,
  XENDISPL_REQ_LAYOUT,
  XENDISPL_RESP_LAYOUT,
  XENDISPL_SET_CONFIG_REQ,
} from "@xensim/abi";

/** Every displif packet (request, response, event) is this many bytes. */
export const DISPLIF_PACKET_BYTES = 64;

export interface DbufCreateRequest {
  readonly operation: typeof XENDISPL_OP_DBUF_CREATE;
  readonly id: number;
  readonly dbufCookie: bigint;
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
  readonly bufferSz: number;
  /** XENDISPL_DBUF_FLG_REQ_ALLOC: the backend allocates the buffer (be-alloc). */
  readonly flags: number;
  readonly grefDirectory: number;
  readonly dataOfs: number;
}
export interface DbufDestroyRequest {
  readonly operation: typeof XENDISPL_OP_DBUF_DESTROY;
  readonly id: number;
  readonly dbufCookie: bigint;
}
export interface FbAttachRequest {
  readonly operation: typeof XENDISPL_OP_FB_ATTACH;
  readonly id: number;
  readonly dbufCookie: bigint;
  readonly fbCookie: bigint;
  readonly width: number;
  readonly height: number;
  /** A DRM FOURCC (DRM_FORMAT_XRGB8888, …). */
  readonly pixelFormat: number;
}
export interface FbDetachRequest {
  readonly operation: typeof XENDISPL_OP_FB_DETACH;
  readonly id: number;
  readonly fbCookie: bigint;
}
/** All of fbCookie, x, y, width, height, bpp zero: disable the connector (reset its mode). */
export interface SetConfigRequest {
  readonly operation: typeof XENDISPL_OP_SET_CONFIG;
  readonly id: number;
  readonly fbCookie: bigint;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
}
export interface PgFlipRequest {
  readonly operation: typeof XENDISPL_OP_PG_FLIP;
  readonly id: number;
  readonly fbCookie: bigint;
}
export interface GetEdidRequest {
  readonly operation: typeof XENDISPL_OP_GET_EDID;
  readonly id: number;
  readonly bufferSz: number;
  readonly grefDirectory: number;
}
/** An operation code this protocol does not define (answered with -XEN_ENOSYS). */
export interface UnknownRequest {
  readonly operation: number;
  readonly id: number;
  readonly unknown: true;
}

export type DisplifRequest =
  | DbufCreateRequest
  | DbufDestroyRequest
  | FbAttachRequest
  | FbDetachRequest
  | SetConfigRequest
  | PgFlipRequest
  | GetEdidRequest;

export interface DisplifResponse {
  readonly id: number;
  readonly operation: number;
  /** 0 or a negative XEN_E* (XenErrno). */
  readonly status: number;
  /** GET_EDID: size of the EDID written to the buffer. */
  readonly edidSz?: number;
}

export interface DisplifEvent {
  readonly id: number;
  readonly type: number;
  /** XENDISPL_EVT_PG_FLIP: the framebuffer whose flip completed. */
  readonly fbCookie: bigint;
}

const KNOWN_OPS = new Set<number>([
  XENDISPL_OP_DBUF_CREATE,
  XENDISPL_OP_DBUF_DESTROY,
  XENDISPL_OP_FB_ATTACH,
  XENDISPL_OP_FB_DETACH,
  XENDISPL_OP_SET_CONFIG,
  XENDISPL_OP_PG_FLIP,
  XENDISPL_OP_GET_EDID,
]);

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkPacket(b: Uint8Array): void {
  if (b.byteLength < DISPLIF_PACKET_BYTES)
    throw new RangeError(`displif packet needs ${DISPLIF_PACKET_BYTES} bytes, got ${b.byteLength}`);
}

function u32(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`${name} ${v} is not a u32`);
  return v;
}
function u64(name: string, v: bigint): bigint {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${name} ${v} is not a u64`);
  return v;
}

/** Writes `req` into the first 64 bytes of `out` (reserved bytes zero). Returns `out`. */
export function encodeRequest(req: DisplifRequest, out: Uint8Array = new Uint8Array(64)): Uint8Array {
  checkPacket(out);
  out.fill(0, 0, DISPLIF_PACKET_BYTES);
  const v = dv(out);
  if (!Number.isInteger(req.id) || req.id < 0 || req.id > 0xffff) throw new RangeError(`id ${req.id}`);
  v.setUint16(XENDISPL_REQ_LAYOUT.id, req.id, true);
  v.setUint8(XENDISPL_REQ_LAYOUT.operation, req.operation);
  switch (req.operation) {
    case XENDISPL_OP_DBUF_CREATE: {
      const L = XENDISPL_DBUF_CREATE_REQ;
      v.setBigUint64(L.dbuf_cookie, u64("dbuf_cookie", req.dbufCookie), true);
      v.setUint32(L.width, u32("width", req.width), true);
      v.setUint32(L.height, u32("height", req.height), true);
      v.setUint32(L.bpp, u32("bpp", req.bpp), true);
      v.setUint32(L.buffer_sz, u32("buffer_sz", req.bufferSz), true);
      v.setUint32(L.flags, u32("flags", req.flags), true);
      v.setUint32(L.gref_directory, u32("gref_directory", req.grefDirectory), true);
      v.setUint32(L.data_ofs, u32("data_ofs", req.dataOfs), true);
      break;
    }
    case XENDISPL_OP_DBUF_DESTROY:
      v.setBigUint64(XENDISPL_DBUF_DESTROY_REQ.dbuf_cookie, u64("dbuf_cookie", req.dbufCookie), true);
      break;
    case XENDISPL_OP_FB_ATTACH: {
      const L = XENDISPL_FB_ATTACH_REQ;
      v.setBigUint64(L.dbuf_cookie, u64("dbuf_cookie", req.dbufCookie), true);
      v.setBigUint64(L.fb_cookie, u64("fb_cookie", req.fbCookie), true);
      v.setUint32(L.width, u32("width", req.width), true);
      v.setUint32(L.height, u32("height", req.height), true);
      v.setUint32(L.pixel_format, u32("pixel_format", req.pixelFormat), true);
      break;
    }
    case XENDISPL_OP_FB_DETACH:
      v.setBigUint64(XENDISPL_FB_DETACH_REQ.fb_cookie, u64("fb_cookie", req.fbCookie), true);
      break;
    case XENDISPL_OP_SET_CONFIG: {
      const L = XENDISPL_SET_CONFIG_REQ;
      v.setBigUint64(L.fb_cookie, u64("fb_cookie", req.fbCookie), true);
      v.setUint32(L.x, u32("x", req.x), true);
      v.setUint32(L.y, u32("y", req.y), true);
      v.setUint32(L.width, u32("width", req.width), true);
      v.setUint32(L.height, u32("height", req.height), true);
      v.setUint32(L.bpp, u32("bpp", req.bpp), true);
      break;
    }
    case XENDISPL_OP_PG_FLIP:
      v.setBigUint64(XENDISPL_PAGE_FLIP_REQ.fb_cookie, u64("fb_cookie", req.fbCookie), true);
      break;
    case XENDISPL_OP_GET_EDID:
      v.setUint32(XENDISPL_GET_EDID_REQ.buffer_sz, u32("buffer_sz", req.bufferSz), true);
      v.setUint32(XENDISPL_GET_EDID_REQ.gref_directory, u32("gref_directory", req.grefDirectory), true);
      break;
  }
  return out;
}

/**
 * Decodes a private copy of a request slot (copy once, then decode: XSA-155). An operation this
 * protocol does not define comes back as an UnknownRequest carrying the id to answer.
 */
export function decodeRequest(b: Uint8Array): DisplifRequest | UnknownRequest {
  checkPacket(b);
  const v = dv(b);
  const id = v.getUint16(XENDISPL_REQ_LAYOUT.id, true);
  const operation = v.getUint8(XENDISPL_REQ_LAYOUT.operation);
  const g32 = (offset: number) => v.getUint32(offset, true);
  const g64 = (offset: number) => v.getBigUint64(offset, true);
  if (!KNOWN_OPS.has(operation)) return { operation, id, unknown: true };
  switch (operation) {
    case XENDISPL_OP_DBUF_CREATE: {
      const L = XENDISPL_DBUF_CREATE_REQ;
      return {
        operation,
        id,
        dbufCookie: g64(L.dbuf_cookie),
        width: g32(L.width),
        height: g32(L.height),
        bpp: g32(L.bpp),
        bufferSz: g32(L.buffer_sz),
        flags: g32(L.flags),
        grefDirectory: g32(L.gref_directory),
        dataOfs: g32(L.data_ofs),
      };
    }
    case XENDISPL_OP_DBUF_DESTROY:
      return { operation, id, dbufCookie: g64(XENDISPL_DBUF_DESTROY_REQ.dbuf_cookie) };
    case XENDISPL_OP_FB_ATTACH: {
      const L = XENDISPL_FB_ATTACH_REQ;
      return {
        operation,
        id,
        dbufCookie: g64(L.dbuf_cookie),
        fbCookie: g64(L.fb_cookie),
        width: g32(L.width),
        height: g32(L.height),
        pixelFormat: g32(L.pixel_format),
      };
    }
    case XENDISPL_OP_FB_DETACH:
      return { operation, id, fbCookie: g64(XENDISPL_FB_DETACH_REQ.fb_cookie) };
    case XENDISPL_OP_SET_CONFIG: {
      const L = XENDISPL_SET_CONFIG_REQ;
      return {
        operation,
        id,
        fbCookie: g64(L.fb_cookie),
        x: g32(L.x),
        y: g32(L.y),
        width: g32(L.width),
        height: g32(L.height),
        bpp: g32(L.bpp),
      };
    }
    case XENDISPL_OP_PG_FLIP:
      return { operation, id, fbCookie: g64(XENDISPL_PAGE_FLIP_REQ.fb_cookie) };
    default:
      return {
        operation: XENDISPL_OP_GET_EDID,
        id,
        bufferSz: g32(XENDISPL_GET_EDID_REQ.buffer_sz),
        grefDirectory: g32(XENDISPL_GET_EDID_REQ.gref_directory),
      };
  }
}

export function isUnknownRequest(r: DisplifRequest | UnknownRequest): r is UnknownRequest {
  return "unknown" in r;
}

/** Writes a whole response (reserved bytes zero). edid_sz is written for GET_EDID only. */
export function encodeResponse(rsp: DisplifResponse, out: Uint8Array = new Uint8Array(64)): Uint8Array {
  checkPacket(out);
  out.fill(0, 0, DISPLIF_PACKET_BYTES);
  const v = dv(out);
  v.setUint16(XENDISPL_RESP_LAYOUT.id, rsp.id & 0xffff, true);
  v.setUint8(XENDISPL_RESP_LAYOUT.operation, rsp.operation & 0xff);
  v.setInt32(XENDISPL_RESP_LAYOUT.status, rsp.status | 0, true);
  if (rsp.operation === XENDISPL_OP_GET_EDID)
    v.setUint32(XENDISPL_GET_EDID_RESP.edid_sz, u32("edid_sz", rsp.edidSz ?? 0), true);
  return out;
}

export function decodeResponse(b: Uint8Array): DisplifResponse {
  checkPacket(b);
  const v = dv(b);
  const operation = v.getUint8(XENDISPL_RESP_LAYOUT.operation);
  const base = {
    id: v.getUint16(XENDISPL_RESP_LAYOUT.id, true),
    operation,
    status: v.getInt32(XENDISPL_RESP_LAYOUT.status, true),
  };
  return operation === XENDISPL_OP_GET_EDID
    ? { ...base, edidSz: v.getUint32(XENDISPL_GET_EDID_RESP.edid_sz, true) }
    : base;
}

export function encodeEvent(evt: DisplifEvent, out: Uint8Array = new Uint8Array(64)): Uint8Array {
  checkPacket(out);
  out.fill(0, 0, DISPLIF_PACKET_BYTES);
  const v = dv(out);
  v.setUint16(XENDISPL_EVT_LAYOUT.id, evt.id & 0xffff, true);
  v.setUint8(XENDISPL_EVT_LAYOUT.type, evt.type & 0xff);
  if (evt.type === XENDISPL_EVT_PG_FLIP)
    v.setBigUint64(XENDISPL_PG_FLIP_EVT.fb_cookie, u64("fb_cookie", evt.fbCookie), true);
  return out;
}

export function decodeEvent(b: Uint8Array): DisplifEvent {
  checkPacket(b);
  const v = dv(b);
  return {
    id: v.getUint16(XENDISPL_EVT_LAYOUT.id, true),
    type: v.getUint8(XENDISPL_EVT_LAYOUT.type),
    fbCookie: v.getBigUint64(XENDISPL_PG_FLIP_EVT.fb_cookie, true),
  };
}
