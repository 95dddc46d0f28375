// Original file: proto/xensim/pageserver/v1/pageserver.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchBatchesRequest {
  'fromSeq'?: (number | string | Long);
  'toSeq'?: (number | string | Long);
  'replica'?: (string);
}

export interface FetchBatchesRequest__Output {
  'fromSeq': (string);
  'toSeq': (string);
  'replica': (string);
}
