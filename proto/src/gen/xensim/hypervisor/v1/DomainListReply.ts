// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { DomainInfo as _xensim_hypervisor_v1_DomainInfo, DomainInfo__Output as _xensim_hypervisor_v1_DomainInfo__Output } from '../../../xensim/hypervisor/v1/DomainInfo.js';

export interface DomainListReply {
  'rc'?: (number);
  'domains'?: (_xensim_hypervisor_v1_DomainInfo)[];
}

export interface DomainListReply__Output {
  'rc': (number);
  'domains': (_xensim_hypervisor_v1_DomainInfo__Output)[];
}
