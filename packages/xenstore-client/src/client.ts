// The xenstore client every service uses: read, write, ls, mkdir, rm, permissions, watches as
// async iterators, and transactions retried on EAGAIN — over any XsTransport.
import { XSD_ERRNO, XsType } from "@xensim/abi";
import type { XsMessage } from "@xensim/xenstore";
import type { XsTransport } from "./transport.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An XS_ERROR reply: `code` is xenstored's errno name ("ENOENT", "EAGAIN", "EQUOTA", …). */
export class XenstoreError extends Error {
  readonly errno: number | undefined;
  constructor(
    readonly code: string,
    readonly op: string,
    readonly path?: string,
  ) {
    super(`xenstore ${op}${path !== undefined ? ` ${path}` : ""}: ${code}`);
    this.name = "XenstoreError";
    // Own properties only: xenstored may send any string ("EQUOTA", or even "constructor").
    this.errno = Object.hasOwn(XSD_ERRNO, code) ? (XSD_ERRNO as Record<string, number>)[code] : undefined;
  }
}

export interface WatchEvent {
  path: string;
  token: string;
}

/** A registered watch; iterate it for events, `close()` to unwatch. */
export interface XsWatch extends AsyncIterable<WatchEvent> {
  readonly path: string;
  readonly token: string;
  close(): Promise<void>;
}

function strings(...parts: string[]): Uint8Array {
  return enc.encode(parts.map((p) => `${p}\0`).join(""));
}
function splitNul(payload: Uint8Array): string[] {
  const s = dec.decode(payload);
  const parts = s.split("\0");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}
function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function watchPayload(rec: WatchRec): Uint8Array {
  return rec.depth === undefined
    ? strings(rec.path, rec.token)
    : strings(rec.path, rec.token, String(rec.depth));
}

/**
 * Whether an event path belongs to a watch on `watched`: the node itself or one below it (events
 * for relative watches come relative, special watches as `@releaseDomain` or `@releaseDomain/<id>`).
 */
function underWatch(path: string, watched: string): boolean {
  if (path === watched) return true;
  if (watched === "/") return path.startsWith("/");
  return path.startsWith(`${watched}/`);
}

/** Operations that take an optional transaction: shared by the client and a transaction handle. */
abstract class XsOps {
  protected abstract send(type: number, payload: Uint8Array, what: string, path?: string): Promise<XsMessage>;

  async readBytes(path: string): Promise<Uint8Array> {
    return (await this.send(XsType.READ, strings(path), "read", path)).payload;
  }
  async read(path: string): Promise<string> {
    return dec.decode(await this.readBytes(path));
  }
  /** Like read, but undefined instead of ENOENT. */
  async tryRead(path: string): Promise<string | undefined> {
    try {
      return await this.read(path);
    } catch (e) {
      if (e instanceof XenstoreError && e.code === "ENOENT") return undefined;
      throw e;
    }
  }
  async exists(path: string): Promise<boolean> {
    try {
      await this.send(XsType.READ, strings(path), "read", path);
      return true;
    } catch (e) {
      if (e instanceof XenstoreError && e.code === "ENOENT") return false;
      throw e;
    }
  }
  async write(path: string, value: string | Uint8Array): Promise<void> {
    const v = typeof value === "string" ? enc.encode(value) : value;
    await this.send(XsType.WRITE, concat(strings(path), v), "write", path);
  }
  async ls(path: string): Promise<string[]> {
    return splitNul((await this.send(XsType.DIRECTORY, strings(path), "directory", path)).payload);
  }
  async mkdir(path: string): Promise<void> {
    await this.send(XsType.MKDIR, strings(path), "mkdir", path);
  }
  async rm(path: string): Promise<void> {
    await this.send(XsType.RM, strings(path), "rm", path);
  }
  /** Permission strings as xenstored prints them, owner first: ["n0", "r5"]. */
  async getPerms(path: string): Promise<string[]> {
    return splitNul((await this.send(XsType.GET_PERMS, strings(path), "get_perms", path)).payload);
  }
  async setPerms(path: string, perms: readonly string[]): Promise<void> {
    await this.send(XsType.SET_PERMS, strings(path, ...perms), "set_perms", path);
  }
}

export class XsTransaction extends XsOps {
  constructor(
    private readonly client: XenstoreClient,
    readonly id: number,
    readonly generation: number,
  ) {
    super();
  }
  protected send(type: number, payload: Uint8Array, what: string, path?: string): Promise<XsMessage> {
    return this.client.sendRaw(type, this.id, payload, what, path, this.generation);
  }
}

export interface TransactionOptions {
  /** Give up after this many EAGAIN retries (default 100). */
  maxRetries?: number;
}

interface WatchRec {
  path: string;
  token: string;
  /** As registered; re-registration after a reconnect sends it again. */
  depth: number | undefined;
  queue: WatchEvent[];
  waiter: ((v: IteratorResult<WatchEvent>) => void) | null;
  closed: boolean;
}

export class XenstoreClient extends XsOps {
  private readonly watches = new Map<string, WatchRec>();
  private nextToken = 1;

  constructor(readonly transport: XsTransport) {
    super();
    transport.onWatchEvent = (payload) => this.dispatchWatch(payload);
    transport.onReconnect = () => this.reregisterWatches();
  }

  /** False while xenstored is away: the transport lost it and has not got it back yet. */
  get connected(): boolean {
    return this.transport.connected ?? true;
  }

  /** For a service's health report: "degraded" with "xenstored lost" while xenstored is away. */
  health(): { status: "ok" | "degraded"; xenstore: string } {
    return this.connected
      ? { status: "ok", xenstore: "connected" }
      : { status: "degraded", xenstore: "xenstored lost" };
  }

  /** Sends one request; an XS_ERROR reply becomes a thrown XenstoreError. */
  async sendRaw(
    type: number,
    txId: number,
    payload: Uint8Array,
    what: string,
    path?: string,
    generation?: number,
  ): Promise<XsMessage> {
    if (txId !== 0 && generation !== undefined && generation !== this.transport.generation)
      throw new XenstoreError("EAGAIN", what, path);
    const reply = await this.transport.request(type, txId, payload);
    if (reply.type === XsType.ERROR)
      throw new XenstoreError(splitNul(reply.payload)[0] ?? "EINVAL", what, path);
    return reply;
  }

  protected send(type: number, payload: Uint8Array, what: string, path?: string): Promise<XsMessage> {
    return this.sendRaw(type, 0, payload, what, path);
  }

  /** Runs fn in a transaction and commits; on EAGAIN (conflict or xenstored restart) runs it again. */
  async transaction<T>(fn: (tx: XsTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const max = opts.maxRetries ?? 100;
    for (let attempt = 0; ; attempt++) {
      const start = await this.sendRaw(XsType.TRANSACTION_START, 0, strings(""), "transaction_start");
      // The reply came over the current connection: that is the generation the transaction lives in.
      const gen = this.transport.generation;
      const id = Number.parseInt(dec.decode(start.payload), 10);
      const tx = new XsTransaction(this, id, gen);
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        await this.sendRaw(XsType.TRANSACTION_END, id, strings("F"), "transaction_end", undefined, gen).catch(
          () => {},
        );
        if (e instanceof XenstoreError && e.code === "EAGAIN" && attempt < max) continue;
        throw e;
      }
      try {
        await this.sendRaw(XsType.TRANSACTION_END, id, strings("T"), "transaction_end", undefined, gen);
        return result;
      } catch (e) {
        if (e instanceof XenstoreError && e.code === "EAGAIN" && attempt < max) continue;
        throw e;
      }
    }
  }

  /** Registers a watch; the first event (xenstored fires one at once) is delivered like any other. */
  async watch(path: string, token?: string, depth?: number): Promise<XsWatch> {
    const tok = token ?? `xsc${this.nextToken++}`;
    const key = `${path}\0${tok}`;
    if (this.watches.has(key)) throw new XenstoreError("EEXIST", "watch", path);
    const rec: WatchRec = { path, token: tok, depth, queue: [], waiter: null, closed: false };
    this.watches.set(key, rec);
    const generation = this.transport.generation;
    try {
      await this.send(XsType.WATCH, watchPayload(rec), "watch", path);
    } catch (e) {
      // A reconnect while the WATCH was in flight re-registered it (the record was already listed),
      // so the request itself, sent again on the new connection, may find it there: that is success.
      const reregistered =
        e instanceof XenstoreError && e.code === "EEXIST" && this.transport.generation !== generation;
      if (!reregistered) {
        this.watches.delete(key);
        throw e;
      }
    }
    const close = async () => {
      if (rec.closed) return;
      rec.closed = true;
      this.watches.delete(key);
      rec.waiter?.({ value: undefined, done: true });
      rec.waiter = null;
      await this.send(XsType.UNWATCH, strings(path, tok), "unwatch", path).catch(() => {});
    };
    return {
      path,
      token: tok,
      close,
      [Symbol.asyncIterator]: () => ({
        next: () => {
          const ev = rec.queue.shift();
          if (ev) return Promise.resolve({ value: ev, done: false });
          if (rec.closed) return Promise.resolve({ value: undefined, done: true });
          return new Promise<IteratorResult<WatchEvent>>((resolve) => {
            rec.waiter = resolve;
          });
        },
        return: async () => {
          await close();
          return { value: undefined, done: true };
        },
      }),
    };
  }

  private dispatchWatch(payload: Uint8Array): void {
    const [path, token] = splitNul(payload);
    if (path === undefined || token === undefined) return;
    for (const rec of this.watches.values()) {
      // Tokens need not be unique across paths: an event belongs to the watches whose path it is in.
      if (rec.token !== token || rec.closed || !underWatch(path, rec.path)) continue;
      const ev = { path, token };
      if (rec.waiter) {
        const w = rec.waiter;
        rec.waiter = null;
        w({ value: ev, done: false });
      } else rec.queue.push(ev);
    }
  }

  private async reregisterWatches(): Promise<void> {
    for (const rec of this.watches.values()) {
      if (rec.closed) continue;
      await this.transport.request(XsType.WATCH, 0, watchPayload(rec)).catch(() => {});
    }
  }

  async getDomainPath(domid: number): Promise<string> {
    return splitNul(
      (await this.send(XsType.GET_DOMAIN_PATH, strings(String(domid)), "get_domain_path")).payload,
    )[0]!;
  }
  async introduceDomain(domid: number, mfn: number | bigint | string, port: number): Promise<void> {
    await this.send(XsType.INTRODUCE, strings(String(domid), String(mfn), String(port)), "introduce");
  }
  async releaseDomain(domid: number): Promise<void> {
    await this.send(XsType.RELEASE, strings(String(domid)), "release");
  }
  async resumeDomain(domid: number): Promise<void> {
    await this.send(XsType.RESUME, strings(String(domid)), "resume");
  }
  async isDomainIntroduced(domid: number): Promise<boolean> {
    const r = await this.send(XsType.IS_DOMAIN_INTRODUCED, strings(String(domid)), "is_domain_introduced");
    return splitNul(r.payload)[0] === "T";
  }
  async setTarget(domid: number, target: number): Promise<void> {
    await this.send(XsType.SET_TARGET, strings(String(domid), String(target)), "set_target");
  }
  async resetWatches(): Promise<void> {
    await this.send(XsType.RESET_WATCHES, strings(""), "reset_watches");
    for (const rec of this.watches.values()) {
      rec.closed = true;
      rec.waiter?.({ value: undefined, done: true });
    }
    this.watches.clear();
  }
  /** XS_CONTROL (privileged): e.g. control("print", "hello"), control("quota"). */
  async control(...args: string[]): Promise<string> {
    const r = await this.send(XsType.CONTROL, strings(...args), "control");
    return dec.decode(r.payload).replace(/\0$/, "");
  }

  async close(): Promise<void> {
    for (const rec of this.watches.values()) {
      rec.closed = true;
      rec.waiter?.({ value: undefined, done: true });
    }
    this.watches.clear();
    await this.transport.close();
  }
}
