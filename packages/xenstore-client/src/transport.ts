// A transport carries xs wire requests to xenstored and brings back replies and watch events.
import type { XsMessage } from "@xensim/xenstore";

export interface XsTransport {
  /**
   * Sends one request and resolves with the reply (whose type may be XS_ERROR). If the connection
   * drops, requests outside a transaction are sent again after reconnecting (every xs operation
   * outside a transaction is idempotent); requests inside one are answered EAGAIN, since a
   * restarted xenstored has forgotten the transaction.
   */
  request(type: number, txId: number, payload: Uint8Array): Promise<XsMessage>;
  /** False while xenstored is away (connection lost, not yet re-established); absent: always there. */
  readonly connected?: boolean;
  /** Incremented on every reconnect; transactions started in an older generation are void. */
  readonly generation: number;
  /** Called with the payload of every WATCH_EVENT. */
  onWatchEvent: (payload: Uint8Array) => void;
  /** Called after a reconnect, before queued requests are sent again: re-register watches here. */
  onReconnect: () => Promise<void>;
  close(): Promise<void>;
}

/** A synthetic XS_ERROR reply, for requests the transport answers itself. */
export function syntheticError(txId: number, errno: string): XsMessage {
  return { type: 16, reqId: 0, txId, payload: new TextEncoder().encode(`${errno}\0`) };
}
