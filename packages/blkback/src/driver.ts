// The blkback driver, as Linux's xen-blkback/xenbus.c: finds vbd backends with XenbusProbe, runs the
// blkif backend reducer per device and executes its effects (xenstore writes and transactions,
// state switches, the error node, ring mapping and event channels), opens the storage named by
// `params`, and serves each queue's ring with a BlkbackRing.
import { type XenAbi, XenbusState, XenErrno } from "@xensim/abi";
import {
  BLKBACK_DEFAULT_CONFIG,
  type BlkbackConfig,
  type BlkbackEffect,
  type BlkbackEvent,
  type BlkbackState,
  type BlkifLimits,
  type BlockStore,
  blkbackReduce,
  initialBlkbackState,
  type NegotiatedRings,
  parseMode,
  type XenstoreOp,
  type XenstoreValues,
} from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import {
  childLogger,
  type DriverLogger,
  lsOrEmpty,
  NULL_LOGGER,
  PortDispatcher,
  mapRing,
  unmapRing,
  type XenbusDevice,
  XenbusProbe,
  type XenbusStore,
  type XenbusStoreOps,
  type XenbusWatch,
  xsErrorCode,
} from "@xensim/xenbus";
import {
  type BlkbackClock,
  type BlkbackEventReceiver,
  type BlkbackHypervisor,
  type BlkbackStoreOpener,
} from "./environment.js";
import { type BlkbackPoll, BlkbackRing } from "./blkif-ring.js";
import { RingStats } from "./stats.js";

/** dom0 vCPU blkback's ports are bound to (xenctrl DOM0_VCPU.blkback). */
export const BLKBACK_VCPU = 2;

/** This package's defaults: Linux's, with max-ring-page-order 6 (64 pages). */
export const BLKBACK_DRIVER_DEFAULT_CONFIG: BlkbackConfig = Object.freeze({
  ...BLKBACK_DEFAULT_CONFIG,
  maxRingPageOrder: 6,
});

export interface BlkbackDriverOptions {
  /** dom0's xenstore connection (XenstoreClient). */
  store: XenbusStore;
  /** dom0's hypervisor client (XenCtrl). */
  hv: BlkbackHypervisor;
  /** Opens the storage named by a backend's `params`. */
  openStore: BlkbackStoreOpener;
  /** Our domid (default 0). */
  self?: number;
  /** Advertised limits and features (defaults BLKBACK_DRIVER_DEFAULT_CONFIG). */
  config?: Partial<BlkbackConfig>;
  /** Persistent grants kept per ring (Linux max_pgrants, 1056). */
  maxPersistentGrants?: number;
  /** The vCPU our ports are bound to and received on (default 2, BLKBACK_VCPU). */
  vcpu?: number;
  clock: BlkbackClock;
  log?: DriverLogger;
  /** Take over devices in any state (a restarted backend); false = Initialising only, as Linux. Default true. */
  takeOver?: boolean;
  /** Overrides hv.waitForEvents (e.g. a cross-process receiver). */
  receiver?: (handler: (port: number) => void) => BlkbackEventReceiver;
  /** Each response, for exporters. */
  onResponse?: (ring: BlkbackRingInfo, op: number, status: number, seconds: number) => void;
  /** Every ring polls this long for more requests before it sleeps (BlkbackRingOptions.poll). */
  poll?: BlkbackPoll;
  /** Chaos: garbage in a response's status (see BlkbackRingOptions.corruptResponse). */
  corruptResponse?: () => boolean;
  /** Chaos: one response written twice (see BlkbackRingOptions.duplicateResponse). */
  duplicateResponse?: (target: string) => boolean;
  /** Errors nobody awaits. */
  onError?: (err: unknown) => void;
  /**
   * Serve queues ≥ 1 on threads of their own (Linux runs a kthread per ring, xen_blkif_schedule):
   * this driver still maps each ring and binds its port (to the thread's vCPU), the thread serves it.
   * Omitted: every queue is served here.
   */
  queueThreads?: BlkbackQueueThreads;
}

/** What a queue's thread needs to serve its ring (all plain data: it crosses threads). */
export interface BlkbackQueueHandover {
  frontend: number;
  self: number;
  /** "vbd/<frontend>/<devid>", as traces name it. */
  device: string;
  queue: number;
  /** The mapped ring pages' frames, in ring-ref order (this host's page store). */
  frames: number[];
  nrPages: number;
  abi: XenAbi;
  /** Our port, bound to the thread's vCPU. */
  port: number;
  /** The backend's `params` and mode: the thread opens its own instance of the store. */
  params: string;
  mode: "r" | "w";
  limits: BlkifLimits;
  persistent: boolean;
  maxPersistentGrants?: number;
}

/** A ring served on another thread, as this driver sees it. */
export interface BlkbackRemoteRing {
  readonly isHalted: boolean;
  /** Look at the ring now (the frontend may have queued requests before we were Connected). */
  kick(): void;
  /** The thread's counters since the last call, into `stats` (totals as deltas, levels as they are). */
  collectStats(stats: RingStats): void;
  /** Stop serving: in-flight I/O answered, persistent grants unmapped, the store closed. */
  stop(): Promise<void>;
}

/** The queue threads of a driver (the service's worker threads). */
export interface BlkbackQueueThreads {
  /** The vCPU that serves queue `queue` of a vbd with these `params`, or undefined: serve it here. */
  vcpuFor(queue: number, params: string): number | undefined;
  serve(
    handover: BlkbackQueueHandover,
    onHalt: (err: number, msg: string) => void,
  ): Promise<BlkbackRemoteRing>;
}

/** One served queue, as the service exports it. */
export interface BlkbackRingInfo {
  readonly frontend: number;
  readonly devid: string;
  readonly nodename: string;
  readonly queue: number;
  /** Kept across reconnects of the device (counters stay monotonic). */
  readonly stats: RingStats;
  /** The live ring, when connected and served on the driver's thread. */
  readonly ring: BlkbackRing | undefined;
  /** The live ring, when connected and served on a queue thread (BlkbackDriverOptions.queueThreads). */
  readonly remote?: BlkbackRemoteRing | undefined;
}

class QueueInfo implements BlkbackRingInfo {
  private readonly own = new RingStats();
  ring: BlkbackRing | undefined = undefined;
  remote: BlkbackRemoteRing | undefined = undefined;
  /** A remote ring's counters are collected at each read (a scrape). */
  get stats(): RingStats {
    this.remote?.collectStats(this.own);
    return this.own;
  }
  constructor(
    readonly frontend: number,
    readonly devid: string,
    readonly nodename: string,
    readonly queue: number,
  ) {}
  /** The thread's ring stopped: its final counts, then no more. */
  detachRemote(): void {
    this.remote?.collectStats(this.own);
    this.remote = undefined;
  }
}

interface ServedQueue {
  readonly ring: BlkbackRing | BlkbackRemoteRing;
  readonly port: number;
  readonly handles: number[];
  readonly info: QueueInfo;
}

/** One vbd backend device (struct backend_info). */
export class BlkbackDevice {
  readonly dev: XenbusDevice<MemView>;
  private handshakeState: BlkbackState;
  private chain: Promise<void> = Promise.resolve();
  private store: BlockStore | undefined;
  private storeReadonly = false;
  /** The `params` and mode the store was opened with (a queue thread opens its own instance). */
  private opened: { params: string; mode: "r" | "w" } | undefined;
  private opening = false;
  private queues: ServedQueue[] = [];
  /** Per queue index, kept across reconnects (stats stay monotonic). */
  private readonly infos: QueueInfo[] = [];
  private watches: XenbusWatch[] = [];
  private closed = false;
  private readonly log: DriverLogger;

  constructor(
    private readonly driver: BlkbackDriver,
    dev: XenbusDevice<MemView>,
  ) {
    this.dev = dev;
    this.handshakeState = initialBlkbackState(driver.config);
    this.log = childLogger(driver.log, { domid: dev.otherendId, devid: dev.devid });
  }

  /** The reducer's state (bus state and private phase). */
  get state(): BlkbackState {
    return this.handshakeState;
  }

  get frontend(): number {
    return this.dev.otherendId;
  }

  /** The store serving this vbd, once opened. */
  get blockStore(): BlockStore | undefined {
    return this.store;
  }

  /** The queues currently served on the driver's thread (not those on queue threads). */
  get rings(): readonly BlkbackRing[] {
    return this.queues.flatMap((q) => (q.ring instanceof BlkbackRing ? [q.ring] : []));
  }

  ringInfos(): readonly BlkbackRingInfo[] {
    return this.infos;
  }

  /** Waits until every event queued so far has been handled. */
  settled(): Promise<void> {
    return this.enqueue(async () => {});
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch((e: unknown) => this.driver.reportError(e));
    return run;
  }

  /** Feeds one event to the reducer (queued behind the others). */
  send(event: BlkbackEvent): Promise<void> {
    return this.enqueue(() => this.step(event));
  }

  private async step(event: BlkbackEvent): Promise<void> {
    if (this.closed) return;
    const { state, effects } = blkbackReduce(this.handshakeState, event);
    this.handshakeState = state;
    for (const e of effects) await this.effect(e);
  }

  /** probe(): advertise, then open the storage and follow `online`. */
  async probed(): Promise<void> {
    await this.send({ kind: "probed" });
    await this.enqueue(() => this.maybeOpen());
    const store = this.driver.opts.store;
    for (const key of ["params", "online"]) {
      const w = await store.watch(this.dev.path(key));
      this.watches.push(w);
      void this.follow(w, key);
    }
  }

  private async follow(w: XenbusWatch, key: string): Promise<void> {
    try {
      for await (const _ev of w) {
        if (this.closed) return;
        if (key === "params") void this.enqueue(() => this.maybeOpen());
        else void this.enqueue(() => this.onlineNode());
      }
    } catch (e) {
      this.driver.reportError(e);
    }
  }

  private async onlineNode(): Promise<void> {
    const v = await this.dev.read("online");
    if (v === undefined) return;
    const online = v.trim() !== "0";
    if (online !== this.handshakeState.online) await this.step({ kind: "onlineChanged", online });
  }

  /** Hotplug's part: `params` (+ `mode`) → open the store → vbdOpened. */
  private async maybeOpen(): Promise<void> {
    if (this.store !== undefined || this.opening || this.handshakeState.phase === "removed") return;
    const params = await this.dev.read("params");
    if (params === undefined || params === "") return;
    const modeText = (await this.dev.read("mode")) ?? "w";
    let mode: "r" | "w";
    try {
      mode = parseMode(modeText) === "r" ? "r" : "w";
    } catch {
      await this.dev.devFatal(-XenErrno.EINVAL, "bad mode %s", modeText);
      return;
    }
    this.opening = true;
    try {
      this.store = await this.driver.opts.openStore(params, mode);
      this.opened = { params, mode };
    } catch (e) {
      this.log.error({ err: e, params }, "opening the vbd failed");
      // What Linux's hotplug script reports to libxl (which waits for hotplug-status).
      await this.dev.write("hotplug-status", "error").catch(() => {});
      await this.dev.devFatal(
        -XenErrno.ENOENT,
        "creating vbd structure: %s",
        e instanceof Error ? e.message : String(e),
      );
      return;
    } finally {
      this.opening = false;
    }
    this.storeReadonly = mode === "r" || this.store.info.readonly;
    const info = this.storeReadonly ? { ...this.store.info, readonly: true } : this.store.info;
    // The toolstack's per-device discard-enable (libxl writes it; Linux xen_blkbk_discard reads it).
    if ((await this.dev.read("discard-enable"))?.trim() === "0")
      this.handshakeState = {
        ...this.handshakeState,
        config: { ...this.handshakeState.config, discardEnable: false },
      };
    const removable = (await this.dev.read("removable")) === "1";
    const cdrom = (await this.dev.read("device-type")) === "cdrom";
    await this.step({ kind: "vbdOpened", vbd: { info, removable, cdrom } });
    // The hotplug script's success, as libxl waits for it before it calls the device added.
    await this.dev.write("hotplug-status", "connected").catch(() => {});
  }

  /** frontend_changed(): read the frontend's directory (queue-N/ too) and feed the reducer. */
  otherendChanged(state: XenbusState): Promise<void> {
    return this.enqueue(async () => {
      // The frontend is going away: stop consuming and let what is in flight finish (the unmap and
      // unbind follow with the reducer's disconnectRings at Closed). A backend-initiated Closing
      // (online=0) keeps serving until the frontend answers, as Linux does.
      if (state === XenbusState.Closing || state === XenbusState.Closed) this.pauseRings();
      const keys = await readDirectory(this.driver.opts.store, this.dev.otherend);
      await this.step({ kind: "frontendChanged", state, keys });
    });
  }

  private async effect(e: BlkbackEffect): Promise<void> {
    const dev = this.dev;
    switch (e.kind) {
      case "write":
        await dev.write(e.path, e.value);
        return;
      case "remove":
        await removeNode(dev.store, dev.path(e.path));
        return;
      case "transaction":
        await dev.transaction(async (tx) => {
          for (const op of e.ops) await applyOp(tx, dev.path(op.path), op);
        });
        return;
      case "switchState":
        await dev.switchState(e.state);
        if (e.state === XenbusState.Connected) for (const q of this.queues) q.ring.kick();
        return;
      case "fatal":
        this.log.warn({ err: e.err }, e.msg);
        await dev.devError(-e.err, "%s", e.msg);
        return;
      case "connectRings":
        await this.connectRings(e);
        return;
      case "disconnectRings":
        await this.disconnectRings();
        return;
      case "unregister":
        await this.teardown();
        return;
    }
  }

  private pauseRings(): void {
    for (const q of this.queues) void q.ring.stop();
  }

  private limits(): BlkifLimits {
    const info = this.handshakeState.vbd?.info ?? this.store!.info;
    const c = this.handshakeState.config;
    return {
      sectors: info.sectors,
      sectorSize: info.sectorSize,
      readonly: this.storeReadonly || info.readonly,
      maxIndirectSegments: c.maxIndirectSegments,
      flush: info.flush,
      barrier: info.flush,
      discard: c.discardEnable !== false && info.discard,
      discardSecure: info.discardSecure,
    };
  }

  /** connect_ring + xen_blkif_map: map each queue's ring, bind its event channel, start serving. */
  private async connectRings(r: NegotiatedRings): Promise<void> {
    await this.disconnectRings();
    const hv = this.driver.opts.hv;
    const front = this.dev.otherendId;
    // The frontend may be quicker than hotplug: try `params` once more before giving up.
    if (this.store === undefined) await this.maybeOpen();
    if (this.store === undefined) {
      await this.step({ kind: "ringsMapFailed", err: XenErrno.ENODEV, msg: "no vbd opened" });
      return;
    }
    const nrPages = 2 ** r.ringPageOrder;
    for (let qi = 0; qi < r.queues.length; qi++) {
      const q = r.queues[qi]!;
      const m = await mapRing(hv, front, q.refs);
      if (!("handles" in m)) {
        await this.disconnectRings();
        await this.step({
          kind: "ringsMapFailed",
          err: XenErrno.ENOMEM,
          msg: `mapping in shared page ${q.refs[m.failedIndex] ?? "?"} from domain ${front} (status ${m.status})`,
        });
        return;
      }
      if (m.view === undefined) {
        await unmapRing(hv, m.handles);
        await this.disconnectRings();
        await this.step({
          kind: "ringsMapFailed",
          err: XenErrno.EIO,
          msg: "ring pages mapped without a view",
        });
        return;
      }
      const ev = await hv.evtchnBindInterdomain(front, q.evtchn);
      if (ev.rc !== 0) {
        await unmapRing(hv, m.handles);
        await this.disconnectRings();
        await this.step({
          kind: "ringsMapFailed",
          err: -ev.rc,
          msg: `binding to event channel ${q.evtchn} from domain ${front}`,
        });
        return;
      }
      const threads = this.driver.opts.queueThreads;
      const opened = this.opened;
      let threadVcpu =
        threads && opened && hv.evtchnBindVcpu ? threads.vcpuFor(qi, opened.params) : undefined;
      if (threadVcpu !== undefined && hv.evtchnBindVcpu) {
        const rc = await hv.evtchnBindVcpu(ev.port, threadVcpu);
        if (rc !== 0) {
          // dom0 has no such vCPU (hypervisor dom0Vcpus): serve the queue here
          this.log.warn({ rc, port: ev.port, vcpu: threadVcpu }, "evtchn bind_vcpu to a queue thread failed");
          threadVcpu = undefined;
        }
      }
      if (threadVcpu === undefined && hv.evtchnBindVcpu) {
        const rc = await hv.evtchnBindVcpu(ev.port, this.driver.vcpu);
        if (rc !== 0) this.log.warn({ rc, port: ev.port }, "evtchn bind_vcpu failed");
      }
      const info = (this.infos[qi] ??= new QueueInfo(
        this.dev.otherendId,
        this.dev.devid,
        this.dev.nodename,
        qi,
      ));
      if (threadVcpu !== undefined && threads && opened) {
        // xen_blkif_schedule on a thread of its own: it opens its own instance of the store
        let remote: BlkbackRemoteRing;
        try {
          remote = await threads.serve(
            {
              frontend: front,
              self: this.driver.opts.self ?? 0,
              device: `vbd/${front}/${this.dev.devid}`,
              queue: qi,
              frames: [...m.view.frames],
              nrPages,
              abi: r.abi,
              port: ev.port,
              params: opened.params,
              mode: opened.mode,
              limits: this.limits(),
              persistent: r.persistent,
              ...(this.driver.opts.maxPersistentGrants !== undefined
                ? { maxPersistentGrants: this.driver.opts.maxPersistentGrants }
                : {}),
            },
            (err, msg) => {
              void this.enqueue(() => this.dev.devFatal(err, "%s", msg));
            },
          );
        } catch (e) {
          await unmapRing(hv, m.handles);
          await hv.evtchnClose(ev.port);
          await this.disconnectRings();
          await this.step({
            kind: "ringsMapFailed",
            err: XenErrno.EIO,
            msg: `starting queue ${qi}'s thread: ${e instanceof Error ? e.message : String(e)}`,
          });
          return;
        }
        this.queues.push({ ring: remote, port: ev.port, handles: m.handles, info });
        info.remote = remote;
        continue;
      }
      const stats = info.stats;
      let ring: BlkbackRing;
      try {
        ring = new BlkbackRing({
          hv,
          frontend: front,
          self: this.driver.opts.self ?? 0,
          device: `vbd/${front}/${this.dev.devid}`,
          view: m.view,
          nrPages,
          abi: r.abi,
          port: ev.port,
          store: this.store,
          limits: this.limits(),
          persistent: r.persistent,
          ...(this.driver.opts.maxPersistentGrants !== undefined
            ? { maxPersistentGrants: this.driver.opts.maxPersistentGrants }
            : {}),
          clock: this.driver.opts.clock,
          ...(this.driver.opts.poll ? { poll: this.driver.opts.poll } : {}),
          log: childLogger(this.log, { queue: qi }),
          stats,
          onHalt: (err, msg) => {
            void this.enqueue(() => this.dev.devFatal(err, "%s", msg));
          },
          ...(this.driver.opts.corruptResponse ? { corruptResponse: this.driver.opts.corruptResponse } : {}),
          ...(this.driver.opts.duplicateResponse
            ? { duplicateResponse: this.driver.opts.duplicateResponse }
            : {}),
          ...(this.driver.opts.onResponse
            ? {
                onResponse: (op: number, status: number, secs: number) =>
                  this.driver.opts.onResponse!(info, op, status, secs),
              }
            : {}),
        });
      } catch (e) {
        // BACK_RING_ATTACH over a page whose req_prod is impossible (Linux xen_blkif_map: -EIO).
        await unmapRing(hv, m.handles);
        await hv.evtchnClose(ev.port);
        await this.disconnectRings();
        await this.step({
          kind: "ringsMapFailed",
          err: XenErrno.EIO,
          msg: `bad ring indices: ${e instanceof Error ? e.message : String(e)}`,
        });
        return;
      }
      this.queues.push({ ring, port: ev.port, handles: m.handles, info });
      info.ring = ring;
      this.driver.registerPort(ev.port, ring);
    }
    this.log.info(
      { queues: r.queues.length, order: r.ringPageOrder, persistent: r.persistent, abi: r.abi },
      "rings mapped",
    );
    await this.step({ kind: "ringsMapped" });
  }

  /** xen_blkif_disconnect: stop, wait for in-flight I/O, unmap everything, unbind. Idempotent. */
  private async disconnectRings(): Promise<void> {
    const qs = this.queues;
    this.queues = [];
    for (const i of this.infos) i.ring = undefined;
    for (const q of qs) {
      await q.ring.stop();
      if (q.info.remote === q.ring) q.info.detachRemote();
      this.driver.unregisterPort(q.port);
      const hv = this.driver.opts.hv;
      const rc = await hv.evtchnClose(q.port);
      if (rc !== 0) this.log.warn({ rc, port: q.port }, "evtchn close failed");
      const st = await unmapRing(hv, q.handles);
      if (st !== 0) await this.dev.devError(st, "unmapping ring handles error %d", st);
    }
  }

  private async teardown(): Promise<void> {
    await this.disconnectRings();
    for (const w of this.watches) await w.close().catch(() => {});
    this.watches = [];
    const s = this.store;
    this.store = undefined;
    if (s) await s.close().catch((e: unknown) => this.driver.reportError(e));
  }

  /** The device's directory went away (or the driver closes): tear everything down. */
  close(): Promise<void> {
    return this.enqueue(async () => {
      await this.teardown();
      this.closed = true;
    });
  }
}

/** Removed devices' queues kept for takeGoneRings until an exporter takes them (bounded). */
const MAX_GONE_RINGS = 4096;

/** The vbd backend driver of one domain (normally dom0). */
export class BlkbackDriver {
  private gone: BlkbackRingInfo[] = [];
  readonly config: BlkbackConfig;
  readonly log: DriverLogger;
  readonly vcpu: number;
  /** Each ring's event channel → its kick. */
  private readonly ports = new PortDispatcher();
  private readonly byNode = new Map<string, BlkbackDevice>();
  private probe: XenbusProbe<MemView> | undefined;
  private receiver: BlkbackEventReceiver | undefined;

  private constructor(readonly opts: BlkbackDriverOptions) {
    this.config = Object.freeze({ ...BLKBACK_DRIVER_DEFAULT_CONFIG, ...opts.config });
    this.log = opts.log ?? NULL_LOGGER;
    this.vcpu = opts.vcpu ?? BLKBACK_VCPU;
  }

  /** Starts receiving events and probing; resolves once the devices already present are probed. */
  static async start(opts: BlkbackDriverOptions): Promise<BlkbackDriver> {
    const d = new BlkbackDriver(opts);
    const handler = (port: number): void => {
      d.ports.dispatch(port);
    };
    d.receiver = opts.receiver
      ? opts.receiver(handler)
      : opts.hv.waitForEvents(opts.self ?? 0, handler, {
          vcpu: d.vcpu,
          onError: (err) => d.reportError(err),
        });
    try {
      d.probe = await d.startProbe();
    } catch (e) {
      d.receiver?.close();
      throw e;
    }
    return d;
  }

  private startProbe(): Promise<XenbusProbe<MemView>> {
    const opts = this.opts;
    return XenbusProbe.start<MemView>({
      store: opts.store,
      hypervisor: opts.hv,
      self: opts.self ?? 0,
      side: "backend",
      type: "vbd",
      onlyInitialising: opts.takeOver === false,
      onAdded: async (dev) => {
        const bd = new BlkbackDevice(this, dev);
        this.byNode.set(dev.nodename, bd);
        this.log.info({ nodename: dev.nodename, frontend: dev.otherendId }, "vbd added");
        await bd.probed();
      },
      otherendChanged: (dev, state) => this.byNode.get(dev.nodename)?.otherendChanged(state),
      onRemoved: async (dev) => {
        const bd = this.byNode.get(dev.nodename);
        this.byNode.delete(dev.nodename);
        if (bd) this.gone.push(...bd.ringInfos());
        if (this.gone.length > MAX_GONE_RINGS) this.gone.splice(0, this.gone.length - MAX_GONE_RINGS);
        this.log.info({ nodename: dev.nodename }, "vbd removed");
        await bd?.close();
      },
      onError: (e) => this.reportError(e),
      log: (line) => this.log.warn({}, line),
    });
  }

  /** Devices by backend nodename. */
  get devices(): ReadonlyMap<string, BlkbackDevice> {
    return this.byNode;
  }

  /**
   * The queues of devices removed since the last call (their counters are final), for exporters
   * whose series outlive the device: a vbd that came and went between two scrapes still counts.
   */
  takeGoneRings(): BlkbackRingInfo[] {
    const out = this.gone;
    this.gone = [];
    return out;
  }

  /** Every queue of every device (for metrics). */
  rings(): BlkbackRingInfo[] {
    const out: BlkbackRingInfo[] = [];
    for (const d of this.byNode.values()) out.push(...d.ringInfos());
    return out;
  }

  /** Waits until the probe and every device handled what they have seen so far. */
  async settled(): Promise<void> {
    await this.probe?.settled();
    for (const d of this.byNode.values()) await d.settled();
  }

  reportError(e: unknown): void {
    if (this.opts.onError) this.opts.onError(e);
    else this.log.error({ err: e }, "blkback error");
  }

  registerPort(port: number, ring: BlkbackRing): void {
    this.ports.on(port, () => {
      ring.stats.eventsReceived++;
      ring.kick();
    });
  }

  unregisterPort(port: number): void {
    this.ports.off(port);
  }

  /** Stops probing and serving: every ring drained and unmapped, stores closed. */
  async close(): Promise<void> {
    const p = this.probe;
    this.probe = undefined;
    const devs = [...this.byNode.values()];
    this.byNode.clear();
    for (const d of devs) await d.close();
    await p?.close();
    this.receiver?.close();
    this.receiver = undefined;
  }
}

/** A directory as relative path → value, one level of subdirectories deep (queue-N/...). */
export async function readDirectory(store: XenbusStoreOps, dir: string): Promise<XenstoreValues> {
  const out: Record<string, string> = {};
  for (const k of await lsOrEmpty(store, dir)) {
    const v = await store.tryRead(`${dir}/${k}`);
    if (v !== undefined) out[k] = v;
    if (k.startsWith("queue-")) {
      for (const k2 of await lsOrEmpty(store, `${dir}/${k}`)) {
        const v2 = await store.tryRead(`${dir}/${k}/${k2}`);
        if (v2 !== undefined) out[`${k}/${k2}`] = v2;
      }
    }
  }
  return out;
}

async function removeNode(ops: XenbusStoreOps, path: string): Promise<void> {
  try {
    await ops.rm(path);
  } catch (e) {
    if (xsErrorCode(e) !== "ENOENT") throw e;
  }
}

async function applyOp(ops: XenbusStoreOps, path: string, op: XenstoreOp): Promise<void> {
  if (op.kind === "write") await ops.write(path, op.value);
  else await removeNode(ops, path);
}
