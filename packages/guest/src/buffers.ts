// Buffers in the guest's own memory for a job's in-flight I/Os (Linux: the pages of a bio): each
// buffer is whole pages of guest RAM and knows its gfns, so a blkfront without persistent grants
// grants them to the backend as they are (BlockIo.frames) — no bounce copy.
import { XenErrno } from "@xensim/abi";
import type { GuestMemory } from "@xensim/blkfront";
import type { JobBuffer } from "@xensim/workload";

const PAGE_BYTES = 4096;

/**
 * A fixed area of guest pages handed out as job buffers (JobEnv.buffer). Pages are allocated up
 * front (the job asks synchronously) and contiguously per buffer, so one buffer is one live byte
 * range; `release` gives every page back to the guest.
 */
export class GuestBufferArea {
  private readonly free: JobBuffer[] = [];
  private readonly gfns: number[][] = [];

  private constructor(
    private readonly memory: GuestMemory,
    readonly bytesEach: number,
  ) {}

  /** `count` buffers of `bytes` each (rounded up to whole pages); a negative errno when memory runs out. */
  static async create(memory: GuestMemory, count: number, bytes: number): Promise<GuestBufferArea | number> {
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(bytes) || bytes < 1)
      return -XenErrno.EINVAL;
    const area = new GuestBufferArea(memory, bytes);
    const pages = Math.ceil(bytes / PAGE_BYTES);
    for (let i = 0; i < count; i++) {
      const got = await memory.allocPages(pages, true);
      if (typeof got === "number") {
        area.release();
        return got;
      }
      area.gfns.push([...got.gfns]);
      const live = got.view.liveBytes(0, bytes);
      if (live === undefined) {
        area.release();
        return -XenErrno.EFAULT; // not one byte range in this host: no zero copy for it
      }
      live.fill(0); // nothing of the pages' earlier use goes to a backend
      got.view.markWritten(0, bytes);
      const view = got.view;
      area.free.push({ bytes: live, frames: got.gfns, written: () => view.markWritten(0, bytes) });
    }
    return area;
  }

  /** Buffers not handed out yet. */
  get available(): number {
    return this.free.length;
  }

  /** JobEnv.buffer: one buffer of the area (undefined when `bytes` does not fit or none is left). */
  readonly take = (bytes: number): JobBuffer | undefined =>
    bytes <= this.bytesEach ? this.free.pop() : undefined;

  /** Every page back to the guest (no I/O may be in flight on them). */
  release(): void {
    for (const g of this.gfns.splice(0)) this.memory.freePages(g);
    this.free.length = 0;
  }
}
