// Original file: proto/xensim/devicemodel/v1/devicemodel.proto

import type { Long } from '@grpc/proto-loader';

export interface ConsoleReadRequest {
  'domid'?: (number);
  'serial'?: (number);
  'offset'?: (number | string | Long);
  'waitMs'?: (number);
}

export interface ConsoleReadRequest__Output {
  'domid': (number);
  'serial': (number);
  'offset': (string);
  'waitMs': (number);
}
