// hvm/ioreq.h: the synchronous ioreq_t slot (one per vCPU) and the buffered ioreq page.

import { bitField, layout } from "./layout.js";

export const IOREQ_READ = 1;
export const IOREQ_WRITE = 0;

/** ioreq_t.state. */
export const STATE_IOREQ_NONE = 0;
export const STATE_IOREQ_READY = 1;
export const STATE_IOREQ_INPROCESS = 2;
export const STATE_IORESP_READY = 3;

/** ioreq_t.type. (QEMU's VMWARE_PORT type 3 is not in the Xen header.) */
export const IOREQ_TYPE_PIO = 0;
export const IOREQ_TYPE_COPY = 1;
export const IOREQ_TYPE_PCI_CONFIG = 2;
export const IOREQ_TYPE_TIMEOFFSET = 7;
export const IOREQ_TYPE_INVALIDATE = 8;

/** struct ioreq (32 bytes, both ABIs). `size_field` is the C member `size` (access width). */
export const IOREQ_LAYOUT = layout({
  addr: 0,
  data: 8,
  count: 16,
  size_field: 20,
  vp_eport: 24,
  _pad0: 28,
  /** The byte holding the state/data_is_ptr/dir/df bit fields. */
  flags: 30,
  type: 31,
  size: 32,
});
/** Bit fields of ioreq_t (byte 30). */
export const IOREQ_BITS = Object.freeze({
  state: bitField(30, 0, 4),
  data_is_ptr: bitField(30, 4, 1),
  dir: bitField(30, 5, 1),
  df: bitField(30, 6, 1),
  _pad1: bitField(30, 7, 1),
});

/** shared_iopage: ioreq_t vcpu_ioreq[nr_vcpus]; slot i at i * 32. */
export const SHARED_IOPAGE_LAYOUT = layout({ vcpu_ioreq: 0, stride: 32 });

export const IOREQ_BUFFER_SLOT_NUM = 511;

/** struct buf_ioreq (8 bytes): a little-endian bit-packed word then data. */
export const BUF_IOREQ_LAYOUT = layout({ type: 0, data: 4, size: 8 });
export const BUF_IOREQ_BITS = Object.freeze({
  type: bitField(0, 0, 8),
  pad: bitField(1, 0, 1),
  dir: bitField(1, 1, 1),
  /** 0/1/2/3 = 1/2/4/8 bytes; 8-byte accesses take two slots (second data = high 32 bits). */
  size: bitField(1, 2, 2),
  addr: bitField(0, 12, 20),
});

/** struct buffered_iopage (exactly one page). Slot = pointer % IOREQ_BUFFER_SLOT_NUM. */
export const BUFFERED_IOPAGE_LAYOUT = layout({ read_pointer: 0, write_pointer: 4, buf_ioreq: 8, size: 4096 });

/** Byte offset of the buffered slot for a free-running pointer value. */
export function bufIoreqSlotOffset(pointer: number): number {
  return BUFFERED_IOPAGE_LAYOUT.buf_ioreq + ((pointer >>> 0) % IOREQ_BUFFER_SLOT_NUM) * BUF_IOREQ_LAYOUT.size;
}
