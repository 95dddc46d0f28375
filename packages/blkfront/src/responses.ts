// Checks of a backend's responses (Linux's frontend hardening in blkif_interrupt / blkif_get_final_
// status): an id the frontend never issued, one not in flight (a duplicate) or a response for
// another operation is misbehaviour, fatal for the device; the status becomes the caller's errno.
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_OKAY, BlkifOp, XenErrno } from "@xensim/abi";
import type { BlkifResponse } from "@xensim/blkif";
import type { Shadow } from "./shadow.js";

const U32 = 0x1_0000_0000;

/**
 * The shadow the response at ring index `idx` answers, or why it is not acceptable (a reason
 * string, for the log and the xenstore error node).
 */
export function matchResponse(
  rsp: BlkifResponse,
  shadow: readonly (Shadow | undefined)[],
  idx: number,
): Shadow | string {
  const id = rsp.idLo;
  if (rsp.idHi !== 0 || id >= shadow.length)
    return `response ${idx} carries unknown id ${rsp.idHi * U32 + id}`;
  const sh = shadow[id];
  if (!sh) return `response ${idx} for id ${id}, which is not in flight (duplicate)`;
  if (rsp.operation !== sh.rspOp)
    return `response ${idx} for id ${id} has operation ${rsp.operation}, request had ${sh.rspOp}`;
  return sh;
}

/** The caller's status for a response status: 0, -EOPNOTSUPP, or -EIO for anything else. */
export function responseErrno(rspStatus: number): number {
  if (rspStatus === BLKIF_RSP_OKAY) return 0;
  if (rspStatus === BLKIF_RSP_EOPNOTSUPP) return -XenErrno.EOPNOTSUPP;
  return -XenErrno.EIO;
}

/** Flush / barrier / discard still usable (an EOPNOTSUPP answer turns one off, as Linux). */
export interface BlkfrontFeatures {
  flush: boolean;
  barrier: boolean;
  discard: boolean;
}

/** As Linux: the backend answered EOPNOTSUPP to `rspOp`, so it cannot do it after all; stop asking. */
export function dropUnsupported(features: BlkfrontFeatures, rspOp: number): void {
  if (rspOp === BlkifOp.FLUSH_DISKCACHE) features.flush = false;
  else if (rspOp === BlkifOp.WRITE_BARRIER) features.barrier = false;
  else if (rspOp === BlkifOp.DISCARD) features.discard = false;
}
