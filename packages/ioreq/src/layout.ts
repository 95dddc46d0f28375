// Where a domain's ioreq-server state lives in the host's page store, so that any thread of the host
// process (the hypervisor's, a guest vCPU's) reads the same table: DomCtl.IOREQ_BASE of the domain's
// control block holds the number of a DOMID_XEN frame, the table, laid out in Int32 words:
//
//   0 lock (the futex mutex of @xensim/memory: Xen's ioreq_server.lock)
//   1 nr_vcpus   2 the latched 0xCF8 value (d->arch.hvm.pci_cf8)   3 crash reason (0 = none)
//   4 server instance counter   8..15 unused
//   16 + id * 64: server `id` (0–7), see S_* below.

import { MAX_NR_IOREQ_SERVERS, XEN_LEGACY_MAX_VCPUS } from "@xensim/abi";
import { DomCtl, PAGE_SIZE, type PageStore } from "@xensim/memory";

export const WORDS_PER_FRAME = PAGE_SIZE / 4;

export const T_LOCK = 0;
export const T_NR_VCPUS = 1;
export const T_CF8 = 2;
export const T_CRASHED = 3;
export const T_INSTANCES = 4;
const T_SERVERS = 16;
const SERVER_WORDS = 64;

/** Server entry words. */
export const S_FLAGS = 0;
export const S_EMULATOR = 1;
export const S_HANDLING = 2;
export const S_IOREQ_FRAME = 3;
export const S_BUF_FRAME = 4;
export const S_BUF_PORT = 5;
/** Nonzero while the server exists; a new number each time an id is reused. */
export const S_INSTANCE = 6;
/** Range-set frame of type t (XEN_DMOP_IO_RANGE_PORT / MEMORY / PCI) at S_RANGE_FRAME + t. */
export const S_RANGE_FRAME = 8;
export const S_RANGE_COUNT = 11;
/** vCPU v's ioreq event channel (the guest's Xen-consumed port) at S_PORTS + v. */
export const S_PORTS = 16;

export const F_ALLOCATED = 1;
export const F_ENABLED = 2;

/** Range types (XEN_DMOP_IO_RANGE_*). */
export const NR_IO_RANGE_TYPES = 3;

export const MAX_IOREQ_VCPUS = XEN_LEGACY_MAX_VCPUS;

/**
 * Word of the domain control block with the domain's controller pause count as the hypervisor keeps
 * it (XEN_DOMCTL_pausedomain / unpausedomain): a vCPU thread checks it before each trap and does not
 * run on while it is nonzero (vcpu_pause: the vCPU is descheduled at its next exit).
 */
export function pauseWord(store: PageStore, domid: number): number {
  return store.controlWordIndex(domid, DomCtl.IOREQ_BASE + 1);
}

/** Word of the domain control block that holds the table frame. */
export function tableWord(store: PageStore, domid: number): number {
  return store.controlWordIndex(domid, DomCtl.IOREQ_BASE);
}

/** Int32 index of server `id`'s entry in the table at `table` (a frame number). */
export function serverBase(table: number, id: number): number {
  return table * WORDS_PER_FRAME + T_SERVERS + id * SERVER_WORDS;
}

export function tableBase(table: number): number {
  return table * WORDS_PER_FRAME;
}

export const SERVER_IDS: readonly number[] = Object.freeze(
  Array.from({ length: MAX_NR_IOREQ_SERVERS }, (_, i) => MAX_NR_IOREQ_SERVERS - 1 - i),
);
