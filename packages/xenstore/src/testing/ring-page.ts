// Test-only: a ring page double over a plain 4 KiB Uint8Array (little-endian DataView words), with a
// log of the ranges the code under test published with markWritten.

import type { XsRingPage } from "../ring-page.js";

export class ArrayRingPage implements XsRingPage {
  readonly bytes: Uint8Array;
  private readonly dv: DataView;
  readonly written: [off: number, len: number][] = [];

  constructor(bytes: Uint8Array = new Uint8Array(4096)) {
    this.bytes = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || len < 0 || off + len > this.bytes.length)
      throw new RangeError(`page access [${off}, ${off + len}) out of range`);
  }
  atomicLoad32(off: number): number {
    if (off % 4 !== 0) throw new RangeError(`misaligned atomic at ${off}`);
    this.check(off, 4);
    return this.dv.getUint32(off, true);
  }
  atomicStore32(off: number, v: number): void {
    if (off % 4 !== 0) throw new RangeError(`misaligned atomic at ${off}`);
    this.check(off, 4);
    this.dv.setUint32(off, v >>> 0, true);
  }
  read(off: number, len: number): Uint8Array {
    this.check(off, len);
    return this.bytes.slice(off, off + len);
  }
  write(off: number, bytes: Uint8Array): void {
    this.check(off, bytes.length);
    this.bytes.set(bytes, off);
  }
  markWritten(off: number, len: number): void {
    this.check(off, len);
    this.written.push([off, len]);
  }
  /** Plain (test-side) word access, e.g. to set up or corrupt indices. */
  u32(off: number, v?: number): number {
    if (v !== undefined) this.dv.setUint32(off, v >>> 0, true);
    return this.dv.getUint32(off, true);
  }
}
