// XSA regression tests for the ioreq page (fact sheet §10): both advisories are double fetches from
// the shared ioreq page, which in the Xen of their time sat in the guest's own physmap, so the guest
// could rewrite it between two reads.
//   XSA-166: Xen's wait for the emulator read `state` more than once per check; a value changing
//            between the reads could make it act on a state it had not checked.
//   XSA-197: QEMU read the request's fields from the shared page again while emulating (after its
//            state check), so a rewrite in between changed what it emulated.
// Here every check reads the control word (state and flags) once, and the emulator works on the copy
// it took. The writer that rewrites the slot "in between" is a hook: Atomics.load of the control word
// (XSA-166), the buffered drain that runs after the take and before the emulation (XSA-197).

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  IOREQ_READ,
  IOREQ_TYPE_PIO,
  IOREQ_WRITE,
  STATE_IOREQ_INPROCESS,
  STATE_IOREQ_NONE,
  STATE_IOREQ_READY,
  STATE_IORESP_READY,
} from "@xensim/abi";
import { xenBufSend } from "./buffered.js";
import { ctrlState, IOREQ_CTRL_WORD, ioreqSlot, newIoreq, readIoreq, writeIoreq } from "./codec.js";
import { IoreqServerEnd } from "./emulator.js";
import { dmTakeIoreq, rawSetIoreqState, xenCheckIoreq, xenSendIoreq, xenSetVpEport } from "./sync.js";

/**
 * Runs `f` with Atomics.load counting the reads of word `word` of `i32` and calling `afterRead(n)`
 * right after the n-th read returned (a concurrent writer that strikes between two reads).
 */
function watchLoads<T>(
  i32: Int32Array,
  word: number,
  afterRead: (n: number) => void,
  f: () => T,
): [T, number] {
  const load = Atomics.load;
  let reads = 0;
  let writing = false; // the writer's own loads are not the reader's
  (Atomics as { load: typeof Atomics.load }).load = ((ta: Int32Array, i: number) => {
    const v = load(ta, i);
    if (ta === i32 && i === word && !writing) {
      writing = true;
      try {
        afterRead(++reads);
      } finally {
        writing = false;
      }
    }
    return v;
  }) as typeof Atomics.load;
  try {
    return [f(), reads];
  } finally {
    (Atomics as { load: typeof Atomics.load }).load = load;
  }
}

const page = () => new Int32Array(new SharedArrayBuffer(2 * 4096));
const inw = newIoreq({ addr: 0x3f8n, size: 2, dir: IOREQ_READ, type: IOREQ_TYPE_PIO });

test("XSA-166: each wait_for_io check reads the slot's state once and acts on what it read", () => {
  const i32 = page();
  const slot = ioreqSlot(0, 0);
  const ctrl = slot + IOREQ_CTRL_WORD;
  xenSetVpEport(i32, slot, 5);
  assert.equal(xenSendIoreq(i32, slot, inw, 5).status, "sent");

  // READY when read, then a hostile writer sets a state Xen would crash the guest for: Xen waits
  const [r1, n1] = watchLoads(
    i32,
    ctrl,
    () => rawSetIoreqState(i32, slot, 9),
    () => xenCheckIoreq(i32, slot, STATE_IOREQ_NONE),
  );
  assert.deepEqual(r1, { kind: "wait", state: STATE_IOREQ_READY });
  assert.equal(n1, 1, "one read of the state per check");

  // IORESP_READY when read, then flipped back to READY: the answer read is taken, the slot freed
  rawSetIoreqState(i32, slot, STATE_IORESP_READY);
  i32[slot + 2] = 0x41; // data
  const [r2, n2] = watchLoads(
    i32,
    ctrl,
    (n) => n === 1 && rawSetIoreqState(i32, slot, STATE_IOREQ_READY),
    () => xenCheckIoreq(i32, slot, STATE_IOREQ_INPROCESS),
  );
  assert.deepEqual(r2, { kind: "done", data: 0x41n, emulatorGone: false });
  assert.equal(n2, 1);

  // a backwards state when read crashes the guest even if the writer repairs it right after
  writeIoreq(i32, slot, { ...inw, vpEport: 5, state: STATE_IOREQ_READY });
  const [r3, n3] = watchLoads(
    i32,
    ctrl,
    (n) => n === 1 && rawSetIoreqState(i32, slot, STATE_IORESP_READY),
    () => xenCheckIoreq(i32, slot, STATE_IOREQ_INPROCESS),
  );
  assert.equal(r3.kind, "crash");
  assert.equal(n3, 1);

  // ioreq_send: the slot's state is read once too (NONE when read: sent)
  rawSetIoreqState(i32, slot, STATE_IOREQ_NONE);
  const [r4, n4] = watchLoads(
    i32,
    ctrl,
    (n) => n === 1 && rawSetIoreqState(i32, slot, STATE_IOREQ_INPROCESS),
    () => xenSendIoreq(i32, slot, inw, 5),
  );
  assert.equal(r4.status, "sent");
  assert.equal(n4, 1);
  assert.equal(ctrlState(Atomics.load(i32, ctrl)), STATE_IOREQ_READY, "the request published READY");
});

test("XSA-197: the emulator copies the request once; a rewrite of the slot while it emulates changes nothing", () => {
  const i32 = page();
  const bufBase = 1024;
  const slot = ioreqSlot(0, 0);
  xenSetVpEport(i32, slot, 7);
  // a buffered write queued first: QEMU drains the ring after taking the slot, before emulating
  const post = { type: IOREQ_TYPE_PIO, addr: 0x80n, data: 1n, size: 1, count: 1, dataIsPtr: false };
  assert.equal(xenBufSend(i32, bufBase, post, HVM_IOREQSRV_BUFIOREQ_ATOMIC), "handled");
  assert.equal(xenSendIoreq(i32, slot, inw, 7).status, "sent");
  const end = new IoreqServerEnd({ i32, ioreqBase: 0, bufBase, vcpuPorts: [11], bufPort: 12 });
  const seen: Array<{ addr: bigint; size: number; dir: number; count: number }> = [];
  const out = end.handleEvent(11, {
    buffered: () => {
      // the slot is INPROCESS now: a hostile writer turns the 2-byte port read into an 8-byte
      // write of PCI config space with a count of a million
      const taken = readIoreq(i32, slot);
      assert.equal(taken.state, STATE_IOREQ_INPROCESS);
      writeIoreq(i32, slot, {
        ...taken,
        addr: 0xcf8n,
        size: 8,
        count: 1_000_000,
        dir: IOREQ_WRITE,
        state: STATE_IOREQ_INPROCESS,
      });
    },
    ioreq: (req) => {
      seen.push({ addr: req.addr, size: req.size, dir: req.dir, count: req.count });
      return 0x1234n;
    },
  });
  assert.equal(out.synchronous, 1);
  assert.deepEqual(seen, [{ addr: 0x3f8n, size: 2, dir: IOREQ_READ, count: 1 }], "emulated what was taken");
  // the answer is the read Xen asked for: data in the slot, state IORESP_READY, a read's flags
  const answered = readIoreq(i32, slot);
  assert.equal(answered.state, STATE_IORESP_READY);
  assert.equal(answered.dir, IOREQ_READ);
  assert.deepEqual(xenCheckIoreq(i32, slot, STATE_IOREQ_INPROCESS), {
    kind: "done",
    data: 0x1234n,
    emulatorGone: false,
  });
  assert.equal(dmTakeIoreq(i32, slot), undefined, "nothing left to take");
});
