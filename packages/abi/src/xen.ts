// xen.h: reserved domain ids, virtual IRQs, and the shared_info / vcpu_info page layouts.

import { layout, perAbi } from "./layout.js";

export type DomId = number;

/** DOMID_*: ids at or above DOMID_FIRST_RESERVED never name a real domain. */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_IDLE = 0x7fff;
export const DOMID_MASK = 0x7fff;

/** True for an id a real domain can have (0 … DOMID_FIRST_RESERVED-1). */
export function isRealDomid(domid: number): boolean {
  return Number.isInteger(domid) && domid >= 0 && domid < DOMID_FIRST_RESERVED;
}

/** VIRQ_*: virtual interrupts bound with EVTCHNOP_bind_virq. V = per-vCPU, G = global (vCPU0). */
export const VIRQ_TIMER = 0; // V
export const VIRQ_DEBUG = 1; // V
export const VIRQ_CONSOLE = 2; // G
export const VIRQ_DOM_EXC = 3; // G: a domain shut down / died (xenstored fires @releaseDomain)
export const VIRQ_TBUF = 4; // G
export const VIRQ_DEBUGGER = 6; // G
export const VIRQ_XENOPROF = 7; // V
export const VIRQ_CON_RING = 8; // G
export const VIRQ_PCPU_STATE = 9; // G
export const VIRQ_MEM_EVENT = 10; // G
export const VIRQ_ARGO = 11; // G
export const VIRQ_ENOMEM = 12; // G
export const VIRQ_XENPMU = 13; // V
export const VIRQ_ARCH_0 = 16;
export const VIRQ_ARCH_1 = 17;
export const VIRQ_ARCH_2 = 18;
export const VIRQ_ARCH_3 = 19;
export const VIRQ_ARCH_4 = 20;
export const VIRQ_ARCH_5 = 21;
export const VIRQ_ARCH_6 = 22;
export const VIRQ_ARCH_7 = 23;
export const NR_VIRQS = 24;

/** The VIRQs bound once per vCPU; all others are global and bound on vCPU 0. */
export const PER_VCPU_VIRQS: readonly number[] = Object.freeze([
  VIRQ_TIMER,
  VIRQ_DEBUG,
  VIRQ_XENOPROF,
  VIRQ_XENPMU,
]);

/** vcpu_info slots inside shared_info (x86). */
export const XEN_LEGACY_MAX_VCPUS = 32;
/** The pre-4.x name of XEN_LEGACY_MAX_VCPUS (no longer in the public headers). */
export const MAX_VIRT_CPUS = XEN_LEGACY_MAX_VCPUS;

/** sizeof(xen_ulong_t) = unsigned long: the word size of the 2-level event bitmaps. */
export const XEN_ULONG_BYTES = Object.freeze({ x86_64: 8, x86_32: 4 } as const);

/** struct vcpu_time_info (32 bytes, both ABIs). */
export const VCPU_TIME_INFO_LAYOUT = layout({
  version: 0,
  pad0: 4,
  tsc_timestamp: 8,
  system_time: 16,
  tsc_to_system_mul: 24,
  tsc_shift: 28,
  flags: 29,
  pad1: 30,
  size: 32,
});

/** struct vcpu_info (64 bytes, both ABIs). */
export const VCPU_INFO_LAYOUT = perAbi(
  { evtchn_upcall_pending: 0, evtchn_upcall_mask: 1, evtchn_pending_sel: 8, arch: 16, time: 32, size: 64 },
  { evtchn_upcall_pending: 0, evtchn_upcall_mask: 1, evtchn_pending_sel: 4, arch: 8, time: 32, size: 64 },
);

/**
 * struct shared_info: vcpu_info[32] then the 2-level event channel bitmaps (an array of
 * xen_ulong_t, bit `port % bits` of word `port / bits`). On x86_32 wc_sec_hi lives in `arch`.
 */
export const SHARED_INFO_LAYOUT = perAbi(
  {
    vcpu_info: 0,
    evtchn_pending: 2048,
    evtchn_mask: 2560,
    wc_version: 3072,
    wc_sec: 3076,
    wc_nsec: 3080,
    wc_sec_hi: 3084,
    arch: 3088,
    size: 3136,
  },
  {
    vcpu_info: 0,
    evtchn_pending: 2048,
    evtchn_mask: 2176,
    wc_version: 2304,
    wc_sec: 2308,
    wc_nsec: 2312,
    wc_sec_hi: 2340,
    arch: 2316,
    size: 2344,
  },
);
