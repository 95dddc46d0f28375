// What each emulator of a guest emulates and claims, and the dispatch of ioreqs to its devices.
//
//   primary   (the qemu of the guest): COM1 16550 at 0x3F8 (serial 0), CMOS RTC at 0x70/0x71, the PCI
//             host bridge (ports 0xCF8–0xCFF; 00:00.0 i440FX, 00:01.0 PIIX3 ISA bridge), 00:02.0 a
//             Bochs/std VGA (the 0xA0000 window, DAC ports 0x3C0–0x3DF, its LFB BAR), 00:03.0 the
//             Xen platform device;
//   secondary (a second emulator for the same guest): 00:04.0 a PCI 16550 (QEMU's pci-serial
//             1b36:0002) with its UART at BAR0 = I/O 0xC100 (serial 1).
//
// A guest's accesses reach each emulator only through Xen's server selection (§7), so the two never
// see each other's requests.

import {
  IOREQ_READ,
  IOREQ_TYPE_COPY,
  IOREQ_TYPE_INVALIDATE,
  IOREQ_TYPE_PCI_CONFIG,
  IOREQ_TYPE_PIO,
  IOREQ_TYPE_TIMEOFFSET,
  xenDmopPciSbdf,
} from "@xensim/abi";
import type { BufIoreq, Ioreq } from "@xensim/ioreq";
import { PciBus, PciFunction, sbdf } from "./pci.js";
import { CmosRtc, type RtcState } from "./rtc.js";
import { base64ToBytes, bytesToBase64, Uart16550, type UartState } from "./uart.js";
import { VGA_WINDOW_BASE, VGA_WINDOW_SIZE, VgaFramebuffer, type VgaState, VRAM_SIZE } from "./vga.js";

export type EmulatorRole = "primary" | "secondary";
export const EMULATOR_ROLES: readonly EmulatorRole[] = ["primary", "secondary"];

export const COM1_BASE = 0x3f8;
export const RTC_INDEX_PORT = 0x70;
export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;
export const VGA_PORTS: readonly [number, number] = [0x3c0, 0x3df];
export const VGA_LFB_BASE = 0xf000_0000;
export const VGA_LFB_BAR_SIZE = 16 * 1024 * 1024;
export const PCI_SERIAL_IO_BASE = 0xc100;
export const XEN_PLATFORM_IO_BASE = 0xc000;

/** The PCI functions of each role (firmware finds them by probing the bus). */
export const MACHINE_PCI = Object.freeze({
  hostBridge: sbdf(0),
  isaBridge: sbdf(1),
  vga: sbdf(2),
  xenPlatform: sbdf(3),
  pciSerial: sbdf(4),
});

/** Guest physical memory, as the emulator maps it (rep string accesses go through a guest buffer). */
export interface GuestMemory {
  read(gpa: bigint, len: number): Uint8Array;
  write(gpa: bigint, bytes: Uint8Array): void;
}

export interface Claims {
  /** Inclusive port ranges. */
  ports: [number, number][];
  /** Inclusive guest-physical ranges. */
  memory: [bigint, bigint][];
  /** XEN_DMOP_PCI_SBDF values. */
  pci: number[];
}

export interface MachineState {
  format: "xensim-dm-state";
  version: 1;
  role: EmulatorRole;
  serials: UartState[];
  rtc?: RtcState;
  pci: Record<string, number[]>;
  vga?: VgaState;
  pciCf8: number;
}

export interface MachineStats {
  synchronous: number;
  buffered: number;
  pciConfig: number;
  invalidate: number;
  timeoffset: number;
  unhandled: number;
}

export class MachineStateError extends Error {
  override readonly name = "MachineStateError";
  readonly code = "EINVAL";
}

interface PortDevice {
  first: number;
  last: number;
  read(port: number, size: number): number;
  write(port: number, size: number, value: number): void;
}

/** The guest's serial number of each role's first UART (`xl console -n`): COM1 is 0. */
export const SERIAL_BASE: Readonly<Record<EmulatorRole, number>> = Object.freeze({
  primary: 0,
  secondary: 1,
});

/** Where a device's interrupt output goes: an ISA IRQ (the PIC) or a PCI device's INTx pin. */
export type IrqLine = { isa: number } | { device: number; intx: number };

/** A line whose level changed: the owner tells Xen (XEN_DMOP_set_isa_irq_level / set_pci_intx_level). */
export type IrqSink = (line: IrqLine, level: 0 | 1) => void;

export const COM1_IRQ = 4;
export const RTC_IRQ = 8;

export class Machine {
  readonly serials: Uart16550[] = [];
  /** Interrupt lines changed by an access, console input or time (`syncIrqs`). */
  onIrq?: IrqSink;
  private readonly irqSources: { line: IrqLine; level: () => boolean; last: boolean }[] = [];
  readonly rtc?: CmosRtc;
  readonly vga?: VgaFramebuffer;
  readonly pci = new PciBus();
  readonly stats: MachineStats = {
    synchronous: 0,
    buffered: 0,
    pciConfig: 0,
    invalidate: 0,
    timeoffset: 0,
    unhandled: 0,
  };
  private readonly ports: PortDevice[] = [];
  private pciCf8 = 0;

  constructor(
    readonly role: EmulatorRole,
    opts: { clock: () => number },
  ) {
    if (role === "primary") {
      const com1 = new Uart16550();
      this.serials.push(com1);
      this.uartAt(COM1_BASE, com1);
      this.irqSources.push({ line: { isa: COM1_IRQ }, level: () => com1.irqLevel(), last: false });
      const rtc = new CmosRtc(opts.clock);
      this.rtc = rtc;
      this.irqSources.push({ line: { isa: RTC_IRQ }, level: () => rtc.irqLevel(), last: false });
      this.ports.push({
        first: RTC_INDEX_PORT,
        last: RTC_INDEX_PORT + 1,
        read: (p) => rtc.read(p),
        write: (p, _s, v) => rtc.write(p, v),
      });
      this.ports.push({
        first: PCI_CONFIG_ADDRESS,
        last: PCI_CONFIG_DATA + 3,
        // 0xCF8 reads back the latched address; a data access arrives here only with the enable bit
        // clear (Xen turns enabled ones into PCI_CONFIG requests): no device answers.
        read: (p, s) => (p === PCI_CONFIG_ADDRESS && s === 4 ? this.pciCf8 : 0xffffffff),
        write: (p, s, v) => {
          if (p === PCI_CONFIG_ADDRESS && s === 4) this.pciCf8 = v >>> 0;
        },
      });
      const vga = new VgaFramebuffer();
      this.vga = vga;
      this.ports.push({
        first: VGA_PORTS[0],
        last: VGA_PORTS[1],
        read: (p) => vga.readPort(p),
        write: (p, _s, v) => vga.writePort(p, v),
      });
      this.pci.add(
        new PciFunction({
          sbdf: MACHINE_PCI.hostBridge,
          name: "i440FX host bridge",
          vendor: 0x8086,
          device: 0x1237,
          classCode: 0x060000,
          revision: 2,
        }),
      );
      this.pci.add(
        new PciFunction({
          sbdf: MACHINE_PCI.isaBridge,
          name: "PIIX3 ISA bridge",
          vendor: 0x8086,
          device: 0x7000,
          classCode: 0x060100,
        }),
      );
      this.pci.add(
        new PciFunction({
          sbdf: MACHINE_PCI.vga,
          name: "std VGA",
          vendor: 0x1234,
          device: 0x1111,
          classCode: 0x030000,
          revision: 2,
          bars: [{ base: VGA_LFB_BASE, size: VGA_LFB_BAR_SIZE, io: false, prefetchable: true }],
        }),
      );
      this.pci.add(
        new PciFunction({
          sbdf: MACHINE_PCI.xenPlatform,
          name: "Xen platform device",
          vendor: 0x5853,
          device: 0x0001,
          classCode: 0xff8000,
          revision: 1,
          interruptPin: 1,
          bars: [
            { base: XEN_PLATFORM_IO_BASE, size: 0x100, io: true },
            { base: 0xf100_0000, size: 0x100_0000, io: false, prefetchable: true },
          ],
        }),
      );
    } else {
      const uart = new Uart16550();
      this.serials.push(uart);
      this.uartAt(PCI_SERIAL_IO_BASE, uart);
      const dev = (MACHINE_PCI.pciSerial >> 3) & 0x1f;
      this.irqSources.push({ line: { device: dev, intx: 0 }, level: () => uart.irqLevel(), last: false });
      this.pci.add(
        new PciFunction({
          sbdf: MACHINE_PCI.pciSerial,
          name: "PCI 16550 (pci-serial)",
          vendor: 0x1b36,
          device: 0x0002,
          classCode: 0x070002,
          revision: 1,
          interruptPin: 1,
          bars: [{ base: PCI_SERIAL_IO_BASE, size: 8, io: true }],
        }),
      );
    }
  }

  private uartAt(base: number, u: Uart16550): void {
    this.ports.push({
      first: base,
      last: base + 7,
      read: (p) => u.read(p - base),
      write: (p, _s, v) => u.write(p - base, v),
    });
  }

  /** The ranges this emulator asks Xen for (XEN_DMOP_map_io_range_to_ioreq_server). */
  claims(): Claims {
    const memory: [bigint, bigint][] = [];
    if (this.vga) {
      memory.push([BigInt(VGA_WINDOW_BASE), BigInt(VGA_WINDOW_BASE + VGA_WINDOW_SIZE - 1)]);
      memory.push([BigInt(VGA_LFB_BASE), BigInt(VGA_LFB_BASE + VRAM_SIZE - 1)]);
    }
    return {
      ports: this.ports.map((d) => [d.first, d.last]),
      memory,
      pci: this.pci
        .functions()
        .map((f) => xenDmopPciSbdf(0, (f.sbdf >> 8) & 0xff, (f.sbdf >> 3) & 0x1f, f.sbdf & 7)),
    };
  }

  private portDevice(port: number): PortDevice | undefined {
    return this.ports.find((d) => port >= d.first && port <= d.last);
  }

  private vramOffset(addr: bigint): number | undefined {
    if (!this.vga) return undefined;
    if (addr >= BigInt(VGA_WINDOW_BASE) && addr < BigInt(VGA_WINDOW_BASE + VGA_WINDOW_SIZE))
      return Number(addr) - VGA_WINDOW_BASE;
    if (addr >= BigInt(VGA_LFB_BASE) && addr < BigInt(VGA_LFB_BASE + VRAM_SIZE))
      return Number(addr) - VGA_LFB_BASE;
    return undefined;
  }

  private pioRead(port: number, size: number): bigint {
    const d = this.portDevice(port);
    if (!d) {
      this.stats.unhandled++;
      return (1n << BigInt(size * 8)) - 1n;
    }
    const v = d.read(port, size);
    return BigInt(size >= 4 ? v >>> 0 : v & ((1 << (size * 8)) - 1));
  }

  private pioWrite(port: number, size: number, value: bigint): void {
    const d = this.portDevice(port);
    if (!d) {
      this.stats.unhandled++;
      return;
    }
    d.write(
      port,
      size,
      value >= 0n && value <= 0xffff_ffffn ? Number(value) : Number(BigInt.asUintN(32, value)),
    );
  }

  private memRead(addr: bigint, size: number): bigint {
    const off = this.vramOffset(addr);
    if (off === undefined || !this.vga) {
      this.stats.unhandled++;
      return (1n << BigInt(size * 8)) - 1n;
    }
    return this.vga.readMem(off, size);
  }

  private memWrite(addr: bigint, size: number, value: bigint): void {
    const off = this.vramOffset(addr);
    if (off === undefined || !this.vga) {
      this.stats.unhandled++;
      return;
    }
    this.vga.writeMem(off, size, value);
  }

  /**
   * One synchronous request (QEMU's handle_ioreq): PIO and MMIO (COPY) reads and writes, single or
   * rep through a guest buffer (`dataIsPtr`, stepping down with `df`), PCI configuration, the
   * mapcache INVALIDATE and TIMEOFFSET. Returns a read's value.
   */
  handle(req: Ioreq, mem: GuestMemory | undefined): bigint | undefined {
    const r = this.handleAccess(req, mem);
    this.syncIrqs();
    return r;
  }

  /**
   * Tell `onIrq` about every interrupt line whose level changed since the last call (after an
   * access, console input, a `tick`, a state load). Returns how many changed.
   */
  syncIrqs(): number {
    let n = 0;
    for (const src of this.irqSources) {
      const now = src.level();
      if (now === src.last) continue;
      src.last = now;
      n++;
      this.onIrq?.(src.line, now ? 1 : 0);
    }
    return n;
  }

  /** The interrupt lines and their levels as last reported. */
  irqLevels(): { line: IrqLine; level: 0 | 1 }[] {
    return this.irqSources.map((s) => ({ line: s.line, level: s.last ? 1 : 0 }));
  }

  /** When time must next move for a device (clock ms; the RTC's timers), or undefined. */
  nextDeadline(): number | undefined {
    return this.rtc?.nextDeadline();
  }

  /** Let time pass to `now` (the RTC's periodic and update interrupts), then sync the lines. */
  tick(now: number): void {
    this.rtc?.tick(now);
    this.syncIrqs();
  }

  /** Console input into serial `n`, its line synced. Returns how many bytes were queued. */
  serialInput(n: number, bytes: Uint8Array): number | undefined {
    const u = this.serials[n];
    if (!u) return undefined;
    const queued = u.input(bytes);
    this.syncIrqs();
    return queued;
  }

  private handleAccess(req: Ioreq, mem: GuestMemory | undefined): bigint | undefined {
    this.stats.synchronous++;
    const size = req.size;
    const read = req.dir === IOREQ_READ;
    switch (req.type) {
      case IOREQ_TYPE_PIO: {
        const port = req.addr >= 0n && req.addr <= 0xffffn ? Number(req.addr) : Number(req.addr & 0xffffn);
        if (!req.dataIsPtr) {
          if (read) return this.pioRead(port, size);
          this.pioWrite(port, size, req.data);
          return undefined;
        }
        this.rep(
          req,
          mem,
          (_i) => port,
          (p) => this.pioRead(p, size),
          (p, v) => this.pioWrite(p, size, v),
        );
        return undefined;
      }
      case IOREQ_TYPE_COPY: {
        if (!req.dataIsPtr) {
          if (read) return this.memRead(req.addr, size);
          this.memWrite(req.addr, size, req.data);
          return undefined;
        }
        const step = BigInt(size) * (req.df ? -1n : 1n);
        this.rep(
          req,
          mem,
          (i) => req.addr + BigInt(i) * step,
          (a) => this.memRead(a, size),
          (a, v) => this.memWrite(a, size, v),
        );
        return undefined;
      }
      case IOREQ_TYPE_PCI_CONFIG: {
        this.stats.pciConfig++;
        const fn = this.pci.get(Number(req.addr >> 32n) & 0xffff);
        const reg = Number(req.addr & 0xfffn);
        if (!fn) {
          this.stats.unhandled++;
          return read ? (1n << BigInt(size * 8)) - 1n : undefined;
        }
        if (read) return BigInt(fn.read(reg, size));
        fn.write(reg, size, Number(req.data & 0xffff_ffffn));
        return undefined;
      }
      case IOREQ_TYPE_INVALIDATE:
        this.stats.invalidate++; // no mapcache to flush: guest memory is mapped per access
        return undefined;
      case IOREQ_TYPE_TIMEOFFSET:
        this.stats.timeoffset++;
        return undefined;
      default:
        this.stats.unhandled++;
        return undefined;
    }
  }

  /** rep ins/outs/movs through the guest buffer at `req.data` (count elements of `size`). */
  private rep<T>(
    req: Ioreq,
    mem: GuestMemory | undefined,
    target: (i: number) => T,
    devRead: (t: T) => bigint,
    devWrite: (t: T, v: bigint) => void,
  ): void {
    const size = req.size;
    const step = BigInt(size) * (req.df ? -1n : 1n);
    if (!mem || size < 1 || size > 8) {
      this.stats.unhandled++;
      return;
    }
    for (let i = 0; i < req.count; i++) {
      const gpa = req.data + BigInt(i) * step;
      const t = target(i);
      if (req.dir === IOREQ_READ) {
        const v = devRead(t);
        const b = new Uint8Array(size);
        for (let k = 0; k < size; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
        mem.write(gpa, b);
      } else {
        const b = mem.read(gpa, size);
        let v = 0n;
        for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k] ?? 0);
        devWrite(t, v);
      }
    }
  }

  /** A buffered write (QEMU treats every buffered entry as a write). */
  buffered(b: BufIoreq): void {
    this.stats.buffered++;
    if (b.type === IOREQ_TYPE_COPY) this.memWrite(BigInt(b.addr), b.size, b.data);
    else if (b.type === IOREQ_TYPE_PIO) this.pioWrite(b.addr, b.size, b.data);
    else if (b.type === IOREQ_TYPE_TIMEOFFSET) this.stats.timeoffset++;
    else this.stats.unhandled++;
    this.syncIrqs();
  }

  /** QMP xen-save-devices-state, as JSON-able data. */
  saveState(): MachineState {
    const pci: Record<string, number[]> = {};
    for (const f of this.pci.functions()) pci[f.sbdf.toString(16).padStart(4, "0")] = f.saveState();
    return {
      format: "xensim-dm-state",
      version: 1,
      role: this.role,
      serials: this.serials.map((u) => u.saveState()),
      ...(this.rtc ? { rtc: this.rtc.saveState() } : {}),
      pci,
      ...(this.vga ? { vga: this.vga.saveState(bytesToBase64) } : {}),
      pciCf8: this.pciCf8,
    };
  }

  /**
   * qemu_system_reset's device side: every device back to its power-on state; what the serial ports
   * already transmitted stays in their logs (a console reader saw it). The lines are synced.
   */
  reset(clock: () => number): void {
    const fresh = new Machine(this.role, { clock }).saveState();
    fresh.serials.forEach((u, i) => {
      const old = this.serials[i]?.saveState();
      if (old) {
        u.log = old.log;
        u.logTotal = old.logTotal;
      }
    });
    this.loadState(fresh);
    this.syncIrqs();
  }

  /** qemu -incoming: restore a saved state of the same role. */
  loadState(s: MachineState): void {
    if (s?.format !== "xensim-dm-state" || s.version !== 1)
      throw new MachineStateError("not a xensim device-model state (format/version)");
    if (s.role !== this.role)
      throw new MachineStateError(`state of a ${s.role} emulator, this is the ${this.role}`);
    s.serials.forEach((st, i) => this.serials[i]?.loadState(st));
    if (this.rtc && s.rtc) this.rtc.loadState(s.rtc);
    for (const [k, bytes] of Object.entries(s.pci)) this.pci.get(parseInt(k, 16))?.loadState(bytes);
    if (this.vga && s.vga) this.vga.loadState(s.vga, base64ToBytes);
    this.pciCf8 = s.pciCf8 >>> 0;
  }
}

export function encodeMachineState(s: MachineState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(s));
}

export function decodeMachineState(bytes: Uint8Array): MachineState {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as MachineState;
  } catch (e) {
    throw new MachineStateError(`device-model state is not JSON: ${(e as Error).message}`);
  }
}
