// Original file: proto/xensim/hypervisor/v1/dmop.proto

import type { Long } from '@grpc/proto-loader';

export interface IoreqRange {
  'start'?: (number | string | Long);
  'end'?: (number | string | Long);
}

export interface IoreqRange__Output {
  'start': (string);
  'end': (string);
}
