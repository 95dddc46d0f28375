// hvm/hvm_op.h: the HVMOP_* commands and ioreq-server buffering modes used by this project.

import { layout } from "./layout.js";

export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;

/** struct xen_hvm_param. */
export const XEN_HVM_PARAM_LAYOUT = layout({ domid: 0, index: 4, value: 8, size: 16 });

/** handle_bufioreq of create_ioreq_server. */
export const HVM_IOREQSRV_BUFIOREQ_OFF = 0;
export const HVM_IOREQSRV_BUFIOREQ_LEGACY = 1;
export const HVM_IOREQSRV_BUFIOREQ_ATOMIC = 2;
