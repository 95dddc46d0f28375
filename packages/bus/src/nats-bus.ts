import { threadId } from "node:worker_threads";
import {
  connect,
  type Msg,
  nkeyAuthenticator,
  type MsgHdrs,
  type NatsConnection,
  type Subscription as NatsSubscription,
  headers as natsHeaders,
} from "@nats-io/transport-node";
import { BusError, BusErrorCode } from "./errors.js";
import {
  BusBase,
  type BusMsg,
  type BusOptions,
  type EventBus,
  type OutMsg,
  type PublishOptions,
  STATUS_HEADER,
  type SubscriptionImpl,
  uniqueToken,
} from "./events.js";

export interface NatsBusOptions extends BusOptions {
  servers: string | string[];
  /** Connect timeout per server (default 5000 ms). */
  timeoutMs?: number;
  /** Reconnect attempts per server after the connection is lost; -1 (default) retries forever. */
  maxReconnectAttempts?: number;
  /** Wait between reconnect attempts to one server (default 250 ms, plus the client's jitter). */
  reconnectTimeWaitMs?: number;
  /** Authenticate as this nkey user (its seed, "SU…"): the server then enforces its permissions. */
  nkeySeed?: string;
  /**
   * Root of this bus's request inboxes (default "_INBOX"): under per-user permissions, the user's
   * own scope ("_INBOX.<host>:<service>", @xensim/security inboxPrefix) so no one else reads its replies.
   */
  inboxPrefix?: string;
}

const DEFAULT_RECONNECT_TIME_WAIT_MS = 250;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Our header record as NATS headers; BusError PROTOCOL for a name or value NATS cannot carry. */
function toNatsHeaders(h: Record<string, string>): MsgHdrs {
  const out = natsHeaders();
  for (const [k, v] of Object.entries(h)) {
    try {
      out.set(k, v);
    } catch (err) {
      throw new BusError(BusErrorCode.Protocol, `invalid header ${JSON.stringify(k)}: ${message(err)}`, {
        cause: err,
      });
    }
  }
  return out;
}

/** A NATS message as a BusMsg: data copied, the last value of each header, a status as STATUS_HEADER. */
function fromNatsMsg(msg: Msg): BusMsg {
  const m: BusMsg = { subject: msg.subject, data: new Uint8Array(msg.data) };
  const h = msg.headers;
  if (h) {
    const rec: Record<string, string> = {};
    let any = false;
    for (const [k, vs] of h) {
      const v = vs[vs.length - 1];
      if (v === undefined) continue;
      rec[k] = v;
      any = true;
    }
    if (h.code > 0) {
      rec[STATUS_HEADER] = String(h.code);
      any = true;
    }
    if (any) m.headers = rec;
  }
  if (msg.reply) m.reply = msg.reply;
  return m;
}

/**
 * The NATS adapter over the official client. Faults, subscriptions and request/reply are BusBase's
 * (requests are published through the fault stage to a per-bus inbox wildcard, so event faults act on
 * them as on any publish); this class maps them onto one NatsConnection.
 */
class NatsBus extends BusBase {
  private readonly token: string;
  private readonly natsSubs = new Map<number, NatsSubscription>();
  private connected = true;
  /** Publishes and subscriptions nats-server refused under this user's permissions. */
  permissionViolations = 0;

  constructor(
    private readonly opts: NatsBusOptions,
    private readonly nc: NatsConnection,
  ) {
    super(opts, "nats");
    this.token = uniqueToken(threadId);
    void this.watchStatus();
    void nc.closed().then((err) => {
      // Only when the client gives up (reconnect attempts exhausted, fatal protocol error).
      if (this._closed) return;
      this.report(
        new BusError(
          BusErrorCode.Connection,
          `NATS connection lost${err ? `: ${err.message}` : ""}`,
          err ? { cause: err } : undefined,
        ),
      );
    });
  }

  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") this.connected = false;
        else if (s.type === "reconnect") this.connected = true;
        else if (
          s.type === "error" &&
          /permissions violation/i.test(message((s as { error?: unknown }).error))
        ) {
          this.permissionViolations++;
          this.report(
            new BusError(BusErrorCode.Protocol, `NATS refused: ${message((s as { error?: unknown }).error)}`),
          );
        }
      }
    } catch {
      // the iterator ends with the connection
    }
  }

  private report(err: unknown, m?: BusMsg): void {
    this.onError(err, m ?? { subject: "", data: new Uint8Array(0) });
  }

  override publish(subject: string, data: Uint8Array, opts?: PublishOptions): void {
    this.assertOpen();
    // Refuse here what NATS would refuse, rather than later in transmit (possibly from a fault timer).
    if (opts?.headers) toNatsHeaders(opts.headers);
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data instanceof Uint8Array && data.length > max) {
      throw new BusError(
        BusErrorCode.Protocol,
        `payload of ${data.length} bytes on '${subject}' exceeds the server's max_payload ${max}`,
      );
    }
    super.publish(subject, data, opts);
  }

  protected transmit(m: OutMsg): void {
    if (this._closed || this.nc.isClosed()) return;
    try {
      this.nc.publish(m.subject, m.data, {
        ...(m.reply ? { reply: m.reply } : {}),
        ...(m.headers ? { headers: toNatsHeaders(m.headers) } : {}),
      });
    } catch (err) {
      if (this.nc.isClosed() || this.nc.isDraining()) return;
      this.report(
        new BusError(BusErrorCode.Protocol, `publish on '${m.subject}' failed: ${message(err)}`, {
          cause: err,
        }),
        m,
      );
    }
  }

  protected addSub(s: SubscriptionImpl): void {
    let ns: NatsSubscription;
    try {
      ns = this.nc.subscribe(s.subject, {
        ...(s.queue !== undefined ? { queue: s.queue } : {}),
        callback: (err, msg) => {
          if (err) {
            // e.g. a permissions violation: the server has dropped the subscription, so end ours
            this.report(
              new BusError(BusErrorCode.Protocol, `subscription '${s.subject}' failed: ${err.message}`, {
                cause: err,
              }),
            );
            this.natsSubs.delete(s.id);
            this.subs.get(s.id)?.unsubscribe();
            return;
          }
          this.deliverTo(s.id, fromNatsMsg(msg));
        },
      });
    } catch (err) {
      this.subs.delete(s.id);
      throw new BusError(BusErrorCode.Connection, `subscribe '${s.subject}' failed: ${message(err)}`, {
        cause: err,
      });
    }
    this.natsSubs.set(s.id, ns);
  }

  protected removeSub(s: SubscriptionImpl): void {
    const ns = this.natsSubs.get(s.id);
    this.natsSubs.delete(s.id);
    if (!ns || this.nc.isClosed()) return;
    try {
      ns.unsubscribe();
    } catch {
      // the connection is going away; the server forgets the subscription with it
    }
  }

  protected async transportFlush(): Promise<void> {
    try {
      await this.nc.flush();
    } catch (err) {
      throw new BusError(BusErrorCode.Connection, `NATS flush failed: ${message(err)}`, { cause: err });
    }
  }

  protected async transportClose(): Promise<void> {
    this.natsSubs.clear();
    if (this.nc.isClosed()) return;
    if (this.connected && !this.nc.isDraining()) {
      try {
        await this.nc.drain();
      } catch {
        // lost the connection while draining: close below
      }
    }
    if (!this.nc.isClosed()) await this.nc.close().catch(() => {});
  }

  protected inboxToken(): string {
    return this.token;
  }

  protected override inboxRoot(): string {
    return this.opts.inboxPrefix ?? "_INBOX";
  }
}

/**
 * An event bus over a real NATS server (core NATS: at-most-once, like the in-process adapter), on the
 * official client `@nats-io/transport-node`. A lost connection is re-established (subscriptions
 * included) every `reconnectTimeWaitMs`, forever by default; what is published while disconnected may
 * be lost, and flush() fails with CONNECTION during an outage.
 */
export async function connectNatsBus(opts: NatsBusOptions): Promise<EventBus> {
  const servers = Array.isArray(opts.servers) ? opts.servers : [opts.servers];
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name ?? "xensim",
      timeout: opts.timeoutMs ?? 5000,
      // servers are tried in the order given, as before
      noRandomize: true,
      reconnect: true,
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
      reconnectTimeWait: opts.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_TIME_WAIT_MS,
      ...(opts.nkeySeed ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed)) } : {}),
    });
  } catch (err) {
    throw new BusError(
      BusErrorCode.Connection,
      `cannot connect to NATS at ${servers.join(", ")}: ${message(err)}`,
      { cause: err },
    );
  }
  return new NatsBus(opts, nc);
}
