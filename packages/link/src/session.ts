// The reliable, ordered part of one link (docs/data-plane.md, "Sequences, retransmit, resync"):
// per direction, DATA frames carry consecutive sequence numbers. The sender keeps each frame until
// the peer's ack covers it and retransmits on a NACK or when the ack stalls; the receiver applies
// frames strictly in order, buffers early ones, drops duplicates and NACKs a gap that outlives a
// grace period. When the frames a receiver misses have left the sender's window, the sender
// resynchronises (a RESYNC frame restarts the sequence). Epochs name process starts.
//
// A protocol module: no node:*, no clock (`now` is passed in, ms), no randomness (injected).

/** A 64-bit epoch: start time in ms × 2^16 + 16 random bits, so a later start compares higher. */
export function newEpoch(nowMs: number, random16: number): bigint {
  return (BigInt(Math.floor(nowMs)) << 16n) | BigInt(random16 & 0xffff);
}

/** What a HELLO from a peer means, given what this side knows of that host. */
export type HelloVerdict =
  /** First time this host is seen (or it was forgotten). */
  | "new-peer"
  /** The same process reconnected: resume after `lastReceived`. */
  | "resume"
  /** The peer restarted: drop everything of the old epoch, then resynchronise. */
  | "new-epoch"
  /** An older epoch than the one known: a stale process; refuse it. */
  | "stale";

export function helloVerdict(knownEpoch: bigint | undefined, helloEpoch: bigint): HelloVerdict {
  if (knownEpoch === undefined) return "new-peer";
  if (helloEpoch === knownEpoch) return "resume";
  return helloEpoch > knownEpoch ? "new-epoch" : "stale";
}

export interface SenderOptions {
  /** Unacknowledged frames kept for retransmission (count and bytes). */
  windowFrames?: number;
  windowBytes?: number;
  /** Retransmit from the oldest unacknowledged frame when the ack has not moved for this long, ms. */
  retransmitMs?: number;
  /** Called with each frame the peer acknowledged (its buffer may be used again). */
  acked?: (frame: Uint8Array) => void;
}

interface Sent {
  seq: number;
  frame: Uint8Array;
}

/** What the sender must put on the wire again. */
export type Retransmit =
  | { kind: "frames"; frames: Uint8Array[] }
  /** The frames asked for left the window: send a RESYNC. */
  | { kind: "resync" };

export class LinkSender {
  private readonly windowFrames: number;
  private readonly windowBytes: number;
  private readonly retransmitMs: number;
  private readonly window: Sent[] = [];
  private windowSize = 0;
  private next = 1;
  /** The peer's highest in-order ack so far. */
  acked = 0;
  /** When the ack last moved (or the window went from empty to not empty), ms. */
  private progressAt = 0;
  /** The next frame restarts the sequence. */
  resyncPending = false;
  /** The retransmit timeout now (doubles while the ack does not move). */
  private rto: number;
  /** Frames sent, retransmitted, resyncs. */
  readonly stats = { frames: 0, retransmitted: 0, resyncs: 0, evicted: 0 };

  private readonly ackedHook: ((frame: Uint8Array) => void) | undefined;

  constructor(options: SenderOptions = {}) {
    this.ackedHook = options.acked;
    this.windowFrames = options.windowFrames ?? 65536;
    this.windowBytes = options.windowBytes ?? 256 * 1024 * 1024;
    this.retransmitMs = options.retransmitMs ?? 200;
    this.rto = this.retransmitMs;
  }

  /** The seq the next DATA frame gets. */
  get nextSeq(): number {
    return this.next;
  }
  /** Unacknowledged frames held. */
  get unacked(): number {
    return this.window.length;
  }
  get unackedBytes(): number {
    return this.windowSize;
  }
  /** Seq of the oldest frame still held (nextSeq when none). */
  get windowStart(): number {
    return this.window.length > 0 ? this.window[0]!.seq : this.next;
  }

  /** Flags for the next frame (RESYNC once after `resync()`). */
  takeFlags(): number {
    if (!this.resyncPending) return 0;
    this.resyncPending = false;
    return 1;
  }

  /** Records frame `seq` (= nextSeq) as sent; call with the exact bytes written. */
  sent(frame: Uint8Array, now: number): number {
    const seq = this.next++;
    if (this.window.length === 0) this.progressAt = now;
    this.window.push({ seq, frame });
    this.windowSize += frame.length;
    this.stats.frames++;
    while (
      this.window.length > 1 &&
      (this.window.length > this.windowFrames || this.windowSize > this.windowBytes)
    ) {
      this.windowSize -= this.window.shift()!.frame.length;
      this.stats.evicted++;
    }
    return seq;
  }

  /** The peer applied everything up to `ack`. */
  onAck(ack: number, now: number): void {
    if (ack <= this.acked) return;
    this.acked = Math.min(ack, this.next - 1);
    while (this.window.length > 0 && this.window[0]!.seq <= this.acked) {
      const f = this.window.shift()!.frame;
      this.windowSize -= f.length;
      this.ackedHook?.(f);
    }
    this.progressAt = now;
    this.rto = this.retransmitMs;
  }

  /** The peer misses frames [from, to] (it has what follows `to`). */
  onNack(from: number, to: number, now: number): Retransmit {
    this.onAck(from - 1, now);
    return this.from(from, to);
  }

  private from(from: number, to = Number.POSITIVE_INFINITY): Retransmit {
    if (from >= this.next) return { kind: "frames", frames: [] };
    if (this.window.length === 0 || from < this.window[0]!.seq) return this.resync();
    const i = from - this.window[0]!.seq;
    const j = Math.min(this.window.length, to - this.window[0]!.seq + 1);
    const frames = this.window.slice(i, Math.max(i + 1, j)).map((s) => s.frame);
    this.stats.retransmitted += frames.length;
    return { kind: "frames", frames };
  }

  /**
   * The oldest unacknowledged frame again when the ack has not moved for the retransmit timeout (a
   * lost tail: the receiver answers a duplicate with an ACK and a gap with a NACK). The timeout
   * doubles while the ack stays put (up to 5 s), so a slow peer is not flooded with copies.
   */
  due(now: number): Retransmit | undefined {
    if (this.window.length === 0 || now - this.progressAt < this.rto) return undefined;
    this.progressAt = now;
    this.rto = Math.min(this.rto * 2, 5000);
    return this.from(this.acked + 1, this.acked + 1);
  }

  /**
   * Give up the window: the next frame restarts the sequence (RESYNC) and must carry the full state
   * the peer subscribes to.
   */
  resync(): Retransmit {
    this.window.length = 0;
    this.windowSize = 0;
    this.resyncPending = true;
    this.stats.resyncs++;
    return { kind: "resync" };
  }

  /** A new connection to a peer that applied up to `lastReceived` of this epoch. */
  resumeAfter(lastReceived: number, now: number): Retransmit {
    this.onAck(lastReceived, now);
    return this.from(lastReceived + 1);
  }

  /** Forget everything (the peer's new epoch): sequence starts over at 1. */
  reset(): void {
    this.window.length = 0;
    this.windowSize = 0;
    this.next = 1;
    this.acked = 0;
    this.resyncPending = false;
  }
}

export interface ReceiverOptions {
  /** Early frames buffered at most (the latest are dropped beyond; they come again). */
  maxBuffered?: number;
  /** A gap older than this is NACKed, ms. */
  nackGraceMs?: number;
}

/** What to do with a received DATA frame. */
export type ReceiveVerdict = "apply" | "buffered" | "duplicate";

export class LinkReceiver {
  /** Last seq applied (in order). */
  applied = 0;
  private readonly early = new Map<number, Uint8Array>();
  private readonly maxBuffered: number;
  private readonly nackGraceMs: number;
  private gapSince: number | undefined;
  private lastNackAt = Number.NEGATIVE_INFINITY;
  readonly stats = { frames: 0, duplicates: 0, buffered: 0, nacks: 0, resyncs: 0 };

  constructor(options: ReceiverOptions = {}) {
    this.maxBuffered = options.maxBuffered ?? 4096;
    this.nackGraceMs = options.nackGraceMs ?? 10;
  }

  /**
   * A DATA frame arrived. "apply": apply it now, then every frame `drain()` returns. `resync`:
   * the frame restarts the sequence (frames before it will never come).
   */
  receive(seq: number, resync: boolean, frame: Uint8Array, now: number): ReceiveVerdict {
    this.stats.frames++;
    if (resync && seq > this.applied) {
      this.stats.resyncs++;
      for (const k of [...this.early.keys()]) if (k < seq) this.early.delete(k);
      this.applied = seq - 1;
    }
    if (seq <= this.applied || this.early.has(seq)) {
      this.stats.duplicates++;
      return "duplicate";
    }
    if (seq === this.applied + 1) return "apply";
    if (this.early.size >= this.maxBuffered) {
      let highest = seq;
      for (const k of this.early.keys()) highest = Math.max(highest, k);
      if (highest === seq) return "duplicate"; // dropped: it comes again
      this.early.delete(highest);
    }
    this.early.set(seq, frame.slice());
    this.stats.buffered++;
    this.gapSince ??= now;
    return "buffered";
  }

  /** After applying frame `seq` (= applied + 1): the buffered frames that follow it, in order. */
  applyDone(seq: number): Uint8Array[] {
    this.applied = seq;
    const out: Uint8Array[] = [];
    for (let f = this.early.get(this.applied + 1); f; f = this.early.get(this.applied + 1)) {
      this.early.delete(this.applied + 1);
      out.push(f);
      this.applied++;
    }
    // The caller applies `out` in order; `applied` already counts them.
    if (this.early.size === 0) this.gapSince = undefined;
    return out;
  }

  /** The missing seqs when a gap has outlived the grace (and was not NACKed just now). */
  nack(now: number): { from: number; to: number } | undefined {
    if (this.gapSince === undefined || this.early.size === 0) return undefined;
    if (now - this.gapSince < this.nackGraceMs || now - this.lastNackAt < this.nackGraceMs) return undefined;
    this.lastNackAt = now;
    this.stats.nacks++;
    let lowest = Number.POSITIVE_INFINITY;
    for (const k of this.early.keys()) lowest = Math.min(lowest, k);
    return { from: this.applied + 1, to: lowest - 1 };
  }

  /** Early frames held. */
  get buffered(): number {
    return this.early.size;
  }

  /** Forget everything (the peer's new epoch). */
  reset(): void {
    this.applied = 0;
    this.early.clear();
    this.gapSince = undefined;
  }
}
