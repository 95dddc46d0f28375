// What displback needs from its surroundings, as structural interfaces that @xensim/xenctrl's
// XenCtrl satisfies as it is: the xenbus calls (grant map/unmap, event channels), the kick, the
// receiver of dom0's events on displback's vCPU, and — for backend allocation — pages of dom0's own
// memory (populate + map) and grants from dom0's table.
import type { MemView } from "@xensim/memory";
import type { DataPlanePort } from "@xensim/xenbus";

export interface DisplbackEventReceiver {
  close(): void;
}

/**
 * The data-plane port (kick, mayElideKick, grant maps: one adapter per placement, @xensim/xenbus)
 * and the rest of what displback calls.
 */
export interface DisplbackHypervisor extends DataPlanePort<MemView> {
  /** EVTCHNOP_bind_vcpu (dom0's services each own a vCPU). */
  evtchnBindVcpu?(port: number, vcpu: number): Promise<number>;
  waitForEvents(
    domid: number,
    handler: (port: number) => void,
    opts?: { vcpu?: number; onError?: (err: unknown, port: number) => void },
  ): DisplbackEventReceiver;
  /** Grows our grant table (backend allocation grants refs past its current frames). */
  gnttabSetupTable?(dom: number, nrFrames: number): Promise<{ status: number; frames: number[] }>;
  /** XENMEM_populate_physmap of our own gfns (backend allocation). */
  memoryPopulatePhysmap(
    domid: number,
    gfn: number,
    count: number,
    contiguous?: boolean,
  ): Promise<{ rc: number; frames: number[] }>;
  /** A view of our own gfns. */
  mapForeignPages(
    domid: number,
    gfns: readonly number[],
    opts?: { readonly?: boolean },
  ): Promise<MemView | number>;
}

/** setTimeout / clearTimeout (the globals satisfy it). */
export interface DisplbackTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Monotonic milliseconds (performance.now in the service). */
export type DisplbackClock = () => number;
