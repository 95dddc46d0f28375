// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { DomainState as _xensim_hypervisor_v1_DomainState, DomainState__Output as _xensim_hypervisor_v1_DomainState__Output } from '../../../xensim/hypervisor/v1/DomainState.js';

export interface DomainInfo {
  'domid'?: (number);
  'state'?: (_xensim_hypervisor_v1_DomainState);
  'shutdownReason'?: (number);
  'totPages'?: (number);
  'maxPages'?: (number);
  'vcpus'?: (number);
  'hvm'?: (boolean);
  'privileged'?: (boolean);
  'dying'?: (boolean);
  'pauseCount'?: (number);
  'sharedInfoFrame'?: (number);
  'memoryMib'?: (number);
  'homeHost'?: (string);
}

export interface DomainInfo__Output {
  'domid': (number);
  'state': (_xensim_hypervisor_v1_DomainState__Output);
  'shutdownReason': (number);
  'totPages': (number);
  'maxPages': (number);
  'vcpus': (number);
  'hvm': (boolean);
  'privileged': (boolean);
  'dying': (boolean);
  'pauseCount': (number);
  'sharedInfoFrame': (number);
  'memoryMib': (number);
  'homeHost': (string);
}
