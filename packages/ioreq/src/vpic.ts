// The HVM guest's pair of 8259A interrupt controllers, as Xen emulates them itself (vpic, not the
// device model): master at ports 0x20/0x21 with the slave cascaded on its IR2, slave at 0xA0/0xA1,
// the edge/level control registers at 0x4D0/0x4D1. Initialisation words ICW1–ICW4, operation words
// OCW1 (mask), OCW2 (EOI, rotation, priority) and OCW3 (IRR/ISR read select, poll, special mask),
// fully nested priority with rotation, auto-EOI, and the spurious IR7 an acknowledge without a
// pending request returns. A pure state machine over a plain `VpicState`; `packVpic`/`unpackVpic`
// keep it in shared words (irq.ts) so the hypervisor's thread (dm_op) and the vCPU's thread (port
// I/O, interrupt acknowledge) act on one state under one lock.

export const PIC_MASTER_CMD = 0x20;
export const PIC_MASTER_DATA = 0x21;
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR_MASTER = 0x4d0;
export const PIC_ELCR_SLAVE = 0x4d1;
/** The master's input the slave's INT drives. */
export const PIC_CASCADE_IRQ = 2;
/** Which ELCR bits may be set (IRQ 0, 1, 2 and 8, 13 are always edge-triggered on a PC). */
export const ELCR_WRITABLE = [0xf8, 0xde] as const;

/** One 8259A (the fields of Xen's struct hvm_hw_vpic). */
export interface PicChip {
  /** Interrupt request register: inputs waiting for service. */
  irr: number;
  /** Interrupt mask register (OCW1). */
  imr: number;
  /** In-service register: acknowledged, not yet EOI'd. */
  isr: number;
  /** Vector of IR0 (ICW2, a multiple of 8). */
  irqBase: number;
  /** 0 ready (data port = OCW1), 1 expecting ICW2, 2 ICW3, 3 ICW4. */
  initState: number;
  /** ICW1 IC4: an ICW4 follows. */
  icw4Needed: boolean;
  /** ICW1 SNGL: no ICW3. */
  single: boolean;
  /** The IR with the highest priority is (priorityAdd + 0) & 7 (rotation). */
  priorityAdd: number;
  /** OCW3 RR/RIS: the command port reads ISR (else IRR). */
  readIsr: boolean;
  /** OCW3 P: the next command-port read is a poll. */
  poll: boolean;
  /** ICW4 AEOI. */
  autoEoi: boolean;
  /** OCW2 rotate in automatic EOI mode. */
  rotateOnAutoEoi: boolean;
  /** ICW4 SFNM (meaningful on the master). */
  specialFullyNested: boolean;
  /** OCW3 SMM. */
  specialMask: boolean;
  /** Edge/level control (1 = level). */
  elcr: number;
  /** INT: an unmasked request of higher priority than anything in service. */
  intOutput: boolean;
}

export interface VpicState {
  /** [0] master, [1] slave. */
  chips: [PicChip, PicChip];
}

export function newPicChip(): PicChip {
  return {
    irr: 0,
    imr: 0xff,
    isr: 0,
    irqBase: 0,
    initState: 0,
    icw4Needed: false,
    single: false,
    priorityAdd: 0,
    readIsr: false,
    poll: false,
    autoEoi: false,
    rotateOnAutoEoi: false,
    specialFullyNested: false,
    specialMask: false,
    elcr: 0,
    intOutput: false,
  };
}

export function newVpicState(): VpicState {
  return { chips: [newPicChip(), newPicChip()] };
}

/** The IR of highest priority set in `mask` (rotation by priorityAdd), or -1. */
export function highestPriorityIrq(chip: PicChip, mask: number): number {
  const m = mask & 0xff;
  if (!m) return -1;
  for (let p = 0; p < 8; p++) {
    const irq = (p + chip.priorityAdd) & 7;
    if (m & (1 << irq)) return irq;
  }
  return -1;
}

/** Priority level (0 highest … 7 lowest) of an IR, 8 for none. */
function level(chip: PicChip, irq: number): number {
  return irq < 0 ? 8 : (irq - chip.priorityAdd) & 7;
}

/** What the vPIC reports back to its caller after a change. */
export interface VpicEffect {
  /** The master's INT is (now) asserted: the vCPU must be kicked. */
  kick: boolean;
}

export class Vpic {
  constructor(readonly state: VpicState = newVpicState()) {}

  private get master(): PicChip {
    return this.state.chips[0];
  }
  private get slave(): PicChip {
    return this.state.chips[1];
  }

  /**
   * vpic_update_int_output: recompute INT of `chip`. The slave's INT drives the master's IR2 as a
   * level (IR2's request follows it), so recomputing the slave recomputes the master too.
   */
  private update(n: 0 | 1): void {
    if (n === 1) {
      this.state.chips[1].intOutput = this.output(this.state.chips[1], false);
      if (this.slave.intOutput) this.master.irr |= 1 << PIC_CASCADE_IRQ;
      else this.master.irr &= ~(1 << PIC_CASCADE_IRQ);
    }
    this.master.intOutput = this.output(this.master, true);
  }

  private output(chip: PicChip, isMaster: boolean): boolean {
    const pending = highestPriorityIrq(chip, chip.irr & ~chip.imr);
    let inService = chip.isr;
    if (chip.specialMask) inService &= ~chip.imr;
    // The master in special fully nested mode lets the slave interrupt again while IR2 is in service.
    if (isMaster && chip.specialFullyNested) inService &= ~(1 << PIC_CASCADE_IRQ);
    const current = highestPriorityIrq(chip, inService);
    return pending >= 0 && level(chip, pending) < level(chip, current);
  }

  private updateAll(): void {
    this.update(1);
  }

  /** A rising edge on ISA IRQ `irq` (0–15): IRR set. */
  positiveEdge(irq: number): void {
    const n = irq >= 8 ? 1 : 0;
    this.state.chips[n].irr |= 1 << (irq & 7);
    this.update(n);
  }

  /** A falling edge: a level-triggered input's IRR follows its line; an edge-triggered one stays. */
  negativeEdge(irq: number): void {
    const n = irq >= 8 ? 1 : 0;
    const chip = this.state.chips[n];
    if (chip.elcr & (1 << (irq & 7))) chip.irr &= ~(1 << (irq & 7));
    this.update(n);
  }

  /** The INT line into the vCPU (the master's output). */
  get interruptPending(): boolean {
    return this.master.intOutput;
  }

  private intack(chip: PicChip, irq: number): void {
    const bit = 1 << irq;
    const cascade = chip === this.master && irq === PIC_CASCADE_IRQ; // follows the slave's INT
    if (!(chip.elcr & bit) && !cascade) chip.irr &= ~bit; // edge: consumed; level: the line keeps it
    if (chip.autoEoi) {
      if (chip.rotateOnAutoEoi) chip.priorityAdd = (irq + 1) & 7;
    } else chip.isr |= bit;
  }

  /**
   * The vCPU's interrupt acknowledge cycle: the vector of the highest-priority request, through the
   * slave for IR2; a request that went away meanwhile gives the spurious IR7 of the chip asked (no
   * ISR bit set for it). Undefined when the master's INT is not asserted.
   */
  acknowledge(): { vector: number; irq: number; spurious: boolean } | undefined {
    if (!this.master.intOutput) return undefined;
    const m = this.master;
    const irq = highestPriorityIrq(m, m.irr & ~m.imr);
    let result: { vector: number; irq: number; spurious: boolean };
    if (irq < 0) {
      result = { vector: (m.irqBase + 7) & 0xff, irq: 7, spurious: true };
    } else {
      this.intack(m, irq);
      if (irq === PIC_CASCADE_IRQ) {
        const s = this.slave;
        const sIrq = highestPriorityIrq(s, s.irr & ~s.imr);
        if (sIrq < 0) result = { vector: (s.irqBase + 7) & 0xff, irq: 15, spurious: true };
        else {
          this.intack(s, sIrq);
          result = { vector: (s.irqBase + sIrq) & 0xff, irq: 8 + sIrq, spurious: false };
        }
      } else result = { vector: (m.irqBase + irq) & 0xff, irq, spurious: false };
    }
    this.updateAll();
    return result;
  }

  /** Is `port` one of the vPIC's (command, data, ELCR)? */
  static claims(port: number): boolean {
    return (port & ~1) === PIC_MASTER_CMD || (port & ~1) === PIC_SLAVE_CMD || (port & ~1) === PIC_ELCR_MASTER;
  }

  write(port: number, value: number): void {
    const v = value & 0xff;
    if ((port & ~1) === PIC_ELCR_MASTER) {
      const n = (port & 1) as 0 | 1;
      this.state.chips[n].elcr = v & ELCR_WRITABLE[n]!;
      return;
    }
    const n = (port & ~1) === PIC_SLAVE_CMD ? 1 : 0;
    const chip = this.state.chips[n];
    if ((port & 1) === 0) this.command(chip, v);
    else this.data(chip, v);
  }

  private command(chip: PicChip, v: number): void {
    if (v & 0x10) {
      // ICW1: start initialisation. IMR and ISR clear, IR7 lowest, read IRR, no special mask.
      chip.initState = 1;
      chip.icw4Needed = (v & 1) !== 0;
      chip.single = (v & 2) !== 0;
      chip.imr = 0;
      chip.isr = 0;
      chip.irr &= chip.elcr; // the edge sense resets: an edge input needs a new rising edge
      chip.priorityAdd = 0;
      chip.readIsr = false;
      chip.poll = false;
      chip.specialMask = false;
      chip.autoEoi = false;
      chip.rotateOnAutoEoi = false;
      chip.specialFullyNested = false;
      this.updateAll();
      return;
    }
    if (v & 0x08) {
      // OCW3
      if (v & 0x04) chip.poll = true;
      if (v & 0x02) chip.readIsr = (v & 1) !== 0;
      if (v & 0x40) chip.specialMask = (v & 0x20) !== 0;
      this.updateAll();
      return;
    }
    // OCW2: R SL EOI in bits 7..5, the IR in 2..0
    const cmd = v >> 5;
    switch (cmd) {
      case 0: // rotate in automatic EOI mode: clear
      case 4: // … set
        chip.rotateOnAutoEoi = cmd === 4;
        break;
      case 1: // non-specific EOI
      case 5: {
        // … with rotation
        const irq = highestPriorityIrq(chip, chip.isr);
        if (irq >= 0) {
          chip.isr &= ~(1 << irq);
          if (cmd === 5) chip.priorityAdd = (irq + 1) & 7;
        }
        break;
      }
      case 3: // specific EOI
      case 7: {
        // … with rotation
        const irq = v & 7;
        chip.isr &= ~(1 << irq);
        if (cmd === 7) chip.priorityAdd = (irq + 1) & 7;
        break;
      }
      case 6: // set priority: IR (v & 7) becomes the lowest
        chip.priorityAdd = ((v & 7) + 1) & 7;
        break;
      default: // 2: no operation
        break;
    }
    this.updateAll();
  }

  private data(chip: PicChip, v: number): void {
    switch (chip.initState) {
      case 0: // OCW1
        chip.imr = v;
        this.updateAll();
        return;
      case 1: // ICW2
        chip.irqBase = v & 0xf8;
        chip.initState = chip.single ? (chip.icw4Needed ? 3 : 0) : 2;
        return;
      case 2: // ICW3 (cascade wiring: fixed on a PC)
        chip.initState = chip.icw4Needed ? 3 : 0;
        return;
      default: // ICW4
        chip.autoEoi = (v & 0x02) !== 0;
        chip.specialFullyNested = (v & 0x10) !== 0;
        chip.initState = 0;
        return;
    }
  }

  read(port: number): number {
    if ((port & ~1) === PIC_ELCR_MASTER) return this.state.chips[(port & 1) as 0 | 1].elcr;
    const n = (port & ~1) === PIC_SLAVE_CMD ? 1 : 0;
    const chip = this.state.chips[n];
    if (port & 1) return chip.imr;
    if (chip.poll) {
      // A poll read acknowledges the highest request of this chip: 0x80 | IR, or 0.
      chip.poll = false;
      const irq = highestPriorityIrq(chip, chip.irr & ~chip.imr);
      if (irq < 0) return 0;
      this.intack(chip, irq);
      this.updateAll();
      return 0x80 | irq;
    }
    return chip.readIsr ? chip.isr : chip.irr;
  }
}

// ---- shared words ------------------------------------------------------------------------------------

/** Words per chip in the packed form. */
export const VPIC_CHIP_WORDS = 2;

/** Set in every packed chip: all-zero words are a vPIC nobody touched yet. */
const VALID = 1 << 22;

function b(x: boolean, shift: number): number {
  return x ? 1 << shift : 0;
}

/** Two Int32 words per chip: irr|imr<<8|isr<<16|irqBase<<24, then elcr and the mode bits. */
export function packPicChip(c: PicChip): [number, number] {
  const w0 = (c.irr & 0xff) | ((c.imr & 0xff) << 8) | ((c.isr & 0xff) << 16) | ((c.irqBase & 0xff) << 24);
  const w1 =
    (c.elcr & 0xff) |
    ((c.initState & 3) << 8) |
    b(c.icw4Needed, 10) |
    b(c.single, 11) |
    ((c.priorityAdd & 7) << 12) |
    b(c.readIsr, 15) |
    b(c.poll, 16) |
    b(c.autoEoi, 17) |
    b(c.rotateOnAutoEoi, 18) |
    b(c.specialFullyNested, 19) |
    b(c.specialMask, 20) |
    b(c.intOutput, 21) |
    VALID;
  return [w0 | 0, w1 | 0];
}

export function unpackPicChip(w0: number, w1: number): PicChip {
  const bit = (s: number) => ((w1 >>> s) & 1) === 1;
  return {
    irr: w0 & 0xff,
    imr: (w0 >>> 8) & 0xff,
    isr: (w0 >>> 16) & 0xff,
    irqBase: (w0 >>> 24) & 0xff,
    elcr: w1 & 0xff,
    initState: (w1 >>> 8) & 3,
    icw4Needed: bit(10),
    single: bit(11),
    priorityAdd: (w1 >>> 12) & 7,
    readIsr: bit(15),
    poll: bit(16),
    autoEoi: bit(17),
    rotateOnAutoEoi: bit(18),
    specialFullyNested: bit(19),
    specialMask: bit(20),
    intOutput: bit(21),
  };
}

/** A chip never written (words without the valid bit) reads as the reset state: everything masked. */
export function unpackVpic(words: ArrayLike<number>, base: number): VpicState {
  const chip = (k: number) => {
    const w0 = words[base + k * 2]! | 0;
    const w1 = words[base + k * 2 + 1]! | 0;
    return w1 & VALID ? unpackPicChip(w0, w1) : newPicChip();
  };
  return { chips: [chip(0), chip(1)] };
}

export function packVpic(state: VpicState, words: { [i: number]: number }, base: number): void {
  for (let k = 0; k < 2; k++) {
    const [w0, w1] = packPicChip(state.chips[k]!);
    words[base + k * 2] = w0;
    words[base + k * 2 + 1] = w1;
  }
}
