// A 5×7 dot-matrix font (with one descender row) for the printable ASCII range, drawn for xensim
// (our own design, no other font's data; the glyph table below is dedicated to the public domain),
// and the VGA text screen rendered with it: each dot is one pixel wide and two tall in an 8×16 cell
// (columns 1–5, rows 0–15), colours from the 16-colour text attribute (EGA palette), the cursor on
// the scan lines CRTC 0x0A/0x0B name. Code points outside 0x20–0x7E show a hollow box.

import type { VgaTextScreen } from "./vga.js";

export const FONT_CELL_WIDTH = 8;
export const FONT_CELL_HEIGHT = 16;

/** Eight rows (5 bits each, bit 4 = leftmost dot) per character 0x20–0x7E, as hex pairs. */
const GLYPHS_5X8: readonly string[] = [
  "0000000000000000", // space
  "0404040404000400", // !
  "0a0a0a0000000000", // "
  "0a0a1f0a1f0a0a00", // #
  "040f140e051e0400", // $
  "1819020408130300", // %
  "0c12140815120d00", // &
  "0c04080000000000", // '
  "0204080808040200", // (
  "0804020202040800", // )
  "0004150e15040000", // *
  "0004041f04040000", // +
  "000000000c040800", // ,
  "0000001f00000000", // -
  "00000000000c0c00", // .
  "0001020408100000", // /
  "0e11131519110e00", // 0
  "040c040404040e00", // 1
  "0e11010204081f00", // 2
  "1f02040201110e00", // 3
  "02060a121f020200", // 4
  "1f101e0101110e00", // 5
  "0608101e11110e00", // 6
  "1f01020408080800", // 7
  "0e11110e11110e00", // 8
  "0e11110f01020c00", // 9
  "000c0c000c0c0000", // :
  "000c0c000c040800", // ;
  "0204081008040200", // <
  "00001f001f000000", // =
  "0804020102040800", // >
  "0e11010204000400", // ?
  "0e11010d15150e00", // @
  "0e1111111f111100", // A
  "1e11111e11111e00", // B
  "0e11101010110e00", // C
  "1c12111111121c00", // D
  "1f10101e10101f00", // E
  "1f10101e10101000", // F
  "0e11101711110f00", // G
  "1111111f11111100", // H
  "0e04040404040e00", // I
  "0702020202120c00", // J
  "1112141814121100", // K
  "1010101010101f00", // L
  "111b151511111100", // M
  "1111191513111100", // N
  "0e11111111110e00", // O
  "1e11111e10101000", // P
  "0e11111115120d00", // Q
  "1e11111e14121100", // R
  "0f10100e01011e00", // S
  "1f04040404040400", // T
  "1111111111110e00", // U
  "11111111110a0400", // V
  "1111111515150a00", // W
  "11110a040a111100", // X
  "1111110a04040400", // Y
  "1f01020408101f00", // Z
  "0e08080808080e00", // [
  "0010080402010000", // \
  "0e02020202020e00", // ]
  "040a110000000000", // ^
  "0000000000001f00", // _
  "0804020000000000", // `
  "00000e010f110f00", // a
  "1010161911111e00", // b
  "00000e1010110e00", // c
  "01010d1311110f00", // d
  "00000e111f100e00", // e
  "0609081c08080800", // f
  "00000f11110f010e", // g
  "1010161911111100", // h
  "04000c0404040e00", // i
  "020006020202120c", // j
  "1010121418141200", // k
  "0c04040404040e00", // l
  "00001a1515111100", // m
  "0000161911111100", // n
  "00000e1111110e00", // o
  "00001e11111e1010", // p
  "00000f11110f0101", // q
  "0000161910101000", // r
  "00000e100e011e00", // s
  "08081c0808090600", // t
  "0000111111130d00", // u
  "00001111110a0400", // v
  "0000111115150a00", // w
  "0000110a040a1100", // x
  "00001111110f010e", // y
  "00001f0204081f00", // z
  "0204040804040200", // {
  "0404040404040400", // |
  "0804040204040800", // }
  "0000081502000000", // ~
];

const MISSING = "1f11111111111f00";
const BLANK = "0000000000000000";

/** The 8×16 cell of character `code` (code page 437 printable ASCII): 16 rows, bit 7 = left pixel. */
export function glyph8x16(code: number): Uint8Array {
  const hex = code >= 0x20 && code <= 0x7e ? GLYPHS_5X8[code - 0x20]! : code === 0 ? BLANK : MISSING;
  const out = new Uint8Array(FONT_CELL_HEIGHT);
  for (let r = 0; r < 8; r++) {
    const bits = (parseInt(hex.slice(r * 2, r * 2 + 2), 16) & 0x1f) << 2; // columns 1–5 of 0–7
    out[r * 2] = bits;
    out[r * 2 + 1] = bits;
  }
  return out;
}

/** The 16 text colours (EGA), RGB. */
export const TEXT_COLOURS: readonly (readonly [number, number, number])[] = [
  [0x00, 0x00, 0x00],
  [0x00, 0x00, 0xaa],
  [0x00, 0xaa, 0x00],
  [0x00, 0xaa, 0xaa],
  [0xaa, 0x00, 0x00],
  [0xaa, 0x00, 0xaa],
  [0xaa, 0x55, 0x00],
  [0xaa, 0xaa, 0xaa],
  [0x55, 0x55, 0x55],
  [0x55, 0x55, 0xff],
  [0x55, 0xff, 0x55],
  [0x55, 0xff, 0xff],
  [0xff, 0x55, 0x55],
  [0xff, 0x55, 0xff],
  [0xff, 0xff, 0x55],
  [0xff, 0xff, 0xff],
];

/** The screen's characters as text lines (trailing blanks trimmed; non-ASCII as '.'). */
export function textScreenLines(s: VgaTextScreen): string[] {
  const out: string[] = [];
  for (let row = 0; row < s.rows; row++) {
    let line = "";
    for (let col = 0; col < s.cols; col++) {
      const c = s.cells[(row * s.cols + col) * 2]!;
      line += c === 0 ? " " : c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : ".";
    }
    out.push(line.trimEnd());
  }
  return out;
}

/** The screen as RGBA pixels (cols × 8 by rows × 16), blink off, the cursor drawn in its cell. */
export function renderTextScreen(s: VgaTextScreen): { width: number; height: number; rgba: Uint8Array } {
  const width = s.cols * FONT_CELL_WIDTH;
  const height = s.rows * FONT_CELL_HEIGHT;
  const rgba = new Uint8Array(width * height * 4);
  const glyphs = new Map<number, Uint8Array>();
  for (let row = 0; row < s.rows; row++)
    for (let col = 0; col < s.cols; col++) {
      const i = (row * s.cols + col) * 2;
      const code = s.cells[i]!;
      const attr = s.cells[i + 1]!;
      let g = glyphs.get(code);
      if (!g) glyphs.set(code, (g = glyph8x16(code)));
      const fg = TEXT_COLOURS[attr & 0x0f]!;
      const bg = TEXT_COLOURS[(attr >> 4) & 0x07]!;
      const cursorHere = s.cursor.visible && s.cursor.row === row && s.cursor.col === col;
      for (let y = 0; y < FONT_CELL_HEIGHT; y++) {
        const bits = cursorHere && y >= s.cursor.start && y <= s.cursor.end ? 0xff : g[y]!;
        for (let x = 0; x < FONT_CELL_WIDTH; x++) {
          const [r, gr, b] = (bits >> (7 - x)) & 1 ? fg : bg;
          const p = ((row * FONT_CELL_HEIGHT + y) * width + col * FONT_CELL_WIDTH + x) * 4;
          rgba[p] = r;
          rgba[p + 1] = gr;
          rgba[p + 2] = b;
          rgba[p + 3] = 255;
        }
      }
    }
  return { width, height, rgba };
}
