// xl create's check of each disk target against the host's disk policy (libxl refuses a disk it
// cannot use before it builds anything): store specs parse as blkback will read them, a store held
// in memory fits the host's limit, and a file target resolves inside the image directory or is
// allow-listed (lexically here; on this host's file system too when the directory is local).
// blkback checks again when it opens the store.
import {
  checkDiskPathSync,
  type DiskPolicy,
  parseStoreSpec,
  type StoreSpec,
  storeMemoryBytes,
} from "@xensim/blkstore";
import type { XlDisk } from "@xensim/xlcfg";

export interface DiskCheckPolicy extends DiskPolicy {
  /** Largest store held in memory (memory:, array data=memory), bytes. */
  readonly maxMemoryBytes: number;
  /** File targets accepted at all. */
  readonly allowFiles: boolean;
}

/** The checkTarget of xl.cfg parsing: a message naming the problem, or undefined. */
export function diskTargetCheck(
  policy: DiskCheckPolicy,
): (target: string, disk: XlDisk) => string | undefined {
  return (target, disk) => {
    let spec: StoreSpec;
    try {
      spec = disk.targetKind === "store" ? parseStoreSpec(target) : { kind: "file", path: target };
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    const mem = storeMemoryBytes(spec);
    if (mem > policy.maxMemoryBytes)
      return `a ${spec.kind} store of ${mem} bytes does not fit this host's limit for disks held in memory (${policy.maxMemoryBytes} bytes); use a smaller size, null:, or an image file`;
    if (spec.kind !== "file") return undefined;
    if (!policy.allowFiles) return "file targets are disabled on this host";
    try {
      checkDiskPathSync(spec.path, policy);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
}
