// Helpers shared by the stores: info defaults, bounds and segment checks, copying between segments
// and a flat byte array. Pure (no node:*).
import { BLOCK_SECTOR_BYTES, type BlockIo, type BlockStoreInfo } from "@xensim/blkif";
import { XenErrno } from "@xensim/abi";

export const EIO = -XenErrno.EIO;
export const EROFS = -XenErrno.EROFS;
export const ENOSPC = -XenErrno.ENOSPC;
export const EOPNOTSUPP = -XenErrno.EOPNOTSUPP;
export const EINVAL = -XenErrno.EINVAL;

/** Options every store accepts for the info it reports. */
export interface StoreInfoOptions {
  readonly readonly?: boolean;
  readonly sectorSize?: number;
  readonly physicalSectorSize?: number;
}

export function makeInfo(
  sizeBytes: number,
  options: StoreInfoOptions & { flush: boolean; discard: boolean; discardSecure?: boolean },
): BlockStoreInfo {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes % BLOCK_SECTOR_BYTES !== 0) {
    throw new RangeError(`size ${sizeBytes} is not a non-negative multiple of ${BLOCK_SECTOR_BYTES} bytes`);
  }
  const sectorSize = options.sectorSize ?? BLOCK_SECTOR_BYTES;
  const physicalSectorSize = options.physicalSectorSize ?? sectorSize;
  for (const [n, v] of [
    ["sectorSize", sectorSize],
    ["physicalSectorSize", physicalSectorSize],
  ] as const) {
    if (!Number.isInteger(v) || v < BLOCK_SECTOR_BYTES || v % BLOCK_SECTOR_BYTES !== 0) {
      throw new RangeError(`${n} ${v} is not a positive multiple of ${BLOCK_SECTOR_BYTES}`);
    }
  }
  return Object.freeze({
    sectors: sizeBytes / BLOCK_SECTOR_BYTES,
    sectorSize,
    physicalSectorSize,
    readonly: options.readonly ?? false,
    flush: options.flush,
    discard: options.discard,
    discardGranularity: options.discard ? sectorSize : 0,
    discardAlignment: 0,
    discardSecure: options.discard && (options.discardSecure ?? false),
  });
}

/**
 * Validates an I/O against a store: 0 if it may proceed, else the negative errno to complete it with.
 * Out of range (sector + nrSectors past the end, negative, non-integer) → -EIO (blkback has already
 * rejected such requests; a store that still sees one answers like a disk would);
 * segment lengths that do not add up to nrSectors × 512 → -EIO; write or discard on a read-only
 * store → -EROFS.
 */
export function checkIo(info: BlockStoreInfo, io: BlockIo): number {
  const { sector, nrSectors } = io;
  if (
    !Number.isSafeInteger(sector) ||
    !Number.isSafeInteger(nrSectors) ||
    sector < 0 ||
    nrSectors < 0 ||
    sector + nrSectors > info.sectors
  ) {
    return EIO;
  }
  if (io.op === "read" || io.op === "write") {
    let n = 0;
    const segs = io.segs;
    for (let i = 0; i < segs.length; i++) n += (segs[i] as Uint8Array).length;
    if (n !== nrSectors * BLOCK_SECTOR_BYTES) return EIO;
  }
  if (info.readonly && (io.op === "write" || io.op === "discard")) return EROFS;
  return 0;
}

/** Copies `segs` (in order) into `dst` starting at byte `off`. */
export function gatherInto(dst: Uint8Array, off: number, segs: readonly Uint8Array[]): void {
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as Uint8Array;
    dst.set(s, off);
    off += s.length;
  }
}

/** Fills `segs` (in order) from `src` starting at byte `off`. */
export function scatterFrom(src: Uint8Array, off: number, segs: readonly Uint8Array[]): void {
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as Uint8Array;
    s.set(src.subarray(off, off + s.length));
    off += s.length;
  }
}

/** The first `bytes` bytes of a segment list, as views (no copy). */
export function prefixSegs(segs: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of segs) {
    if (bytes <= 0) break;
    const n = Math.min(bytes, s.length);
    out.push(n === s.length ? s : s.subarray(0, n));
    bytes -= n;
  }
  return out;
}

/** Tracks in-flight I/Os so close() can wait for them. */
export class InFlight {
  private n = 0;
  private waiters: (() => void)[] = [];
  get count(): number {
    return this.n;
  }
  enter(): void {
    this.n++;
  }
  leave(): void {
    if (--this.n === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }
  idle(): Promise<void> {
    if (this.n === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
