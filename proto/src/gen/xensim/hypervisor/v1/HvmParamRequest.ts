// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface HvmParamRequest {
  'caller'?: (number);
  'domid'?: (number);
  'index'?: (number);
  'value'?: (number | string | Long);
}

export interface HvmParamRequest__Output {
  'caller': (number);
  'domid': (number);
  'index': (number);
  'value': (string);
}
