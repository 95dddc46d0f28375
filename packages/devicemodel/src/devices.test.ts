// The emulated devices alone: 16550 registers, the CMOS RTC against an injected clock, PCI
// configuration space and BAR sizing, the VGA memory and DAC, the machine's dispatch (rep string
// accesses through guest memory included) and its saved state.

import assert from "node:assert/strict";
import { test } from "node:test";
import { IOREQ_READ, IOREQ_TYPE_COPY, IOREQ_TYPE_PCI_CONFIG, IOREQ_TYPE_PIO, IOREQ_WRITE } from "@xensim/abi";
import { newIoreq } from "@xensim/ioreq";
import fc from "fast-check";
import {
  decodeMachineState,
  encodeMachineState,
  type GuestMemory,
  Machine,
  MACHINE_PCI,
  MachineStateError,
  PCI_SERIAL_IO_BASE,
} from "./machine.js";
import { PciFunction } from "./pci.js";
import { CmosRtc, RTC_HOURS, RTC_MINUTES, RTC_REG_B, RTC_SECONDS, RTC_YEAR } from "./rtc.js";
import { LSR_DR, LSR_THRE, Uart16550 } from "./uart.js";

const T0 = Date.UTC(2025, 4, 17, 13, 45, 30); // Sat 17 May 2025 13:45:30 UTC

test("16550: THR transmits into the log, LSR says empty and data-ready, DLAB hides the divisor, loopback, FIFO clear", () => {
  const u = new Uart16550();
  for (const c of "hi\n") u.write(0, c.charCodeAt(0));
  assert.equal(new TextDecoder().decode(u.output().data), "hi\n");
  assert.equal(u.read(5) & (LSR_THRE | 0x40), LSR_THRE | 0x40);
  assert.equal(u.read(5) & LSR_DR, 0);
  u.write(3, 0x83); // DLAB
  u.write(0, 0x01);
  u.write(1, 0x00);
  assert.equal(u.read(0), 1, "DLL");
  u.write(3, 0x03);
  u.input(new TextEncoder().encode("ok"));
  assert.equal(u.read(5) & LSR_DR, LSR_DR);
  assert.equal(u.read(0), 0x6f);
  assert.equal(u.read(0), 0x6b);
  assert.equal(u.read(5) & LSR_DR, 0);
  u.write(4, 0x10); // loopback: THR → RBR, nothing on the console
  u.write(0, 0x55);
  assert.equal(u.read(0), 0x55);
  assert.equal(u.output().next, 3);
  u.write(7, 0xa5);
  assert.equal(u.read(7), 0xa5, "scratch");
  u.write(4, 0);
  u.input(Uint8Array.of(1, 2, 3));
  u.write(2, 0x03); // FIFO enable + clear receive
  assert.equal(u.read(5) & LSR_DR, 0);
  assert.equal(u.read(2) & 0xc0, 0xc0, "FIFOs enabled in IIR");
  assert.deepEqual(u.output(1).data, new TextEncoder().encode("i\n"), "reading from an offset");
});

test("CMOS RTC: BCD 24 h from the injected clock, binary and 12 h modes, setting the time keeps an offset", () => {
  let now = T0;
  const rtc = new CmosRtc(() => now);
  const rd = (reg: number) => {
    rtc.write(0x70, reg);
    return rtc.read(0x71);
  };
  const wr = (reg: number, v: number) => {
    rtc.write(0x70, reg);
    rtc.write(0x71, v);
  };
  assert.deepEqual([rd(RTC_HOURS), rd(RTC_MINUTES), rd(RTC_SECONDS), rd(RTC_YEAR)], [0x13, 0x45, 0x30, 0x25]);
  wr(RTC_REG_B, 0x06); // binary, 24 h
  assert.equal(rd(RTC_HOURS), 13);
  wr(RTC_REG_B, 0x04); // binary, 12 h
  assert.equal(rd(RTC_HOURS), 0x80 | 1, "1 pm");
  wr(RTC_REG_B, 0x02);
  wr(RTC_MINUTES, 0x00); // the guest sets 13:00:30
  assert.equal(rd(RTC_MINUTES), 0x00);
  now += 60_000;
  assert.equal(rd(RTC_MINUTES), 0x01, "the set time runs on with the clock");
  const s = rtc.saveState();
  const again = new CmosRtc(() => now);
  again.loadState(s);
  again.write(0x70, RTC_MINUTES);
  assert.equal(again.read(0x71), 0x01);
});

test("PCI config: identity, read-only fields, command, BAR sizing probe and restore", () => {
  const f = new PciFunction({
    sbdf: 0x20,
    name: "x",
    vendor: 0x1b36,
    device: 0x0002,
    classCode: 0x070002,
    bars: [{ base: 0xc100, size: 8, io: true }],
  });
  assert.equal(f.read(0, 4), 0x0002_1b36);
  assert.equal(f.read(0x0b, 1), 0x07);
  assert.equal(f.read(0x10, 4), 0xc101);
  f.write(0, 4, 0xdeadbeef);
  assert.equal(f.read(0, 4), 0x0002_1b36, "vendor/device are read-only");
  f.write(0x10, 4, 0xffffffff);
  assert.equal(f.read(0x10, 4), 0xfffffff9, "size 8, I/O");
  f.write(0x10, 4, 0xc101);
  assert.equal(f.read(0x10, 4), 0xc101);
  f.write(0x3c, 1, 5);
  assert.equal(f.read(0x3c, 1), 5);
  assert.equal(f.read(0x100, 4), 0xffffffff, "past the configuration space");
});

function ram(): GuestMemory & { bytes: Uint8Array } {
  const bytes = new Uint8Array(0x10000);
  return {
    bytes,
    read: (gpa, len) => bytes.slice(Number(gpa), Number(gpa) + len),
    write: (gpa, b) => bytes.set(b, Number(gpa)),
  };
}

test("machine dispatch: rep outsb to COM1 from a guest buffer, rep movs into the LFB and back, PCI config by SBDF", () => {
  const m = new Machine("primary", { clock: () => T0 });
  const mem = ram();
  mem.bytes.set(new TextEncoder().encode("xensim boot\n"), 0x1000);
  m.handle(
    newIoreq({
      type: IOREQ_TYPE_PIO,
      addr: 0x3f8n,
      size: 1,
      count: 12,
      dir: IOREQ_WRITE,
      dataIsPtr: true,
      data: 0x1000n,
    }),
    mem,
  );
  assert.equal(new TextDecoder().decode(m.serials[0]!.output().data), "xensim boot\n");
  mem.bytes.set(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 0x2000);
  m.handle(
    newIoreq({
      type: IOREQ_TYPE_COPY,
      addr: 0xf000_0010n,
      size: 4,
      count: 2,
      dir: IOREQ_WRITE,
      dataIsPtr: true,
      data: 0x2000n,
    }),
    mem,
  );
  assert.equal(
    m.handle(newIoreq({ type: IOREQ_TYPE_COPY, addr: 0xa0010n, size: 4, dir: IOREQ_READ }), mem),
    0x04030201n,
    "the window and the LFB alias one VRAM",
  );
  m.handle(
    newIoreq({
      type: IOREQ_TYPE_COPY,
      addr: 0xa0014n,
      size: 4,
      count: 2,
      df: true,
      dir: IOREQ_READ,
      dataIsPtr: true,
      data: 0x3004n,
    }),
    mem,
  );
  assert.deepEqual(
    Array.from(mem.bytes.subarray(0x3000, 0x3008)),
    [1, 2, 3, 4, 5, 6, 7, 8],
    "df: both addresses step down",
  );
  const cfg = (dev: number, reg: number, size = 4) =>
    m.handle(
      newIoreq({
        type: IOREQ_TYPE_PCI_CONFIG,
        addr: (BigInt(dev) << 32n) | BigInt(reg),
        size,
        dir: IOREQ_READ,
      }),
      mem,
    );
  assert.equal(cfg(MACHINE_PCI.hostBridge, 0), 0x1237_8086n);
  assert.equal(cfg(MACHINE_PCI.vga, 0), 0x1111_1234n);
  assert.equal(cfg(MACHINE_PCI.vga, 0x10), 0xf000_0008n);
  assert.equal(cfg(MACHINE_PCI.pciSerial, 0, 2), 0xffffn, "not this emulator's function");
  const second = new Machine("secondary", { clock: () => T0 });
  assert.equal(
    second.handle(
      newIoreq({
        type: IOREQ_TYPE_PCI_CONFIG,
        addr: BigInt(MACHINE_PCI.pciSerial) << 32n,
        size: 4,
        dir: IOREQ_READ,
      }),
      mem,
    ),
    0x0002_1b36n,
  );
  second.handle(
    newIoreq({
      type: IOREQ_TYPE_PIO,
      addr: BigInt(PCI_SERIAL_IO_BASE),
      size: 1,
      dir: IOREQ_WRITE,
      data: 0x42n,
    }),
    mem,
  );
  assert.equal(new TextDecoder().decode(second.serials[0]!.output().data), "B");
  assert.deepEqual(second.claims(), { ports: [[0xc100, 0xc107]], memory: [], pci: [MACHINE_PCI.pciSerial] });
});

test("saved state: any sequence of device writes, saved and loaded into a fresh machine, saves the same (property)", () => {
  const op = fc.oneof(
    fc.record({
      k: fc.constant("port" as const),
      port: fc.constantFrom(0x3f8, 0x3f9, 0x3fb, 0x3fc, 0x3ff, 0x70, 0x71, 0x3c8, 0x3c9, 0xcf8),
      v: fc.nat({ max: 0xff }),
    }),
    fc.record({
      k: fc.constant("vram" as const),
      off: fc.nat({ max: 0x1ffff }),
      v: fc.nat({ max: 0xffffffff }),
    }),
    fc.record({
      k: fc.constant("cfg" as const),
      reg: fc.constantFrom(0x04, 0x0c, 0x10, 0x3c),
      v: fc.nat({ max: 0xffffffff }),
    }),
    fc.record({ k: fc.constant("input" as const), bytes: fc.uint8Array({ maxLength: 8 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const m = new Machine("primary", { clock: () => T0 });
      for (const o of ops) {
        if (o.k === "port")
          m.handle(
            newIoreq({
              type: IOREQ_TYPE_PIO,
              addr: BigInt(o.port),
              size: o.port === 0xcf8 ? 4 : 1,
              dir: IOREQ_WRITE,
              data: BigInt(o.v),
            }),
            undefined,
          );
        else if (o.k === "vram")
          m.buffered({
            type: IOREQ_TYPE_COPY,
            dir: IOREQ_WRITE,
            addr: 0xa0000 + o.off,
            size: 4,
            data: BigInt(o.v),
          });
        else if (o.k === "cfg")
          m.handle(
            newIoreq({
              type: IOREQ_TYPE_PCI_CONFIG,
              addr: (BigInt(MACHINE_PCI.vga) << 32n) | BigInt(o.reg),
              size: 4,
              dir: IOREQ_WRITE,
              data: BigInt(o.v),
            }),
            undefined,
          );
        else m.serials[0]!.input(o.bytes);
      }
      const saved = encodeMachineState(m.saveState());
      const fresh = new Machine("primary", { clock: () => T0 });
      fresh.loadState(decodeMachineState(saved));
      assert.deepEqual(fresh.saveState(), m.saveState());
      assert.equal(fresh.vga!.visibleHash(), m.vga!.visibleHash());
    }),
    { numRuns: 50 },
  );
  const m = new Machine("secondary", { clock: () => T0 });
  assert.throws(
    () => m.loadState(new Machine("primary", { clock: () => T0 }).saveState()),
    MachineStateError,
  );
  assert.throws(() => decodeMachineState(new TextEncoder().encode("{nope")), MachineStateError);
});
