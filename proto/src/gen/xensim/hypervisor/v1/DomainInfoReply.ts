// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { DomainInfo as _xensim_hypervisor_v1_DomainInfo, DomainInfo__Output as _xensim_hypervisor_v1_DomainInfo__Output } from '../../../xensim/hypervisor/v1/DomainInfo.js';

export interface DomainInfoReply {
  'rc'?: (number);
  'info'?: (_xensim_hypervisor_v1_DomainInfo | null);
}

export interface DomainInfoReply__Output {
  'rc': (number);
  'info': (_xensim_hypervisor_v1_DomainInfo__Output | null);
}
