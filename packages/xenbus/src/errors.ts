// One error class for the xenbus core: `code` is a Xen errno name (xenstore's vocabulary).
import type { XenErrnoName } from "@xensim/abi";

export class XenbusError extends Error {
  constructor(
    readonly code: XenErrnoName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "XenbusError";
  }
}
