// Original file: proto/xensim/hypervisor/v1/dmop.proto

import type { IoreqServerInfo as _xensim_hypervisor_v1_IoreqServerInfo, IoreqServerInfo__Output as _xensim_hypervisor_v1_IoreqServerInfo__Output } from '../../../xensim/hypervisor/v1/IoreqServerInfo.js';

export interface IoreqServerListReply {
  'rc'?: (number);
  'servers'?: (_xensim_hypervisor_v1_IoreqServerInfo)[];
  'crashReason'?: (number);
}

export interface IoreqServerListReply__Output {
  'rc': (number);
  'servers': (_xensim_hypervisor_v1_IoreqServerInfo__Output)[];
  'crashReason': (number);
}
