// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GnttabMapOp {
  'dom'?: (number);
  'ref'?: (number);
  'flags'?: (number);
  'hostAddr'?: (number | string | Long);
}

export interface GnttabMapOp__Output {
  'dom': (number);
  'ref': (number);
  'flags': (number);
  'hostAddr': (string);
}
