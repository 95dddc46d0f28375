// Replication of frames between host processes (DESIGN.md, "Memory model"): a writer host collects
// the byte ranges written to the frames it replicates (it is the store's WriteLog), and `publish()`
// turns them into one numbered batch per stream step plus a fence (host, seq). A replica applies each
// writer's batches strictly in sequence order — buffering early ones, ignoring duplicates — so when
// `isApplied(fence)` holds, every byte the writer published up to that fence is in the replica.
//
// Frame keys: a frame is named across hosts by (writer host id, the writer's frame number). The
// writer's frame number is stable for the life of the frame (grants and physmaps point at it), so it
// needs no translation at the writer; the replica keeps the mapping table (host, key) → local frame
// (see `PageStoreReplicaTarget`, which allocates local frames on first sight).
//
// Wire format of one batch (little-endian, one Uint8Array):
//   u32 magic "XRB1" (0x31425258) | u8 hostLen | host (UTF-8) | u32 seqLo | u32 seqHi | u32 count
//   count × ( u32 key | u16 offset | u16 length | length bytes )
// A resync snapshot uses the same layout with magic "XRS1" and whole frames (offset 0, 4096 bytes):
// the frames' contents as of `seq`.
//
// A protocol module: no node:*, no clock, no randomness.

import type { PageStore } from "./page-store.js";
import type { WriteLog } from "./view.js";
import { PAGE_SIZE } from "./xen-constants.js";

/** The point in a writer's stream a receiver waits for. */
export interface Fence {
  host: string;
  seq: number;
}

/** Bytes [offset, offset+bytes.length) of the writer's frame `key`. */
export interface ReplRange {
  key: number;
  offset: number;
  bytes: Uint8Array;
}

/** One step of a writer's stream. */
export interface Batch {
  host: string;
  seq: number;
  ranges: ReplRange[];
}

export class ReplicationError extends Error {
  override readonly name = "ReplicationError";
  constructor(
    readonly code: "bad_encoding" | "bad_range" | "bad_host",
    message: string,
  ) {
    super(message);
  }
}

// ---- encoding ---------------------------------------------------------------------------------

export const BATCH_MAGIC = 0x31425258; // "XRB1"
export const SNAPSHOT_MAGIC = 0x31535258; // "XRS1"
const RANGE_HEADER = 8;
const utf8Enc = new TextEncoder();
const utf8Dec = new TextDecoder("utf-8", { fatal: true });

/** Bytes of the encoding of a batch with these ranges (header excluded). */
export function encodedRangesSize(ranges: readonly ReplRange[]): number {
  let n = 0;
  for (const r of ranges) n += RANGE_HEADER + r.bytes.length;
  return n;
}

function checkRange(r: ReplRange): void {
  if (
    !Number.isInteger(r.key) ||
    r.key < 0 ||
    r.key > 0xffffffff ||
    !Number.isInteger(r.offset) ||
    r.offset < 0 ||
    r.offset + r.bytes.length > PAGE_SIZE
  ) {
    throw new ReplicationError(
      "bad_range",
      `range key=${r.key} [${r.offset}, +${r.bytes.length}) is not in a frame`,
    );
  }
}

function encodeWith(magic: number, b: Batch): Uint8Array {
  const host = utf8Enc.encode(b.host);
  if (host.length > 255) throw new ReplicationError("bad_host", "host id longer than 255 bytes");
  if (!Number.isSafeInteger(b.seq) || b.seq < 0) throw new ReplicationError("bad_range", `bad seq ${b.seq}`);
  const size = 4 + 1 + host.length + 8 + 4 + encodedRangesSize(b.ranges);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = 0;
  dv.setUint32(p, magic, true);
  p += 4;
  out[p++] = host.length;
  out.set(host, p);
  p += host.length;
  dv.setUint32(p, b.seq % 0x1_0000_0000, true);
  dv.setUint32(p + 4, Math.floor(b.seq / 0x1_0000_0000), true);
  p += 8;
  dv.setUint32(p, b.ranges.length, true);
  p += 4;
  for (const r of b.ranges) {
    checkRange(r);
    dv.setUint32(p, r.key, true);
    dv.setUint16(p + 4, r.offset, true);
    dv.setUint16(p + 6, r.bytes.length, true);
    out.set(r.bytes, p + RANGE_HEADER);
    p += RANGE_HEADER + r.bytes.length;
  }
  return out;
}

function decodeWith(magic: number, data: Uint8Array): Batch {
  const bad = (why: string): never => {
    throw new ReplicationError("bad_encoding", why);
  };
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 17) bad("batch too short");
  if (dv.getUint32(0, true) !== magic) bad("bad magic");
  let p = 4;
  const hostLen = data[p++]!;
  if (p + hostLen + 12 > data.length) bad("truncated header");
  let host = "";
  try {
    host = utf8Dec.decode(data.subarray(p, p + hostLen));
  } catch {
    bad("host id is not UTF-8");
  }
  p += hostLen;
  const seq = dv.getUint32(p, true) + dv.getUint32(p + 4, true) * 0x1_0000_0000;
  if (!Number.isSafeInteger(seq)) bad("seq out of range");
  p += 8;
  const count = dv.getUint32(p, true);
  p += 4;
  const ranges: ReplRange[] = [];
  for (let i = 0; i < count; i++) {
    if (p + RANGE_HEADER > data.length) bad("truncated range header");
    const key = dv.getUint32(p, true);
    const offset = dv.getUint16(p + 4, true);
    const len = dv.getUint16(p + 6, true);
    p += RANGE_HEADER;
    if (offset + len > PAGE_SIZE) bad("range leaves its frame");
    if (p + len > data.length) bad("truncated range bytes");
    ranges.push({ key, offset, bytes: data.slice(p, p + len) });
    p += len;
  }
  if (p !== data.length) bad("trailing bytes");
  return { host, seq, ranges };
}

/** The wire form of a batch. */
export function encodeBatch(b: Batch): Uint8Array {
  return encodeWith(BATCH_MAGIC, b);
}
/** Parses a batch; throws ReplicationError("bad_encoding") on anything malformed. */
export function decodeBatch(data: Uint8Array): Batch {
  return decodeWith(BATCH_MAGIC, data);
}

/** A resync snapshot: whole frames as of `seq` of `host`'s stream. */
export interface Snapshot {
  host: string;
  seq: number;
  frames: Array<{ key: number; bytes: Uint8Array }>;
}
export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encodeWith(SNAPSHOT_MAGIC, {
    host: s.host,
    seq: s.seq,
    ranges: s.frames.map((f) => ({ key: f.key, offset: 0, bytes: f.bytes })),
  });
}
export function decodeSnapshot(data: Uint8Array): Snapshot {
  const b = decodeWith(SNAPSHOT_MAGIC, data);
  for (const r of b.ranges) {
    if (r.offset !== 0 || r.bytes.length !== PAGE_SIZE) {
      throw new ReplicationError("bad_encoding", "snapshot range is not a whole frame");
    }
  }
  return { host: b.host, seq: b.seq, frames: b.ranges.map((r) => ({ key: r.key, bytes: r.bytes })) };
}

/** Reads the batch header only (host and seq), without copying the ranges. */
export function peekBatchHeader(data: Uint8Array): Fence {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 17 || dv.getUint32(0, true) !== BATCH_MAGIC) {
    throw new ReplicationError("bad_encoding", "not a batch");
  }
  const hostLen = data[4]!;
  if (5 + hostLen + 12 > data.length) throw new ReplicationError("bad_encoding", "truncated header");
  const host = utf8Dec.decode(data.subarray(5, 5 + hostLen));
  const p = 5 + hostLen;
  return { host, seq: dv.getUint32(p, true) + dv.getUint32(p + 4, true) * 0x1_0000_0000 };
}

// ---- writer -----------------------------------------------------------------------------------

export interface ReplicationWriterOptions {
  /** This host's id (goes into every batch and fence). */
  host: string;
  /** Reads the current bytes of a frame of this host: [offset, offset+length) of `frame`. */
  read(frame: number, offset: number, length: number): Uint8Array;
  /**
   * Writes closer than this are coalesced into one range (the bytes between are sent too). Default
   * 0: only touching ranges merge. A frame written by two hosts (a ring page: requests from one
   * side, responses from the other) must never carry bytes this host did not write — they would
   * overwrite the other side's newer words on its replica with this host's stale copy.
   */
  mergeGap?: number;
  /** A frame with more dirty ranges than this is sent whole (default: never; same reason). */
  maxRangesPerFrame?: number;
  /** Most encoded bytes in one batch; a bigger publish becomes several consecutive batches. */
  maxBatchBytes?: number;
  /** Batches kept for gap-fill (by count and by encoded bytes). */
  windowBatches?: number;
  windowBytes?: number;
}

export interface PublishResult {
  /** Everything written before publish() is in the stream up to here. */
  fence: Fence;
  /** The new batches, encoded, in order (none when nothing was written since the last publish). */
  batches: Uint8Array[];
  /** Frames and bytes carried by the new batches. */
  frames: number;
  bytes: number;
}

/** What a writer can answer a replica that missed batches. */
export type GapFill =
  | { kind: "batches"; batches: Uint8Array[] }
  | { kind: "snapshot"; snapshot: Uint8Array; published: PublishResult };

/**
 * The writer side of one host: a WriteLog that keeps, per replicated frame, the coalesced ranges
 * written since the last publish, and a bounded window of published batches for gap-fill.
 */
export class ReplicationWriter implements WriteLog {
  readonly host: string;
  private readonly readFrame: ReplicationWriterOptions["read"];
  private readonly mergeGap: number;
  private readonly maxRanges: number;
  private readonly maxBatchBytes: number;
  private readonly windowBatches: number;
  private readonly windowBytes: number;
  private readonly tracked = new Set<number>();
  /** frame → sorted disjoint [start, end) pairs, flattened. */
  private readonly dirty = new Map<number, number[]>();
  private readonly window: Uint8Array[] = [];
  private windowFirstSeq = 1;
  private windowSize = 0;
  private lastSeq = 0;

  constructor(opts: ReplicationWriterOptions) {
    this.host = opts.host;
    this.readFrame = opts.read;
    this.mergeGap = opts.mergeGap ?? 0;
    this.maxRanges = opts.maxRangesPerFrame ?? PAGE_SIZE;
    this.maxBatchBytes = Math.max(opts.maxBatchBytes ?? 512 * 1024, PAGE_SIZE + 512);
    this.windowBatches = opts.windowBatches ?? 1024;
    this.windowBytes = opts.windowBytes ?? 64 * 1024 * 1024;
    encodeBatch({ host: this.host, seq: 0, ranges: [] }); // validates the host id
  }

  /** The last published sequence number (0 before the first publish). */
  get seq(): number {
    return this.lastSeq;
  }
  /** The fence of everything published so far. */
  get fence(): Fence {
    return { host: this.host, seq: this.lastSeq };
  }
  get trackedFrames(): readonly number[] {
    return [...this.tracked];
  }
  isTracked(frame: number): boolean {
    return this.tracked.has(frame);
  }
  /** True when written ranges wait for a publish. */
  get pending(): boolean {
    return this.dirty.size > 0;
  }

  /**
   * Start (or restart) replicating `frames`: each is marked dirty whole, so the next publish
   * carries a full copy of it (the initial copy travels in the stream, ordered with later writes).
   */
  track(frames: Iterable<number>, opts: { initialCopy?: boolean } = {}): void {
    for (const f of frames) {
      if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) {
        throw new ReplicationError("bad_range", `bad frame ${f}`);
      }
      this.tracked.add(f);
      // Without the initial copy (the peer has these bytes already, e.g. a replica written back to
      // its origin), only later writes travel.
      if (opts.initialCopy !== false) this.dirty.set(f, [0, PAGE_SIZE]);
    }
  }

  /** Stop replicating `frames` (pending writes to them are dropped). */
  untrack(frames: Iterable<number>): void {
    for (const f of frames) {
      this.tracked.delete(f);
      this.dirty.delete(f);
    }
  }

  /** WriteLog: [offset, offset+length) of `frame` was written. Untracked frames are ignored. */
  written(frame: number, offset: number, length: number): void {
    if (length <= 0 || !this.tracked.has(frame)) return;
    const start = Math.max(0, offset);
    const end = Math.min(PAGE_SIZE, offset + length);
    if (end <= start) return;
    const list = this.dirty.get(frame);
    if (!list) {
      this.dirty.set(frame, [start, end]);
      return;
    }
    addInterval(list, start, end, this.mergeGap);
    if (list.length / 2 > this.maxRanges) {
      list.length = 0;
      list.push(0, PAGE_SIZE);
    }
  }

  /**
   * Turn the pending ranges into batches (reading the frames' bytes now) and return the fence.
   * With nothing pending, no batch is made and the fence is the last one.
   */
  publish(): PublishResult {
    const out: PublishResult = { fence: this.fence, batches: [], frames: this.dirty.size, bytes: 0 };
    if (this.dirty.size === 0) return out;
    const header = 4 + 1 + utf8Enc.encode(this.host).length + 12;
    let ranges: ReplRange[] = [];
    let size = header;
    const flush = (): void => {
      if (ranges.length === 0) return;
      const b = encodeBatch({ host: this.host, seq: ++this.lastSeq, ranges });
      this.remember(b);
      out.batches.push(b);
      out.bytes += b.length;
      ranges = [];
      size = header;
    };
    const keys = [...this.dirty.keys()].sort((a, b) => a - b);
    for (const frame of keys) {
      const list = this.dirty.get(frame)!;
      for (let i = 0; i < list.length; i += 2) {
        const s = list[i]!;
        const e = list[i + 1]!;
        if (size + RANGE_HEADER + (e - s) > this.maxBatchBytes) flush();
        ranges.push({ key: frame, offset: s, bytes: this.readFrame(frame, s, e - s) });
        size += RANGE_HEADER + (e - s);
      }
    }
    flush();
    this.dirty.clear();
    out.fence = this.fence;
    return out;
  }

  private remember(b: Uint8Array): void {
    this.window.push(b);
    this.windowSize += b.length;
    while (
      this.window.length > 0 &&
      (this.window.length > this.windowBatches || this.windowSize > this.windowBytes)
    ) {
      this.windowSize -= this.window.shift()!.length;
      this.windowFirstSeq++;
    }
  }

  /** Published batches [from, to] from the window, or undefined when it no longer holds them all. */
  batches(from: number, to: number): Uint8Array[] | undefined {
    const hi = Math.min(to, this.lastSeq);
    if (from < this.windowFirstSeq || from > hi + 1) return undefined;
    return this.window.slice(from - this.windowFirstSeq, hi - this.windowFirstSeq + 1);
  }

  /**
   * Whole tracked frames (or `frames`, if given and tracked) as of a fresh publish: pending writes
   * are published first (returned, to be sent on the stream as usual), so the snapshot's bytes are
   * exactly the stream's state at its seq.
   */
  snapshot(frames?: Iterable<number>): { snapshot: Uint8Array; published: PublishResult } {
    const published = this.publish();
    const keys = frames ? [...frames].filter((f) => this.tracked.has(f)) : [...this.tracked];
    keys.sort((a, b) => a - b);
    const snapshot = encodeSnapshot({
      host: this.host,
      seq: this.lastSeq,
      frames: keys.map((key) => ({ key, bytes: this.readFrame(key, 0, PAGE_SIZE) })),
    });
    return { snapshot, published };
  }

  /** Answer a replica missing [from, to]: the batches from the window, or else a snapshot. */
  fill(from: number, to: number): GapFill {
    const b = this.batches(from, to);
    if (b) return { kind: "batches", batches: b };
    return { kind: "snapshot", ...this.snapshot() };
  }
}

/** Insert [s, e) into a sorted flattened list of disjoint intervals, merging closer than `gap`. */
function addInterval(list: number[], s: number, e: number, gap: number): void {
  // Find the first interval whose end + gap >= s.
  let i = 0;
  while (i < list.length && list[i + 1]! + gap < s) i += 2;
  let j = i;
  let ns = s;
  let ne = e;
  while (j < list.length && list[j]! <= ne + gap) {
    ns = Math.min(ns, list[j]!);
    ne = Math.max(ne, list[j + 1]!);
    j += 2;
  }
  list.splice(i, j - i, ns, ne);
}

// ---- replica ----------------------------------------------------------------------------------

/** Where a replica puts the bytes it applies. */
export interface ReplicaTarget {
  apply(host: string, key: number, offset: number, bytes: Uint8Array): void;
}

export interface ReplicaOptions {
  /** Ignore batches from this host (a host does not replicate its own stream). */
  self?: string;
  /** Most early (out-of-order) batches buffered per writer; beyond it the latest ones are dropped. */
  maxBuffered?: number;
  /** Called after every apply step (batch, snapshot) with the writer's new appliedUpTo. */
  onApplied?: (host: string, seq: number) => void;
}

export type ReceiveResult = "applied" | "buffered" | "duplicate" | "ignored";

interface Stream {
  applied: number;
  /** Highest seq known to exist (seen in a batch, a fence or a head announcement). */
  head: number;
  early: Map<number, Batch>;
  waiters: Array<{ seq: number; cb: () => void }>;
}

/**
 * The receiving side: applies each writer's batches in sequence order exactly once. A batch that
 * arrives early waits in a buffer until its predecessors are applied; a gap is visible through
 * `missing(host)` so the service can ask the writer for the batches (or a snapshot).
 */
export class Replica {
  private readonly streams = new Map<string, Stream>();
  private readonly maxBuffered: number;
  private readonly self: string | undefined;
  private readonly onApplied: ((host: string, seq: number) => void) | undefined;
  /** Batches and bytes applied (all writers). */
  appliedBatches = 0;
  appliedBytes = 0;
  duplicates = 0;

  constructor(
    private readonly target: ReplicaTarget,
    opts: ReplicaOptions = {},
  ) {
    this.maxBuffered = opts.maxBuffered ?? 4096;
    this.self = opts.self;
    this.onApplied = opts.onApplied;
  }

  private stream(host: string): Stream {
    let s = this.streams.get(host);
    if (!s) {
      s = { applied: 0, head: 0, early: new Map(), waiters: [] };
      this.streams.set(host, s);
    }
    return s;
  }

  /** Writers this replica has heard of. */
  hosts(): string[] {
    return [...this.streams.keys()];
  }

  /** Everything of `host`'s stream up to this seq has been applied. */
  appliedUpTo(host: string): number {
    return this.streams.get(host)?.applied ?? 0;
  }

  /** Highest seq of `host` known to exist. */
  headOf(host: string): number {
    const s = this.streams.get(host);
    return s ? Math.max(s.head, s.applied) : 0;
  }

  /** Early batches waiting for their predecessors. */
  buffered(host: string): number {
    return this.streams.get(host)?.early.size ?? 0;
  }

  isApplied(f: Fence): boolean {
    return f.host === this.self || this.appliedUpTo(f.host) >= f.seq;
  }

  /**
   * Calls `cb` (synchronously, from the apply step) once `fence` is applied — at once if it is.
   * Returns a canceller. Also records that the writer has reached `fence.seq`.
   */
  whenApplied(f: Fence, cb: () => void): () => void {
    if (this.isApplied(f)) {
      cb();
      return () => {};
    }
    const s = this.stream(f.host);
    s.head = Math.max(s.head, f.seq);
    const w = { seq: f.seq, cb };
    s.waiters.push(w);
    return () => {
      const i = s.waiters.indexOf(w);
      if (i >= 0) s.waiters.splice(i, 1);
    };
  }

  /** The writer says it has published up to `seq` (a fence or a head announcement). */
  noteHead(host: string, seq: number): void {
    if (host === this.self) return;
    const s = this.stream(host);
    s.head = Math.max(s.head, seq);
  }

  /** Begin `host`'s stream after `seq` (a new follower that was given the state up to seq). */
  startAfter(host: string, seq: number): void {
    const s = this.stream(host);
    if (seq <= s.applied) return;
    s.applied = seq;
    for (const k of [...s.early.keys()]) if (k <= seq) s.early.delete(k);
    this.drain(host, s);
  }

  /**
   * The first run of missing seqs of `host`: [applied+1, to], where `to` is just before the lowest
   * buffered batch, or the known head. Undefined when nothing is missing.
   */
  missing(host: string): { from: number; to: number } | undefined {
    const s = this.streams.get(host);
    if (!s) return undefined;
    let lowest = Number.POSITIVE_INFINITY;
    for (const k of s.early.keys()) lowest = Math.min(lowest, k);
    const to = lowest !== Number.POSITIVE_INFINITY ? lowest - 1 : s.head;
    return to > s.applied ? { from: s.applied + 1, to } : undefined;
  }

  /** Take one batch (decoded or on the wire) from the stream. */
  receive(batch: Batch | Uint8Array): ReceiveResult {
    const b = batch instanceof Uint8Array ? decodeBatch(batch) : batch;
    if (b.host === this.self) return "ignored";
    const s = this.stream(b.host);
    s.head = Math.max(s.head, b.seq);
    if (b.seq <= s.applied || s.early.has(b.seq)) {
      this.duplicates++;
      return "duplicate";
    }
    if (b.seq > s.applied + 1) {
      if (s.early.size >= this.maxBuffered) {
        // Keep the lowest ones (they unblock the stream first); the rest come again by gap-fill.
        let highest = b.seq;
        for (const k of s.early.keys()) highest = Math.max(highest, k);
        if (highest === b.seq) return "ignored";
        s.early.delete(highest);
      }
      s.early.set(b.seq, b);
      return "buffered";
    }
    this.applyOne(s, b);
    this.drain(b.host, s);
    return "applied";
  }

  /** Apply a snapshot (whole frames as of its seq); older snapshots are ignored. */
  applySnapshot(snap: Snapshot | Uint8Array): ReceiveResult {
    const sn = snap instanceof Uint8Array ? decodeSnapshot(snap) : snap;
    if (sn.host === this.self) return "ignored";
    const s = this.stream(sn.host);
    s.head = Math.max(s.head, sn.seq);
    if (sn.seq <= s.applied) return "duplicate";
    for (const f of sn.frames) {
      this.target.apply(sn.host, f.key, 0, f.bytes);
      this.appliedBytes += f.bytes.length;
    }
    s.applied = sn.seq;
    for (const k of [...s.early.keys()]) if (k <= sn.seq) s.early.delete(k);
    this.drain(sn.host, s);
    return "applied";
  }

  private applyOne(s: Stream, b: Batch): void {
    for (const r of b.ranges) {
      this.target.apply(b.host, r.key, r.offset, r.bytes);
      this.appliedBytes += r.bytes.length;
    }
    s.applied = b.seq;
    this.appliedBatches++;
  }

  private drain(host: string, s: Stream): void {
    for (let next = s.early.get(s.applied + 1); next; next = s.early.get(s.applied + 1)) {
      s.early.delete(next.seq);
      this.applyOne(s, next);
    }
    this.onApplied?.(host, s.applied);
    if (s.waiters.length > 0) {
      const ready = s.waiters.filter((w) => w.seq <= s.applied);
      if (ready.length > 0) {
        s.waiters = s.waiters.filter((w) => w.seq > s.applied);
        for (const w of ready) w.cb();
      }
    }
  }
}

// ---- targets ----------------------------------------------------------------------------------

/** A replica target over plain byte arrays (tests, tools): one 4 KiB array per (host, key). */
export class MapReplicaTarget implements ReplicaTarget {
  readonly frames = new Map<string, Uint8Array>();
  apply(host: string, key: number, offset: number, bytes: Uint8Array): void {
    const id = `${host}/${key}`;
    let f = this.frames.get(id);
    if (!f) {
      f = new Uint8Array(PAGE_SIZE);
      this.frames.set(id, f);
    }
    f.set(bytes, offset);
  }
  frame(host: string, key: number): Uint8Array | undefined {
    return this.frames.get(`${host}/${key}`);
  }
}

/**
 * A replica target in a PageStore: the mapping table (writer host, writer frame) → local frame.
 * A local frame is allocated (owned by `owner`, zeroed) the first time a key of a host is seen.
 */
export class PageStoreReplicaTarget implements ReplicaTarget {
  private readonly table = new Map<string, Map<number, number>>();
  /**
   * Aliases: (writer host, writer frame) applied onto a frame of this host (no replica frame) — a
   * peer's replica of one of our frames, written there and replicated back onto the original.
   * `null`: released (batches still in flight for it are dropped).
   */
  private readonly aliases = new Map<string, Map<number, number | null>>();
  constructor(
    private readonly store: PageStore,
    private readonly owner: number,
  ) {}

  /** The local frame holding `host`'s frame `key`, allocating it when `create`. */
  localFrame(host: string, key: number, create = false): number | undefined {
    let m = this.table.get(host);
    let f = m?.get(key);
    if (f !== undefined || !create) return f;
    f = this.store.allocFrame(this.owner);
    if (f === 0) throw new ReplicationError("bad_range", `no free frame for replica of ${host}/${key}`);
    if (!m) {
      m = new Map();
      this.table.set(host, m);
    }
    m.set(key, f);
    return f;
  }

  /** The mapping table of one writer host: its frame → local frame. */
  mappings(host: string): ReadonlyMap<number, number> {
    return this.table.get(host) ?? new Map();
  }

  /** Number of replica frames held for all hosts. */
  get size(): number {
    let n = 0;
    for (const m of this.table.values()) n += m.size;
    return n;
  }

  /** Apply `host`'s frame `key` onto this host's frame `frame` from now on. */
  alias(host: string, key: number, frame: number): void {
    if (!this.store.isValidFrame(frame)) throw new ReplicationError("bad_range", `bad frame ${frame}`);
    let m = this.aliases.get(host);
    if (!m) {
      m = new Map();
      this.aliases.set(host, m);
    }
    m.set(key, frame);
  }

  /** Stop applying `host`'s frame `key` (set by `alias`); later batches for it are dropped. */
  unalias(host: string, key: number): void {
    const m = this.aliases.get(host);
    if (m?.has(key)) m.set(key, null);
  }

  /** The frame of this host `host`'s `key` is applied onto (undefined: none, null: released). */
  aliasOf(host: string, key: number): number | null | undefined {
    return this.aliases.get(host)?.get(key);
  }

  apply(host: string, key: number, offset: number, bytes: Uint8Array): void {
    const a = this.aliases.get(host)?.get(key);
    if (a !== undefined) {
      if (a !== null) this.store.u8.set(bytes, a * PAGE_SIZE + offset);
      return;
    }
    const f = this.localFrame(host, key, true)!;
    this.store.u8.set(bytes, f * PAGE_SIZE + offset);
  }
}

/** A writer's frame reader over a PageStore (copies). */
export function pageStoreReader(store: PageStore): ReplicationWriterOptions["read"] {
  return (frame, offset, length) =>
    store.u8.slice(frame * PAGE_SIZE + offset, frame * PAGE_SIZE + offset + length);
}
