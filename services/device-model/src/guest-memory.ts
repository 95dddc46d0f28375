// A guest's memory as the device model maps it (xenforeignmemory), over the host's page store.
import type { GuestMemory } from "@xensim/devicemodel";
import { PAGE_SIZE, type PageStore } from "@xensim/memory";

/**
 * A privileged mapping of a guest's memory, page by page through its physmap (xenforeignmemory).
 * What the emulator writes (rep ins, string moves) is published like any driver's write
 * (PageStore.markWritten: the write log and, when another host process holds the frame, the link).
 */
export function guestMemory(store: PageStore, domid: number): GuestMemory {
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
      const frame = store.gfnToFrame(domid, gfn);
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
