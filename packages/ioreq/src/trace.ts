// The `ioreq` trace kind (`xensim trace --kind ioreq`): an ioreq_t or buf_ioreq_t decoded into the
// fields of a trace record, in Xen's words. Built only inside a hook's `tracer.mask & TRACE_IOREQ`
// branch: nothing here runs while nobody listens.
import {
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_INVALIDATE,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_TYPE_TIMEOFFSET,
  STATE_IOREQ_INPROCESS,
  STATE_IOREQ_NONE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
} from "@xensim/abi";
import type { BufIoreq, Ioreq } from "./codec.js";

const TYPE_NAMES: Record<number, string> = {
  [IOREQ_TYPE_PIO]: "pio",
  [IOREQ_TYPE_COPY]: "copy",
  [IOREQ_TYPE_PCI_CONFIG]: "pci_config",
  [IOREQ_TYPE_TIMEOFFSET]: "timeoffset",
  [IOREQ_TYPE_INVALIDATE]: "invalidate",
};

const STATE_NAMES: Record<number, string> = {
  [STATE_IOREQ_NONE]: "NONE",
  [STATE_IOREQ_READY]: "READY",
  [STATE_IOREQ_INPROCESS]: "INPROCESS",
  [STATE_IORESP_READY]: "IORESP_READY",
};

/** IOREQ_TYPE_* as `xensim trace` prints it (`pio`, `copy`, `pci_config`, …; unknown: the number). */
export function ioreqTypeName(type: number): string {
  return TYPE_NAMES[type] ?? String(type);
}

/** STATE_IOREQ_* by its Xen name (`READY`, `IORESP_READY`, …). */
export function ioreqStateName(state: number): string {
  return STATE_NAMES[state] ?? String(state);
}

/** A state transition, `READY->INPROCESS`. */
export function ioreqTransition(from: number, to: number): string {
  return `${ioreqStateName(from)}->${ioreqStateName(to)}`;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

export interface IoreqTraceFields {
  [field: string]: string | number | boolean;
  type: string;
  addr: string;
  size: number;
  count: number;
  dir: "read" | "write";
  data_is_ptr: boolean;
  df: boolean;
}

/**
 * The decoded fields of an ioreq_t: type, addr (hex; PCI_CONFIG: SBDF << 32 | register, also given
 * as `sbdf` and `reg`), size, count, dir, data_is_ptr, df, and `data` for a write (the value, or the
 * guest buffer's address when data_is_ptr).
 */
export function ioreqTraceFields(req: Ioreq): IoreqTraceFields {
  const f: IoreqTraceFields = {
    type: ioreqTypeName(req.type),
    addr: hex(req.addr),
    size: req.size,
    count: req.count,
    dir: req.dir === IOREQ_READ ? "read" : "write",
    data_is_ptr: req.dataIsPtr,
    df: req.df,
  };
  if (req.type === IOREQ_TYPE_PCI_CONFIG) {
    const sbdf = Number(req.addr >> 32n);
    const two = (n: number) => n.toString(16).padStart(2, "0");
    f.sbdf = `${two((sbdf >> 8) & 0xff)}:${two((sbdf >> 3) & 0x1f)}.${sbdf & 7}`;
    f.reg = hex(Number(req.addr & 0xfffn));
  }
  if (req.dir !== IOREQ_READ || req.dataIsPtr) f.data = hex(req.data);
  return f;
}

/** The decoded fields of a buf_ioreq_t (always a write: type, addr, size, data). */
export function bufIoreqTraceFields(b: BufIoreq): IoreqTraceFields {
  return {
    type: ioreqTypeName(b.type),
    addr: hex(b.addr),
    size: b.size,
    count: 1,
    dir: b.dir === IOREQ_READ ? "read" : "write",
    data_is_ptr: false,
    df: false,
    data: hex(b.data),
  };
}

/** A value as the trace prints it (hex). */
export const ioreqTraceData = hex;
