// The 8259 pair as a state machine (initialisation words, masks, priority, EOI, rotation, poll,
// cascade, spurious IR7, level inputs), its packed form in shared words, and the ISA / PCI INTx /
// link-route lines of irq.ts with Xen's -EINVAL for bad numbers and levels.

import assert from "node:assert/strict";
import { test } from "node:test";
import { XenErrno } from "@xensim/abi";
import fc from "fast-check";
import { HvmIrq, IRQ_WORDS } from "./irq.js";
import { packPicChip, type PicChip, unpackPicChip, unpackVpic, Vpic } from "./vpic.js";

/** What a PC BIOS / Linux does: ICW1 edge + ICW4, bases 0x20 / 0x28, cascade on IR2, 8086 mode. */
function initPair(v: Vpic, masterBase = 0x20, slaveBase = 0x28, icw4 = 0x01): void {
  v.write(0x20, 0x11);
  v.write(0x21, masterBase);
  v.write(0x21, 0x04);
  v.write(0x21, icw4);
  v.write(0xa0, 0x11);
  v.write(0xa1, slaveBase);
  v.write(0xa1, 0x02);
  v.write(0xa1, icw4);
}

test("reset state: everything masked, nothing pending, an edge is latched in IRR but not delivered", () => {
  const v = new Vpic();
  assert.equal(v.read(0x21), 0xff);
  assert.equal(v.read(0xa1), 0xff);
  v.positiveEdge(4);
  assert.equal(v.read(0x20), 0x10, "IRR (OCW3 default read)");
  assert.equal(v.interruptPending, false);
  assert.equal(v.acknowledge(), undefined);
});

test("ICW1–ICW4 program the vector bases; ICW1 clears IMR and ISR; OCW1 masks", () => {
  const v = new Vpic();
  initPair(v);
  const [m, s] = v.state.chips;
  assert.equal(m.irqBase, 0x20);
  assert.equal(s.irqBase, 0x28);
  assert.equal(m.initState, 0);
  assert.equal(m.imr, 0, "ICW1 clears IMR");
  v.write(0x21, 0xeb); // IRQ2 and IRQ4 open
  assert.equal(v.read(0x21), 0xeb);
  v.positiveEdge(4);
  assert.equal(v.interruptPending, true);
  assert.deepEqual(v.acknowledge(), { vector: 0x24, irq: 4, spurious: false });
  assert.equal(m.isr, 0x10);
  assert.equal(m.irr, 0, "edge: IRR cleared at acknowledge");
  assert.equal(v.interruptPending, false);
  // OCW3: read ISR
  v.write(0x20, 0x0b);
  assert.equal(v.read(0x20), 0x10);
  v.write(0x20, 0x0a);
  assert.equal(v.read(0x20), 0x00);
  // Non-specific EOI
  v.write(0x20, 0x20);
  assert.equal(m.isr, 0);
  // ICW1 without IC4: no ICW4 expected; single mode: no ICW3
  v.write(0x20, 0x12);
  v.write(0x21, 0x40);
  assert.equal(m.initState, 0);
  assert.equal(m.irqBase, 0x40);
});

test("a masked request waits in IRR and is delivered when unmasked", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0xff);
  v.positiveEdge(3);
  assert.equal(v.interruptPending, false);
  v.write(0x21, 0xf7);
  assert.equal(v.interruptPending, true);
  assert.equal(v.acknowledge()?.vector, 0x23);
});

test("fully nested priority: a lower-priority request waits for the EOI; a higher one preempts", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.positiveEdge(5);
  v.positiveEdge(3);
  assert.equal(v.acknowledge()?.irq, 3, "IR3 before IR5");
  assert.equal(v.interruptPending, false, "IR5 waits while IR3 is in service");
  v.positiveEdge(1);
  assert.equal(v.interruptPending, true, "IR1 preempts IR3");
  assert.equal(v.acknowledge()?.irq, 1);
  v.write(0x20, 0x20); // EOI ends IR1 (highest in service)
  assert.equal(v.state.chips[0].isr, 0x08);
  v.write(0x20, 0x63); // specific EOI IR3
  assert.equal(v.state.chips[0].isr, 0);
  assert.equal(v.acknowledge()?.irq, 5);
});

test("rotation: OCW2 set-priority and rotate-on-EOI move the lowest priority", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.write(0x20, 0xc4); // set priority: IR4 lowest, IR5 highest
  v.positiveEdge(3);
  v.positiveEdge(6);
  assert.equal(v.acknowledge()?.irq, 6, "IR6 outranks IR3 after rotation");
  v.write(0x20, 0xa0); // rotate on non-specific EOI: IR6 becomes lowest
  assert.equal(v.state.chips[0].priorityAdd, 7);
  assert.equal(v.acknowledge()?.irq, 3);
  v.write(0x20, 0xe3); // rotate on specific EOI IR3
  assert.equal(v.state.chips[0].priorityAdd, 4);
});

test("cascade: a slave request arrives through master IR2 with the slave's vector; EOIs to both", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0xfb);
  v.write(0xa1, 0xfe);
  v.positiveEdge(8);
  assert.equal(v.state.chips[1].intOutput, true);
  assert.equal(v.state.chips[0].irr & 4, 4);
  assert.deepEqual(v.acknowledge(), { vector: 0x28, irq: 8, spurious: false });
  assert.equal(v.state.chips[0].isr, 0x04);
  assert.equal(v.state.chips[1].isr, 0x01);
  v.positiveEdge(8);
  assert.equal(v.interruptPending, false, "IR8 in service on the slave and IR2 on the master");
  v.write(0xa0, 0x20);
  v.write(0x20, 0x20);
  assert.equal(v.interruptPending, true);
  assert.equal(v.acknowledge()?.vector, 0x28);
});

test("spurious IR7: a request that goes away before the acknowledge (level input dropped)", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.write(0x4d0, 0x20); // IRQ5 level-triggered
  v.positiveEdge(5);
  assert.equal(v.interruptPending, true);
  // The INTA cycle starts with INT asserted, but the line dropped (IRR follows a level input).
  v.state.chips[0].irr = 0;
  const r = v.acknowledge();
  assert.deepEqual(r, { vector: 0x27, irq: 7, spurious: true });
  assert.equal(v.state.chips[0].isr, 0, "no ISR bit for a spurious IR7");
});

test("spurious IR15 from the slave: master ISR has IR2, the slave none", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.write(0xa1, 0x00);
  v.positiveEdge(9);
  v.state.chips[1].irr = 0;
  assert.deepEqual(v.acknowledge(), { vector: 0x2f, irq: 15, spurious: true });
  assert.equal(v.state.chips[0].isr, 0x04);
  assert.equal(v.state.chips[1].isr, 0);
});

test("level inputs (ELCR): IRR follows the line; an edge input keeps its request; ELCR bits 0–2 fixed", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.write(0x4d0, 0xff);
  assert.equal(v.read(0x4d0), 0xf8, "IRQ0–2 are always edge");
  v.write(0x4d1, 0xff);
  assert.equal(v.read(0x4d1), 0xde, "IRQ8 and IRQ13 are always edge");
  v.write(0x4d0, 0x20); // IRQ5 level, IRQ3 edge
  v.write(0x4d1, 0x00);
  v.positiveEdge(3); // edge
  v.negativeEdge(3);
  assert.equal(v.state.chips[0].irr & 8, 8, "edge request stays");
  v.positiveEdge(5); // level
  v.negativeEdge(5);
  assert.equal(v.state.chips[0].irr & 0x20, 0, "level request follows the line");
  v.positiveEdge(5);
  assert.equal(v.acknowledge()?.irq, 3);
  v.write(0x20, 0x20);
  assert.equal(v.acknowledge()?.irq, 5);
  assert.equal(v.state.chips[0].irr & 0x20, 0x20, "level: IRR stays while the line is high");
  v.write(0x20, 0x20);
  assert.equal(v.interruptPending, true, "still asserted after the EOI: delivered again");
});

test("auto-EOI (ICW4 AEOI): no ISR bit; rotate in AEOI mode", () => {
  const v = new Vpic();
  initPair(v, 0x20, 0x28, 0x03);
  v.write(0x21, 0x00);
  v.write(0x20, 0x80); // rotate in AEOI: set
  v.positiveEdge(4);
  assert.equal(v.acknowledge()?.irq, 4);
  assert.equal(v.state.chips[0].isr, 0);
  assert.equal(v.state.chips[0].priorityAdd, 5);
});

test("poll mode (OCW3 P): the read acknowledges and returns 0x80 | IR, then 0", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.positiveEdge(6);
  v.write(0x20, 0x0c);
  assert.equal(v.read(0x20), 0x86);
  assert.equal(v.state.chips[0].isr, 0x40);
  v.write(0x20, 0x0c);
  assert.equal(v.read(0x20), 0x00);
});

test("special mask mode lets a lower-priority request in while a masked one is in service", () => {
  const v = new Vpic();
  initPair(v);
  v.write(0x21, 0x00);
  v.positiveEdge(1);
  assert.equal(v.acknowledge()?.irq, 1);
  v.positiveEdge(6);
  assert.equal(v.interruptPending, false);
  v.write(0x21, 0x02); // mask IR1 (in service)
  v.write(0x20, 0x68); // OCW3: set special mask
  assert.equal(v.interruptPending, true);
  assert.equal(v.acknowledge()?.irq, 6);
});

const chipArb: fc.Arbitrary<PicChip> = fc.record({
  irr: fc.nat(255),
  imr: fc.nat(255),
  isr: fc.nat(255),
  irqBase: fc.nat(31).map((x) => x * 8),
  initState: fc.nat(3),
  icw4Needed: fc.boolean(),
  single: fc.boolean(),
  priorityAdd: fc.nat(7),
  readIsr: fc.boolean(),
  poll: fc.boolean(),
  autoEoi: fc.boolean(),
  rotateOnAutoEoi: fc.boolean(),
  specialFullyNested: fc.boolean(),
  specialMask: fc.boolean(),
  elcr: fc.nat(255),
  intOutput: fc.boolean(),
});

test("packed chip words round-trip every state", () => {
  fc.assert(
    fc.property(chipArb, (c) => {
      const [w0, w1] = packPicChip(c);
      assert.deepEqual(unpackPicChip(w0, w1), { ...c });
    }),
  );
});

test("never-written words read as the reset state", () => {
  const s = unpackVpic(new Int32Array(4), 0);
  assert.equal(s.chips[0].imr, 0xff);
});

test("random port writes and line edges never leave the chips in an impossible state", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ port: fc.constantFrom(0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1), v: fc.nat(255) }),
          fc.record({ irq: fc.nat(15), up: fc.boolean() }),
          fc.constant("ack" as const),
        ),
        { maxLength: 80 },
      ),
      (ops) => {
        const v = new Vpic();
        initPair(v);
        for (const op of ops) {
          if (op === "ack") {
            const r = v.acknowledge();
            if (r) assert.ok(r.vector >= 0 && r.vector <= 255);
          } else if ("port" in op) v.write(op.port, op.v);
          else if (op.up) v.positiveEdge(op.irq);
          else v.negativeEdge(op.irq);
          for (const c of v.state.chips) {
            for (const k of ["irr", "imr", "isr", "elcr"] as const) assert.ok(c[k] >= 0 && c[k] <= 255);
            assert.ok(c.priorityAdd >= 0 && c.priorityAdd <= 7);
          }
          // The slave's INT is the master's IR2 input.
          if (v.state.chips[1].intOutput) assert.equal(v.state.chips[0].irr & 4, 4);
        }
      },
    ),
  );
});

function sharedIrq(): HvmIrq {
  return new HvmIrq(new Int32Array(new SharedArrayBuffer(IRQ_WORDS * 4 + 64)), 4);
}

test("dm_op lines: -EINVAL for IRQ > 15, level > 1, bus/segment ≠ 0, device > 31, INTx > 3, link > 3", () => {
  const irq = sharedIrq();
  const EINVAL = -XenErrno.EINVAL;
  assert.equal(irq.setIsaIrqLevel(16, 1), EINVAL);
  assert.equal(irq.setIsaIrqLevel(4, 2), EINVAL);
  assert.equal(irq.setPciIntxLevel(1, 0, 3, 0, 1), EINVAL);
  assert.equal(irq.setPciIntxLevel(0, 1, 3, 0, 1), EINVAL);
  assert.equal(irq.setPciIntxLevel(0, 0, 32, 0, 1), EINVAL);
  assert.equal(irq.setPciIntxLevel(0, 0, 3, 4, 1), EINVAL);
  assert.equal(irq.setPciIntxLevel(0, 0, 3, 0, 2), EINVAL);
  assert.equal(irq.setPciLinkRoute(4, 5), EINVAL);
  assert.equal(irq.setPciLinkRoute(0, 16), EINVAL);
  assert.equal(irq.view().lines, 0, "nothing changed");
});

test("ISA lines reach the PIC as edges; an INTx reaches it through its routed link; the vCPU is kicked", () => {
  const irq = sharedIrq();
  for (const [p, v] of [
    [0x20, 0x11],
    [0x21, 0x20],
    [0x21, 0x04],
    [0x21, 0x01],
    [0xa0, 0x11],
    [0xa1, 0x28],
    [0xa1, 0x02],
    [0xa1, 0x01],
    [0x21, 0x00],
    [0xa1, 0x00],
  ] as const)
    irq.portWrite(p, v);
  const i32 = irq.i32;
  const kick0 = Atomics.load(i32, irq.kickWord);
  assert.equal(irq.setIsaIrqLevel(4, 1), 0);
  assert.equal(irq.pending, true);
  assert.equal(Atomics.load(i32, irq.kickWord), kick0 + 1, "INT asserted: the kick word moved");
  assert.equal(irq.setIsaIrqLevel(4, 1), 0, "asserting a high line again is no new edge");
  assert.deepEqual(irq.acknowledge(), { vector: 0x24, irq: 4, spurious: false });
  assert.equal(irq.pending, false);
  irq.portWrite(0x20, 0x20);
  assert.equal(irq.setIsaIrqLevel(4, 0), 0);
  // 00:04.0 INTA → link (4 + 0) & 3 = 0; unrouted: nothing reaches the PIC.
  assert.equal(irq.setPciIntxLevel(0, 0, 4, 0, 1), 0);
  assert.equal(irq.view().lines, 0);
  assert.equal(irq.setPciLinkRoute(0, 11), 0, "routing an asserted link raises its ISA line");
  assert.equal(irq.view().lines, 1 << 11);
  assert.deepEqual(irq.acknowledge(), { vector: 0x2b, irq: 11, spurious: false });
  assert.equal(irq.view().delivered, 2);
});
