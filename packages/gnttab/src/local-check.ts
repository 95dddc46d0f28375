// The mapper's host refusing a grant map locally (docs/data-plane.md, "Local grant checks"): what a
// replica of the granter's grant table already shows invalid is refused with the GNTST_* the
// hypervisor's host would give, without a round trip; everything else — and everything it must
// authorise: the pin, the page, the granter's liveness, the mapper's handle space — goes to it.
//
// Xen's checks in order (gnttab_map_grant_ref → map_grant_ref → _set_status_v1): no host or
// device mapping asked → GNTST_bad_gntref; then the domain and handle checks (the authority's); then,
// for an entry nobody has pinned, (flags & (GTF_type_mask | GTF_sub_page)) ≠ GTF_permit_access or
// domid ≠ mapper → GNTST_general_error, and a writable map of a GTF_readonly grant →
// GNTST_general_error. A pinned entry is not checked again (its active entry is), and a replica
// cannot see the pin reliably: an entry showing GTF_reading or GTF_writing is left to the authority.
//
// A protocol module: no node:*, no clock, no randomness.
import {
  GNTMAP_device_map,
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_bad_gntref,
  GNTST_general_error,
  GTF_permit_access,
  GTF_reading,
  GTF_readonly,
  GTF_sub_page,
  GTF_type_mask,
  GTF_writing,
} from "@xensim/abi";

/**
 * The local answer to mapping a ref whose shared entry word 0 (flags | domid << 16) is `entryWord`
 * (undefined: the ref is not in the replica) for `mapper` with GNTMAP_* `flags`: a GNTST_* refusal
 * the authority would give too, or undefined — ask the hypervisor's host.
 */
export function localMapRefusal(
  entryWord: number | undefined,
  mapper: number,
  flags: number,
): number | undefined {
  const f = flags >>> 0;
  if (!(f & (GNTMAP_host_map | GNTMAP_device_map))) return GNTST_bad_gntref;
  if (entryWord === undefined) return undefined;
  const entryFlags = entryWord & 0xffff;
  if (entryFlags & (GTF_reading | GTF_writing)) return undefined; // pinned, or about to be
  if ((entryFlags & (GTF_type_mask | GTF_sub_page)) !== GTF_permit_access) return GNTST_general_error;
  if (entryWord >>> 16 !== (mapper & 0xffff)) return GNTST_general_error;
  if (!(f & GNTMAP_readonly) && entryFlags & GTF_readonly) return GNTST_general_error;
  return undefined;
}
