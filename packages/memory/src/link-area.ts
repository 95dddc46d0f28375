// The host's side of the data plane across host processes (docs/data-plane.md), in the page store's
// own shared memory so that every thread of the host reaches it without a call:
//
//   - a subscriber word per frame: bit i set = peer host i holds a copy of this frame (its writes
//     must reach it); `markWritten` reads it with one load and does nothing more when it is 0;
//   - an origin word per frame: the frame's number in the hypervisor's host (frames are named
//     across hosts by it), for replicas held here;
//   - the record queue: a multi-producer single-consumer ring of bytes. Producers (any thread) append
//     RANGE records (small ones with a copy of the bytes, bulk ones read at drain time), EVENT, SEND
//     and REQUEST records; the link thread (the page-server) drains it. Program order of one thread
//     is queue order;
//   - the peer directory (index → host id), the placement of event channels (a domain's home peer,
//     dom0 vCPUs registered by other hosts), shadow shared_info frames of domains whose events are
//     delivered here, the origin → replica map, and reply mailboxes for requests.
//
// Layout: a run of DOMID_XEN frames; its first frame number is in the store header (word 8).
// Header words (Int32, relative to the area): see the constants below.
//
// A protocol module: no node:*, no clock, no randomness.

import { DOMID_XEN } from "@xensim/abi";
import { lockWord, unlockWord } from "./lock.js";
import { PAGE_SIZE } from "./xen-constants.js";

const WORDS = PAGE_SIZE / 4;
const MAGIC = 0x4b4e4c58; // "XLNK"
const VERSION = 1;

// Header words.
const A_MAGIC = 0;
const A_VERSION = 1;
const A_NR_FRAMES = 2;
const A_FW_BASE = 3; // absolute i32 index of the per-frame words
const A_Q_BASE = 4; // absolute byte offset of the queue
const A_Q_BYTES = 5;
const A_Q_HEAD = 6;
const A_Q_TAIL = 7;
const A_Q_SLEEP = 8;
const A_OWNER = 9;
const A_HV_PEER = 10;
const A_REPLICA_ROOT = 11; // absolute i32 index of the replica map root (1024 words)
const A_MBOX_BASE = 12; // absolute byte offset of the mailboxes
const A_MBOX_COUNT = 13;
const A_MBOX_FREE = 14; // 32 bits: mailbox i free
const A_DROPPED = 15;
const A_REQ_SEQ = 16;
const A_HOME_BASE = 17; // absolute byte offset of the home table (u8 per domid)
const A_Q_WAITERS = 18;
const A_LOCK = 20;
const A_PLACE_GEN = 23; // bumped on every change of a home or a placement
const A_PLACE_HIGH = 24; // placement entries in use lie below this index
const A_PEERS = 64; // 32 × 16 words
const PEER_WORDS = 16;
const MAX_PEERS = 32;
const A_PLACE = A_PEERS + MAX_PEERS * PEER_WORDS; // 64 × [key+1, peer]
const MAX_PLACE = 64;
const A_SHADOW = A_PLACE + MAX_PLACE * 2; // 64 × [domid+1, frame]
const MAX_SHADOW = 64;

/** Mailbox: 4 frames; word 0 state, word 1 payload length, then the payload. */
const MBOX_FRAMES = 4;
const MBOX_BYTES = MBOX_FRAMES * PAGE_SIZE;
/** Payload bytes a mailbox holds. */
export const MAILBOX_PAYLOAD = MBOX_BYTES - 8;
const MBOX_IDLE = 0;
const MBOX_WAITING = 1;
const MBOX_REPLIED = 2;
const MBOXES = 32;

/** Domids the home table covers. */
const HOME_DOMIDS = 0x8000;

// Queue records: word 0 = type << 24 | total bytes (a multiple of 4), stored last (the commit).
export const Q_RANGE = 1; // frame, offset | length << 16, subscribers, bytes (copied at mark time)
export const Q_ZERO = 2; // frame, subscribers
export const Q_EVENT = 3; // peer, domid, vcpu, port
export const Q_SEND = 4; // caller, port
export const Q_REQUEST = 5; // mailbox, op, caller, length, payload
const Q_PAD = 6;
/**
 * A bulk range (longer than BULK_RANGE_BYTES: data pages): frame, offset | length << 16,
 * subscribers, no bytes — the link thread reads them when it drains. Safe for what the split
 * drivers write in bulk (data pages, ring buffers): a writer rewrites such bytes only after the peer
 * consumed them, which it can only do once they (and all before them) went on the link. Small
 * ranges (ring slots, indices, grant entries) are copied when marked: a value read later could
 * travel before the writes its record follows.
 */
export const Q_RANGE_BULK = 7;
/** A frame freed in the hypervisor's host: frame, subscribers (their replicas are freed). */
export const Q_FREE = 8;
/** Ranges longer than this are bulk (read at drain time). */
export const BULK_RANGE_BYTES = 512;

/** One record as the consumer sees it (reused: copy what you keep). */
export interface QueueRecord {
  type: number;
  /** RANGE/ZERO: the local frame; EVENT: the peer. */
  a: number;
  /** RANGE: offset; EVENT: domid; SEND/REQUEST: caller. */
  b: number;
  /** RANGE: length; EVENT: vcpu; SEND: port; REQUEST: op. */
  c: number;
  /** RANGE/ZERO: subscriber mask; EVENT: port; REQUEST: mailbox. */
  d: number;
  /** RANGE bytes / REQUEST payload: byte offset in `u8` and length. */
  dataOffset: number;
  dataLength: number;
}

export class LinkAreaError extends Error {
  override readonly name = "LinkAreaError";
  constructor(
    readonly code: "no_memory" | "full" | "bad_argument",
    message: string,
  ) {
    super(message);
  }
}

export interface LinkAreaOptions {
  /** Queue size in bytes (a power of two; default: min(8 MiB, store / 8), at least 256 KiB). */
  queueBytes?: number;
}

/** What the area needs of its page store (PageStore satisfies it). */
export interface LinkAreaStore {
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly nrFrames: number;
  /** A hypervisor runs on this store. */
  readonly hostsHypervisor: boolean;
  allocFrame(owner: number): number;
  allocFrames(owner: number, count: number, contiguous?: boolean): number[] | undefined;
  freeFrame(frame: number): boolean;
}

/** Called, in the thread that routes an event, instead of queueing an EVENT record (link thread). */
export type RouteHook = (peer: number, domid: number, vcpu: number, port: number) => void;

export class LinkArea {
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly base: number; // i32 index of the header
  private readonly fw: number;
  private readonly qBase: number;
  private readonly qBytes: number;
  private readonly qMask: number;
  private readonly homeBase: number;
  private readonly mboxBase: number;
  private readonly root: number;
  readonly nrFrames: number;
  /** This thread's route hook (set by the link thread: events it routes go straight to its frames). */
  routeHook: RouteHook | undefined;
  private authority = false;
  private readonly rec: QueueRecord = { type: 0, a: 0, b: 0, c: 0, d: 0, dataOffset: 0, dataLength: 0 };

  private constructor(
    private readonly store: LinkAreaStore,
    baseFrame: number,
  ) {
    this.i32 = store.i32;
    this.u8 = store.u8;
    this.dv = store.dv;
    this.base = baseFrame * WORDS;
    const h = (w: number) => Atomics.load(this.i32, this.base + w);
    if (h(A_MAGIC) !== MAGIC) throw new LinkAreaError("bad_argument", "no link area there");
    this.nrFrames = h(A_NR_FRAMES);
    this.fw = h(A_FW_BASE);
    this.qBase = h(A_Q_BASE);
    this.qBytes = h(A_Q_BYTES);
    this.qMask = this.qBytes - 1;
    this.homeBase = h(A_HOME_BASE);
    this.mboxBase = h(A_MBOX_BASE);
    this.root = h(A_REPLICA_ROOT);
  }

  /** Attach to the area whose header is frame `baseFrame`. */
  static attach(store: LinkAreaStore, baseFrame: number): LinkArea {
    return new LinkArea(store, baseFrame);
  }

  /** Lays out a new area in fresh DOMID_XEN frames; returns its first frame. */
  static format(store: LinkAreaStore, opts: LinkAreaOptions = {}): number {
    const nr = store.nrFrames;
    let q = opts.queueBytes ?? Math.max(256 * 1024, Math.min(8 * 1024 * 1024, (nr * PAGE_SIZE) / 8));
    q = 2 ** Math.floor(Math.log2(q));
    const homeFrames = HOME_DOMIDS / PAGE_SIZE;
    const fwFrames = Math.ceil((nr * 8) / PAGE_SIZE);
    const total = 1 + homeFrames + fwFrames + 1 + MBOXES * MBOX_FRAMES + q / PAGE_SIZE;
    const frames = store.allocFrames(DOMID_XEN, total, true);
    if (!frames) throw new LinkAreaError("no_memory", `no ${total} adjacent frames for the link area`);
    const first = frames[0]!;
    const b = first * WORDS;
    const i32 = store.i32;
    let f = first + 1;
    i32[b + A_HOME_BASE] = f * PAGE_SIZE;
    f += homeFrames;
    i32[b + A_FW_BASE] = f * WORDS;
    f += fwFrames;
    i32[b + A_REPLICA_ROOT] = f * WORDS;
    f += 1;
    i32[b + A_MBOX_BASE] = f * PAGE_SIZE;
    i32[b + A_MBOX_COUNT] = MBOXES;
    i32[b + A_MBOX_FREE] = -1; // all 32 free
    f += MBOXES * MBOX_FRAMES;
    i32[b + A_Q_BASE] = f * PAGE_SIZE;
    i32[b + A_Q_BYTES] = q;
    i32[b + A_NR_FRAMES] = nr;
    i32[b + A_VERSION] = VERSION;
    Atomics.store(i32, b + A_MAGIC, MAGIC);
    return first;
  }

  // ---- per-frame words ------------------------------------------------------------------------

  /** Peers holding a copy of `frame` (bit i = peer i). */
  subscribers(frame: number): number {
    return Atomics.load(this.i32, this.fw + frame * 2);
  }
  addSubscriber(frame: number, peer: number): void {
    Atomics.or(this.i32, this.fw + frame * 2, 1 << peer);
  }
  removeSubscriber(frame: number, peer: number): void {
    Atomics.and(this.i32, this.fw + frame * 2, ~(1 << peer));
  }
  setSubscribers(frame: number, mask: number): void {
    Atomics.store(this.i32, this.fw + frame * 2, mask);
  }
  /** The frame's number in the hypervisor's host: itself there, the recorded origin of a replica. */
  originOf(frame: number): number {
    if (this.isAuthority) return frame;
    return Atomics.load(this.i32, this.fw + frame * 2 + 1) - 1;
  }

  // ---- roles ------------------------------------------------------------------------------------

  /** True in the hypervisor's host (it owns the origin of every frame). */
  get isAuthority(): boolean {
    if (this.authority) return true;
    this.authority = this.store.hostsHypervisor;
    return this.authority;
  }
  /** The hypervisor's host as a peer index (0: this host, or not known yet). */
  get hypervisorPeer(): number {
    return Atomics.load(this.i32, this.base + A_HV_PEER);
  }
  setHypervisorPeer(peer: number): void {
    Atomics.store(this.i32, this.base + A_HV_PEER, peer);
  }
  /** A link thread drains the queue (without one, records are dropped and counted). */
  get hasOwner(): boolean {
    return Atomics.load(this.i32, this.base + A_OWNER) !== 0;
  }
  setOwner(on: boolean): void {
    Atomics.store(this.i32, this.base + A_OWNER, on ? 1 : 0);
  }
  get dropped(): number {
    return Atomics.load(this.i32, this.base + A_DROPPED);
  }

  // ---- peers ------------------------------------------------------------------------------------

  /** The index (1..31) of host `hostId`, registering it when `create`; 0 when unknown/full. */
  peerIndex(hostId: string, create = true): number {
    const name = new TextEncoder().encode(hostId);
    if (name.length === 0 || name.length > (PEER_WORDS - 2) * 4)
      throw new LinkAreaError("bad_argument", `host id '${hostId}' is empty or too long`);
    const found = this.findPeer(name);
    if (found || !create) return found;
    lockWord(this.i32, this.base + A_LOCK);
    try {
      const again = this.findPeer(name);
      if (again) return again;
      for (let i = 1; i < MAX_PEERS; i++) {
        const e = this.base + A_PEERS + i * PEER_WORDS;
        if (Atomics.load(this.i32, e) !== 0) continue;
        Atomics.store(this.i32, e + 1, name.length);
        this.u8.set(name, (e + 2) * 4);
        Atomics.store(this.i32, e, 1);
        return i;
      }
      return 0;
    } finally {
      unlockWord(this.i32, this.base + A_LOCK);
    }
  }

  private findPeer(name: Uint8Array): number {
    for (let i = 1; i < MAX_PEERS; i++) {
      const e = this.base + A_PEERS + i * PEER_WORDS;
      if (Atomics.load(this.i32, e) === 0) continue;
      if (Atomics.load(this.i32, e + 1) !== name.length) continue;
      const at = (e + 2) * 4;
      let same = true;
      for (let k = 0; k < name.length && same; k++) same = this.u8[at + k] === name[k];
      if (same) return i;
    }
    return 0;
  }

  /** Host id of peer `i` (undefined when the slot is free). */
  peerName(i: number): string | undefined {
    if (i < 1 || i >= MAX_PEERS) return undefined;
    const e = this.base + A_PEERS + i * PEER_WORDS;
    if (Atomics.load(this.i32, e) === 0) return undefined;
    const len = Atomics.load(this.i32, e + 1);
    return new TextDecoder().decode(this.u8.slice((e + 2) * 4, (e + 2) * 4 + len));
  }

  // ---- placement (in the hypervisor's host) ---------------------------------------------------

  /** `domid`'s vCPUs receive at `peer` (0: here). */
  setHome(domid: number, peer: number): void {
    if (domid < 0 || domid >= HOME_DOMIDS) return;
    Atomics.store(this.u8, this.homeBase + domid, peer);
    Atomics.add(this.i32, this.base + A_PLACE_GEN, 1);
  }

  /** Changes with every home or placement change (a cache of placements checks it). */
  get placementGeneration(): number {
    return Atomics.load(this.i32, this.base + A_PLACE_GEN);
  }
  home(domid: number): number {
    return domid >= 0 && domid < HOME_DOMIDS ? Atomics.load(this.u8, this.homeBase + domid) : 0;
  }

  /** (domid, vcpu) receives at `peer` (0: back here). */
  setPlacement(domid: number, vcpu: number, peer: number): void {
    const key = ((domid << 8) | vcpu) + 1;
    lockWord(this.i32, this.base + A_LOCK);
    try {
      let free = -1;
      for (let i = 0; i < MAX_PLACE; i++) {
        const e = this.base + A_PLACE + i * 2;
        const k = Atomics.load(this.i32, e);
        if (k === key) {
          if (peer === 0) Atomics.store(this.i32, e, 0);
          else Atomics.store(this.i32, e + 1, peer);
          return;
        }
        if (k === 0 && free < 0) free = i;
      }
      if (peer === 0) return;
      if (free < 0) throw new LinkAreaError("full", "placement table full");
      const e = this.base + A_PLACE + free * 2;
      Atomics.store(this.i32, e + 1, peer);
      Atomics.store(this.i32, e, key);
      if (free >= Atomics.load(this.i32, this.base + A_PLACE_HIGH))
        Atomics.store(this.i32, this.base + A_PLACE_HIGH, free + 1);
    } finally {
      Atomics.add(this.i32, this.base + A_PLACE_GEN, 1);
      unlockWord(this.i32, this.base + A_LOCK);
    }
  }

  /** Where (domid, vcpu) receives: its home peer, else a registered placement, else 0 (here). */
  placement(domid: number, vcpu: number): number {
    const h = this.home(domid);
    if (h !== 0) return h;
    const key = ((domid << 8) | vcpu) + 1;
    const high = Atomics.load(this.i32, this.base + A_PLACE_HIGH);
    for (let i = 0; i < high; i++) {
      const e = this.base + A_PLACE + i * 2;
      if (Atomics.load(this.i32, e) === key) return Atomics.load(this.i32, e + 1);
    }
    return 0;
  }

  /** Placements registered for `peer` (for its epoch change), as [domid, vcpu]. */
  placementsOf(peer: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < MAX_PLACE; i++) {
      const e = this.base + A_PLACE + i * 2;
      const k = Atomics.load(this.i32, e);
      if (k !== 0 && Atomics.load(this.i32, e + 1) === peer) out.push([(k - 1) >>> 8, (k - 1) & 0xff]);
    }
    return out;
  }

  /**
   * The evtchn core's hook before set-pending: when (domid, vcpu) receives on another host, the
   * event goes there (an EVENT record, or this thread's route hook) and true is returned.
   */
  routeEvent(domid: number, vcpu: number, port: number): boolean {
    const peer = this.placement(domid, vcpu);
    if (peer === 0) return false;
    if (this.routeHook) this.routeHook(peer, domid, vcpu, port);
    else this.appendEvent(peer, domid, vcpu, port);
    return true;
  }

  // ---- shadows (shared_info of domains whose events are delivered here) -----------------------

  /** The shadow of `domid`: frame (shared_info layout) and frame + 1 (port → vCPU bytes). */
  shadowOf(domid: number, create = false): number {
    const key = domid + 1;
    for (let i = 0; i < MAX_SHADOW; i++) {
      const e = this.base + A_SHADOW + i * 2;
      if (Atomics.load(this.i32, e) === key) return Atomics.load(this.i32, e + 1);
    }
    if (!create) return 0;
    lockWord(this.i32, this.base + A_LOCK);
    try {
      let free = -1;
      for (let i = 0; i < MAX_SHADOW; i++) {
        const e = this.base + A_SHADOW + i * 2;
        const k = Atomics.load(this.i32, e);
        if (k === key) return Atomics.load(this.i32, e + 1);
        if (k === 0 && free < 0) free = i;
      }
      if (free < 0) throw new LinkAreaError("full", "shadow table full");
      const frames = this.store.allocFrames(DOMID_XEN, 2, true);
      if (!frames) throw new LinkAreaError("no_memory", "no frames for a shadow shared_info");
      const e = this.base + A_SHADOW + free * 2;
      Atomics.store(this.i32, e + 1, frames[0]!);
      Atomics.store(this.i32, e, key);
      return frames[0]!;
    } finally {
      unlockWord(this.i32, this.base + A_LOCK);
    }
  }

  /** Domids with a shadow here. */
  shadowDomids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < MAX_SHADOW; i++) {
      const k = Atomics.load(this.i32, this.base + A_SHADOW + i * 2);
      if (k !== 0) out.push(k - 1);
    }
    return out;
  }

  // ---- replicas: origin frame → local frame ----------------------------------------------------

  /** The local frame holding origin frame `origin` (0: none). In the hypervisor's host: itself. */
  replicaOf(origin: number): number {
    if (this.isAuthority) return origin;
    if (!Number.isInteger(origin) || origin < 0 || origin >= 1 << 20) return 0;
    const leaf = Atomics.load(this.i32, this.root + (origin >>> 10));
    if (leaf === 0) return 0;
    return Atomics.load(this.i32, leaf * WORDS + (origin & 1023));
  }

  /** The local replica of `origin`, allocating a zeroed DOMID_XEN frame for it when absent. */
  ensureReplica(origin: number): number {
    if (this.isAuthority) return origin;
    if (!Number.isInteger(origin) || origin < 0 || origin >= 1 << 20)
      throw new LinkAreaError("bad_argument", `origin frame ${origin} out of range`);
    const r = this.root + (origin >>> 10);
    let leaf = Atomics.load(this.i32, r);
    if (leaf === 0) {
      const fresh = this.store.allocFrame(DOMID_XEN);
      if (!fresh) throw new LinkAreaError("no_memory", "no frame for the replica map");
      leaf = Atomics.compareExchange(this.i32, r, 0, fresh);
      if (leaf !== 0) this.store.freeFrame(fresh);
      else leaf = fresh;
    }
    const slot = leaf * WORDS + (origin & 1023);
    const have = Atomics.load(this.i32, slot);
    if (have !== 0) return have;
    const local = this.store.allocFrame(DOMID_XEN);
    if (!local) throw new LinkAreaError("no_memory", `no frame for a replica of ${origin}`);
    Atomics.store(this.i32, this.fw + local * 2 + 1, origin + 1);
    const prev = Atomics.compareExchange(this.i32, slot, 0, local);
    if (prev !== 0) {
      Atomics.store(this.i32, this.fw + local * 2 + 1, 0);
      this.store.freeFrame(local);
      return prev;
    }
    return local;
  }

  /**
   * Forgets the replica of `origin` and returns its local frame (0: there was none). The caller
   * frees the frame; its subscriber word is cleared here.
   */
  dropReplica(origin: number): number {
    if (this.isAuthority || !Number.isInteger(origin) || origin < 0 || origin >= 1 << 20) return 0;
    const leaf = Atomics.load(this.i32, this.root + (origin >>> 10));
    if (leaf === 0) return 0;
    const slot = leaf * WORDS + (origin & 1023);
    const local = Atomics.exchange(this.i32, slot, 0);
    if (local === 0) return 0;
    Atomics.store(this.i32, this.fw + local * 2 + 1, 0);
    this.setSubscribers(local, 0);
    return local;
  }

  // ---- the queue: producers ------------------------------------------------------------------

  private reserve(bytes: number): number {
    const i32 = this.i32;
    const hi = this.base + A_Q_HEAD;
    const ti = this.base + A_Q_TAIL;
    for (;;) {
      const tail = Atomics.load(i32, ti) >>> 0;
      const pos = tail & this.qMask;
      const contig = this.qBytes - pos;
      const pad = bytes > contig ? contig : 0;
      const need = pad + bytes;
      const head = Atomics.load(i32, hi) >>> 0;
      if ((tail + need - head) >>> 0 > this.qBytes) {
        // Full: wait for the link thread to drain (it notifies the head word when someone waits).
        Atomics.add(i32, this.base + A_Q_WAITERS, 1);
        Atomics.wait(i32, hi, head | 0, 50);
        Atomics.sub(i32, this.base + A_Q_WAITERS, 1);
        if (!this.hasOwner) return -1;
        continue;
      }
      if (Atomics.compareExchange(i32, ti, tail | 0, (tail + need) | 0) !== (tail | 0)) continue;
      if (pad > 0) Atomics.store(i32, (this.qBase + pos) >> 2, (Q_PAD << 24) | pad);
      return this.qBase + ((tail + pad) & this.qMask);
    }
  }

  private commit(at: number, type: number, bytes: number): void {
    Atomics.store(this.i32, at >> 2, (type << 24) | bytes);
    const s = this.base + A_Q_SLEEP;
    if (Atomics.load(this.i32, s) !== 0 && Atomics.exchange(this.i32, s, 0) === 1)
      Atomics.notify(this.i32, s);
  }

  private dropOne(): void {
    Atomics.add(this.i32, this.base + A_DROPPED, 1);
  }

  /**
   * `markWritten` of any thread: [offset, offset+length) of `frame` was written. Nothing when no
   * peer holds the frame; else a RANGE record with a copy of the bytes, for those peers.
   */
  written(frame: number, offset: number, length: number): void {
    const subs = Atomics.load(this.i32, this.fw + frame * 2);
    if (subs === 0) return;
    if (!this.hasOwner) return this.dropOne();
    if (length > BULK_RANGE_BYTES) {
      const at = this.reserve(16);
      if (at < 0) return this.dropOne();
      const w = at >> 2;
      this.i32[w + 1] = frame;
      this.i32[w + 2] = offset | (length << 16);
      this.i32[w + 3] = subs;
      this.commit(at, Q_RANGE_BULK, 16);
      return;
    }
    const bytes = 16 + ((length + 3) & ~3);
    const at = this.reserve(bytes);
    if (at < 0) return this.dropOne();
    const w = at >> 2;
    this.i32[w + 1] = frame;
    this.i32[w + 2] = offset | (length << 16);
    this.i32[w + 3] = subs;
    const src = frame * PAGE_SIZE + offset;
    const dst = at + 16;
    if (length <= 64) for (let i = 0; i < length; i++) this.u8[dst + i] = this.u8[src + i]!;
    else this.u8.copyWithin(dst, src, src + length);
    this.commit(at, Q_RANGE, bytes);
  }

  /** A frame (re)allocated for a domain homed on another host: its copies become zeroes too. */
  zeroed(frame: number, subs: number): void {
    if (subs === 0) return;
    if (!this.hasOwner) return this.dropOne();
    const at = this.reserve(12);
    if (at < 0) return this.dropOne();
    const w = at >> 2;
    this.i32[w + 1] = frame;
    this.i32[w + 2] = subs;
    this.commit(at, Q_ZERO, 12);
  }

  /** A frame freed in the hypervisor's host that other hosts hold: their replicas are freed too. */
  freedFrame(frame: number, subs: number): void {
    if (subs === 0 || !this.isAuthority) return;
    if (!this.hasOwner) return this.dropOne();
    const at = this.reserve(12);
    if (at < 0) return this.dropOne();
    const w = at >> 2;
    this.i32[w + 1] = frame;
    this.i32[w + 2] = subs;
    this.commit(at, Q_FREE, 12);
  }

  appendEvent(peer: number, domid: number, vcpu: number, port: number): void {
    if (!this.hasOwner) return this.dropOne();
    const at = this.reserve(20);
    if (at < 0) return this.dropOne();
    const w = at >> 2;
    this.i32[w + 1] = peer;
    this.i32[w + 2] = domid;
    this.i32[w + 3] = vcpu;
    this.i32[w + 4] = port;
    this.commit(at, Q_EVENT, 20);
  }

  /** EVTCHNOP_send from this host (not the hypervisor's): a SEND record to the hypervisor's host. */
  appendSend(caller: number, port: number): boolean {
    if (!this.hasOwner) {
      this.dropOne();
      return false;
    }
    const at = this.reserve(12);
    if (at < 0) {
      this.dropOne();
      return false;
    }
    const w = at >> 2;
    this.i32[w + 1] = caller;
    this.i32[w + 2] = port;
    this.commit(at, Q_SEND, 12);
    return true;
  }

  // ---- requests and mailboxes ---------------------------------------------------------------------

  /** A free mailbox (its index), or -1 when all are in use. */
  takeMailbox(): number {
    const fi = this.base + A_MBOX_FREE;
    for (;;) {
      const free = Atomics.load(this.i32, fi);
      if (free === 0) return -1;
      const i = 31 - Math.clz32(free & -free);
      if (Atomics.compareExchange(this.i32, fi, free, free & ~(1 << i)) === free) {
        Atomics.store(this.i32, this.mboxWord(i), MBOX_WAITING);
        return i;
      }
    }
  }

  releaseMailbox(i: number): void {
    Atomics.store(this.i32, this.mboxWord(i), MBOX_IDLE);
    Atomics.or(this.i32, this.base + A_MBOX_FREE, 1 << i);
  }

  /** Int32 index of mailbox `i`'s state word (wait on it while it is WAITING). */
  mboxWord(i: number): number {
    return (this.mboxBase + i * MBOX_BYTES) >> 2;
  }

  /** True once the reply is in mailbox `i`. */
  replied(i: number): boolean {
    return Atomics.load(this.i32, this.mboxWord(i)) === MBOX_REPLIED;
  }

  /** The reply payload in mailbox `i` (a copy). */
  reply(i: number): Uint8Array {
    const w = this.mboxWord(i);
    const len = Atomics.load(this.i32, w + 1);
    const at = this.mboxBase + i * MBOX_BYTES + 8;
    return this.u8.slice(at, at + len);
  }

  /** The link thread puts a reply into mailbox `i` and wakes its waiter. */
  deliverReply(i: number, payload: Uint8Array): void {
    if (payload.length > MAILBOX_PAYLOAD) throw new LinkAreaError("full", "reply larger than a mailbox");
    const w = this.mboxWord(i);
    this.u8.set(payload, this.mboxBase + i * MBOX_BYTES + 8);
    Atomics.store(this.i32, w + 1, payload.length);
    Atomics.store(this.i32, w, MBOX_REPLIED);
    Atomics.notify(this.i32, w);
  }

  /** Appends a REQUEST record (answered in `mailbox`); false when no link thread drains. */
  appendRequest(mailbox: number, op: number, caller: number, payload: Uint8Array): boolean {
    if (!this.hasOwner) return false;
    const bytes = 20 + ((payload.length + 3) & ~3);
    if (bytes > this.qBytes / 4) throw new LinkAreaError("bad_argument", "request too large");
    const at = this.reserve(bytes);
    if (at < 0) return false;
    const w = at >> 2;
    this.i32[w + 1] = mailbox;
    this.i32[w + 2] = op;
    this.i32[w + 3] = caller;
    this.i32[w + 4] = payload.length;
    this.u8.set(payload, at + 20);
    this.commit(at, Q_REQUEST, bytes);
    return true;
  }

  /** A fresh request number (any thread). */
  nextRequestId(): number {
    return Atomics.add(this.i32, this.base + A_REQ_SEQ, 1) + 1;
  }

  // ---- the queue: the consumer (link thread) ---------------------------------------------------

  /**
   * Takes committed records in order, calling `fn` for each (`rec` and its bytes are valid only
   * during the call), at most `max`. Returns how many were taken, or -1 when the next record is
   * reserved but not committed yet (its producer is writing it: come back in a moment).
   */
  drain(fn: (rec: QueueRecord, u8: Uint8Array) => void, max = Number.POSITIVE_INFINITY): number {
    const i32 = this.i32;
    const hi = this.base + A_Q_HEAD;
    const start = Atomics.load(i32, hi) >>> 0;
    const tail = Atomics.load(i32, this.base + A_Q_TAIL) >>> 0;
    let head = start;
    let n = 0;
    let pending = false;
    const rec = this.rec;
    while (head !== tail && n < max) {
      const at = this.qBase + (head & this.qMask);
      const h = Atomics.load(i32, at >> 2);
      if (h === 0) {
        pending = true;
        break;
      }
      const type = h >>> 24;
      const bytes = h & 0xffffff;
      if (type !== Q_PAD) {
        const w = at >> 2;
        rec.type = type;
        rec.a = i32[w + 1]!;
        rec.b = i32[w + 2]!;
        rec.c = i32[w + 3]!;
        rec.d = i32[w + 4]!;
        if (type === Q_RANGE || type === Q_RANGE_BULK) {
          const x = rec.b;
          rec.d = rec.c;
          rec.b = x & 0xffff;
          rec.c = x >>> 16;
          // A bulk range's bytes are read from the frame now.
          rec.dataOffset = type === Q_RANGE ? at + 16 : rec.a * PAGE_SIZE + rec.b;
          rec.dataLength = rec.c;
          rec.type = Q_RANGE;
        } else if (type === Q_ZERO) {
          rec.d = rec.b;
        } else if (type === Q_SEND) {
          rec.c = rec.b;
          rec.b = rec.a;
        } else if (type === Q_REQUEST) {
          const mailbox = rec.a;
          rec.dataLength = rec.d;
          rec.dataOffset = at + 20;
          rec.d = mailbox;
          rec.a = 0;
          const op = rec.b;
          rec.b = rec.c; // caller
          rec.c = op;
        }
        fn(rec, this.u8);
        n++;
      }
      head = (head + bytes) >>> 0;
    }
    if (head !== start) this.release(start, head);
    return pending && n === 0 ? -1 : n;
  }

  private release(from: number, to: number): void {
    const a = from & this.qMask;
    const len = (to - from) >>> 0;
    if (a + len <= this.qBytes) this.u8.fill(0, this.qBase + a, this.qBase + a + len);
    else {
      this.u8.fill(0, this.qBase + a, this.qBase + this.qBytes);
      this.u8.fill(0, this.qBase, this.qBase + len - (this.qBytes - a));
    }
    Atomics.store(this.i32, this.base + A_Q_HEAD, to | 0);
    if (Atomics.load(this.i32, this.base + A_Q_WAITERS) > 0) Atomics.notify(this.i32, this.base + A_Q_HEAD);
  }

  /** True when nothing is queued (reserved or committed). */
  get queueEmpty(): boolean {
    return Atomics.load(this.i32, this.base + A_Q_HEAD) === Atomics.load(this.i32, this.base + A_Q_TAIL);
  }

  /**
   * The consumer is about to sleep: returns the doorbell (Int32 index; wait while it is 1), or -1
   * when records arrived meanwhile (drain again instead).
   */
  prepareSleep(): number {
    const s = this.base + A_Q_SLEEP;
    Atomics.store(this.i32, s, 1);
    if (!this.queueEmpty) {
      Atomics.store(this.i32, s, 0);
      return -1;
    }
    return s;
  }

  /** Queue bytes in use (reserved or committed) and capacity. */
  get queueUse(): { used: number; capacity: number } {
    const h = Atomics.load(this.i32, this.base + A_Q_HEAD) >>> 0;
    const t = Atomics.load(this.i32, this.base + A_Q_TAIL) >>> 0;
    return { used: (t - h) >>> 0, capacity: this.qBytes };
  }
}
