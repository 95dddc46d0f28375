// A guest vCPU's I/O instructions, as the firmware and drivers of an HVM guest execute them: in/out of
// 1, 2 and 4 bytes, rep ins/outs through a buffer in guest RAM, MMIO loads and stores, rep movs
// between RAM and MMIO, and PCI configuration through CF8/CFC. Each one traps into Xen (the injected
// `io`, an IoreqVcpu on the vCPU's thread) and blocks until it completes.

import { IOREQ_READ, IOREQ_TYPE_COPY, IOREQ_TYPE_PIO, IOREQ_WRITE, STATE_IOREQ_NONE } from "@xensim/abi";
import { type IoResult, newIoreq, type Ioreq } from "@xensim/ioreq";

/** The trap: Xen's emulation of one access (IoreqVcpu.emulate). */
export interface VcpuIo {
  emulate(req: Ioreq): IoResult;
  /** The interrupt window: the vector the vPIC delivers now (IoreqVcpu.takeInterrupt). */
  takeInterrupt?(): { vector: number; irq: number; spurious: boolean } | undefined;
  /** HLT: block until an interrupt is pending or `ms` pass (IoreqVcpu.halt); true if one is. */
  halt?(ms: number): boolean;
}

/** An interrupt gate's handler (the IDT entry of one vector). */
export type InterruptHandler = (vector: number, cpu: Cpu) => void;

/** The guest's own memory, by guest physical address. */
export interface GuestRam {
  read(gpa: number, len: number): Uint8Array;
  write(gpa: number, bytes: Uint8Array): void;
}

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;

const mask = (size: number) => (size >= 4 ? 0xffff_ffff : (1 << (size * 8)) - 1);

export class Cpu {
  /** Accesses by route (server / buffered / null / dropped). */
  readonly routes = { server: 0, buffered: 0, null: 0, dropped: 0, xen: 0 };
  /** EFLAGS.IF (STI / CLI). */
  interruptsEnabled = false;
  /** Interrupts taken, by vector; `unhandled`: vectors with no gate, `spurious`: the PIC's IR7s. */
  readonly interrupts = { byVector: new Map<number, number>(), total: 0, unhandled: 0, spurious: 0 };
  private readonly idt = new Map<number, InterruptHandler>();
  private inInterrupt = false;

  constructor(
    private readonly io: VcpuIo,
    private readonly ram: GuestRam,
  ) {}

  private run(req: Ioreq): IoResult {
    const r = this.io.emulate(req);
    this.routes[r.route]++;
    // The interrupt window between two instructions.
    if (this.interruptsEnabled && !this.inInterrupt) this.deliverInterrupts();
    return r;
  }

  /** Install the handler of `vector` (LIDT's table entry). */
  setInterruptHandler(vector: number, handler: InterruptHandler): void {
    this.idt.set(vector & 0xff, handler);
  }

  sti(): void {
    this.interruptsEnabled = true;
    this.deliverInterrupts();
  }

  cli(): void {
    this.interruptsEnabled = false;
  }

  /** Take every interrupt the vPIC has for us now (each handler runs with IF clear, as a gate). */
  deliverInterrupts(): number {
    if (!this.io.takeInterrupt || this.inInterrupt || !this.interruptsEnabled) return 0;
    let n = 0;
    for (let i = 0; i < 64; i++) {
      const got = this.io.takeInterrupt();
      if (!got) break;
      n++;
      this.interrupts.total++;
      this.interrupts.byVector.set(got.vector, (this.interrupts.byVector.get(got.vector) ?? 0) + 1);
      if (got.spurious) this.interrupts.spurious++;
      const handler = this.idt.get(got.vector);
      if (!handler) {
        this.interrupts.unhandled++;
        continue;
      }
      this.inInterrupt = true;
      try {
        handler(got.vector, this);
      } finally {
        this.inInterrupt = false;
      }
    }
    return n;
  }

  /**
   * STI; HLT: wait up to `ms` for an interrupt and take it. Returns how many were taken. Without an
   * interrupt path (no vPIC) it just waits.
   */
  hlt(ms: number): number {
    this.interruptsEnabled = true;
    const now = this.deliverInterrupts();
    if (now) return now;
    if (!this.io.halt) return 0;
    return this.io.halt(ms) ? this.deliverInterrupts() : 0;
  }

  private pio(port: number, size: number, dir: number, data = 0): number {
    // One object, every field (the trap path allocates nothing else of its own).
    const r = this.run({
      addr: BigInt(port & 0xffff),
      data: BigInt(data >>> 0),
      count: 1,
      size,
      vpEport: 0,
      state: STATE_IOREQ_NONE,
      dataIsPtr: false,
      dir,
      df: false,
      type: IOREQ_TYPE_PIO,
    });
    // The low 32 bits (all-ones from nobody is 64 bits wide).
    const low = r.data >= 0n && r.data <= 0xffff_ffffn ? Number(r.data) : Number(BigInt.asUintN(32, r.data));
    return low & mask(size);
  }

  inb(port: number): number {
    return this.pio(port, 1, IOREQ_READ);
  }
  inw(port: number): number {
    return this.pio(port, 2, IOREQ_READ);
  }
  inl(port: number): number {
    return this.pio(port, 4, IOREQ_READ) >>> 0;
  }
  outb(port: number, v: number): void {
    this.pio(port, 1, IOREQ_WRITE, v & 0xff);
  }
  outw(port: number, v: number): void {
    this.pio(port, 2, IOREQ_WRITE, v & 0xffff);
  }
  outl(port: number, v: number): void {
    this.pio(port, 4, IOREQ_WRITE, v >>> 0);
  }

  /** rep outsb/w/l: `count` elements from guest RAM at `gpa` (downwards with `df`). */
  outs(port: number, gpa: number, count: number, size = 1, df = false): void {
    if (count < 1) return;
    this.run(
      newIoreq({
        type: IOREQ_TYPE_PIO,
        addr: BigInt(port),
        size,
        count,
        dir: IOREQ_WRITE,
        df,
        dataIsPtr: true,
        data: BigInt(gpa),
      }),
    );
  }

  /** rep insb/w/l into guest RAM; nobody answering fills the buffer with all-ones (Xen's null handler). */
  ins(port: number, gpa: number, count: number, size = 1, df = false): void {
    if (count < 1) return;
    const r = this.run(
      newIoreq({
        type: IOREQ_TYPE_PIO,
        addr: BigInt(port),
        size,
        count,
        dir: IOREQ_READ,
        df,
        dataIsPtr: true,
        data: BigInt(gpa),
      }),
    );
    if (r.route === "null") this.fillOnes(gpa, count, size, df);
  }

  private fillOnes(gpa: number, count: number, size: number, df: boolean): void {
    const first = df ? gpa - (count - 1) * size : gpa;
    this.ram.write(first, new Uint8Array(count * size).fill(0xff));
  }

  private mmio(addr: number, size: number, dir: number, data = 0n): bigint {
    const r = this.run(newIoreq({ type: IOREQ_TYPE_COPY, addr: BigInt(addr), size, dir, data }));
    return r.data & ((1n << BigInt(size * 8)) - 1n);
  }

  read8(addr: number): number {
    return Number(this.mmio(addr, 1, IOREQ_READ));
  }
  read16(addr: number): number {
    return Number(this.mmio(addr, 2, IOREQ_READ));
  }
  read32(addr: number): number {
    return Number(this.mmio(addr, 4, IOREQ_READ));
  }
  write8(addr: number, v: number): void {
    this.mmio(addr, 1, IOREQ_WRITE, BigInt(v & 0xff));
  }
  write16(addr: number, v: number): void {
    this.mmio(addr, 2, IOREQ_WRITE, BigInt(v & 0xffff));
  }
  write32(addr: number, v: number): void {
    this.mmio(addr, 4, IOREQ_WRITE, BigInt(v >>> 0));
  }
  write64(addr: number, v: bigint): void {
    this.mmio(addr, 8, IOREQ_WRITE, BigInt.asUintN(64, v));
  }

  /** rep movs from RAM at `srcGpa` to MMIO at `dst` (`count` elements of `size`). */
  movsToMmio(dst: number, srcGpa: number, count: number, size = 4): void {
    if (count < 1) return;
    this.run(
      newIoreq({
        type: IOREQ_TYPE_COPY,
        addr: BigInt(dst),
        size,
        count,
        dir: IOREQ_WRITE,
        dataIsPtr: true,
        data: BigInt(srcGpa),
      }),
    );
  }

  /** rep movs from MMIO at `src` into RAM at `dstGpa`. */
  movsFromMmio(dstGpa: number, src: number, count: number, size = 4): void {
    if (count < 1) return;
    const r = this.run(
      newIoreq({
        type: IOREQ_TYPE_COPY,
        addr: BigInt(src),
        size,
        count,
        dir: IOREQ_READ,
        dataIsPtr: true,
        data: BigInt(dstGpa),
      }),
    );
    if (r.route === "null") this.fillOnes(dstGpa, count, size, false);
  }

  /** Configuration mechanism #1: the address into 0xCF8, the data at 0xCFC + (reg & 3). */
  pciRead(bus: number, dev: number, fn: number, reg: number, size: 1 | 2 | 4): number {
    this.outl(PCI_CONFIG_ADDRESS, (0x8000_0000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
    const port = PCI_CONFIG_DATA + (reg & 3);
    return size === 1 ? this.inb(port) : size === 2 ? this.inw(port) : this.inl(port);
  }

  pciWrite(bus: number, dev: number, fn: number, reg: number, size: 1 | 2 | 4, v: number): void {
    this.outl(PCI_CONFIG_ADDRESS, (0x8000_0000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0);
    const port = PCI_CONFIG_DATA + (reg & 3);
    if (size === 1) this.outb(port, v);
    else if (size === 2) this.outw(port, v);
    else this.outl(port, v);
  }
}
