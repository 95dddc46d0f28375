// The plumbing a guest kernel has before any driver: its hypercall interface (XenCtrl acting as the
// guest), one event receiver per vCPU dispatching per port (a port belongs to one driver), a page
// allocator over its RAM, a grant-reference allocator shared by its frontends, and xenstore through
// its store ring page and event channel (as a domU's xenbus does).
import { XenErrno } from "@xensim/abi";
import type { BlkfrontConfig } from "@xensim/blkif";
import {
  Blkfront,
  type BlkfrontOptions,
  type BlkfrontProbe,
  type GuestMemory,
  type GuestPages,
  probeBlkfronts,
} from "@xensim/blkfront";
import type { EventBus } from "@xensim/bus";
import { type DriverLogger, GrantRefPool, PortDispatcher } from "@xensim/xenbus";
import type { EvtchnPort, XenCtrl } from "@xensim/xenctrl";
import { XenstoreClient, XsRingTransport } from "@xensim/xenstore-client";

export interface GuestKernelOptions {
  domid: number;
  /** XenCtrl acting as this guest (domid = the guest's), in the hypervisor's host process. */
  xc: XenCtrl;
  /** Wake-ups over the bus as well as Atomics (when the other ends live in other processes). */
  bus?: EventBus;
  /** The guest's RAM as the toolstack populated it: gfns [0, ramPages). */
  ramPages: number;
  /** Gfns below this are the kernel's own (store page, …); the allocator starts here (default 256). */
  firstFreeGfn?: number;
  /** Rescan period of the event receiver, ms (events are hints; default 100). */
  slowScanMs?: number;
}

/**
 * A page allocator over gfns the toolstack already populated (Linux's page allocator: the RAM is
 * there, drivers take pages of it). Views come from mapping our own gfns.
 */
export class RamAllocator implements GuestMemory {
  private next: number;
  private readonly freeSingles: number[] = [];
  private readonly freeRuns = new Map<number, number[][]>();

  constructor(
    private readonly xc: Pick<XenCtrl, "mapForeignPages">,
    private readonly domid: number,
    firstGfn: number,
    private readonly endGfn: number,
  ) {
    this.next = firstGfn;
  }

  get freePageCount(): number {
    return this.endGfn - this.next + this.freeSingles.length;
  }

  async allocPages(count: number, contiguous: boolean): Promise<GuestPages | number> {
    if (!Number.isInteger(count) || count < 1) return -XenErrno.EINVAL;
    let gfns: number[] | undefined;
    if (contiguous && count > 1) gfns = this.freeRuns.get(count)?.pop();
    else if (this.freeSingles.length >= count)
      gfns = this.freeSingles.splice(this.freeSingles.length - count, count);
    if (!gfns) {
      if (this.next + count > this.endGfn) return -XenErrno.ENOMEM;
      gfns = Array.from({ length: count }, (_, i) => this.next + i);
      this.next += count;
    }
    const view = await this.xc.mapForeignPages(this.domid, gfns);
    if (typeof view === "number") {
      this.freePages(gfns);
      return view;
    }
    return { gfns, view };
  }

  freePages(gfns: readonly number[]): void {
    if (gfns.length > 1 && gfns.every((g, i) => i === 0 || g === gfns[i - 1]! + 1)) {
      const runs = this.freeRuns.get(gfns.length) ?? [];
      runs.push([...gfns]);
      this.freeRuns.set(gfns.length, runs);
    } else this.freeSingles.push(...gfns);
  }
}

export class GuestKernel {
  readonly domid: number;
  readonly xc: XenCtrl;
  /** Per-port dispatch of the domain's events (vCPU 0). */
  readonly events = new PortDispatcher();
  readonly memory: RamAllocator;
  private refs: GrantRefPool | undefined;
  /** One grant-reference allocator for the whole domain (one grant table); made on first use. */
  get grantRefs(): GrantRefPool {
    this.refs ??= new GrantRefPool(32 * 512 - 8);
    return this.refs;
  }
  /** Events that arrived for a port nobody listens on. */
  strayEvents = 0;
  private readonly receiver: EvtchnPort;
  private readonly closers: Array<() => unknown> = [];

  constructor(options: GuestKernelOptions) {
    this.domid = options.domid;
    this.xc = options.xc;
    this.memory = new RamAllocator(options.xc, options.domid, options.firstFreeGfn ?? 256, options.ramPages);
    this.receiver = options.xc.waitForEvents(
      options.domid,
      (port) => {
        if (!this.events.dispatch(port)) this.strayEvents++;
      },
      { slowScanMs: options.slowScanMs ?? 100, wake: options.bus ? "both" : "atomics" },
    );
  }

  /**
   * xenstore through the store page and event channel the toolstack gave this domain
   * (start_info's store_mfn / store_evtchn): relative paths are relative to our home.
   */
  async connectXenstore(storeGfn: number, storePort: number): Promise<XenstoreClient> {
    const page = await this.xc.mapForeignPages(this.domid, [storeGfn]);
    if (typeof page === "number") throw new Error(`store page gfn ${storeGfn}: rc ${page}`);
    const transport = new XsRingTransport({
      page,
      notify: () => this.xc.evtchnNotify(storePort),
      subscribe: (kick) => this.events.on(storePort, kick),
    });
    const client = new XenstoreClient(transport);
    this.closers.push(() => client.close());
    return client;
  }

  /**
   * blkfront for the vbd at `device/vbd/<devid>` (its directories written by the toolstack): opens it
   * and starts the handshake; `whenConnected()` on the result waits for Connected.
   */
  async openBlkfront(
    xs: XenstoreClient,
    devid: number,
    opts: { config?: Partial<BlkfrontConfig>; maxDataPagesPerRing?: number; log?: DriverLogger } = {},
  ): Promise<Blkfront> {
    const front = await Blkfront.open({
      store: xs,
      self: this.domid,
      nodename: `/local/domain/${this.domid}/device/vbd/${devid}`,
      hypervisor: this.xc,
      memory: this.memory,
      events: this.events,
      grantRefs: this.grantRefs,
      timer: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      ...(opts.config ? { config: opts.config } : {}),
      ...(opts.maxDataPagesPerRing ? { maxDataPagesPerRing: opts.maxDataPagesPerRing } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.closers.push(() => front.close());
    return front;
  }

  /**
   * Discovery under `device/vbd` (Linux xenbus_probe_frontend): every vbd there now or later gets a
   * Blkfront (handshake started) passed to `onBlkfront`; `onRemoved` runs after its directory went.
   * The drivers are not closed by `close()` (the caller owns them: close each, then the probe).
   */
  async probeBlkfronts(
    xs: XenstoreClient,
    opts: {
      config?: Partial<BlkfrontConfig>;
      maxDataPagesPerRing?: number;
      log?: DriverLogger;
      closeTimeoutMs?: number;
      /** Chaos: a misbehaving frontend (BlkfrontOptions.corruptRequest). */
      corruptRequest?: () => boolean;
      onBlkfront?: (b: Blkfront) => unknown;
      onRemoved?: (b: Blkfront) => unknown;
    } = {},
  ): Promise<BlkfrontProbe> {
    return probeBlkfronts({
      ...this.blkfrontOptions(xs, opts),
      ...(opts.onBlkfront ? { onBlkfront: opts.onBlkfront } : {}),
      ...(opts.onRemoved ? { onRemoved: opts.onRemoved } : {}),
    });
  }

  private blkfrontOptions(
    xs: XenstoreClient,
    opts: {
      config?: Partial<BlkfrontConfig>;
      maxDataPagesPerRing?: number;
      log?: DriverLogger;
      closeTimeoutMs?: number;
      corruptRequest?: () => boolean;
    },
  ): BlkfrontOptions {
    return {
      store: xs,
      self: this.domid,
      hypervisor: this.xc,
      memory: this.memory,
      events: this.events,
      grantRefs: this.grantRefs,
      timer: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      ...(opts.config ? { config: opts.config } : {}),
      ...(opts.maxDataPagesPerRing ? { maxDataPagesPerRing: opts.maxDataPagesPerRing } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.closeTimeoutMs !== undefined ? { closeTimeoutMs: opts.closeTimeoutMs } : {}),
      ...(opts.corruptRequest ? { corruptRequest: opts.corruptRequest } : {}),
    };
  }

  /** Registers something to close (a frontend, an export) before the receiver stops. */
  onClose(fn: () => unknown): void {
    this.closers.push(fn);
  }

  /**
   * The domain is gone (destroyed, or its kernel stopped elsewhere): stop receiving events without
   * closing anything through xenstore (nobody would answer).
   */
  abandon(): void {
    this.closers.length = 0;
    this.receiver.close();
  }

  async close(): Promise<void> {
    for (const c of this.closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // closing anyway
      }
    }
    this.receiver.close();
  }
}
