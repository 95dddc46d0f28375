// The link's wire format (docs/data-plane.md). A stream of length-prefixed frames in each direction:
//
//   u32 length (bytes after this word) | u8 type | …                     little-endian throughout
//
//   HELLO  1  u16 version | u8 hostLen | host | u64 epoch | u64 peerEpoch | u32 lastReceived
//             | u16 identityLen | identity                               (first frame of a connection)
//   DATA   2  u32 seq | u32 ack | u64 watermark | u8 flags | u32 count | records…
//   ACK    3  u32 ack
//   NACK   4  u32 from | u32 to                                         (the missing seqs)
//
// Records inside a DATA frame (each starts with its u8 type):
//   RANGE     1  u16 length | u32 origin | u16 offset | bytes            (exactly the bytes written)
//   ZERO      2  u32 origin                                              (a frame (re)allocated)
//   EVENT     3  u16 domid | u8 vcpu | u32 port | u8 writerLen | writer | u64 seq   (fence: writerLen 0 = none)
//   SEND      4  u64 seq | u16 caller | u32 port                         (EVTCHNOP_send to the hypervisor's host)
//   REQUEST   5  u32 id | u8 op | u16 caller | u32 length | payload
//   REPLY     6  u32 id | u8 op | u32 length | payload
//   DIRECTORY 7  u32 origin | u8 flags (1 add, 2 writable) | u8 hostLen | host | u32 token
//                (token ≠ 0: answer with DIRECTORY_ACK once every later write goes to `host` too)
//   EVENT_ALL 8  u16 domid                                               (after a resync)
//   DIRECTORY_ACK 9  u32 token
//   FREE     10  u32 origin                                              (the origin frame was freed:
//                drop the replica; from the hypervisor's host only)
//
// A protocol module: no node:*, no clock, no randomness.

export const LINK_VERSION = 2;
export const FRAME_HELLO = 1;
export const FRAME_DATA = 2;
export const FRAME_ACK = 3;
export const FRAME_NACK = 4;

/** DATA flag: this frame restarts the sequence (the frames before it are gone). */
export const DATA_RESYNC = 1;

export const REC_RANGE = 1;
export const REC_ZERO = 2;
export const REC_EVENT = 3;
export const REC_SEND = 4;
export const REC_REQUEST = 5;
export const REC_REPLY = 6;
export const REC_DIRECTORY = 7;
export const REC_EVENT_ALL = 8;
export const REC_DIRECTORY_ACK = 9;
export const REC_FREE = 10;

/** Largest frame accepted (a DATA frame is cut well below it). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const PAGE = 4096;
const U32 = 0x1_0000_0000;

export class LinkCodecError extends Error {
  override readonly name = "LinkCodecError";
  constructor(
    readonly code: "bad_frame" | "too_large" | "bad_record",
    message: string,
  ) {
    super(message);
  }
}

const utf8Enc = new TextEncoder();
const utf8Dec = new TextDecoder("utf-8", { fatal: true });

function u64Parts(v: number | bigint): [number, number] {
  if (typeof v === "bigint") {
    const x = BigInt.asUintN(64, v);
    return [Number(x & 0xffff_ffffn), Number(x >> 32n)];
  }
  if (!Number.isSafeInteger(v) || v < 0) throw new LinkCodecError("bad_record", `bad u64 ${v}`);
  return [v % U32, Math.floor(v / U32)];
}

// ---- the stream: length-prefixed frames ---------------------------------------------------------

/**
 * Splits a byte stream into frames, keeping a partial frame across calls (STYLE item 1: fed
 * buffers, socket elsewhere). Each frame is handed out as a view (type byte first, no length word)
 * valid until the next `push`.
 */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;

  /**
   * Calls `onFrame` for every complete frame of what came so far plus `chunk` (whole frames of the
   * chunk are handed out as views of it, without a copy), keeping a partial frame. Throws on a bad
   * length.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    if (this.end === this.start) {
      let at = 0;
      while (chunk.length - at >= 4) {
        const len =
          (chunk[at]! | (chunk[at + 1]! << 8) | (chunk[at + 2]! << 16) | (chunk[at + 3]! << 24)) >>> 0;
        if (len === 0 || len > MAX_FRAME_BYTES) throw new LinkCodecError("too_large", `frame length ${len}`);
        if (chunk.length - at < 4 + len) break;
        onFrame(chunk.subarray(at + 4, at + 4 + len));
        at += 4 + len;
      }
      if (at === chunk.length) return;
      chunk = chunk.subarray(at);
    }
    this.append(chunk);
    for (;;) {
      const avail = this.end - this.start;
      if (avail < 4) break;
      const b = this.buf;
      const len =
        (b[this.start]! |
          (b[this.start + 1]! << 8) |
          (b[this.start + 2]! << 16) |
          (b[this.start + 3]! << 24)) >>>
        0;
      if (len === 0 || len > MAX_FRAME_BYTES) throw new LinkCodecError("too_large", `frame length ${len}`);
      if (avail < 4 + len) break;
      const f = b.subarray(this.start + 4, this.start + 4 + len);
      this.start += 4 + len;
      onFrame(f);
    }
    if (this.start === this.end) this.start = this.end = 0;
  }

  /** Bytes held of an incomplete frame. */
  get pending(): number {
    return this.end - this.start;
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length && this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const next = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length));
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}

// ---- HELLO, ACK, NACK -------------------------------------------------------------------------

export interface Hello {
  version: number;
  hostId: string;
  /** This process's epoch (a new one per start; later starts compare higher). */
  epoch: bigint;
  /** The epoch of the peer this side last heard from (0n: none) … */
  peerEpoch: bigint;
  /** … and the last DATA seq it applied from that epoch: the peer resumes after it. */
  lastReceived: number;
  /** Opaque identity (empty today; a certificate identity with mTLS). */
  identity: Uint8Array;
}

export function encodeHello(h: Hello): Uint8Array {
  const host = utf8Enc.encode(h.hostId);
  if (host.length === 0 || host.length > 255) throw new LinkCodecError("bad_record", "host id length");
  const size = 4 + 1 + 2 + 1 + host.length + 8 + 8 + 4 + 2 + h.identity.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  dv.setUint32(p, size - 4, true);
  p += 4;
  out[p++] = FRAME_HELLO;
  dv.setUint16(p, h.version, true);
  p += 2;
  out[p++] = host.length;
  out.set(host, p);
  p += host.length;
  dv.setBigUint64(p, BigInt.asUintN(64, h.epoch), true);
  p += 8;
  dv.setBigUint64(p, BigInt.asUintN(64, h.peerEpoch), true);
  p += 8;
  dv.setUint32(p, h.lastReceived >>> 0, true);
  p += 4;
  dv.setUint16(p, h.identity.length, true);
  p += 2;
  out.set(h.identity, p);
  return out;
}

function bad(why: string): never {
  throw new LinkCodecError("bad_frame", why);
}

/** `frame` as handed out by FrameDecoder (type byte first). */
export function decodeHello(frame: Uint8Array): Hello {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.length < 1 + 2 + 1 || frame[0] !== FRAME_HELLO) bad("not a HELLO");
  let p = 1;
  const version = dv.getUint16(p, true);
  p += 2;
  const hostLen = frame[p++]!;
  if (p + hostLen + 8 + 8 + 4 + 2 > frame.length) bad("truncated HELLO");
  let hostId = "";
  try {
    hostId = utf8Dec.decode(frame.subarray(p, p + hostLen));
  } catch {
    bad("host id is not UTF-8");
  }
  p += hostLen;
  const epoch = dv.getBigUint64(p, true);
  p += 8;
  const peerEpoch = dv.getBigUint64(p, true);
  p += 8;
  const lastReceived = dv.getUint32(p, true);
  p += 4;
  const idLen = dv.getUint16(p, true);
  p += 2;
  if (p + idLen !== frame.length) bad("HELLO length");
  return { version, hostId, epoch, peerEpoch, lastReceived, identity: frame.slice(p, p + idLen) };
}

export function encodeAck(ack: number): Uint8Array {
  const out = new Uint8Array(9);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 5, true);
  out[4] = FRAME_ACK;
  dv.setUint32(5, ack >>> 0, true);
  return out;
}

/** NACK: the receiver misses seqs [from, to] (it holds `to` + 1 already, or to = from). */
export function encodeNack(from: number, to: number = from): Uint8Array {
  const out = new Uint8Array(13);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 9, true);
  out[4] = FRAME_NACK;
  dv.setUint32(5, from >>> 0, true);
  dv.setUint32(9, to >>> 0, true);
  return out;
}

/** The u32 of an ACK (`value`), or a NACK's range (`value` = from, `to`). */
export function decodeAckNack(frame: Uint8Array): { type: number; value: number; to: number } {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame[0] === FRAME_ACK && frame.length === 5) {
    const v = dv.getUint32(1, true);
    return { type: FRAME_ACK, value: v, to: v };
  }
  if (frame[0] === FRAME_NACK && frame.length === 9) {
    const from = dv.getUint32(1, true);
    return { type: FRAME_NACK, value: from, to: dv.getUint32(5, true) };
  }
  return bad("not an ACK/NACK");
}

// ---- DATA frames ------------------------------------------------------------------------------

/** Header of a DATA frame. */
export interface DataHeader {
  seq: number;
  ack: number;
  /** The sender's record counter at the end of this frame's content. */
  watermark: number;
  flags: number;
}

const DATA_HEADER = 4 + 1 + 4 + 4 + 8 + 1 + 4; // length word included

export interface Fence {
  writer: string;
  seq: number;
}

/**
 * Builds DATA frames: records are appended into one growing buffer, `finish` stamps the header and
 * returns the frame (a copy of exactly its bytes, to keep in the window); the builder is then empty.
 */
export class DataFrameBuilder {
  private buf: Uint8Array;
  private dv: DataView;
  private p = DATA_HEADER;
  private n = 0;
  private readonly initial: number;

  /**
   * `alloc`: where frames' buffers come from. Given, `finish` hands out the buffer itself (no copy)
   * and takes a new one — the socket adapter passes an allocator that does not zero-fill.
   */
  constructor(
    initialBytes = 64 * 1024,
    private readonly alloc?: (bytes: number) => Uint8Array,
  ) {
    this.initial = Math.max(initialBytes, 256);
    this.buf = alloc ? alloc(this.initial) : new Uint8Array(this.initial);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Bytes the frame would have now (header included). */
  get size(): number {
    return this.p;
  }
  /** Records appended since the last finish. */
  get records(): number {
    return this.n;
  }

  private room(bytes: number): void {
    if (this.p + bytes <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.p + bytes) len *= 2;
    const next = this.alloc ? this.alloc(len) : new Uint8Array(len);
    next.set(this.buf.subarray(0, this.p));
    this.buf = next;
    this.dv = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  range(origin: number, offset: number, src: Uint8Array, srcOff: number, length: number): void {
    if (length < 1 || length > PAGE || offset < 0 || offset + length > PAGE)
      throw new LinkCodecError("bad_record", `range [${offset}, +${length}) is not in a frame`);
    this.room(9 + length);
    const b = this.buf;
    const dv = this.dv;
    let p = this.p;
    b[p] = REC_RANGE;
    dv.setUint16(p + 1, length, true);
    dv.setUint32(p + 3, origin >>> 0, true);
    dv.setUint16(p + 7, offset, true);
    p += 9;
    if (length <= 64) for (let i = 0; i < length; i++) b[p + i] = src[srcOff + i]!;
    else b.set(src.subarray(srcOff, srcOff + length), p);
    this.p = p + length;
    this.n++;
  }

  zero(origin: number): void {
    this.room(5);
    this.buf[this.p] = REC_ZERO;
    this.dv.setUint32(this.p + 1, origin >>> 0, true);
    this.p += 5;
    this.n++;
  }

  event(domid: number, vcpu: number, port: number, fence?: Fence): void {
    const w = fence ? utf8Enc.encode(fence.writer) : undefined;
    if (w && w.length > 255) throw new LinkCodecError("bad_record", "fence writer too long");
    this.room(9 + (w?.length ?? 0) + 8);
    const dv = this.dv;
    let p = this.p;
    this.buf[p] = REC_EVENT;
    dv.setUint16(p + 1, domid, true);
    this.buf[p + 3] = vcpu;
    dv.setUint32(p + 4, port >>> 0, true);
    this.buf[p + 8] = w?.length ?? 0;
    p += 9;
    if (w) {
      this.buf.set(w, p);
      p += w.length;
      const [lo, hi] = u64Parts(fence!.seq);
      dv.setUint32(p, lo, true);
      dv.setUint32(p + 4, hi, true);
      p += 8;
    }
    this.p = p;
    this.n++;
  }

  send(seq: number, caller: number, port: number): void {
    this.room(15);
    const dv = this.dv;
    const p = this.p;
    this.buf[p] = REC_SEND;
    const [lo, hi] = u64Parts(seq);
    dv.setUint32(p + 1, lo, true);
    dv.setUint32(p + 5, hi, true);
    dv.setUint16(p + 9, caller, true);
    dv.setUint32(p + 11, port >>> 0, true);
    this.p += 15;
    this.n++;
  }

  request(id: number, op: number, caller: number, payload: Uint8Array): void {
    this.room(12 + payload.length);
    const dv = this.dv;
    const p = this.p;
    this.buf[p] = REC_REQUEST;
    dv.setUint32(p + 1, id >>> 0, true);
    this.buf[p + 5] = op;
    dv.setUint16(p + 6, caller, true);
    dv.setUint32(p + 8, payload.length, true);
    this.buf.set(payload, p + 12);
    this.p += 12 + payload.length;
    this.n++;
  }

  reply(id: number, op: number, payload: Uint8Array): void {
    this.room(10 + payload.length);
    const dv = this.dv;
    const p = this.p;
    this.buf[p] = REC_REPLY;
    dv.setUint32(p + 1, id >>> 0, true);
    this.buf[p + 5] = op;
    dv.setUint32(p + 6, payload.length, true);
    this.buf.set(payload, p + 10);
    this.p += 10 + payload.length;
    this.n++;
  }

  /** `token` ≠ 0 asks the receiver for a DIRECTORY_ACK once it applied this record. */
  directory(origin: number, add: boolean, writable: boolean, host: string, token = 0): void {
    const h = utf8Enc.encode(host);
    if (h.length > 255) throw new LinkCodecError("bad_record", "host id too long");
    this.room(11 + h.length);
    const p = this.p;
    this.buf[p] = REC_DIRECTORY;
    this.dv.setUint32(p + 1, origin >>> 0, true);
    this.buf[p + 5] = (add ? 1 : 0) | (writable ? 2 : 0);
    this.buf[p + 6] = h.length;
    this.buf.set(h, p + 7);
    this.dv.setUint32(p + 7 + h.length, token >>> 0, true);
    this.p += 11 + h.length;
    this.n++;
  }

  directoryAck(token: number): void {
    this.room(5);
    this.buf[this.p] = REC_DIRECTORY_ACK;
    this.dv.setUint32(this.p + 1, token >>> 0, true);
    this.p += 5;
    this.n++;
  }

  /** The origin frame was freed at the hypervisor's host: the peer frees its replica. */
  free(origin: number): void {
    this.room(5);
    this.buf[this.p] = REC_FREE;
    this.dv.setUint32(this.p + 1, origin >>> 0, true);
    this.p += 5;
    this.n++;
  }

  eventAll(domid: number): void {
    this.room(3);
    this.buf[this.p] = REC_EVENT_ALL;
    this.dv.setUint16(this.p + 1, domid, true);
    this.p += 3;
    this.n++;
  }

  /** Stamps the header and returns the frame (its own copy); the builder starts empty again. */
  finish(h: DataHeader): Uint8Array {
    const dv = this.dv;
    dv.setUint32(0, this.p - 4, true);
    this.buf[4] = FRAME_DATA;
    dv.setUint32(5, h.seq >>> 0, true);
    dv.setUint32(9, h.ack >>> 0, true);
    const [lo, hi] = u64Parts(h.watermark);
    dv.setUint32(13, lo, true);
    dv.setUint32(17, hi, true);
    this.buf[21] = h.flags;
    dv.setUint32(22, this.n, true);
    let out: Uint8Array;
    if (this.alloc) {
      out = this.buf.subarray(0, this.p);
      this.buf = this.alloc(Math.max(this.initial, this.p));
      this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    } else out = this.buf.slice(0, this.p);
    this.p = DATA_HEADER;
    this.n = 0;
    return out;
  }

  /** Drops the records appended since the last finish. */
  reset(): void {
    this.p = DATA_HEADER;
    this.n = 0;
  }
}

/** A DATA frame's header and its records (`body`: the bytes after the header). */
export interface DataFrame extends DataHeader {
  count: number;
  body: Uint8Array;
}

/** `frame` as handed out by FrameDecoder (type byte first). */
export function decodeDataHeader(frame: Uint8Array): DataFrame {
  if (frame.length < DATA_HEADER - 4 || frame[0] !== FRAME_DATA) bad("not a DATA frame");
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const watermark = dv.getUint32(9, true) + dv.getUint32(13, true) * U32;
  if (!Number.isSafeInteger(watermark)) bad("watermark out of range");
  return {
    seq: dv.getUint32(1, true),
    ack: dv.getUint32(5, true),
    watermark,
    flags: frame[17]!,
    count: dv.getUint32(18, true),
    body: frame.subarray(DATA_HEADER - 4),
  };
}

/** One record, as the reader fills it (one object reused per reader: copy what you keep). */
export interface RecordView {
  type: number;
  origin: number;
  offset: number;
  /** RANGE: bytes [start, start+length) of `data` (the frame body). */
  start: number;
  length: number;
  domid: number;
  vcpu: number;
  port: number;
  caller: number;
  /** SEND's seq, EVENT's fence seq. */
  seq: number;
  /** EVENT's fence writer ("" = no fence), DIRECTORY's host. */
  host: string;
  /** REQUEST/REPLY: the request id; DIRECTORY/DIRECTORY_ACK: the token. */
  id: number;
  op: number;
  /** DIRECTORY: add (else remove), writable. */
  add: boolean;
  writable: boolean;
  data: Uint8Array;
}

/**
 * Reads the records of a DATA frame body one at a time; `pos` can be saved to resume later (a
 * stream paused on a record waits with its reader). Throws LinkCodecError("bad_record") on a
 * truncated or unknown record.
 */
export class RecordReader {
  pos = 0;
  private readonly dv: DataView;
  readonly rec: RecordView;
  constructor(readonly body: Uint8Array) {
    this.dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    this.rec = {
      type: 0,
      origin: 0,
      offset: 0,
      start: 0,
      length: 0,
      domid: 0,
      vcpu: 0,
      port: 0,
      caller: 0,
      seq: 0,
      host: "",
      id: 0,
      op: 0,
      add: false,
      writable: false,
      data: body,
    };
  }

  get done(): boolean {
    return this.pos >= this.body.length;
  }

  /** Parses the record at `pos` into `rec` and returns the position after it (pos unchanged). */
  peek(): number {
    const b = this.body;
    const dv = this.dv;
    const r = this.rec;
    let p = this.pos;
    const need = (n: number): void => {
      if (p + n > b.length) throw new LinkCodecError("bad_record", `truncated record at ${this.pos}`);
    };
    need(1);
    r.type = b[p]!;
    p++;
    switch (r.type) {
      case REC_RANGE: {
        need(8);
        r.length = dv.getUint16(p, true);
        r.origin = dv.getUint32(p + 2, true);
        r.offset = dv.getUint16(p + 6, true);
        p += 8;
        if (r.length < 1 || r.offset + r.length > PAGE)
          throw new LinkCodecError("bad_record", "range leaves its frame");
        need(r.length);
        r.start = p;
        p += r.length;
        return p;
      }
      case REC_ZERO:
      case REC_FREE:
        need(4);
        r.origin = dv.getUint32(p, true);
        return p + 4;
      case REC_EVENT: {
        need(8);
        r.domid = dv.getUint16(p, true);
        r.vcpu = b[p + 2]!;
        r.port = dv.getUint32(p + 3, true);
        const wl = b[p + 7]!;
        p += 8;
        if (wl === 0) {
          r.host = "";
          r.seq = 0;
          return p;
        }
        need(wl + 8);
        r.host = decodeHost(b.subarray(p, p + wl));
        p += wl;
        r.seq = dv.getUint32(p, true) + dv.getUint32(p + 4, true) * U32;
        return p + 8;
      }
      case REC_SEND:
        need(14);
        r.seq = dv.getUint32(p, true) + dv.getUint32(p + 4, true) * U32;
        r.caller = dv.getUint16(p + 8, true);
        r.port = dv.getUint32(p + 10, true);
        return p + 14;
      case REC_REQUEST:
        need(11);
        r.id = dv.getUint32(p, true);
        r.op = b[p + 4]!;
        r.caller = dv.getUint16(p + 5, true);
        r.length = dv.getUint32(p + 7, true);
        p += 11;
        need(r.length);
        r.start = p;
        return p + r.length;
      case REC_REPLY:
        need(9);
        r.id = dv.getUint32(p, true);
        r.op = b[p + 4]!;
        r.length = dv.getUint32(p + 5, true);
        p += 9;
        need(r.length);
        r.start = p;
        return p + r.length;
      case REC_DIRECTORY: {
        need(6);
        r.origin = dv.getUint32(p, true);
        const f = b[p + 4]!;
        r.add = (f & 1) !== 0;
        r.writable = (f & 2) !== 0;
        const hl = b[p + 5]!;
        p += 6;
        need(hl + 4);
        r.host = decodeHost(b.subarray(p, p + hl));
        r.id = dv.getUint32(p + hl, true);
        return p + hl + 4;
      }
      case REC_DIRECTORY_ACK:
        need(4);
        r.id = dv.getUint32(p, true);
        return p + 4;
      case REC_EVENT_ALL:
        need(2);
        r.domid = dv.getUint16(p, true);
        return p + 2;
      default:
        throw new LinkCodecError("bad_record", `unknown record type ${r.type}`);
    }
  }

  /** The next record, or undefined at the end of the body. */
  next(): RecordView | undefined {
    if (this.done) return undefined;
    this.pos = this.peek();
    return this.rec;
  }

  /** The payload bytes of the current REQUEST/REPLY or RANGE (a view into the frame). */
  payload(): Uint8Array {
    return this.body.subarray(this.rec.start, this.rec.start + this.rec.length);
  }
}

function decodeHost(b: Uint8Array): string {
  try {
    return utf8Dec.decode(b);
  } catch {
    throw new LinkCodecError("bad_record", "host id is not UTF-8");
  }
}
