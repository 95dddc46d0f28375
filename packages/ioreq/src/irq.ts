// Xen's HVM interrupt routing for the legacy PC (xen/arch/x86/hvm/irq.c, the vpic side only): ISA IRQ
// lines a device model drives with XEN_DMOP_set_isa_irq_level, PCI INTx lines
// (XEN_DMOP_set_pci_intx_level) that reach an ISA IRQ through one of the four PCI links
// (link = (device + INTx) & 3, routed by XEN_DMOP_set_pci_link_route; 0 = not routed), and the 8259
// pair they drive. The state lives in the domain's ioreq table frame (layout.ts) from word T_VPIC
// on, under a lock of its own, so the hypervisor's thread (dm_op) and the vCPU's thread (vPIC port
// I/O, the interrupt acknowledge, HLT) share it. No IOAPIC: a guest here runs in PIC mode.

import { XenErrno } from "@xensim/abi";
import { lockWord, unlockWord } from "@xensim/memory";
import { tableBase } from "./layout.js";
import { packVpic, unpackVpic, Vpic } from "./vpic.js";

/** First word of the interrupt state in the ioreq table frame (after the eight server entries). */
export const T_VPIC = 600;

export const IRQ_LOCK = 0;
/** Bumped whenever the master's INT is asserted by a change (the vCPU's HLT waits on it). */
export const IRQ_KICK = 1;
export const IRQ_CHIPS = 2; // 4 words
/** Bit n: ISA IRQ n asserted by XEN_DMOP_set_isa_irq_level. */
export const IRQ_ISA_LINES = 6;
/** Byte n: the ISA IRQ PCI link n is routed to (0 = none). */
export const IRQ_LINK_ROUTES = 7;
/** Bit (device * 4 + intx) of four words: the INTx lines asserted. */
export const IRQ_INTX = 8; // 4 words
/** Interrupts the vCPU took, spurious ones among them. */
export const IRQ_DELIVERED = 12;
export const IRQ_SPURIOUS = 13;
export const IRQ_WORDS = 14;

/** hvm_pci_intx_link. */
export function pciIntxLink(device: number, intx: number): number {
  return (device + intx) & 3;
}

/** Word index of the interrupt state in the table frame `table`. */
export function irqBase(table: number): number {
  return tableBase(table) + T_VPIC;
}

/** The ISA lines as the PIC sees them: the DM's own ISA levels OR'ed with each routed, asserted link. */
function effectiveLines(i32: Int32Array, base: number): number {
  let lines = i32[base + IRQ_ISA_LINES]! & 0xffff;
  const routes = i32[base + IRQ_LINK_ROUTES]!;
  for (let link = 0; link < 4; link++) {
    const isa = (routes >>> (link * 8)) & 0xff;
    if (!isa) continue;
    let asserted = false;
    for (let w = 0; w < 4 && !asserted; w++) {
      const bits = i32[base + IRQ_INTX + w]!;
      if (!bits) continue;
      for (let k = 0; k < 32; k++)
        if (bits & (1 << k)) {
          const n = w * 32 + k;
          if (pciIntxLink(n >> 2, n & 3) === link) {
            asserted = true;
            break;
          }
        }
    }
    if (asserted) lines |= 1 << isa;
  }
  return lines;
}

/** One domain's interrupt state in shared memory: every operation takes the lock. */
export class HvmIrq {
  constructor(
    readonly i32: Int32Array,
    readonly base: number,
  ) {}

  private locked<T>(fn: (vpic: Vpic) => T): T {
    const { i32, base } = this;
    lockWord(i32, base + IRQ_LOCK);
    let kick: boolean;
    let out: T;
    try {
      const vpic = new Vpic(unpackVpic(i32, base + IRQ_CHIPS));
      const before = vpic.interruptPending;
      out = fn(vpic);
      packVpic(vpic.state, i32, base + IRQ_CHIPS);
      kick = vpic.interruptPending && !before;
    } finally {
      unlockWord(i32, base + IRQ_LOCK);
    }
    if (kick) {
      Atomics.add(i32, base + IRQ_KICK, 1);
      Atomics.notify(i32, base + IRQ_KICK);
    }
    return out;
  }

  /** Change the line inputs with `change`, then give the PIC the edges the effective lines made. */
  private lines(change: () => void): void {
    this.locked((vpic) => {
      const before = effectiveLines(this.i32, this.base);
      change();
      const after = effectiveLines(this.i32, this.base);
      for (let irq = 0; irq < 16; irq++) {
        const bit = 1 << irq;
        if ((before ^ after) & bit) {
          if (after & bit) vpic.positiveEdge(irq);
          else vpic.negativeEdge(irq);
        }
      }
    });
  }

  /** XEN_DMOP_set_isa_irq_level: -EINVAL for an IRQ above 15 or a level other than 0 and 1. */
  setIsaIrqLevel(isaIrq: number, level: number): number {
    if (!Number.isInteger(isaIrq) || isaIrq < 0 || isaIrq > 15) return -XenErrno.EINVAL;
    if (level !== 0 && level !== 1) return -XenErrno.EINVAL;
    this.lines(() => {
      const w = this.base + IRQ_ISA_LINES;
      this.i32[w] = level ? this.i32[w]! | (1 << isaIrq) : this.i32[w]! & ~(1 << isaIrq);
    });
    return 0;
  }

  /** XEN_DMOP_set_pci_intx_level: segment and bus 0 only, device ≤ 31, INTA–INTD, level 0/1. */
  setPciIntxLevel(segment: number, bus: number, device: number, intx: number, level: number): number {
    if (segment !== 0 || bus !== 0 || device > 0x1f || device < 0 || intx > 3 || intx < 0)
      return -XenErrno.EINVAL;
    if (level !== 0 && level !== 1) return -XenErrno.EINVAL;
    const n = device * 4 + intx;
    this.lines(() => {
      const w = this.base + IRQ_INTX + (n >> 5);
      this.i32[w] = level ? this.i32[w]! | (1 << (n & 31)) : this.i32[w]! & ~(1 << (n & 31));
    });
    return 0;
  }

  /** XEN_DMOP_set_pci_link_route (hvm_set_pci_link_route): link ≤ 3, ISA IRQ ≤ 15 (0 unroutes). */
  setPciLinkRoute(link: number, isaIrq: number): number {
    if (link < 0 || link > 3 || isaIrq < 0 || isaIrq > 15) return -XenErrno.EINVAL;
    this.lines(() => {
      const w = this.base + IRQ_LINK_ROUTES;
      this.i32[w] = (this.i32[w]! & ~(0xff << (link * 8))) | (isaIrq << (link * 8));
    });
    return 0;
  }

  /** The vPIC's ports (Xen handles them itself; they never reach an ioreq server). */
  portRead(port: number): number {
    return this.locked((vpic) => vpic.read(port));
  }

  portWrite(port: number, value: number): void {
    this.locked((vpic) => vpic.write(port, value));
  }

  /** The master's INT (a lock-free peek; `acknowledge` decides under the lock). */
  get pending(): boolean {
    const w1 = Atomics.load(this.i32, this.base + IRQ_CHIPS + 1);
    return ((w1 >>> 21) & 1) === 1;
  }

  /** The vCPU's INTA cycle: the vector, or undefined when INT is not asserted. */
  acknowledge(): { vector: number; irq: number; spurious: boolean } | undefined {
    const r = this.locked((vpic) => vpic.acknowledge());
    if (r) {
      Atomics.add(this.i32, this.base + IRQ_DELIVERED, 1);
      if (r.spurious) Atomics.add(this.i32, this.base + IRQ_SPURIOUS, 1);
    }
    return r;
  }

  /** The kick word's current value (for a HLT that waits on it). */
  get kickWord(): number {
    return this.base + IRQ_KICK;
  }

  /** A snapshot for status and tests. */
  view(): { lines: number; delivered: number; spurious: number; chips: ReturnType<typeof unpackVpic> } {
    return {
      lines: effectiveLines(this.i32, this.base),
      delivered: Atomics.load(this.i32, this.base + IRQ_DELIVERED),
      spurious: Atomics.load(this.i32, this.base + IRQ_SPURIOUS),
      chips: unpackVpic(this.i32, this.base + IRQ_CHIPS),
    };
  }
}
