// Payloads of REQUEST and REPLY records: what a host without the hypervisor asks of the hypervisor's
// host over the link (docs/data-plane.md, "Grant operations"), and the answers. Results are Xen's:
// GNTST_* per ref, rc 0 / -errno.
//
// A protocol module: no node:*, no clock, no randomness.

import { type Fence, LinkCodecError } from "./codec.js";

export const OP_MAP = 1;
export const OP_UNMAP = 2;
export const OP_END_ACCESS = 3;
/** Register (caller, vcpu) as received at the requesting host. */
export const OP_PLACE = 4;
/** The requesting host is the caller domain's home: replicate all its frames there. */
export const OP_HOME = 5;
/**
 * A barrier: answered after everything the hypervisor's host queued before it (frames it allocated
 * for a domain homed at the requester, their ZERO records) went out on the link.
 */
export const OP_SYNC = 7;
/** GNTTABOP_copy: executed at the hypervisor's host once it caught up with the requester's view. */
export const OP_COPY = 8;
/**
 * xenforeignmemory_map (privcmd) of another domain's gfns, or xenforeignmemory_map_resource of an
 * ioreq server's pages (acquire_resource): executed at the hypervisor's host for a privileged
 * caller; the frames are pinned (page references) and replicated at the requester until the unmap.
 */
export const OP_FOREIGN_MAP = 9;
/** The unmap of a foreign mapping (by the handle its map returned). */
export const OP_FOREIGN_UNMAP = 10;

const utf8Enc = new TextEncoder();
const utf8Dec = new TextDecoder("utf-8", { fatal: true });

/** A little-endian byte writer that grows. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  private p = 0;
  private room(n: number): void {
    if (this.p + n <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.p + n) len *= 2;
    const next = new Uint8Array(len);
    next.set(this.buf.subarray(0, this.p));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.p++] = v;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.dv.setUint16(this.p, v, true);
    this.p += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.dv.setUint32(this.p, v >>> 0, true);
    this.p += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.dv.setInt32(this.p, v | 0, true);
    this.p += 4;
    return this;
  }
  u64(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new LinkCodecError("bad_record", `bad u64 ${v}`);
    this.room(8);
    this.dv.setUint32(this.p, v % 0x1_0000_0000, true);
    this.dv.setUint32(this.p + 4, Math.floor(v / 0x1_0000_0000), true);
    this.p += 8;
    return this;
  }
  str(s: string): this {
    const b = utf8Enc.encode(s);
    if (b.length > 255) throw new LinkCodecError("bad_record", "string longer than 255 bytes");
    this.u8(b.length);
    this.room(b.length);
    this.buf.set(b, this.p);
    this.p += b.length;
    return this;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.p);
  }
}

/** Reads what ByteWriter wrote; throws LinkCodecError("bad_record") past the end. */
export class ByteReader {
  private p = 0;
  private readonly dv: DataView;
  constructor(private readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number): void {
    if (this.p + n > this.b.length) throw new LinkCodecError("bad_record", "truncated payload");
  }
  u8(): number {
    this.need(1);
    return this.b[this.p++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.p, true);
    this.p += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.p, true);
    this.p += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.p, true);
    this.p += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.dv.getUint32(this.p, true) + this.dv.getUint32(this.p + 4, true) * 0x1_0000_0000;
    this.p += 8;
    return v;
  }
  str(): string {
    const n = this.u8();
    this.need(n);
    try {
      return utf8Dec.decode(this.b.subarray(this.p, (this.p += n)));
    } catch {
      throw new LinkCodecError("bad_record", "string is not UTF-8");
    }
  }
  /** `count` of a list whose entries take at least `minBytes` each (a corrupt count fails here). */
  count(minBytes: number): number {
    const n = this.u32();
    if (n * minBytes > this.b.length - this.p) throw new LinkCodecError("bad_record", `bad count ${n}`);
    return n;
  }
  end(): void {
    if (this.p !== this.b.length) throw new LinkCodecError("bad_record", "trailing payload bytes");
  }
}

// ---- map ----------------------------------------------------------------------------------------

export interface MapRequest {
  dom: number;
  flags: number;
  refs: number[];
  /** The mapper host's applied watermarks of other hosts: the hypervisor's host catches up first. */
  watermarks: Fence[];
}

export function encodeMapRequest(q: MapRequest): Uint8Array {
  const w = new ByteWriter().u16(q.dom).u32(q.flags).u32(q.refs.length);
  for (const r of q.refs) w.u32(r);
  w.u8(q.watermarks.length);
  for (const f of q.watermarks) w.str(f.writer).u64(f.seq);
  return w.bytes();
}

export function decodeMapRequest(b: Uint8Array): MapRequest {
  const r = new ByteReader(b);
  const dom = r.u16();
  const flags = r.u32();
  const n = r.count(4);
  const refs: number[] = [];
  for (let i = 0; i < n; i++) refs.push(r.u32());
  const nw = r.u8();
  const watermarks: Fence[] = [];
  for (let i = 0; i < nw; i++) watermarks.push({ writer: r.str(), seq: r.u64() });
  r.end();
  return { dom, flags, refs, watermarks };
}

/** Another host that holds a replica of a mapped frame: the mapper's writes go there too. */
export interface FramePeer {
  origin: number;
  host: string;
  /** It may write the frame (the owner's home, or a writable mapping): accept its writes. */
  writable: boolean;
}

export interface MapResult {
  status: number;
  handle: number;
  /** The frame in the hypervisor's host (0 when the map failed). */
  origin: number;
}

export interface MapReply {
  results: MapResult[];
  /** For the mapped frames: the other hosts (besides the hypervisor's) holding them. */
  peers: FramePeer[];
}

export function encodeMapReply(r: MapReply): Uint8Array {
  const w = new ByteWriter().u32(r.results.length);
  for (const x of r.results) w.i32(x.status).u32(x.handle).u32(x.origin);
  w.u32(r.peers.length);
  for (const p of r.peers)
    w.u32(p.origin)
      .str(p.host)
      .u8(p.writable ? 1 : 0);
  return w.bytes();
}

export function decodeMapReply(b: Uint8Array): MapReply {
  const r = new ByteReader(b);
  const n = r.count(12);
  const results: MapResult[] = [];
  for (let i = 0; i < n; i++) results.push({ status: r.i32(), handle: r.u32(), origin: r.u32() });
  const np = r.count(6);
  const peers: FramePeer[] = [];
  for (let i = 0; i < np; i++) peers.push({ origin: r.u32(), host: r.str(), writable: r.u8() === 1 });
  r.end();
  return { results, peers };
}

// ---- unmap --------------------------------------------------------------------------------------

export function encodeUnmapRequest(handles: readonly number[]): Uint8Array {
  const w = new ByteWriter().u32(handles.length);
  for (const h of handles) w.u32(h);
  return w.bytes();
}

export function decodeUnmapRequest(b: Uint8Array): number[] {
  const r = new ByteReader(b);
  const n = r.count(4);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  r.end();
  return out;
}

export interface UnmapReply {
  statuses: number[];
  /** Frames the requesting host no longer holds any pin of: it stops replicating them. */
  unsubscribed: number[];
}

export function encodeUnmapReply(r: UnmapReply): Uint8Array {
  const w = new ByteWriter().u32(r.statuses.length);
  for (const s of r.statuses) w.i32(s);
  w.u32(r.unsubscribed.length);
  for (const f of r.unsubscribed) w.u32(f);
  return w.bytes();
}

export function decodeUnmapReply(b: Uint8Array): UnmapReply {
  const r = new ByteReader(b);
  const n = r.count(4);
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push(r.i32());
  const m = r.count(4);
  const unsubscribed: number[] = [];
  for (let i = 0; i < m; i++) unsubscribed.push(r.u32());
  r.end();
  return { statuses, unsubscribed };
}

// ---- copy ---------------------------------------------------------------------------------------

/** One side of a grant copy (gnttab_copy_ptr): a grant ref, or a gmfn of the caller (DOMID_SELF). */
export interface CopyPtr {
  ref?: number;
  gmfn?: number;
  domid: number;
  offset: number;
}

export interface CopyOp {
  source: CopyPtr;
  dest: CopyPtr;
  len: number;
  /** GNTCOPY_source_gref | GNTCOPY_dest_gref. */
  flags: number;
}

export interface CopyRequest {
  ops: CopyOp[];
  /** The requester host's applied watermarks of other hosts: the hypervisor's host catches up first. */
  watermarks: Fence[];
}

const ptr = (w: ByteWriter, p: CopyPtr): void => {
  w.u32(p.ref ?? 0)
    .u32(p.gmfn ?? 0)
    .u16(p.domid)
    .u16(p.offset);
};

export function encodeCopyRequest(q: CopyRequest): Uint8Array {
  const w = new ByteWriter().u32(q.ops.length);
  for (const op of q.ops) {
    ptr(w, op.source);
    ptr(w, op.dest);
    w.u32(op.len).u16(op.flags);
  }
  w.u8(q.watermarks.length);
  for (const f of q.watermarks) w.str(f.writer).u64(f.seq);
  return w.bytes();
}

export function decodeCopyRequest(b: Uint8Array): CopyRequest {
  const r = new ByteReader(b);
  const n = r.count(30);
  const readPtr = (): CopyPtr => ({ ref: r.u32(), gmfn: r.u32(), domid: r.u16(), offset: r.u16() });
  const ops: CopyOp[] = [];
  for (let i = 0; i < n; i++) {
    const source = readPtr();
    const dest = readPtr();
    ops.push({ source, dest, len: r.u32(), flags: r.u16() });
  }
  const nw = r.u8();
  const watermarks: Fence[] = [];
  for (let i = 0; i < nw; i++) watermarks.push({ writer: r.str(), seq: r.u64() });
  r.end();
  return { ops, watermarks };
}

/** GNTST_* (or rc) per op. */
export function encodeStatuses(statuses: readonly number[]): Uint8Array {
  const w = new ByteWriter().u32(statuses.length);
  for (const s of statuses) w.i32(s);
  return w.bytes();
}

export function decodeStatuses(b: Uint8Array): number[] {
  const r = new ByteReader(b);
  const n = r.count(4);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.i32());
  r.end();
  return out;
}

// ---- small ones ----------------------------------------------------------------------------------

export function encodeU32s(values: readonly number[]): Uint8Array {
  const w = new ByteWriter();
  for (const v of values) w.u32(v);
  return w.bytes();
}

export function decodeU32s(b: Uint8Array, n: number): number[] {
  const r = new ByteReader(b);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u32());
  r.end();
  return out;
}

/** rc and the origin frames of a foreign map (empty unless rc is 0). */
export function encodeRcFrames(rc: number, frames: readonly number[]): Uint8Array {
  const w = new ByteWriter().i32(rc).u32(frames.length);
  for (const f of frames) w.u32(f);
  return w.bytes();
}

export function decodeRcFrames(b: Uint8Array): { rc: number; frames: number[] } {
  const r = new ByteReader(b);
  const rc = r.i32();
  const n = r.count(4);
  const frames: number[] = [];
  for (let i = 0; i < n; i++) frames.push(r.u32());
  r.end();
  return { rc, frames };
}

export function encodeRc(rc: number): Uint8Array {
  return new ByteWriter().i32(rc).bytes();
}

export function decodeRc(b: Uint8Array): number {
  const r = new ByteReader(b);
  const rc = r.i32();
  r.end();
  return rc;
}

// ---- foreign map --------------------------------------------------------------------------------

/** acquire_resource of a foreign map: `nrFrames` frames of resource (`type`, `id`) from `frame`. */
export interface ForeignResource {
  type: number;
  id: number;
  frame: number;
  nrFrames: number;
}

export interface ForeignMapRequest {
  dom: number;
  readonly: boolean;
  /** The gfns to map (empty for a resource). */
  gfns: number[];
  resource?: ForeignResource;
  /** The mapper host's applied watermarks of other hosts: the hypervisor's host catches up first. */
  watermarks: Fence[];
  /**
   * The service of the mapper's host that asks (docs/data-plane.md, "Foreign mappings: who may
   * map"). In the mapper's record queue it carries the worker's signature (`mac`); its host's link
   * thread verifies it and sends the request on with the service alone (`mac` empty: vouched for by
   * that host, whose link is authenticated). Absent: a host that names no service (no runtime).
   */
  principal?: ForeignPrincipal;
}

export interface ForeignPrincipal {
  service: string;
  /** HMAC-SHA256 of foreignMapSigned(...) under the service's key; empty once vouched for. */
  mac: Uint8Array;
}

const FOREIGN_READONLY = 1;
const FOREIGN_RESOURCE = 2;
const FOREIGN_PRINCIPAL = 4;

export function encodeForeignMapRequest(q: ForeignMapRequest): Uint8Array {
  const w = new ByteWriter()
    .u16(q.dom)
    .u8(
      (q.readonly ? FOREIGN_READONLY : 0) |
        (q.resource ? FOREIGN_RESOURCE : 0) |
        (q.principal ? FOREIGN_PRINCIPAL : 0),
    );
  if (q.resource) w.u32(q.resource.type).u32(q.resource.id).u32(q.resource.frame).u32(q.resource.nrFrames);
  w.u32(q.gfns.length);
  for (const g of q.gfns) w.u32(g);
  w.u8(q.watermarks.length);
  for (const f of q.watermarks) w.str(f.writer).u64(f.seq);
  if (q.principal) {
    if (q.principal.mac.length > 255) throw new LinkCodecError("bad_record", "principal mac too long");
    w.str(q.principal.service).u8(q.principal.mac.length);
    for (const b of q.principal.mac) w.u8(b);
  }
  return w.bytes();
}

/**
 * What a principal signs: the calling domain, its service and the request as asked (no watermarks,
 * no principal) — a signature is good for that map of that domain's gfns or resource only.
 */
export function foreignMapSigned(caller: number, service: string, q: ForeignMapRequest): Uint8Array {
  const { principal: _p, ...asked } = q;
  const body = encodeForeignMapRequest({ ...asked, watermarks: [] });
  const head = new ByteWriter().u32(caller).str(service).bytes();
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export function decodeForeignMapRequest(b: Uint8Array): ForeignMapRequest {
  const r = new ByteReader(b);
  const dom = r.u16();
  const flags = r.u8();
  const q: ForeignMapRequest = { dom, readonly: (flags & FOREIGN_READONLY) !== 0, gfns: [], watermarks: [] };
  if (flags & FOREIGN_RESOURCE)
    q.resource = { type: r.u32(), id: r.u32(), frame: r.u32(), nrFrames: r.u32() };
  const n = r.count(4);
  for (let i = 0; i < n; i++) q.gfns.push(r.u32());
  const nw = r.u8();
  for (let i = 0; i < nw; i++) q.watermarks.push({ writer: r.str(), seq: r.u64() });
  if (flags & FOREIGN_PRINCIPAL) {
    const service = r.str();
    const mac = new Uint8Array(r.u8());
    for (let i = 0; i < mac.length; i++) mac[i] = r.u8();
    q.principal = { service, mac };
  }
  r.end();
  return q;
}

export interface ForeignMapReply {
  /** 0, or -errno (nothing is mapped then). */
  rc: number;
  /** Names the mapping for its unmap. */
  handle: number;
  /** The frames in the hypervisor's host, in the order asked. */
  origins: number[];
  /** Other hosts (besides the hypervisor's) holding the frames. */
  peers: FramePeer[];
}

export function encodeForeignMapReply(r: ForeignMapReply): Uint8Array {
  const w = new ByteWriter().i32(r.rc).u32(r.handle).u32(r.origins.length);
  for (const o of r.origins) w.u32(o);
  w.u32(r.peers.length);
  for (const p of r.peers)
    w.u32(p.origin)
      .str(p.host)
      .u8(p.writable ? 1 : 0);
  return w.bytes();
}

/** Also reads a bare rc (a request failed before it was executed: encodeRc). */
export function decodeForeignMapReply(b: Uint8Array): ForeignMapReply {
  const r = new ByteReader(b);
  const rc = r.i32();
  if (b.length === 4) return { rc: rc === 0 ? -5 : rc, handle: 0, origins: [], peers: [] };
  const handle = r.u32();
  const n = r.count(4);
  const origins: number[] = [];
  for (let i = 0; i < n; i++) origins.push(r.u32());
  const np = r.count(6);
  const peers: FramePeer[] = [];
  for (let i = 0; i < np; i++) peers.push({ origin: r.u32(), host: r.str(), writable: r.u8() === 1 });
  r.end();
  return { rc, handle, origins, peers };
}

/** The watermarks a map or copy request names (undefined for other requests). */
export function requestWatermarks(op: number, payload: Uint8Array): Fence[] | undefined {
  try {
    if (op === OP_MAP) return decodeMapRequest(payload).watermarks;
    if (op === OP_COPY) return decodeCopyRequest(payload).watermarks;
    if (op === OP_FOREIGN_MAP) return decodeForeignMapRequest(payload).watermarks;
  } catch {
    return undefined; // a bad payload: execute() answers it
  }
  return undefined;
}

export function withWatermarks(op: number, payload: Uint8Array, watermarks: Fence[]): Uint8Array {
  if (op === OP_MAP) return encodeMapRequest({ ...decodeMapRequest(payload), watermarks });
  if (op === OP_FOREIGN_MAP)
    return encodeForeignMapRequest({ ...decodeForeignMapRequest(payload), watermarks });
  return encodeCopyRequest({ ...decodeCopyRequest(payload), watermarks });
}

/** The request without its watermarks (caught up, or waited long enough): executed as it is. */
export function withoutWatermarks(op: number, payload: Uint8Array): Uint8Array {
  return withWatermarks(op, payload, []);
}
