// The firmware against the two emulators' machines, with Xen's routing done in line (classify, the
// CF8 latch, claims, all-ones for nobody) — the pure parts only; the real trap path with threads is
// in test/src/device-model.test.ts.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  IOREQ_READ,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_WRITE,
  XEN_DMOP_IO_RANGE_MEMORY,
  XEN_DMOP_IO_RANGE_PCI,
  XEN_DMOP_IO_RANGE_PORT,
} from "@xensim/abi";
import { type GuestMemory, Machine } from "@xensim/devicemodel";
import { ALL_ONES, classify, type Ioreq, type IoResult, mmioFirstByte, mmioLastByte } from "@xensim/ioreq";
import { type GuestRam, Cpu } from "./cpu.js";
import { Bios, FB_HEIGHT, FB_WIDTH, pixelAt } from "./firmware.js";

function platform(withSecondary: boolean) {
  const ram = new Uint8Array(1 << 20);
  const guestRam: GuestRam & GuestMemory = {
    read: (gpa: number | bigint, len: number) => ram.slice(Number(gpa), Number(gpa) + len),
    write: (gpa: number | bigint, b: Uint8Array) => ram.set(b, Number(gpa)),
  };
  const t = 1_700_000_000_000;
  const machines = [
    new Machine("primary", { clock: () => t }),
    ...(withSecondary ? [new Machine("secondary", { clock: () => t })] : []),
  ];
  let cf8 = 0;
  const io = {
    emulate(req: Ioreq): IoResult {
      if (req.type === IOREQ_TYPE_PIO && req.addr === 0xcf8n && req.size === 4 && req.dir === IOREQ_WRITE)
        cf8 = Number(req.data);
      const c = classify(req, cf8)!;
      for (let i = machines.length - 1; i >= 0; i--) {
        const m = machines[i]!;
        const cl = m.claims();
        let hit = false;
        if (c.type === XEN_DMOP_IO_RANGE_PORT)
          hit = cl.ports.some(([s, e]) => c.addr >= BigInt(s) && c.addr + BigInt(req.size) - 1n <= BigInt(e));
        else if (c.type === XEN_DMOP_IO_RANGE_MEMORY)
          hit = cl.memory.some(([s, e]) => mmioFirstByte(req) >= s && mmioLastByte(req) <= e);
        else if (c.type === XEN_DMOP_IO_RANGE_PCI) hit = cl.pci.includes(Number(c.addr >> 32n));
        if (!hit) continue;
        const sent =
          c.type === XEN_DMOP_IO_RANGE_PCI ? { ...req, type: IOREQ_TYPE_PCI_CONFIG, addr: c.addr } : req;
        const v = m.handle(sent, guestRam);
        return { data: req.dir === IOREQ_READ ? (v ?? 0n) : req.data, route: "server", serverId: i };
      }
      return { data: req.dir === IOREQ_READ ? ALL_ONES : req.data, route: "null" };
    },
  };
  return { cpu: new Cpu(io, guestRam), ram: guestRam, machines };
}

test("first boot: banner on COM1, RTC, the PCI bus of both emulators, the picture drawn and read back, the PCI serial greeted", () => {
  const p = platform(true);
  const bios = new Bios(p.cpu, p.ram, { name: "g1", scratchGpa: 0x10000 });
  const r = bios.run();
  assert.equal(r.boot, 1);
  assert.equal(r.kexec, false);
  assert.equal(r.rtc, "2023-11-14 22:13:20");
  assert.deepEqual(
    r.pci.map((d) => `${d.bdf} ${d.vendor.toString(16)}:${d.device.toString(16)}`),
    ["00:00.0 8086:1237", "00:01.0 8086:7000", "00:02.0 1234:1111", "00:03.0 5853:1", "00:04.0 1b36:2"],
  );
  assert.deepEqual(r.pci[2]!.bar0, { base: 0xf000_0000, size: 16 << 20, io: false });
  assert.equal(r.framebufferChecks, 8);
  assert.deepEqual(r.pciSerial, { bdf: "00:04.0", ioBase: 0xc100 });
  const com1 = new TextDecoder().decode(p.machines[0]!.serials[0]!.output().data);
  assert.match(com1, /^xensim BIOS: booting g1 \(boot 1\)\r\n/);
  assert.match(com1, /PCI 00:04\.0 1b36:0002 class 070002 BAR0 io 0000c100 size 8/);
  assert.match(com1, /xensim BIOS: boot done\r\n$/);
  assert.match(
    new TextDecoder().decode(p.machines[1]!.serials[0]!.output().data),
    /^hello from g1 on the PCI serial port 00:04\.0/,
  );
  const shot = p.machines[0]!.vga!.screenshot();
  assert.equal(shot.width * shot.height, FB_WIDTH * FB_HEIGHT);
  const vram = p.machines[0]!.vga!;
  assert.equal(Number(vram.readMem(101 * FB_WIDTH + 77, 1)), pixelAt(77, 101));
});

test("without the second emulator: no PCI serial, nothing routed to it; console input is echoed", () => {
  const p = platform(false);
  const bios = new Bios(p.cpu, p.ram, { name: "solo", scratchGpa: 0x10000, storeBytes: 8 });
  const r = bios.run();
  assert.equal(r.pciSerial, undefined);
  assert.equal(r.pci.length, 4);
  assert.equal(r.framebufferChecks, 8, "8-byte stores draw the same picture");
  p.machines[0]!.serials[0]!.input(new TextEncoder().encode("ls\r"));
  assert.equal(bios.echoInput(), 3);
  assert.match(new TextDecoder().decode(p.machines[0]!.serials[0]!.output().data), /ls\r\n$/);
});

test("a kexec'd boot finds the device state the first boot left (restored into fresh machines)", () => {
  const a = platform(true);
  new Bios(a.cpu, a.ram, { name: "k", scratchGpa: 0x10000 }).run();
  const saved = a.machines.map((m) => m.saveState());
  const b = platform(true);
  b.machines.forEach((m, i) => m.loadState(saved[i]!));
  const r = new Bios(b.cpu, b.ram, { name: "k", scratchGpa: 0x10000 }).run();
  assert.equal(r.boot, 2);
  assert.equal(r.kexec, true);
  assert.deepEqual(r.stateKept, { uart: true, rtc: true, pci: true, framebuffer: true });
  const fresh = platform(true);
  fresh.cpu.outb(0x70, 0x40);
  fresh.cpu.outb(0x71, 1); // a boot counter but none of the rest
  const lost = new Bios(fresh.cpu, fresh.ram, { name: "k", scratchGpa: 0x10000 }).run();
  assert.deepEqual(lost.stateKept, { uart: false, rtc: false, pci: false, framebuffer: false });
});
