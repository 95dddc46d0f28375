// Shared vocabulary for byte layouts: ABIs, per-ABI tables, bit fields.

/** The two x86 guest ABIs a backend meets ("x86_64-abi" / "x86_32-abi" in io/protocols.h). */
export type XenAbi = "x86_64" | "x86_32";
export const XEN_ABIS: readonly XenAbi[] = Object.freeze(["x86_64", "x86_32"] as const);

/** A table that differs between the two ABIs. */
export type PerAbi<T> = Readonly<Record<XenAbi, T>>;

/**
 * A struct layout: byte offsets of fields plus `size` = sizeof(struct).
 * (The one Xen struct with a field literally called `size`, ioreq_t, names it `size_field`.)
 */
export type Layout<K extends string> = Readonly<Record<K | "size", number>>;

/** A bit field: `width` bits starting at bit `shift` of byte `byte` (little-endian bit order). */
export interface BitField {
  readonly byte: number;
  readonly shift: number;
  readonly width: number;
}

export function layout<T extends Record<string, number>>(fields: T): Readonly<T> {
  return Object.freeze({ ...fields });
}

export function perAbi<T extends object>(x86_64: T, x86_32: T): PerAbi<Readonly<T>> {
  return Object.freeze({ x86_64: Object.freeze({ ...x86_64 }), x86_32: Object.freeze({ ...x86_32 }) });
}

export function bitField(byte: number, shift: number, width: number): BitField {
  return Object.freeze({ byte, shift, width });
}

/** Read a bit field out of a byte view (fields never straddle more than 4 bytes). */
export function readBits(bytes: Uint8Array, offset: number, f: BitField): number {
  let word = 0;
  const span = Math.ceil((f.shift + f.width) / 8);
  for (let i = span - 1; i >= 0; i--) word = word * 256 + (bytes[offset + f.byte + i] ?? 0);
  return Math.floor(word / 2 ** f.shift) % 2 ** f.width;
}

/** Write a bit field into a byte view, leaving the other bits alone. */
export function writeBits(bytes: Uint8Array, offset: number, f: BitField, value: number): void {
  const span = Math.ceil((f.shift + f.width) / 8);
  let word = 0;
  for (let i = span - 1; i >= 0; i--) word = word * 256 + (bytes[offset + f.byte + i] ?? 0);
  const unit = 2 ** f.shift;
  const range = 2 ** f.width;
  const old = Math.floor(word / unit) % range;
  word += ((value % range) - old) * unit;
  for (let i = 0; i < span; i++) {
    bytes[offset + f.byte + i] = word % 256;
    word = Math.floor(word / 256);
  }
}
