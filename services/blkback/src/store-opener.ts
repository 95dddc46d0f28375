// `params` → a block store, for the service's thread and its queue threads alike.
import type { BlkbackStoreOpener } from "@xensim/blkback";
import { openStore, parseStoreSpec, type StoreSpec } from "@xensim/blkstore";
import type { BlkbackServiceConfig } from "./config.js";

/**
 * `params` → a block store: a blkstore spec, or an absolute path to a raw image file. File paths are
 * confined to the image directory (or the allow-list) and checked again on the file system at open
 * (defence in depth behind the toolstack's check): a refusal becomes hotplug-status "error" and an
 * `error` node, as a failed hotplug script does.
 */
export function storeOpener(cfg: BlkbackServiceConfig["params"]): BlkbackStoreOpener {
  const diskPolicy = {
    imageDir: cfg.fileDir,
    allowList: cfg.allowList,
    allowBlockDevices: cfg.allowBlockDevices,
  };
  return async (params, mode) => {
    let spec: StoreSpec = params.startsWith("/") ? { kind: "file", path: params } : parseStoreSpec(params);
    if (spec.kind === "file" && !cfg.allowFiles)
      throw new Error(`file stores are disabled (params ${params})`);
    if (mode === "r" && spec.kind !== "array") spec = { ...spec, readonly: true };
    return openStore(spec, { diskPolicy, maxMemoryBytes: cfg.maxMemoryBytes });
  };
}

/**
 * May a second thread open its own instance of `params` and see the same disk? A null store (no
 * data) and a file (one file, two descriptors) yes; a memory store or an array model (their
 * state lives in this thread's heap) no.
 */
export function storeReopenable(params: string): boolean {
  if (params.startsWith("/")) return true;
  try {
    const kind = parseStoreSpec(params).kind;
    return kind === "null" || kind === "file";
  } catch {
    return false;
  }
}
