// XenstoreClients over in-memory transports into one pure XenstoreEngine (the real xenstored core,
// no sockets): the xenstore of unit tests of pure cores (xenbus, blkfront, displback), with a hook
// to answer chosen requests with an error instead. Each request waits one macrotask, as a socket
// round trip would; watch events reach their connection's client in a microtask.
import { XsType } from "@xensim/abi";
import { type ConnId, XenstoreEngine, type XsMessage } from "@xensim/xenstore";
import { XenstoreClient } from "./client.js";
import type { XsTransport } from "./transport.js";

const enc = new TextEncoder();
const tick = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** Decides, per request, to answer with an xs errno name (e.g. "EAGAIN") instead of asking the engine. */
export type EngineFaultHook = (type: number, txId: number, payload: Uint8Array) => string | undefined;

export class EngineTransport implements XsTransport {
  onWatchEvent: (payload: Uint8Array) => void = () => {};
  onReconnect: () => Promise<void> = async () => {};
  readonly generation = 0;
  fault: EngineFaultHook | undefined;
  /** Request types seen, in order. */
  readonly sent: number[] = [];
  private closed = false;

  constructor(
    private readonly hub: EngineHub,
    readonly conn: ConnId,
  ) {}

  async request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage> {
    if (this.closed) throw new Error("transport closed");
    this.sent.push(type);
    await tick();
    const err = this.fault?.(type, txId, payload);
    if (err !== undefined) {
      // A failed TRANSACTION_END still ends the transaction in xenstored.
      if (type === XsType.TRANSACTION_END) this.hub.request(this.conn, type, txId, enc.encode("F\0"));
      return { type: XsType.ERROR, reqId: 0, txId, payload: enc.encode(`${err}\0`) };
    }
    return this.hub.request(this.conn, type, txId, payload);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The real xenstore engine behind in-memory connections. */
export class EngineHub {
  readonly engine = new XenstoreEngine({
    onInternalError: (e) => {
      throw e;
    },
  });
  private readonly owners = new Map<ConnId, EngineTransport>();
  private reqId = 1;

  request(conn: ConnId, type: number, txId: number, payload: Uint8Array): XsMessage {
    const out = this.engine.request(conn, { type, reqId: this.reqId++, txId, payload });
    for (const ev of out.events) {
      const owner = this.owners.get(ev.conn);
      if (owner) queueMicrotask(() => owner.onWatchEvent(ev.msg.payload));
    }
    if (!out.reply) throw new Error("the engine dropped the connection");
    return out.reply;
  }

  /** A new connection as `domid` (dom0 unless told) and a client on it; `transport.fault` injects errors. */
  connect(domid = 0): { client: XenstoreClient; transport: EngineTransport } {
    const conn = this.engine.connect({ domid });
    const transport = new EngineTransport(this, conn);
    this.owners.set(conn, transport);
    return { client: new XenstoreClient(transport), transport };
  }

  /** A client on a new connection as `domid` (dom0 unless told). */
  client(domid = 0): XenstoreClient {
    return this.connect(domid).client;
  }
}
