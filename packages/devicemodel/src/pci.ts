// PCI configuration space (type 0 headers, 256 bytes per function) and the host bridge's
// configuration mechanism #1: the emulator gets IOREQ_TYPE_PCI_CONFIG requests (addr = SBDF << 32 |
// register) for the functions it claimed, Xen having decoded CF8/CFC. BARs answer the sizing probe
// (write all-ones, read the size mask) and otherwise keep the address the firmware gave them here
// (no re-mapping of a moved BAR).

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export interface PciBar {
  /** Base address (I/O port or memory address). */
  base: number;
  /** Size in bytes, a power of two. */
  size: number;
  io: boolean;
  prefetchable?: boolean;
}

export interface PciFunctionSpec {
  /** XEN_DMOP_PCI_SBDF value (seg << 16 | bus << 8 | dev << 3 | fn). */
  sbdf: number;
  name: string;
  vendor: number;
  device: number;
  /** class << 16 | subclass << 8 | prog-if. */
  classCode: number;
  revision?: number;
  subsystemVendor?: number;
  subsystem?: number;
  interruptPin?: number;
  bars?: readonly (PciBar | undefined)[];
}

export class PciFunction {
  readonly config = new Uint8Array(256);
  private readonly bars: (PciBar | undefined)[];
  private readonly sizing = new Set<number>();

  constructor(readonly spec: PciFunctionSpec) {
    const c = new DataView(this.config.buffer);
    c.setUint16(PCI_VENDOR_ID, spec.vendor, true);
    c.setUint16(PCI_DEVICE_ID, spec.device, true);
    c.setUint16(PCI_STATUS, 0x0000, true);
    c.setUint32(PCI_CLASS_REVISION, ((spec.classCode << 8) | (spec.revision ?? 0)) >>> 0, true);
    c.setUint16(PCI_SUBSYSTEM_VENDOR_ID, spec.subsystemVendor ?? 0x5853, true);
    c.setUint16(PCI_SUBSYSTEM_VENDOR_ID + 2, spec.subsystem ?? 0x0001, true);
    c.setUint8(PCI_INTERRUPT_PIN, spec.interruptPin ?? 0);
    this.bars = [...(spec.bars ?? [])];
    this.bars.forEach((b, i) => {
      if (b) c.setUint32(PCI_BAR0 + 4 * i, this.barValue(b), true);
    });
    c.setUint16(PCI_COMMAND, this.bars.some((b) => b) ? 0x0003 : 0, true); // I/O and memory decoding on
  }

  get sbdf(): number {
    return this.spec.sbdf;
  }

  bar(i: number): PciBar | undefined {
    return this.bars[i];
  }

  private barValue(b: PciBar): number {
    return b.io ? (b.base & ~3) | 1 : ((b.base & ~0xf) | (b.prefetchable ? 8 : 0)) >>> 0;
  }

  /** A configuration read of `size` bytes at `reg` (little-endian); past 256 bytes all-ones. */
  read(reg: number, size: number): number {
    if (reg < 0 || reg + size > 256) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.config[reg + i]!;
    return v >>> 0;
  }

  /** A configuration write: command, interrupt line, BAR sizing; read-only fields stay. */
  write(reg: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const r = reg + i;
      const byte = (value >>> (8 * i)) & 0xff;
      if (r === PCI_COMMAND) this.config[r] = byte & 0x07;
      else if (r === PCI_COMMAND + 1)
        this.config[r] = byte & 0x04; // interrupt disable
      else if (r === PCI_INTERRUPT_LINE || r === 0x0c /* cache line */ || r === 0x0d /* latency */)
        this.config[r] = byte;
    }
    if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 24 && size === 4 && (reg & 3) === 0) {
      const i = (reg - PCI_BAR0) / 4;
      const b = this.bars[i];
      const dv = new DataView(this.config.buffer);
      if (!b) return;
      if (value >>> 0 === 0xffffffff) {
        // The sizing probe: the size mask with the type bits.
        const mask = (~(b.size - 1) >>> 0) & (b.io ? 0xfffffffc : 0xfffffff0);
        dv.setUint32(reg, (mask | (this.barValue(b) & (b.io ? 3 : 0xf))) >>> 0, true);
        this.sizing.add(i);
      } else {
        dv.setUint32(reg, this.barValue(b), true); // the address stays where it was placed
        this.sizing.delete(i);
      }
    }
  }

  saveState(): number[] {
    return Array.from(this.config);
  }

  loadState(bytes: readonly number[]): void {
    // Identity bytes (vendor, device, class, BAR addresses) are the machine's; the rest is restored.
    const keep = new Set([0, 1, 2, 3, 8, 9, 10, 11, 14, 0x2c, 0x2d, 0x2e, 0x2f, 0x3d]);
    bytes.slice(0, 256).forEach((b, i) => {
      if (!keep.has(i)) this.config[i] = b & 0xff;
    });
  }
}

/** The functions of a bus segment claimed by one emulator, by SBDF. */
export class PciBus {
  private readonly fns = new Map<number, PciFunction>();

  add(fn: PciFunction): PciFunction {
    this.fns.set(fn.sbdf, fn);
    return fn;
  }

  get(sbdf: number): PciFunction | undefined {
    return this.fns.get(sbdf);
  }

  functions(): PciFunction[] {
    return [...this.fns.values()];
  }
}

/** SBDF of bus 0, device `dev`, function `fn` (segment 0). */
export function sbdf(dev: number, fn = 0, bus = 0): number {
  return (bus << 8) | (dev << 3) | fn;
}
