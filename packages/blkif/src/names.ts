// Names of blkif numbers for people (traces, logs): BLKIF_OP_* and BLKIF_RSP_* in Xen's words.
import { BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_ERROR, BLKIF_RSP_OKAY, BlkifOp } from "@xensim/abi";

const OP_NAMES = new Map<number, string>(
  Object.entries(BlkifOp).map(([k, v]) => [v as number, k.toLowerCase()]),
);

/** "read", "write", "flush_diskcache", "indirect", … or "op<N>" for an unknown operation. */
export function blkifOpName(op: number): string {
  return OP_NAMES.get(op) ?? `op${op}`;
}

/** "OKAY", "ERROR", "EOPNOTSUPP" or the number. */
export function blkifRspName(status: number): string {
  return status === BLKIF_RSP_OKAY
    ? "OKAY"
    : status === BLKIF_RSP_ERROR
      ? "ERROR"
      : status === BLKIF_RSP_EOPNOTSUPP
        ? "EOPNOTSUPP"
        : String(status);
}
