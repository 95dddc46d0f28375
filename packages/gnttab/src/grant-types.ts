// The grant-table hypercalls' argument and result shapes (Xen's gnttab_map_grant_ref,
// gnttab_unmap_grant_ref, gnttab_copy, setup_table, query_size) and the error of the table's own
// management calls: the types GrantTables (grant-table.ts) takes and returns.

/** Raised for misuse by the hypervisor code (not for guest errors, which are GNTST_* statuses). */
export class GrantTableError extends Error {
  override readonly name = "GrantTableError";
  constructor(
    readonly code: "no_domain" | "exists" | "no_memory" | "bad_argument",
    message: string,
  ) {
    super(message);
  }
}

/** XSM-like policy hooks (default: maps and copies allowed, setup/query self or privileged). */
export interface GrantPolicy {
  mayMap?(mapper: number, granter: number, flags: number): boolean;
  mayCopy?(caller: number, src: number, dest: number): boolean;
  maySetup?(caller: number, domid: number): boolean;
}

export interface GrantTableInitOptions {
  /** Xen's max_grant_frames (default 64, at most 128 here). */
  maxFrames?: number;
  /** Xen's max_maptrack_frames (default 1024). */
  maxMaptrackFrames?: number;
  /** Frames allocated now (default 1). */
  initialFrames?: number;
}

export interface MapGrantRefOp {
  /** The granting domain. */
  dom: number;
  ref: number;
  /** GNTMAP_* flags: host_map and/or device_map, readonly, … */
  flags: number;
  /** Where the mapping goes (PV virtual address / HVM guest physical address); recorded for unmap. */
  hostAddr?: number;
}

export interface MapGrantRefResult {
  status: number;
  /** Maptrack handle (valid when status is GNTST_okay). */
  handle: number;
  /** The machine frame mapped (0 on failure). */
  frame: number;
  /** frame * 4096 for a device_map, else 0. */
  devBusAddr: number;
}

export interface UnmapGrantRefOp {
  handle: number;
  /** Host address to unmap; omitted = the one recorded at map time; 0 = leave the host mapping. */
  hostAddr?: number;
  /** Device bus address; omitted = the mapping's own (if device-mapped); 0 = leave the device mapping. */
  devBusAddr?: number;
}

/** One side of a gnttab_copy: a grant ref (…_gref flag set) or a gmfn of DOMID_SELF. */
export interface GnttabCopyPtr {
  ref?: number;
  gmfn?: number;
  domid: number;
  offset: number;
}

export interface GnttabCopyOp {
  source: GnttabCopyPtr;
  dest: GnttabCopyPtr;
  len: number;
  /** GNTCOPY_source_gref | GNTCOPY_dest_gref. */
  flags: number;
}

export interface SetupTableResult {
  status: number;
  /** The first nrFrames grant frames (machine frames, PV style). */
  frames: number[];
}

export interface QueryTableResult {
  status: number;
  nrFrames: number;
  maxNrFrames: number;
}
