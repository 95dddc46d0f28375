// The pure half of displback: the checks each request gets against the device's tables (Xen's
// error codes as fact sheet §8 lists them), and the scanout: what a connector shows, composed from
// a framebuffer's region on PG_FLIP and converted to RGBA for a screenshot.
import { XenErrno, XENDISPL_DBUF_FLG_REQ_ALLOC } from "@xensim/abi";
import {
  type DbufCreateRequest,
  DRM_FORMAT,
  type FbAttachRequest,
  minBufferBytes,
  pixelFormatBpp,
  type SetConfigRequest,
} from "@xensim/displif";

/** Limits a backend enforces on guest requests. */
export interface DisplbackLimits {
  /** Largest display buffer, bytes (default 64 MiB). */
  readonly maxBufferBytes: number;
  /** Most display buffers per device (default 64). */
  readonly maxBuffers: number;
}

export const DEFAULT_LIMITS: DisplbackLimits = Object.freeze({ maxBufferBytes: 64 << 20, maxBuffers: 64 });

const BPPS = new Set([8, 16, 24, 32]);

export interface DbufShape {
  readonly width: number;
  readonly height: number;
  readonly bpp: number;
  readonly bufferSz: number;
  readonly dataOfs: number;
}
export interface FbShape {
  readonly dbufCookie: bigint;
  readonly width: number;
  readonly height: number;
  readonly pixelFormat: number;
}

/** DBUF_CREATE: 0 or −XEN_Exx, before anything is mapped. */
export function checkDbufCreate(
  req: DbufCreateRequest,
  known: ReadonlyMap<bigint, unknown>,
  beAlloc: boolean,
  limits: DisplbackLimits = DEFAULT_LIMITS,
): number {
  if (req.dbufCookie === 0n || known.has(req.dbufCookie)) return -XenErrno.EINVAL;
  if (req.width === 0 || req.height === 0 || !BPPS.has(req.bpp)) return -XenErrno.EINVAL;
  if ((req.flags & ~XENDISPL_DBUF_FLG_REQ_ALLOC) !== 0) return -XenErrno.EINVAL;
  if ((req.flags & XENDISPL_DBUF_FLG_REQ_ALLOC) !== 0 && !beAlloc) return -XenErrno.EOPNOTSUPP;
  if (req.bufferSz > limits.maxBufferBytes) return -XenErrno.ENOMEM;
  if (known.size >= limits.maxBuffers) return -XenErrno.ENOSPC;
  const need = minBufferBytes(req.width, req.height, req.bpp) + req.dataOfs;
  if (!Number.isSafeInteger(need) || req.bufferSz < need) return -XenErrno.EINVAL;
  return 0;
}

/** FB_ATTACH: the buffer must exist, the cookie be new and non-zero, the frame fit the buffer. */
export function checkFbAttach(
  req: FbAttachRequest,
  dbufs: ReadonlyMap<bigint, DbufShape>,
  fbs: ReadonlyMap<bigint, unknown>,
): number {
  const d = dbufs.get(req.dbufCookie);
  if (!d) return -XenErrno.ENOENT;
  if (req.fbCookie === 0n || fbs.has(req.fbCookie)) return -XenErrno.EINVAL;
  const bpp = pixelFormatBpp(req.pixelFormat);
  if (bpp === undefined) return -XenErrno.EINVAL;
  if (bpp !== d.bpp || req.width === 0 || req.height === 0 || req.width > d.width || req.height > d.height)
    return -XenErrno.EINVAL;
  return 0;
}

/** SET_CONFIG: all zero disables; otherwise the region must lie inside the framebuffer. */
export function checkSetConfig(
  req: SetConfigRequest,
  fbs: ReadonlyMap<bigint, FbShape>,
  dbufs: ReadonlyMap<bigint, DbufShape>,
): number {
  if (isDisable(req)) return 0;
  const fb = fbs.get(req.fbCookie);
  if (!fb) return -XenErrno.ENOENT;
  const d = dbufs.get(fb.dbufCookie);
  if (!d) return -XenErrno.ENOENT;
  if (req.width === 0 || req.height === 0) return -XenErrno.EINVAL;
  if (req.x + req.width > fb.width || req.y + req.height > fb.height) return -XenErrno.EINVAL;
  if (req.bpp !== d.bpp) return -XenErrno.EINVAL;
  return 0;
}

export function isDisable(req: SetConfigRequest): boolean {
  return (
    req.fbCookie === 0n && req.x === 0 && req.y === 0 && req.width === 0 && req.height === 0 && req.bpp === 0
  );
}

/** A connector's mode and its last composed frame (the pixels as the guest wrote them). */
export class Scanout {
  /** The connector's pixels, `width*height*4` (XRGB8888 layout, converted on compose). */
  readonly pixels: Uint8Array;
  /** Frames composed (page flips shown). */
  frames = 0;
  /** Clock value of the last flip shown. */
  lastFlipAt = 0;
  private line: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.pixels = new Uint8Array(width * height * 4);
    this.line = new Uint8Array(width * 4);
  }

  /**
   * Copies the region (x, y, w, h) of a framebuffer of stride `pitch` bytes at `dataOfs` in the
   * buffer (read through `readInto`) to the top left of the scanout, clipped to the connector.
   */
  compose(
    src: { readInto(off: number, dst: Uint8Array, dstOff?: number, len?: number): void },
    dataOfs: number,
    pitch: number,
    format: number,
    region: { x: number; y: number; width: number; height: number },
    now: number,
  ): void {
    const w = Math.min(region.width, this.width);
    const h = Math.min(region.height, this.height);
    const bpp = pixelFormatBpp(format) ?? 32;
    const bytesPp = bpp / 8;
    const out = this.pixels;
    if (format === DRM_FORMAT.XRGB8888 || format === DRM_FORMAT.ARGB8888) {
      for (let row = 0; row < h; row++)
        src.readInto(dataOfs + (region.y + row) * pitch + region.x * 4, out, row * this.width * 4, w * 4);
    } else {
      if (this.line.length < w * bytesPp) this.line = new Uint8Array(w * bytesPp);
      const line = this.line;
      for (let row = 0; row < h; row++) {
        src.readInto(dataOfs + (region.y + row) * pitch + region.x * bytesPp, line, 0, w * bytesPp);
        convertLine(line, format, w, out, row * this.width * 4);
      }
    }
    this.frames++;
    this.lastFlipAt = now;
  }

  /** Blank (SET_CONFIG disable). */
  clear(): void {
    this.pixels.fill(0);
  }

  /** The frame as RGBA (alpha 255), for PNG encoders. */
  toRgba(): Uint8Array {
    const p = this.pixels;
    const out = new Uint8Array(p.length);
    for (let i = 0; i < p.length; i += 4) {
      out[i] = p[i + 2]!;
      out[i + 1] = p[i + 1]!;
      out[i + 2] = p[i]!;
      out[i + 3] = 255;
    }
    return out;
  }
}

/** Converts one line of 16/24-bit pixels to XRGB8888 bytes (B, G, R, X). */
function convertLine(line: Uint8Array, format: number, w: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < w; i++) {
    let r: number;
    let g: number;
    let b: number;
    if (format === DRM_FORMAT.RGB888) {
      b = line[i * 3]!;
      g = line[i * 3 + 1]!;
      r = line[i * 3 + 2]!;
    } else {
      const v = line[i * 2]! | (line[i * 2 + 1]! << 8);
      if (format === DRM_FORMAT.RGB565) {
        r = (((v >> 11) & 0x1f) * 255) / 31;
        g = (((v >> 5) & 0x3f) * 255) / 63;
        b = ((v & 0x1f) * 255) / 31;
      } else if (format === DRM_FORMAT.XRGB1555 || format === DRM_FORMAT.ARGB1555) {
        r = (((v >> 10) & 0x1f) * 255) / 31;
        g = (((v >> 5) & 0x1f) * 255) / 31;
        b = ((v & 0x1f) * 255) / 31;
      } else {
        r = ((v >> 8) & 0xf) * 17;
        g = ((v >> 4) & 0xf) * 17;
        b = (v & 0xf) * 17;
      }
    }
    out[at + i * 4] = b;
    out[at + i * 4 + 1] = g;
    out[at + i * 4 + 2] = r;
    out[at + i * 4 + 3] = 0;
  }
}
