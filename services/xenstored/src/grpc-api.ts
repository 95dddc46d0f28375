// xenstored's call API (proto/xensim/xenstore/v1/xenstore.proto): sessions that carry xs wire
// requests unchanged. A session is a connection in xenstored's terms; its watch events are
// published on the event bus at `xenstore.watch.<session_id>` with the xs WATCH_EVENT payload
// (path\0token\0) as the message body.
import {
  type CallContext,
  CallError,
  type CallPolicy,
  type CallServer,
  type EventBus,
  type UnaryHandler,
} from "@xensim/bus";
import { describeIdentity, type Identity, identityUri, ownerToken } from "@xensim/security";
import type {
  OpenSessionReply,
  OpenSessionRequest__Output,
  SessionRef__Output,
  XsReply,
  XsRequest__Output,
} from "@xensim/proto";
import { loadXenstoreProto } from "@xensim/proto";
import { XENSTORE_SUBJECTS } from "@xensim/subjects";
import type { Logger } from "pino";
import type { ConnId, XenstoredCore } from "./xenstored.js";

const GRPC_NOT_FOUND = 5;
const GRPC_INVALID_ARGUMENT = 3;
const DEFAULT_LEASE_MS = 15_000;

interface Session {
  id: string;
  conn: ConnId;
  domid: number;
  /** identityUri of the peer that opened it; only it may use the session. "" = opened without credentials. */
  owner: string;
  leaseMs: number;
  expires: number;
  /** Requests waiting while the connection stalls (an unprivileged domain at its quotas). */
  waiting: Array<() => void>;
  /** The worker thread that opened it, for an in-process caller (dropped when that worker exits). */
  thread?: number;
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

  constructor(private readonly options: GrpcApiOptions) {
    const def = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
    const impl: Record<string, UnaryHandler> = {
      OpenSession: (req: OpenSessionRequest__Output, ctx: CallContext) =>
        this.openSession(req, ctx.identity, ctx.peer.startsWith("inprocess:") ? ctx.thread : undefined),
      CloseSession: (req: SessionRef__Output) => this.closeSession(req),
      KeepAlive: (req: SessionRef__Output) => this.keepAlive(req),
      Request: (req: XsRequest__Output) => this.request(req),
    };
    options.server.addService(def, impl);
    this.reaper = setInterval(() => this.reap(), options.reapEveryMs ?? 1000);
    this.reaper.unref();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Who may use the session API (ctx.calls.authorize): dom0's services open sessions as dom0 (and,
   * privileged, may open one for another domain, as the proto says); the guest runtime and other
   * peers without a domain have no gRPC session (guests use their ring page). A session belongs to
   * the peer that opened it: another identity using its id is refused as if it did not exist.
   */
  readonly policy: CallPolicy = (method, req, ctx) => {
    const id = ctx.identity;
    if (id === undefined) return undefined;
    if (method === "OpenSession") {
      const want = (req as { domid?: number }).domid ?? 0;
      if (id.domid === undefined)
        return `${describeIdentity(id)} has no xenstore session (guests use their ring page)`;
      if (want !== id.domid && id.domid !== 0)
        return `${describeIdentity(id)} may open a session only as domain ${id.domid}, not ${want}`;
      return undefined;
    }
    const s = this.sessions.get((req as { sessionId?: string }).sessionId ?? "");
    if (s !== undefined && s.owner !== "" && s.owner !== identityUri(id))
      return `xenstore session ${s.id} belongs to another peer`;
    return undefined;
  };

  /**
   * The domain a session acts for: the one place where it is decided. With credentials, the caller's
   * certificate's domain (a driver domain's backend acts as itself; dom0, privileged, may name another
   * domain in the request, which the policy above allowed); without, the request's domid.
   */
  private callerDomid(req: OpenSessionRequest__Output, who?: Identity): number {
    if (req.domid > 0x7fef) throw new CallError(GRPC_INVALID_ARGUMENT, `domid ${req.domid} out of range`);
    if (who?.domid !== undefined && who.domid !== 0) return who.domid;
    return req.domid;
  }

  private async openSession(
    req: OpenSessionRequest__Output,
    who?: Identity,
    thread?: number,
  ): Promise<OpenSessionReply> {
    const domid = this.callerDomid(req, who);
    const id = this.options.newSessionId();
    // watch events go to a subject under the owner's token, which only it may subscribe to on NATS
    const subject = XENSTORE_SUBJECTS.watch(id, who ? ownerToken(who) : undefined);
    const leaseMs = req.leaseMs > 0 ? req.leaseMs : (this.options.leaseMs ?? DEFAULT_LEASE_MS);
    const conn = this.options.core.connect(
      domid,
      {
        kind: "session",
        send: (msg) => {
          // Replies travel back in the unary response; only watch events go over the bus.
          if (msg.type === 15) this.options.bus.publish(subject, msg.payload);
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
      owner: who ? identityUri(who) : "",
      leaseMs,
      expires: this.options.now() + leaseMs,
      waiting: [],
      ...(thread !== undefined ? { thread } : {}),
    });
    this.options.log.debug({ session: id, domid, client: req.clientName }, "xenstore session opened");
    return { sessionId: id, leaseMs, watchSubject: subject, serverEpoch: this.options.epoch };
  }

  private session(id: string): Session {
    const s = this.sessions.get(id);
    if (!s) throw new CallError(GRPC_NOT_FOUND, `unknown xenstore session ${id}`);
    s.expires = this.options.now() + s.leaseMs;
    return s;
  }

  private async closeSession(req: SessionRef__Output): Promise<object> {
    const s = this.forget(req.sessionId);
    if (s) this.options.core.disconnect(s.conn);
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
    while (!this.options.core.canRead(s.conn)) {
      await new Promise<void>((resolve) => s.waiting.push(resolve));
      s = this.session(req.sessionId);
    }
    const r = this.options.core.request(s.conn, {
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
    const now = this.options.now();
    for (const s of [...this.sessions.values()]) {
      if (s.expires < now) {
        this.options.log.info({ session: s.id, domid: s.domid }, "xenstore session lease expired");
        this.forget(s.id);
        this.options.core.disconnect(s.conn);
      }
    }
  }

  /**
   * The host says a worker thread exited (killed, crashed, stopped): its sessions close now, with
   * their watches and transactions, as C xenstored drops a client whose socket closed — instead of
   * lingering until their lease runs out. Returns how many were closed.
   */
  workerExited(thread: number): number {
    let n = 0;
    for (const s of [...this.sessions.values()]) {
      if (s.thread !== thread) continue;
      this.forget(s.id);
      this.options.core.disconnect(s.conn);
      n++;
    }
    if (n > 0)
      this.options.log.info({ thread, sessions: n }, "closed the xenstore sessions of an exited worker");
    return n;
  }

  close(): void {
    clearInterval(this.reaper);
    for (const s of [...this.sessions.values()]) {
      this.forget(s.id);
      this.options.core.disconnect(s.conn);
    }
  }
}
