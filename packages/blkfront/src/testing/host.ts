// Test support: one emulated host in this process — a PageStore with the real grant-table and
// event-channel cores (@xensim/gnttab, @xensim/evtchn) — and a per-domain hypervisor object with
// XenCtrl's method names, plus xenstore: XenstoreClients over in-memory transports into the real
// XenstoreEngine. Events are delivered on setImmediate by scanning the domain's 2-level bits.
import { XenErrno } from "@xensim/abi";
import { EventChannels, scanPending } from "@xensim/evtchn";
import { endForeignAccess, GrantTables, grantAccess } from "@xensim/gnttab";
import { type MemView, PageStore } from "@xensim/memory";
import type { XenstoreClient } from "@xensim/xenstore-client";
import type { BlkfrontHypervisor, PhysmapHypervisor } from "../environment.js";

const SHARED_INFO_GFN = 0xff;

export class TestHost {
  readonly store: PageStore;
  readonly gt: GrantTables;
  readonly ev: EventChannels;
  private readonly receivers = new Map<number, (port: number) => void>();
  private readonly scheduled = new Set<number>();

  constructor(frames = 16384) {
    this.store = PageStore.create({ frames });
    this.gt = new GrantTables(this.store);
    this.ev = new EventChannels(this.store, { notify: (d) => this.kick(d) });
  }

  createDomain(domid: number, maxPages = 8192): void {
    this.store.createDomain(domid, { maxPages, privileged: domid === 0 });
    this.gt.initDomain(domid, {});
    const si = this.store.populatePhysmap(domid, SHARED_INFO_GFN, 1);
    if (!si) throw new Error("no shared_info frame");
    this.ev.initDomain(domid, { sharedInfoFrame: si[0]! });
  }

  /** The domain's event receiver (one per domain, as XenCtrl.waitForEvents on vCPU 0). */
  receive(domid: number, handler: ((port: number) => void) | undefined): void {
    if (handler) this.receivers.set(domid, handler);
    else this.receivers.delete(domid);
    this.kick(domid);
  }

  private kick(domid: number): void {
    if (this.scheduled.has(domid)) return;
    this.scheduled.add(domid);
    setImmediate(() => {
      this.scheduled.delete(domid);
      const h = this.receivers.get(domid);
      if (h) scanPending(this.ev.sharedInfo(domid), 0, h);
    });
  }
}

export interface TestXcOptions {
  /** false: behave as XenCtrl across host processes (no kick suppression: every push kicks). */
  kickSuppression?: boolean;
}

/** A domain's XenCtrl look-alike over the TestHost (same method names and results). */
export class TestXc implements BlkfrontHypervisor, PhysmapHypervisor {
  sends = 0;
  private readonly kickSuppression: boolean;

  constructor(
    readonly host: TestHost,
    readonly domid: number,
    opts: TestXcOptions = {},
  ) {
    this.kickSuppression = opts.kickSuppression ?? true;
  }

  mayElideKick(_port: number): boolean {
    return this.kickSuppression;
  }

  kick(port: number): number {
    this.sends++;
    return this.host.ev.evtchnSend(this.domid, port);
  }

  /** The domain's event receiver (XenCtrl.waitForEvents on vCPU 0). */
  waitForEvents(domid: number, handler: (port: number) => void): { close(): void } {
    this.host.receive(domid, handler);
    return { close: () => this.host.receive(domid, undefined) };
  }

  async evtchnSend(port: number): Promise<number> {
    return this.kick(port);
  }
  async evtchnAllocUnbound(dom: number, remoteDom: number): Promise<{ rc: number; port: number }> {
    return this.host.ev.allocUnbound(this.domid, { dom, remoteDom });
  }
  async evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<{ rc: number; port: number }> {
    return this.host.ev.bindInterdomain(this.domid, { remoteDom, remotePort });
  }
  async evtchnClose(port: number): Promise<number> {
    return this.host.ev.evtchnClose(this.domid, port);
  }
  async gnttabGrantAccess(ref: number, domid: number, gfn: number, readonly: boolean): Promise<number> {
    try {
      grantAccess(this.host.gt.sharedView(this.domid), ref, domid, gfn, readonly);
      return 0;
    } catch {
      return -XenErrno.EINVAL;
    }
  }
  /** XenCtrl's synchronous grant in the hypervisor's host process (zero copy). */
  gnttabGrantAccessSync(ref: number, domid: number, gfn: number, readonly: boolean): number {
    return this.host.gt.grantAccessOwn(this.domid, ref, domid, gfn, readonly) ? 0 : -XenErrno.EINVAL;
  }
  gnttabEndAccessSync(ref: number): boolean {
    return this.host.gt.endAccessOwn(this.domid, ref);
  }
  async gnttabEndAccess(ref: number): Promise<boolean> {
    try {
      return endForeignAccess(this.host.gt.sharedView(this.domid), ref);
    } catch {
      return false;
    }
  }
  async gnttabSetupTable(dom: number, nrFrames: number): Promise<{ status: number; frames: number[] }> {
    return this.host.gt.setupTable(this.domid, { dom, nrFrames });
  }
  async gnttabMapGrantRefs(
    dom: number,
    refs: readonly number[],
    flags: number,
  ): Promise<{ results: { status: number; handle: number }[]; view: MemView | undefined }> {
    return this.host.gt.mapGrantRefs(this.domid, dom, refs, flags);
  }
  async gnttabUnmap(handles: readonly number[]): Promise<number[]> {
    return handles.map((handle) => this.host.gt.unmapGrantRef(this.domid, { handle }));
  }
  async memoryPopulatePhysmap(
    domid: number,
    gfn: number,
    count: number,
    contiguous = false,
  ): Promise<{ rc: number; frames: number[] }> {
    const frames = this.host.store.populatePhysmap(domid, gfn, count, contiguous);
    return frames ? { rc: 0, frames } : { rc: -XenErrno.ENOMEM, frames: [] };
  }
  async mapForeignPages(domid: number, gfns: readonly number[]): Promise<MemView | number> {
    return this.host.store.viewOfGfns(domid, gfns) ?? -XenErrno.EINVAL;
  }
}

/** The toolstack's part of a vbd (fact sheet §2.4): both directories, state 1, cross links. */
export async function createVbd(
  xs: XenstoreClient,
  backDom: number,
  frontDom: number,
  devid: number,
): Promise<{ front: string; back: string }> {
  const front = `/local/domain/${frontDom}/device/vbd/${devid}`;
  const back = `/local/domain/${backDom}/backend/vbd/${frontDom}/${devid}`;
  await xs.transaction(async (tx) => {
    const keys: [string, string][] = [
      [`${front}/state`, "1"],
      [`${front}/backend`, back],
      [`${front}/backend-id`, String(backDom)],
      [`${front}/virtual-device`, String(devid)],
      [`${back}/state`, "1"],
      [`${back}/frontend`, front],
      [`${back}/frontend-id`, String(frontDom)],
      [`${back}/online`, "1"],
    ];
    for (const [k, v] of keys) await tx.write(k, v);
  });
  return { front, back };
}
