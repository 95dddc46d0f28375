import {
  BLOCK_SECTOR_BYTES,
  type BlockIo,
  type BlockIoStatus,
  type BlockStore,
  type BlockStoreInfo,
} from "@xensim/blkif";
import { checkIo, EIO, gatherInto, makeInfo, scatterFrom, type StoreInfoOptions } from "./common.js";

export interface MemoryStoreOptions extends StoreInfoOptions {
  /** Size of a fresh zeroed store; ignored when `buffer` is given. */
  readonly sizeBytes?: number;
  /** Existing bytes to serve (not copied): a Uint8Array or a SharedArrayBuffer. */
  readonly buffer?: Uint8Array | SharedArrayBuffer;
}

/**
 * Bytes in a Uint8Array (or a SharedArrayBuffer, so another thread can see them). Completes
 * synchronously. Flush is a no-op (no volatile cache: info.flush is false); discard zero-fills.
 */
export class MemoryStore implements BlockStore {
  readonly info: BlockStoreInfo;
  /** The backing bytes (live view). */
  readonly bytes: Uint8Array;
  private closed = false;

  constructor(opts: MemoryStoreOptions) {
    if (opts.buffer !== undefined) {
      this.bytes = opts.buffer instanceof Uint8Array ? opts.buffer : new Uint8Array(opts.buffer);
    } else {
      if (opts.sizeBytes === undefined) throw new TypeError("MemoryStore needs sizeBytes or buffer");
      this.bytes = new Uint8Array(opts.sizeBytes);
    }
    this.info = makeInfo(this.bytes.length, { ...opts, flush: false, discard: true, discardSecure: true });
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (this.closed) return done(EIO);
    const err = checkIo(this.info, io);
    if (err !== 0) return done(err);
    const off = io.sector * BLOCK_SECTOR_BYTES;
    switch (io.op) {
      case "read":
        scatterFrom(this.bytes, off, io.segs);
        break;
      case "write":
        gatherInto(this.bytes, off, io.segs);
        break;
      case "discard":
        this.bytes.fill(0, off, off + io.nrSectors * BLOCK_SECTOR_BYTES);
        break;
      case "flush":
        break;
    }
    done(0);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
