// The firmware of an xensim HVM guest ("xensim BIOS"): what SeaBIOS and hvmloader do that reaches the
// device model, as port, MMIO and PCI-config accesses on a vCPU — it sets up COM1 and prints a boot
// banner, reads the CMOS RTC, probes PCI bus 0 (vendor, device, class, BAR sizes), programs the VGA
// palette and draws into the framebuffer (single stores into the 0xA0000 window: Xen's buffered path),
// reads pixels back through the linear framebuffer, and greets through a PCI serial port when another
// emulator provides one. A boot counter in CMOS tells a kexec'd boot (soft reset), which then checks
// that the device state the first boot left is still there instead of drawing again.
//
// After boot the firmware runs on interrupts: it programs the 8259 pair (Xen's vpic), opens IRQ4 for
// COM1's received-data interrupt (console input is echoed from the interrupt handler, not polled)
// and, when asked, IRQ8 for the RTC's periodic interrupt (register B.PIE; each one acknowledged by
// reading register C), and counts them.
//
// Only PC platform facts are built in (COM1 0x3F8, CMOS 0x70/0x71, CF8/CFC, the VGA window and DAC);
// everything else is found on the PCI bus.

import { Cpu, type GuestRam } from "./cpu.js";

export const COM1 = 0x3f8;
export const CMOS_INDEX = 0x70;
export const CMOS_DATA = 0x71;
export const VGA_WINDOW = 0xa0000;
export const VGA_DAC_WRITE_INDEX = 0x3c8;
export const VGA_DAC_DATA = 0x3c9;
/** CMOS bytes the firmware owns (past the RTC's): a boot counter and a signature. */
export const CMOS_BOOT_COUNT = 0x40;
export const CMOS_SIGNATURE = 0x41;
export const SIGNATURE = 0xa5;
export const UART_SCRATCH_VALUE = 0x5a;
export const VGA_INTERRUPT_LINE = 0x0b;
/** The colour text buffer and the CRT controller (cursor). */
export const VGA_TEXT = 0xb8000;
export const VGA_TEXT_COLS = 80;
export const VGA_CRTC_INDEX = 0x3d4;
export const VGA_CRTC_DATA = 0x3d5;
/** Attribute of the firmware's text: light grey on blue for the banner, grey on black for the rest. */
export const TEXT_ATTR_BANNER = 0x1f;
export const TEXT_ATTR = 0x07;
/** Vectors the firmware gives the two PICs (ICW2), as Linux does: IRQ n → 0x20 + n. */
export const PIC_VECTOR_BASE = 0x20;
export const FB_WIDTH = 320;
export const FB_HEIGHT = 200;

/** The picture the first boot draws: a colour-cube gradient with a frame (byte at x, y). */
export function pixelAt(x: number, y: number): number {
  if (x < 4 || y < 4 || x >= FB_WIDTH - 4 || y >= FB_HEIGHT - 4) return 15; // white frame
  return (
    16 + ((Math.floor((x * 6) / FB_WIDTH) * 36 + Math.floor((y * 6) / FB_HEIGHT) * 6 + ((x + y) % 6)) % 216)
  );
}

export interface PciDeviceFound {
  /** "00:02.0" */
  bdf: string;
  dev: number;
  vendor: number;
  device: number;
  classCode: number;
  /** BAR0: base and size (0 when none). */
  bar0: { base: number; size: number; io: boolean };
}

export interface BiosReport {
  boot: number;
  kexec: boolean;
  banner: string;
  rtc: string;
  pci: PciDeviceFound[];
  /** Pixels read back through the LFB that matched the picture (first boot: all 8 sampled). */
  framebufferChecks: number;
  /** After a kexec: the device state the first boot left (true = kept). */
  stateKept?: { uart: boolean; rtc: boolean; pci: boolean; framebuffer: boolean };
  /** A second serial port found on the PCI bus (another emulator's), greeted. */
  pciSerial?: { bdf: string; ioBase: number };
}

export interface FirmwareOptions {
  /** The domain's name, in the banner. */
  name: string;
  /** A page of guest RAM the firmware may use as a string buffer. */
  scratchGpa: number;
  /** Draw and check with 4-byte stores (default) or 8-byte ones. */
  storeBytes?: 4 | 8;
}

const enc = new TextEncoder();
const bcd = (v: number) => (v >> 4) * 10 + (v & 0x0f);
const hex = (v: number, n: number) => v.toString(16).padStart(n, "0");

export class Bios {
  readonly lines: string[] = [];
  /** Interrupts the handlers served: COM1 (IRQ4) and RTC periodic (IRQ8), and the bytes echoed. */
  readonly irqCounts = { com1: 0, rtc: 0, rtcPeriodic: 0, echoed: 0 };

  constructor(
    readonly cpu: Cpu,
    private readonly ram: GuestRam,
    private readonly options: FirmwareOptions,
  ) {}

  cmosRead(reg: number): number {
    this.cpu.outb(CMOS_INDEX, reg);
    return this.cpu.inb(CMOS_DATA);
  }
  cmosWrite(reg: number, v: number): void {
    this.cpu.outb(CMOS_INDEX, reg);
    this.cpu.outb(CMOS_DATA, v);
  }

  /** 8n1, divisor 1 (115200), FIFOs on, DTR/RTS (what SeaBIOS and Linux's early console set). */
  initUart(base: number): void {
    this.cpu.outb(base + 3, 0x80);
    this.cpu.outb(base + 0, 0x01);
    this.cpu.outb(base + 1, 0x00);
    this.cpu.outb(base + 3, 0x03);
    this.cpu.outb(base + 2, 0x07);
    this.cpu.outb(base + 4, 0x03);
    this.cpu.outb(base + 1, 0x00);
  }

  private textRow = 0;

  /**
   * One line of text on the VGA text screen (row `row`, padded to 80 columns), two cells per 4-byte
   * store into the 0xB8000 buffer (single direct stores: Xen's buffered path), then the cursor after
   * it (CRTC 0x0E/0x0F).
   */
  textLine(row: number, text: string, attr = TEXT_ATTR): void {
    const line = text.slice(0, VGA_TEXT_COLS).padEnd(VGA_TEXT_COLS, " ");
    const base = VGA_TEXT + row * VGA_TEXT_COLS * 2;
    for (let col = 0; col < VGA_TEXT_COLS; col += 2) {
      const a = (line.charCodeAt(col) & 0xff) | (attr << 8);
      const b = (line.charCodeAt(col + 1) & 0xff) | (attr << 8);
      this.cpu.write32(base + col * 2, (a | (b << 16)) >>> 0);
    }
    this.setCursor(row + 1, 0);
  }

  /** The hardware cursor at (row, col) of the 80-column screen. */
  setCursor(row: number, col: number): void {
    const pos = row * VGA_TEXT_COLS + col;
    this.cpu.outb(VGA_CRTC_INDEX, 0x0e);
    this.cpu.outb(VGA_CRTC_DATA, (pos >> 8) & 0xff);
    this.cpu.outb(VGA_CRTC_INDEX, 0x0f);
    this.cpu.outb(VGA_CRTC_DATA, pos & 0xff);
  }

  /** The next line of the firmware's text console (rows 0–24, then it stays on the last). */
  private screen(text: string, attr = TEXT_ATTR): void {
    this.textLine(this.textRow, text, attr);
    if (this.textRow < 24) this.textRow++;
  }

  /** Wait for THRE, then the whole string with one rep outsb from the scratch buffer. */
  print(base: number, text: string): void {
    const bytes = enc.encode(text);
    for (let off = 0; off < bytes.length; off += 4096) {
      const chunk = bytes.subarray(off, off + 4096);
      for (let i = 0; i < 1000 && !(this.cpu.inb(base + 5) & 0x20); i++);
      this.ram.write(this.options.scratchGpa, chunk);
      this.cpu.outs(base, this.options.scratchGpa, chunk.length);
    }
    if (base === COM1)
      this.lines.push(
        ...text
          .split("\n")
          .filter((l) => l.trim() !== "")
          .map((l) => l.trimEnd()),
      );
  }

  private readRtc(): string {
    for (let i = 0; i < 1000 && this.cmosRead(0x0a) & 0x80; i++); // UIP
    const b = this.cmosRead(0x0b);
    const dec = (v: number) => (b & 0x04 ? v : bcd(v));
    const sec = dec(this.cmosRead(0x00));
    const min = dec(this.cmosRead(0x02));
    const hourRaw = this.cmosRead(0x04);
    let hour = dec(hourRaw & 0x7f);
    if (!(b & 0x02)) hour = (hour % 12) + (hourRaw & 0x80 ? 12 : 0);
    const day = dec(this.cmosRead(0x07));
    const mon = dec(this.cmosRead(0x08));
    const year = dec(this.cmosRead(0x32)) * 100 + dec(this.cmosRead(0x09));
    const p = (v: number) => String(v).padStart(2, "0");
    return `${year}-${p(mon)}-${p(day)} ${p(hour)}:${p(min)}:${p(sec)}`;
  }

  /** BAR sizing as firmware does it: save, write all-ones, read the mask, restore. */
  private probeBar(dev: number, reg: number): { base: number; size: number; io: boolean } {
    const orig = this.cpu.pciRead(0, dev, 0, reg, 4);
    if (orig === 0xffffffff) return { base: 0, size: 0, io: false };
    this.cpu.pciWrite(0, dev, 0, reg, 4, 0xffffffff);
    const m = this.cpu.pciRead(0, dev, 0, reg, 4);
    this.cpu.pciWrite(0, dev, 0, reg, 4, orig);
    const io = (orig & 1) === 1;
    const bits = io ? m & 0xfffffffc : m & 0xfffffff0;
    if (!bits) return { base: 0, size: 0, io };
    return { base: io ? orig & 0xfffffffc : (orig & 0xfffffff0) >>> 0, size: ((~bits >>> 0) + 1) >>> 0, io };
  }

  probePci(): PciDeviceFound[] {
    const out: PciDeviceFound[] = [];
    for (let dev = 0; dev < 32; dev++) {
      const vendor = this.cpu.pciRead(0, dev, 0, 0x00, 2);
      if (vendor === 0xffff) continue;
      const device = this.cpu.pciRead(0, dev, 0, 0x02, 2);
      const classCode = this.cpu.pciRead(0, dev, 0, 0x08, 4) >>> 8;
      out.push({
        bdf: `00:${hex(dev, 2)}.0`,
        dev,
        vendor,
        device,
        classCode,
        bar0: this.probeBar(dev, 0x10),
      });
    }
    return out;
  }

  private drawPalette(): void {
    // The colour cube the picture uses: entries 16..231 (6×6×6), DAC values 0..63.
    this.cpu.outb(VGA_DAC_WRITE_INDEX, 16);
    for (let k = 0; k < 216; k++) {
      this.cpu.outb(VGA_DAC_DATA, Math.floor(k / 36) * 12);
      this.cpu.outb(VGA_DAC_DATA, (Math.floor(k / 6) % 6) * 12);
      this.cpu.outb(VGA_DAC_DATA, (k % 6) * 12);
    }
  }

  /** The picture, row by row, as single 4- or 8-byte stores into the VGA window (stdvga: buffered). */
  drawFramebuffer(): void {
    const step = this.options.storeBytes ?? 4;
    for (let y = 0; y < FB_HEIGHT; y++) {
      for (let x = 0; x < FB_WIDTH; x += step) {
        const addr = VGA_WINDOW + y * FB_WIDTH + x;
        if (step === 8) {
          let v = 0n;
          for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(pixelAt(x + k, y));
          this.cpu.write64(addr, v);
        } else
          this.cpu.write32(
            addr,
            pixelAt(x, y) | (pixelAt(x + 1, y) << 8) | (pixelAt(x + 2, y) << 16) | (pixelAt(x + 3, y) << 24),
          );
      }
    }
  }

  /** Pixels read back (synchronously) through the linear framebuffer at `lfb`: how many matched. */
  checkFramebuffer(lfb: number): number {
    const samples = [
      [0, 0],
      [5, 5],
      [160, 100],
      [319, 199],
      [100, 37],
      [222, 150],
      [17, 190],
      [300, 12],
    ] as const;
    let ok = 0;
    for (const [x, y] of samples) if (this.cpu.read8(lfb + y * FB_WIDTH + x) === pixelAt(x, y)) ok++;
    return ok;
  }

  /** The boot: banner, RTC, PCI, framebuffer, the second serial port, a final line. */
  run(): BiosReport {
    const boot = this.cmosRead(CMOS_BOOT_COUNT);
    const kexec = boot > 0 && boot < 0xff;
    this.cmosWrite(CMOS_BOOT_COUNT, kexec ? boot + 1 : 1);
    const n = kexec ? boot + 1 : 1;
    this.initUart(COM1);
    const banner = `xensim BIOS: booting ${this.options.name} (boot ${n}${kexec ? ", after kexec" : ""})`;
    this.print(COM1, `${banner}\r\n`);
    this.textRow = 0;
    this.screen(banner, TEXT_ATTR_BANNER);
    const rtc = this.readRtc();
    this.print(COM1, `RTC: ${rtc}\r\n`);
    this.screen(`RTC: ${rtc}`);
    const pci = this.probePci();
    for (const d of pci)
      this.print(
        COM1,
        `PCI ${d.bdf} ${hex(d.vendor, 4)}:${hex(d.device, 4)} class ${hex(d.classCode, 6)}${d.bar0.size ? ` BAR0 ${d.bar0.io ? "io" : "mem"} ${hex(d.bar0.base, 8)} size ${d.bar0.size}` : ""}\r\n`,
      );
    const report: BiosReport = { boot: n, kexec, banner, rtc, pci, framebufferChecks: 0 };
    const vga = pci.find((d) => d.classCode >> 8 === 0x0300);
    const lfb = vga && vga.bar0.size && !vga.bar0.io ? vga.bar0.base : undefined;
    if (!kexec) {
      // Leave state behind to find again after a kexec.
      this.cpu.outb(COM1 + 7, UART_SCRATCH_VALUE);
      this.cmosWrite(CMOS_SIGNATURE, SIGNATURE);
      if (vga) this.cpu.pciWrite(0, vga.dev, 0, 0x3c, 1, VGA_INTERRUPT_LINE);
      if (vga) {
        this.drawPalette();
        this.drawFramebuffer();
        if (lfb !== undefined) report.framebufferChecks = this.checkFramebuffer(lfb);
        this.print(
          COM1,
          `VGA: drew ${FB_WIDTH}x${FB_HEIGHT}, ${report.framebufferChecks}/8 pixels read back\r\n`,
        );
      }
    } else {
      const kept = {
        uart: this.cpu.inb(COM1 + 7) === UART_SCRATCH_VALUE,
        rtc: this.cmosRead(CMOS_SIGNATURE) === SIGNATURE,
        pci: vga ? this.cpu.pciRead(0, vga.dev, 0, 0x3c, 1) === VGA_INTERRUPT_LINE : false,
        framebuffer: lfb !== undefined ? this.checkFramebuffer(lfb) === 8 : false,
      };
      report.stateKept = kept;
      report.framebufferChecks = lfb !== undefined ? this.checkFramebuffer(lfb) : 0;
      this.print(
        COM1,
        `device state after kexec: uart ${kept.uart ? "kept" : "LOST"}, rtc ${kept.rtc ? "kept" : "LOST"}, pci ${kept.pci ? "kept" : "LOST"}, framebuffer ${kept.framebuffer ? "kept" : "LOST"}\r\n`,
      );
    }
    const ser = pci.find((d) => d.vendor === 0x1b36 && d.device === 0x0002 && d.bar0.io && d.bar0.size);
    if (ser) {
      this.initUart(ser.bar0.base);
      this.print(
        ser.bar0.base,
        `hello from ${this.options.name} on the PCI serial port ${ser.bdf} (the second emulator)\r\n`,
      );
      report.pciSerial = { bdf: ser.bdf, ioBase: ser.bar0.base };
      this.print(COM1, `PCI serial ${ser.bdf} at io ${hex(ser.bar0.base, 4)}: greeted\r\n`);
    }
    this.screen(`PCI: ${pci.length} devices on bus 0`);
    this.print(COM1, `xensim BIOS: boot done\r\n`);
    this.screen("xensim BIOS: boot done");
    return report;
  }

  /**
   * The 8259 pair as a PC OS leaves it: ICW1 (edge, ICW4), ICW2 vector bases 0x20 / 0x28, ICW3 the
   * cascade on IR2, ICW4 8086 mode; everything masked but IR2 (the slave).
   */
  initPic(): void {
    this.cpu.outb(0x20, 0x11);
    this.cpu.outb(0x21, PIC_VECTOR_BASE);
    this.cpu.outb(0x21, 0x04);
    this.cpu.outb(0x21, 0x01);
    this.cpu.outb(0xa0, 0x11);
    this.cpu.outb(0xa1, PIC_VECTOR_BASE + 8);
    this.cpu.outb(0xa1, 0x02);
    this.cpu.outb(0xa1, 0x01);
    this.cpu.outb(0x21, 0xfb);
    this.cpu.outb(0xa1, 0xff);
  }

  private unmask(irq: number): void {
    const port = irq >= 8 ? 0xa1 : 0x21;
    this.cpu.outb(port, this.cpu.inb(port) & ~(1 << (irq & 7)));
  }

  private eoi(irq: number): void {
    if (irq >= 8) this.cpu.outb(0xa0, 0x20);
    this.cpu.outb(0x20, 0x20);
  }

  /** COM1's received-data interrupt (IER.ERBFI) on IRQ4: the handler echoes what was typed. */
  enableConsoleInterrupt(): void {
    this.cpu.setInterruptHandler(PIC_VECTOR_BASE + 4, () => {
      this.irqCounts.com1++;
      // IIR: while an interrupt is pending (bit 0 clear), serve it; received data → read and echo.
      for (let i = 0; i < 16; i++) {
        const iir = this.cpu.inb(COM1 + 2);
        if (iir & 1) break;
        if ((iir & 0x0e) === 0x04 || (iir & 0x0e) === 0x0c) this.irqCounts.echoed += this.echoInput(COM1);
      }
      this.eoi(4);
    });
    this.cpu.outb(COM1 + 1, 0x01);
    this.unmask(4);
  }

  /**
   * The RTC's periodic interrupt at `hz` (a power of two, 2–8192: register A's rate select) on IRQ8;
   * the handler reads register C (which lowers the line) and counts.
   */
  enableRtcPeriodic(hz: number): void {
    const rate = 16 - Math.log2(hz);
    this.cpu.setInterruptHandler(PIC_VECTOR_BASE + 8, () => {
      this.irqCounts.rtc++;
      if (this.cmosRead(0x0c) & 0x40) this.irqCounts.rtcPeriodic++;
      this.eoi(8);
    });
    this.cmosWrite(0x0a, (this.cmosRead(0x0a) & 0xf0) | rate);
    this.cmosWrite(0x0b, this.cmosRead(0x0b) | 0x40);
    this.cmosRead(0x0c);
    this.unmask(8);
  }

  /** One heartbeat line on a UART (the idle loop of a running guest). */
  heartbeat(base: number, text: string): void {
    this.print(base, `${text}\r\n`);
  }

  /** Read what the console typed (LSR.DR / RBR) and echo it back; returns the bytes read. */
  echoInput(base = COM1, max = 256): number {
    const got: number[] = [];
    while (got.length < max && this.cpu.inb(base + 5) & 0x01) got.push(this.cpu.inb(base));
    if (got.length) {
      const text = new TextDecoder().decode(Uint8Array.from(got)).replace(/\r/g, "\r\n");
      this.print(base, text);
    }
    return got.length;
  }
}

export { Cpu };

/** `/vm/<uuid>/xensim/firmware`: "bios" plus comma-separated options. */
export interface FirmwareSettings {
  /** Run the BIOS on vCPU 0 at boot. */
  bios: boolean;
  /** After boot, a line per vCPU every this many ms (vCPU 0 on COM1, the others on the PCI serial); 0 = none. */
  heartbeatMs: number;
  /** Echo console input on COM1 (from its receive interrupt). */
  echo: boolean;
  /** Longest HLT of the idle loop (ms). */
  pollMs: number;
  /** RTC periodic interrupts per second (a power of two, 2–8192; 0 = off). */
  rtcHz: number;
  /** Framebuffer stores of 4 or 8 bytes. */
  storeBytes: 4 | 8;
}

export function parseFirmwareSettings(text: string): FirmwareSettings {
  const s: FirmwareSettings = {
    bios: false,
    heartbeatMs: 0,
    echo: true,
    pollMs: 100,
    rtcHz: 0,
    storeBytes: 4,
  };
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const [k, v = ""] = part.split("=", 2) as [string, string?];
    const num = () => {
      if (!/^\d+$/.test(v)) throw new Error(`firmware: '${part}' needs a number`);
      return Number(v);
    };
    if (k === "bios" || k === "seabios") s.bios = true;
    else if (k === "none") s.bios = false;
    else if (k === "heartbeat-ms") s.heartbeatMs = num();
    else if (k === "echo") s.echo = v !== "0";
    else if (k === "poll-ms") s.pollMs = Math.max(5, num());
    else if (k === "rtc-hz") {
      const n = num();
      if (n !== 0 && (n < 2 || n > 8192 || (n & (n - 1)) !== 0))
        throw new Error("firmware: rtc-hz is 0 or a power of two from 2 to 8192");
      s.rtcHz = n;
    } else if (k === "store-bytes") {
      const n = num();
      if (n !== 4 && n !== 8) throw new Error("firmware: store-bytes is 4 or 8");
      s.storeBytes = n;
    } else throw new Error(`firmware: unknown option '${k}'`);
  }
  return s;
}
