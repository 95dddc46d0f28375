// Test support: one emulated host in this process — a PageStore with the real grant-table and
// event-channel cores (@xensim/gnttab, @xensim/evtchn), a per-domain hypervisor object with
// XenCtrl's method names, and xenstore clients over in-memory transports into the real
// XenstoreEngine. Events are delivered on setImmediate by scanning the domain's 2-level bits.
import { XenErrno } from "@xensim/abi";
import { EventChannels, scanPending } from "@xensim/evtchn";
import { endForeignAccess, GrantTables, grantAccess } from "@xensim/gnttab";
import { type MemView, PageStore } from "@xensim/memory";

const SHARED_INFO_GFN = 0xff;

export class TestHost {
  readonly store: PageStore;
  readonly gt: GrantTables;
  readonly ev: EventChannels;
  private readonly receivers = new Map<number, (port: number) => void>();
  private readonly scheduled = new Set<number>();

  constructor(frames = 32768) {
    this.store = PageStore.create({ frames });
    this.gt = new GrantTables(this.store);
    this.ev = new EventChannels(this.store, { notify: (d) => this.kick(d) });
  }

  createDomain(domid: number, maxPages: number): void {
    this.store.createDomain(domid, { maxPages, privileged: domid === 0 });
    this.gt.initDomain(domid, {});
    const si = this.store.populatePhysmap(domid, SHARED_INFO_GFN, 1);
    if (!si) throw new Error("no shared_info frame");
    this.ev.initDomain(domid, { sharedInfoFrame: si[0]! });
  }

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

/** A domain's XenCtrl look-alike over the TestHost (same method names and results). */
export class TestXc {
  constructor(
    readonly host: TestHost,
    readonly domid: number,
  ) {}
  /** The data-plane port: sends are atomics here, and the peer always receives in this process. */
  kick(port: number): number {
    return this.host.ev.evtchnSend(this.domid, port);
  }
  mayElideKick(): boolean {
    return true;
  }
  waitForEvents(domid: number, handler: (port: number) => void): { close(): void } {
    this.host.receive(domid, handler);
    return { close: () => this.host.receive(domid, undefined) };
  }
  async evtchnSend(port: number): Promise<number> {
    return this.host.ev.evtchnSend(this.domid, port);
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
