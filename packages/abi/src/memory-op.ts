// memory.h: XENMEM_acquire_resource, how a device model maps an ioreq server's pages.

import { perAbi } from "./layout.js";

export const XENMEM_acquire_resource = 28;

/** xen_mem_acquire_resource.type. */
export const XENMEM_resource_ioreq_server = 0;
export const XENMEM_resource_grant_table = 1;
export const XENMEM_resource_vmtrace_buf = 2;

/** Frame indexes of an ioreq server resource: 0 the buffered page, 1 + n the n-th synchronous page. */
export const XENMEM_resource_ioreq_server_frame_bufioreq = 0;
export function xenmemResourceIoreqServerFrameIoreq(n: number): number {
  return 1 + n;
}

/**
 * struct xen_mem_acquire_resource. `frame_list` is a guest handle: a pointer, 8 bytes for a 64-bit
 * caller, 4 for a 32-bit guest.
 */
export const XEN_MEM_ACQUIRE_RESOURCE_LAYOUT = perAbi(
  { domid: 0, type: 2, id: 4, nr_frames: 8, pad: 12, frame: 16, frame_list: 24, size: 32 },
  { domid: 0, type: 2, id: 4, nr_frames: 8, pad: 12, frame: 16, frame_list: 24, size: 28 },
);
