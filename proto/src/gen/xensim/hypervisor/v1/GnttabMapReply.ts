// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { GnttabMapResult as _xensim_hypervisor_v1_GnttabMapResult, GnttabMapResult__Output as _xensim_hypervisor_v1_GnttabMapResult__Output } from '../../../xensim/hypervisor/v1/GnttabMapResult.js';

export interface GnttabMapReply {
  'results'?: (_xensim_hypervisor_v1_GnttabMapResult)[];
}

export interface GnttabMapReply__Output {
  'results': (_xensim_hypervisor_v1_GnttabMapResult__Output)[];
}
