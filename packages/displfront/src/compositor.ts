// A guest "compositor": double-buffered XRGB8888 frames on one connector, redrawn and flipped on a
// timer — a boot logo, a clock and the guest's disk IOPS, over a background that moves with time —
// and a deterministic test pattern for pixel-exact checks. Clock and timer are injected.
import { DRM_FORMAT } from "@xensim/displif";
import type { DisplayBuffer, Displfront, Framebuffer } from "./displfront.js";
import type { DisplfrontTimer } from "./environment.js";

/** The test pattern's colour at (x, y) of a w×h frame: 8 colour bars above, a grey ramp below. */
export function testPatternPixel(x: number, y: number, w: number, h: number): [number, number, number] {
  if (y < (h * 3) >> 2) {
    const bar = Math.floor((x * 8) / w);
    return [bar & 4 ? 255 : 0, bar & 2 ? 255 : 0, bar & 1 ? 255 : 0].reverse() as [number, number, number];
  }
  const v = Math.floor((x * 255) / Math.max(1, w - 1));
  return [v, (v + y) & 0xff, 255 - v];
}

/** Writes the test pattern into a 32-bpp buffer (XRGB8888 in memory: B, G, R, X). */
export function drawTestPattern(buf: DisplayBuffer): void {
  const line = new Uint8Array(buf.pitch);
  for (let y = 0; y < buf.height; y++) {
    for (let x = 0; x < buf.width; x++) {
      const [r, g, b] = testPatternPixel(x, y, buf.width, buf.height);
      line[x * 4] = b;
      line[x * 4 + 1] = g;
      line[x * 4 + 2] = r;
      line[x * 4 + 3] = 0;
    }
    buf.view.writeFrom(y * buf.pitch, line);
    buf.view.markWritten(y * buf.pitch, buf.pitch);
  }
}

// A 5×7 font (rows top to bottom, bit 4 = leftmost column) for what the compositor writes.
const FONT: Record<string, number[]> = {
  "0": [14, 17, 19, 21, 25, 17, 14],
  "1": [4, 12, 4, 4, 4, 4, 14],
  "2": [14, 17, 1, 2, 4, 8, 31],
  "3": [31, 2, 4, 2, 1, 17, 14],
  "4": [2, 6, 10, 18, 31, 2, 2],
  "5": [31, 16, 30, 1, 1, 17, 14],
  "6": [6, 8, 16, 30, 17, 17, 14],
  "7": [31, 1, 2, 4, 8, 8, 8],
  "8": [14, 17, 17, 14, 17, 17, 14],
  "9": [14, 17, 17, 15, 1, 2, 12],
  ":": [0, 12, 12, 0, 12, 12, 0],
  ".": [0, 0, 0, 0, 0, 12, 12],
  " ": [0, 0, 0, 0, 0, 0, 0],
  "-": [0, 0, 0, 31, 0, 0, 0],
  A: [14, 17, 17, 31, 17, 17, 17],
  D: [30, 17, 17, 17, 17, 17, 30],
  E: [31, 16, 16, 30, 16, 16, 31],
  F: [31, 16, 16, 30, 16, 16, 16],
  I: [14, 4, 4, 4, 4, 4, 14],
  K: [17, 18, 20, 24, 20, 18, 17],
  M: [17, 27, 21, 21, 17, 17, 17],
  N: [17, 17, 25, 21, 19, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  U: [17, 17, 17, 17, 17, 17, 14],
  X: [17, 17, 10, 4, 10, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  G: [14, 17, 16, 23, 17, 17, 15],
  H: [17, 17, 17, 31, 17, 17, 17],
  J: [7, 2, 2, 2, 2, 18, 12],
  L: [16, 16, 16, 16, 16, 16, 31],
  T: [31, 4, 4, 4, 4, 4, 4],
  V: [17, 17, 17, 17, 17, 10, 4],
  W: [17, 17, 17, 21, 21, 21, 10],
  Y: [17, 17, 10, 4, 4, 4, 4],
  Z: [31, 1, 2, 4, 8, 16, 31],
  _: [0, 0, 0, 0, 0, 0, 31],
};

export interface CompositorOptions {
  readonly front: Displfront;
  readonly connector?: number;
  /** Wall-clock milliseconds (the clock shown). */
  readonly now: () => number;
  readonly timer: DisplfrontTimer;
  /** Redraw period (default 200 ms). */
  readonly periodMs?: number;
  /** The guest's disk IOPS (shown when given). */
  readonly iops?: () => number;
  /** Ask the backend for the buffers (be-alloc). */
  readonly backendAlloc?: boolean;
  readonly title?: string;
}

/** Draws and flips on a timer; starts over after every reconnect; stop() ends it. */
export class Compositor {
  frames = 0;
  errors = 0;
  private buffers: { buf: DisplayBuffer; fb: Framebuffer }[] = [];
  private back = 0;
  private scratch = new Uint8Array(0);
  private handle: unknown;
  private stopped = false;
  private running = false;
  private readonly unsub: () => void;

  constructor(private readonly options: CompositorOptions) {
    this.unsub = options.front.subscribe((n) => {
      if (n.kind === "connected") void this.restart();
      if (n.kind === "disconnected") this.buffers = [];
    });
  }

  /** Sets up the buffers (once connected) and starts the timer. */
  async start(): Promise<void> {
    if (this.options.front.isConnected) await this.restart();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.unsub();
    if (this.handle !== undefined) this.options.timer.clearTimeout(this.handle);
  }

  private async restart(): Promise<void> {
    const f = this.options.front;
    const c = f.connectors[this.options.connector ?? 0];
    if (!c || this.stopped) return;
    const made: { buf: DisplayBuffer; fb: Framebuffer }[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const buf = await f.createBuffer({
          width: c.width,
          height: c.height,
          backendAlloc: this.options.backendAlloc === true,
        });
        made.push({ buf, fb: await f.attachFramebuffer(buf, DRM_FORMAT.XRGB8888) });
      }
      await f.setConfig(this.options.connector ?? 0, made[0]!.fb);
      this.scratch = new Uint8Array(made[0]!.buf.bufferSz);
      this.buffers = made;
      this.back = 1;
    } catch {
      this.errors++;
    }
  }

  private arm(): void {
    if (this.stopped) return;
    this.handle = this.options.timer.setTimeout(() => void this.tick(), this.options.periodMs ?? 200);
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return this.arm();
    this.running = true;
    try {
      const b = this.buffers[this.back];
      if (b && b.buf.generation === this.buffers[0]!.buf.generation) {
        this.draw(b.buf);
        const st = await this.options.front.pageFlip(this.options.connector ?? 0, b.fb);
        if (st === 0) {
          this.frames++;
          this.back ^= 1;
        } else this.errors++;
      }
    } catch {
      this.errors++;
    } finally {
      this.running = false;
      this.arm();
    }
  }

  /** One frame: a moving gradient, the logo, the clock, the IOPS and the frame number. */
  draw(buf: DisplayBuffer): void {
    const w = buf.width;
    const h = buf.height;
    const px =
      this.scratch.length >= buf.bufferSz ? this.scratch : (this.scratch = new Uint8Array(buf.bufferSz));
    const t = this.options.now();
    const phase = Math.floor(t / 40) & 0xff;
    for (let x = 0; x < w; x++) {
      px[x * 4] = (x * 96) / w + 40;
      const g = (phase + (x * 128) / w) & 0xff;
      px[x * 4 + 1] = g < 128 ? g : 255 - g; // a triangle wave: no seam
      px[x * 4 + 2] = 24;
    }
    for (let y = 1; y < h; y++) px.copyWithin(y * buf.pitch, 0, w * 4);
    const scale = Math.max(2, Math.floor(h / 60));
    const title = this.options.title ?? "XENSIM";
    const titleScale = Math.max(1, Math.min(scale * 2, Math.floor((w - scale * 4) / (6 * title.length))));
    this.text(px, buf, title, scale * 2, scale * 2, titleScale, [255, 200, 40]);
    const d = new Date(t);
    const two = (n: number) => String(n).padStart(2, "0");
    const clock = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${Math.floor(d.getUTCMilliseconds() / 100)}`;
    this.text(px, buf, clock, scale * 2, scale * 20, scale, [255, 255, 255]);
    if (this.options.iops)
      this.text(
        px,
        buf,
        `IOPS ${Math.round(this.options.iops())}`,
        scale * 2,
        scale * 30,
        scale,
        [120, 255, 120],
      );
    this.text(px, buf, `FRAME ${this.frames}`, scale * 2, scale * 40, scale, [160, 160, 255]);
    // A bar that sweeps once per second.
    const bx = Math.floor(((t % 1000) / 1000) * (w - scale * 4));
    for (let y = h - scale * 4; y < h - scale * 2; y++)
      for (let x = bx; x < bx + scale * 4; x++) px.set([255, 255, 255, 0], y * buf.pitch + x * 4);
    buf.view.writeFrom(0, px, 0, buf.bufferSz);
    buf.view.markWritten(0, buf.bufferSz);
  }

  private text(
    px: Uint8Array,
    buf: DisplayBuffer,
    s: string,
    x0: number,
    y0: number,
    scale: number,
    rgb: number[],
  ): void {
    let x = x0;
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[" "]!;
      for (let row = 0; row < 7; row++)
        for (let col = 0; col < 5; col++) {
          if (!(g[row]! & (16 >> col))) continue;
          for (let dy = 0; dy < scale; dy++)
            for (let dx = 0; dx < scale; dx++) {
              const xx = x + col * scale + dx;
              const yy = y0 + row * scale + dy;
              if (xx >= buf.width || yy >= buf.height) continue;
              const o = yy * buf.pitch + xx * 4;
              px[o] = rgb[2]!;
              px[o + 1] = rgb[1]!;
              px[o + 2] = rgb[0]!;
            }
        }
      x += 6 * scale;
    }
  }
}
