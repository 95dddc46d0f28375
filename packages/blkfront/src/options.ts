// The Blkfront driver's public shapes: its options, the notices it sends its subscribers, its
// counters, and the BlockStoreInfo a connected disk's xenstore keys give.
import { VDISK_READONLY } from "@xensim/abi";
import type { BlkfrontConfig, BlkfrontDisk, BlockStoreInfo } from "@xensim/blkif";
import type { DriverLogger, GrantRefAllocator, XenbusStore } from "@xensim/xenbus";
import type { BlkfrontEvents, BlkfrontHypervisor, GuestMemory } from "./environment.js";
import type { BlkfrontTimer } from "./grants.js";
import { SECTOR_BYTES } from "./io.js";
import type { BlkfrontPoll } from "./shadow.js";

export type { BlkfrontPoll } from "./shadow.js";

export interface BlkfrontOptions {
  /**
   * A misbehaving frontend (chaos: ring.request-corrupted): when it answers true for a read or
   * write, garbage goes into the request slot's nr_segments (255, past BLKIF_MAX_SEGMENTS_PER_REQUEST)
   * after the request was written; the backend must answer BLKIF_RSP_ERROR for the id, not crash.
   */
  readonly corruptRequest?: () => boolean;
  /** The guest's xenstore connection. */
  readonly store: XenbusStore;
  /** The guest's domid. */
  readonly self: number;
  readonly hypervisor: BlkfrontHypervisor;
  /** The guest's own pages (ring pages and the bounce pool). */
  readonly memory: GuestMemory;
  /** Delivers the ring event channels. */
  readonly events: BlkfrontEvents;
  /** Negotiation wishes (ring order, queues, indirect segments, persistent grants, ABI). */
  readonly config?: Partial<BlkfrontConfig>;
  /** Grant references (share one per domain); default: a pool of this device's own. */
  readonly grantRefs?: GrantRefAllocator;
  /** Ring requests waiting for a free slot or for a connection before submit fails with -EBUSY (4096). */
  readonly maxQueued?: number;
  /** Bounce pages per ring (default 1024; at least one largest request). */
  readonly maxDataPagesPerRing?: number;
  /** Pages allocated at a time when the bounce pool grows (default 32). */
  readonly poolBatch?: number;
  /**
   * Linux's `trusted` (default true): without persistent grants, an I/O whose BlockIo gives its
   * `frames` has the caller's own pages granted to the backend (zero copy). False: every request
   * goes through bounce pages (XSA-403: nothing of the caller's memory is shared with the backend).
   */
  readonly trusted?: boolean;
  /**
   * Keep looking for responses for `ms` after the last ones (and at least 32 looks, on `defer`
   * turns) before setting rsp_event and sleeping: a backend that keeps answering then never has to
   * wake this thread (blkback's `poll`, the other way). Only where the backend's kicks can be
   * elided (its thread in this host process). Omitted: sleep at once, as Linux's blkfront.
   */
  readonly poll?: BlkfrontPoll;
  /** Start over after the backend went away and came back (default true). */
  readonly autoReconnect?: boolean;
  readonly transactionRetries?: number;
  readonly log?: DriverLogger;
  /**
   * Retries ending grants the backend still maps (Linux's deferred end of foreign access, once a
   * second); without a timer such grants and their pages are leaked for good (counted).
   */
  readonly timer?: BlkfrontTimer;
  /** Delay between retries of deferred grant ends (default 1000 ms). */
  readonly deferredRetryMs?: number;
  /** With a timer: how long close() waits for the backend to follow to Closed (default 10000 ms). */
  readonly closeTimeoutMs?: number;
}

export type BlkfrontNotice =
  | { readonly kind: "connected"; readonly info: BlockStoreInfo; readonly disk: BlkfrontDisk }
  | { readonly kind: "resize"; readonly sectors: number }
  | { readonly kind: "disconnected" }
  | { readonly kind: "closed" }
  | { readonly kind: "error"; readonly err: number; readonly msg: string };

export interface BlkfrontStats {
  /** Ring requests issued and not yet answered. */
  inFlight: number;
  /** Ring requests waiting (ring full, no pages, or disconnected). */
  queued: number;
  /** Caller I/Os accepted by submit. */
  submitted: number;
  /** Caller I/Os completed (each exactly once), and those completed with an error status. */
  completed: number;
  errors: number;
  /** Ring requests put on a ring, and their responses. */
  requests: number;
  responses: number;
  /** Pushes that kicked the backend vs pushes where its req_event said no kick was needed. */
  notificationsSent: number;
  notificationsSuppressed: number;
  /** Ring requests without a response when the backend went away, issued again on the new rings. */
  reissued: number;
  /** Handshakes completed (1 for the first connect). */
  connects: number;
  /** Responses dropped without completing anything (a disconnect drain that met a bad one). */
  staleResponses: number;
  /** Misbehaviour of the backend detected (bad id, duplicate, rsp_prod overflow, wrong op). */
  protocolErrors: number;
  /** Failed attempts to end a grant the backend still mapped. */
  grantsLeaked: number;
  /** Grants waiting to be ended (deferred; their pages are not reused until then). */
  grantsDeferred: number;
  /** Grants made for data pages (persistent: once per page; else once per segment). */
  dataGrants: number;
  /** Ring requests whose data pages were the caller's own, granted for the request (no bounce copy). */
  zeroCopyRequests: number;
}

/** The BlockStoreInfo before the first connect (no disk yet). */
export const EMPTY_INFO: BlockStoreInfo = Object.freeze({
  sectors: 0,
  sectorSize: SECTOR_BYTES,
  physicalSectorSize: SECTOR_BYTES,
  readonly: false,
  flush: false,
  discard: false,
  discardGranularity: 0,
  discardAlignment: 0,
  discardSecure: false,
});

/** The BlockStoreInfo of a connected disk (xenstore `sectors`, `sector-size`, `info`, features). */
export function blockStoreInfo(disk: BlkfrontDisk): BlockStoreInfo {
  return {
    sectors: disk.sectors,
    sectorSize: disk.sectorSize,
    physicalSectorSize: disk.physicalSectorSize,
    readonly: (disk.info & VDISK_READONLY) !== 0,
    flush: disk.flush || disk.barrier,
    discard: disk.discard,
    discardGranularity: disk.discardGranularity,
    discardAlignment: disk.discardAlignment,
    discardSecure: disk.discardSecure,
  };
}
