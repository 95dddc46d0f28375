// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { HvmParam as _xensim_hypervisor_v1_HvmParam, HvmParam__Output as _xensim_hypervisor_v1_HvmParam__Output } from '../../../xensim/hypervisor/v1/HvmParam.js';

export interface DomainCreateRequest {
  'caller'?: (number);
  'domid'?: (number);
  'memoryMib'?: (number);
  'vcpus'?: (number);
  'hvm'?: (boolean);
  'hvmParams'?: (_xensim_hypervisor_v1_HvmParam)[];
  'maxGrantFrames'?: (number);
  'maxPorts'?: (number);
  'homeHost'?: (string);
}

export interface DomainCreateRequest__Output {
  'caller': (number);
  'domid': (number);
  'memoryMib': (number);
  'vcpus': (number);
  'hvm': (boolean);
  'hvmParams': (_xensim_hypervisor_v1_HvmParam__Output)[];
  'maxGrantFrames': (number);
  'maxPorts': (number);
  'homeHost': (string);
}
