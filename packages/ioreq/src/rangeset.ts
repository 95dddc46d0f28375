// Xen's rangeset (xen/common/rangeset.c) for the three range types of an ioreq server: sorted,
// disjoint, inclusive [start, end] ranges of u64; adding merges overlapping and adjacent ranges,
// removing splits one; a limit on the number of ranges (MAX_NR_IO_RANGES = 256 per type per server),
// past which an add or a splitting remove fails with -ENOMEM as alloc_range does.
//
// The ioreq-server op layer (servers.ts) adds Xen's checks around it: start > end → -EINVAL, overlap
// with the server's own set → -EEXIST, unmap not fully contained → -ENOENT.

import { XenErrno } from "@xensim/abi";

/** MAX_NR_IO_RANGES (xen/include/xen/ioreq.h): ranges per type per server. */
export const MAX_NR_IO_RANGES = 256;

export interface Range {
  start: bigint;
  end: bigint;
}

export const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** A rangeset as a sorted array (the reference form; shared memory stores the same array). */
export class RangeSet {
  readonly ranges: Range[];

  constructor(
    ranges: readonly Range[] = [],
    readonly limit = MAX_NR_IO_RANGES,
  ) {
    this.ranges = ranges.map((r) => ({ ...r }));
  }

  get count(): number {
    return this.ranges.length;
  }

  /** Index of the last range with start ≤ x (find_range), or -1. */
  private find(x: bigint): number {
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]!.start <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  containsRange(s: bigint, e: bigint): boolean {
    const i = this.find(s);
    return i >= 0 && this.ranges[i]!.end >= e;
  }

  containsSingleton(x: bigint): boolean {
    return this.containsRange(x, x);
  }

  overlapsRange(s: bigint, e: bigint): boolean {
    const i = this.find(e);
    return i >= 0 && s <= this.ranges[i]!.end;
  }

  /** rangeset_add_range: 0, or -ENOMEM when a new range would pass the limit. */
  add(s: bigint, e: bigint): number {
    // Every range that overlaps or touches [s, e] merges into one.
    let first = this.ranges.findIndex((r) => r.end >= s || (s > 0n && r.end === s - 1n));
    if (first < 0) first = this.ranges.length;
    let last = first;
    while (
      last < this.ranges.length &&
      (this.ranges[last]!.start <= e || this.ranges[last]!.start === e + 1n)
    )
      last++;
    // [first, last) merge with [s, e].
    if (first === last) {
      if (this.ranges.length >= this.limit) return -XenErrno.ENOMEM;
      this.ranges.splice(first, 0, { start: s, end: e });
      return 0;
    }
    const start = this.ranges[first]!.start < s ? this.ranges[first]!.start : s;
    const end = this.ranges[last - 1]!.end > e ? this.ranges[last - 1]!.end : e;
    this.ranges.splice(first, last - first, { start, end });
    return 0;
  }

  /** rangeset_remove_range: 0, or -ENOMEM when splitting a range would pass the limit. */
  remove(s: bigint, e: bigint): number {
    const out: Range[] = [];
    for (const r of this.ranges) {
      if (r.end < s || r.start > e) {
        out.push(r);
        continue;
      }
      if (r.start < s) out.push({ start: r.start, end: s - 1n });
      if (r.end > e) out.push({ start: e + 1n, end: r.end });
    }
    if (out.length > this.limit) return -XenErrno.ENOMEM;
    this.ranges.splice(0, this.ranges.length, ...out);
    return 0;
  }
}

// ---- the shared-memory form -------------------------------------------------------------------------
// One 4 KiB frame per (server, type): 256 ranges × 16 bytes, words [start lo, start hi, end lo, end hi],
// sorted; the count lives in the server's table entry. Lookups run on the words directly (any thread,
// table lock held); mutations load a RangeSet, change it and store it back.

const RANGE_WORDS = 4;

function cmp(aHi: number, aLo: number, bHi: number, bLo: number): number {
  if (aHi !== bHi) return aHi >>> 0 < bHi >>> 0 ? -1 : 1;
  if (aLo !== bLo) return aLo >>> 0 < bLo >>> 0 ? -1 : 1;
  return 0;
}

export function loadRanges(i32: Int32Array, base: number, count: number, limit = MAX_NR_IO_RANGES): RangeSet {
  const out: Range[] = [];
  for (let i = 0; i < count; i++) {
    const w = base + i * RANGE_WORDS;
    out.push({
      start: (BigInt(i32[w + 1]! >>> 0) << 32n) | BigInt(i32[w]! >>> 0),
      end: (BigInt(i32[w + 3]! >>> 0) << 32n) | BigInt(i32[w + 2]! >>> 0),
    });
  }
  return new RangeSet(out, limit);
}

/** Store a rangeset's ranges at `base`; returns the count. */
export function storeRanges(i32: Int32Array, base: number, set: RangeSet): number {
  set.ranges.forEach((r, i) => {
    const w = base + i * RANGE_WORDS;
    i32[w] = Number(r.start & 0xffff_ffffn) | 0;
    i32[w + 1] = Number(r.start >> 32n) | 0;
    i32[w + 2] = Number(r.end & 0xffff_ffffn) | 0;
    i32[w + 3] = Number(r.end >> 32n) | 0;
  });
  return set.ranges.length;
}

/**
 * rangeset_contains_range on the shared words: is [s, e] (u64 as hi/lo u32 halves) inside one range?
 * Binary search for the last range with start ≤ s.
 */
export function sharedContains(
  i32: Int32Array,
  base: number,
  count: number,
  sHi: number,
  sLo: number,
  eHi: number,
  eLo: number,
): boolean {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const w = base + mid * RANGE_WORDS;
    if (cmp(i32[w + 1]!, i32[w]!, sHi, sLo) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return false;
  const w = base + found * RANGE_WORDS;
  return cmp(i32[w + 3]!, i32[w + 2]!, eHi, eLo) >= 0;
}
