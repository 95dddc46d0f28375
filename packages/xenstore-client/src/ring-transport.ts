// The xs protocol through a guest's xenstore ring page and store event channel — what a domU's
// xenbus does. The event channel is injected (a XenCtrl in xensim): `notify()` signals xenstored,
// `subscribe(kick)` calls kick on every event on the store port (a hint: the transport rescans).
import { XsRingClient, type XsMessage, type XsRingPage } from "@xensim/xenstore";
import { syntheticError, type XsTransport } from "./transport.js";

export interface RingTransportOptions {
  page: XsRingPage;
  /** Signal the store event channel. */
  notify: () => void;
  /** Register the handler for events on the store port; returns an unsubscribe function. */
  subscribe: (kick: () => void) => () => void;
  /** Rescan period when no event arrives (default 50 ms): events are hints, never the data. */
  pollMs?: number;
}

interface Pending {
  resolve: (m: XsMessage) => void;
  reject: (e: Error) => void;
  txId: number;
  /** The request, to write again after a reconnect. */
  msg: XsMessage;
  /** Lost with the ring's reset: write it again once reconnected. */
  resend?: boolean;
}

export class XsRingTransport implements XsTransport {
  onWatchEvent: (payload: Uint8Array) => void = () => {};
  onReconnect: () => Promise<void> = async () => {};
  private readonly client: XsRingClient;
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private gen = 0;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: RingTransportOptions) {
    this.client = new XsRingClient(options.page);
    this.unsubscribe = options.subscribe(() => this.kick());
    this.timer = setInterval(() => this.kick(), options.pollMs ?? 50);
    this.timer.unref();
  }

  get generation(): number {
    return this.gen;
  }

  /** False while a reconnect of the ring is in progress or after xenstored stopped the ring. */
  get connected(): boolean {
    return !this.closed && this.client.connected && this.client.error === undefined;
  }

  private kick(): void {
    if (this.closed) return;
    let notify = this.client.flush();
    const r = this.client.poll();
    if (r.notify) notify = true;
    if (r.reconnected) {
      // xenstored reset the ring: transactions died with it, other requests are sent again.
      this.gen++;
      for (const [id, p] of this.pending) {
        if (p.txId !== 0) {
          this.pending.delete(id);
          p.resolve(syntheticError(p.txId, "EAGAIN"));
        } else if (p.resend) {
          p.resend = false;
          if (this.client.write(p.msg)) notify = true; // idempotent: send it again
        }
      }
      void this.onReconnect();
    }
    for (const m of r.messages) {
      if (m.type === 15) {
        this.onWatchEvent(m.payload);
        continue;
      }
      const p = this.pending.get(m.reqId);
      if (!p) continue;
      this.pending.delete(m.reqId);
      p.resolve(m);
    }
    if (r.error) {
      if (r.error.errorName === "COMM" && r.error.by === "server" && this.client.canReconnect) {
        // xenstored restarted and lost this connection's state: reconnect; on `reconnected`,
        // requests in a transaction get EAGAIN and the others (those written before now; later
        // ones wait in the client's queue) are written again.
        for (const p of this.pending.values()) p.resend = true;
        this.client.reconnect();
        notify = true;
      } else {
        const err = new Error(`xenstore ring error: ${r.error.message}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      }
    }
    if (notify) this.options.notify();
  }

  request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage> {
    if (this.closed) return Promise.reject(new Error("xenstore transport closed"));
    return new Promise((resolve, reject) => {
      const reqId = this.nextReqId;
      this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
      const msg = { type, reqId, txId, payload };
      this.pending.set(reqId, { resolve, reject, txId, msg });
      if (this.client.write(msg)) this.options.notify();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribe();
    for (const p of this.pending.values()) p.reject(new Error("xenstore transport closed"));
    this.pending.clear();
  }
}
