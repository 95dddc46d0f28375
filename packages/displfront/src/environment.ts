// What displfront needs from its surroundings, as structural interfaces that @xensim/xenctrl's
// XenCtrl (acting as the guest) and the guest runtime's allocator satisfy as they are.
import type { MemView } from "@xensim/memory";
import type { DataPlanePort } from "@xensim/xenbus";

/** The data-plane port (kick, mayElideKick, grant calls; @xensim/xenbus) and the rest displfront calls. */
export interface DisplfrontHypervisor extends DataPlanePort<MemView> {
  /** Grows the grant table when a ref lies past its current frames. */
  gnttabSetupTable?(dom: number, nrFrames: number): Promise<{ status: number; frames: number[] }>;
  /** A view of our own gfns (the pages of a buffer, in buffer order). */
  mapForeignPages(
    domid: number,
    gfns: readonly number[],
    opts?: { readonly?: boolean },
  ): Promise<MemView | number>;
}

/** Pages of the guest's own memory: their gfns (in order) and one view of them. */
export interface GuestPages {
  readonly gfns: readonly number[];
  readonly view: MemView;
}

/** The guest's page allocator (Linux: alloc_page / free_page); @xensim/blkfront's GuestMemory. */
export interface GuestMemory {
  allocPages(count: number, contiguous: boolean): Promise<GuestPages | number>;
  freePages(gfns: readonly number[]): void;
}

/** Where the event channels are delivered: the driver subscribes per port. */
export interface DisplfrontEvents {
  on(port: number, handler: () => void): () => void;
}

/** setTimeout / clearTimeout (the globals satisfy it). */
export interface DisplfrontTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
