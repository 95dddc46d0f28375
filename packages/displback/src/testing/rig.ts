// Test support: dom0 running a DisplbackDriver and a guest running a Displfront over one TestHost,
// with the vdispl directories written as libxl writes them.
import { Displfront, type DisplfrontOptions, type GuestMemory, type GuestPages } from "@xensim/displfront";
import { GrantRefPool, PortDispatcher } from "@xensim/xenbus";
import type { XenstoreClient } from "@xensim/xenstore-client";
import { DisplbackDriver, type DisplbackDriverOptions } from "../driver.js";
import { EngineHub } from "@xensim/xenstore-client";
import { TestHost, TestXc } from "./host.js";

export const GUEST = 7;
export const GUEST2 = 8;

const timer = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
};

/** A guest page allocator handing out gfns upward, reusing freed ones (LIFO), counting what is out. */
export class TestMemory implements GuestMemory {
  next = 0x1000;
  readonly free: number[] = [];
  out = 0;
  constructor(
    private readonly xc: TestXc,
    private readonly domid: number,
  ) {}
  async allocPages(count: number, contiguous: boolean): Promise<GuestPages | number> {
    let gfns: number[];
    if (!contiguous && this.free.length >= count) gfns = this.free.splice(this.free.length - count, count);
    else {
      gfns = Array.from({ length: count }, (_, i) => this.next + i);
      const r = await this.xc.memoryPopulatePhysmap(this.domid, this.next, count, contiguous);
      if (r.rc !== 0) return r.rc;
      this.next += count;
    }
    const view = await this.xc.mapForeignPages(this.domid, gfns);
    if (typeof view === "number") return view;
    this.out += count;
    return { gfns, view };
  }
  freePages(gfns: readonly number[]): void {
    this.out -= gfns.length;
    this.free.push(...gfns);
  }
}

export interface VdisplSpec {
  frontend: number;
  devid?: number;
  beAlloc?: boolean;
  connectors?: { width: number; height: number; id?: string }[];
}

/** The toolstack's part (libxl_vdispl): both directories, state 1, per-connector keys. */
export async function createVdispl(
  xs: XenstoreClient,
  s: VdisplSpec,
): Promise<{ front: string; back: string }> {
  const devid = s.devid ?? 0;
  const front = `/local/domain/${s.frontend}/device/vdispl/${devid}`;
  const back = `/local/domain/0/backend/vdispl/${s.frontend}/${devid}`;
  const conns = s.connectors ?? [{ width: 640, height: 480 }];
  await xs.transaction(async (tx) => {
    const kv: [string, string][] = [
      [`${front}/state`, "1"],
      [`${front}/backend`, back],
      [`${front}/backend-id`, "0"],
      [`${front}/be-alloc`, s.beAlloc ? "1" : "0"],
      [`${back}/state`, "1"],
      [`${back}/frontend`, front],
      [`${back}/frontend-id`, String(s.frontend)],
      [`${back}/online`, "1"],
    ];
    conns.forEach((c, i) => {
      kv.push([`${front}/${i}/resolution`, `${c.width}x${c.height}`]);
      kv.push([`${front}/${i}/unique-id`, c.id ?? `DP-${i + 1}`]);
    });
    for (const [k, v] of kv) await tx.write(k, v);
  });
  return { front, back };
}

export class GuestSide {
  readonly xc: TestXc;
  readonly memory: TestMemory;
  readonly refs = new GrantRefPool(32 * 512 - 8);
  /** The guest's event receiver: each port's handler (displfront subscribes the port it bound). */
  readonly events = new PortDispatcher();
  constructor(
    readonly rig: Rig,
    readonly domid: number,
  ) {
    this.xc = new TestXc(rig.host, domid);
    this.memory = new TestMemory(this.xc, domid);
    rig.host.receive(domid, (p) => {
      this.events.dispatch(p);
    });
  }

  open(nodename: string, options: Partial<DisplfrontOptions> = {}): Promise<Displfront> {
    return Displfront.open({
      store: this.rig.hub.client(0),
      self: this.domid,
      nodename,
      hypervisor: this.xc,
      memory: this.memory,
      events: this.events,
      grantRefs: this.refs,
      timer,
      ...options,
    });
  }
}

export class Rig {
  readonly host: TestHost;
  readonly hub = new EngineHub();
  readonly xs: XenstoreClient = this.hub.client(0);
  readonly xc0: TestXc;
  back!: DisplbackDriver;
  readonly errors: unknown[] = [];

  constructor(frames = 40000) {
    this.host = new TestHost(frames);
    this.host.createDomain(0, 20000);
    this.host.createDomain(GUEST, 12000);
    this.host.createDomain(GUEST2, 4000);
    this.host.gt.setupTable(GUEST, { dom: GUEST, nrFrames: 32 });
    this.xc0 = new TestXc(this.host, 0);
  }

  static async start(options: Partial<DisplbackDriverOptions> = {}): Promise<Rig> {
    const r = new Rig();
    await r.startBackend(options);
    return r;
  }

  async startBackend(options: Partial<DisplbackDriverOptions> = {}): Promise<void> {
    this.back = await DisplbackDriver.start({
      store: this.hub.client(0),
      hv: this.xc0,
      clock: () => performance.now(),
      allocFirstGfn: 0x2000,
      allocMaxPages: 16000,
      timer,
      onError: (e) => this.errors.push(e),
      ...options,
    });
  }

  guest(domid = GUEST): GuestSide {
    return new GuestSide(this, domid);
  }

  /** Grant mappings dom0 holds now (the hypervisor's maptrack). */
  get dom0Mappings(): number {
    return this.host.gt.mappingCount(0);
  }
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
