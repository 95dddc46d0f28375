// What blkfront needs from its surroundings, as structural interfaces that @xensim/xenctrl's XenCtrl
// satisfies as it is: the data-plane port (kick, map — xenbus's DataPlanePort, one adapter per
// placement) plus grant-table growth; the guest's own memory (populate + map of its gfns); a per-port
// event dispatcher fed by whatever receives the domain's events; a logger.
import { GNTTAB_NR_RESERVED_ENTRIES, XenErrno } from "@xensim/abi";
import type { MemView } from "@xensim/memory";
import type { DataPlanePort } from "@xensim/xenbus";

/** Grant entries per v1 grant frame (4096 / 8). */
export const GRANT_ENTRIES_PER_FRAME = 512;

/**
 * XenCtrl's calls blkfront makes: the data-plane port (a ring push kicks through `kick`, suppressed
 * only when `mayElideKick` allows) and `gnttabSetupTable`, which grows the grant table when a ref
 * lies past its current frames.
 */
export interface BlkfrontHypervisor extends DataPlanePort<MemView> {
  gnttabSetupTable?(dom: number, nrFrames: number): Promise<{ status: number; frames: number[] }>;
  /**
   * gnttabGrantAccess without a promise, where the port can (XenCtrl in the hypervisor's host
   * process): rc 0 / -errno, or undefined when only the async call works. A caller's own page is
   * granted per request (zero copy) only through these.
   */
  gnttabGrantAccessSync?(ref: number, domid: number, gfn: number, readonly: boolean): number | undefined;
  /** gnttabEndAccess without a promise (undefined where gnttabGrantAccessSync is). */
  gnttabEndAccessSync?(ref: number): boolean | undefined;
}

/** Pages of the guest's own memory: their gfns (in order) and one view of them (4096 bytes each). */
export interface GuestPages {
  readonly gfns: readonly number[];
  readonly view: MemView;
}

/** The guest's page allocator (Linux: alloc_pages / free_pages). */
export interface GuestMemory {
  /** `count` pages, adjacent when `contiguous` (ring pages); a negative errno when none. */
  allocPages(count: number, contiguous: boolean): Promise<GuestPages | number>;
  /** Pages no longer used (never called for a page still granted and mapped). */
  freePages(gfns: readonly number[]): void;
}

/** XenCtrl's memory calls (XENMEM_populate_physmap and a view of our own gfns). */
export interface PhysmapHypervisor {
  memoryPopulatePhysmap(
    domid: number,
    gfn: number,
    count: number,
    contiguous?: boolean,
  ): Promise<{ rc: number; frames: number[] }>;
  mapForeignPages(
    domid: number,
    gfns: readonly number[],
    opts?: { readonly?: boolean },
  ): Promise<MemView | number>;
}

export interface PhysmapMemoryOptions {
  /** First gfn this allocator may populate (keep it clear of the guest's other memory). */
  readonly firstGfn: number;
  /** Gfns available from firstGfn (default 65536). */
  readonly maxPages?: number;
}

/**
 * A GuestMemory over XenCtrl: gfns handed out upward from `firstGfn`, populated with
 * memoryPopulatePhysmap and viewed with mapForeignPages(self). Freed gfns stay populated and are
 * reused (single pages first; a contiguous request reuses a freed run of the same length).
 */
export function physmapMemory(hv: PhysmapHypervisor, domid: number, opts: PhysmapMemoryOptions): GuestMemory {
  const limit = opts.firstGfn + (opts.maxPages ?? 65536);
  let next = opts.firstGfn;
  const freeSingles: number[] = [];
  const freeRuns = new Map<number, number[][]>();
  const view = async (gfns: number[]): Promise<GuestPages | number> => {
    const v = await hv.mapForeignPages(domid, gfns);
    return typeof v === "number" ? v : { gfns, view: v };
  };
  return {
    async allocPages(count, contiguous) {
      if (!Number.isInteger(count) || count < 1) return -XenErrno.EINVAL;
      if (contiguous && count > 1) {
        const run = freeRuns.get(count)?.pop();
        if (run) return view(run);
      } else if (freeSingles.length >= count) {
        return view(freeSingles.splice(freeSingles.length - count, count));
      }
      if (next + count > limit) return -XenErrno.ENOMEM;
      const gfn = next;
      const r = await hv.memoryPopulatePhysmap(domid, gfn, count, contiguous);
      if (r.rc !== 0) return r.rc;
      next += count;
      const gfns = Array.from({ length: count }, (_, i) => gfn + i);
      return view(gfns);
    },
    freePages(gfns) {
      if (gfns.length > 1 && gfns.every((g, i) => i === 0 || g === gfns[i - 1]! + 1)) {
        const runs = freeRuns.get(gfns.length) ?? [];
        runs.push([...gfns]);
        freeRuns.set(gfns.length, runs);
      } else freeSingles.push(...gfns);
    },
  };
}

/** Where a ring's event channel is delivered: the driver subscribes per port. */
export interface BlkfrontEvents {
  /** Calls `handler` on every event of `port` until the returned function is called. */
  on(port: number, handler: () => void): () => void;
}

/** Grant-table frames that hold `ref`. */
export function grantFramesFor(ref: number): number {
  return Math.floor(ref / GRANT_ENTRIES_PER_FRAME) + 1;
}

/** Refs a default per-device allocator hands out: 64 grant frames (Xen's default maximum). */
export const DEFAULT_GRANT_REFS = 64 * GRANT_ENTRIES_PER_FRAME - GNTTAB_NR_RESERVED_ENTRIES;
