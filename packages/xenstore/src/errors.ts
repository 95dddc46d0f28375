// The one error vocabulary of the engine: xenstore errno names, as sent in XS_ERROR replies.

import type { XsErrorName } from "@xensim/abi";

/** A request failed with a xenstore errno name (xsd_errors[] or oxenstored's EQUOTA). */
export class XsError extends Error {
  override readonly name = "XsError";
  /** The errno name sent on the wire, e.g. "ENOENT". */
  readonly code: XsErrorName;
  constructor(code: XsErrorName, cause?: string) {
    super(cause ? `${code}: ${cause}` : code);
    this.code = code;
  }
}

/** Journal or snapshot contents that do not fit the tree (a service-side corruption, not guest input). */
export class XenstoreStateError extends Error {
  override readonly name = "XenstoreStateError";
  readonly code = "XENSTORE_STATE";
}
