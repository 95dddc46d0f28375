// The 2-level event channel ABI (event_2l.c / Linux events_2l.c) for an x86_64 guest: pending and
// mask bitmaps (xen_ulong_t = u64 words) in shared_info, a per-vCPU selector word and upcall byte in
// vcpu_info. Every bit operation is an Atomics operation on the 32-bit half of the u64 that holds
// the bit (little-endian), so a sender in one thread and a receiver in another agree bit for bit.
// Used by the hypervisor side (set pending, unmask) and by the guest side (scanPending).

import {
  EVTCHN_2L_NR_CHANNELS,
  SHARED_INFO_LAYOUT,
  VCPU_INFO_LAYOUT,
  XEN_LEGACY_MAX_VCPUS,
} from "@xensim/abi";
import type { MemView } from "@xensim/memory";

const SI = SHARED_INFO_LAYOUT.x86_64;
const VI = VCPU_INFO_LAYOUT.x86_64;
/** Ports of the 2-level ABI for a 64-bit guest. */
export const NR_2L_PORTS = EVTCHN_2L_NR_CHANNELS.x86_64;

const pendingWord = (port: number) => SI.evtchn_pending + (port >>> 5) * 4;
const maskWord = (port: number) => SI.evtchn_mask + (port >>> 5) * 4;
const bitOf = (port: number) => 1 << (port & 31);
const vcpuInfo = (vcpu: number) => SI.vcpu_info + vcpu * VI.size;

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port >= NR_2L_PORTS)
    throw new RangeError(`port ${port} out of range`);
}
function checkVcpu(vcpu: number): void {
  if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= XEN_LEGACY_MAX_VCPUS)
    throw new RangeError(`vcpu ${vcpu} out of range`);
}

/** Set the selector bit of `port` on `vcpu` and then evtchn_upcall_pending; true when a kick is due. */
function raiseSelector(si: MemView, vcpu: number, port: number): boolean {
  const word = port >>> 6;
  const sel = vcpuInfo(vcpu) + VI.evtchn_pending_sel + (word >= 32 ? 4 : 0);
  const bit = 1 << (word & 31);
  if (si.atomicOr32(sel, bit) & bit) return false;
  // evtchn_upcall_pending is byte 0 of the aligned word at vcpu_info+0 (upcall_mask is byte 1).
  return (si.atomicOr32(vcpuInfo(vcpu) + VI.evtchn_upcall_pending, 1) & 0xff) === 0;
}

/**
 * evtchn_2l_set_pending: test-and-set the pending bit; if it was clear and the port is not masked,
 * set the selector bit and the upcall flag. Returns true when `vcpu` should be kicked (the upcall
 * flag went 0 → 1). An already-pending event coalesces.
 */
export function setPending(si: MemView, vcpu: number, port: number): boolean {
  checkPort(port);
  checkVcpu(vcpu);
  const bit = bitOf(port);
  if (si.atomicOr32(pendingWord(port), bit) & bit) return false;
  if (si.atomicLoad32(maskWord(port)) & bit) return false;
  return raiseSelector(si, vcpu, port);
}

/** evtchn_2l_unmask: clear the mask bit; a pending event that arrived while masked is raised now. */
export function unmaskPort(si: MemView, vcpu: number, port: number): boolean {
  checkPort(port);
  checkVcpu(vcpu);
  const bit = bitOf(port);
  if (!(si.atomicAnd32(maskWord(port), ~bit) & bit)) return false;
  if (!(si.atomicLoad32(pendingWord(port)) & bit)) return false;
  return raiseSelector(si, vcpu, port);
}

/**
 * Re-raise a pending, unmasked port on `vcpu` (its new notify vCPU after EVTCHNOP_bind_vcpu): set
 * the selector bit and the upcall flag there. True when `vcpu` should be kicked.
 */
export function raisePending(si: MemView, vcpu: number, port: number): boolean {
  checkPort(port);
  checkVcpu(vcpu);
  const bit = bitOf(port);
  if (!(si.atomicLoad32(pendingWord(port)) & bit)) return false;
  if (si.atomicLoad32(maskWord(port)) & bit) return false;
  return raiseSelector(si, vcpu, port);
}

/** Set the mask bit (the guest does this directly). */
export function maskPort(si: MemView, port: number): void {
  checkPort(port);
  si.atomicOr32(maskWord(port), bitOf(port));
}

export function clearPending(si: MemView, port: number): void {
  checkPort(port);
  si.atomicAnd32(pendingWord(port), ~bitOf(port));
}

export function isPending(si: MemView, port: number): boolean {
  checkPort(port);
  return (si.atomicLoad32(pendingWord(port)) & bitOf(port)) !== 0;
}

export function isMasked(si: MemView, port: number): boolean {
  checkPort(port);
  return (si.atomicLoad32(maskWord(port)) & bitOf(port)) !== 0;
}

/** vcpu_info.evtchn_upcall_pending of `vcpu`. */
export function upcallPending(si: MemView, vcpu: number): boolean {
  checkVcpu(vcpu);
  return (si.atomicLoad32(vcpuInfo(vcpu)) & 0xff) !== 0;
}

export interface ScanOptions {
  /**
   * Scan every bitmap word, not only those the selector names (the slow-timer rescan that makes a
   * lost wake-up a delay, never a loss).
   */
  full?: boolean;
  /**
   * The notify vCPU of a port (Xen's `notify_vcpu_id`, read from the shared port table:
   * `EventChannels.portVcpuReader(domid)`). Only ports bound to the scanning `vcpu` are cleared and
   * dispatched; the others stay pending for their own vCPU, whose selector the set-pending path
   * raised (Linux's `cpu_evtchn_mask` filter). Omitted: every port counts as this vCPU's — right
   * only for a domain with one receiver.
   */
  notifyVcpu?: (port: number) => number;
}

/**
 * The guest's upcall loop (Linux's 2-level handler): clear evtchn_upcall_pending, exchange the
 * selector with 0, and for each selected word take `pending & ~mask` of the ports whose notify vCPU
 * is `vcpu` (`opts.notifyVcpu`; ports of other vCPUs are left untouched); each bit is cleared with an
 * atomic AND before `handler(port)` runs, and only the thread whose AND cleared it dispatches it —
 * so an event is dispatched once per pending 0 → 1 transition however many threads scan or wake-ups
 * arrive. Repeats while new upcalls arrived during the scan. Returns the number dispatched.
 */
export function scanPending(
  si: MemView,
  vcpu: number,
  handler: (port: number) => void,
  opts: ScanOptions = {},
): number {
  checkVcpu(vcpu);
  const info = vcpuInfo(vcpu);
  const selLo = info + VI.evtchn_pending_sel;
  const owner = opts.notifyVcpu;
  let n = 0;
  do {
    si.atomicAnd32(info + VI.evtchn_upcall_pending, ~0xff);
    const sel = [si.atomicAnd32(selLo, 0), si.atomicAnd32(selLo + 4, 0)];
    if (opts.full) sel[0] = sel[1] = 0xffffffff;
    for (let half = 0; half < 2; half++) {
      let s = sel[half]!;
      while (s !== 0) {
        const i = 31 - Math.clz32(s & -s);
        s &= s - 1;
        const word = half * 32 + i; // u64 word index
        for (let h = 0; h < 2; h++) {
          const off = (word * 2 + h) * 4;
          let bits = si.atomicLoad32(SI.evtchn_pending + off) & ~si.atomicLoad32(SI.evtchn_mask + off);
          while (bits !== 0) {
            const b = bits & -bits;
            bits &= bits - 1;
            const port = (word * 2 + h) * 32 + (31 - Math.clz32(b));
            // Another vCPU's port: leave it pending; its owner's selector was raised for it.
            if (owner && owner(port) !== vcpu) continue;
            if (si.atomicAnd32(SI.evtchn_pending + off, ~b) & b) {
              n++;
              handler(port);
            }
          }
        }
      }
    }
  } while (upcallPending(si, vcpu));
  return n;
}

/** Bytes of one vcpu_info in shared_info (x86_64 and x86_32 alike). */
export const VCPU_INFO_SIZE = VI.size;

/**
 * Int32 index (into the page store's i32) of `vcpu`'s wake word, given the domain's shared_info
 * frame: the aligned word at vcpu_info+0 whose low byte is evtchn_upcall_pending. A receiver waits on
 * it (Atomics.wait / waitAsync) while that byte is 0; the kick is Atomics.notify on the same word.
 */
export function wakeWordIndex(sharedInfoFrame: number, vcpu: number): number {
  return (sharedInfoFrame * 4096 + vcpu * VI.size) / 4;
}
