// Device discovery by watches, as Linux's xenbus_probe_frontend / xenbus_probe_backend: one watch on
// the class's directory; a device appears when its directory exists with `state` (Initialising,
// unless told otherwise) and the other end's path and id, and disappears when the directory goes.
import { XenbusState } from "@xensim/abi";
import { XenbusDevice, type XenbusDeviceOptions, type XenbusSide } from "./device.js";
import { XenbusError } from "./errors.js";
import { backendRoot, frontendRoot } from "./paths.js";
import { AsyncQueue } from "./queue.js";
import { lsOrEmpty, nodeExists, type XenbusWatch } from "./store.js";

export interface XenbusProbeEvent<V = unknown> {
  readonly kind: "added" | "removed";
  readonly device: XenbusDevice<V>;
}

export interface XenbusProbeOptions<V = unknown> extends Omit<XenbusDeviceOptions<V>, "nodename"> {
  /** Device class: "vbd", "vif", "console", ... */
  type: string;
  /**
   * Linux probes a new device only while its `state` is Initialising (a leftover Closed directory
   * is not a new device). false: any state (a backend taking over devices after a restart).
   */
  onlyInitialising?: boolean;
  /** Called (and awaited, in order) for each device found; errors go to onError. */
  onAdded?: (dev: XenbusDevice<V>) => unknown;
  /**
   * The driver's otherend_changed: when given, each device found gets it as onOtherendChanged and
   * its otherend watch is started right after onAdded (as Linux's watch_otherend after probe), so
   * the first call carries the other end's current state.
   */
  otherendChanged?: (dev: XenbusDevice<V>, state: XenbusState) => unknown;
  /** Called after a device's directory went away (the device is already closed). */
  onRemoved?: (dev: XenbusDevice<V>) => unknown;
}

/**
 * A backend probe watches /local/domain/<self>/backend/<type> (devices at <front>/<devid> below);
 * a frontend probe watches /local/domain/<self>/device/<type> (devices at <devid>).
 */
export class XenbusProbe<V = unknown> {
  readonly root: string;
  readonly side: XenbusSide;
  private readonly known = new Map<string, XenbusDevice<V>>();
  private readonly subscribers = new Set<AsyncQueue<XenbusProbeEvent<V>>>();
  private watch: XenbusWatch | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly opts: XenbusProbeOptions<V>) {
    this.side = opts.side;
    this.root =
      opts.side === "backend" ? backendRoot(opts.self, opts.type) : frontendRoot(opts.self, opts.type);
  }

  /** Registers the watch and returns once the devices already there have been probed. */
  static async start<V = unknown>(opts: XenbusProbeOptions<V>): Promise<XenbusProbe<V>> {
    const p = new XenbusProbe(opts);
    p.watch = await opts.store.watch(p.root);
    void p.pump(p.watch);
    await p.enqueue(() => p.scanAll());
    return p;
  }

  /** Backend devices live two levels below the root (<front>/<devid>), frontend ones one. */
  private get levels(): number {
    return this.side === "backend" ? 2 : 1;
  }

  /** The devices present now, by nodename. */
  get devices(): ReadonlyMap<string, XenbusDevice<V>> {
    return this.known;
  }

  /**
   * Added / removed events from now on, after those of the devices already present (each arrives as
   * "added" first). Ends when the probe is closed.
   */
  events(): AsyncIterableIterator<XenbusProbeEvent<V>> {
    const q: AsyncQueue<XenbusProbeEvent<V>> = new AsyncQueue(() => this.subscribers.delete(q));
    if (this.closed) {
      q.end();
      return q;
    }
    for (const device of this.known.values()) q.push({ kind: "added", device });
    this.subscribers.add(q);
    return q;
  }

  /** Waits until every event seen so far has been handled. */
  settled(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch((e: unknown) => this.reportError(e));
    return run;
  }

  private reportError(e: unknown): void {
    this.opts.onError?.(e);
  }

  private async pump(w: XenbusWatch): Promise<void> {
    try {
      for await (const ev of w) {
        if (this.closed) break;
        void this.enqueue(() => this.changed(ev.path)).catch(() => {});
      }
    } catch (e) {
      this.reportError(e);
    }
  }

  /** xenbus_dev_changed: the device the path is in, checked; a path above device level, a rescan. */
  private async changed(path: string): Promise<void> {
    if (this.closed) return;
    if (path !== this.root && !path.startsWith(`${this.root}/`)) return;
    const rel = path === this.root ? [] : path.slice(this.root.length + 1).split("/");
    if (rel.length < this.levels) return this.scanAll();
    const node = `${this.root}/${rel.slice(0, this.levels).join("/")}`;
    if (await nodeExists(this.opts.store, node)) {
      if (!this.known.has(node)) await this.tryAdd(node);
    } else if (this.known.has(node)) await this.remove(node);
  }

  private async scanAll(): Promise<void> {
    if (this.closed) return;
    const present: string[] = [];
    const store = this.opts.store;
    if (this.side === "frontend") {
      for (const id of await lsOrEmpty(store, this.root)) present.push(`${this.root}/${id}`);
    } else {
      for (const fe of await lsOrEmpty(store, this.root))
        for (const id of await lsOrEmpty(store, `${this.root}/${fe}`))
          present.push(`${this.root}/${fe}/${id}`);
    }
    const set = new Set(present);
    for (const node of [...this.known.keys()]) if (!set.has(node)) await this.remove(node);
    for (const node of present) if (!this.known.has(node)) await this.tryAdd(node);
  }

  private async tryAdd(nodename: string): Promise<void> {
    const { onlyInitialising = true } = this.opts;
    if (onlyInitialising) {
      const raw = await this.opts.store.tryRead(`${nodename}/state`);
      if (raw === undefined || Number(raw) !== XenbusState.Initialising) return;
    }
    let dev: XenbusDevice<V>;
    try {
      dev = await XenbusDevice.open<V>({ ...this.opts, nodename });
    } catch (e) {
      // Not all keys there yet: a later write under the directory brings us back.
      if (e instanceof XenbusError) return;
      throw e;
    }
    if (this.closed) return;
    this.known.set(nodename, dev);
    this.emit({ kind: "added", device: dev });
    try {
      await this.opts.onAdded?.(dev);
    } catch (e) {
      this.reportError(e);
    }
    const handler = this.opts.otherendChanged;
    if (handler && !this.closed && this.known.get(nodename) === dev) {
      dev.onOtherendChanged = (state) => handler(dev, state);
      await dev.watchOtherend();
    }
  }

  private async remove(nodename: string): Promise<void> {
    const dev = this.known.get(nodename);
    if (!dev) return;
    this.known.delete(nodename);
    await dev.close();
    this.emit({ kind: "removed", device: dev });
    try {
      await this.opts.onRemoved?.(dev);
    } catch (e) {
      this.reportError(e);
    }
  }

  private emit(ev: XenbusProbeEvent<V>): void {
    for (const q of this.subscribers) q.push(ev);
  }

  /** Unwatches, closes every device (no "removed" events) and ends the event iterators. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.watch?.close();
    for (const q of this.subscribers) q.end();
    this.subscribers.clear();
    for (const dev of this.known.values()) await dev.close();
    this.known.clear();
  }
}
