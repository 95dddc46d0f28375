// Original file: proto/xensim/devicemodel/v1/devicemodel.proto

import type { Long } from '@grpc/proto-loader';

export interface ConsoleReadReply {
  'rc'?: (number);
  'data'?: (Buffer | Uint8Array | string);
  'nextOffset'?: (number | string | Long);
  'lost'?: (number | string | Long);
}

export interface ConsoleReadReply__Output {
  'rc': (number);
  'data': (Buffer);
  'nextOffset': (string);
  'lost': (string);
}
