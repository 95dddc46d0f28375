// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface HvmParamReply {
  'rc'?: (number);
  'value'?: (number | string | Long);
}

export interface HvmParamReply__Output {
  'rc': (number);
  'value': (string);
}
