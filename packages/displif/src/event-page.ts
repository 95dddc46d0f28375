// The displif event page (struct xendispl_event_page): in_cons u32 @0 (frontend writes), in_prod
// u32 @4 (backend writes), 56 reserved bytes, then XENDISPL_IN_RING_LEN = 63 event slots of 64
// bytes from offset 64. Counters are free-running u32s and the slot is `counter % 63`. 63 is not a
// power of two, so the slot sequence jumps at the u32 wrap: 2^32 mod 63 = 4, so counters 2^32-4 …
// 2^32-1 use slots 0…3 and counters 0…3 use slots 0…3 again. A producer that only checked
// `prod - cons < 63` would overwrite an unconsumed event there; this one also refuses a slot that
// an unconsumed counter still occupies.

import {
  XENDISPL_EVENT_PAGE_LAYOUT,
  XENDISPL_EVT_LAYOUT,
  XENDISPL_IN_RING_LEN,
  xendisplInRingOffset,
} from "@xensim/abi";
import type { MemView } from "@xensim/memory";

/** The part of a MemView the event page needs (4-byte aligned atomics on the indices). */
export type EventPageMemory = Pick<MemView, "atomicLoad32" | "atomicStore32" | "writeFrom" | "readInto"> & {
  /** Publishes written bytes to other host processes (MemView.markWritten); absent in unit tests. */
  markWritten?(off: number, len: number): void;
};

const EVT_BYTES = XENDISPL_EVT_LAYOUT.size;

/** The slot of counter `idx` (XENDISPL_IN_RING_REF). */
export function eventSlot(idx: number): number {
  return (idx >>> 0) % XENDISPL_IN_RING_LEN;
}

/**
 * Whether publishing counter `prod` would overwrite an event still unconsumed in [cons, prod):
 * true when 63 are outstanding, or (only across the u32 wrap) when an outstanding counter maps to
 * prod's slot.
 */
export function eventSlotBusy(cons: number, prod: number): boolean {
  const outstanding = (prod - cons) >>> 0;
  if (outstanding >= XENDISPL_IN_RING_LEN) return true;
  const slot = eventSlot(prod);
  // Without a wrap between cons and prod the slots of [cons, prod) are distinct from prod's.
  if (cons >>> 0 <= prod >>> 0) return false;
  for (let i = 0; i < outstanding; i++) if (eventSlot((cons + i) >>> 0) === slot) return true;
  return false;
}

export type EventPushResult = "ok" | "full";

/** The backend's side: writes events, then publishes in_prod (slot before index: the wmb). */
export class EventPageProducer {
  private prod: number;
  private staged: number;

  /** Attaches at the page's current in_prod (a restarted backend continues from there). */
  constructor(private readonly page: EventPageMemory) {
    this.prod = page.atomicLoad32(XENDISPL_EVENT_PAGE_LAYOUT.in_prod);
    this.staged = this.prod;
  }

  get inProd(): number {
    return this.prod;
  }

  /** in_cons as the frontend last wrote it. */
  get inCons(): number {
    return this.page.atomicLoad32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons);
  }

  /** Events written and not yet consumed by the frontend. */
  get outstanding(): number {
    return (this.prod - this.inCons) >>> 0;
  }

  /**
   * Publishes one 64-byte event. "full": the frontend has not consumed enough (63 outstanding, or
   * the slot is still in use across the wrap); nothing was written, the caller drops or retries.
   */
  push(event: Uint8Array): EventPushResult {
    const r = this.stage(event);
    if (r === "ok") this.commit();
    return r;
  }

  /**
   * Writes the event into its slot without publishing in_prod (across host processes the slot is
   * published first, as a barrier, then commit() moves the index).
   */
  stage(event: Uint8Array): EventPushResult {
    const cons = this.inCons;
    if (eventSlotBusy(cons, this.staged)) return "full";
    const off = xendisplInRingOffset(this.staged);
    this.page.writeFrom(off, event, 0, EVT_BYTES);
    this.page.markWritten?.(off, EVT_BYTES);
    this.staged = (this.staged + 1) >>> 0;
    return "ok";
  }

  /** Publishes in_prod up to what was staged. */
  commit(): void {
    this.prod = this.staged;
    this.page.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_prod, this.prod);
    this.page.markWritten?.(XENDISPL_EVENT_PAGE_LAYOUT.in_prod, 4);
  }
}

export interface EventConsumeResult {
  /** Events handed to the callback. */
  readonly consumed: number;
  /**
   * Events lost: in_prod ran more than 63 ahead of in_cons (a backend overwrote slots it did not
   * own). The consumer skips to the last 63 and counts the rest here.
   */
  readonly overrun: number;
}

/** The frontend's side: reads in_prod, copies each event out once, then advances in_cons. */
export class EventPageConsumer {
  private readonly buf = new Uint8Array(EVT_BYTES);

  constructor(private readonly page: EventPageMemory) {}

  get inCons(): number {
    return this.page.atomicLoad32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons);
  }
  get inProd(): number {
    return this.page.atomicLoad32(XENDISPL_EVENT_PAGE_LAYOUT.in_prod);
  }

  /** Resets both indices (the frontend allocates a fresh page before publishing it). */
  init(): void {
    this.page.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons, 0);
    this.page.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_prod, 0);
    this.page.markWritten?.(0, 8);
  }

  /** Hands each pending event (a private copy, reused between calls) to `fn`, then writes in_cons. */
  consume(
    fn: (event: Uint8Array, counter: number) => void,
    max = Number.POSITIVE_INFINITY,
  ): EventConsumeResult {
    const prod = this.inProd;
    let cons = this.inCons;
    let overrun = 0;
    const pending = (prod - cons) >>> 0;
    if (pending > XENDISPL_IN_RING_LEN) {
      overrun = pending - XENDISPL_IN_RING_LEN;
      cons = (prod - XENDISPL_IN_RING_LEN) >>> 0;
    }
    let consumed = 0;
    while (cons !== prod && consumed < max) {
      this.page.readInto(xendisplInRingOffset(cons), this.buf, 0, EVT_BYTES);
      fn(this.buf, cons);
      cons = (cons + 1) >>> 0;
      consumed++;
    }
    this.page.atomicStore32(XENDISPL_EVENT_PAGE_LAYOUT.in_cons, cons);
    this.page.markWritten?.(XENDISPL_EVENT_PAGE_LAYOUT.in_cons, 4);
    return { consumed, overrun };
  }
}
