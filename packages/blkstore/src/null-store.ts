import type { BlockIo, BlockIoStatus, BlockStore, BlockStoreInfo } from "@xensim/blkif";
import { checkIo, EIO, makeInfo, type StoreInfoOptions } from "./common.js";

export interface NullStoreOptions extends StoreInfoOptions {
  readonly sizeBytes: number;
  /**
   * Fill every read's buffers with zeros (default false: as Linux's null_blk, a read completes
   * without touching its buffers, which keep what the reader had in them). For tests that check
   * the bytes a read returns.
   */
  readonly zeroFill?: boolean;
}

/**
 * Writes are dropped, flush and discard succeed, reads complete without data (their buffers are
 * left as they were, as null_blk does) unless `zeroFill` asks for zeros. Completes synchronously
 * and allocates nothing per I/O: the fastest possible store, for measuring the transport alone.
 */
export class NullStore implements BlockStore {
  readonly info: BlockStoreInfo;
  readonly zeroFill: boolean;
  private closed = false;

  constructor(opts: NullStoreOptions) {
    this.info = makeInfo(opts.sizeBytes, { ...opts, flush: false, discard: true, discardSecure: true });
    this.zeroFill = opts.zeroFill === true;
  }

  submit(io: BlockIo, done: (status: BlockIoStatus) => void): void {
    if (this.closed) return done(EIO);
    const err = checkIo(this.info, io);
    if (err !== 0) return done(err);
    if (this.zeroFill && io.op === "read") {
      const segs = io.segs;
      for (let i = 0; i < segs.length; i++) (segs[i] as Uint8Array).fill(0);
    }
    done(0);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
