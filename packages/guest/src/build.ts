// The toolstack's part of bringing a guest up, the minimum a guest kernel needs (libxl's domain
// build): the domain with its RAM, the store page and store event channel (published as
// HVM_PARAM_STORE_PFN / HVM_PARAM_STORE_EVTCHN, as Xen does for HVM guests), the xenstore skeleton
// of @xensim/libxl — the very one the toolstack's create flow writes (dom0-owned home, /vm/<uuid>,
// /libxl/<domid>, store/ and memory/ nodes, the nodes the guest may write) — and INTRODUCE to
// xenstored. The toolstack runs the full flow (devices, device model, on_* actions); tests and
// benchmarks that need only a booted guest use this one.
import { randomUUID } from "node:crypto";
import { HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from "@xensim/abi";
import { applyLibxlOps, domainSkeleton, STORE_GFN } from "@xensim/libxl";
import type { XenCtrl } from "@xensim/xenctrl";
import type { XenstoreClient } from "@xensim/xenstore-client";

export interface BuiltGuest {
  domid: number;
  ramPages: number;
  storeGfn: number;
  /** The guest's end of the store event channel. */
  storePort: number;
  home: string;
  /** `/vm/<uuid>` (the home's `vm` node). */
  vmPath: string;
  uuid: string;
}

export interface BuildGuestOptions {
  name: string;
  memoryMib: number;
  vcpus?: number;
  /** Default: a random one. */
  uuid?: string;
  /**
   * Keys written under `/vm/<uuid>/xensim/` (dom0-owned, guest-readable): the guest runtime reads
   * `workload` (a job string or "idle") and `blkfront` (frontend settings) there.
   */
  xensim?: Record<string, string>;
  /**
   * Build on this domain instead of creating one: libxl's rebuild after XEN_DOMCTL_soft_reset (same
   * domid and memory; a new store channel, the home written again, INTRODUCE, unpause). Not
   * destroyed on failure.
   */
  existingDomid?: number;
  /** Unpause this many times at the end (default 1; 2 after a soft reset: shutdown + libxl's pause). */
  unpauses?: number;
  /**
   * The host process the guest runs in, when not the hypervisor's (DomainCreate.home_host): its
   * memory is replicated there and its events delivered there (docs/data-plane.md).
   */
  homeHost?: string;
}

/**
 * Creates and introduces a domain as dom0 (`xc0` and `xs0` act as dom0). On failure what was
 * created is destroyed again.
 */
export async function buildGuest(
  xc0: XenCtrl,
  xs0: XenstoreClient,
  options: BuildGuestOptions,
): Promise<BuiltGuest> {
  let domid: number;
  if (options.existingDomid !== undefined) {
    domid = options.existingDomid;
    const rc = await xc0.hvmParamSet(domid, HVM_PARAM_STORE_PFN, STORE_GFN);
    if (rc !== 0) throw new Error(`HVM_PARAM_STORE_PFN on domain ${domid}: rc ${rc}`);
  } else {
    const created = await xc0.domainCreate({
      memoryMib: options.memoryMib,
      vcpus: options.vcpus ?? 1,
      hvm: true,
      hvmParams: { [HVM_PARAM_STORE_PFN]: STORE_GFN },
      ...(options.homeHost ? { homeHost: options.homeHost } : {}),
    });
    if (created.rc !== 0) throw new Error(`domain create: rc ${created.rc}`);
    domid = created.domid;
  }
  const home = `/local/domain/${domid}`;
  const uuid = options.uuid ?? randomUUID();
  const vmPath = `/vm/${uuid}`;
  try {
    // The store channel: an unbound port of the guest offered to dom0 (xenstored binds it).
    const port = await xc0.evtchnAllocUnbound(domid, 0);
    if (port.rc !== 0) throw new Error(`store event channel: rc ${port.rc}`);
    const rc = await xc0.hvmParamSet(domid, HVM_PARAM_STORE_EVTCHN, port.port);
    if (rc !== 0) throw new Error(`HVM_PARAM_STORE_EVTCHN: rc ${rc}`);
    const skeleton = domainSkeleton({
      domid,
      uuid,
      name: options.name,
      type: "hvm",
      memoryMib: options.memoryMib,
      storePort: port.port,
      startTimeSeconds: Date.now() / 1000,
      ...(options.xensim ? { xensim: options.xensim } : {}),
    });
    await xs0.transaction((tx) => applyLibxlOps(tx, skeleton.ops));
    await xs0.introduceDomain(domid, STORE_GFN, port.port);
    for (let i = 0; i < (options.unpauses ?? 1); i++) await xc0.domainUnpause(domid);
    return {
      domid,
      ramPages: options.memoryMib * 256,
      storeGfn: STORE_GFN,
      storePort: port.port,
      home,
      vmPath,
      uuid,
    };
  } catch (err) {
    for (const path of [home, vmPath, `/libxl/${domid}`]) await xs0.rm(path).catch(() => {});
    if (options.existingDomid === undefined) await xc0.domainDestroy(domid).catch(() => {});
    throw err;
  }
}
