// Little-endian field access on a plain byte array (a private copy of a ring slot) or a MemView
// (the shared ring itself, an indirect page). No allocation: every helper reads or writes in place.

import type { MemView } from "@xensim/memory";

/** Where an encoder writes: a byte array or a MemView over shared frames. */
export type ByteTarget = Uint8Array | MemView;

export function rdU8(b: Uint8Array, off: number): number {
  return b[off] ?? 0;
}

export function rdU16(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}

export function rdU32(b: Uint8Array, off: number): number {
  return (
    ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16) | ((b[off + 3] ?? 0) << 24)) >>> 0
  );
}

export function rdI16(b: Uint8Array, off: number): number {
  return (rdU16(b, off) << 16) >> 16;
}

export function wrU8(t: ByteTarget, off: number, v: number): void {
  if (t instanceof Uint8Array) t[off] = v & 0xff;
  else t.setU8(off, v & 0xff);
}

export function wrU16(t: ByteTarget, off: number, v: number): void {
  if (t instanceof Uint8Array) {
    t[off] = v & 0xff;
    t[off + 1] = (v >>> 8) & 0xff;
  } else t.setU16(off, v & 0xffff);
}

export function wrU32(t: ByteTarget, off: number, v: number): void {
  if (t instanceof Uint8Array) {
    t[off] = v & 0xff;
    t[off + 1] = (v >>> 8) & 0xff;
    t[off + 2] = (v >>> 16) & 0xff;
    t[off + 3] = (v >>> 24) & 0xff;
  } else t.setU32(off, v >>> 0);
}

/** Zero `len` bytes (a multiple of 4 for MemViews: every blkif struct size is). */
export function zero(t: ByteTarget, off: number, len: number): void {
  if (t instanceof Uint8Array) {
    t.fill(0, off, off + len);
    return;
  }
  let i = 0;
  for (; i + 4 <= len; i += 4) t.setU32(off + i, 0);
  for (; i < len; i++) t.setU8(off + i, 0);
}

/** Bounds check shared by decoders/encoders: a RangeError names the struct that did not fit. */
export function need(length: number, off: number, size: number, what: string): void {
  if (!Number.isInteger(off) || off < 0 || off + size > length)
    throw new RangeError(`${what}: ${size} bytes at offset ${off} do not fit in ${length}`);
}

/** Split a u64 given as number or bigint into two u32 halves (throws outside 0..2^64-1). */
export function splitU64(v: number | bigint, what: string): [lo: number, hi: number] {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0)
      throw new RangeError(`${what}: ${v} is not a u64 held exactly by a number`);
    return [v % 0x1_0000_0000, Math.floor(v / 0x1_0000_0000)];
  }
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new RangeError(`${what}: ${v} is not a u64`);
  return [Number(v & 0xffff_ffffn), Number(v >> 32n)];
}

export function joinU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
