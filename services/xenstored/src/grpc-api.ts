// xenstored's call API (proto/xensim/xenstore/v1/xenstore.proto): sessions that carry xs wire
// requests unchanged. A session is a connection in xenstored's terms; its watch events are
// published on the event bus at `xenstore.watch.<session_id>` with the xs WATCH_EVENT payload
// (path\0token\0) as the message body.
import { CallError, type CallServer, type EventBus, type UnaryHandler } from "@xensim/bus";
import type {
  OpenSessionReply,
  OpenSessionRequest__Output,
  SessionRef__Output,
  XsReply,
  XsRequest__Output,
} from "@xensim/proto";
import { loadXenstoreProto } from "@xensim/proto";
import type { Logger } from "pino";
import type { ConnId, XenstoredCore } from "./core.js";

export const WATCH_SUBJECT_PREFIX = "xenstore.watch.";
const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
const DEFAULT_LEASE_MS = 15_000;

interface Session {
  id: string;
  conn: ConnId;
  domid: number;
  leaseMs: number;
  expires: number;
  /** Requests waiting while the connection stalls (an unprivileged domain at its quotas). */
  waiting: Array<() => void>;
}

export interface GrpcApiOptions {
  core: XenstoredCore;
  bus: EventBus;
  server: CallServer;
  log: Logger;
  /** Identifies this xenstored instance; clients notice a restart by a new epoch. */
  epoch: string;
  newSessionId: () => string;
  now: () => number;
  /** Default lease for sessions that ask for none. */
  leaseMs?: number;
  /** How often expired sessions are looked for (default 1000 ms). */
  reapEveryMs?: number;
}

export class XenstoreGrpcApi {
  private readonly sessions = new Map<string, Session>();
  private readonly reaper: NodeJS.Timeout;

  constructor(private readonly o: GrpcApiOptions) {
    const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
    const impl: Record<string, UnaryHandler> = {
      OpenSession: (req: OpenSessionRequest__Output) => this.openSession(req),
      CloseSession: (req: SessionRef__Output) => this.closeSession(req),
      KeepAlive: (req: SessionRef__Output) => this.keepAlive(req),
      Request: (req: XsRequest__Output) => this.request(req),
    };
    o.server.addService(def, impl);
    this.reaper = setInterval(() => this.reap(), o.reapEveryMs ?? 1000);
    this.reaper.unref();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * The domain a session acts for: the one place where it is decided. Today the caller's word (the
   * request's domid); with authenticated transports (mTLS identities, issue 14) it comes from the
   * caller's certificate here, and nowhere else changes.
   */
  private callerDomid(req: OpenSessionRequest__Output): number {
    if (req.domid > 0x7fef) throw new CallError(GRPC_INVALID_ARGUMENT, `domid ${req.domid} out of range`);
    return req.domid;
  }

  private async openSession(req: OpenSessionRequest__Output): Promise<OpenSessionReply> {
    const domid = this.callerDomid(req);
    const id = this.o.newSessionId();
    const subject = `${WATCH_SUBJECT_PREFIX}${id}`;
    const leaseMs = req.leaseMs > 0 ? req.leaseMs : (this.o.leaseMs ?? DEFAULT_LEASE_MS);
    const conn = this.o.core.connect(
      domid,
      {
        kind: "session",
        send: (msg) => {
          // Replies travel back in the unary response; only watch events go over the bus.
          if (msg.type === 15) this.o.bus.publish(subject, msg.payload);
        },
        resume: () => this.wake(id),
        drop: () => this.forget(id),
      },
      { label: req.clientName || `grpc-session-${id}` },
    );
    this.sessions.set(id, {
      id,
      conn,
      domid,
      leaseMs,
      expires: this.o.now() + leaseMs,
      waiting: [],
    });
    this.o.log.debug({ session: id, domid, client: req.clientName }, "xenstore session opened");
    return { sessionId: id, leaseMs, watchSubject: subject, serverEpoch: this.o.epoch };
  }

  private session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new CallError(GRPC_NOT_FOUND, `unknown xenstore session ${id}`);
    s.expires = this.o.now() + s.leaseMs;
    return s;
  }

  private async closeSession(req: SessionRef__Output): Promise<object> {
    const s = this.forget(req.sessionId);
    if (s) this.o.core.disconnect(s.conn);
    return {};
  }

  private async keepAlive(req: SessionRef__Output): Promise<object> {
    this.session(req.sessionId);
    return {};
  }

  /** Lets the requests a stalled session holds back go on (or find the session gone). */
  private wake(id: string): void {
    const s = this.sessions.get(id);
    if (s) for (const go of s.waiting.splice(0)) go();
  }

  /** Forgets a session; requests it held back fail with NOT_FOUND. */
  private forget(id: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.sessions.delete(id);
    for (const go of s.waiting.splice(0)) go();
    return s;
  }

  private async request(req: XsRequest__Output): Promise<XsReply> {
    let s = this.session(req.sessionId);
    // C xenstored does not read a stalled connection: its requests wait here, unread.
    while (!this.o.core.canRead(s.conn)) {
      await new Promise<void>((resolve) => s.waiting.push(resolve));
      s = this.session(req.sessionId);
    }
    const r = this.o.core.request(s.conn, {
      type: req.type,
      reqId: req.reqId,
      txId: req.txId,
      payload: new Uint8Array(req.payload.buffer, req.payload.byteOffset, req.payload.byteLength),
    });
    if (!r) {
      // The engine dropped the connection (protocol violation); the session is gone too.
      this.forget(s.id);
      throw new CallError(GRPC_INVALID_ARGUMENT, "xenstore protocol violation, session closed");
    }
    return { type: r.type, reqId: r.reqId, txId: r.txId, payload: Buffer.from(r.payload) };
  }

  private reap(): void {
    const now = this.o.now();
    for (const s of [...this.sessions.values()]) {
      if (s.expires < now) {
        this.o.log.info({ session: s.id, domid: s.domid }, "xenstore session lease expired");
        this.forget(s.id);
        this.o.core.disconnect(s.conn);
      }
    }
  }

  close(): void {
    clearInterval(this.reaper);
    for (const s of [...this.sessions.values()]) {
      this.forget(s.id);
      this.o.core.disconnect(s.conn);
    }
  }
}
