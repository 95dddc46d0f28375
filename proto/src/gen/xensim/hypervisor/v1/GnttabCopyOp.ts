// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { GnttabCopyPtr as _xensim_hypervisor_v1_GnttabCopyPtr, GnttabCopyPtr__Output as _xensim_hypervisor_v1_GnttabCopyPtr__Output } from '../../../xensim/hypervisor/v1/GnttabCopyPtr.js';

export interface GnttabCopyOp {
  'source'?: (_xensim_hypervisor_v1_GnttabCopyPtr | null);
  'dest'?: (_xensim_hypervisor_v1_GnttabCopyPtr | null);
  'len'?: (number);
  'flags'?: (number);
}

export interface GnttabCopyOp__Output {
  'source': (_xensim_hypervisor_v1_GnttabCopyPtr__Output | null);
  'dest': (_xensim_hypervisor_v1_GnttabCopyPtr__Output | null);
  'len': (number);
  'flags': (number);
}
