// NBD wire constants and encoders (pure). Numbers from the NBD protocol document (doc/proto.md in
// NetworkBlockDevice/nbd); every field is big-endian.

export const NBDMAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
export const OPT_REPLY_MAGIC = 0x0003e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server) and client flags. */
export const NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_NO_ZEROES = 1 << 1;
export const NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const NBD_FLAG_C_NO_ZEROES = 1 << 1;

export const NbdOpt = Object.freeze({
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  PEEK_EXPORT: 4,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
  EXTENDED_HEADERS: 11,
} as const);

const ERR = 0x80000000;
export const NbdRep = Object.freeze({
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: ERR + 1,
  ERR_POLICY: ERR + 2,
  ERR_INVALID: ERR + 3,
  ERR_PLATFORM: ERR + 4,
  ERR_TLS_REQD: ERR + 5,
  ERR_UNKNOWN: ERR + 6,
  ERR_SHUTDOWN: ERR + 7,
  ERR_BLOCK_SIZE_REQD: ERR + 8,
  ERR_TOO_BIG: ERR + 9,
} as const);

export const NbdInfo = Object.freeze({ EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const);

/** Transmission flags (16 bits, sent with the export size). */
export const NbdFlag = Object.freeze({
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const);

export const NbdCmd = Object.freeze({
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
  RESIZE: 8,
} as const);

export const NbdCmdFlag = Object.freeze({
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
} as const);

export const NbdReplyFlag = Object.freeze({ DONE: 1 << 0 } as const);
export const NbdReplyType = Object.freeze({
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  ERROR: 0x8001,
  ERROR_OFFSET: 0x8002,
} as const);

/** NBD error values on the wire (they match Linux errno numbers). */
export const NbdErr = Object.freeze({
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const);

export const REQUEST_HEADER_BYTES = 28;
export const OPTION_HEADER_BYTES = 16;

/** One transmission-phase request header. `cookie` is kept as its 8 raw bytes and echoed. */
export interface NbdRequest {
  readonly flags: number;
  readonly type: number;
  readonly cookie: Uint8Array;
  /** Byte offset; beyond 2^53 it is reported as Infinity (always out of range). */
  readonly offset: number;
  readonly length: number;
}

export function decodeRequest(b: Uint8Array): NbdRequest | "bad-magic" {
  const v = new DataView(b.buffer, b.byteOffset, REQUEST_HEADER_BYTES);
  if (v.getUint32(0) !== REQUEST_MAGIC) return "bad-magic";
  const off = v.getBigUint64(16);
  return {
    flags: v.getUint16(4),
    type: v.getUint16(6),
    cookie: b.slice(8, 16),
    offset: off > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(off),
    length: v.getUint32(24),
  };
}

export function encodeRequest(r: {
  flags?: number;
  type: number;
  cookie: bigint;
  offset: number;
  length: number;
}): Uint8Array {
  const b = new Uint8Array(REQUEST_HEADER_BYTES);
  const v = new DataView(b.buffer);
  v.setUint32(0, REQUEST_MAGIC);
  v.setUint16(4, r.flags ?? 0);
  v.setUint16(6, r.type);
  v.setBigUint64(8, r.cookie);
  v.setBigUint64(16, BigInt(r.offset));
  v.setUint32(24, r.length);
  return b;
}

/** Server greeting: NBDMAGIC, IHAVEOPT, handshake flags. */
export function encodeGreeting(flags: number): Uint8Array {
  const b = new Uint8Array(18);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, NBDMAGIC);
  v.setBigUint64(8, IHAVEOPT);
  v.setUint16(16, flags);
  return b;
}

export function encodeOptionReply(
  option: number,
  type: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const b = new Uint8Array(20 + data.length);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, OPT_REPLY_MAGIC);
  v.setUint32(8, option);
  v.setUint32(12, type);
  v.setUint32(16, data.length);
  b.set(data, 20);
  return b;
}

export function encodeSimpleReply(error: number, cookie: Uint8Array): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, SIMPLE_REPLY_MAGIC);
  v.setUint32(4, error);
  b.set(cookie, 8);
  return b;
}

/** A structured reply chunk header (20 bytes) whose payload is `length` bytes. */
export function encodeChunkHeader(
  flags: number,
  type: number,
  cookie: Uint8Array,
  length: number,
  extra = 0,
): Uint8Array {
  const b = new Uint8Array(20 + extra);
  const v = new DataView(b.buffer);
  v.setUint32(0, STRUCTURED_REPLY_MAGIC);
  v.setUint16(4, flags);
  v.setUint16(6, type);
  b.set(cookie, 8);
  v.setUint32(16, length);
  return b;
}

/** NBD_REPLY_TYPE_OFFSET_DATA header plus its 8-byte offset; the data follows. */
export function encodeOffsetDataHeader(
  flags: number,
  cookie: Uint8Array,
  offset: number,
  dataLength: number,
): Uint8Array {
  const b = encodeChunkHeader(flags, NbdReplyType.OFFSET_DATA, cookie, 8 + dataLength, 8);
  new DataView(b.buffer).setBigUint64(20, BigInt(offset));
  return b;
}

export function encodeErrorChunk(cookie: Uint8Array, error: number, message: string): Uint8Array {
  const msg = new TextEncoder().encode(message);
  const b = encodeChunkHeader(NbdReplyFlag.DONE, NbdReplyType.ERROR, cookie, 6 + msg.length, 6 + msg.length);
  const v = new DataView(b.buffer);
  v.setUint32(20, error);
  v.setUint16(24, msg.length);
  b.set(msg, 26);
  return b;
}
