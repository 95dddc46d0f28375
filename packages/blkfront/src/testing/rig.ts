// Test support: a host with dom0 (the test backend) and a guest running one Blkfront.
import type { BlkbackConfig, BlkfrontConfig, BlockIo, BlockIoStatus } from "@xensim/blkif";
import type { XenstoreClient } from "@xensim/xenstore-client";
import { Blkfront, type BlkfrontOptions } from "../blkfront.js";
import { GrantRefPool, PortDispatcher } from "@xensim/xenbus";
import { DEFAULT_GRANT_REFS, type GuestMemory, physmapMemory } from "../environment.js";
import { TestBackend, type TestBackendOptions } from "./backend.js";
import { EngineHub } from "@xensim/xenstore-client";
import { createVbd, TestHost, TestXc, type TestXcOptions } from "./host.js";

const line = (lvl: string) => (obj: object, msg: string) => console.log(lvl, msg, JSON.stringify(obj));
const consoleLogger = { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };

export const GUEST = 7;
export const DEVID = 51712;

export interface RigOptions {
  sectors?: number;
  /** Host frames (default 16384 = 64 MiB). */
  frames?: number;
  front?: Partial<BlkfrontConfig>;
  back?: Partial<BlkbackConfig>;
  backend?: Partial<Pick<TestBackendOptions, "readonly" | "flush" | "discard">>;
  xc?: TestXcOptions;
  blkfront?: Partial<BlkfrontOptions>;
}

export class Rig {
  readonly host: TestHost;
  readonly hub = new EngineHub();
  readonly xs: XenstoreClient = this.hub.client(0);
  readonly guestXs: XenstoreClient = this.hub.client(0);
  readonly xc: TestXc;
  readonly dispatcher = new PortDispatcher();
  /** The guest's grant refs and pages, to check that a closed Blkfront gave everything back. */
  readonly refs = new GrantRefPool(DEFAULT_GRANT_REFS);
  pagesOut = 0;
  memory!: GuestMemory;
  backend!: TestBackend;
  front!: Blkfront;
  paths!: { front: string; back: string };
  disk: Uint8Array;

  constructor(readonly options: RigOptions = {}) {
    this.host = new TestHost(options.frames);
    this.host.createDomain(0, 8192);
    this.host.createDomain(GUEST, 12000);
    this.xc = new TestXc(this.host, GUEST, options.xc);
    this.host.receive(GUEST, (p) => this.dispatcher.dispatch(p));
    this.disk = new Uint8Array((options.sectors ?? 4096) * 512);
    const inner = physmapMemory(this.xc, GUEST, { firstGfn: 0x1000, maxPages: 11000 });
    this.memory = {
      allocPages: async (count, contiguous) => {
        const got = await inner.allocPages(count, contiguous);
        if (typeof got !== "number") this.pagesOut += got.gfns.length;
        return got;
      },
      freePages: (gfns) => {
        this.pagesOut -= gfns.length;
        inner.freePages(gfns);
      },
    };
  }

  /** After close: every page and grant ref returned (settles background grant ends first). */
  async assertNoLeaks(): Promise<void> {
    await new Promise((res) => setTimeout(res, 5));
    if (this.pagesOut !== 0) throw new Error(`${this.pagesOut} guest pages not returned`);
    if (this.refs.available !== DEFAULT_GRANT_REFS)
      throw new Error(`${DEFAULT_GRANT_REFS - this.refs.available} grant refs not returned`);
  }

  static async start(options: RigOptions = {}): Promise<Rig> {
    const r = new Rig(options);
    r.paths = await createVbd(r.xs, 0, GUEST, DEVID);
    await r.startBackend();
    r.front = await Blkfront.open({
      store: r.guestXs,
      self: GUEST,
      nodename: r.paths.front,
      hypervisor: r.xc,
      memory: r.memory,
      grantRefs: r.refs,
      events: r.dispatcher,
      ...(process.env.BLKFRONT_DEBUG ? { log: consoleLogger } : {}),
      ...(options.front ? { config: options.front } : {}),
      ...options.blkfront,
    });
    return r;
  }

  async startBackend(): Promise<TestBackend> {
    this.backend = await TestBackend.start({
      host: this.host,
      xs: this.xs,
      domid: 0,
      frontDomid: GUEST,
      nodename: this.paths.back,
      disk: this.disk,
      ...(this.options.back ? { config: this.options.back } : {}),
      ...this.options.backend,
    });
    return this.backend;
  }

  io(io: BlockIo): Promise<BlockIoStatus> {
    return new Promise((resolve) => this.front.submit(io, resolve));
  }

  async write(sector: number, data: Uint8Array, fua = false): Promise<BlockIoStatus> {
    return this.io({ op: "write", sector, nrSectors: data.length / 512, segs: [data], fua });
  }

  async read(sector: number, nrSectors: number): Promise<{ status: BlockIoStatus; data: Uint8Array }> {
    const data = new Uint8Array(nrSectors * 512);
    const status = await this.io({ op: "read", sector, nrSectors, segs: [data] });
    return { status, data };
  }
}

/** Deterministic bytes for (seed, length). */
export function pattern(seed: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function waitUntil(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
