// The xenstore ring page (io/xs_wire.h struct xenstore_domain_interface, docs/misc/xenstore-ring.txt),
// both ends, as a pure protocol core. XsRingServer is xenstored's side of one domain's page,
// XsRingClient is what a guest's xenbus driver does. Neither notifies: every call returns whether the
// event channel should be signalled, and the service layer does the kick.
//
// Memory order: the four index words, `connection` and `error` are accessed only with the atomic
// operations of the page; a producer writes data, then its index; a consumer reads the producer index,
// then the data (copied once, then validated: nothing is read from the page twice), then publishes its
// own index.

import {
  XENSTORE_CONNECTED,
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_ERROR_COMM,
  XENSTORE_ERROR_NONE,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_RECONNECT,
  XENSTORE_RING_SIZE,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_RECONNECTION,
} from "@xensim/abi";
import { encodeXsMessage, XsDecoder, type XsMessage, type XsProtocolError } from "./wire.js";

const I = XENSTORE_DOMAIN_INTERFACE;
const RING = XENSTORE_RING_SIZE;

/**
 * The shared page as this module needs it. `MemView` of @xensim/memory satisfies it structurally;
 * tests use a plain array. Offsets are bytes from the start of the page; the 32-bit atomics take
 * 4-byte aligned offsets.
 */
export interface XsRingPage {
  atomicLoad32(off: number): number;
  atomicStore32(off: number, v: number): void;
  /** A copy of `len` bytes at `off`. */
  read(off: number, len: number): Uint8Array;
  write(off: number, bytes: Uint8Array): void;
  /** Publish that [off, off+len) was written (replication hook); called after each write. */
  markWritten?(off: number, len: number): void;
}

/** Features this server advertises by default: ring reconnection and the error indicator. */
export const XS_RING_DEFAULT_FEATURES = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;

/** Name of a `connection error indicator` value; values not in the header are "UNKNOWN". */
export type XsRingErrorName = "COMM" | "RINGIDX" | "PROTO" | "UNKNOWN";

export function xsRingErrorName(value: number): XsRingErrorName {
  switch (value) {
    case XENSTORE_ERROR_COMM:
      return "COMM";
    case XENSTORE_ERROR_RINGIDX:
      return "RINGIDX";
    case XENSTORE_ERROR_PROTO:
      return "PROTO";
    default:
      return "UNKNOWN";
  }
}

/**
 * The ring connection stopped. `value` is the XENSTORE_ERROR_* number (as in the page's `error`
 * field), `errorName` its name, `by` the end that detected it ("server": xenstored, also when a client
 * reads the server's error indicator; "client": the guest found the server's indices or framing bad).
 */
export class XsRingError extends Error {
  override readonly name = "XsRingError";
  readonly code = "XS_RING";
  readonly errorName: XsRingErrorName;
  constructor(
    readonly value: number,
    readonly by: "server" | "client",
    message: string,
    cause?: XsProtocolError,
  ) {
    super(message, cause ? { cause } : undefined);
    this.errorName = xsRingErrorName(value);
  }
}

/** Copies `len` bytes of the byte stream at free-running index `idx` out of the ring at `base`. */
function readStream(page: XsRingPage, base: number, idx: number, len: number): Uint8Array {
  const start = idx & (RING - 1);
  const first = Math.min(len, RING - start);
  if (first === len) return page.read(base + start, len);
  const out = new Uint8Array(len);
  out.set(page.read(base + start, first), 0);
  out.set(page.read(base, len - first), first);
  return out;
}

/** Writes `bytes` (at most RING) into the ring at `base` at free-running index `idx`. */
function writeStream(page: XsRingPage, base: number, idx: number, bytes: Uint8Array): void {
  const start = idx & (RING - 1);
  const first = Math.min(bytes.length, RING - start);
  page.write(base + start, bytes.subarray(0, first));
  page.markWritten?.(base + start, first);
  if (first < bytes.length) {
    page.write(base, bytes.subarray(first));
    page.markWritten?.(base, bytes.length - first);
  }
}

function storeWord(page: XsRingPage, off: number, v: number): void {
  page.atomicStore32(off, v >>> 0);
  page.markWritten?.(off, 4);
}

/** A FIFO of bytes waiting for ring space; a message may leave it in several pieces. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already taken
  private total = 0;

  get length(): number {
    return this.total;
  }
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.total += b.length;
  }
  /** Removes and returns the first `n` bytes (n <= length). */
  take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0] as Uint8Array;
      const k = Math.min(c.length - this.head, n - done);
      out.set(c.subarray(this.head, this.head + k), done);
      done += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.total -= n;
    return out;
  }
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.total = 0;
  }
}

export interface XsRingServerOptions {
  /**
   * server_features bits to advertise (ORed into the page at attach; bits are never cleared).
   * Default XS_RING_DEFAULT_FEATURES (RECONNECTION | ERROR); add WATCHDEPTH if the engine serves it.
   */
  features?: number;
}

/** What XsRingServer#poll returns. */
export interface XsRingServerPoll {
  /** Complete requests read from `req`, in order. */
  messages: XsMessage[];
  /** The server changed the page (consumed requests, produced replies, reset, set `error`): signal. */
  notify: boolean;
  /**
   * The guest asked for a reconnect and the ring was reset: queues emptied, indices zeroed,
   * `connection` set back to CONNECTED. Drop the connection's watches and transactions (and any
   * reply not yet sent); messages returned before this poll belong to the old connection.
   */
  reset: boolean;
  /** Set when the connection failed during this call (RINGIDX or PROTO). */
  error?: XsRingError;
}

/**
 * xenstored's side of one domain's ring page. Requests come out of `poll()`; replies and watch events
 * go in with `send()`. The indices the server produces (req_cons, rsp_prod) are kept privately and
 * only published; the guest's (req_prod, rsp_cons) are read once per call and checked against them.
 */
export class XsRingServer {
  private readonly page: XsRingPage;
  private readonly feats: number;
  private reqCons: number;
  private rspProd: number;
  private decoder = new XsDecoder();
  private readonly out = new ByteQueue();
  private err: number;

  /**
   * Attaches to a mapped page: advertises the features (before anything is read or written, as the
   * reconnection feature requires) and takes the indices as they are (they need not be 0). An
   * `error` already on the page (a previous server instance stopped this connection) is kept.
   * On INTRODUCE, C xenstored also resets the ring: call reset() then.
   */
  constructor(page: XsRingPage, opts: XsRingServerOptions = {}) {
    this.page = page;
    this.feats = (opts.features ?? XS_RING_DEFAULT_FEATURES) >>> 0;
    const old = page.atomicLoad32(I.server_features);
    if ((old | this.feats) >>> 0 !== old) storeWord(page, I.server_features, old | this.feats);
    this.reqCons = page.atomicLoad32(I.req_cons);
    this.rspProd = page.atomicLoad32(I.rsp_prod);
    // Only an error a server writes (COMM, RINGIDX, PROTO) is kept from an earlier instance; any
    // other value was put there by the guest and means nothing (found by the xs-ring fuzz target).
    const found =
      this.feats & XENSTORE_SERVER_FEATURE_ERROR ? page.atomicLoad32(I.error) : XENSTORE_ERROR_NONE;
    this.err = xsRingErrorName(found) === "UNKNOWN" ? XENSTORE_ERROR_NONE : found;
  }

  /** The features this server advertises. */
  get features(): number {
    return this.feats;
  }
  /** XENSTORE_ERROR_NONE, or the error that stopped this connection (it is ignored until a reconnect). */
  get error(): number {
    return this.err;
  }
  /** Reply bytes waiting for room in `rsp` (bound it: a guest that never reads makes this grow). */
  get pendingBytes(): number {
    return this.out.length;
  }
  /** Bytes of an incomplete request read from `req` and held. */
  get partialRequestBytes(): number {
    return this.decoder.buffered;
  }

  /**
   * Serves the page once (call on every event from the guest, or whenever): handles a reconnect
   * request, reads every request byte available, then writes as many queued reply bytes as fit.
   * With `maxMessages` at most that many requests are taken; the bytes of later ones stay in `req`
   * (req_cons does not pass them), so a stalled connection's guest runs out of ring space and waits.
   * `poll(0)` takes none but still handles a reconnect, checks the indices and writes replies.
   */
  poll(maxMessages = Infinity): XsRingServerPoll {
    const res: XsRingServerPoll = { messages: [], notify: false, reset: false };
    if (
      this.feats & XENSTORE_SERVER_FEATURE_RECONNECTION &&
      this.page.atomicLoad32(I.connection) !== XENSTORE_CONNECTED
    ) {
      this.resetRing(true);
      res.notify = true;
      res.reset = true;
      return res;
    }
    if (this.err !== XENSTORE_ERROR_NONE) return res;

    const prod = this.page.atomicLoad32(I.req_prod);
    const avail = (prod - this.reqCons) >>> 0;
    if (avail > RING) {
      res.error = this.fail(
        XENSTORE_ERROR_RINGIDX,
        `req_prod ${prod} - req_cons ${this.reqCons} = ${avail} exceeds the ring size ${RING}`,
      );
      res.notify = (this.feats & XENSTORE_SERVER_FEATURE_ERROR) !== 0;
      return res;
    }
    if (avail > 0) {
      const fed = this.decoder.feed(readStream(this.page, I.req, this.reqCons, avail), maxMessages);
      res.messages = fed.messages;
      if (fed.consumed > 0) {
        this.reqCons = (this.reqCons + fed.consumed) >>> 0;
        storeWord(this.page, I.req_cons, this.reqCons);
        res.notify = true;
      }
      if (fed.error) {
        res.error = this.fail(XENSTORE_ERROR_PROTO, fed.error.message, fed.error);
        if (this.feats & XENSTORE_SERVER_FEATURE_ERROR) res.notify = true;
        return res;
      }
    }
    const before = this.err;
    if (this.flush()) res.notify = true;
    if (before === XENSTORE_ERROR_NONE && this.err !== XENSTORE_ERROR_NONE) res.error = this.lastError;
    return res;
  }

  /**
   * Queues one reply or watch event and writes as much of the queue as fits. Returns whether to
   * signal the guest. Dropped (false) on a stopped connection. Throws RangeError for a payload over
   * XENSTORE_PAYLOAD_MAX (the engine never produces one: XSA-324 events are dropped there).
   */
  send(msg: XsMessage): boolean {
    const bytes = encodeXsMessage(msg);
    if (this.err !== XENSTORE_ERROR_NONE) return false;
    this.out.push(bytes);
    return this.flush();
  }

  /**
   * Writes queued reply bytes into the free part of `rsp` (after the guest consumed some). Returns
   * whether to signal. A corrupt rsp_cons stops the connection with RINGIDX (see `error`); while the
   * guest has asked for a reconnect nothing is written (poll() performs the reset).
   */
  flush(): boolean {
    if (this.err !== XENSTORE_ERROR_NONE || this.out.length === 0) return false;
    if (
      this.feats & XENSTORE_SERVER_FEATURE_RECONNECTION &&
      this.page.atomicLoad32(I.connection) !== XENSTORE_CONNECTED
    )
      return false;
    const cons = this.page.atomicLoad32(I.rsp_cons);
    const used = (this.rspProd - cons) >>> 0;
    if (used > RING) {
      this.fail(
        XENSTORE_ERROR_RINGIDX,
        `rsp_prod ${this.rspProd} - rsp_cons ${cons} = ${used} exceeds the ring size ${RING}`,
      );
      return (this.feats & XENSTORE_SERVER_FEATURE_ERROR) !== 0;
    }
    const n = Math.min(RING - used, this.out.length);
    if (n === 0) return false;
    writeStream(this.page, I.rsp, this.rspProd, this.out.take(n));
    this.rspProd = (this.rspProd + n) >>> 0;
    storeWord(this.page, I.rsp_prod, this.rspProd);
    return true;
  }

  /**
   * Resets the connection as C xenstored does on INTRODUCE (domain_conn_reset): drops queued replies
   * and any partial request, zeroes the four indices, clears a stopped connection's error, and if
   * the guest is waiting for a reconnect, sets `connection` back to CONNECTED. Returns whether to
   * signal (always true: the page changed).
   */
  reset(): boolean {
    const waiting = this.page.atomicLoad32(I.connection) !== XENSTORE_CONNECTED;
    this.resetRing(waiting);
    return true;
  }

  /**
   * A restarted xenstored re-attaching to a page whose connection state (watches, transactions,
   * replies owed) died with the previous instance: stops the connection with error COMM, so that a
   * guest that knows the error indicator asks for a reconnect and starts afresh (our XsRingClient
   * transport does). Returns whether to signal (true when the error word was written).
   */
  abandon(): boolean {
    if (!(this.feats & XENSTORE_SERVER_FEATURE_ERROR)) return false;
    this.fail(XENSTORE_ERROR_COMM, "xenstored restarted: the connection's state is lost");
    return true;
  }

  private lastError: XsRingError | undefined;

  private resetRing(connect: boolean): void {
    this.out.clear();
    this.decoder = new XsDecoder();
    this.reqCons = 0;
    this.rspProd = 0;
    for (const off of [I.req_cons, I.req_prod, I.rsp_cons, I.rsp_prod]) storeWord(this.page, off, 0);
    if (this.err !== XENSTORE_ERROR_NONE || this.page.atomicLoad32(I.error) !== XENSTORE_ERROR_NONE) {
      this.err = XENSTORE_ERROR_NONE;
      this.lastError = undefined;
      storeWord(this.page, I.error, XENSTORE_ERROR_NONE);
    }
    // Last: the guest reads `connection`, then the (now zero) indices.
    if (connect) storeWord(this.page, I.connection, XENSTORE_CONNECTED);
  }

  /** Stops serving (C xenstored ignore_connection): drops queues, sets the error indicator. */
  private fail(value: number, message: string, cause?: XsProtocolError): XsRingError {
    this.err = value;
    this.out.clear();
    this.decoder = new XsDecoder();
    if (this.feats & XENSTORE_SERVER_FEATURE_ERROR) storeWord(this.page, I.error, value);
    this.lastError = new XsRingError(value, "server", message, cause);
    return this.lastError;
  }
}

/** What XsRingClient#poll returns. */
export interface XsRingClientPoll {
  /** Complete replies and watch events read from `rsp`, in order. */
  messages: XsMessage[];
  /** The client changed the page (consumed replies, produced requests): signal the server. */
  notify: boolean;
  /** The server finished a reconnect during this call; the connection is fresh. */
  reconnected: boolean;
  /** Set when the connection stopped during this call (the server's error indicator, or bad indices). */
  error?: XsRingError;
}

/**
 * The guest's side of the page (what a domU's xenbus does): requests go in with `write()`, replies and
 * watch events come out of `poll()`. The guest's own indices (req_prod, rsp_cons) are kept privately
 * and reloaded from the page after a reconnect.
 */
export class XsRingClient {
  private readonly page: XsRingPage;
  private reqProd: number;
  private rspCons: number;
  private decoder = new XsDecoder();
  private readonly out = new ByteQueue();
  private waiting: boolean;
  private stopped: XsRingError | undefined;

  /**
   * Attaches to the page. If `connection` is already RECONNECT (someone else asked, as for dom0less
   * guests), the client waits, like after reconnect(), until the server sets it to CONNECTED.
   */
  constructor(page: XsRingPage) {
    this.page = page;
    this.waiting = page.atomicLoad32(I.connection) !== XENSTORE_CONNECTED;
    this.reqProd = page.atomicLoad32(I.req_prod);
    this.rspCons = page.atomicLoad32(I.rsp_cons);
  }

  /** The server's feature bits as advertised on the page now. */
  get serverFeatures(): number {
    return this.page.atomicLoad32(I.server_features);
  }
  /** Whether the server advertises ring reconnection. */
  get canReconnect(): boolean {
    return (this.serverFeatures & XENSTORE_SERVER_FEATURE_RECONNECTION) !== 0;
  }
  /** False while a reconnect is in progress. */
  get connected(): boolean {
    return !this.waiting;
  }
  /** The error that stopped this connection, if any (cleared by a reconnect). */
  get error(): XsRingError | undefined {
    return this.stopped;
  }
  /** Request bytes waiting for room in `req`. */
  get pendingBytes(): number {
    return this.out.length;
  }

  /**
   * Queues one request and writes as much of the queue as fits. Returns whether to signal. Throws
   * RangeError for a payload over XENSTORE_PAYLOAD_MAX, and Error on a stopped connection.
   */
  write(msg: XsMessage): boolean {
    const bytes = encodeXsMessage(msg);
    if (this.stopped) throw new Error(`xenstore ring stopped: ${this.stopped.message}`);
    this.out.push(bytes);
    return this.flush();
  }

  /** Writes queued request bytes into the free part of `req`. Returns whether to signal. */
  flush(): boolean {
    if (this.waiting || this.stopped || this.out.length === 0) return false;
    const cons = this.page.atomicLoad32(I.req_cons);
    const used = (this.reqProd - cons) >>> 0;
    if (used > RING) {
      this.stop(
        XENSTORE_ERROR_RINGIDX,
        `req_prod ${this.reqProd} - req_cons ${cons} = ${used} exceeds ${RING}`,
      );
      return false;
    }
    const n = Math.min(RING - used, this.out.length);
    if (n === 0) return false;
    writeStream(this.page, I.req, this.reqProd, this.out.take(n));
    this.reqProd = (this.reqProd + n) >>> 0;
    storeWord(this.page, I.req_prod, this.reqProd);
    return true;
  }

  /**
   * Reads the page once: completes a reconnect when the server is done, reports the server's error
   * indicator, reads every reply byte available, then writes queued requests.
   */
  poll(): XsRingClientPoll {
    const res: XsRingClientPoll = { messages: [], notify: false, reconnected: false };
    if (this.waiting) {
      if (this.page.atomicLoad32(I.connection) !== XENSTORE_CONNECTED) return res;
      this.waiting = false;
      this.stopped = undefined;
      this.reqProd = this.page.atomicLoad32(I.req_prod);
      this.rspCons = this.page.atomicLoad32(I.rsp_cons);
      res.reconnected = true;
    }
    if (this.stopped) return res;
    if (this.serverFeatures & XENSTORE_SERVER_FEATURE_ERROR) {
      const e = this.page.atomicLoad32(I.error);
      if (e !== XENSTORE_ERROR_NONE) {
        res.error = this.stop(
          e,
          `xenstored stopped the connection: error ${xsRingErrorName(e)} (${e})`,
          "server",
        );
        return res;
      }
    }
    const prod = this.page.atomicLoad32(I.rsp_prod);
    const avail = (prod - this.rspCons) >>> 0;
    if (avail > RING) {
      res.error = this.stop(
        XENSTORE_ERROR_RINGIDX,
        `rsp_prod ${prod} - rsp_cons ${this.rspCons} = ${avail} exceeds the ring size ${RING}`,
      );
      return res;
    }
    if (avail > 0) {
      const fed = this.decoder.feed(readStream(this.page, I.rsp, this.rspCons, avail));
      res.messages = fed.messages;
      if (fed.consumed > 0) {
        this.rspCons = (this.rspCons + fed.consumed) >>> 0;
        storeWord(this.page, I.rsp_cons, this.rspCons);
        res.notify = true;
      }
      if (fed.error) {
        res.error = this.stop(XENSTORE_ERROR_PROTO, fed.error.message, "client", fed.error);
        return res;
      }
    }
    if (this.flush()) res.notify = true;
    if (!res.error && this.stopped) res.error = this.stopped;
    return res;
  }

  /**
   * Asks the server to reset the ring (connection = RECONNECT): drops queued requests and any partial
   * reply; until poll() reports `reconnected`, nothing else on the page is touched. Returns whether to
   * signal (true). Throws if the server does not advertise RECONNECTION.
   */
  reconnect(): boolean {
    if (!this.canReconnect)
      throw new Error("xenstored does not advertise XENSTORE_SERVER_FEATURE_RECONNECTION");
    this.out.clear();
    this.decoder = new XsDecoder();
    this.waiting = true;
    storeWord(this.page, I.connection, XENSTORE_RECONNECT);
    return true;
  }

  private stop(
    value: number,
    message: string,
    by: "server" | "client" = "client",
    cause?: XsProtocolError,
  ): XsRingError {
    this.out.clear();
    this.decoder = new XsDecoder();
    this.stopped = new XsRingError(value, by, message, cause);
    return this.stopped;
  }
}
