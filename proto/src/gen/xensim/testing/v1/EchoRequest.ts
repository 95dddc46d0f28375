// Original file: proto/xensim/testing/v1/echo.proto

import type { Long } from '@grpc/proto-loader';

export interface EchoRequest {
  'text'?: (string);
  'data'?: (Buffer | Uint8Array | string);
  'seq'?: (number | string | Long);
}

export interface EchoRequest__Output {
  'text': (string);
  'data': (Buffer);
  'seq': (string);
}
