// Original file: proto/xensim/hypervisor/v1/hypervisor.proto

import type { Long } from '@grpc/proto-loader';

export interface PortRequest {
  'caller'?: (number);
  'port'?: (number);
  'fenceHost'?: (string);
  'fenceSeq'?: (number | string | Long);
}

export interface PortRequest__Output {
  'caller': (number);
  'port': (number);
  'fenceHost': (string);
  'fenceSeq': (string);
}
