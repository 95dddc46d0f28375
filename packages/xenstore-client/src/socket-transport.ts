// The xs wire protocol over a unix socket (what libxenstore does with XENSTORED_PATH), with
// reconnection: when xenstored restarts, the transport reconnects with backoff, lets the client
// re-register its watches, then re-sends what was in flight.
import { connect, type Socket } from "node:net";
import { encodeXsMessage, XsDecoder, type XsMessage } from "@xensim/xenstore";
import { syntheticError, type XsTransport } from "./transport.js";

interface Pending {
  reqId: number;
  type: number;
  txId: number;
  payload: Uint8Array;
  resolve: (m: XsMessage) => void;
  reject: (e: Error) => void;
}

export interface SocketTransportOptions {
  /** Give up (reject everything) if no connection could be made for this long. Default: forever. */
  reconnectTimeoutMs?: number;
  /** Reconnect at all (default true). */
  reconnect?: boolean;
}

export class XsSocketTransport implements XsTransport {
  onWatchEvent: (payload: Uint8Array) => void = () => {};
  onReconnect: () => Promise<void> = async () => {};
  private sock: Socket | null = null;
  private decoder = new XsDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private closed = false;
  private isConnected = false;
  private gen = 0;
  private reconnecting: Promise<void> | null = null;
  private connectionLost: (() => void) | null = null;
  /** Times the connection was lost (for tests and metrics). */
  disconnects = 0;

  private constructor(
    readonly path: string,
    private readonly opts: SocketTransportOptions,
  ) {}

  static async connect(path: string, opts: SocketTransportOptions = {}): Promise<XsSocketTransport> {
    const t = new XsSocketTransport(path, opts);
    await t.open();
    return t;
  }

  get generation(): number {
    return this.gen;
  }

  /** False from the moment the socket dropped until it is reconnected. */
  get connected(): boolean {
    return this.isConnected;
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(this.path);
      const onError = (err: Error) => {
        sock.destroy();
        reject(err);
      };
      sock.once("error", onError);
      sock.once("connect", () => {
        sock.off("error", onError);
        this.sock = sock;
        this.decoder = new XsDecoder();
        this.isConnected = true;
        sock.on("data", (chunk: Buffer) => this.onData(chunk));
        sock.on("error", () => {});
        sock.on("close", () => this.onClose(sock));
        resolve();
      });
    });
  }

  private onData(chunk: Buffer): void {
    let msgs: XsMessage[];
    try {
      msgs = this.decoder.push(chunk);
    } catch {
      this.sock?.destroy();
      return;
    }
    for (const m of msgs) {
      if (m.type === 15) {
        this.onWatchEvent(m.payload);
        continue;
      }
      const p = this.pending.get(m.reqId);
      if (!p) continue;
      this.pending.delete(m.reqId);
      p.resolve(m);
    }
  }

  private onClose(sock: Socket): void {
    if (sock !== this.sock) return;
    this.disconnects++;
    this.connectionLost?.();
    this.sock = null;
    this.isConnected = false;
    if (this.closed) return;
    if (this.opts.reconnect === false) {
      for (const p of this.pending.values()) p.reject(new Error("xenstore connection closed"));
      this.pending.clear();
      return;
    }
    // Transactions died with the old connection: answer their requests EAGAIN now.
    for (const [id, p] of this.pending) {
      if (p.txId !== 0 || p.type === 7 /* TRANSACTION_END */) {
        this.pending.delete(id);
        p.resolve(syntheticError(p.txId, "EAGAIN"));
      }
    }
    this.reconnecting ??= this.reconnectLoop().finally(() => {
      this.reconnecting = null;
    });
  }

  private async reconnectLoop(): Promise<void> {
    const started = Date.now();
    let delay = 20;
    while (!this.closed) {
      try {
        await this.open();
      } catch {
        if (
          this.opts.reconnectTimeoutMs !== undefined &&
          Date.now() - started > this.opts.reconnectTimeoutMs
        ) {
          for (const p of this.pending.values()) p.reject(new Error("xenstore: could not reconnect"));
          this.pending.clear();
          this.closed = true;
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 500);
        continue;
      }
      this.gen++;
      // Re-send what was in flight, then let the client restore its watches.
      const resend = [...this.pending.values()];
      for (const p of resend) this.write(p);
      // Re-registering may never finish if this new connection drops too (its requests then wait
      // for the next one): stop waiting when it closes and go round again.
      const lost = new Promise<void>((resolve) => {
        this.connectionLost = resolve;
      });
      try {
        await Promise.race([this.onReconnect(), lost]);
      } catch {
        // Re-registration failed; if the connection dropped again, go round once more.
      }
      this.connectionLost = null;
      // The connection may have dropped again while watches were being re-registered: the close
      // handler saw a reconnect in progress and left it to this loop.
      if (this.isConnected) return;
      delay = 20;
    }
  }

  private write(p: Pending): void {
    this.sock?.write(encodeXsMessage({ type: p.type, reqId: p.reqId, txId: p.txId, payload: p.payload }));
  }

  request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage> {
    if (this.closed) return Promise.reject(new Error("xenstore transport closed"));
    return new Promise((resolve, reject) => {
      const reqId = this.nextReqId;
      this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
      const p: Pending = { reqId, type, txId, payload, resolve, reject };
      if (!this.isConnected && (txId !== 0 || type === 7)) {
        resolve(syntheticError(txId, "EAGAIN"));
        return;
      }
      this.pending.set(reqId, p);
      if (this.isConnected) this.write(p);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new Error("xenstore transport closed"));
    this.pending.clear();
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.end(r));
  }
}
