// The xs protocol over xenstored's call API (gRPC when distributed, the in-process call path when
// embedded): requests are unary calls on a session, watch events arrive on the event bus. If
// xenstored restarts, the session is unknown to the new instance: the transport opens a new one,
// lets the client re-register its watches and retries the request (EAGAIN inside a transaction).
import type { BusMsg, CallClient, EventBus, Subscription } from "@xensim/bus";
import type { OpenSessionReply__Output, XsReply__Output } from "@xensim/proto";
import type { XsMessage } from "@xensim/xenstore";
import { syntheticError, type XsTransport } from "./transport.js";

const GRPC_UNAVAILABLE = 14;
const GRPC_NOT_FOUND = 5;
const GRPC_DEADLINE_EXCEEDED = 4;

export interface SessionTransportOptions {
  domid?: number;
  clientName?: string;
  leaseMs?: number;
  /** Per-call deadline (default 10 s). */
  deadlineMs?: number;
  /** Keep retrying an unavailable xenstored for this long before failing a request (default 30 s). */
  retryForMs?: number;
}

export class XsSessionTransport implements XsTransport {
  onWatchEvent: (payload: Uint8Array) => void = () => {};
  onReconnect: () => Promise<void> = async () => {};
  private session: OpenSessionReply__Output | null = null;
  private sub: Subscription | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private gen = 0;
  private nextReqId = 1;
  private closed = false;
  private opening: Promise<void> | null = null;
  /** xenstored did not answer the last keep-alive or request (cleared when a session is open again). */
  private lost = false;

  private constructor(
    private readonly calls: CallClient,
    private readonly bus: EventBus,
    private readonly opts: SessionTransportOptions,
  ) {}

  static async connect(
    calls: CallClient,
    bus: EventBus,
    opts: SessionTransportOptions = {},
  ): Promise<XsSessionTransport> {
    const t = new XsSessionTransport(calls, bus, opts);
    await t.openSession(false);
    return t;
  }

  get generation(): number {
    return this.gen;
  }

  get sessionId(): string | undefined {
    return this.session?.sessionId;
  }

  /** Whether xenstored answered the last keep-alive or request on the current session. */
  get connected(): boolean {
    return !this.closed && !this.lost && this.session !== null && this.opening === null;
  }

  private async openSession(isReconnect: boolean): Promise<void> {
    const reply = await this.calls.call<object, OpenSessionReply__Output>(
      "OpenSession",
      {
        domid: this.opts.domid ?? 0,
        leaseMs: this.opts.leaseMs ?? 0,
        clientName: this.opts.clientName ?? "",
      },
      { deadlineMs: this.opts.deadlineMs ?? 10_000 },
    );
    this.sub?.unsubscribe();
    this.session = reply;
    this.sub = this.bus.subscribe(reply.watchSubject, {
      callback: (m: BusMsg) => this.onWatchEvent(m.data),
    });
    await this.bus.flush();
    this.lost = false;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.keepAlive = setInterval(
      () => {
        const id = this.session?.sessionId;
        if (!id || this.closed) return;
        this.calls.call("KeepAlive", { sessionId: id }, { deadlineMs: 5000 }).then(
          () => {
            this.lost = false;
          },
          () => {
            // xenstored is gone or restarted: reopen now (and again on every tick until it is
            // back), so that a client that only watches gets its watches back without a request.
            this.lost = true;
            if (!this.closed && this.session?.sessionId === id) this.reopen().catch(() => {});
          },
        );
      },
      Math.max(200, reply.leaseMs / 3),
    );
    this.keepAlive.unref();
    if (isReconnect) this.gen++;
  }

  private reopen(): Promise<void> {
    if (!this.opening) {
      const opening = this.openSession(true).finally(() => {
        this.opening = null;
      });
      this.opening = opening;
      // Watches are re-registered once the new session is in place (their requests must not wait
      // for `opening`, which would never finish if it waited for them).
      opening.then(
        () => this.onReconnect().catch(() => {}),
        () => {},
      );
    }
    return this.opening;
  }

  async request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage> {
    const deadline = Date.now() + (this.opts.retryForMs ?? 30_000);
    const gen = this.gen;
    for (;;) {
      if (this.closed) throw new Error("xenstore transport closed");
      if (this.opening) await this.opening.catch(() => {});
      if (txId !== 0 && this.gen !== gen) return syntheticError(txId, "EAGAIN");
      const session = this.session;
      if (!session) throw new Error("xenstore session not open");
      const reqId = this.nextReqId;
      this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
      try {
        const r = await this.calls.call<object, XsReply__Output>(
          "Request",
          { sessionId: session.sessionId, type, reqId, txId, payload: Buffer.from(payload) },
          { deadlineMs: this.opts.deadlineMs ?? 10_000 },
        );
        return {
          type: r.type,
          reqId: r.reqId,
          txId: r.txId,
          payload: new Uint8Array(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength),
        };
      } catch (err) {
        const code = (err as { code?: number }).code;
        const retriable =
          code === GRPC_UNAVAILABLE || code === GRPC_NOT_FOUND || code === GRPC_DEADLINE_EXCEEDED;
        if (!retriable || Date.now() > deadline) throw err;
        this.lost = true;
        if (code === GRPC_NOT_FOUND || code === GRPC_UNAVAILABLE) {
          // xenstored restarted (or is restarting): new session, watches re-registered.
          try {
            if (this.session === session) await this.reopen();
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        if (txId !== 0 || type === 7) return syntheticError(txId, "EAGAIN");
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.keepAlive) clearInterval(this.keepAlive);
    this.sub?.unsubscribe();
    const id = this.session?.sessionId;
    if (id) await this.calls.call("CloseSession", { sessionId: id }, { deadlineMs: 2000 }).catch(() => {});
  }
}
