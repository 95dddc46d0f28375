// event_channel.h: EVTCHNOP_* commands, their argument structs, port status, FIFO ABI constants.

import { layout } from "./layout.js";

export type EvtchnPort = number;

export const EVTCHNOP_bind_interdomain = 0;
export const EVTCHNOP_bind_virq = 1;
export const EVTCHNOP_bind_pirq = 2;
export const EVTCHNOP_close = 3;
export const EVTCHNOP_send = 4;
export const EVTCHNOP_status = 5;
export const EVTCHNOP_alloc_unbound = 6;
export const EVTCHNOP_bind_ipi = 7;
export const EVTCHNOP_bind_vcpu = 8;
export const EVTCHNOP_unmask = 9;
export const EVTCHNOP_reset = 10;
export const EVTCHNOP_init_control = 11;
export const EVTCHNOP_expand_array = 12;
export const EVTCHNOP_set_priority = 13;

/** evtchn_status.status. Free and reserved ports report closed. */
export const EVTCHNSTAT_closed = 0;
export const EVTCHNSTAT_unbound = 1;
export const EVTCHNSTAT_interdomain = 2;
export const EVTCHNSTAT_pirq = 3;
export const EVTCHNSTAT_virq = 4;
export const EVTCHNSTAT_ipi = 5;

export const EvtchnStat = Object.freeze({
  closed: EVTCHNSTAT_closed,
  unbound: EVTCHNSTAT_unbound,
  interdomain: EVTCHNSTAT_interdomain,
  pirq: EVTCHNSTAT_pirq,
  virq: EVTCHNSTAT_virq,
  ipi: EVTCHNSTAT_ipi,
} as const);
export type EvtchnStat = (typeof EvtchnStat)[keyof typeof EvtchnStat];

export const BIND_PIRQ__WILL_SHARE = 1;

/** Ports of the 2-level ABI: bits(xen_ulong)² → 4096 for 64-bit guests, 1024 for 32-bit. */
export const EVTCHN_2L_NR_CHANNELS = Object.freeze({ x86_64: 4096, x86_32: 1024 } as const);

export const EVTCHN_ALLOC_UNBOUND_LAYOUT = layout({ dom: 0, remote_dom: 2, port: 4, size: 8 });
export const EVTCHN_BIND_INTERDOMAIN_LAYOUT = layout({
  remote_dom: 0,
  remote_port: 4,
  local_port: 8,
  size: 12,
});
export const EVTCHN_BIND_VIRQ_LAYOUT = layout({ virq: 0, vcpu: 4, port: 8, size: 12 });
export const EVTCHN_BIND_PIRQ_LAYOUT = layout({ pirq: 0, flags: 4, port: 8, size: 12 });
export const EVTCHN_BIND_IPI_LAYOUT = layout({ vcpu: 0, port: 4, size: 8 });
export const EVTCHN_CLOSE_LAYOUT = layout({ port: 0, size: 4 });
export const EVTCHN_SEND_LAYOUT = layout({ port: 0, size: 4 });
export const EVTCHN_UNMASK_LAYOUT = layout({ port: 0, size: 4 });
export const EVTCHN_BIND_VCPU_LAYOUT = layout({ port: 0, vcpu: 4, size: 8 });
export const EVTCHN_RESET_LAYOUT = layout({ dom: 0, size: 2 });
export const EVTCHN_SET_PRIORITY_LAYOUT = layout({ port: 0, priority: 4, size: 8 });
export const EVTCHN_EXPAND_ARRAY_LAYOUT = layout({ array_gfn: 0, size: 8 });
export const EVTCHN_INIT_CONTROL_LAYOUT = layout({
  control_gfn: 0,
  offset: 8,
  vcpu: 12,
  link_bits: 16,
  _pad: 17,
  size: 24,
});
/** struct evtchn_status; the union `u` starts at 16. */
export const EVTCHN_STATUS_LAYOUT = layout({
  dom: 0,
  port: 4,
  status: 8,
  vcpu: 12,
  u: 16,
  u_unbound_dom: 16,
  u_interdomain_dom: 16,
  u_interdomain_port: 20,
  u_pirq: 16,
  u_virq: 16,
  size: 24,
});

/** FIFO ABI. */
export const EVTCHN_FIFO_PRIORITY_MAX = 0;
export const EVTCHN_FIFO_PRIORITY_DEFAULT = 7;
export const EVTCHN_FIFO_PRIORITY_MIN = 15;
export const EVTCHN_FIFO_MAX_QUEUES = 16;
export const EVTCHN_FIFO_PENDING = 31;
export const EVTCHN_FIFO_MASKED = 30;
export const EVTCHN_FIFO_LINKED = 29;
export const EVTCHN_FIFO_BUSY = 28;
export const EVTCHN_FIFO_LINK_BITS = 17;
export const EVTCHN_FIFO_LINK_MASK = (1 << EVTCHN_FIFO_LINK_BITS) - 1;
export const EVTCHN_FIFO_NR_CHANNELS = 1 << EVTCHN_FIFO_LINK_BITS;
export const EVTCHN_FIFO_CONTROL_BLOCK_LAYOUT = layout({ ready: 0, _rsvd: 4, head: 8, size: 72 });
