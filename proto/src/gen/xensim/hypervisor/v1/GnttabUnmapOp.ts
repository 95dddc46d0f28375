// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GnttabUnmapOp {
  'handle'?: (number);
  'hostAddr'?: (number | string | Long);
  'devBusAddr'?: (number | string | Long);
}

export interface GnttabUnmapOp__Output {
  'handle': (number);
  'hostAddr': (string);
  'devBusAddr': (string);
}
