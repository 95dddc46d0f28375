// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface GnttabMapResult {
  'status'?: (number);
  'handle'?: (number);
  'frame'?: (number);
  'devBusAddr'?: (number | string | Long);
}

export interface GnttabMapResult__Output {
  'status': (number);
  'handle': (number);
  'frame': (number);
  'devBusAddr': (string);
}
