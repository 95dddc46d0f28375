// Verifiable block contents, in the spirit of fio's verify=crc32c: every written block carries a
// header (magic, block offset, generation, seed) and a CRC-32C over the rest, so a read can tell a
// torn, misplaced, stale or corrupted block from the right one.

const MAGIC = 0x5856_4631; // "XVF1"
/** Header: u32 magic | u32 crc32c | u64 offset (two u32) | u32 generation | u32 seed. */
export const VERIFY_HEADER_BYTES = 24;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f6_3b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as fio's crc32c and iSCSI use. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffff_ffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffff_ffff) >>> 0;
}

/** Fills `block` with the contents of block `offset` (bytes) at `generation`. */
export function fillVerifyBlock(block: Uint8Array, offset: number, generation: number, seed: number): void {
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(8, offset % 2 ** 32, true);
  dv.setUint32(12, Math.floor(offset / 2 ** 32), true);
  dv.setUint32(16, generation >>> 0, true);
  dv.setUint32(20, seed >>> 0, true);
  // xorshift32 stream from (offset, generation, seed): different for every block and generation
  let x =
    (Math.imul(offset / 512 + 1, 0x9e37_79b1) ^ Math.imul(generation + 1, 0x85eb_ca6b) ^ seed) >>> 0 || 1;
  let i = VERIFY_HEADER_BYTES;
  for (; i + 4 <= block.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    dv.setUint32(i, x >>> 0, true);
  }
  for (; i < block.length; i++) block[i] = i & 0xff;
  dv.setUint32(4, crc32c(block, 8), true);
}

export type VerifyResult =
  | { ok: true; generation: number }
  | { ok: false; reason: "bad_magic" | "bad_crc" | "wrong_offset" | "wrong_seed" };

/** Checks a block read back from `offset`; returns the generation it holds. */
export function checkVerifyBlock(block: Uint8Array, offset: number, seed: number): VerifyResult {
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return { ok: false, reason: "bad_magic" };
  if (dv.getUint32(4, true) !== crc32c(block, 8)) return { ok: false, reason: "bad_crc" };
  const off = dv.getUint32(8, true) + dv.getUint32(12, true) * 2 ** 32;
  if (off !== offset) return { ok: false, reason: "wrong_offset" };
  if (dv.getUint32(20, true) !== seed >>> 0) return { ok: false, reason: "wrong_seed" };
  return { ok: true, generation: dv.getUint32(16, true) };
}
