import { threadId } from "node:worker_threads";
import { BusError, BusErrorCode } from "./errors.js";
import {
  BusBase,
  type BusMsg,
  type BusOptions,
  type EventBus,
  type OutMsg,
  STATUS_HEADER,
  type SubscriptionImpl,
  uniqueToken,
} from "./events.js";
import { NatsConnection } from "./nats/connection.js";

export interface NatsBusOptions extends BusOptions {
  servers: string | string[];
  /** Connect timeout per server (default 5000 ms). */
  timeoutMs?: number;
}

class NatsBus extends BusBase {
  private readonly token: string;
  constructor(
    opts: NatsBusOptions,
    private readonly conn: NatsConnection,
  ) {
    super(opts, "nats");
    this.token = uniqueToken(threadId);
    conn.onMsg = (op) => {
      const m: BusMsg = { subject: op.subject, data: op.data };
      if (op.headers || op.status)
        m.headers = { ...op.headers, ...(op.status ? { [STATUS_HEADER]: op.status } : {}) };
      if (op.reply) m.reply = op.reply;
      this.deliverTo(op.sid, m);
    };
    conn.onClose = (err) => {
      if (this._closed) return;
      this.onError(
        new BusError(BusErrorCode.Connection, `NATS connection lost: ${err?.message}`, { cause: err }),
        {
          subject: "",
          data: new Uint8Array(0),
        },
      );
    };
  }
  protected transmit(m: OutMsg): void {
    if (this._closed || this.conn.closed) return;
    this.conn.pub(m.subject, m.reply, m.headers, m.data);
  }
  protected addSub(s: SubscriptionImpl): void {
    this.conn.sub(s.subject, s.queue, s.id);
  }
  protected removeSub(s: SubscriptionImpl): void {
    if (!this.conn.closed) this.conn.unsub(s.id);
  }
  protected transportFlush(): Promise<void> {
    return this.conn.flush();
  }
  protected transportClose(): Promise<void> {
    return this.conn.close();
  }
  protected inboxToken(): string {
    return this.token;
  }
}

/** An event bus over a real NATS server (core NATS: at-most-once, like the in-process adapter). */
export async function connectNatsBus(opts: NatsBusOptions): Promise<EventBus> {
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  const conn = await NatsConnection.connect({
    servers,
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
  return new NatsBus(opts, conn);
}
