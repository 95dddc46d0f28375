// The granter's side: what a guest kernel does to its own grant table (grant_entry_v1 in its own
// frames, seen through a MemView). Linux's gnttab_grant_foreign_access_ref / _end_foreign_access_ref.

import {
  GRANT_ENTRY_V1_LAYOUT,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_writing,
} from "@xensim/abi";
import type { MemView } from "@xensim/memory";

const ENTRY = GRANT_ENTRY_V1_LAYOUT.size;

/** A grant_entry_v1 as read from the table. */
export interface GrantEntryV1 {
  flags: number;
  domid: number;
  /** The granted frame, a gfn of the granter. */
  frame: number;
}

/** Number of v1 entries a table view holds. */
export function nrGrantEntries(table: MemView): number {
  return Math.floor(table.byteLength / ENTRY);
}

function entryOffset(table: MemView, ref: number): number {
  if (!Number.isInteger(ref) || ref < 0 || ref >= nrGrantEntries(table)) {
    throw new RangeError(`grant ref ${ref} outside a table of ${nrGrantEntries(table)} entries`);
  }
  return ref * ENTRY;
}

/**
 * Grant `domid` access to `gfn` through entry `ref`. Writes domid, then frame, then (atomically,
 * a full barrier) the flags — Xen's required order, so a mapper never sees valid flags with a stale
 * frame. The entry must not be in use.
 */
export function grantAccess(
  table: MemView,
  ref: number,
  domid: number,
  gfn: number,
  readonly: boolean,
): void {
  const off = entryOffset(table, ref);
  table.setU16(off + GRANT_ENTRY_V1_LAYOUT.domid, domid);
  table.setU32(off + GRANT_ENTRY_V1_LAYOUT.frame, gfn);
  const flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
  table.atomicStore32(off, ((domid & 0xffff) << 16) | flags);
  table.markWritten(off, ENTRY);
}

/**
 * End foreign access: clear the flags with a compare-and-swap that fails while Xen has the entry
 * pinned (GTF_reading / GTF_writing). Returns false when the grant is still in use (the caller must
 * not reuse the ref or free the page: retry later, as Linux's deferred list does).
 */
export function endForeignAccess(table: MemView, ref: number): boolean {
  const off = entryOffset(table, ref);
  let w = table.atomicLoad32(off);
  for (;;) {
    if (w & (GTF_reading | GTF_writing)) return false;
    const prev = table.atomicCompareExchange32(off, w, w & 0xffff0000);
    if (prev === w) {
      table.markWritten(off, 2);
      return true;
    }
    w = prev;
  }
}

/** Read entry `ref` (flags with one atomic load). */
export function grantEntry(table: MemView, ref: number): GrantEntryV1 {
  const off = entryOffset(table, ref);
  const w = table.atomicLoad32(off);
  return { flags: w & 0xffff, domid: w >>> 16, frame: table.getU32(off + GRANT_ENTRY_V1_LAYOUT.frame) };
}

/** True while Xen has entry `ref` mapped or being copied (GTF_reading or GTF_writing set). */
export function grantInUse(table: MemView, ref: number): boolean {
  return (grantEntry(table, ref).flags & (GTF_reading | GTF_writing)) !== 0;
}
