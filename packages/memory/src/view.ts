// MemView: the one small memory interface ring and protocol code use. Two implementations behind it:
// a contiguous view (one byte range of the shared buffer, when the frames are adjacent) and a paged
// view (a list of frames; offset → frame + in-frame offset). Multi-byte values are little-endian,
// as on x86 and Arm. Atomic operations take 4-byte aligned offsets (so they never straddle frames).

import type { LinkArea } from "./link-area.js";
import { PAGE_SHIFT, PAGE_SIZE } from "./xen-constants.js";

/**
 * Where writers report the byte ranges they wrote, besides the host's link area (which carries them
 * to other host processes): a per-store hook for tests and tools. NO_WRITE_LOG by default.
 */
export interface WriteLog {
  /** Bytes [offset, offset+length) of `frame` were written. */
  written(frame: number, offset: number, length: number): void;
}

/** The write log that drops everything (one host process: all threads see the same buffer). */
export const NO_WRITE_LOG: WriteLog = Object.freeze({ written() {} });

/** Raised by a view for an out-of-range, misaligned or read-only access. */
export class MemoryAccessError extends Error {
  override readonly name = "MemoryAccessError";
  constructor(
    readonly code: "out_of_range" | "misaligned" | "read_only",
    message: string,
  ) {
    super(message);
  }
}

export interface MemView {
  /** Length of the view in bytes (a multiple of 4096 for views of whole frames). */
  readonly byteLength: number;
  /** True when every write method throws MemoryAccessError("read_only"). */
  readonly readonly: boolean;
  /** The frames behind the view, in view order (a slice lists the frames it touches). */
  readonly frames: readonly number[];
  /** True when the bytes are one range of the shared buffer. */
  readonly contiguous: boolean;

  getU8(off: number): number;
  getU16(off: number): number;
  getU32(off: number): number;
  getU64(off: number): bigint;
  setU8(off: number, v: number): void;
  setU16(off: number, v: number): void;
  setU32(off: number, v: number): void;
  setU64(off: number, v: bigint): void;

  /** Atomic 32-bit load (unsigned) of the aligned word at `off`. */
  atomicLoad32(off: number): number;
  atomicStore32(off: number, v: number): void;
  /** Atomic OR; returns the previous value (unsigned). */
  atomicOr32(off: number, v: number): number;
  /** Atomic AND; returns the previous value (unsigned). */
  atomicAnd32(off: number, v: number): number;
  /** Atomic compare-and-exchange; returns the previous value (unsigned). */
  atomicCompareExchange32(off: number, expected: number, replacement: number): number;

  /** A copy of `len` bytes at `off`. */
  read(off: number, len: number): Uint8Array;
  /** Write `bytes` at `off`. */
  write(off: number, bytes: Uint8Array): void;
  /** Like TypedArray.copyWithin, inside this view (overlap-safe). */
  copyWithin(target: number, start: number, end: number): void;
  /** Copy `len` bytes from this view at `srcOff` to `dst` at `dstOff`. */
  copyTo(dst: MemView, dstOff: number, srcOff: number, len: number): void;
  /** Copy `len` bytes at `off` into `dst` at `dstOff` (no allocation). */
  readInto(off: number, dst: Uint8Array, dstOff?: number, len?: number): void;
  /** Write `len` bytes of `src` from `srcOff` at `off` (no allocation). */
  writeFrom(off: number, src: Uint8Array, srcOff?: number, len?: number): void;
  /**
   * The live bytes [off, off+len) as one Uint8Array over the shared buffer — when they are one
   * range of it (always in a contiguous view; within one frame in a paged one), else undefined.
   * Zero-copy I/O (a store reading or filling a granted page): the caller honours `readonly` and
   * calls markWritten for what it wrote.
   */
  liveBytes(off: number, len: number): Uint8Array | undefined;
  /** A view of [off, off+len) of this one (same memory, same permission). */
  slice(off: number, len: number): MemView;
  /** Publish that [off, off+len) was written (replication hook; no-op in-process). */
  markWritten(off: number, len: number): void;
}

/** The shared buffer's typed views, shared by every view over it. */
export interface Backing {
  readonly buffer: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly dv: DataView;
  readonly writeLog: WriteLog;
  /** The host's link area, when one exists (frames with copies in other host processes). */
  readonly link?: LinkArea | undefined;
}

function checkRange(off: number, len: number, size: number): void {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > size) {
    throw new MemoryAccessError(
      "out_of_range",
      `access [${off}, ${off}+${len}) outside view of ${size} bytes`,
    );
  }
}

function checkAligned(off: number, size: number): void {
  checkRange(off, 4, size);
  if ((off & 3) !== 0) throw new MemoryAccessError("misaligned", `atomic access at unaligned offset ${off}`);
}

/** Common code of both views: everything in terms of `abs(off)` and chunking by frame. */
abstract class BaseView implements MemView {
  abstract readonly byteLength: number;
  abstract readonly frames: readonly number[];
  abstract readonly contiguous: boolean;
  constructor(
    protected readonly b: Backing,
    readonly readonly: boolean,
  ) {}

  /** Absolute byte offset in the shared buffer of view offset `off` (assumed in range). */
  protected abstract abs(off: number): number;
  /** Bytes from `off` that are contiguous in the shared buffer (≥ 1 while off < byteLength). */
  protected abstract run(off: number): number;
  abstract slice(off: number, len: number): MemView;

  protected ro(): void {
    if (this.readonly) throw new MemoryAccessError("read_only", "write through a read-only view");
  }

  getU8(off: number): number {
    checkRange(off, 1, this.byteLength);
    return this.b.u8[this.abs(off)]!;
  }
  setU8(off: number, v: number): void {
    this.ro();
    checkRange(off, 1, this.byteLength);
    this.b.u8[this.abs(off)] = v;
  }
  getU16(off: number): number {
    checkRange(off, 2, this.byteLength);
    if (this.run(off) >= 2) return this.b.dv.getUint16(this.abs(off), true);
    return this.getU8(off) | (this.getU8(off + 1) << 8);
  }
  setU16(off: number, v: number): void {
    this.ro();
    checkRange(off, 2, this.byteLength);
    if (this.run(off) >= 2) this.b.dv.setUint16(this.abs(off), v, true);
    else this.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff));
  }
  getU32(off: number): number {
    checkRange(off, 4, this.byteLength);
    if (this.run(off) >= 4) return this.b.dv.getUint32(this.abs(off), true);
    const x = this.read(off, 4);
    return (x[0]! | (x[1]! << 8) | (x[2]! << 16) | (x[3]! << 24)) >>> 0;
  }
  setU32(off: number, v: number): void {
    this.ro();
    checkRange(off, 4, this.byteLength);
    if (this.run(off) >= 4) this.b.dv.setUint32(this.abs(off), v >>> 0, true);
    else this.write(off, Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff));
  }
  getU64(off: number): bigint {
    checkRange(off, 8, this.byteLength);
    if (this.run(off) >= 8) return this.b.dv.getBigUint64(this.abs(off), true);
    return BigInt(this.getU32(off)) | (BigInt(this.getU32(off + 4)) << 32n);
  }
  setU64(off: number, v: bigint): void {
    this.ro();
    checkRange(off, 8, this.byteLength);
    const x = BigInt.asUintN(64, v);
    if (this.run(off) >= 8) this.b.dv.setBigUint64(this.abs(off), x, true);
    else {
      this.setU32(off, Number(x & 0xffff_ffffn));
      this.setU32(off + 4, Number(x >> 32n));
    }
  }

  atomicLoad32(off: number): number {
    checkAligned(off, this.byteLength);
    return Atomics.load(this.b.i32, this.abs(off) >> 2) >>> 0;
  }
  atomicStore32(off: number, v: number): void {
    this.ro();
    checkAligned(off, this.byteLength);
    Atomics.store(this.b.i32, this.abs(off) >> 2, v | 0);
  }
  atomicOr32(off: number, v: number): number {
    this.ro();
    checkAligned(off, this.byteLength);
    return Atomics.or(this.b.i32, this.abs(off) >> 2, v | 0) >>> 0;
  }
  atomicAnd32(off: number, v: number): number {
    this.ro();
    checkAligned(off, this.byteLength);
    return Atomics.and(this.b.i32, this.abs(off) >> 2, v | 0) >>> 0;
  }
  atomicCompareExchange32(off: number, expected: number, replacement: number): number {
    this.ro();
    checkAligned(off, this.byteLength);
    return Atomics.compareExchange(this.b.i32, this.abs(off) >> 2, expected | 0, replacement | 0) >>> 0;
  }

  read(off: number, len: number): Uint8Array {
    checkRange(off, len, this.byteLength);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const n = Math.min(this.run(off + done), len - done);
      const a = this.abs(off + done);
      out.set(this.b.u8.subarray(a, a + n), done);
      done += n;
    }
    return out;
  }
  write(off: number, bytes: Uint8Array): void {
    this.ro();
    checkRange(off, bytes.length, this.byteLength);
    let done = 0;
    while (done < bytes.length) {
      const n = Math.min(this.run(off + done), bytes.length - done);
      this.b.u8.set(bytes.subarray(done, done + n), this.abs(off + done));
      done += n;
    }
  }
  readInto(off: number, dst: Uint8Array, dstOff = 0, len = dst.length - dstOff): void {
    checkRange(off, len, this.byteLength);
    checkRange(dstOff, len, dst.length);
    const u8 = this.b.u8;
    let done = 0;
    while (done < len) {
      const n = Math.min(this.run(off + done), len - done);
      const a = this.abs(off + done);
      if (n <= 64) for (let i = 0; i < n; i++) dst[dstOff + done + i] = u8[a + i]!;
      else dst.set(u8.subarray(a, a + n), dstOff + done);
      done += n;
    }
  }
  writeFrom(off: number, src: Uint8Array, srcOff = 0, len = src.length - srcOff): void {
    this.ro();
    checkRange(off, len, this.byteLength);
    checkRange(srcOff, len, src.length);
    const u8 = this.b.u8;
    let done = 0;
    while (done < len) {
      const n = Math.min(this.run(off + done), len - done);
      const a = this.abs(off + done);
      if (n <= 64) for (let i = 0; i < n; i++) u8[a + i] = src[srcOff + done + i]!;
      else u8.set(src.subarray(srcOff + done, srcOff + done + n), a);
      done += n;
    }
  }
  liveBytes(off: number, len: number): Uint8Array | undefined {
    checkRange(off, len, this.byteLength);
    if (len === 0) return new Uint8Array(0);
    if (this.run(off) < len) return undefined;
    const a = this.abs(off);
    return this.b.u8.subarray(a, a + len);
  }
  copyWithin(target: number, start: number, end: number): void {
    this.ro();
    checkRange(start, end - start, this.byteLength);
    checkRange(target, end - start, this.byteLength);
    this.write(target, this.read(start, end - start));
  }
  copyTo(dst: MemView, dstOff: number, srcOff: number, len: number): void {
    checkRange(srcOff, len, this.byteLength);
    checkRange(dstOff, len, dst.byteLength);
    if (!(dst instanceof BaseView) || dst.b.buffer !== this.b.buffer || dst === this) {
      dst.write(dstOff, this.read(srcOff, len));
      return;
    }
    if (dst.readonly) throw new MemoryAccessError("read_only", "copy into a read-only view");
    let done = 0;
    while (done < len) {
      const n = Math.min(this.run(srcOff + done), dst.run(dstOff + done), len - done);
      const s = this.abs(srcOff + done);
      this.b.u8.copyWithin(dst.abs(dstOff + done), s, s + n);
      done += n;
    }
  }
  markWritten(off: number, len: number): void {
    checkRange(off, len, this.byteLength);
    const log = this.b.writeLog;
    const link = this.b.link;
    if (log === NO_WRITE_LOG && link === undefined) return;
    let done = 0;
    while (done < len) {
      const n = Math.min(
        this.run(off + done),
        len - done,
        PAGE_SIZE - ((this.abs(off + done) & (PAGE_SIZE - 1)) >>> 0),
      );
      const a = this.abs(off + done);
      if (link !== undefined) link.written(a >>> PAGE_SHIFT, a & (PAGE_SIZE - 1), n);
      if (log !== NO_WRITE_LOG) log.written(a >>> PAGE_SHIFT, a & (PAGE_SIZE - 1), n);
      done += n;
    }
  }
}

/** One byte range of the shared buffer: `[base, base+byteLength)`. */
export class ContiguousView extends BaseView {
  readonly contiguous = true;
  constructor(
    b: Backing,
    readonly base: number,
    readonly byteLength: number,
    readonly frames: readonly number[],
    readonly_: boolean,
  ) {
    super(b, readonly_);
  }
  protected abs(off: number): number {
    return this.base + off;
  }
  protected run(off: number): number {
    return this.byteLength - off;
  }
  // Fast paths for the common case.
  override getU32(off: number): number {
    checkRange(off, 4, this.byteLength);
    return this.b.dv.getUint32(this.base + off, true);
  }
  override setU32(off: number, v: number): void {
    this.ro();
    checkRange(off, 4, this.byteLength);
    this.b.dv.setUint32(this.base + off, v >>> 0, true);
  }
  override read(off: number, len: number): Uint8Array {
    checkRange(off, len, this.byteLength);
    return this.b.u8.slice(this.base + off, this.base + off + len);
  }
  override write(off: number, bytes: Uint8Array): void {
    this.ro();
    checkRange(off, bytes.length, this.byteLength);
    this.b.u8.set(bytes, this.base + off);
  }
  override copyWithin(target: number, start: number, end: number): void {
    this.ro();
    checkRange(start, end - start, this.byteLength);
    checkRange(target, end - start, this.byteLength);
    this.b.u8.copyWithin(this.base + target, this.base + start, this.base + end);
  }
  slice(off: number, len: number): MemView {
    checkRange(off, len, this.byteLength);
    const first = (this.base + off) >>> PAGE_SHIFT;
    const last = len === 0 ? first : (this.base + off + len - 1) >>> PAGE_SHIFT;
    const frames: number[] = [];
    for (let f = first; f <= last && len > 0; f++) frames.push(f);
    return new ContiguousView(this.b, this.base + off, len, frames, this.readonly);
  }
}

/** A list of frames; view offset `off` is frame `frames[off >> 12]` at `off & 4095`. */
export class PagedView extends BaseView {
  readonly contiguous = false;
  readonly byteLength: number;
  /**
   * @param start offset of the view inside the first frame (non-zero only for slices).
   */
  constructor(
    b: Backing,
    readonly frames: readonly number[],
    readonly_: boolean,
    private readonly start = 0,
    byteLength?: number,
  ) {
    super(b, readonly_);
    this.byteLength = byteLength ?? frames.length * PAGE_SIZE - start;
  }
  protected abs(off: number): number {
    const o = off + this.start;
    return this.frames[o >>> PAGE_SHIFT]! * PAGE_SIZE + (o & (PAGE_SIZE - 1));
  }
  protected run(off: number): number {
    const o = off + this.start;
    return Math.min(PAGE_SIZE - (o & (PAGE_SIZE - 1)), this.byteLength - off);
  }
  slice(off: number, len: number): MemView {
    checkRange(off, len, this.byteLength);
    const o = off + this.start;
    const first = o >>> PAGE_SHIFT;
    const last = len === 0 ? first : (o + len - 1) >>> PAGE_SHIFT;
    const frames = this.frames.slice(first, last + 1);
    if (frames.length <= 1 || adjacent(frames)) {
      const base = frames[0]! * PAGE_SIZE + (o & (PAGE_SIZE - 1));
      return new ContiguousView(this.b, base, len, frames, this.readonly);
    }
    return new PagedView(this.b, frames, this.readonly, o & (PAGE_SIZE - 1), len);
  }
}

/** True when `frames` are consecutive ascending frame numbers. */
export function adjacent(frames: readonly number[]): boolean {
  for (let i = 1; i < frames.length; i++) if (frames[i] !== frames[i - 1]! + 1) return false;
  return true;
}

/** A view over `frames`: contiguous when they are adjacent, paged otherwise. */
export function makeView(b: Backing, frames: readonly number[], readonly_ = false): MemView {
  if (frames.length === 1) {
    // One page (a grant map of one ref, a data segment): no copy-and-scan of the list.
    const f = frames[0]!;
    return new ContiguousView(b, f * PAGE_SIZE, PAGE_SIZE, Object.freeze([f]), readonly_);
  }
  const list = Object.freeze([...frames]);
  if (list.length === 0) return new ContiguousView(b, 0, 0, list, readonly_);
  if (adjacent(list))
    return new ContiguousView(b, list[0]! * PAGE_SIZE, list.length * PAGE_SIZE, list, readonly_);
  return new PagedView(b, list, readonly_);
}
