// The devices' interrupt outputs: the 16550's INTR per IER (received data, THR empty), the RTC's IRQ8
// (periodic per register A's rate with B.PIE, update-ended with B.UIE, held until register C is
// read) against an injected clock, and the machine reporting each level change once to its sink.

import assert from "node:assert/strict";
import { test } from "node:test";
import { IOREQ_READ, IOREQ_TYPE_PIO, IOREQ_WRITE } from "@xensim/abi";
import { newIoreq } from "@xensim/ioreq";
import { type IrqLine, Machine } from "./machine.js";
import { CmosRtc, rtcPeriodMs } from "./rtc.js";
import { Uart16550 } from "./uart.js";

test("16550 INTR: received data with IER bit 0, THR empty with IER bit 1 until IIR reports it", () => {
  const u = new Uart16550();
  u.input(Uint8Array.of(0x41));
  assert.equal(u.irqLevel(), false, "IER 0: no interrupt");
  u.write(1, 0x01);
  assert.equal(u.irqLevel(), true);
  assert.equal(u.read(2) & 0x0f, 0x04, "IIR: received data");
  assert.equal(u.read(0), 0x41);
  assert.equal(u.irqLevel(), false, "RBR read: the line drops");
  u.write(1, 0x02);
  assert.equal(u.irqLevel(), true, "ETBEI with THR empty");
  assert.equal(u.read(2) & 0x0f, 0x02);
  assert.equal(u.irqLevel(), false, "IIR read cleared the THRE interrupt");
});

test("register A rate select → period (rates 1 and 2 are 256 and 128 Hz, 6 is 1024 Hz, 15 is 2 Hz)", () => {
  assert.equal(rtcPeriodMs(0), 0);
  assert.equal(rtcPeriodMs(1), 1000 / 256);
  assert.equal(rtcPeriodMs(2), 1000 / 128);
  assert.equal(rtcPeriodMs(6), 1000 / 1024);
  assert.equal(rtcPeriodMs(15), 500);
});

test("RTC periodic interrupt: PF and IRQF each period with PIE, held until register C is read", () => {
  let now = 1_000_000;
  const rtc = new CmosRtc(() => now);
  const cmos = (reg: number, v?: number) => {
    rtc.write(0x70, reg);
    if (v === undefined) return rtc.read(0x71);
    rtc.write(0x71, v);
    return v;
  };
  assert.equal(rtc.nextDeadline(), undefined, "nothing armed");
  cmos(0x0a, 0x2f); // 2 Hz
  cmos(0x0b, cmos(0x0b) | 0x40);
  assert.equal(rtc.nextDeadline(), now + 500);
  now += 499;
  rtc.tick(now);
  assert.equal(rtc.irqLevel(), false);
  now += 1;
  rtc.tick(now);
  assert.equal(rtc.irqLevel(), true);
  now += 500;
  rtc.tick(now);
  assert.equal(rtc.periodicCount, 2);
  assert.equal(cmos(0x0c), 0xc0, "IRQF | PF");
  assert.equal(rtc.irqLevel(), false, "reading C lowered the line");
  assert.equal(cmos(0x0c), 0x00);
  cmos(0x0b, cmos(0x0b) & ~0x40);
  assert.equal(rtc.nextDeadline(), undefined, "PIE off disarms");
});

test("RTC update-ended interrupt with UIE at each second of guest time", () => {
  let now = 5_000_250;
  const rtc = new CmosRtc(() => now);
  rtc.write(0x70, 0x0b);
  rtc.write(0x71, 0x12); // 24h, UIE
  assert.equal(rtc.nextDeadline(), 5_001_000);
  now = 5_001_000;
  rtc.tick(now);
  assert.equal(rtc.irqLevel(), true);
  rtc.write(0x70, 0x0c);
  assert.equal(rtc.read(0x71), 0x90, "IRQF | UF");
});

test("the machine reports each line change once: COM1 on ISA IRQ4, the RTC on IRQ8, pci-serial on 00:04.0 INTA", () => {
  let now = 0;
  const m = new Machine("primary", { clock: () => now });
  const seen: [IrqLine, number][] = [];
  m.onIrq = (line, level) => seen.push([line, level]);
  const out = (port: number, v: number) =>
    m.handle(
      newIoreq({ type: IOREQ_TYPE_PIO, addr: BigInt(port), size: 1, dir: IOREQ_WRITE, data: BigInt(v) }),
      undefined,
    );
  const inb = (port: number) =>
    Number(
      m.handle(newIoreq({ type: IOREQ_TYPE_PIO, addr: BigInt(port), size: 1, dir: IOREQ_READ }), undefined),
    );
  out(0x3f9, 0x01);
  assert.equal(m.serialInput(0, Uint8Array.of(0x61, 0x62)), 2);
  assert.deepEqual(seen, [[{ isa: 4 }, 1]]);
  inb(0x3f8);
  assert.equal(seen.length, 1, "still data: no change");
  inb(0x3f8);
  assert.deepEqual(seen[1], [{ isa: 4 }, 0]);
  out(0x70, 0x0a);
  out(0x71, 0x2d); // 8 Hz
  out(0x70, 0x0b);
  out(0x71, 0x42);
  now = m.nextDeadline()!;
  m.tick(now);
  assert.deepEqual(seen[2], [{ isa: 8 }, 1]);
  out(0x70, 0x0c);
  inb(0x71);
  assert.deepEqual(seen[3], [{ isa: 8 }, 0]);
  const s = new Machine("secondary", { clock: () => 0 });
  const lines: [IrqLine, number][] = [];
  s.onIrq = (line, level) => lines.push([line, level]);
  s.handle(newIoreq({ type: IOREQ_TYPE_PIO, addr: 0xc101n, size: 1, dir: IOREQ_WRITE, data: 1n }), undefined);
  s.serialInput(0, Uint8Array.of(1));
  assert.deepEqual(lines, [[{ device: 4, intx: 0 }, 1]]);
});
