// Pixel formats (DRM FOURCCs, as drm/xen-front sends in FB_ATTACH) and the EDID a backend returns
// for GET_EDID (one 128-byte EDID 1.4 base block describing the connector's resolution).

/** fourcc_code('X','R','2','4') etc.: four ASCII characters, little-endian. */
export function fourcc(code: string): number {
  if (code.length !== 4) throw new RangeError(`fourcc "${code}"`);
  return (
    (code.charCodeAt(0) |
      (code.charCodeAt(1) << 8) |
      (code.charCodeAt(2) << 16) |
      (code.charCodeAt(3) << 24)) >>>
    0
  );
}

/** The formats drm/xen-front offers (xen_drm_front_kms.c's list). */
export const DRM_FORMAT = Object.freeze({
  RGB565: fourcc("RG16"),
  RGB888: fourcc("RG24"),
  XRGB8888: fourcc("XR24"),
  ARGB8888: fourcc("AR24"),
  XRGB4444: fourcc("XR12"),
  ARGB4444: fourcc("AR12"),
  XRGB1555: fourcc("XR15"),
  ARGB1555: fourcc("AR15"),
} as const);

const BPP = new Map<number, number>([
  [DRM_FORMAT.RGB565, 16],
  [DRM_FORMAT.RGB888, 24],
  [DRM_FORMAT.XRGB8888, 32],
  [DRM_FORMAT.ARGB8888, 32],
  [DRM_FORMAT.XRGB4444, 16],
  [DRM_FORMAT.ARGB4444, 16],
  [DRM_FORMAT.XRGB1555, 16],
  [DRM_FORMAT.ARGB1555, 16],
]);

/** Bits per pixel of a known format, or undefined. */
export function pixelFormatBpp(format: number): number | undefined {
  return BPP.get(format >>> 0);
}

/**
 * A 128-byte EDID 1.4 base block for a `width`×`height` connector at 60 Hz: header, vendor "XEN",
 * product from `productCode`, digital input, one detailed timing descriptor (preferred mode), a
 * monitor-name descriptor, checksum (all bytes sum to 0 mod 256).
 */
export function edidBlock(width: number, height: number, name = "xensim", productCode = 0x0001): Uint8Array {
  const e = new Uint8Array(128);
  e.set([0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 0);
  const letter = (c: string) => c.charCodeAt(0) - 64;
  const vendor = (letter("X") << 10) | (letter("E") << 5) | letter("N");
  e[8] = vendor >> 8;
  e[9] = vendor & 0xff;
  e[10] = productCode & 0xff;
  e[11] = (productCode >> 8) & 0xff;
  e[16] = 1; // week
  e[17] = 2026 - 1990; // year
  e[18] = 1; // EDID 1.4
  e[19] = 4;
  e[20] = 0xa5; // digital, 8 bits per colour, DisplayPort
  e[21] = Math.min(255, Math.round(width / 40)); // size in cm (≈ 96 dpi)
  e[22] = Math.min(255, Math.round(height / 40));
  e[23] = 120; // gamma 2.2
  e[24] = 0x06; // sRGB, preferred timing in DTD 1
  // Standard timings unused (0x01 0x01).
  for (let i = 38; i < 54; i++) e[i] = 0x01;
  // Detailed timing descriptor 1 (offset 54): blanking kept small (CVT reduced-blanking like).
  const hblank = 160;
  const vblank = Math.max(23, Math.ceil(height * 0.03));
  const clock10k = Math.round(((width + hblank) * (height + vblank) * 60) / 10_000);
  const d = 54;
  e[d] = clock10k & 0xff;
  e[d + 1] = (clock10k >> 8) & 0xff;
  e[d + 2] = width & 0xff;
  e[d + 3] = hblank & 0xff;
  e[d + 4] = ((width >> 8) << 4) | (hblank >> 8);
  e[d + 5] = height & 0xff;
  e[d + 6] = vblank & 0xff;
  e[d + 7] = ((height >> 8) << 4) | (vblank >> 8);
  e[d + 8] = 48; // h front porch
  e[d + 9] = 32; // h sync
  e[d + 10] = (3 << 4) | 5; // v front porch 3, v sync 5
  e[d + 11] = 0;
  e[d + 12] = e[21]! * 10;
  e[d + 13] = e[22]! * 10;
  e[d + 14] = 0;
  e[d + 17] = 0x1e; // digital separate sync, +h -v
  // Descriptor 2 (offset 72): monitor name.
  const n = 72;
  e.set([0, 0, 0, 0xfc, 0], n);
  const text = `${name.slice(0, 12)}\n`.padEnd(13, " ");
  for (let i = 0; i < 13; i++) e[n + 5 + i] = text.charCodeAt(i) & 0x7f;
  // Descriptors 3 and 4: dummy (type 0x10).
  e.set([0, 0, 0, 0x10], 90);
  e.set([0, 0, 0, 0x10], 108);
  e[126] = 0; // no extension blocks
  let sum = 0;
  for (let i = 0; i < 127; i++) sum += e[i]!;
  e[127] = (256 - (sum % 256)) % 256;
  return e;
}
