// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { Long } from '@grpc/proto-loader';

export interface FenceRef {
  'host'?: (string);
  'seq'?: (number | string | Long);
}

export interface FenceRef__Output {
  'host': (string);
  'seq': (string);
}
