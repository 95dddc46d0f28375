// The synchronous slot: every transition Xen's wait_for_io accepts, every one it crashes the domain
// for, and ioreq_send's refusals; the emulator's take/complete.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  IOREQ_READ,
  IOREQ_TYPE_PIO,
  IOREQ_WRITE,
  STATE_IOREQ_INPROCESS,
  STATE_IOREQ_NONE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
} from "@xensim/abi";
import fc from "fast-check";
import { ctrlState, IOREQ_CTRL_WORD, ioreqSlot, newIoreq, readIoreq } from "./codec.js";
import {
  ALL_ONES,
  dmCompleteIoreq,
  dmTakeIoreq,
  rawSetIoreqState,
  xenCheckIoreq,
  xenSendIoreq,
  xenSetVpEport,
} from "./sync.js";

function page() {
  return new Int32Array(new SharedArrayBuffer(4096));
}

const inb = newIoreq({ addr: 0x71n, size: 1, dir: IOREQ_READ, type: IOREQ_TYPE_PIO });

test("a full round trip: send READY, emulator INPROCESS then IORESP_READY, Xen takes the data and resets NONE", () => {
  const i32 = page();
  const slot = ioreqSlot(0, 3);
  assert.equal(slot, 3 * 8, "vCPU 3's slot is at byte 96");
  xenSetVpEport(i32, slot, 9);
  assert.deepEqual(xenSendIoreq(i32, slot, inb, 9), { status: "sent" });
  assert.equal(ctrlState(Atomics.load(i32, slot + IOREQ_CTRL_WORD)), STATE_IOREQ_READY);
  assert.deepEqual(xenCheckIoreq(i32, slot, STATE_IOREQ_NONE), { kind: "wait", state: STATE_IOREQ_READY });
  const req = dmTakeIoreq(i32, slot)!;
  assert.equal(req.addr, 0x71n);
  assert.equal(req.vpEport, 9);
  assert.equal(dmTakeIoreq(i32, slot), undefined, "taken once: INPROCESS is not READY");
  assert.deepEqual(xenCheckIoreq(i32, slot, STATE_IOREQ_READY), {
    kind: "wait",
    state: STATE_IOREQ_INPROCESS,
  });
  dmCompleteIoreq(i32, slot, req, 0x25n);
  assert.deepEqual(xenCheckIoreq(i32, slot, STATE_IOREQ_INPROCESS), {
    kind: "done",
    data: 0x25n,
    emulatorGone: false,
  });
  assert.equal(readIoreq(i32, slot).state, STATE_IOREQ_NONE);
  assert.equal(readIoreq(i32, slot).vpEport, 9, "the port stays for the next request");
});

test("ioreq_send refuses a slot not in NONE and a slot whose vp_eport is not the server's", () => {
  const i32 = page();
  const slot = ioreqSlot(0, 0);
  assert.deepEqual(
    xenSendIoreq(i32, slot, inb, 4),
    { status: "bad-port", port: 0 },
    "vp_eport never written (not enabled)",
  );
  xenSetVpEport(i32, slot, 4);
  rawSetIoreqState(i32, slot, STATE_IORESP_READY); // an emulator answering a slot that was not READY
  assert.deepEqual(xenSendIoreq(i32, slot, inb, 4), { status: "bad-state", state: STATE_IORESP_READY });
});

test("wait_for_io: every (previous state, state read) pair — forwards waits or completes, backwards or unknown crashes", () => {
  for (const prev of [STATE_IOREQ_NONE, STATE_IOREQ_READY, STATE_IOREQ_INPROCESS]) {
    for (let state = 0; state < 16; state++) {
      const i32 = page();
      rawSetIoreqState(i32, 0, state);
      const r = xenCheckIoreq(i32, 0, prev);
      if (state === STATE_IOREQ_NONE)
        assert.deepEqual(r, { kind: "done", data: ALL_ONES, emulatorGone: true });
      else if (state < prev) {
        assert.equal(r.kind, "crash", `${prev} -> ${state}`);
        assert.match((r as { reason: string }).reason, /Weird HVM ioreq state transition/);
      } else if (state === STATE_IOREQ_READY || state === STATE_IOREQ_INPROCESS)
        assert.deepEqual(r, { kind: "wait", state });
      else if (state === STATE_IORESP_READY) assert.equal(r.kind, "done");
      else {
        assert.equal(r.kind, "crash", `unknown state ${state}`);
        assert.match((r as { reason: string }).reason, /Weird HVM iorequest state/);
      }
    }
  }
});

test("the emulator writing READY after INPROCESS is a state going backwards: crash", () => {
  const i32 = page();
  xenSetVpEport(i32, 0, 1);
  xenSendIoreq(i32, 0, inb, 1);
  dmTakeIoreq(i32, 0);
  assert.deepEqual(xenCheckIoreq(i32, 0, STATE_IOREQ_READY), { kind: "wait", state: STATE_IOREQ_INPROCESS });
  rawSetIoreqState(i32, 0, STATE_IOREQ_READY);
  assert.equal(xenCheckIoreq(i32, 0, STATE_IOREQ_INPROCESS).kind, "crash");
});

test("a write's data is not overwritten by the response; a read gets the emulator's value (property)", () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: ALL_ONES }),
      fc.bigInt({ min: 0n, max: ALL_ONES }),
      fc.constantFrom(IOREQ_READ, IOREQ_WRITE),
      fc.nat({ max: 127 }),
      (sent, answer, dir, vcpu) => {
        const i32 = page();
        const slot = ioreqSlot(0, vcpu);
        xenSetVpEport(i32, slot, 7);
        xenSendIoreq(i32, slot, newIoreq({ addr: 0x80n, data: sent, size: 8, dir }), 7);
        const req = dmTakeIoreq(i32, slot)!;
        assert.equal(req.data, sent);
        dmCompleteIoreq(i32, slot, req, answer);
        const r = xenCheckIoreq(i32, slot, STATE_IOREQ_INPROCESS);
        assert.deepEqual(r, { kind: "done", data: dir === IOREQ_READ ? answer : sent, emulatorGone: false });
      },
    ),
  );
});
