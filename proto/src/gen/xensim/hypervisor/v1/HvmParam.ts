// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface HvmParam {
  'index'?: (number);
  'value'?: (number | string | Long);
}

export interface HvmParam__Output {
  'index': (number);
  'value': (string);
}
