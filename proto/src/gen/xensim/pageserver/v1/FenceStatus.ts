// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { Long } from '@grpc/proto-loader';

export interface FenceStatus {
  'applied'?: (boolean);
  'appliedUpTo'?: (number | string | Long);
  'head'?: (number | string | Long);
  'buffered'?: (number);
  'published'?: (number | string | Long);
}

export interface FenceStatus__Output {
  'applied': (boolean);
  'appliedUpTo': (string);
  'head': (string);
  'buffered': (number);
  'published': (string);
}
