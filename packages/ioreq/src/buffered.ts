// The buffered ioreq page (struct buffered_iopage): read_pointer u32 @0, write_pointer u32 @4 (one
// 64-bit word, `full`, for cmpxchg), 511 buf_ioreq slots @8, slot = pointer mod 511. Xen writes
// slots and write_pointer (xen/common/ioreq.c ioreq_send_buffered); the emulator consumes and adds
// to read_pointer atomically (QEMU handle_buffered_iopage). Pointers are u32 and wrap.

import { HVM_IOREQSRV_BUFIOREQ_ATOMIC, IOREQ_BUFFER_SLOT_NUM, IOREQ_WRITE } from "@xensim/abi";
import {
  BUF_READ_POINTER_WORD,
  BUF_WRITE_POINTER_WORD,
  type BufIoreq,
  bufSizeCode,
  bufSlot,
  bufWord0,
  decodeBufWord0,
} from "./codec.js";

const SLOTS = IOREQ_BUFFER_SLOT_NUM;

const i64Views = new WeakMap<ArrayBufferLike, BigInt64Array>();
function i64Of(i32: Int32Array): BigInt64Array {
  let v = i64Views.get(i32.buffer);
  if (!v) {
    v = new BigInt64Array(i32.buffer);
    i64Views.set(i32.buffer, v);
  }
  return v;
}

/** What Xen's buffered send did with a request. */
export type BufSendResult =
  /** Queued (and the buffered port is to be notified). */
  | "handled"
  /** Not bufferable (address above 1 MiB, a guest-buffer pointer, or count ≠ 1): Xen returns 0 and drops it. */
  | "dropped"
  /** Full, or an access size a buf_ioreq cannot carry: IOREQ_STATUS_UNHANDLED, the caller goes synchronous. */
  | "unhandled";

export interface BufSendRequest {
  type: number;
  addr: bigint;
  data: bigint;
  size: number;
  count: number;
  dataIsPtr: boolean;
}

/**
 * Xen's ioreq_send_buffered on the page at word `base` (the caller holds the server's bufioreq lock).
 * Full when `write − read ≥ 511 − qw` in u32 arithmetic — which also covers a read_pointer an
 * emulator pushed past the write_pointer. With HVM_IOREQSRV_BUFIOREQ_ATOMIC both pointers are then
 * rebased by a multiple of 511 with a 64-bit cmpxchg once read ≥ 511 (at most 511 tries).
 */
export function xenBufSend(
  i32: Int32Array,
  base: number,
  req: BufSendRequest,
  handling: number,
): BufSendResult {
  if (req.addr > 0xfffffn || req.dataIsPtr || req.count !== 1) return "dropped";
  const code = bufSizeCode(req.size);
  if (code === undefined) return "unhandled";
  let qw = code === 3 ? 1 : 0;
  const rpW = base + BUF_READ_POINTER_WORD;
  const wpW = base + BUF_WRITE_POINTER_WORD;
  const wp = Atomics.load(i32, wpW) >>> 0;
  const rp = Atomics.load(i32, rpW) >>> 0;
  if ((wp - rp) >>> 0 >= SLOTS - qw) return "unhandled";
  const word0 = bufWord0(req.type, IOREQ_WRITE, code, Number(req.addr));
  const s0 = bufSlot(base, wp);
  i32[s0] = word0;
  i32[s0 + 1] = Number(req.data & 0xffff_ffffn) | 0;
  if (qw) {
    const s1 = bufSlot(base, (wp + 1) >>> 0);
    i32[s1] = word0;
    i32[s1 + 1] = Number((req.data >> 32n) & 0xffff_ffffn) | 0;
  }
  // The slots are visible before the pointer: the pointer moves with an Atomics store (seq-cst).
  Atomics.store(i32, wpW, (wp + (qw ? 2 : 1)) | 0);
  if (handling === HVM_IOREQSRV_BUFIOREQ_ATOMIC) {
    const i64 = i64Of(i32);
    const fullIdx = (i32.byteOffset / 4 + base) / 2; // the page is page-aligned, so 8-aligned
    while (qw++ < SLOTS && Atomics.load(i32, rpW) >>> 0 >= SLOTS) {
      const old = Atomics.load(i64, fullIdx);
      const oldRead = Number(BigInt.asUintN(32, old));
      const oldWrite = Number(BigInt.asUintN(32, old >> 32n));
      const n = Math.floor(oldRead / SLOTS);
      const newRead = oldRead - n * SLOTS;
      const newWrite = (oldWrite - n * SLOTS) >>> 0;
      const next = BigInt.asIntN(64, (BigInt(newWrite) << 32n) | BigInt(newRead));
      Atomics.compareExchange(i64, fullIdx, old, next);
    }
  }
  return "handled";
}

export type BufDrainResult =
  | { status: "ok"; handled: number }
  /** write − read is more than 511 slots: the emulator does not trust the page (QEMU would loop). */
  | { status: "bad-pointers"; handled: number; read: number; write: number }
  /** An 8-byte request whose second slot is not written yet (QEMU's hw_error "Incomplete read"). */
  | { status: "incomplete"; handled: number; read: number; write: number };

/**
 * The emulator's side (QEMU handle_buffered_iopage): read rp, wp, re-read rp (retry if it moved);
 * each entry is a write of 1/2/4/8 bytes (8 = two slots, the second carries the upper half); after
 * handling, read_pointer += 1 or 2 atomically. Stops after `max` requests.
 */
export function dmDrainBuffered(
  i32: Int32Array,
  base: number,
  handle: (req: BufIoreq) => void,
  max = Number.POSITIVE_INFINITY,
): BufDrainResult {
  const rpW = base + BUF_READ_POINTER_WORD;
  const wpW = base + BUF_WRITE_POINTER_WORD;
  let handled = 0;
  while (handled < max) {
    const rp = Atomics.load(i32, rpW) >>> 0;
    const wp = Atomics.load(i32, wpW) >>> 0;
    if (Atomics.load(i32, rpW) >>> 0 !== rp) continue;
    if (rp === wp) break;
    if ((wp - rp) >>> 0 > SLOTS) return { status: "bad-pointers", handled, read: rp, write: wp };
    const s0 = bufSlot(base, rp);
    const w = decodeBufWord0(i32[s0]!);
    const size = 1 << w.sizeCode;
    let data = BigInt(i32[s0 + 1]! >>> 0);
    const qw = size === 8;
    if (qw) {
      if ((rp + 1) >>> 0 === wp) return { status: "incomplete", handled, read: rp, write: wp };
      data |= BigInt(i32[bufSlot(base, (rp + 1) >>> 0) + 1]! >>> 0) << 32n;
    }
    handle({ type: w.type, dir: w.dir, size, addr: w.addr, data });
    Atomics.add(i32, rpW, qw ? 2 : 1);
    handled++;
  }
  return { status: "ok", handled };
}

/** Requests queued (write − read, u32). */
export function bufPending(i32: Int32Array, base: number): number {
  return (
    (Atomics.load(i32, base + BUF_WRITE_POINTER_WORD) - Atomics.load(i32, base + BUF_READ_POINTER_WORD)) >>> 0
  );
}
