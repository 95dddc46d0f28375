// Who holds a copy of which frame, and who may write it (docs/data-plane.md, "Grant operations").
//
// At the hypervisor's host (the authority, origin of every frame): `SubscriptionDirectory` counts the
// pins each peer host holds on each frame through grant maps done over the link (read-only and
// writable apart); a host with any pin subscribes to the frame. A frame may be written by the
// hypervisor's host itself, by the owner's home host, and by a host holding a writable pin.
//
// Elsewhere: `FrameWriters` keeps, per origin frame held here, the other hosts that may write it
// (told by DIRECTORY records and map replies); the hypervisor's host may always.
//
// A protocol module: no node:*, no clock, no randomness.

interface Pins {
  read: number;
  write: number;
}

export class SubscriptionDirectory {
  /** frame → host → pins. */
  private readonly frames = new Map<number, Map<string, Pins>>();
  /** Ranges refused per writer host (metric). */
  readonly refused = new Map<string, number>();

  /**
   * A map through `host` pinned `frame`. `subscribed`: the host had no pin of it before (its
   * subscription starts now: set its bit, send the frame, tell the frame's other writers).
   */
  pin(frame: number, host: string, writable: boolean): { subscribed: boolean; becameWriter: boolean } {
    let m = this.frames.get(frame);
    if (!m) {
      m = new Map();
      this.frames.set(frame, m);
    }
    let p = m.get(host);
    const subscribed = p === undefined;
    if (!p) {
      p = { read: 0, write: 0 };
      m.set(host, p);
    }
    const becameWriter = writable && p.write === 0;
    if (writable) p.write++;
    else p.read++;
    return { subscribed, becameWriter };
  }

  /** An unmap dropped a pin. `unsubscribed`: it was the host's last pin of the frame. */
  unpin(frame: number, host: string, writable: boolean): { unsubscribed: boolean; stoppedWriting: boolean } {
    const m = this.frames.get(frame);
    const p = m?.get(host);
    if (!m || !p) return { unsubscribed: false, stoppedWriting: false };
    if (writable && p.write > 0) p.write--;
    else if (!writable && p.read > 0) p.read--;
    const stoppedWriting = writable && p.write === 0;
    if (p.read + p.write > 0) return { unsubscribed: false, stoppedWriting };
    m.delete(host);
    if (m.size === 0) this.frames.delete(frame);
    return { unsubscribed: true, stoppedWriting };
  }

  /** Hosts holding a pin of `frame`. */
  subscribers(frame: number): string[] {
    return [...(this.frames.get(frame)?.keys() ?? [])];
  }

  /** Hosts holding a writable pin of `frame`. */
  writers(frame: number): string[] {
    const m = this.frames.get(frame);
    if (!m) return [];
    return [...m].filter(([, p]) => p.write > 0).map(([h]) => h);
  }

  /** Does `host` hold a writable pin of `frame`? */
  writesThrough(frame: number, host: string): boolean {
    return (this.frames.get(frame)?.get(host)?.write ?? 0) > 0;
  }

  /** May `host` write `frame` (its home host is `home`)? */
  mayWrite(frame: number, host: string, home: string | undefined): boolean {
    return host === home || this.writesThrough(frame, host);
  }

  /** Records a refused range from `host`. */
  refuse(host: string): void {
    this.refused.set(host, (this.refused.get(host) ?? 0) + 1);
  }

  /** Frames `host` holds pins of. */
  framesOf(host: string): number[] {
    const out: number[] = [];
    for (const [f, m] of this.frames) if (m.has(host)) out.push(f);
    return out;
  }

  /** Forgets every pin of `host` (its new epoch: its mappings are released); returns its frames. */
  dropHost(host: string): number[] {
    const out: number[] = [];
    for (const [f, m] of this.frames) {
      if (!m.delete(host)) continue;
      out.push(f);
      if (m.size === 0) this.frames.delete(f);
    }
    return out;
  }

  /** Does `a` write a frame that `b` holds (so `b` needs a fence on `a`'s sends)? */
  shares(writer: string, holder: string, home: (frame: number) => string | undefined): boolean {
    for (const [f, m] of this.frames) {
      const h = home(f);
      const writes = m.get(writer)?.write ? true : writer === h;
      const holds = m.has(holder) || holder === h;
      if (writes && holds) return true;
    }
    return false;
  }
}

/** At a host that is not the authority: the other hosts that may write each frame held here. */
export class FrameWriters {
  private readonly frames = new Map<number, Set<string>>();

  allow(frame: number, host: string): void {
    let s = this.frames.get(frame);
    if (!s) {
      s = new Set();
      this.frames.set(frame, s);
    }
    s.add(host);
  }

  revoke(frame: number, host: string): void {
    const s = this.frames.get(frame);
    if (!s) return;
    s.delete(host);
    if (s.size === 0) this.frames.delete(frame);
  }

  may(frame: number, host: string): boolean {
    return this.frames.get(frame)?.has(host) ?? false;
  }

  /** Forget `host` everywhere (its new epoch). */
  dropHost(host: string): void {
    for (const [f, s] of this.frames) {
      s.delete(host);
      if (s.size === 0) this.frames.delete(f);
    }
  }

  /** Forget a frame (this host stopped holding it). */
  dropFrame(frame: number): void {
    this.frames.delete(frame);
  }
}

/** Applied watermarks of other hosts' streams and the events parked on them (fences). */
export class Watermarks<T> {
  private readonly applied = new Map<string, number>();
  private readonly parked = new Map<string, Array<{ seq: number; item: T }>>();

  /** `writer`'s stream is applied up to `seq` here; returns the items whose fence it satisfies. */
  note(writer: string, seq: number): T[] {
    if (seq <= (this.applied.get(writer) ?? 0)) return [];
    this.applied.set(writer, seq);
    const list = this.parked.get(writer);
    if (!list) return [];
    const ready = list.filter((p) => p.seq <= seq).map((p) => p.item);
    if (ready.length > 0) {
      const rest = list.filter((p) => p.seq > seq);
      if (rest.length > 0) this.parked.set(writer, rest);
      else this.parked.delete(writer);
    }
    return ready;
  }

  of(writer: string): number {
    return this.applied.get(writer) ?? 0;
  }

  reached(writer: string, seq: number): boolean {
    return (this.applied.get(writer) ?? 0) >= seq;
  }

  /** Keep `item` until `writer`'s watermark reaches `seq`. */
  park(writer: string, seq: number, item: T): void {
    let l = this.parked.get(writer);
    if (!l) {
      l = [];
      this.parked.set(writer, l);
    }
    l.push({ seq, item });
  }

  /** Items parked on any writer (held at most this long by the caller's policy). */
  get parkedCount(): number {
    let n = 0;
    for (const l of this.parked.values()) n += l.length;
    return n;
  }

  /** `writer` restarted: its watermark starts over; what was parked on it is released. */
  reset(writer: string): T[] {
    this.applied.delete(writer);
    const l = this.parked.get(writer) ?? [];
    this.parked.delete(writer);
    return l.map((p) => p.item);
  }

  /** All applied watermarks (a map request carries them). */
  entries(): Array<{ writer: string; seq: number }> {
    return [...this.applied].map(([writer, seq]) => ({ writer, seq }));
  }
}
