// A guest's memory as the device model maps it (xenforeignmemory), over the host's page store.
import type { GuestMemory } from "@xensim/devicemodel";
import { PAGE_SIZE, type PageStore } from "@xensim/memory";

/**
 * A privileged mapping of a guest's memory, page by page through its physmap (xenforeignmemory).
 * What the emulator writes (rep ins, string moves) is published like any driver's write
 * (PageStore.markWritten: the write log and, when another host process holds the frame, the link).
 */
export function guestMemory(store: PageStore, domid: number, mapcache?: MapCache): GuestMemory {
  const each = (
    gpa: bigint,
    len: number,
    fn: (abs: number, done: number, n: number, frame: number, off: number) => void,
  ) => {
    let done = 0;
    while (done < len) {
      const a = gpa + BigInt(done);
      const gfn = Number(a >> 12n);
      const off = Number(a & 0xfffn);
      const frame = mapcache ? mapcache.frame(gfn) : store.gfnToFrame(domid, gfn);
      const n = Math.min(len - done, PAGE_SIZE - off);
      if (!frame) throw new Error(`gfn ${gfn.toString(16)} of domain ${domid} is not populated`);
      fn(frame * PAGE_SIZE + off, done, n, frame, off);
      done += n;
    }
  };
  return {
    read(gpa, len) {
      const out = new Uint8Array(len);
      each(gpa, len, (abs, done, n) => out.set(store.u8.subarray(abs, abs + n), done));
      return out;
    },
    write(gpa, bytes) {
      each(gpa, bytes.length, (abs, done, n, frame, off) => {
        store.u8.set(bytes.subarray(done, done + n), abs);
        store.markWritten(frame, off, n);
      });
    },
  };
}

/** Guest pages a device model in another host process keeps mapped (QEMU's mapcache bound). */
const MAPCACHE_PAGES = 1024;

/** Foreign maps of single guest pages, blocking (XenCtrl.mapForeignPagesSync or LinkPlane.foreignMapSync). */
export interface ForeignPageMapper {
  mapSync(domid: number, gfns: readonly number[]): { frames: number[]; handle: number } | number;
  /** Sync on a thread that cannot await (the ioreq thread), a promise on the service's thread. */
  unmap(handle: number): number | Promise<number>;
}

/**
 * The guest's RAM from a host process without the hypervisor: each page is foreign-mapped over the
 * link the first time an emulation touches it (a blocking privcmd-style map, as QEMU's mapcache
 * does on a miss) and stays mapped — replicated here, the guest's writes arrive before the ioreq
 * that follows them — until the cache is full (the oldest page is unmapped) or the emulator stops.
 */
export class MapCache {
  private readonly pages = new Map<number, { frame: number; handle: number }>();
  constructor(
    private readonly mapper: ForeignPageMapper,
    private readonly domid: number,
  ) {}

  frame(gfn: number): number {
    const hit = this.pages.get(gfn);
    if (hit) return hit.frame;
    const r = this.mapper.mapSync(this.domid, [gfn]);
    if (typeof r === "number") return 0;
    if (this.pages.size >= MAPCACHE_PAGES) {
      const [oldest, m] = this.pages.entries().next().value!;
      this.pages.delete(oldest);
      this.unmapQuietly(m.handle);
    }
    this.pages.set(gfn, { frame: r.frames[0]!, handle: r.handle });
    return r.frames[0]!;
  }

  /** Unmap everything (the emulator stopped; a dead domain's mappings are released anyway). */
  async clear(): Promise<void> {
    await Promise.all(this.clearNow());
  }

  /** The same, issuing every unmap at once (done when the mapper is synchronous). */
  clearNow(): Array<number | Promise<number>> {
    const all = [...this.pages.values()];
    this.pages.clear();
    return all.map((m) => this.unmapQuietly(m.handle));
  }

  private unmapQuietly(handle: number): number | Promise<number> {
    try {
      const r = this.mapper.unmap(handle);
      return typeof r === "number" ? r : r.catch(() => 0);
    } catch {
      return 0;
    }
  }
}
