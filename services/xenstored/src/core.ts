// The xenstored core: one engine, the connections that reach it, and the journal behind it.
// Front ends (unix socket, gRPC sessions, guest ring pages) register a connection with a sink
// and feed it requests; the core applies the engine's output in Xen's order: the journal record is
// written before the reply leaves, then the reply, then watch events to whichever connection
// they belong to.
import type { Effect, Output, XenstoreEngine, XsMessage } from "@xensim/xenstore";
import type { Logger } from "pino";
import type { StateStore } from "./persistence.js";

export type ConnId = number;

/** Where a connection's outgoing messages go (a socket, a bus subject, a ring page). */
export interface ConnectionSink {
  readonly kind: "socket" | "session" | "ring" | "local";
  send(msg: XsMessage): void;
  /** Drop the connection (protocol violation, as C xenstored does). */
  drop(reason: string): void;
}

export interface CoreStats {
  requests: number;
  errors: number;
  watchEvents: number;
  connections: number;
}

export class XenstoredCore {
  private readonly sinks = new Map<ConnId, ConnectionSink>();
  readonly stats: CoreStats = { requests: 0, errors: 0, watchEvents: 0, connections: 0 };
  onEffect: (e: Effect) => void = () => {};
  onRequest: (conn: ConnId, req: XsMessage, reply: XsMessage | null) => void = () => {};

  constructor(
    readonly engine: XenstoreEngine,
    private readonly state: StateStore | null,
    private readonly log: Logger,
  ) {}

  connect(domid: number, sink: ConnectionSink, opts: { privileged?: boolean; label?: string } = {}): ConnId {
    const conn = this.engine.connect({
      domid,
      privileged: opts.privileged ?? domid === 0,
      label: opts.label ?? sink.kind,
    });
    this.sinks.set(conn, sink);
    this.stats.connections = this.sinks.size;
    return conn;
  }

  disconnect(conn: ConnId): void {
    if (!this.sinks.delete(conn)) return;
    this.stats.connections = this.sinks.size;
    this.apply(this.engine.disconnect(conn), null);
  }

  /** Handles one request; the reply goes to the connection's sink and is also returned. */
  request(conn: ConnId, msg: XsMessage): XsMessage | null {
    if (!this.sinks.has(conn)) return null;
    this.stats.requests++;
    const out = this.engine.request(conn, msg);
    this.onRequest(conn, msg, out.reply);
    this.apply(out, conn);
    return out.reply;
  }

  /** The hypervisor reported a domain's death (VIRQ_DOM_EXC). */
  domainGone(domid: number): void {
    this.apply(this.engine.domainGone(domid), null);
  }

  /** The hypervisor reported a domain's shutdown: fire @releaseDomain once, keep its nodes. */
  domainShutdown(domid: number): void {
    this.apply(this.engine.domainShutdown(domid), null);
  }

  private apply(out: Output, requester: ConnId | null): void {
    if (out.mutations.length > 0 && this.state) {
      this.state.append(out.mutations);
      if (this.state.shouldCompact()) this.state.compact(this.engine.snapshot());
    }
    if (requester !== null) {
      const sink = this.sinks.get(requester);
      if (out.reply === null) {
        this.log.warn({ conn: requester }, "dropping connection after protocol violation");
        sink?.drop("protocol violation");
        this.disconnect(requester);
      } else {
        if (out.reply.type === 16) this.stats.errors++;
        sink?.send(out.reply);
      }
    }
    for (const ev of out.events) {
      this.stats.watchEvents++;
      this.sinks.get(ev.conn)?.send(ev.msg);
    }
    for (const e of out.effects) this.onEffect(e);
  }

  close(): void {
    for (const conn of [...this.sinks.keys()]) this.disconnect(conn);
    if (this.state) {
      this.state.compact(this.engine.snapshot());
      this.state.close();
    }
  }
}
