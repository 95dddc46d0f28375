// grant_table.h: grant entries, GNTTABOP_* operations, their argument structs and status codes.

import { layout, perAbi } from "./layout.js";

export type GrantRef = number;

/** struct grant_entry_v1 (8 bytes; 512 per 4 KiB frame). */
export const GRANT_ENTRY_V1_LAYOUT = layout({ flags: 0, domid: 2, frame: 4, size: 8 });
export const GRANT_ENTRIES_V1_PER_FRAME = 4096 / GRANT_ENTRY_V1_LAYOUT.size;

/** union grant_entry_v2 (16 bytes; 256 per frame; status lives in a separate u16 array). */
export const GRANT_ENTRY_V2_LAYOUT = layout({
  hdr_flags: 0,
  hdr_domid: 2,
  full_page_frame: 8,
  sub_page_page_off: 4,
  sub_page_length: 6,
  sub_page_frame: 8,
  transitive_trans_domid: 4,
  transitive_gref: 8,
  size: 16,
});
export const GRANT_ENTRIES_V2_PER_FRAME = 4096 / GRANT_ENTRY_V2_LAYOUT.size;

export const GNTTAB_NR_RESERVED_ENTRIES = 8;
export const GNTTAB_RESERVED_CONSOLE = 0;
export const GNTTAB_RESERVED_XENSTORE = 1;

/** Entry type, bits 0–1 of flags. */
export const GTF_invalid = 0;
export const GTF_permit_access = 1;
export const GTF_accept_transfer = 2;
export const GTF_transitive = 3;
export const GTF_type_mask = 3;
/** Sub-flags (bit numbers are the `_GTF_*` names). */
export const _GTF_readonly = 2;
export const GTF_readonly = 1 << _GTF_readonly;
export const _GTF_reading = 3;
export const GTF_reading = 1 << _GTF_reading;
export const _GTF_writing = 4;
export const GTF_writing = 1 << _GTF_writing;
export const _GTF_PWT = 5;
export const GTF_PWT = 1 << _GTF_PWT;
export const _GTF_PCD = 6;
export const GTF_PCD = 1 << _GTF_PCD;
export const _GTF_PAT = 7;
export const GTF_PAT = 1 << _GTF_PAT;
export const _GTF_sub_page = 8;
export const GTF_sub_page = 1 << _GTF_sub_page;
export const _GTF_transfer_committed = 2;
export const GTF_transfer_committed = 1 << _GTF_transfer_committed;
export const _GTF_transfer_completed = 3;
export const GTF_transfer_completed = 1 << _GTF_transfer_completed;

/** HYPERVISOR_grant_table_op commands. */
export const GNTTABOP_map_grant_ref = 0;
export const GNTTABOP_unmap_grant_ref = 1;
export const GNTTABOP_setup_table = 2;
export const GNTTABOP_dump_table = 3;
export const GNTTABOP_transfer = 4;
export const GNTTABOP_copy = 5;
export const GNTTABOP_query_size = 6;
export const GNTTABOP_unmap_and_replace = 7;
export const GNTTABOP_set_version = 8;
export const GNTTABOP_get_status_frames = 9;
export const GNTTABOP_get_version = 10;
export const GNTTABOP_swap_grant_ref = 11;
export const GNTTABOP_cache_flush = 12;

/** Map flags (gnttab_map_grant_ref.flags). */
export const _GNTMAP_device_map = 0;
export const GNTMAP_device_map = 1 << _GNTMAP_device_map;
export const _GNTMAP_host_map = 1;
export const GNTMAP_host_map = 1 << _GNTMAP_host_map;
export const _GNTMAP_readonly = 2;
export const GNTMAP_readonly = 1 << _GNTMAP_readonly;
export const _GNTMAP_application_map = 3;
export const GNTMAP_application_map = 1 << _GNTMAP_application_map;
export const _GNTMAP_contains_pte = 4;
export const GNTMAP_contains_pte = 1 << _GNTMAP_contains_pte;
export const _GNTMAP_guest_avail0 = 16;
export const GNTMAP_guest_avail_mask = 0xffff0000;

/** Copy flags (gnttab_copy.flags): that side names a grant ref, else a local frame. */
export const _GNTCOPY_source_gref = 0;
export const GNTCOPY_source_gref = 1 << _GNTCOPY_source_gref;
export const _GNTCOPY_dest_gref = 1;
export const GNTCOPY_dest_gref = 1 << _GNTCOPY_dest_gref;

/** gnttab_cache_flush.op bits. */
export const GNTTAB_CACHE_CLEAN = 1;
export const GNTTAB_CACHE_INVAL = 2;
export const GNTTAB_CACHE_SOURCE_GREF = 0x80000000;

/** GNTST_*: per-operation status (int16). */
export const GNTST_okay = 0;
export const GNTST_general_error = -1;
export const GNTST_bad_domain = -2;
export const GNTST_bad_gntref = -3;
export const GNTST_bad_handle = -4;
export const GNTST_bad_virt_addr = -5;
export const GNTST_bad_dev_addr = -6;
export const GNTST_no_device_space = -7;
export const GNTST_permission_denied = -8;
export const GNTST_bad_page = -9;
export const GNTST_bad_copy_arg = -10;
export const GNTST_address_too_big = -11;
export const GNTST_eagain = -12;
export const GNTST_no_space = -13;

export const GntSt = Object.freeze({
  okay: GNTST_okay,
  general_error: GNTST_general_error,
  bad_domain: GNTST_bad_domain,
  bad_gntref: GNTST_bad_gntref,
  bad_handle: GNTST_bad_handle,
  bad_virt_addr: GNTST_bad_virt_addr,
  bad_dev_addr: GNTST_bad_dev_addr,
  no_device_space: GNTST_no_device_space,
  permission_denied: GNTST_permission_denied,
  bad_page: GNTST_bad_page,
  bad_copy_arg: GNTST_bad_copy_arg,
  address_too_big: GNTST_address_too_big,
  eagain: GNTST_eagain,
  no_space: GNTST_no_space,
} as const);
export type GntSt = (typeof GntSt)[keyof typeof GntSt];

/** GNTTABOP_error_msgs: message of status -i is entry i. */
export const GNTTABOP_ERROR_MSGS = Object.freeze([
  "okay",
  "undefined error",
  "unrecognised domain id",
  "invalid grant reference",
  "invalid mapping handle",
  "invalid virtual address",
  "invalid device address",
  "no spare translation slot in the I/O MMU",
  "permission denied",
  "bad page",
  "copy arguments cross page boundary",
  "page address size too large",
  "operation not done; try again",
  "out of space",
] as const);

const gntstNames = new Map<number, string>(Object.entries(GntSt).map(([k, v]) => [v as number, k]));
/** "bad_gntref" for -3; undefined outside the table. */
export function gntstName(status: number): string | undefined {
  return gntstNames.get(status);
}
/** The GNTTABOP_error_msgs text for a status, as Linux prints it; undefined outside the table. */
export function gntstMessage(status: number): string | undefined {
  return status <= 0 ? GNTTABOP_ERROR_MSGS[-status] : undefined;
}

/** struct gnttab_map_grant_ref (status, handle, dev_bus_addr are outputs). */
export const GNTTAB_MAP_GRANT_REF_LAYOUT = layout({
  host_addr: 0,
  flags: 8,
  ref: 12,
  dom: 16,
  status: 18,
  handle: 20,
  dev_bus_addr: 24,
  size: 32,
});
/** struct gnttab_unmap_grant_ref. */
export const GNTTAB_UNMAP_GRANT_REF_LAYOUT = layout({
  host_addr: 0,
  dev_bus_addr: 8,
  handle: 16,
  status: 20,
  size: 24,
});
/** struct gnttab_setup_table; frame_list is a guest handle (pointer-sized for a 32-bit guest). */
export const GNTTAB_SETUP_TABLE_LAYOUT = perAbi(
  { dom: 0, nr_frames: 4, status: 8, frame_list: 16, size: 24 },
  { dom: 0, nr_frames: 4, status: 8, frame_list: 12, size: 16 },
);
/** struct gnttab_dump_table. */
export const GNTTAB_DUMP_TABLE_LAYOUT = layout({ dom: 0, status: 2, size: 4 });
/** struct gnttab_transfer (mfn is xen_pfn_t = unsigned long). */
export const GNTTAB_TRANSFER_LAYOUT = perAbi(
  { mfn: 0, domid: 8, ref: 12, status: 16, size: 24 },
  { mfn: 0, domid: 4, ref: 8, status: 12, size: 16 },
);
/**
 * struct gnttab_copy: source and dest are struct gnttab_copy_ptr { u (ref u32 | gmfn xen_pfn_t),
 * domid u16, offset u16 }.
 */
export const GNTTAB_COPY_LAYOUT = perAbi(
  {
    source_u_ref: 0,
    source_u_gmfn: 0,
    source_domid: 8,
    source_offset: 10,
    dest_u_ref: 16,
    dest_u_gmfn: 16,
    dest_domid: 24,
    dest_offset: 26,
    len: 32,
    flags: 34,
    status: 36,
    size: 40,
  },
  {
    source_u_ref: 0,
    source_u_gmfn: 0,
    source_domid: 4,
    source_offset: 6,
    dest_u_ref: 8,
    dest_u_gmfn: 8,
    dest_domid: 12,
    dest_offset: 14,
    len: 16,
    flags: 18,
    status: 20,
    size: 24,
  },
);
/** struct gnttab_query_size. */
export const GNTTAB_QUERY_SIZE_LAYOUT = layout({
  dom: 0,
  nr_frames: 4,
  max_nr_frames: 8,
  status: 12,
  size: 16,
});
/** struct gnttab_set_version / gnttab_get_version. */
export const GNTTAB_SET_VERSION_LAYOUT = layout({ version: 0, size: 4 });
export const GNTTAB_GET_VERSION_LAYOUT = layout({ dom: 0, pad: 2, version: 4, size: 8 });
/** struct gnttab_swap_grant_ref. */
export const GNTTAB_SWAP_GRANT_REF_LAYOUT = layout({ ref_a: 0, ref_b: 4, status: 8, size: 12 });
