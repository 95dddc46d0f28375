// A VGA framebuffer in 320×200 8-bit palette mode (mode 13h): video memory behind the legacy window
// 0xA0000–0xBFFFF (Xen forwards single writes there through the buffered ring: stdvga) and behind
// the linear framebuffer BAR (synchronous MMIO), the DAC palette at ports 0x3C7–0x3C9, and a
// screenshot as RGBA.

export const VGA_WINDOW_BASE = 0xa0000;
export const VGA_WINDOW_SIZE = 0x20000;
export const VGA_WIDTH = 320;
export const VGA_HEIGHT = 200;
/** Video memory (the window and the LFB alias it). */
export const VRAM_SIZE = 256 * 1024;

/** The colour text buffer (0xB8000) inside the window, and its geometry. */
export const VGA_TEXT_BASE = 0xb8000;
export const VGA_TEXT_OFFSET = VGA_TEXT_BASE - VGA_WINDOW_BASE;
export const VGA_TEXT_COLS = 80;
export const VGA_TEXT_ROWS = 25;
/** CRT controller index and data ports (colour mode). */
export const VGA_CRTC_INDEX = 0x3d4;
export const VGA_CRTC_DATA = 0x3d5;
const CRTC_REGS = 0x19;
const CRTC_CURSOR_START = 0x0a;
const CRTC_CURSOR_END = 0x0b;
const CRTC_START_HI = 0x0c;
const CRTC_START_LO = 0x0d;
const CRTC_CURSOR_HI = 0x0e;
const CRTC_CURSOR_LO = 0x0f;

/** What the text screen shows: 80×25 cells of (character, attribute), and the cursor. */
export interface VgaTextScreen {
  cols: number;
  rows: number;
  /** cols × rows × 2 bytes: character (code page 437), attribute (bg << 4 | fg). */
  cells: Uint8Array;
  cursor: { row: number; col: number; visible: boolean; start: number; end: number };
}

export const VGA_DAC_READ_INDEX = 0x3c7;
export const VGA_DAC_WRITE_INDEX = 0x3c8;
export const VGA_DAC_DATA = 0x3c9;

export interface VgaState {
  vram: string;
  palette: number[];
  dacWrite: number;
  dacRead: number;
  dacComponent: number;
  /** CRT controller registers and index (absent in states saved before text mode existed). */
  crtc?: number[];
  crtcIndex?: number;
}

/** A default palette: 16 EGA colours, then a 6×6×6 colour cube, then greys (6-bit DAC values). */
function defaultPalette(): Uint8Array {
  const p = new Uint8Array(256 * 3);
  const ega = [
    0x000, 0x00a, 0x0a0, 0x0aa, 0xa00, 0xa0a, 0xa50, 0xaaa, 0x555, 0x55f, 0x5f5, 0x5ff, 0xf55, 0xf5f, 0xff5,
    0xfff,
  ];
  ega.forEach((c, i) => {
    p[i * 3] = ((c >> 8) & 0xf) * 4;
    p[i * 3 + 1] = ((c >> 4) & 0xf) * 4;
    p[i * 3 + 2] = (c & 0xf) * 4;
  });
  for (let i = 16; i < 232; i++) {
    const k = i - 16;
    p[i * 3] = Math.round(((k / 36) | 0) * 12.6);
    p[i * 3 + 1] = Math.round((((k / 6) | 0) % 6) * 12.6);
    p[i * 3 + 2] = Math.round((k % 6) * 12.6);
  }
  for (let i = 232; i < 256; i++) p[i * 3] = p[i * 3 + 1] = p[i * 3 + 2] = Math.round((i - 232) * 2.7);
  return p;
}

/** CRTC registers as the BIOS leaves 80×25 text: cursor scan lines 14–15 (of 16), start 0. */
function defaultCrtc(): Uint8Array {
  const c = new Uint8Array(CRTC_REGS);
  c[CRTC_CURSOR_START] = 0x0e;
  c[CRTC_CURSOR_END] = 0x0f;
  return c;
}

export class VgaFramebuffer {
  private vram = new Uint8Array(VRAM_SIZE);
  private palette = defaultPalette();
  private dacWrite = 0;
  private dacRead = 0;
  private dacComponent = 0;
  private crtc = defaultCrtc();
  private crtcIndex = 0;
  /** Bytes written into video memory (figures). */
  bytesWritten = 0;

  /** Read `size` bytes (little-endian) at video-memory offset `off`. */
  readMem(off: number, size: number): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--)
      v = (v << 8n) | BigInt(off + i < VRAM_SIZE ? this.vram[off + i]! : 0xff);
    return v;
  }

  writeMem(off: number, size: number, value: bigint): void {
    for (let i = 0; i < size; i++) {
      if (off + i < VRAM_SIZE) this.vram[off + i] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
    this.bytesWritten += size;
  }

  readPort(port: number): number {
    switch (port) {
      case VGA_DAC_WRITE_INDEX:
        return this.dacWrite;
      case VGA_DAC_DATA: {
        const v = this.palette[this.dacRead * 3 + this.dacComponent]!;
        if (++this.dacComponent === 3) {
          this.dacComponent = 0;
          this.dacRead = (this.dacRead + 1) & 0xff;
        }
        return v;
      }
      case 0x3da:
        return 0x09; // input status: in vertical retrace (firmware waits for it)
      case VGA_CRTC_INDEX:
        return this.crtcIndex;
      case VGA_CRTC_DATA:
        return this.crtcIndex < CRTC_REGS ? this.crtc[this.crtcIndex]! : 0xff;
      default:
        return 0xff;
    }
  }

  writePort(port: number, value: number): void {
    const v = value & 0xff;
    switch (port) {
      case VGA_DAC_READ_INDEX:
        this.dacRead = v;
        this.dacComponent = 0;
        return;
      case VGA_DAC_WRITE_INDEX:
        this.dacWrite = v;
        this.dacComponent = 0;
        return;
      case VGA_DAC_DATA:
        this.palette[this.dacWrite * 3 + this.dacComponent] = v & 0x3f;
        if (++this.dacComponent === 3) {
          this.dacComponent = 0;
          this.dacWrite = (this.dacWrite + 1) & 0xff;
        }
        return;
      case VGA_CRTC_INDEX:
        this.crtcIndex = v & 0x3f;
        return;
      case VGA_CRTC_DATA:
        if (this.crtcIndex < CRTC_REGS) this.crtc[this.crtcIndex] = v;
        return;
      default:
    }
  }

  /** The visible 320×200 picture as RGBA bytes (8-bit channels). */
  screenshot(): { width: number; height: number; rgba: Uint8Array } {
    const rgba = new Uint8Array(VGA_WIDTH * VGA_HEIGHT * 4);
    for (let i = 0; i < VGA_WIDTH * VGA_HEIGHT; i++) {
      const c = this.vram[i]!;
      rgba[i * 4] = (this.palette[c * 3]! * 255) / 63;
      rgba[i * 4 + 1] = (this.palette[c * 3 + 1]! * 255) / 63;
      rgba[i * 4 + 2] = (this.palette[c * 3 + 2]! * 255) / 63;
      rgba[i * 4 + 3] = 255;
    }
    return { width: VGA_WIDTH, height: VGA_HEIGHT, rgba };
  }

  /**
   * The colour text screen: 80×25 cells from the text buffer at 0xB8000 plus the CRTC start address
   * (in cells), the cursor from CRTC 0x0E/0x0F (relative to the start) and 0x0A/0x0B (bit 5 of 0x0A
   * hides it).
   */
  textScreen(): VgaTextScreen {
    const start = ((this.crtc[CRTC_START_HI]! << 8) | this.crtc[CRTC_START_LO]!) & 0x3fff;
    const n = VGA_TEXT_COLS * VGA_TEXT_ROWS * 2;
    const cells = new Uint8Array(n);
    const from = VGA_TEXT_OFFSET + start * 2;
    cells.set(this.vram.subarray(from, Math.min(from + n, VRAM_SIZE)));
    const pos = (((this.crtc[CRTC_CURSOR_HI]! << 8) | this.crtc[CRTC_CURSOR_LO]!) & 0x3fff) - start;
    const cs = this.crtc[CRTC_CURSOR_START]!;
    return {
      cols: VGA_TEXT_COLS,
      rows: VGA_TEXT_ROWS,
      cells,
      cursor: {
        row: Math.floor(pos / VGA_TEXT_COLS),
        col: ((pos % VGA_TEXT_COLS) + VGA_TEXT_COLS) % VGA_TEXT_COLS,
        visible: !(cs & 0x20) && pos >= 0 && pos < VGA_TEXT_COLS * VGA_TEXT_ROWS,
        start: cs & 0x1f,
        end: this.crtc[CRTC_CURSOR_END]! & 0x1f,
      },
    };
  }

  /** FNV-1a over the visible picture's bytes (a cheap comparison of framebuffers). */
  visibleHash(): string {
    let h = 0x811c9dc5;
    for (let i = 0; i < VGA_WIDTH * VGA_HEIGHT; i++) {
      h ^= this.vram[i]!;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(16).padStart(8, "0");
  }

  saveState(vramBase64: (b: Uint8Array) => string): VgaState {
    return {
      vram: vramBase64(this.vram),
      palette: Array.from(this.palette),
      dacWrite: this.dacWrite,
      dacRead: this.dacRead,
      dacComponent: this.dacComponent,
      crtc: Array.from(this.crtc),
      crtcIndex: this.crtcIndex,
    };
  }

  loadState(s: VgaState, fromBase64: (s: string) => Uint8Array): void {
    const v = fromBase64(s.vram);
    this.vram = new Uint8Array(VRAM_SIZE);
    this.vram.set(v.subarray(0, VRAM_SIZE));
    this.palette = Uint8Array.from(s.palette.slice(0, 768).map((x) => x & 0x3f));
    if (this.palette.length < 768) {
      const p = new Uint8Array(768);
      p.set(this.palette);
      this.palette = p;
    }
    this.dacWrite = s.dacWrite & 0xff;
    this.dacRead = s.dacRead & 0xff;
    this.dacComponent = s.dacComponent % 3;
    this.crtc = defaultCrtc();
    (s.crtc ?? []).slice(0, CRTC_REGS).forEach((v, i) => (this.crtc[i] = v & 0xff));
    this.crtcIndex = (s.crtcIndex ?? 0) & 0x3f;
  }
}
