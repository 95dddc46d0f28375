// The MC146818 CMOS RTC at ports 0x70 (index; bit 7 masks NMI) and 0x71 (data): the time registers
// derived from an injected clock plus the offset the guest set, BCD or binary and 12/24-hour as
// register B says, registers A–D, and the rest of the 128 bytes of CMOS RAM. Interrupts (IRQ8): the
// periodic one at register A's rate with B.PIE, the update-ended one each second with B.UIE; register
// C's flags (IRQF, PF, UF) hold the line until the guest reads C. Time moves only through `tick(now)`
// (the owner calls it at `nextDeadline()`).

export const RTC_SECONDS = 0x00;
export const RTC_MINUTES = 0x02;
export const RTC_HOURS = 0x04;
export const RTC_DAY_OF_WEEK = 0x06;
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;

const REG_B_24H = 0x02;
const REG_B_UIE = 0x10;
const REG_B_AIE = 0x20;
const REG_B_PIE = 0x40;
const REG_C_UF = 0x10;
const REG_C_AF = 0x20;
const REG_C_PF = 0x40;
const REG_C_IRQF = 0x80;

/** Register A's rate select → the periodic interrupt's period in ms (0: off). */
export function rtcPeriodMs(rateSelect: number): number {
  const rs = rateSelect & 0x0f;
  if (rs === 0) return 0;
  const hz = rs <= 2 ? 32768 >> (rs + 6) : 32768 >> (rs - 1);
  return 1000 / hz;
}
const REG_B_DM_BINARY = 0x04;
const TIME_REGS = new Set([
  RTC_SECONDS,
  RTC_MINUTES,
  RTC_HOURS,
  RTC_DAY_OF_WEEK,
  RTC_DAY_OF_MONTH,
  RTC_MONTH,
  RTC_YEAR,
  RTC_CENTURY,
]);

export interface RtcState {
  cmos: number[];
  index: number;
  /** Guest time − clock time, ms. */
  offsetMs: number;
}

const toBcd = (v: number) => ((Math.floor(v / 10) % 10) << 4) | (v % 10);
const fromBcd = (v: number) => (v >> 4) * 10 + (v & 0x0f);

export class CmosRtc {
  private cmos = new Uint8Array(128);
  private index = 0;
  private offsetMs = 0;
  /** Clock times of the next periodic and update-ended interrupt (NaN: not armed). */
  private nextPeriodic = NaN;
  private nextUpdate = NaN;
  /** Periodic interrupts raised, for figures. */
  periodicCount = 0;

  /** `clock()`: wall-clock milliseconds since the epoch (injected). */
  constructor(private readonly clock: () => number) {
    this.cmos[RTC_REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz rate
    this.cmos[RTC_REG_B] = REG_B_24H; // BCD, 24-hour
    this.cmos[RTC_REG_D] = 0x80; // valid RAM and time
  }

  /** The guest's idea of now (ms since the epoch). */
  guestTimeMs(): number {
    return this.clock() + this.offsetMs;
  }

  private enc(v: number): number {
    return this.cmos[RTC_REG_B]! & REG_B_DM_BINARY ? v : toBcd(v);
  }
  private dec(v: number): number {
    return this.cmos[RTC_REG_B]! & REG_B_DM_BINARY ? v : fromBcd(v);
  }

  private timeField(reg: number, d: Date): number {
    switch (reg) {
      case RTC_SECONDS:
        return this.enc(d.getUTCSeconds());
      case RTC_MINUTES:
        return this.enc(d.getUTCMinutes());
      case RTC_HOURS: {
        const h = d.getUTCHours();
        if (this.cmos[RTC_REG_B]! & REG_B_24H) return this.enc(h);
        return this.enc(h % 12 || 12) | (h >= 12 ? 0x80 : 0);
      }
      case RTC_DAY_OF_WEEK:
        return this.enc(d.getUTCDay() + 1);
      case RTC_DAY_OF_MONTH:
        return this.enc(d.getUTCDate());
      case RTC_MONTH:
        return this.enc(d.getUTCMonth() + 1);
      case RTC_YEAR:
        return this.enc(d.getUTCFullYear() % 100);
      default:
        return this.enc(Math.floor(d.getUTCFullYear() / 100));
    }
  }

  read(port: number): number {
    if ((port & 1) === 0) return 0xff; // the index port reads back nothing useful
    const reg = this.index;
    if (TIME_REGS.has(reg)) return this.timeField(reg, new Date(this.guestTimeMs()));
    if (reg === RTC_REG_A) return this.cmos[RTC_REG_A]! & 0x7f; // UIP never set: updates are instant
    if (reg === RTC_REG_C) {
      this.tick(this.clock());
      const v = this.cmos[RTC_REG_C]!;
      this.cmos[RTC_REG_C] = 0; // read clears the interrupt flags (and IRQF: the line drops)
      return v;
    }
    return this.cmos[reg]!;
  }

  write(port: number, value: number): void {
    const v = value & 0xff;
    if ((port & 1) === 0) {
      this.index = v & 0x7f;
      return;
    }
    const reg = this.index;
    if (TIME_REGS.has(reg)) {
      const d = new Date(this.guestTimeMs());
      let hour = d.getUTCHours();
      if (reg === RTC_HOURS && !(this.cmos[RTC_REG_B]! & REG_B_24H)) {
        const h12 = this.dec(v & 0x7f) % 12;
        hour = h12 + (v & 0x80 ? 12 : 0);
      }
      const f = this.dec(v);
      const parts = [
        d.getUTCFullYear(),
        d.getUTCMonth(),
        d.getUTCDate(),
        hour,
        d.getUTCMinutes(),
        d.getUTCSeconds(),
      ];
      if (reg === RTC_SECONDS) parts[5] = f;
      else if (reg === RTC_MINUTES) parts[4] = f;
      else if (reg === RTC_HOURS && this.cmos[RTC_REG_B]! & REG_B_24H) parts[3] = f;
      else if (reg === RTC_DAY_OF_MONTH) parts[2] = f;
      else if (reg === RTC_MONTH) parts[1] = f - 1;
      else if (reg === RTC_YEAR) parts[0] = Math.floor(parts[0]! / 100) * 100 + f;
      else if (reg === RTC_CENTURY) parts[0] = f * 100 + (parts[0]! % 100);
      // (day of week is derived, as QEMU does when it recomputes the time)
      const t = Date.UTC(
        parts[0]!,
        parts[1]!,
        parts[2]!,
        parts[3]!,
        parts[4]!,
        parts[5]!,
        d.getUTCMilliseconds(),
      );
      if (Number.isFinite(t)) this.offsetMs = t - this.clock();
      return;
    }
    if (reg === RTC_REG_C || reg === RTC_REG_D) return; // read-only
    if (reg === RTC_REG_A) this.cmos[reg] = v & 0x7f;
    else this.cmos[reg] = v;
    if (reg === RTC_REG_A || reg === RTC_REG_B) this.arm(this.clock());
  }

  /** (Re)arm the timers after register A or B changed. */
  private arm(now: number): void {
    const b = this.cmos[RTC_REG_B]!;
    const period = rtcPeriodMs(this.cmos[RTC_REG_A]!);
    if (b & REG_B_PIE && period > 0) {
      if (!Number.isFinite(this.nextPeriodic)) this.nextPeriodic = now + period;
    } else this.nextPeriodic = NaN;
    if (b & REG_B_UIE) {
      if (!Number.isFinite(this.nextUpdate)) {
        const t = this.guestTimeMs();
        this.nextUpdate = now + (1000 - (((t % 1000) + 1000) % 1000));
      }
    } else this.nextUpdate = NaN;
    this.updateIrqf();
  }

  private updateIrqf(): void {
    const b = this.cmos[RTC_REG_B]!;
    const c = this.cmos[RTC_REG_C]! & 0x70;
    const on =
      (c & REG_C_PF && b & REG_B_PIE) || (c & REG_C_UF && b & REG_B_UIE) || (c & REG_C_AF && b & REG_B_AIE);
    this.cmos[RTC_REG_C] = c | (on ? REG_C_IRQF : 0);
  }

  /** When `tick` has something to do next (clock ms), or undefined. */
  nextDeadline(): number | undefined {
    const t = Math.min(
      Number.isFinite(this.nextPeriodic) ? this.nextPeriodic : Infinity,
      Number.isFinite(this.nextUpdate) ? this.nextUpdate : Infinity,
    );
    return Number.isFinite(t) ? t : undefined;
  }

  /** Let time pass up to `now`: set PF / UF for each period and second that ended. */
  tick(now: number): void {
    if (Number.isFinite(this.nextPeriodic) && now >= this.nextPeriodic) {
      const period = rtcPeriodMs(this.cmos[RTC_REG_A]!);
      this.cmos[RTC_REG_C] = this.cmos[RTC_REG_C]! | REG_C_PF;
      this.periodicCount++;
      // Missed periods coalesce into one flag, as they do when the guest reads C late.
      this.nextPeriodic = now - this.nextPeriodic > 1000 ? now + period : this.nextPeriodic + period;
      while (this.nextPeriodic <= now) this.nextPeriodic += period;
    }
    if (Number.isFinite(this.nextUpdate) && now >= this.nextUpdate) {
      this.cmos[RTC_REG_C] = this.cmos[RTC_REG_C]! | REG_C_UF;
      this.nextUpdate = now + 1000 - ((now - this.nextUpdate) % 1000);
    }
    this.updateIrqf();
  }

  /** The IRQ8 line: register C's IRQF. */
  irqLevel(): boolean {
    return (this.cmos[RTC_REG_C]! & REG_C_IRQF) !== 0;
  }

  saveState(): RtcState {
    return { cmos: Array.from(this.cmos), index: this.index, offsetMs: this.offsetMs };
  }

  loadState(s: RtcState): void {
    this.cmos = Uint8Array.from(s.cmos.slice(0, 128));
    this.index = s.index & 0x7f;
    this.offsetMs = Number.isFinite(s.offsetMs) ? s.offsetMs : 0;
    this.nextPeriodic = NaN;
    this.nextUpdate = NaN;
    this.arm(this.clock());
  }
}
