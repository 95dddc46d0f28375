// The event-channel and grant-table calls the xenbus ring helpers make, as a structural interface
// that @xensim/xenctrl's XenCtrl satisfies as it is (V = its MemView), plus the helpers themselves
// (xenbus_grant_ring, xenbus_map_ring_valloc, xenbus_unmap_ring, xenbus_alloc_evtchn, ...) as
// functions of explicit arguments. XenbusDevice wraps them with the device's otherend and error node.
import {
  GNTMAP_host_map,
  GNTMAP_readonly,
  GNTST_general_error,
  GNTST_okay,
  GNTTAB_NR_RESERVED_ENTRIES,
  XenErrno,
} from "@xensim/abi";

/** One GNTTABOP_map_grant_ref result. */
export interface XenbusGrantMapResult {
  readonly status: number;
  readonly handle: number;
}

/** The hypervisor calls used here. Results are Xen's: rc 0 / -errno, GNTST_* statuses. */
export interface XenbusHypervisor<V = unknown> {
  evtchnAllocUnbound(dom: number, remoteDom: number): Promise<{ rc: number; port: number }>;
  evtchnBindInterdomain(remoteDom: number, remotePort: number): Promise<{ rc: number; port: number }>;
  evtchnClose(port: number): Promise<number>;
  /** Granter: let `domid` map our `gfn` through `ref`. rc 0 / -errno. */
  gnttabGrantAccess(ref: number, domid: number, gfn: number, readonly: boolean): Promise<number>;
  /** Granter: revoke `ref`; false while it is still mapped. */
  gnttabEndAccess(ref: number): Promise<boolean>;
  /** Mapper: map `refs` of `dom`; partial successes stay mapped. */
  gnttabMapGrantRefs(
    dom: number,
    refs: readonly number[],
    flags: number,
  ): Promise<{ results: readonly XenbusGrantMapResult[]; view?: V | undefined }>;
  /** Mapper: one GNTST_* per handle. */
  gnttabUnmap(handles: readonly number[]): Promise<readonly number[]>;
}

/** Where grant references come from (Linux: gnttab_alloc_grant_references / gnttab_free_grant_reference). */
export interface GrantRefAllocator {
  /** `n` free references, or undefined when there are not enough (nothing is taken then). */
  alloc(n: number): number[] | undefined;
  free(refs: readonly number[]): void;
  /** One free reference, or -1 when none is left (no array per call: a per-request grant). */
  allocOne?(): number;
  /** Frees one reference from allocOne. */
  freeOne?(ref: number): void;
}

/** A free list over refs [first, first + count): by default past the 8 reserved entries. */
export class GrantRefPool implements GrantRefAllocator {
  private readonly freeRefs: number[] = [];
  /** 1 for each ref handed out (indexed by ref): a second free, or a ref not ours, is ignored. */
  private readonly taken: Uint8Array;

  constructor(count = 512 - GNTTAB_NR_RESERVED_ENTRIES, first = GNTTAB_NR_RESERVED_ENTRIES) {
    this.taken = new Uint8Array(first + count);
    // Lowest first: pop() from the end.
    for (let r = first + count - 1; r >= first; r--) this.freeRefs.push(r);
  }

  get available(): number {
    return this.freeRefs.length;
  }

  alloc(n: number): number[] | undefined {
    if (n > this.freeRefs.length) return undefined;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = this.freeRefs.pop()!;
      this.taken[r] = 1;
      out.push(r);
    }
    return out;
  }

  free(refs: readonly number[]): void {
    for (const r of refs) this.freeOne(r);
  }

  allocOne(): number {
    const r = this.freeRefs.pop();
    if (r === undefined) return -1;
    this.taken[r] = 1;
    return r;
  }

  freeOne(ref: number): void {
    if (!(ref >= 0 && ref < this.taken.length) || this.taken[ref] !== 1) return; // not ours or already free
    this.taken[ref] = 0;
    this.freeRefs.push(ref);
  }
}

/** Most grants one ring may use (Linux: XENBUS_MAX_RING_GRANTS, 16; blkif here allows 64 pages). */
export const XENBUS_MAX_RING_GRANTS = 64;

export type GrantRingResult =
  | { readonly rc: 0; readonly refs: number[] }
  /** `failedIndex`: the page whose grant failed (undefined when allocation failed). */
  | { readonly rc: number; readonly refs: []; readonly failedIndex: number | undefined };

/**
 * Grants `otherendId` access to each of `gfns` (one ref per page, in order). On a failure the
 * grants already made are ended and every reference goes back to the allocator.
 */
export async function grantRing(
  hv: XenbusHypervisor<unknown>,
  refs: GrantRefAllocator,
  otherendId: number,
  gfns: readonly number[],
  readonly = false,
): Promise<GrantRingResult> {
  if (gfns.length === 0 || gfns.length > XENBUS_MAX_RING_GRANTS)
    return { rc: -XenErrno.EINVAL, refs: [], failedIndex: undefined };
  const got = refs.alloc(gfns.length);
  if (!got) return { rc: -XenErrno.ENOSPC, refs: [], failedIndex: undefined };
  for (let i = 0; i < gfns.length; i++) {
    const rc = await hv.gnttabGrantAccess(got[i]!, otherendId, gfns[i]!, readonly);
    if (rc === 0) continue;
    // Nobody can have mapped these yet (the refs were never published), so ending cannot fail.
    const leaked: number[] = [];
    for (let j = 0; j < i; j++) if (!(await hv.gnttabEndAccess(got[j]!))) leaked.push(got[j]!);
    refs.free(got.filter((r) => !leaked.includes(r)));
    return { rc, refs: [], failedIndex: i };
  }
  return { rc: 0, refs: got };
}

/**
 * Ends access to granted refs and frees them. A ref still mapped by the peer cannot be revoked: it
 * is kept out of the allocator (leaked, as Linux does without a deferred free) and listed.
 */
export async function ungrantRing(
  hv: XenbusHypervisor<unknown>,
  refs: GrantRefAllocator,
  granted: readonly number[],
): Promise<{ ok: boolean; stillMapped: number[] }> {
  const stillMapped: number[] = [];
  const done: number[] = [];
  for (const r of granted) {
    if (await hv.gnttabEndAccess(r)) done.push(r);
    else stillMapped.push(r);
  }
  refs.free(done);
  return { ok: stillMapped.length === 0, stillMapped };
}

export type MapRingResult<V> =
  | { readonly status: typeof GNTST_okay; readonly view: V | undefined; readonly handles: number[] }
  | {
      readonly status: number;
      /** Index (into refs) of the first ref that failed to map. */
      readonly failedIndex: number;
      /** Whether unmapping the refs that had been mapped failed (they stay mapped). */
      readonly leaked: boolean;
    };

/**
 * Maps `refs` granted by `otherendId`, all in one batch. If any fails, the ones that mapped are
 * unmapped and the first failing GNTST_* status is returned.
 */
export async function mapRing<V>(
  hv: XenbusHypervisor<V>,
  otherendId: number,
  refs: readonly number[],
  readonly = false,
): Promise<MapRingResult<V>> {
  if (refs.length === 0 || refs.length > XENBUS_MAX_RING_GRANTS)
    return { status: GNTST_general_error, failedIndex: 0, leaked: false };
  const flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
  const m = await hv.gnttabMapGrantRefs(otherendId, refs, flags);
  const failedIndex = refs.findIndex((_, i) => (m.results[i]?.status ?? GNTST_general_error) !== GNTST_okay);
  if (failedIndex < 0) return { status: GNTST_okay, view: m.view, handles: m.results.map((r) => r.handle) };
  const mapped = m.results.filter((r) => r.status === GNTST_okay).map((r) => r.handle);
  let leaked = false;
  if (mapped.length > 0) leaked = (await hv.gnttabUnmap(mapped)).some((s) => s !== GNTST_okay);
  return { status: m.results[failedIndex]?.status ?? GNTST_general_error, failedIndex, leaked };
}

/** Unmaps handles from mapRing: GNTST_okay, or the first failing status. */
export async function unmapRing(hv: XenbusHypervisor<unknown>, handles: readonly number[]): Promise<number> {
  if (handles.length === 0) return GNTST_okay;
  const st = await hv.gnttabUnmap(handles);
  return st.find((s) => s !== GNTST_okay) ?? GNTST_okay;
}
