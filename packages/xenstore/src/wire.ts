// The xs wire codec: struct xsd_sockmsg framing (io/xs_wire.h) and nul-separated payload helpers.
// Pure: fed bytes, returns messages; knows nothing of sockets or rings.

import { XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG, XsType } from "@xensim/abi";

/** One xs message: the 16-byte xsd_sockmsg header fields plus its payload (`len` = payload length). */
export interface XsMessage {
  type: number;
  reqId: number;
  txId: number;
  payload: Uint8Array;
}

/** The peer broke the framing (C xenstored drops such a connection; a ring gets error PROTO). */
export class XsProtocolError extends Error {
  override readonly name = "XsProtocolError";
  readonly code = "XS_PROTOCOL";
  /** The offending header's `len`, when the error is an oversized frame. */
  readonly len: number | undefined;
  constructor(message: string, len?: number) {
    super(message);
    this.len = len;
  }
}

function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`xsd_sockmsg.${what} ${v} is not a u32`);
}

/** Encodes one message: 16-byte little-endian header, then the payload. */
export function encodeXsMessage(m: XsMessage): Uint8Array {
  checkU32("type", m.type);
  checkU32("req_id", m.reqId);
  checkU32("tx_id", m.txId);
  if (m.payload.length > XENSTORE_PAYLOAD_MAX) {
    throw new RangeError(`xs payload of ${m.payload.length} bytes exceeds XENSTORE_PAYLOAD_MAX`);
  }
  const out = new Uint8Array(XSD_SOCKMSG.size + m.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(XSD_SOCKMSG.type, m.type, true);
  dv.setUint32(XSD_SOCKMSG.req_id, m.reqId, true);
  dv.setUint32(XSD_SOCKMSG.tx_id, m.txId, true);
  dv.setUint32(XSD_SOCKMSG.len, m.payload.length, true);
  out.set(m.payload, XSD_SOCKMSG.size);
  return out;
}

/**
 * Incremental decoder of an xs byte stream. Bytes may arrive split anywhere; partial frames are kept
 * across calls. A header announcing more than XENSTORE_PAYLOAD_MAX bytes throws XsProtocolError, and
 * the decoder stays failed from then on.
 */
export class XsDecoder {
  private buf = new Uint8Array(0);
  private failure: XsProtocolError | undefined;

  /** Bytes held for an incomplete frame. */
  get buffered(): number {
    return this.buf.length;
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  push(chunk: Uint8Array): XsMessage[] {
    const r = this.feed(chunk);
    if (r.error) throw r.error;
    return r.messages;
  }

  /**
   * Like push, but never throws. Returns the complete messages, how many bytes of `chunk` were
   * consumed (all of them, except after an oversized header: then up to the end of that header, where
   * C xenstored stops reading) and the error, if the stream broke. Messages that came before the bad
   * header are returned with the error. Once failed, every call consumes nothing and returns the error.
   * With `maxMessages`, decoding stops before the frame after that many: `consumed` then ends at the
   * last returned frame and the caller offers the remaining bytes again (a ring page leaves them
   * unconsumed: C xenstored reads one request at a time and not at all while a connection stalls).
   */
  feed(chunk: Uint8Array, maxMessages = Infinity): XsFeedResult {
    if (this.failure) return { messages: [], consumed: 0, error: this.failure };
    const held = this.buf.length;
    let data: Uint8Array;
    if (held === 0) data = chunk;
    else {
      data = new Uint8Array(held + chunk.length);
      data.set(this.buf, 0);
      data.set(chunk, held);
    }
    const messages: XsMessage[] = [];
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let off = 0;
    while (data.length - off >= XSD_SOCKMSG.size) {
      const len = dv.getUint32(off + XSD_SOCKMSG.len, true);
      if (len > XENSTORE_PAYLOAD_MAX) {
        this.buf = new Uint8Array(0);
        this.failure = new XsProtocolError(`xsd_sockmsg.len ${len} exceeds XENSTORE_PAYLOAD_MAX`, len);
        // A complete header is never held (it would have been checked then), so it ends in `chunk`.
        return { messages, consumed: off + XSD_SOCKMSG.size - held, error: this.failure };
      }
      if (data.length - off < XSD_SOCKMSG.size + len) break;
      if (messages.length >= maxMessages) {
        // Stop before this frame: the rest of `chunk` is left to the caller (not consumed, not held),
        // who feeds it again later. Bytes held from earlier calls stay held.
        this.buf = off < held ? data.slice(off, held) : new Uint8Array(0);
        return { messages, consumed: Math.max(0, off - held) };
      }
      messages.push({
        type: dv.getUint32(off + XSD_SOCKMSG.type, true),
        reqId: dv.getUint32(off + XSD_SOCKMSG.req_id, true),
        txId: dv.getUint32(off + XSD_SOCKMSG.tx_id, true),
        payload: data.slice(off + XSD_SOCKMSG.size, off + XSD_SOCKMSG.size + len),
      });
      off += XSD_SOCKMSG.size + len;
    }
    this.buf = data.slice(off);
    return { messages, consumed: chunk.length };
  }
}

/** What XsDecoder#feed returns. */
export interface XsFeedResult {
  messages: XsMessage[];
  /** Bytes of the chunk taken: all of them unless `error` is set. */
  consumed: number;
  error?: XsProtocolError;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A nul-separated payload: each part followed by one nul. Strings are UTF-8, byte arrays go raw. */
export function xsStrings(...parts: (string | Uint8Array)[]): Uint8Array {
  const enc = parts.map((p) => (typeof p === "string" ? utf8Encoder.encode(p) : p));
  const out = new Uint8Array(enc.reduce((n, p) => n + p.length + 1, 0));
  let off = 0;
  for (const p of enc) {
    out.set(p, off);
    off += p.length + 1;
  }
  return out;
}

/**
 * Splits a nul-separated payload into UTF-8 strings. A trailing unterminated part is kept if it is not
 * empty ("a\0b" gives ["a", "b"]); an empty payload gives [].
 */
export function parseXsStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(utf8Decoder.decode(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  if (start < payload.length) out.push(utf8Decoder.decode(payload.subarray(start)));
  return out;
}

/** A request message. Payload parts are nul-terminated (see xsStrings); pass a Uint8Array for raw bytes. */
export function xsRequest(type: number, reqId: number, txId: number, payload: Uint8Array): XsMessage {
  return { type, reqId, txId, payload };
}

/** The reply to `req` carrying `payload`: echoes type, req_id and tx_id. */
export function xsReply(req: XsMessage, payload: Uint8Array): XsMessage {
  return { type: req.type, reqId: req.reqId, txId: req.txId, payload };
}

/** The "OK\0" acknowledgement of `req`. */
export function xsOk(req: XsMessage): XsMessage {
  return xsReply(req, xsStrings("OK"));
}

/** An XS_ERROR reply to `req` with the errno name, e.g. xsError(req, "ENOENT"). */
export function xsError(req: XsMessage, errno: string): XsMessage {
  return { type: XsType.ERROR, reqId: req.reqId, txId: req.txId, payload: xsStrings(errno) };
}

/** An XS_WATCH_EVENT (req_id 0, tx_id 0) with payload path\0token\0. Tokens may be raw bytes. */
export function xsWatchEvent(path: string, token: string | Uint8Array): XsMessage {
  return { type: XsType.WATCH_EVENT, reqId: 0, txId: 0, payload: xsStrings(path, token) };
}

/** The errno name of an XS_ERROR message, or undefined for any other message. */
export function xsErrorName(m: XsMessage): string | undefined {
  if (m.type !== XsType.ERROR) return undefined;
  return parseXsStrings(m.payload)[0] ?? "";
}
