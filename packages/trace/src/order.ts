// Events arrive at a listener in batches, one stream per emitting thread and host process. The
// order buffer holds each for a short window and releases them sorted by the monotonic clock, so a
// guest's push, blkback's map and the store's write come out in the order they happened.
import type { TraceEvent } from "./tracer.js";

/** Total order: monotonic time, then host, service and per-thread sequence. */
export function compareTraceEvents(a: TraceEvent, b: TraceEvent): number {
  if (a.t !== b.t) return a.t - b.t;
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.svc !== b.svc) return a.svc < b.svc ? -1 : 1;
  return a.seq - b.seq;
}

export interface TraceOrderOptions {
  /** How long an event is held for later arrivals that happened before it, ns (default 400 ms). */
  windowNs?: number;
  /** Most events held; beyond it the oldest are released early (default 50 000). */
  maxHeld?: number;
}

/**
 * Holds events until they are `windowNs` old by the listener's clock, then releases them in order.
 * An event arriving after a later one was released (beyond the window) is released at once, marked
 * `late` — never dropped, never reordered silently.
 */
export class TraceOrderBuffer {
  private held: TraceEvent[] = [];
  private released = Number.NEGATIVE_INFINITY;
  private readonly windowNs: number;
  private readonly maxHeld: number;

  constructor(opts: TraceOrderOptions = {}) {
    this.windowNs = opts.windowNs ?? 400e6;
    this.maxHeld = opts.maxHeld ?? 50_000;
  }

  get size(): number {
    return this.held.length;
  }

  /**
   * Adds events; returns only those that arrived too late to be put in order (marked `late`). The
   * rest wait for `tick`: a fast stream's newer events do not push out a slower stream's older ones.
   */
  add(events: Iterable<TraceEvent>): TraceEvent[] {
    const out: TraceEvent[] = [];
    for (const ev of events) {
      if (ev.t < this.released) {
        out.push({ ...ev, late: true });
        continue;
      }
      this.held.push(ev);
    }
    if (this.held.length > this.maxHeld) out.push(...this.release(Number.NEGATIVE_INFINITY));
    return out;
  }

  /**
   * Releases, in order, what happened more than the window before `nowNs` (the listener's monotonic
   * clock: the same clock as the events' on one machine). Call on a timer.
   */
  tick(nowNs: number): TraceEvent[] {
    return this.release(nowNs - this.windowNs);
  }

  /** Releases everything held. */
  flush(): TraceEvent[] {
    return this.release(Number.POSITIVE_INFINITY);
  }

  private release(upTo: number): TraceEvent[] {
    if (this.held.length === 0) return [];
    this.held.sort(compareTraceEvents);
    let n = 0;
    while (n < this.held.length && (this.held[n]!.t <= upTo || this.held.length - n > this.maxHeld)) n++;
    if (n === 0) return [];
    const out = this.held.slice(0, n);
    this.held = this.held.slice(n);
    const last = out[out.length - 1]!.t;
    if (last > this.released) this.released = last;
    return out;
  }
}
