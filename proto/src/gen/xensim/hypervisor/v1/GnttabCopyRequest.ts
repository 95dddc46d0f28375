// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { GnttabCopyOp as _xensim_hypervisor_v1_GnttabCopyOp, GnttabCopyOp__Output as _xensim_hypervisor_v1_GnttabCopyOp__Output } from '../../../xensim/hypervisor/v1/GnttabCopyOp.js';

export interface GnttabCopyRequest {
  'caller'?: (number);
  'ops'?: (_xensim_hypervisor_v1_GnttabCopyOp)[];
}

export interface GnttabCopyRequest__Output {
  'caller': (number);
  'ops': (_xensim_hypervisor_v1_GnttabCopyOp__Output)[];
}
