// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { GnttabUnmapOp as _xensim_hypervisor_v1_GnttabUnmapOp, GnttabUnmapOp__Output as _xensim_hypervisor_v1_GnttabUnmapOp__Output } from '../../../xensim/hypervisor/v1/GnttabUnmapOp.js';

export interface GnttabUnmapRequest {
  'caller'?: (number);
  'ops'?: (_xensim_hypervisor_v1_GnttabUnmapOp)[];
}

export interface GnttabUnmapRequest__Output {
  'caller': (number);
  'ops': (_xensim_hypervisor_v1_GnttabUnmapOp__Output)[];
}
