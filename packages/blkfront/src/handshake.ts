// The xenstore side of blkfront's handshake (Linux xen-blkfront's talk_to_blkback and
// blkback_changed reads): the backend's keys as the reducer of @xensim/blkif reads them, and the
// reducer's xenstore effects (writes, removes, a transaction, a state switch) carried out on the
// device. The rings, grants and event channels the other effects ask for stay with the driver.
import type { BlkfrontEffect, XenstoreValues } from "@xensim/blkif";
import type { MemView } from "@xensim/memory";
import { lsOrEmpty, type XenbusDevice, xsErrorCode } from "@xensim/xenbus";

/** Every key of the backend's directory (empty once the toolstack removed it). */
export async function readBackendKeys(dev: XenbusDevice<MemView>): Promise<XenstoreValues> {
  const dir = dev.otherend;
  let names: string[];
  let vals: Array<string | undefined>;
  try {
    names = await lsOrEmpty(dev.store, dir);
    vals = await Promise.all(names.map((n) => dev.store.tryRead(`${dir}/${n}`)));
  } catch (e) {
    // The toolstack removes the backend directory once the backend is Closed (libxl's order); a
    // guest then gets EACCES (the nearest existing ancestor is dom0's) or ENOENT: no keys left.
    const code = xsErrorCode(e);
    if (code === "EACCES" || code === "ENOENT") return {};
    throw e;
  }
  const out: Record<string, string | undefined> = {};
  names.forEach((n, i) => {
    out[n] = vals[i];
  });
  return out;
}

/** The reducer's effects that are xenstore operations on the frontend's own directory. */
export type XenstoreEffect = Extract<
  BlkfrontEffect,
  { kind: "write" } | { kind: "remove" } | { kind: "transaction" } | { kind: "switchState" }
>;

/** Is `e` one of the xenstore effects (executeXenstoreEffect carries it out)? */
export function isXenstoreEffect(e: BlkfrontEffect): e is XenstoreEffect {
  return e.kind === "write" || e.kind === "remove" || e.kind === "transaction" || e.kind === "switchState";
}

/** Carries out one xenstore effect on the device. */
export async function executeXenstoreEffect(dev: XenbusDevice<MemView>, e: XenstoreEffect): Promise<void> {
  switch (e.kind) {
    case "write":
      await dev.write(e.path, e.value);
      return;
    case "remove":
      await dev.store.rm(dev.path(e.path));
      return;
    case "transaction":
      await dev.transaction(async (tx) => {
        for (const op of e.ops) {
          if (op.kind === "write") await tx.write(dev.path(op.path), op.value);
          else await tx.rm(dev.path(op.path));
        }
      });
      return;
    case "switchState":
      await dev.switchState(e.state);
      return;
  }
}
