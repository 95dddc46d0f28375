// The contract between a block backend (or an NBD export) and the storage behind it.
// Pure types: implementations live in @xensim/blkstore (files, memory, null, modelled array, faults)
// and in @xensim/blkfront (a connected frontend disk is a BlockStore too, so NBD can export it).

/** Sector unit of every BlockIo: blkif's 512-byte sector, whatever the store's own granularity. */
export const BLOCK_SECTOR_BYTES = 512;

export interface BlockStoreInfo {
  /** Capacity in 512-byte sectors (xenstore `sectors`). */
  readonly sectors: number;
  /** Logical sector size the store reports (xenstore `sector-size`), a multiple of 512. */
  readonly sectorSize: number;
  /** Physical sector size (xenstore `physical-sector-size`). */
  readonly physicalSectorSize: number;
  readonly readonly: boolean;
  /** The store has a volatile cache: flush (and FUA) mean something (blkback `feature-flush-cache`). */
  readonly flush: boolean;
  /** Discard/TRIM is supported (`feature-discard`), with its granularity and alignment in bytes. */
  readonly discard: boolean;
  readonly discardGranularity: number;
  readonly discardAlignment: number;
  readonly discardSecure: boolean;
}

/**
 * One I/O. `sector` and `nrSectors` are in 512-byte units. For read and write, `segs` are the byte
 * ranges of the (grant-mapped) pages in request order; their lengths add up to nrSectors × 512.
 * A read fills them; a write reads them and must not keep a reference after `done`.
 * `fua`: the write must be durable before done (blkif BLKIF_OP_WRITE_BARRIER / REQ_FUA);
 * `secure`: a secure discard (BLKIF_DISCARD_SECURE).
 */
export interface BlockIo {
  readonly op: "read" | "write" | "flush" | "discard";
  readonly sector: number;
  readonly nrSectors: number;
  readonly segs: readonly Uint8Array[];
  readonly fua?: boolean;
  readonly secure?: boolean;
  /**
   * Where the data lives in the guest's own memory (Linux: the bio_vec's pages): the guest frame
   * (gfn) of each 4 KiB page of the concatenated `segs`, each page the caller's alone. A frontend
   * that grants per request (no persistent grants) grants these frames themselves — no bounce copy.
   * Stores that do not grant ignore it.
   */
  readonly frames?: readonly number[];
}

/** 0 on success, or a negative errno (-EIO, -EOPNOTSUPP, -EROFS, -ENOSPC …). */
export type BlockIoStatus = number;

export interface BlockStore {
  readonly info: BlockStoreInfo;
  /**
   * Starts one I/O; `done` is called exactly once, possibly synchronously (memory, null) or later.
   * A callback rather than a promise so the per-I/O path allocates nothing it does not need.
   */
  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void;
  /** Completes once every submitted I/O is done; further submits fail with -EIO. */
  close(): Promise<void>;
}

/** Promise helper for callers off the hot path. */
export function submitIo(store: BlockStore, io: BlockIo): Promise<BlockIoStatus> {
  return new Promise((resolve) => store.submit(io, resolve));
}
