// What blkback needs from its surroundings — the hypervisor's data-plane port, the storage, the
// clock and the log — as structural interfaces: the XenCtrl of @xensim/xenctrl satisfies
// BlkbackHypervisor as it is, so this protocol package never imports it (STYLE item 1).
import type { BlockStore } from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import type { DataPlanePort } from "@xensim/xenbus";

/** A registered event receiver (XenCtrl's EvtchnPort). */
export interface BlkbackEventReceiver {
  close(): void;
}

/**
 * The hypervisor calls of blkback: the data-plane port (kick, grant map/unmap of rings and data
 * pages — xenbus's DataPlanePort, one adapter per placement), event-channel binding and the
 * receiver. Results are Xen's: rc 0 / -errno, GNTST_* statuses.
 */
export interface BlkbackHypervisor extends DataPlanePort<MemView> {
  /** EVTCHNOP_bind_vcpu: deliver `port` to `vcpu` (dom0's services each own a vCPU). */
  evtchnBindVcpu?(port: number, vcpu: number): Promise<number>;
  /** Receive `domid`'s events on `opts.vcpu`: `handler(port)` once per pending edge. */
  waitForEvents(
    domid: number,
    handler: (port: number) => void,
    opts?: { vcpu?: number; onError?: (err: unknown, port: number) => void },
  ): BlkbackEventReceiver;
  /**
   * This host's page store: segments of mapped pages are handed to the block store as zero-copy
   * byte ranges of `u8` (`view.frames` gives the frame; across host processes the frames are this
   * host's replicas). Without it every segment goes through a bounce buffer and `MemView.read/write`.
   */
  readonly store?:
    | {
        readonly u8: Uint8Array;
        /** [offset, offset+length) of `frame` was written (for other host processes' replicas). */
        markWritten?(frame: number, offset: number, length: number): void;
      }
    | undefined;
  /**
   * One ref mapped without a promise where the port can (the hypervisor in this host process): the
   * maptrack handle (≥ 0), a GNTST_* status (< 0), or undefined when only gnttabMapGrantRefs works
   * (elsewhere, or grant faults armed). The frame is then `gnttabLastMappedFrame`.
   */
  gnttabMapGrantRefSync?(dom: number, ref: number, flags: number): number | undefined;
  readonly gnttabLastMappedFrame?: number;
  /** One handle unmapped without a promise: its GNTST_* status, or undefined where not possible. */
  gnttabUnmapGrantRefSync?(handle: number): number | undefined;
}

/** Opens the storage named by the backend's `params` (read-only when `mode` is "r"). */
export type BlkbackStoreOpener = (params: string, mode: "r" | "w") => Promise<BlockStore>;

/** Monotonic milliseconds (performance.now in the service, a virtual clock in tests). */
export type BlkbackClock = () => number;
