// Original file: proto/xensim/hypervisor/v1/dmop.proto

import type { IoreqRange as _xensim_hypervisor_v1_IoreqRange, IoreqRange__Output as _xensim_hypervisor_v1_IoreqRange__Output } from '../../../xensim/hypervisor/v1/IoreqRange.js';

export interface IoreqServerInfo {
  'id'?: (number);
  'emulator'?: (number);
  'handling'?: (number);
  'enabled'?: (boolean);
  'bufioreqPort'?: (number);
  'ports'?: (number)[];
  'portRanges'?: (_xensim_hypervisor_v1_IoreqRange)[];
  'memoryRanges'?: (_xensim_hypervisor_v1_IoreqRange)[];
  'pciRanges'?: (_xensim_hypervisor_v1_IoreqRange)[];
}

export interface IoreqServerInfo__Output {
  'id': (number);
  'emulator': (number);
  'handling': (number);
  'enabled': (boolean);
  'bufioreqPort': (number);
  'ports': (number)[];
  'portRanges': (_xensim_hypervisor_v1_IoreqRange__Output)[];
  'memoryRanges': (_xensim_hypervisor_v1_IoreqRange__Output)[];
  'pciRanges': (_xensim_hypervisor_v1_IoreqRange__Output)[];
}
