// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { GnttabMapOp as _xensim_hypervisor_v1_GnttabMapOp, GnttabMapOp__Output as _xensim_hypervisor_v1_GnttabMapOp__Output } from '../../../xensim/hypervisor/v1/GnttabMapOp.js';

export interface GnttabMapRequest {
  'caller'?: (number);
  'ops'?: (_xensim_hypervisor_v1_GnttabMapOp)[];
}

export interface GnttabMapRequest__Output {
  'caller': (number);
  'ops': (_xensim_hypervisor_v1_GnttabMapOp__Output)[];
}
