// The xenstored core: one engine, the connections that reach it, and the journal behind it.
// Front ends (unix socket, gRPC sessions, guest ring pages) register a connection with a sink
// and feed it requests; the core applies the engine's output in Xen's order: the journal record is
// written before the reply leaves, then the reply, then watch events to whichever connection
// they belong to.
//
// Output is bounded as C xenstored bounds it since XSA-326 (XsOutputQueues of @xensim/xenstore):
// every message waits in its connection's queue until the sink can take it; a front end asks
// canRead() before it reads a request and stops reading (stalls) while the answer is no; the core
// calls the sink's resume() when the connection may be read again, and drops a connection whose
// queue passes the hard limit.
import { XsType } from "@xensim/abi";
import {
  type Effect,
  type OutputLimits,
  type Output,
  parseXsStrings,
  type WatchDelivery,
  type XenstoreEngine,
  xsError,
  xsStrings,
  type XsMessage,
  XsOutputQueues,
} from "@xensim/xenstore";
import { type ChaosPoints, type FaultPoint, WATCH_FIRST_EVENT, type XsHistoryEvent } from "@xensim/chaos";
import type { Logger } from "pino";
import type { StateStore } from "./persistence.js";

export type ConnId = number;

/** Where a connection's outgoing messages go (a socket, a bus subject, a ring page). */
export interface ConnectionSink {
  readonly kind: "socket" | "session" | "ring" | "local";
  /** Write one reply or watch event (only called when canSend() says yes). */
  send(msg: XsMessage): void;
  /**
   * Whether the message sent last is fully out and another may be sent (a ring with room, a
   * socket below its high-water mark). Absent: always.
   */
  canSend?(): boolean;
  /** The connection stalled earlier and may be read again (called by the core). */
  resume?(): void;
  /** Drop the connection (protocol violation or output over the hard limit, as C xenstored does). */
  drop(reason: string): void;
}

export interface CoreStats {
  requests: number;
  errors: number;
  watchEvents: number;
  connections: number;
}

export interface CoreOptions {
  /** Per-connection output limits (stall, drop, watch-event timeout). */
  outputLimits?: Partial<OutputLimits>;
  /** Clock for watch-event deadlines (ms). */
  now?: () => number;
  /** xenstored's fault points: xenstore.eagain, xenstore.watch-lost / -duplicated / -delayed. */
  chaos?: ChaosPoints;
}

type MemoryReport = "soft" | "hard";

export class XenstoredCore {
  private readonly sinks = new Map<ConnId, ConnectionSink>();
  /** Connections that were refused a read (canRead false), to be resumed. */
  private readonly stalled = new Set<ConnId>();
  /** Domains reported over their soft or hard memory quota (C logs each crossing once). */
  private readonly memoryReports = new Map<number, MemoryReport>();
  private resuming = false;
  readonly queues: XsOutputQueues;
  readonly stats: CoreStats = { requests: 0, errors: 0, watchEvents: 0, connections: 0 };
  private readonly now: () => number;
  onEffect: (e: Effect) => void = () => {};
  onRequest: (conn: ConnId, req: XsMessage, reply: XsMessage | null) => void = () => {};
  onDisconnect: (conn: ConnId) => void = () => {};

  constructor(
    readonly engine: XenstoreEngine,
    private readonly state: StateStore | null,
    private readonly log: Logger,
    opts: CoreOptions = {},
  ) {
    this.queues = new XsOutputQueues(engine, opts.outputLimits);
    this.now = opts.now ?? Date.now;
    if (opts.chaos) {
      const c = opts.chaos;
      const on = (): void => {
        this.faultsOn = [
          this.eagain,
          this.watchLost,
          this.watchDuplicated,
          this.watchDelayed,
          this.requestDelayed,
        ].some((p) => p?.active);
      };
      const pt = (kind: string): FaultPoint => {
        const p = c.point(kind);
        p.onChange = on;
        return p;
      };
      this.eagain = pt("xenstore.eagain");
      this.requestDelayed = pt("xenstore.request-delayed");
      // a broken xenstored on purpose: TRANSACTION_END commits without its conflict check
      const skip = c.point("xenstore.conflict-check-skipped");
      engine.skipConflictCheck = () => skip.active && skip.hit("transaction end");
      // the transaction history the serializability check reads (recorded only while started)
      c.observe("xenstore-history", {
        start: () => {
          this.history = [];
        },
        take: () => {
          const h = this.history ?? [];
          if (this.history) this.history = [];
          return h;
        },
        stop: () => {
          this.history = undefined;
        },
      });
      this.watchLost = pt("xenstore.watch-lost");
      this.watchDuplicated = pt("xenstore.watch-duplicated");
      this.watchDelayed = pt("xenstore.watch-delayed");
    }
  }

  private faultsOn = false;
  /** xenstored's history while a checker records it (seq: the order requests were handled). */
  private history: XsHistoryEvent[] | undefined;
  private historySeq = 0;

  private recordHistory(conn: ConnId, msg: XsMessage, reply: XsMessage | null): void {
    const h = this.history!;
    if (h.length >= 500_000) return; // bounded: a checker takes it often enough
    const ok = reply !== null && reply.type !== XsType.ERROR;
    const seq = ++this.historySeq;
    const tx = msg.txId;
    const path = (): string => {
      const p = parseXsStrings(msg.payload)[0] ?? "";
      if (p.startsWith("/") || p.startsWith("@")) return p;
      return `/local/domain/${this.engine.connectionInfo(conn)?.domid ?? 0}/${p}`;
    };
    switch (msg.type) {
      case XsType.TRANSACTION_START:
        if (ok) h.push({ seq, conn, op: "start", tx: Number(parseXsStrings(reply.payload)[0]) });
        return;
      case XsType.TRANSACTION_END:
        h.push({
          seq,
          conn,
          op: "end",
          tx,
          commit: parseXsStrings(msg.payload)[0] === "T",
          result: ok ? "ok" : (parseXsStrings(reply?.payload ?? new Uint8Array())[0] ?? "error"),
        });
        return;
      case XsType.READ:
      case XsType.DIRECTORY:
      case XsType.GET_PERMS:
        h.push({ seq, conn, op: "read", tx, path: path() });
        return;
      case XsType.WRITE:
      case XsType.SET_PERMS:
        if (ok) h.push({ seq, conn, op: "write", tx, path: path() });
        return;
      case XsType.RM:
        if (ok) h.push({ seq, conn, op: "rm", tx, path: path() });
        return;
    }
  }
  private eagain: FaultPoint | undefined;
  private requestDelayed: FaultPoint | undefined;
  /** xenstore.request-delayed: a connection's next request is not read before this time (-1: read it now). */
  private readonly delayedUntil = new Map<ConnId, number>();

  /**
   * xenstore.request-delayed: the connection's next request waits delayMs before xenstored reads
   * it (its socket stays paused, its ring unconsumed — the flow control conn_can_read() has), and
   * the requests behind it wait in order. False while it waits.
   */
  private requestMayBeRead(conn: ConnId): boolean {
    const until = this.delayedUntil.get(conn);
    if (until !== undefined) {
      if (until >= 0 && this.now() < until) return false;
      this.delayedUntil.delete(conn); // waited: this request goes now
      return true;
    }
    const p = this.requestDelayed;
    if (!p?.active) return true;
    const d = p.delay();
    if (!p.hit(`conn ${conn} request`, { delayMs: d })) return true;
    this.delayedUntil.set(conn, this.now() + d);
    setTimeout(() => {
      if (this.delayedUntil.has(conn)) this.delayedUntil.set(conn, -1);
      this.resumeStalled();
    }, d).unref?.();
    return false;
  }
  private watchLost: FaultPoint | undefined;
  private watchDuplicated: FaultPoint | undefined;
  private watchDelayed: FaultPoint | undefined;

  /** xenstore.eagain: the transaction is aborted and its end answered EAGAIN, as on a conflict. */
  private injectedEagain(conn: ConnId, msg: XsMessage): XsMessage | undefined {
    if (msg.type !== XsType.TRANSACTION_END || msg.txId === 0 || !this.eagain?.active) return undefined;
    if (!this.eagain.hit(`conn ${conn} tx ${msg.txId}`)) return undefined;
    const out = this.engine.request(conn, { ...msg, payload: xsStrings("F") });
    out.reply = xsError(msg, "EAGAIN");
    this.apply(out, conn);
    return out.reply;
  }

  /** Watch events through the points: lost, sent twice, or sent later. */
  private watchFaults(out: Output): Output {
    const events: WatchDelivery[] = [];
    // the event XS_WATCH fires once at registration ("we fire once up front") is named as such:
    // a checker tells its loss (which no xenbus driver survives) from a lost change
    const first = out.reply?.type === XsType.WATCH ? ` ${WATCH_FIRST_EVENT}` : "";
    for (const ev of out.events) {
      const target = `conn ${ev.conn} ${parseXsStrings(ev.msg.payload)[0] ?? ""}${first}`;
      if (this.watchLost?.hit(target)) continue;
      if (this.watchDelayed?.active) {
        const d = this.watchDelayed.delay();
        if (this.watchDelayed.hit(target, { delayMs: d })) {
          setTimeout(() => {
            if (!this.sinks.has(ev.conn)) return;
            this.queues.queue(null, { reply: null, events: [ev], mutations: [], effects: [] }, this.now());
            this.flush(ev.conn);
          }, d).unref?.();
          continue;
        }
      }
      events.push(ev);
      if (this.watchDuplicated?.hit(target)) events.push(ev);
    }
    return { ...out, events };
  }

  connect(domid: number, sink: ConnectionSink, opts: { privileged?: boolean; label?: string } = {}): ConnId {
    const privileged = opts.privileged ?? domid === 0;
    const conn = this.engine.connect({ domid, privileged, label: opts.label ?? sink.kind });
    this.sinks.set(conn, sink);
    this.queues.open(conn, domid, privileged);
    this.stats.connections = this.sinks.size;
    return conn;
  }

  /** Forgets a connection: its watches, transactions and everything queued for it. */
  disconnect(conn: ConnId): void {
    if (!this.sinks.delete(conn)) return;
    this.onDisconnect(conn);
    this.stats.connections = this.sinks.size;
    this.stalled.delete(conn);
    this.delayedUntil.delete(conn);
    this.queues.close(conn);
    this.apply(this.engine.disconnect(conn), null);
    this.resumeStalled();
  }

  /**
   * conn_can_read(): may the front end read the connection's next request? While not, it must
   * leave requests unread (socket paused, ring not consumed); the sink's resume() says when.
   */
  canRead(conn: ConnId): boolean {
    if (!this.sinks.has(conn)) return false;
    if (this.faultsOn && !this.requestMayBeRead(conn)) {
      this.stalled.add(conn);
      return false;
    }
    if (this.queues.canRead(conn)) return true;
    this.stalled.add(conn);
    return false;
  }

  /** Handles one request; the reply is queued for the connection's sink and also returned. */
  request(conn: ConnId, msg: XsMessage): XsMessage | null {
    if (!this.sinks.has(conn)) return null;
    this.stats.requests++;
    if (this.faultsOn) {
      const injected = this.injectedEagain(conn, msg);
      if (injected) {
        if (this.history) this.recordHistory(conn, msg, injected);
        this.onRequest(conn, msg, injected);
        return injected;
      }
    }
    const out = this.engine.request(conn, msg);
    if (this.history) this.recordHistory(conn, msg, out.reply);
    this.onRequest(conn, msg, out.reply);
    this.apply(out, conn);
    this.reportMemory(conn);
    return out.reply;
  }

  /** The sink of `conn` can take more (socket drained, guest consumed replies): send what waits. */
  writable(conn: ConnId): void {
    this.flush(conn);
    this.resumeStalled();
  }

  /** The hypervisor reported a domain's death (VIRQ_DOM_EXC). */
  domainGone(domid: number): void {
    this.apply(this.engine.domainGone(domid), null);
    this.memoryReports.delete(domid);
  }

  /** The hypervisor reported a domain's shutdown: fire @releaseDomain once, keep its nodes. */
  domainShutdown(domid: number): void {
    this.apply(this.engine.domainShutdown(domid), null);
  }

  /** Discards watch events that waited past the timeout (call from a timer). */
  expireWatchEvents(): void {
    if (this.queues.expire(this.now()) > 0) this.resumeStalled();
  }

  /** Connections waiting to be read again. */
  get stalledConnections(): number {
    return this.stalled.size;
  }

  private apply(out: Output, requester: ConnId | null): void {
    if (this.faultsOn && out.events.length > 0) out = this.watchFaults(out);
    if (out.mutations.length > 0 && this.state) {
      this.state.append(out.mutations);
      if (this.state.shouldCompact()) this.state.compact(this.engine.snapshot());
    }
    let from = requester;
    if (requester !== null && out.reply === null) {
      this.log.warn({ conn: requester }, "dropping connection after protocol violation");
      this.sinks.get(requester)?.drop("protocol violation");
      this.disconnect(requester);
      from = null;
    } else if (out.reply?.type === XsType.ERROR) this.stats.errors++;
    this.stats.watchEvents += out.events.length;
    const drop = this.queues.queue(from, out, this.now());
    for (const conn of drop) {
      this.log.warn(
        { conn, queuedBytes: this.queues.queuedBytes(conn), limit: this.queues.limits.dropBytes },
        "dropping connection: its unread output passed the hard limit",
      );
      this.sinks.get(conn)?.drop("output over the hard limit");
      this.disconnect(conn);
    }
    if (from !== null) this.flush(from);
    for (const ev of out.events) if (ev.conn !== from) this.flush(ev.conn);
    for (const e of out.effects) this.onEffect(e);
    this.resumeStalled();
  }

  /** Hands queued messages to the sink while it can take them. */
  private flush(conn: ConnId): void {
    const sink = this.sinks.get(conn);
    if (!sink) return;
    for (;;) {
      if (this.queues.hasHandedOver(conn)) {
        if (sink.canSend && !sink.canSend()) return;
        this.queues.written(conn);
      }
      const msg = this.queues.next(conn);
      if (!msg) return;
      sink.send(msg);
      if (!this.sinks.has(conn)) return; // the sink dropped itself
    }
  }

  /** Tells stalled connections that may be read again (their sinks read asynchronously). */
  private resumeStalled(): void {
    if (this.resuming || this.stalled.size === 0) return;
    this.resuming = true;
    try {
      for (const conn of [...this.stalled]) {
        if (!this.queues.canRead(conn)) continue;
        const until = this.delayedUntil.get(conn);
        if (until !== undefined && until >= 0) continue; // xenstore.request-delayed: still waiting
        this.stalled.delete(conn);
        this.sinks.get(conn)?.resume?.();
      }
    } finally {
      this.resuming = false;
    }
  }

  /** Logs an unprivileged domain crossing its soft or hard memory quota, once per crossing. */
  private reportMemory(conn: ConnId): void {
    const info = this.engine.connectionInfo(conn);
    if (!info || info.privileged) return;
    const domid = info.domid;
    const level: MemoryReport | undefined = this.engine.memoryQuotaReached(domid)
      ? "hard"
      : this.engine.softMemoryQuotaReached(domid)
        ? "soft"
        : undefined;
    const before = this.memoryReports.get(domid);
    if (level === before) return;
    if (level === undefined) {
      this.memoryReports.delete(domid);
      this.log.info({ domid }, "domain below its soft memory quota again");
      return;
    }
    this.memoryReports.set(domid, level);
    const memory = this.engine.domainMemory(domid);
    if (level === "hard")
      this.log.error({ domid, memory }, "domain exceeds its hard memory quota, xenstore interface stalled");
    else this.log.warn({ domid, memory }, "domain exceeds its soft memory quota");
  }

  close(): void {
    for (const conn of [...this.sinks.keys()]) this.disconnect(conn);
    if (this.state) {
      this.state.compact(this.engine.snapshot());
      this.state.close();
    }
  }
}
