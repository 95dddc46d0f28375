// Per-connection output queues and the flow control around them, as C xenstored bounds them since
// XSA-326 (tools/xenstored/core.c send_reply, send_event, free_buffered_data, conn_can_read;
// domain.c domain_can_read):
//
// - Every reply and watch event waits in its connection's queue until the transport (socket, ring
//   page, call-plane session) has taken it; its bytes count towards the receiving domain's memory.
// - A request stays "outstanding" for its domain until its reply and every watch event it caused
//   are out (or freed). An unprivileged connection is not read while its domain has `outstanding`
//   requests (default 20) or has reached its hard memory quota: it stalls.
// - A watch event for an unprivileged connection is dropped when the receiver's memory quota would
//   be reached, and discarded when it has waited longer than the watch-event timeout.
// - Identical watch events waiting in one queue are coalesced.
// - Every connection, dom0's too, stops being read while `stallBytes` wait for it, and is dropped
//   when more than `dropBytes` wait (the daemon's own protection: a watcher that never reads).
//
// Pure: the clock comes in as `now` arguments; the service calls `expire(now)` from a timer.

import { bytesToBinary } from "./bytes.js";
import { quotaExceeded } from "./quota.js";
import type { ConnId, Output } from "./types.js";
import type { XsMessage } from "./wire.js";

export interface OutputLimits {
  /** Stop reading a connection while this many reply and event bytes wait for it (every connection). */
  stallBytes: number;
  /** Drop a connection when more than this many bytes wait for it (every connection, dom0 too). */
  dropBytes: number;
  /** Discard a watch event an unprivileged connection has not taken after this long; 0: never. */
  watchEventTimeoutMs: number;
}

export const DEFAULT_OUTPUT_LIMITS: Readonly<OutputLimits> = Object.freeze({
  stallBytes: 64 * 1024,
  dropBytes: 8 * 1024 * 1024,
  watchEventTimeoutMs: 20_000,
});

/** What the queues need of the store (XenstoreEngine provides it). */
export interface OutputAccounting {
  quotaOf(domid: number, key: "outstanding"): number;
  memoryQuotaReached(domid: number, add?: number): boolean;
  accountOutput(domid: number, bytes: number): void;
}

/** Bytes of a message on the wire: the 16-byte xsd_sockmsg header and the payload. */
export function wireBytes(msg: XsMessage): number {
  return 16 + msg.payload.length;
}

/** A request whose reply or watch events are still queued (C's buffered_data with pend.ref). */
interface RequestInFlight {
  domid: number;
  /** Reply and events of the request still queued. */
  unsettled: number;
}

interface Queued {
  msg: XsMessage;
  bytes: number;
  /** Payload of a non-special watch event, for coalescing. */
  eventKey: string | undefined;
  cause: RequestInFlight | undefined;
  /** When a watch event for an unprivileged connection is discarded (Infinity: never). */
  deadline: number;
}

interface ConnectionQueue {
  domid: number;
  privileged: boolean;
  items: Queued[];
  /** Index of the first item still queued in `items`. */
  head: number;
  /** Bytes queued, including a message handed over to the transport and not yet written. */
  bytes: number;
  /** The message the transport has taken and not yet confirmed written. */
  handedOver: Queued | undefined;
  /** Payloads of the non-special watch events queued (not yet handed over), with their counts. */
  queuedEvents: Map<string, number>;
}

export interface OutputStats {
  /** Watch events dropped because the receiving domain had reached its memory quota. */
  eventsDroppedForMemory: number;
  /** Watch events discarded after the watch-event timeout. */
  eventsExpired: number;
  /** Watch events not queued because an identical one was waiting. */
  eventsCoalesced: number;
  /** Connections dropped for more than `dropBytes` of queued output. */
  connectionsDropped: number;
}

export class XsOutputQueues {
  private readonly queues = new Map<ConnId, ConnectionQueue>();
  /** Outstanding requests per domain (C ACC_OUTST). */
  private readonly outstanding = new Map<number, number>();
  readonly limits: OutputLimits;
  readonly stats: OutputStats = {
    eventsDroppedForMemory: 0,
    eventsExpired: 0,
    eventsCoalesced: 0,
    connectionsDropped: 0,
  };

  constructor(
    private readonly accounting: OutputAccounting,
    limits: Partial<OutputLimits> = {},
  ) {
    this.limits = { ...DEFAULT_OUTPUT_LIMITS, ...limits };
  }

  open(conn: ConnId, domid: number, privileged: boolean): void {
    this.queues.set(conn, {
      domid,
      privileged,
      items: [],
      head: 0,
      bytes: 0,
      handedOver: undefined,
      queuedEvents: new Map(),
    });
  }

  /** Frees everything queued for `conn` (conn_free_buffered_data) and forgets it. */
  close(conn: ConnId): void {
    const q = this.queues.get(conn);
    if (!q) return;
    this.queues.delete(conn);
    if (q.handedOver) this.settle(q, q.handedOver);
    for (let i = q.head; i < q.items.length; i++) this.settle(q, q.items[i]!);
    q.items = [];
    q.head = 0;
    q.queuedEvents.clear();
  }

  get connectionCount(): number {
    return this.queues.size;
  }

  /**
   * Queues one request's output: the reply for `requester` (null: a change of the store itself,
   * such as a domain's death), then the watch events. Returns the connections to drop: more than
   * `dropBytes` wait for them.
   */
  queue(requester: ConnId | null, out: Output, now: number): ConnId[] {
    const touched = new Map<ConnId, ConnectionQueue>();
    let cause: RequestInFlight | undefined;
    const from = requester === null ? undefined : this.queues.get(requester);
    if (from && out.reply) {
      cause = { domid: from.domid, unsettled: 1 };
      this.addOutstanding(from.domid, 1);
      this.push(from, out.reply, undefined, cause, Infinity);
      touched.set(requester!, from);
    }
    for (const event of out.events) {
      const q = this.queues.get(event.conn);
      if (!q) continue;
      if (this.queueEvent(q, event.msg, cause, now)) touched.set(event.conn, q);
    }
    const drop: ConnId[] = [];
    for (const [conn, q] of touched) if (q.bytes > this.limits.dropBytes) drop.push(conn);
    this.stats.connectionsDropped += drop.length;
    return drop;
  }

  /** send_event(): coalesce, check the receiver's memory quota, queue. Returns whether it was queued. */
  private queueEvent(
    q: ConnectionQueue,
    msg: XsMessage,
    cause: RequestInFlight | undefined,
    now: number,
  ): boolean {
    const bytes = wireBytes(msg);
    const special = msg.payload[0] === 0x40; // "@": special events are never coalesced
    const eventKey = special ? undefined : bytesToBinary(msg.payload);
    if (eventKey !== undefined && q.queuedEvents.has(eventKey)) {
      this.stats.eventsCoalesced++;
      return false;
    }
    if (!q.privileged && this.accounting.memoryQuotaReached(q.domid, bytes)) {
      this.stats.eventsDroppedForMemory++;
      return false;
    }
    const timeout = this.limits.watchEventTimeoutMs;
    const deadline = !q.privileged && timeout > 0 ? now + timeout : Infinity;
    if (cause) cause.unsettled++;
    this.push(q, msg, eventKey, cause, deadline);
    return true;
  }

  private push(
    q: ConnectionQueue,
    msg: XsMessage,
    eventKey: string | undefined,
    cause: RequestInFlight | undefined,
    deadline: number,
  ): void {
    const bytes = wireBytes(msg);
    q.items.push({ msg, bytes, eventKey, cause, deadline });
    q.bytes += bytes;
    this.accounting.accountOutput(q.domid, bytes);
    if (eventKey !== undefined) q.queuedEvents.set(eventKey, (q.queuedEvents.get(eventKey) ?? 0) + 1);
  }

  /** Releases one message's bytes and its share of the request that caused it. */
  private settle(q: ConnectionQueue, item: Queued): void {
    q.bytes -= item.bytes;
    this.accounting.accountOutput(q.domid, -item.bytes);
    const cause = item.cause;
    if (cause && --cause.unsettled === 0) this.addOutstanding(cause.domid, -1);
  }

  private addOutstanding(domid: number, add: number): void {
    const v = (this.outstanding.get(domid) ?? 0) + add;
    if (v <= 0) this.outstanding.delete(domid);
    else this.outstanding.set(domid, v);
  }

  private dequeue(q: ConnectionQueue): Queued | undefined {
    if (q.head >= q.items.length) return undefined;
    const item = q.items[q.head]!;
    q.items[q.head] = undefined as unknown as Queued;
    q.head++;
    if (q.head === q.items.length) {
      q.items = [];
      q.head = 0;
    } else if (q.head > 1024 && q.head * 2 > q.items.length) {
      q.items = q.items.slice(q.head);
      q.head = 0;
    }
    if (item.eventKey !== undefined) {
      const n = q.queuedEvents.get(item.eventKey)! - 1;
      if (n === 0) q.queuedEvents.delete(item.eventKey);
      else q.queuedEvents.set(item.eventKey, n);
    }
    return item;
  }

  /**
   * Hands the next message to the transport. It stays accounted until `written()`; undefined when
   * nothing is queued or the previous one has not been confirmed written.
   */
  next(conn: ConnId): XsMessage | undefined {
    const q = this.queues.get(conn);
    if (!q || q.handedOver) return undefined;
    const item = this.dequeue(q);
    if (!item) return undefined;
    q.handedOver = item;
    return item.msg;
  }

  /** Whether a message handed over to the transport awaits `written()`. */
  hasHandedOver(conn: ConnId): boolean {
    return this.queues.get(conn)?.handedOver !== undefined;
  }

  /** The transport has written the message it took (all of it). */
  written(conn: ConnId): void {
    const q = this.queues.get(conn);
    if (!q?.handedOver) return;
    const item = q.handedOver;
    q.handedOver = undefined;
    this.settle(q, item);
  }

  /**
   * conn_can_read(): may the next request of `conn` be read? Not while `stallBytes` wait for it; for
   * an unprivileged connection not while its domain has `outstanding` requests or has reached its
   * memory quota.
   */
  canRead(conn: ConnId): boolean {
    const q = this.queues.get(conn);
    if (!q) return false;
    if (q.bytes >= this.limits.stallBytes) return false;
    if (q.privileged) return true;
    if (quotaExceeded(this.accounting.quotaOf(q.domid, "outstanding"), this.outstandingOf(q.domid)))
      return false;
    return !this.accounting.memoryQuotaReached(q.domid);
  }

  /** Bytes waiting for `conn` (including a message handed over and not yet written). */
  queuedBytes(conn: ConnId): number {
    return this.queues.get(conn)?.bytes ?? 0;
  }

  /** Messages waiting for `conn` (not counting one handed over). */
  queuedMessages(conn: ConnId): number {
    const q = this.queues.get(conn);
    return q ? q.items.length - q.head : 0;
  }

  outstandingOf(domid: number): number {
    return this.outstanding.get(domid) ?? 0;
  }

  /**
   * check_event_timeout(): discards watch events that waited past their deadline (unprivileged
   * connections only; never one already handed over). Returns how many were discarded.
   */
  expire(now: number): number {
    let expired = 0;
    for (const q of this.queues.values()) {
      if (q.privileged || q.head === q.items.length) continue;
      let kept: Queued[] | undefined;
      for (let i = q.head; i < q.items.length; i++) {
        const item = q.items[i]!;
        if (item.deadline <= now) {
          kept ??= q.items.slice(q.head, i);
          if (item.eventKey !== undefined) {
            const n = q.queuedEvents.get(item.eventKey)! - 1;
            if (n === 0) q.queuedEvents.delete(item.eventKey);
            else q.queuedEvents.set(item.eventKey, n);
          }
          this.settle(q, item);
          expired++;
        } else kept?.push(item);
      }
      if (kept) {
        q.items = kept;
        q.head = 0;
      }
    }
    this.stats.eventsExpired += expired;
    return expired;
  }
}
