// hvm/ioreq.h byte layouts: ioreq_t (32 bytes, one per vCPU in the shared iopage) and buf_ioreq
// (8 bytes, 511 of them in the buffered iopage). Codecs work on an Int32Array over a shared buffer
// and a word index, little-endian as on x86 (the hosts this runs on are little-endian; the gcc test
// compares with the real header's bytes).

import {
  IOREQ_BUFFER_SLOT_NUM,
  IOREQ_LAYOUT,
  IOREQ_READ,
  IOREQ_WRITE,
  STATE_IOREQ_NONE,
  SHARED_IOPAGE_LAYOUT,
  BUFFERED_IOPAGE_LAYOUT,
} from "@xensim/abi";

/** One ioreq_t, decoded. `addr` and `data` are u64. */
export interface Ioreq {
  /** Guest physical address, port, or (PCI_CONFIG) SBDF << 32 | register. */
  addr: bigint;
  /** The value, or the guest physical address of the buffer when `dataIsPtr`. */
  data: bigint;
  /** Repeat count (rep ins/outs/movs). */
  count: number;
  /** Access width in bytes (the C member `size`). */
  size: number;
  /** The per-vCPU event channel port Xen notifies the emulator on. */
  vpEport: number;
  /** STATE_IOREQ_* (4 bits). */
  state: number;
  dataIsPtr: boolean;
  /** IOREQ_READ (1) or IOREQ_WRITE (0). */
  dir: number;
  /** Direction flag of a rep access (addresses go down). */
  df: boolean;
  /** IOREQ_TYPE_*. */
  type: number;
}

export function newIoreq(init: Partial<Ioreq> = {}): Ioreq {
  return {
    addr: 0n,
    data: 0n,
    count: 1,
    size: 1,
    vpEport: 0,
    state: STATE_IOREQ_NONE,
    dataIsPtr: false,
    dir: IOREQ_WRITE,
    df: false,
    type: 0,
    ...init,
  };
}

/** Words of an ioreq_t. */
export const IOREQ_WORDS = IOREQ_LAYOUT.size / 4;
/** Word 7 holds _pad0 (bits 0–15), the flag byte (state 16–19, data_is_ptr 20, dir 21, df 22), type (24–31). */
export const IOREQ_CTRL_WORD = IOREQ_LAYOUT._pad0 / 4;
const W_ADDR = IOREQ_LAYOUT.addr / 4;
const W_DATA = IOREQ_LAYOUT.data / 4;
const W_COUNT = IOREQ_LAYOUT.count / 4;
const W_SIZE = IOREQ_LAYOUT.size_field / 4;
const W_PORT = IOREQ_LAYOUT.vp_eport / 4;
export const IOREQ_PORT_WORD = W_PORT;

const STATE_SHIFT = 16;
const STATE_MASK = 0xf << STATE_SHIFT;
const DATA_IS_PTR = 1 << 20;
const DIR_READ = 1 << 21;
const DF = 1 << 22;
const TYPE_SHIFT = 24;

/** Word index of vCPU `vcpu`'s ioreq_t in a shared iopage starting at word `pageBase`. */
export function ioreqSlot(pageBase: number, vcpu: number): number {
  return pageBase + (SHARED_IOPAGE_LAYOUT.vcpu_ioreq + vcpu * SHARED_IOPAGE_LAYOUT.stride) / 4;
}

/** The state in a control word (word 7). */
export function ctrlState(ctrl: number): number {
  return (ctrl & STATE_MASK) >>> STATE_SHIFT;
}

/** The control word (word 7) of `req` with `state`; _pad0 and the pad bit are written as 0. */
export function ctrlWord(req: Ioreq, state: number): number {
  return (
    ((state & 0xf) << STATE_SHIFT) |
    (req.dataIsPtr ? DATA_IS_PTR : 0) |
    (req.dir === IOREQ_READ ? DIR_READ : 0) |
    (req.df ? DF : 0) |
    ((req.type & 0xff) << TYPE_SHIFT)
  );
}

/** The same control word with another state. */
export function withState(ctrl: number, state: number): number {
  return (ctrl & ~STATE_MASK) | ((state & 0xf) << STATE_SHIFT);
}

// Most values (ports, register contents, addresses below 4 GiB) fit in 32 bits: those take no
// BigInt arithmetic (each BigInt operation allocates).
function lo(v: bigint): number {
  return v >= 0n && v <= 0xffff_ffffn ? Number(v) | 0 : Number(BigInt.asUintN(32, v)) | 0;
}
function hi(v: bigint): number {
  return v >= 0n && v <= 0xffff_ffffn ? 0 : Number(BigInt.asUintN(32, v >> 32n)) | 0;
}
function u64(i32: Int32Array, w: number): bigint {
  const high = i32[w + 1]!;
  if (high === 0) return BigInt(i32[w]! >>> 0);
  return (BigInt(high >>> 0) << 32n) | BigInt(i32[w]! >>> 0);
}

/** Write the 64-bit `data` field of the slot at `slot` (plain stores; publish with the state word). */
export function writeIoreqData(i32: Int32Array, slot: number, data: bigint): void {
  i32[slot + W_DATA] = lo(data);
  i32[slot + W_DATA + 1] = hi(data);
}

export function readIoreqData(i32: Int32Array, slot: number): bigint {
  return u64(i32, slot + W_DATA);
}

/**
 * Write every field of `req` into the slot: words 0–6 with plain stores, then the control word
 * (state and flags) with one Atomics.store, so a reader that sees the state sees the rest.
 */
export function writeIoreq(i32: Int32Array, slot: number, req: Ioreq): void {
  writeIoreqAs(i32, slot, req, req.vpEport, req.state);
}

/** writeIoreq with `vp_eport` and `state` given apart (Xen's send: no copy of the request). */
export function writeIoreqAs(
  i32: Int32Array,
  slot: number,
  req: Ioreq,
  vpEport: number,
  state: number,
): void {
  i32[slot + W_ADDR] = lo(req.addr);
  i32[slot + W_ADDR + 1] = hi(req.addr);
  writeIoreqData(i32, slot, req.data);
  i32[slot + W_COUNT] = req.count | 0;
  i32[slot + W_SIZE] = req.size | 0;
  i32[slot + W_PORT] = vpEport | 0;
  Atomics.store(i32, slot + IOREQ_CTRL_WORD, ctrlWord(req, state));
}

/** Decode the slot whose control word was already read (once) as `ctrl`. */
export function decodeIoreq(i32: Int32Array, slot: number, ctrl: number): Ioreq {
  return {
    addr: u64(i32, slot + W_ADDR),
    data: u64(i32, slot + W_DATA),
    count: i32[slot + W_COUNT]! >>> 0,
    size: i32[slot + W_SIZE]! >>> 0,
    vpEport: i32[slot + W_PORT]! >>> 0,
    state: ctrlState(ctrl),
    dataIsPtr: (ctrl & DATA_IS_PTR) !== 0,
    dir: ctrl & DIR_READ ? IOREQ_READ : IOREQ_WRITE,
    df: (ctrl & DF) !== 0,
    type: (ctrl >>> TYPE_SHIFT) & 0xff,
  };
}

/** Read a whole slot: the control word once (Atomics.load), then the other fields. */
export function readIoreq(i32: Int32Array, slot: number): Ioreq {
  return decodeIoreq(i32, slot, Atomics.load(i32, slot + IOREQ_CTRL_WORD));
}

/** ioreq_t as 32 bytes (for golden tests and the wire). */
export function encodeIoreqBytes(req: Ioreq): Uint8Array {
  const i32 = new Int32Array(IOREQ_WORDS);
  writeIoreq(i32, 0, req);
  return new Uint8Array(i32.buffer);
}

export function decodeIoreqBytes(bytes: Uint8Array): Ioreq {
  if (bytes.length < IOREQ_LAYOUT.size) throw new RangeError("an ioreq_t is 32 bytes");
  const i32 = new Int32Array(IOREQ_WORDS);
  new Uint8Array(i32.buffer).set(bytes.subarray(0, IOREQ_LAYOUT.size));
  return readIoreq(i32, 0);
}

// ---- buf_ioreq ------------------------------------------------------------------------------------

/** One buffered request: always a write of 1, 2, 4 or 8 bytes below 1 MiB. */
export interface BufIoreq {
  type: number;
  dir: number;
  /** Bytes: 1, 2, 4 or 8. */
  size: number;
  /** 20 bits. */
  addr: number;
  /** The value; 8-byte requests carry their upper half in the next slot. */
  data: bigint;
}

/** buf_ioreq.size codes: 0/1/2/3 = 1/2/4/8 bytes. */
export function bufSizeCode(bytes: number): number | undefined {
  switch (bytes) {
    case 1:
      return 0;
    case 2:
      return 1;
    case 4:
      return 2;
    case 8:
      return 3;
    default:
      return undefined;
  }
}

/** The first word of a buf_ioreq: type | pad << 8 | dir << 9 | size << 10 | addr << 12. */
export function bufWord0(type: number, dir: number, sizeCode: number, addr: number): number {
  return (type & 0xff) | ((dir & 1) << 9) | ((sizeCode & 3) << 10) | ((addr & 0xfffff) << 12);
}

export function decodeBufWord0(w: number): { type: number; dir: number; sizeCode: number; addr: number } {
  return { type: w & 0xff, dir: (w >>> 9) & 1, sizeCode: (w >>> 10) & 3, addr: (w >>> 12) & 0xfffff };
}

/** Word index of the buf_ioreq slot for a free-running pointer value (pointer mod 511). */
export function bufSlot(pageBase: number, pointer: number): number {
  return pageBase + (BUFFERED_IOPAGE_LAYOUT.buf_ioreq + ((pointer >>> 0) % IOREQ_BUFFER_SLOT_NUM) * 8) / 4;
}

export const BUF_READ_POINTER_WORD = BUFFERED_IOPAGE_LAYOUT.read_pointer / 4;
export const BUF_WRITE_POINTER_WORD = BUFFERED_IOPAGE_LAYOUT.write_pointer / 4;

/** A buf_ioreq as 8 bytes (the first slot of an 8-byte request: data = low half). */
export function encodeBufIoreqBytes(b: BufIoreq): Uint8Array {
  const code = bufSizeCode(b.size);
  if (code === undefined) throw new RangeError(`buf_ioreq size ${b.size}`);
  const i32 = new Int32Array(2);
  i32[0] = bufWord0(b.type, b.dir, code, b.addr);
  i32[1] = lo(b.data);
  return new Uint8Array(i32.buffer);
}

export function decodeBufIoreqBytes(bytes: Uint8Array): BufIoreq {
  const i32 = new Int32Array(2);
  new Uint8Array(i32.buffer).set(bytes.subarray(0, 8));
  const w = decodeBufWord0(i32[0]!);
  return { type: w.type, dir: w.dir, size: 1 << w.sizeCode, addr: w.addr, data: BigInt(i32[1]! >>> 0) };
}
