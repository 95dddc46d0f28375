// The synchronous ioreq slot, NONE → READY → INPROCESS → IORESP_READY → NONE (xen/common/ioreq.c
// ioreq_send / wait_for_io; QEMU's cpu_get_ioreq / cpu_handle_ioreq on the other side). Every check
// reads the control word (which holds `state`) exactly once (XSA-166) and decides from that value.

import {
  IOREQ_READ,
  STATE_IOREQ_INPROCESS,
  STATE_IOREQ_NONE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
} from "@xensim/abi";
import {
  ctrlState,
  ctrlWord,
  decodeIoreq,
  IOREQ_CTRL_WORD,
  IOREQ_PORT_WORD,
  type Ioreq,
  readIoreqData,
  withState,
  writeIoreqAs,
  writeIoreqData,
} from "./codec.js";

/** All ones: what a read gets when nobody answers it (Xen's `data = ~0`). */
export const ALL_ONES = 0xffff_ffff_ffff_ffffn;

// ---- Xen's side -----------------------------------------------------------------------------------

export type IoreqSendResult =
  | { status: "sent" }
  /** The emulator left the slot in a state other than NONE ("device model set bad IO state"). */
  | { status: "bad-state"; state: number }
  /** The slot's vp_eport is not the server's port for this vCPU ("device model set bad event channel"). */
  | { status: "bad-port"; port: number };

const SENT: IoreqSendResult = Object.freeze({ status: "sent" });

/**
 * ioreq_send: the slot must be NONE and carry the server's port; then the request is copied with
 * state NONE and published with state READY. The caller notifies `port` and waits. Anything else is
 * IOREQ_STATUS_UNHANDLED (for which the x86 emulator crashes the domain).
 */
export function xenSendIoreq(i32: Int32Array, slot: number, req: Ioreq, port: number): IoreqSendResult {
  const ctrl = Atomics.load(i32, slot + IOREQ_CTRL_WORD);
  const state = ctrlState(ctrl);
  if (state !== STATE_IOREQ_NONE) return { status: "bad-state", state };
  const eport = i32[slot + IOREQ_PORT_WORD]! >>> 0;
  if (eport !== port >>> 0) return { status: "bad-port", port: eport };
  writeIoreqAs(i32, slot, req, port, STATE_IOREQ_READY);
  return SENT;
}

export type IoreqCheck =
  /** Still READY or INPROCESS: wait for the next notification, then check again with `state` as prev. */
  | { kind: "wait"; state: number }
  /** Answered (IORESP_READY, now set back to NONE), or the emulator reset the slot to NONE (dying). */
  | { kind: "done"; data: bigint; emulatorGone: boolean }
  /** The state went backwards or is not a state at all: Xen crashes the domain. */
  | { kind: "crash"; reason: string };

/**
 * One check of wait_for_io. `prevState` is what the previous check saw (NONE before the first).
 * State NONE means an emulator dying raced with the request: done with all-ones.
 */
export function xenCheckIoreq(i32: Int32Array, slot: number, prevState: number): IoreqCheck {
  const ctrl = Atomics.load(i32, slot + IOREQ_CTRL_WORD);
  const state = ctrlState(ctrl);
  if (state === STATE_IOREQ_NONE) return { kind: "done", data: ALL_ONES, emulatorGone: true };
  if (state < prevState)
    return { kind: "crash", reason: `Weird HVM ioreq state transition ${prevState} -> ${state}` };
  switch (state) {
    case STATE_IORESP_READY: {
      const data = readIoreqData(i32, slot);
      Atomics.store(i32, slot + IOREQ_CTRL_WORD, withState(ctrl, STATE_IOREQ_NONE));
      return { kind: "done", data, emulatorGone: false };
    }
    case STATE_IOREQ_READY:
    case STATE_IOREQ_INPROCESS:
      return { kind: "wait", state };
    default:
      return { kind: "crash", reason: `Weird HVM iorequest state ${state}` };
  }
}

/** hvm_update_ioreq_evtchn: write the server's port into the slot (on enable). */
export function xenSetVpEport(i32: Int32Array, slot: number, port: number): void {
  Atomics.store(i32, slot + IOREQ_PORT_WORD, port | 0);
}

// ---- the emulator's side --------------------------------------------------------------------------

/**
 * Take the request in a slot the emulator was notified about: only when the (once-read) state is
 * READY. The request is copied once (XSA-197) and the slot moves to INPROCESS. undefined: nothing to do.
 */
export function dmTakeIoreq(i32: Int32Array, slot: number): Ioreq | undefined {
  const ctrl = Atomics.load(i32, slot + IOREQ_CTRL_WORD);
  if (ctrlState(ctrl) !== STATE_IOREQ_READY) return undefined;
  const req = decodeIoreq(i32, slot, ctrl);
  Atomics.store(i32, slot + IOREQ_CTRL_WORD, withState(ctrl, STATE_IOREQ_INPROCESS));
  return req;
}

/**
 * Answer a request taken with dmTakeIoreq: a read's value goes into `data` (a write, or a rep access
 * through a guest buffer, leaves it), then state IORESP_READY. The caller notifies the port.
 */
export function dmCompleteIoreq(i32: Int32Array, slot: number, req: Ioreq, data?: bigint): void {
  if (req.dir === IOREQ_READ && !req.dataIsPtr && data !== undefined) writeIoreqData(i32, slot, data);
  Atomics.store(i32, slot + IOREQ_CTRL_WORD, ctrlWord(req, STATE_IORESP_READY));
}

/** A raw state write, for tests of misbehaving emulators (any value, no checks). */
export function rawSetIoreqState(i32: Int32Array, slot: number, state: number): void {
  const ctrl = Atomics.load(i32, slot + IOREQ_CTRL_WORD);
  Atomics.store(i32, slot + IOREQ_CTRL_WORD, withState(ctrl, state));
}
