// io/displif.h: the para-virtual display protocol (vdispl).
// Request/response offsets below are from the start of the 64-byte packet.

import { layout } from "./layout.js";
import { ringSize, XEN_PAGE_SIZE } from "./io-ring.js";

export const XENDISPL_PROTOCOL_VERSION = "2";
export const XENDISPL_PROTOCOL_VERSION_INT = 2;

export const XENDISPL_OP_DBUF_CREATE = 0x10;
export const XENDISPL_OP_DBUF_DESTROY = 0x11;
export const XENDISPL_OP_FB_ATTACH = 0x12;
export const XENDISPL_OP_FB_DETACH = 0x13;
export const XENDISPL_OP_SET_CONFIG = 0x14;
export const XENDISPL_OP_PG_FLIP = 0x15;
export const XENDISPL_OP_GET_EDID = 0x16;
export const XendisplOp = Object.freeze({
  DBUF_CREATE: XENDISPL_OP_DBUF_CREATE,
  DBUF_DESTROY: XENDISPL_OP_DBUF_DESTROY,
  FB_ATTACH: XENDISPL_OP_FB_ATTACH,
  FB_DETACH: XENDISPL_OP_FB_DETACH,
  SET_CONFIG: XENDISPL_OP_SET_CONFIG,
  PG_FLIP: XENDISPL_OP_PG_FLIP,
  GET_EDID: XENDISPL_OP_GET_EDID,
} as const);
export type XendisplOp = (typeof XendisplOp)[keyof typeof XendisplOp];

export const XENDISPL_EVT_PG_FLIP = 0x00;

/** Xenstore vocabulary. */
export const XENDISPL_DRIVER_NAME = "vdispl";
export const XENDISPL_LIST_SEPARATOR = ",";
export const XENDISPL_RESOLUTION_SEPARATOR = "x";
export const XENDISPL_FIELD_BE_VERSIONS = "versions";
export const XENDISPL_FIELD_FE_VERSION = "version";
export const XENDISPL_FIELD_REQ_RING_REF = "req-ring-ref";
export const XENDISPL_FIELD_REQ_CHANNEL = "req-event-channel";
export const XENDISPL_FIELD_EVT_RING_REF = "evt-ring-ref";
export const XENDISPL_FIELD_EVT_CHANNEL = "evt-event-channel";
export const XENDISPL_FIELD_RESOLUTION = "resolution";
export const XENDISPL_FIELD_BE_ALLOC = "be-alloc";
export const XENDISPL_FIELD_UNIQUE_ID = "unique-id";

export const XENDISPL_EDID_BLOCK_SIZE = 128;
export const XENDISPL_EDID_BLOCK_COUNT = 256;
export const XENDISPL_EDID_MAX_SIZE = XENDISPL_EDID_BLOCK_SIZE * XENDISPL_EDID_BLOCK_COUNT;
export const XENDISPL_DBUF_FLG_REQ_ALLOC = 1;

/** struct xendispl_req: header then the op union at 8. */
export const XENDISPL_REQ_LAYOUT = layout({ id: 0, operation: 2, reserved: 3, op: 8, size: 64 });
/** struct xendispl_resp. */
export const XENDISPL_RESP_LAYOUT = layout({ id: 0, operation: 2, reserved: 3, status: 4, op: 8, size: 64 });
/** struct xendispl_evt. */
export const XENDISPL_EVT_LAYOUT = layout({ id: 0, type: 2, reserved: 3, op: 8, size: 64 });

export const XENDISPL_DBUF_CREATE_REQ = layout({
  dbuf_cookie: 8,
  width: 16,
  height: 20,
  bpp: 24,
  buffer_sz: 28,
  flags: 32,
  gref_directory: 36,
  data_ofs: 40,
});
export const XENDISPL_DBUF_DESTROY_REQ = layout({ dbuf_cookie: 8 });
export const XENDISPL_FB_ATTACH_REQ = layout({
  dbuf_cookie: 8,
  fb_cookie: 16,
  width: 24,
  height: 28,
  pixel_format: 32,
});
export const XENDISPL_FB_DETACH_REQ = layout({ fb_cookie: 8 });
/** The header's ASCII diagram puts bpp at 36; the C struct (authoritative) has it at 32. */
export const XENDISPL_SET_CONFIG_REQ = layout({ fb_cookie: 8, x: 16, y: 20, width: 24, height: 28, bpp: 32 });
export const XENDISPL_PAGE_FLIP_REQ = layout({ fb_cookie: 8 });
/** The header's ASCII diagram shows 4 and 8; the C struct has 8 and 12. */
export const XENDISPL_GET_EDID_REQ = layout({ buffer_sz: 8, gref_directory: 12 });
export const XENDISPL_GET_EDID_RESP = layout({ edid_sz: 8 });
export const XENDISPL_PG_FLIP_EVT = layout({ fb_cookie: 8 });

/** struct xendispl_page_directory: next-page gref then gref[]; 1023 grefs per 4 KiB page. */
export const XENDISPL_PAGE_DIRECTORY_LAYOUT = layout({ gref_dir_next_page: 0, gref: 4 });
export const XENDISPL_GREFS_PER_DIRECTORY_PAGE = (XEN_PAGE_SIZE - XENDISPL_PAGE_DIRECTORY_LAYOUT.gref) / 4;

/** Request/response ring (xen_displif): entry = 64 bytes, one page → 32 slots. */
export const XENDISPL_RING_ENTRY_BYTES = 64;
export const XENDISPL_RING_SIZE = ringSize(XEN_PAGE_SIZE, XENDISPL_RING_ENTRY_BYTES);

/** Event page: struct xendispl_event_page header, then events at XENDISPL_IN_RING_OFFS. */
export const XENDISPL_EVENT_PAGE_LAYOUT = layout({ in_cons: 0, in_prod: 4, reserved: 8, size: 64 });
export const XENDISPL_EVENT_PAGE_SIZE = 4096;
export const XENDISPL_IN_RING_OFFS = XENDISPL_EVENT_PAGE_LAYOUT.size;
export const XENDISPL_IN_RING_SIZE = XENDISPL_EVENT_PAGE_SIZE - XENDISPL_IN_RING_OFFS;
/** 63 slots: not a power of two, so slot = counter % 63 (discontinuous at the u32 wrap). */
export const XENDISPL_IN_RING_LEN = Math.floor(XENDISPL_IN_RING_SIZE / XENDISPL_EVT_LAYOUT.size);

/** XENDISPL_IN_RING_REF: byte offset in the event page of the event for counter `idx`. */
export function xendisplInRingOffset(idx: number): number {
  return XENDISPL_IN_RING_OFFS + ((idx >>> 0) % XENDISPL_IN_RING_LEN) * XENDISPL_EVT_LAYOUT.size;
}

/** Grefs (pages) needed for a buffer of `bufferSz` bytes. */
export function xendisplBufferPages(bufferSz: number): number {
  return Math.ceil(bufferSz / XEN_PAGE_SIZE);
}
/** Directory pages needed to list `nrGrefs` grefs. */
export function xendisplDirectoryPages(nrGrefs: number): number {
  return Math.max(1, Math.ceil(nrGrefs / XENDISPL_GREFS_PER_DIRECTORY_PAGE));
}
