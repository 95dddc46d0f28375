// A raw image file through node:fs/promises: readv/writev at the I/O's byte offset.
import { open, type FileHandle } from "node:fs/promises";
import {
  BLOCK_SECTOR_BYTES,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
} from "@xensim/blkif";
import {
  checkIo,
  EIO,
  ENOSPC,
  EOPNOTSUPP,
  EROFS,
  InFlight,
  makeInfo,
  type StoreInfoOptions,
} from "./common.js";
import { blockDeviceBytes, type DiskPolicy, openConfined } from "./confine.js";

export interface FileStoreOptions extends StoreInfoOptions {
  readonly path: string;
  /**
   * Size in bytes (multiple of 512). If the file is missing it is created with this size (unless
   * read-only); if it exists and is shorter, it is extended (sparse); if omitted, the file's size
   * (rounded down to a whole sector) is used and the file must exist.
   */
  readonly sizeBytes?: number;
  /** Open O_RDONLY; writes and discards complete with -EROFS. */
  readonly readonly?: boolean;
  /**
   * Discard handling: "zero" (default) writes zeros over the range, so a later read returns zeros
   * (info.discard true); "unsupported" advertises no discard and completes discards with -EOPNOTSUPP.
   */
  readonly discard?: "zero" | "unsupported";
  /** flush → fdatasync (default) or fsync. FUA writes use the same call before completing. */
  readonly sync?: "fdatasync" | "fsync";
  /**
   * Confine the path (see confine.ts): relative to the policy's image directory, never outside it
   * unless allow-listed, checked on the real file system at open; block devices only when allowed.
   * Absent = the path is opened as given (trusted callers: tests, benchmarks).
   */
  readonly policy?: DiskPolicy;
}

const ZERO_CHUNK = 1 << 20;

function errnoOf(e: unknown): number {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return ENOSPC;
  if (code === "EROFS" || code === "EBADF" || code === "EPERM" || code === "EACCES") return EROFS;
  return EIO;
}

/**
 * A raw image file. Flush (and FUA writes, before done) reach fdatasync(2) (or fsync(2)); the store
 * reports info.flush true since the page cache is a volatile cache. Use {@link FileStore.open}.
 */
export class FileStore implements BlockStore {
  readonly info: BlockStoreInfo;
  /** fdatasync/fsync calls made so far (flushes and FUA writes). */
  syncs = 0;
  private readonly inflight = new InFlight();
  private closing: Promise<void> | undefined;
  private zeros: Uint8Array | undefined;

  private constructor(
    private readonly fh: FileHandle,
    info: BlockStoreInfo,
    private readonly discardMode: "zero" | "unsupported",
    private readonly syncMode: "fdatasync" | "fsync",
  ) {
    this.info = info;
  }

  static async open(opts: FileStoreOptions): Promise<FileStore> {
    const ro = opts.readonly ?? false;
    const size = opts.sizeBytes;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0 || size % BLOCK_SECTOR_BYTES !== 0)) {
      throw new RangeError(`FileStore ${opts.path}: sizeBytes ${size} is not a non-negative multiple of 512`);
    }
    let fh: FileHandle;
    if (opts.policy !== undefined) {
      fh = (await openConfined(opts.path, opts.policy, { readonly: ro, create: !ro && size !== undefined }))
        .fh;
    } else
      try {
        fh = await open(opts.path, ro ? "r" : "r+");
      } catch (e) {
        if ((e as { code?: unknown }).code !== "ENOENT" || ro || size === undefined) throw e;
        fh = await open(opts.path, "wx+");
      }
    try {
      const st = await fh.stat();
      const have = st.isBlockDevice() ? await blockDeviceBytes(st) : st.size;
      if (have === undefined) throw new RangeError(`FileStore ${opts.path}: cannot size the block device`);
      let bytes: number;
      if (size === undefined) {
        bytes = have - (have % BLOCK_SECTOR_BYTES);
      } else {
        bytes = size;
        if (have < size) {
          if (ro || st.isBlockDevice())
            throw new RangeError(`FileStore ${opts.path}: ${have} bytes < sizeBytes ${size}`);
          await fh.truncate(size);
        }
      }
      const discardMode = opts.discard ?? "zero";
      const info = makeInfo(bytes, { ...opts, readonly: ro, flush: true, discard: discardMode === "zero" });
      return new FileStore(fh, info, discardMode, opts.sync ?? "fdatasync");
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (this.closing !== undefined) return done(EIO);
    if (io.op === "discard" && this.discardMode === "unsupported") return done(EOPNOTSUPP);
    const err = checkIo(this.info, io);
    if (err !== 0) return done(err);
    this.inflight.enter();
    this.run(io).then(
      (st) => {
        this.inflight.leave();
        done(st);
      },
      (e: unknown) => {
        this.inflight.leave();
        done(errnoOf(e));
      },
    );
  }

  private sync(): Promise<void> {
    this.syncs++;
    return this.syncMode === "fsync" ? this.fh.sync() : this.fh.datasync();
  }

  private async run(io: BlockIo): Promise<number> {
    const pos = io.sector * BLOCK_SECTOR_BYTES;
    const len = io.nrSectors * BLOCK_SECTOR_BYTES;
    switch (io.op) {
      case "read": {
        let got = 0;
        let segs = io.segs as Uint8Array[];
        while (got < len) {
          const { bytesRead } = await this.fh.readv(segs, pos + got);
          if (bytesRead === 0) {
            // Past the end of a file that was shrunk behind our back: the rest reads as zeros.
            for (const s of skipBytes(segs, 0)) s.fill(0);
            break;
          }
          got += bytesRead;
          segs = skipBytes(segs, bytesRead);
        }
        return 0;
      }
      case "write": {
        let put = 0;
        let segs = io.segs as Uint8Array[];
        while (put < len) {
          const { bytesWritten } = await this.fh.writev(segs, pos + put);
          if (bytesWritten === 0) return EIO;
          put += bytesWritten;
          segs = skipBytes(segs, bytesWritten);
        }
        if (io.fua === true) await this.sync();
        return 0;
      }
      case "flush":
        await this.sync();
        return 0;
      case "discard": {
        this.zeros ??= new Uint8Array(ZERO_CHUNK);
        for (let off = 0; off < len;) {
          const n = Math.min(ZERO_CHUNK, len - off);
          const { bytesWritten } = await this.fh.write(this.zeros, 0, n, pos + off);
          if (bytesWritten === 0) return EIO;
          off += bytesWritten;
        }
        return 0;
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.inflight.idle();
      await this.fh.close();
    })();
    return this.closing;
  }
}

/** The segments after the first `n` bytes (views, no copy). */
function skipBytes(segs: Uint8Array[], n: number): Uint8Array[] {
  let i = 0;
  while (i < segs.length && n >= (segs[i] as Uint8Array).length) n -= (segs[i++] as Uint8Array).length;
  const rest = segs.slice(i);
  if (n > 0 && rest.length > 0) rest[0] = (rest[0] as Uint8Array).subarray(n);
  return rest;
}
