// VGA text mode: the 0xB8000 buffer read through the CRTC start address, the cursor from CRTC
// 0x0A/0x0B/0x0E/0x0F, the CRTC in the saved state, and the text screen rendered in xensim's
// 8×16 dot-matrix font (colours from the attribute, the cursor's scan lines).

import assert from "node:assert/strict";
import { test } from "node:test";
import { IOREQ_TYPE_COPY, IOREQ_TYPE_PIO, IOREQ_WRITE } from "@xensim/abi";
import { newIoreq } from "@xensim/ioreq";
import { glyph8x16, renderTextScreen, TEXT_COLOURS, textScreenLines } from "./font.js";
import { decodeMachineState, encodeMachineState, Machine } from "./machine.js";
import { bytesToBase64, base64ToBytes } from "./uart.js";
import { VGA_TEXT_BASE, VgaFramebuffer } from "./vga.js";

function putText(m: Machine, row: number, col: number, text: string, attr: number): void {
  for (let i = 0; i < text.length; i++)
    m.handle(
      newIoreq({
        type: IOREQ_TYPE_COPY,
        addr: BigInt(VGA_TEXT_BASE + (row * 80 + col + i) * 2),
        size: 2,
        dir: IOREQ_WRITE,
        data: BigInt(text.charCodeAt(i) | (attr << 8)),
      }),
      undefined,
    );
}

const out = (m: Machine, port: number, v: number) =>
  m.handle(
    newIoreq({ type: IOREQ_TYPE_PIO, addr: BigInt(port), size: 1, dir: IOREQ_WRITE, data: BigInt(v) }),
    undefined,
  );

test("text cells at 0xB8000 and the CRTC cursor; the CRTC start address scrolls the screen", () => {
  const m = new Machine("primary", { clock: () => 0 });
  putText(m, 0, 0, "hello", 0x1f);
  putText(m, 1, 3, "world", 0x07);
  for (const [i, v] of [
    [0x0e, 0x00],
    [0x0f, 83],
  ] as const) {
    out(m, 0x3d4, i);
    out(m, 0x3d5, v);
  }
  let s = m.vga!.textScreen();
  assert.deepEqual(textScreenLines(s).slice(0, 2), ["hello", "   world"]);
  assert.equal(s.cells[1], 0x1f);
  assert.deepEqual(s.cursor, { row: 1, col: 3, visible: true, start: 14, end: 15 });
  out(m, 0x3d4, 0x0d);
  out(m, 0x3d5, 80); // start one row down
  s = m.vga!.textScreen();
  assert.equal(textScreenLines(s)[0], "   world");
  assert.deepEqual([s.cursor.row, s.cursor.col], [0, 3]);
  out(m, 0x3d4, 0x0a);
  out(m, 0x3d5, 0x20); // cursor off
  assert.equal(m.vga!.textScreen().cursor.visible, false);
  out(m, 0x3d4, 0x0a);
  assert.equal(
    Number(m.handle(newIoreq({ type: IOREQ_TYPE_PIO, addr: 0x3d5n, size: 1, dir: 1 }), undefined)),
    0x20,
  );
});

test("the CRTC registers are part of the saved state (and a state without them loads the defaults)", () => {
  const m = new Machine("primary", { clock: () => 0 });
  out(m, 0x3d4, 0x0f);
  out(m, 0x3d5, 42);
  const state = decodeMachineState(encodeMachineState(m.saveState()));
  const m2 = new Machine("primary", { clock: () => 0 });
  m2.loadState(state);
  assert.equal(m2.vga!.textScreen().cursor.col, 42);
  const v = new VgaFramebuffer();
  const old = v.saveState(bytesToBase64);
  delete old.crtc;
  delete old.crtcIndex;
  v.loadState(old, base64ToBytes);
  assert.deepEqual(v.textScreen().cursor, { row: 0, col: 0, visible: true, start: 14, end: 15 });
});

test("glyphs: printable ASCII drawn in columns 1–5 with doubled rows, a box for the rest, NUL blank", () => {
  for (let c = 0x21; c <= 0x7e; c++) {
    const g = glyph8x16(c);
    assert.ok(
      g.some((r) => r !== 0),
      `glyph ${c.toString(16)} has dots`,
    );
    for (let y = 0; y < 16; y += 2) assert.equal(g[y], g[y + 1]);
    assert.ok(
      g.every((r) => (r & 0x83) === 0),
      "columns 0, 6, 7 stay clear",
    );
  }
  assert.ok(glyph8x16(0x20).every((r) => r === 0));
  assert.ok(glyph8x16(0).every((r) => r === 0));
  assert.deepEqual([...glyph8x16(0xdb)].slice(0, 2), [0x7c, 0x7c], "a hollow box for code page 437 extras");
  const seen = new Set<string>();
  for (let c = 0x20; c <= 0x7e; c++) seen.add(glyph8x16(c).join(","));
  assert.equal(seen.size, 95, "every character looks different");
});

test("rendering: 640×400, background and foreground from the attribute, the cursor's scan lines", () => {
  const m = new Machine("primary", { clock: () => 0 });
  putText(m, 0, 0, "A", 0x4e); // yellow on red
  putText(m, 0, 1, " ", 0x07); // grey on black
  out(m, 0x3d4, 0x0f);
  out(m, 0x3d5, 1); // cursor at (0, 1)
  const pic = renderTextScreen(m.vga!.textScreen());
  assert.deepEqual([pic.width, pic.height], [640, 400]);
  const px = (x: number, y: number) => [...pic.rgba.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3)];
  assert.deepEqual(px(0, 0), [...TEXT_COLOURS[4]!]);
  // A's top row is 0x0e: dots in glyph columns 1–3, pixels 2–4 of the cell.
  assert.deepEqual(px(1, 0), [...TEXT_COLOURS[4]!]);
  assert.deepEqual(px(2, 0), [...TEXT_COLOURS[14]!]);
  assert.deepEqual(px(4, 0), [...TEXT_COLOURS[14]!]);
  assert.deepEqual(px(5, 0), [...TEXT_COLOURS[4]!]);
  assert.deepEqual(px(8 + 3, 14), [...TEXT_COLOURS[7]!], "cursor line 14 in cell (0, 1), grey on black");
  assert.deepEqual(px(8 + 3, 13), [...TEXT_COLOURS[0]!]);
});
