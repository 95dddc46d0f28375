// A xenbus device as Linux's struct xenbus_device: its node, the other end (path, domid, state
// tracked by a watch), state switching in a transaction, the error node, typed reads, and the
// ring / grant / event-channel helpers bound to the other end.
import { parseXenbusState, XenErrno, type XenErrnoName, XenbusState } from "@xensim/abi";
import { XenbusError } from "./errors.js";
import { scanInt, scanUnsigned, xbFormat } from "./format.js";
import {
  type GrantRefAllocator,
  GrantRefPool,
  type GrantRingResult,
  grantRing,
  type MapRingResult,
  mapRing,
  ungrantRing,
  unmapRing,
  type XenbusHypervisor,
} from "./grant-rings.js";
import { errorNodePath, relativeToHome } from "./paths.js";
import { AsyncQueue } from "./queue.js";
import {
  retryTransaction,
  type XenbusStore,
  type XenbusStoreOps,
  type XenbusWatch,
  xsErrorCode,
} from "./store.js";

export type XenbusSide = "frontend" | "backend";

export interface XenbusDeviceOptions<V = unknown> {
  store: XenbusStore;
  /** Our own domid (the domain whose home holds `nodename`). */
  self: number;
  side: XenbusSide;
  /** Absolute path of the device directory: .../device/<type>/<devid> or .../backend/<type>/<front>/<devid>. */
  nodename: string;
  /** Needed by the ring / grant / event-channel helpers only. */
  hypervisor?: XenbusHypervisor<V>;
  /**
   * Grant references for grantRing. Devices of one domain share one grant table, so give them one
   * allocator; without it each device has its own GrantRefPool.
   */
  grantRefs?: GrantRefAllocator;
  /** EAGAIN retries of `transaction` (default 16). */
  transactionRetries?: number;
  /** Errors nobody awaits: a failing otherend handler, a failed error-node write. */
  onError?: (err: unknown) => void;
  /** The dev_err line of devError / devFatal ("<nodename>: <errno> <message>"). */
  log?: (line: string) => void;
}

/** What a typed `gather` reads: "int" (%d), "uint" (%u), "string" (%s, the raw value). */
export type GatherKind = "int" | "uint" | "string";
export type GatherSpec = Readonly<Record<string, GatherKind>>;
export type GatherResult<S extends GatherSpec> = {
  -readonly [K in keyof S]: S[K] extends "string" ? string : number;
};

/** Linux's xenbus_read_driver_state: the state, or Unknown when absent or not a XenbusState. */
export function parseDriverState(raw: string | undefined): XenbusState {
  return raw === undefined ? XenbusState.Unknown : (parseXenbusState(raw) ?? XenbusState.Unknown);
}

/** The negative errno for a thrown xenstore error (its code), else -EIO. */
export function errnoOf(e: unknown): number {
  const code = e instanceof XenbusError ? e.code : xsErrorCode(e);
  if (code !== undefined && Object.hasOwn(XenErrno, code)) return -XenErrno[code as XenErrnoName];
  return -XenErrno.EIO;
}

function parseNodename(side: XenbusSide, rel: string): { type: string; devid: string } {
  const parts = rel.split("/");
  // device/<type>/<devid> or backend/<type>/<front>/<devid>
  const type = parts[1] ?? "";
  const devid = parts[side === "frontend" ? 2 : 3] ?? parts[parts.length - 1] ?? "";
  return { type, devid };
}

export class XenbusDevice<V = unknown> {
  readonly store: XenbusStore;
  readonly self: number;
  readonly side: XenbusSide;
  /** Absolute path of our directory. */
  readonly nodename: string;
  /** Device class ("vbd", "vif", ...) and id (the directory's leaf name), from the nodename. */
  readonly type: string;
  readonly devid: string;
  /** The other end's directory (from `backend` / `frontend`) and domid (`backend-id` / `frontend-id`). */
  readonly otherend: string;
  readonly otherendId: number;
  /** Where devError writes: /local/domain/<self>/error/<nodename relative to home>/error. */
  readonly errorPath: string;
  /** Called (and awaited, in order) with the other end's state on every change of `<otherend>/state`. */
  onOtherendChanged: ((state: XenbusState) => unknown) | undefined;

  private readonly hv: XenbusHypervisor<V> | undefined;
  private readonly refs: GrantRefAllocator;
  private readonly retries: number;
  private readonly onError: (err: unknown) => void;
  private readonly log: ((line: string) => void) | undefined;
  private cachedState: XenbusState;
  private lastOtherend: XenbusState | undefined;
  private watch: Promise<XenbusWatch> | undefined;
  private readonly subscribers = new Set<AsyncQueue<XenbusState>>();
  private switching: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    opts: XenbusDeviceOptions<V>,
    otherend: string,
    otherendId: number,
    state: XenbusState,
  ) {
    this.store = opts.store;
    this.self = opts.self;
    this.side = opts.side;
    this.nodename = opts.nodename;
    const { type, devid } = parseNodename(opts.side, relativeToHome(opts.self, opts.nodename));
    this.type = type;
    this.devid = devid;
    this.otherend = otherend;
    this.otherendId = otherendId;
    this.errorPath = errorNodePath(opts.self, opts.nodename);
    this.hv = opts.hypervisor;
    this.refs = opts.grantRefs ?? new GrantRefPool();
    this.retries = opts.transactionRetries ?? 16;
    this.onError = opts.onError ?? (() => {});
    this.log = opts.log;
    this.cachedState = state;
  }

  /**
   * Reads the other end's details (Linux: xenbus_read_otherend_details) and our state. Rejects with
   * XenbusError ENOENT when `state` or either otherend key is missing, EINVAL when the id is not a
   * domid. Does not watch yet: see watchOtherend / otherendStates.
   */
  static async open<V = unknown>(opts: XenbusDeviceOptions<V>): Promise<XenbusDevice<V>> {
    const { store, nodename, side } = opts;
    const pathKey = side === "frontend" ? "backend" : "frontend";
    const idKey = `${pathKey}-id`;
    const [state, otherend, idText] = await Promise.all([
      store.tryRead(`${nodename}/state`),
      store.tryRead(`${nodename}/${pathKey}`),
      store.tryRead(`${nodename}/${idKey}`),
    ]);
    if (state === undefined) throw new XenbusError("ENOENT", `${nodename}: no state node`);
    if (otherend === undefined || otherend === "" || idText === undefined)
      throw new XenbusError("ENOENT", `missing other end from ${nodename}`);
    const id = scanInt(idText, "i");
    if (id === undefined || id < 0 || id > 0xffff)
      throw new XenbusError("EINVAL", `${nodename}/${idKey}: not a domid: ${JSON.stringify(idText)}`);
    return new XenbusDevice(opts, otherend, id, parseDriverState(state));
  }

  // ---- paths and typed reads --------------------------------------------------------------------

  /** `key` under our directory ("" is the directory itself); an absolute path is returned as is. */
  path(key: string): string {
    if (key.startsWith("/")) return key;
    return key === "" ? this.nodename : `${this.nodename}/${key}`;
  }

  /** `key` under the other end's directory. */
  otherendPath(key: string): string {
    return key === "" ? this.otherend : `${this.otherend}/${key}`;
  }

  /** The raw value, or undefined when absent. */
  read(key: string, ops: XenbusStoreOps = this.store): Promise<string | undefined> {
    return ops.tryRead(this.path(key));
  }

  write(key: string, value: string | number, ops: XenbusStoreOps = this.store): Promise<void> {
    return ops.write(this.path(key), String(value));
  }

  /** xenbus_printf: `fmt` formatted (%d %i %u %x %s) into `key`. */
  printf(ops: XenbusStoreOps, key: string, fmt: string, ...args: unknown[]): Promise<void> {
    return ops.write(this.path(key), xbFormat(fmt, args));
  }

  /** xenbus_scanf "%d": undefined when absent or not a number. */
  async readInt(key: string, ops: XenbusStoreOps = this.store): Promise<number | undefined> {
    const v = await this.read(key, ops);
    return v === undefined ? undefined : scanInt(v);
  }

  /** xenbus_read_unsigned: the "%u" value, or `dflt` when absent or not a number. */
  async readUnsigned(key: string, dflt: number, ops: XenbusStoreOps = this.store): Promise<number> {
    const v = await this.read(key, ops);
    return (v === undefined ? undefined : scanUnsigned(v)) ?? dflt;
  }

  /** A `feature-*` flag: read as unsigned, absent = 0; true when non-zero. */
  async readFeature(key: string, ops: XenbusStoreOps = this.store): Promise<boolean> {
    return (await this.readUnsigned(key, 0, ops)) !== 0;
  }

  /**
   * xenbus_gather: every key of `spec` under `dir` (relative to our node, or absolute) converted as
   * asked, in one transaction unless `ops` is given. XenbusError ENOENT names the first missing key,
   * EINVAL the first that does not convert.
   */
  async gather<S extends GatherSpec>(dir: string, spec: S, ops?: XenbusStoreOps): Promise<GatherResult<S>> {
    const run = async (tx: XenbusStoreOps) => {
      const out: Record<string, string | number> = {};
      const base = this.path(dir);
      for (const [name, kind] of Object.entries(spec)) {
        const p = `${base}/${name}`;
        const raw = await tx.tryRead(p);
        if (raw === undefined) throw new XenbusError("ENOENT", `${p}: missing`);
        const v = kind === "string" ? raw : kind === "int" ? scanInt(raw) : scanUnsigned(raw);
        if (v === undefined) throw new XenbusError("EINVAL", `${p}: not ${kind}: ${JSON.stringify(raw)}`);
        out[name] = v;
      }
      return out as GatherResult<S>;
    };
    return ops ? run(ops) : this.transaction(run);
  }

  /** Runs fn in a transaction, again on EAGAIN (bounded by `transactionRetries`). */
  transaction<T>(fn: (tx: XenbusStoreOps) => Promise<T>): Promise<T> {
    return retryTransaction(this.store, fn, { maxRetries: this.retries });
  }

  // ---- states ------------------------------------------------------------------------------------

  /** The state we last switched to (or read at open). */
  get state(): XenbusState {
    return this.cachedState;
  }

  /** The other end's state at its last change seen by the watch; undefined before the first. */
  get otherendState(): XenbusState | undefined {
    return this.lastOtherend;
  }

  /** Our `state` node now (Unknown when absent). */
  async readState(): Promise<XenbusState> {
    return parseDriverState(await this.store.tryRead(this.path("state")));
  }

  /** The other end's `state` node now (Unknown when absent), as xenbus_read_driver_state. */
  async readOtherendState(): Promise<XenbusState> {
    return parseDriverState(await this.store.tryRead(this.otherendPath("state")));
  }

  /**
   * xenbus_switch_state: nothing when `state` is the one we last switched to (no write, no watch
   * fired); else, in a transaction retried on EAGAIN, writes it — only if our `state` node still
   * exists, so a device being torn down is not resurrected. Resolves true when written. A failure
   * writes the error node and tries once to switch to Closing, as Linux does.
   */
  switchState(state: XenbusState): Promise<boolean> {
    const run = this.switching.then(() => this.switchStateAt(state, 0));
    this.switching = run.catch(() => {});
    return run;
  }

  private async switchStateAt(state: XenbusState, depth: number): Promise<boolean> {
    if (state === this.cachedState) return false;
    const p = this.path("state");
    let written: boolean;
    try {
      written = await this.transaction(async (tx) => {
        if ((await tx.tryRead(p)) === undefined) return false;
        await tx.write(p, String(state));
        return true;
      });
    } catch (e) {
      await this.devError(errnoOf(e), "writing new state");
      if (depth === 0) await this.switchStateAt(XenbusState.Closing, 1);
      return false;
    }
    if (written) this.cachedState = state;
    return written;
  }

  // ---- errors -----------------------------------------------------------------------------------

  /**
   * xenbus_dev_error: writes "<-err> <message>" to `errorPath` (err is a negative errno or GNTST_*
   * status, as in Linux) and logs it. A failed write is reported to onError, never thrown.
   */
  async devError(err: number, fmt: string, ...args: unknown[]): Promise<void> {
    const text = `${-Math.trunc(err)} ${xbFormat(fmt, args)}`;
    this.log?.(`${this.nodename}: ${text}`);
    try {
      await this.store.write(this.errorPath, text);
    } catch (e) {
      this.onError(e);
    }
  }

  /** xenbus_dev_fatal: devError, then switchState(Closing). */
  async devFatal(err: number, fmt: string, ...args: unknown[]): Promise<void> {
    await this.devError(err, fmt, ...args);
    await this.switchState(XenbusState.Closing);
  }

  /** The text devError last wrote (undefined when none). */
  readError(): Promise<string | undefined> {
    return this.store.tryRead(this.errorPath);
  }

  // ---- the other end's state ----------------------------------------------------------------------

  /**
   * Watches `<otherend>/state` (once; later calls wait for the same registration). Every event —
   * the registration's own first one included — reads the state and hands it to onOtherendChanged
   * and to every otherendStates() iterator. Repeats are delivered too: a backend re-writing
   * Connected asks the frontend to re-read `sectors`.
   */
  async watchOtherend(): Promise<void> {
    if (this.closed) throw new XenbusError("EINVAL", `${this.nodename}: device closed`);
    if (!this.watch) {
      this.watch = this.store.watch(this.otherendPath("state"));
      const w = await this.watch;
      void this.pump(w);
    }
    await this.watch;
  }

  private async pump(w: XenbusWatch): Promise<void> {
    try {
      for await (const _ev of w) {
        if (this.closed) break;
        let state: XenbusState;
        try {
          state = await this.readOtherendState();
        } catch (e) {
          this.onError(e);
          continue;
        }
        if (this.closed) break;
        this.lastOtherend = state;
        for (const q of this.subscribers) q.push(state);
        try {
          await this.onOtherendChanged?.(state);
        } catch (e) {
          this.onError(e);
        }
      }
    } catch (e) {
      this.onError(e);
    }
  }

  /**
   * The other end's states, from the next change on (starts the watch if needed: its first event
   * gives the current state). Ends when the device is closed.
   */
  otherendStates(): AsyncIterableIterator<XenbusState> {
    const q: AsyncQueue<XenbusState> = new AsyncQueue(() => this.subscribers.delete(q));
    if (this.closed) q.end();
    else {
      this.subscribers.add(q);
      this.watchOtherend().catch((e: unknown) => this.onError(e));
    }
    return q;
  }

  /** Waits until the other end reports one of `states` (by the watch); returns the state seen. */
  async waitForOtherend(states: readonly XenbusState[]): Promise<XenbusState> {
    const it = this.otherendStates();
    try {
      const now = this.lastOtherend;
      if (now !== undefined && states.includes(now)) return now;
      for await (const s of it) if (states.includes(s)) return s;
      throw new XenbusError("ENOENT", `${this.nodename}: closed while waiting for the other end`);
    } finally {
      await it.return?.();
    }
  }

  // ---- rings, grants, event channels -----------------------------------------------------------

  private hypervisor(): XenbusHypervisor<V> {
    if (!this.hv) throw new XenbusError("EINVAL", `${this.nodename}: no hypervisor given`);
    return this.hv;
  }

  /**
   * xenbus_grant_ring: grants the other end access to `gfns` (one ref each, in order). On failure
   * the grants made are undone, the refs freed, and the device fails (devFatal).
   */
  async grantRing(gfns: readonly number[], readonly = false): Promise<GrantRingResult> {
    const r = await grantRing(this.hypervisor(), this.refs, this.otherendId, gfns, readonly);
    if (r.rc !== 0) await this.devFatal(r.rc, "granting access to ring page");
    return r;
  }

  /** Ends access to granted refs and frees them; a ref still mapped by the other end stays taken. */
  ungrantRing(refs: readonly number[]): Promise<{ ok: boolean; stillMapped: number[] }> {
    return ungrantRing(this.hypervisor(), this.refs, refs);
  }

  /**
   * xenbus_map_ring_valloc: maps the other end's `refs`. On failure what was mapped is unmapped,
   * the device fails (devFatal with the GNTST_* status) and the status is returned.
   */
  async mapRing(refs: readonly number[], readonly = false): Promise<MapRingResult<V>> {
    const r = await mapRing(this.hypervisor(), this.otherendId, refs, readonly);
    if ("failedIndex" in r)
      await this.devFatal(
        r.status,
        "mapping in shared page %d from domain %d",
        refs[r.failedIndex],
        this.otherendId,
      );
    return r;
  }

  /** xenbus_unmap_ring: GNTST_okay, or the first failing status (also written with devError). */
  async unmapRing(handles: readonly number[]): Promise<number> {
    const st = await unmapRing(this.hypervisor(), handles);
    if (st !== 0) await this.devError(st, "unmapping ring handles %s error %d", handles.join(","), st);
    return st;
  }

  /** xenbus_alloc_evtchn: an unbound port for the other end; failure → devFatal. */
  async allocEvtchn(): Promise<{ rc: number; port: number }> {
    const r = await this.hypervisor().evtchnAllocUnbound(this.self, this.otherendId);
    if (r.rc !== 0) await this.devFatal(r.rc, "allocating event channel");
    return r;
  }

  /** Binds the other end's unbound `remotePort`; failure → devFatal. */
  async bindEvtchn(remotePort: number): Promise<{ rc: number; port: number }> {
    const r = await this.hypervisor().evtchnBindInterdomain(this.otherendId, remotePort);
    if (r.rc !== 0)
      await this.devFatal(r.rc, "binding to event channel %u from domain %d", remotePort, this.otherendId);
    return r;
  }

  /** xenbus_free_evtchn: closes `port`; failure → devError. */
  async freeEvtchn(port: number): Promise<number> {
    const rc = await this.hypervisor().evtchnClose(port);
    if (rc !== 0) await this.devError(rc, "freeing event channel %u", port);
    return rc;
  }

  /** Stops the otherend watch and ends every otherendStates() iterator. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const q of this.subscribers) q.end();
    this.subscribers.clear();
    const w = this.watch;
    if (w) await (await w.catch(() => undefined))?.close();
  }
}
