// The toolstack's part of bringing a guest up, the minimum a guest kernel needs (libxl's domain
// build): the domain with its RAM, the store page and store event channel, the xenstore home with
// libxl's permissions, and INTRODUCE to xenstored. services/toolstack does the full flow; tests and
// benchmarks use this one.
import type { XenCtrl } from "@xensim/xenctrl";
import type { XenstoreClient } from "@xensim/xenstore-client";

/** The gfn of the store page (below GuestKernel's default first free gfn). */
export const STORE_GFN = 0xfe;

export interface BuiltGuest {
  domid: number;
  ramPages: number;
  storeGfn: number;
  /** The guest's end of the store event channel. */
  storePort: number;
  home: string;
}

export interface BuildGuestOptions {
  name: string;
  memoryMib: number;
  vcpus?: number;
}

/**
 * Creates and introduces a domain as dom0 (`xc0` and `xs0` act as dom0). On failure what was
 * created is destroyed again.
 */
export async function buildGuest(
  xc0: XenCtrl,
  xs0: XenstoreClient,
  o: BuildGuestOptions,
): Promise<BuiltGuest> {
  const created = await xc0.domainCreate({ memoryMib: o.memoryMib, vcpus: o.vcpus ?? 1 });
  if (created.rc !== 0) throw new Error(`domain create: rc ${created.rc}`);
  const domid = created.domid;
  const home = `/local/domain/${domid}`;
  try {
    // The store channel: an unbound port of the guest offered to dom0 (xenstored binds it).
    const port = await xc0.evtchnAllocUnbound(domid, 0);
    if (port.rc !== 0) throw new Error(`store event channel: rc ${port.rc}`);
    await xs0.transaction(async (tx) => {
      await tx.mkdir(home);
      await tx.setPerms(home, [`n${domid}`, "r0"]);
      await tx.write(`${home}/name`, o.name);
      await tx.write(`${home}/domid`, String(domid));
      await tx.mkdir(`${home}/device`);
      await tx.mkdir(`${home}/data`);
      await tx.write(`${home}/memory/target`, String(o.memoryMib * 1024));
      // the guest may not change its name or memory target (libxl: dom0-owned, guest reads)
      for (const k of ["name", "domid", "memory", "memory/target"])
        await tx.setPerms(`${home}/${k}`, ["n0", `r${domid}`]);
    });
    await xs0.introduceDomain(domid, STORE_GFN, port.port);
    await xc0.domainUnpause(domid);
    return { domid, ramPages: o.memoryMib * 256, storeGfn: STORE_GFN, storePort: port.port, home };
  } catch (err) {
    await xs0.rm(home).catch(() => {});
    await xc0.domainDestroy(domid).catch(() => {});
    throw err;
  }
}
