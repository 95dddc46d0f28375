// The link's fault hooks (DESIGN.md "Faults": built into every adapter, seeded, every fault
// recorded): on the sending side, each outgoing DATA frame may be dropped, duplicated, reordered
// (held until the next frame went) or stall the stream (it and every later frame wait). The socket
// adapter asks `plan` what to write for each frame and `due` on a timer for what a hold released.
//
// A protocol module: no node:*, no clock (`now` in ms is passed in), the randomness is injected.

export interface LinkFaultRules {
  /** Probability per DATA frame of each fault. */
  drop?: number;
  duplicate?: number;
  reorder?: number;
  stall?: number;
  /** How long a stall holds the stream, ms (uniform in [min, max]; default [20, 80]). */
  stallMs?: [number, number];
  /** A reordered frame is released at the latest after this long, ms (default 5). */
  reorderMs?: number;
}

export type LinkFaultKind = "drop" | "duplicate" | "reorder" | "stall";

export interface LinkFaultRecord {
  kind: LinkFaultKind;
  at: number;
  bytes: number;
}

export class FrameFaults {
  readonly counts: Record<LinkFaultKind, number> = { drop: 0, duplicate: 0, reorder: 0, stall: 0 };
  readonly records: LinkFaultRecord[] = [];
  private held: { frame: Uint8Array; until: number } | undefined;
  private stalledUntil = 0;
  private readonly stalled: Uint8Array[] = [];

  constructor(
    private readonly rules: LinkFaultRules,
    private readonly random: () => number,
  ) {}

  private record(kind: LinkFaultKind, at: number, bytes: number): void {
    this.counts[kind]++;
    if (this.records.length < 10_000) this.records.push({ kind, at, bytes });
  }

  /** What to write now for outgoing DATA frame `frame` (in order; possibly nothing). */
  plan(frame: Uint8Array, now: number): Uint8Array[] {
    const r = this.rules;
    const out: Uint8Array[] = [];
    // Frames held are copies: the sender reuses a frame's buffer once the peer acknowledged it,
    // which a retransmission may make happen before the held copy is written.
    if (now < this.stalledUntil) {
      this.stalled.push(frame.slice());
      return out;
    }
    const roll = this.random();
    let p = 0;
    if (roll < (p += r.drop ?? 0)) {
      this.record("drop", now, frame.length);
      return this.release(out);
    }
    if (roll < (p += r.stall ?? 0)) {
      const [lo, hi] = r.stallMs ?? [20, 80];
      this.stalledUntil = now + lo + this.random() * (hi - lo);
      this.stalled.push(frame.slice());
      this.record("stall", now, frame.length);
      return out;
    }
    if (roll < (p += r.reorder ?? 0) && !this.held) {
      this.held = { frame: frame.slice(), until: now + (r.reorderMs ?? 5) };
      this.record("reorder", now, frame.length);
      return out;
    }
    out.push(frame);
    if (roll < p + (r.duplicate ?? 0)) {
      this.record("duplicate", now, frame.length);
      out.push(frame);
    }
    return this.release(out);
  }

  /** A held (reordered) frame goes after the frames just written. */
  private release(out: Uint8Array[]): Uint8Array[] {
    if (this.held) {
      out.push(this.held.frame);
      this.held = undefined;
    }
    return out;
  }

  /** Frames a hold released by now (call on a timer). */
  due(now: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.stalled.length > 0 && now >= this.stalledUntil) out.push(...this.stalled.splice(0));
    if (this.held && now >= this.held.until) {
      out.push(this.held.frame);
      this.held = undefined;
    }
    return out;
  }

  /** Frames held right now. */
  get holding(): number {
    return this.stalled.length + (this.held ? 1 : 0);
  }
}
