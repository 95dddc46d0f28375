// A 16550A UART (what QEMU's serial device emulates for COM1): eight registers, the divisor latch
// behind LCR.DLAB, a receive FIFO fed by the console, instant transmission into an output log the
// console reads (`xl console`), loopback, scratch. Its interrupt line (`irqLevel`): received data
// with IER.ERBFI, THR empty with IER.ETBEI (until IIR reports it or THR is written) — the machine
// wires it to IRQ4 (COM1) or the pci-serial's INTA.

export const UART_RBR_THR = 0; // DLAB=0: receive buffer / transmit holding; DLAB=1: DLL
export const UART_IER = 1; // DLAB=0; DLAB=1: DLM
export const UART_IIR_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const IIR_NO_INT = 0x01;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_FIFO = 0xc0;

/** The console's input queue (a pty's buffer, not the 16-byte FIFO: input is not lost). */
const RX_MAX = 4096;
/** Transmitted bytes kept for console readers that attach late. */
const LOG_MAX = 64 * 1024;

export interface UartState {
  dll: number;
  dlm: number;
  ier: number;
  lcr: number;
  mcr: number;
  scr: number;
  fcr: number;
  lsrErrors: number;
  thrInterrupt: boolean;
  rx: number[];
  /** The output log (base64) and how many bytes were ever transmitted. */
  log: string;
  logTotal: number;
}

export class Uart16550 {
  private dll = 0x0c; // 9600 baud, as firmware leaves it
  private dlm = 0;
  private ier = 0;
  private lcr = 0x03; // 8n1
  private mcr = 0;
  private scr = 0;
  private fcr = 0;
  private lsrErrors = 0;
  private thrInterrupt = false;
  private rx: number[] = [];
  private log = new Uint8Array(LOG_MAX);
  private logLen = 0;
  private logTotal = 0;
  /** Called with every transmitted byte. */
  onTransmit?: (byte: number) => void;

  /** Bytes transmitted so far (an offset for `output`). */
  get transmitted(): number {
    return this.logTotal;
  }

  /** The transmitted bytes from `offset` on (what is still in the log), and the next offset. */
  output(offset = 0): { data: Uint8Array; next: number; lost: number } {
    const first = this.logTotal - this.logLen;
    const from = Math.max(offset, first);
    if (from >= this.logTotal)
      return { data: new Uint8Array(0), next: this.logTotal, lost: Math.max(0, first - offset) };
    return {
      data: this.log.slice(from - first, this.logLen),
      next: this.logTotal,
      lost: Math.max(0, first - offset),
    };
  }

  /** The INTR output: a received byte with IER bit 0, a THR-empty interrupt with IER bit 1. */
  irqLevel(): boolean {
    return (this.ier & 1 && this.rx.length > 0) || (this.ier & 2 && this.thrInterrupt) ? true : false;
  }

  /** Console input: bytes the guest will read from RBR. Returns how many were queued. */
  input(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, RX_MAX - this.rx.length);
    for (let i = 0; i < n; i++) this.rx.push(bytes[i]!);
    if (n < bytes.length) this.lsrErrors |= LSR_OE;
    return n;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      if (this.rx.length < RX_MAX) this.rx.push(byte);
      else this.lsrErrors |= LSR_OE;
    } else {
      if (this.logLen === LOG_MAX) {
        this.log.copyWithin(0, LOG_MAX / 2);
        this.logLen = LOG_MAX / 2;
      }
      this.log[this.logLen++] = byte;
      this.logTotal++;
      this.onTransmit?.(byte);
    }
    this.thrInterrupt = true; // transmission is instant: THR empty again
  }

  read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset & 7) {
      case UART_RBR_THR:
        if (dlab) return this.dll;
        return this.rx.shift() ?? 0;
      case UART_IER:
        return dlab ? this.dlm : this.ier;
      case UART_IIR_FCR: {
        let iir = IIR_NO_INT;
        if (this.ier & 1 && this.rx.length) iir = IIR_RDI;
        else if (this.ier & 2 && this.thrInterrupt) {
          iir = IIR_THRI;
          this.thrInterrupt = false; // reading IIR clears a THRE interrupt
        }
        return iir | (this.fcr & 1 ? IIR_FIFO : 0);
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const v = (this.rx.length ? LSR_DR : 0) | LSR_THRE | LSR_TEMT | this.lsrErrors;
        this.lsrErrors = 0;
        return v;
      }
      case UART_MSR:
        if (this.mcr & MCR_LOOP)
          // DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD
          return (
            ((this.mcr & 1) << 5) | ((this.mcr & 2) << 3) | ((this.mcr & 4) << 4) | ((this.mcr & 8) << 4)
          );
        return 0xb0; // CTS, DSR, DCD: a console is attached
      default:
        return this.scr;
    }
  }

  write(offset: number, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset & 7) {
      case UART_RBR_THR:
        if (dlab) this.dll = v;
        else {
          this.thrInterrupt = false; // writing THR clears a THRE interrupt (transmit sets it again)
          this.transmit(v);
        }
        return;
      case UART_IER:
        if (dlab) this.dlm = v;
        else {
          this.ier = v & 0x0f;
          if (this.ier & 2) this.thrInterrupt = true;
        }
        return;
      case UART_IIR_FCR:
        this.fcr = v & 0xc9;
        if (v & 2) this.rx = [];
        return;
      case UART_LCR:
        this.lcr = v;
        return;
      case UART_MCR:
        this.mcr = v & 0x1f;
        return;
      case UART_LSR:
      case UART_MSR:
        return; // read-only
      default:
        this.scr = v;
    }
  }

  saveState(): UartState {
    return {
      dll: this.dll,
      dlm: this.dlm,
      ier: this.ier,
      lcr: this.lcr,
      mcr: this.mcr,
      scr: this.scr,
      fcr: this.fcr,
      lsrErrors: this.lsrErrors,
      thrInterrupt: this.thrInterrupt,
      rx: [...this.rx],
      log: bytesToBase64(this.log.subarray(0, this.logLen)),
      logTotal: this.logTotal,
    };
  }

  loadState(s: UartState): void {
    this.dll = s.dll & 0xff;
    this.dlm = s.dlm & 0xff;
    this.ier = s.ier & 0x0f;
    this.lcr = s.lcr & 0xff;
    this.mcr = s.mcr & 0x1f;
    this.scr = s.scr & 0xff;
    this.fcr = s.fcr & 0xc9;
    this.lsrErrors = s.lsrErrors & 0x9e;
    this.thrInterrupt = !!s.thrInterrupt;
    this.rx = s.rx.slice(0, RX_MAX).map((b) => b & 0xff);
    const log = base64ToBytes(s.log).subarray(-LOG_MAX);
    this.log = new Uint8Array(LOG_MAX);
    this.log.set(log);
    this.logLen = log.length;
    this.logTotal = Math.max(s.logTotal, log.length);
  }
}

// base64 without node:buffer (a protocol package): btoa/atob exist in Node 20 and browsers.
export function bytesToBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
