// Original file: proto/xensim/testing/v1/echo.proto

import type { Long } from '@grpc/proto-loader';

export interface EchoReply {
  'text'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  'seq'?: (number | string | Long);
  'servedBy'?: (string);
}

export interface EchoReply__Output {
  'text': (string);
  'data': (Buffer);
  'seq': (string);
  'servedBy': (string);
}
