// hvm/dm_op.h: HYPERVISOR_dm_op and the ioreq-server operations a device model issues.

import { layout } from "./layout.js";

export type IoServId = number;

export const XEN_DMOP_create_ioreq_server = 1;
export const XEN_DMOP_get_ioreq_server_info = 2;
export const XEN_DMOP_map_io_range_to_ioreq_server = 3;
export const XEN_DMOP_unmap_io_range_from_ioreq_server = 4;
export const XEN_DMOP_set_ioreq_server_state = 5;
export const XEN_DMOP_destroy_ioreq_server = 6;
export const XEN_DMOP_track_dirty_vram = 7;
export const XEN_DMOP_set_pci_intx_level = 8;
export const XEN_DMOP_set_isa_irq_level = 9;
export const XEN_DMOP_set_pci_link_route = 10;
export const XEN_DMOP_modified_memory = 11;
export const XEN_DMOP_set_mem_type = 12;
export const XEN_DMOP_inject_event = 13;
export const XEN_DMOP_inject_msi = 14;
export const XEN_DMOP_map_mem_type_to_ioreq_server = 15;
export const XEN_DMOP_remote_shutdown = 16;
export const XEN_DMOP_relocate_memory = 17;
export const XEN_DMOP_pin_memory_cacheattr = 18;
export const XEN_DMOP_set_irq_level = 19;
export const XEN_DMOP_nr_vcpus = 20;

/** get_ioreq_server_info.flags. */
export const _XEN_DMOP_no_gfns = 0;
export const XEN_DMOP_no_gfns = 1 << _XEN_DMOP_no_gfns;

/** ioreq_server_range.type. */
export const XEN_DMOP_IO_RANGE_PORT = 0;
export const XEN_DMOP_IO_RANGE_MEMORY = 1;
export const XEN_DMOP_IO_RANGE_PCI = 2;

export const XEN_DMOP_IOREQ_MEM_ACCESS_READ = 1;
export const XEN_DMOP_IOREQ_MEM_ACCESS_WRITE = 2;

/** Xen-internal limit on ioreq servers per domain (xen/include/xen/ioreq.h, not public). */
export const MAX_NR_IOREQ_SERVERS = 8;

/** XEN_DMOP_PCI_SBDF: the value used for PCI ranges (seg<<16 | bus<<8 | dev<<3 | fn). */
export function xenDmopPciSbdf(seg: number, bus: number, dev: number, fn: number): number {
  return ((seg & 0xffff) * 0x10000 + ((bus & 0xff) << 8) + ((dev & 0x1f) << 3) + (fn & 0x07)) >>> 0;
}

/** struct xen_dm_op: op, pad, then the union `u` of the structs below. */
export const XEN_DM_OP_LAYOUT = layout({ op: 0, pad: 4, u: 8, size: 32 });
/** Offsets inside `u`. */
export const XEN_DM_OP_CREATE_IOREQ_SERVER_LAYOUT = layout({ handle_bufioreq: 0, pad: 1, id: 4, size: 6 });
export const XEN_DM_OP_GET_IOREQ_SERVER_INFO_LAYOUT = layout({
  id: 0,
  flags: 2,
  bufioreq_port: 4,
  ioreq_gfn: 8,
  bufioreq_gfn: 16,
  size: 24,
});
export const XEN_DM_OP_IOREQ_SERVER_RANGE_LAYOUT = layout({
  id: 0,
  pad: 2,
  type: 4,
  start: 8,
  end: 16,
  size: 24,
});
export const XEN_DM_OP_SET_IOREQ_SERVER_STATE_LAYOUT = layout({ id: 0, enabled: 2, pad: 3, size: 4 });
export const XEN_DM_OP_DESTROY_IOREQ_SERVER_LAYOUT = layout({ id: 0, pad: 2, size: 4 });
/** `opaque` is the hypercall-continuation cursor; callers set it to 0. */
export const XEN_DM_OP_MAP_MEM_TYPE_TO_IOREQ_SERVER_LAYOUT = layout({
  id: 0,
  type: 2,
  flags: 4,
  opaque: 8,
  size: 16,
});
/** struct xen_dm_op_set_pci_intx_level: domain (PCI segment) u16, bus, device, intx, level u8. */
export const XEN_DM_OP_SET_PCI_INTX_LEVEL_LAYOUT = layout({
  domain: 0,
  bus: 2,
  device: 3,
  intx: 4,
  level: 5,
  size: 6,
});
/** struct xen_dm_op_set_isa_irq_level: isa_irq u8, level u8. */
export const XEN_DM_OP_SET_ISA_IRQ_LEVEL_LAYOUT = layout({ isa_irq: 0, level: 1, size: 2 });
/** struct xen_dm_op_set_pci_link_route: link u8, isa_irq u8. */
export const XEN_DM_OP_SET_PCI_LINK_ROUTE_LAYOUT = layout({ link: 0, isa_irq: 1, size: 2 });
